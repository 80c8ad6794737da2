package talkdesk

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// TestOrderedIndex inserts in order, in reverse and at random, and checks
// the order, the seeks, and that no chunk outgrows maxChunk: an insert
// anywhere moves at most maxChunk numbers, whatever the order of arrival.
func TestOrderedIndex(t *testing.T) {
	const n = 64 * 320 // the 64 fronts make a permutation
	for name, order := range map[string]func(i int) int{
		"in order":  func(i int) int { return i },
		"reverse":   func(i int) int { return n - 1 - i },
		"random":    func() func(int) int { p := rand.New(rand.NewPCG(1, 2)).Perm(n); return func(i int) int { return p[i] } }(),
		"64 fronts": func(i int) int { return (i%64)*(n/64) + i/64 },
	} {
		t.Run(name, func(t *testing.T) {
			keys := make([]int, n) // entry number -> key
			var x orderedIndex
			less := func(a, b uint32) bool { return keys[a] < keys[b] }
			for i := range n {
				keys[i] = order(i)
				x.insert(uint32(i), less)
			}
			var got []int
			for p := (position{}); ; {
				i, next, ok := x.at(p)
				if !ok {
					break
				}
				got = append(got, keys[i])
				p = next
			}
			if x.n != n || len(got) != n || !slices.IsSorted(got) {
				t.Fatalf("%d entries, %d iterated, sorted %v", x.n, len(got), slices.IsSorted(got))
			}
			for _, ch := range x.chunks {
				if len(ch) == 0 || len(ch) > maxChunk {
					t.Fatalf("a chunk of %d entries", len(ch))
				}
			}
			for _, k := range []int{0, 1, 511, 512, 513, n / 2, n - 1, n} {
				i, _, ok := x.at(x.seek(func(i uint32) bool { return keys[i] >= k }))
				if k < n && (!ok || keys[i] != k) || k == n && ok {
					t.Errorf("seek %d: entry %d, %v", k, i, ok)
				}
			}
		})
	}
}

// TestHashIndex: every entry is found by its ID through the growths of
// the table, and an ID not stored is not.
func TestHashIndex(t *testing.T) {
	var keys []byte
	x := hashIndex{key: func(e *logEntry) []byte { return keys[e.key : e.key+int64(e.idLen)] }}
	var entries []logEntry
	id := func(i int) string { return fmt.Sprintf("ev-%d", i) }
	for i := range 50_000 {
		entries = append(entries, logEntry{key: int64(len(keys)), idLen: uint32(len(id(i)))})
		keys = append(keys, id(i)...)
		x.put(uint32(i), entries)
		if i%997 == 0 {
			for j := 0; j <= i; j += 101 {
				if got, ok := x.get(id(j), entries); !ok || got != uint32(j) {
					t.Fatalf("after %d puts, get(%s) = %d, %v", i+1, id(j), got, ok)
				}
			}
		}
	}
	for _, id := range []string{"", "ev-50000", "ev--1", "nope"} {
		if got, ok := x.get(id, entries); ok {
			t.Errorf("get(%q) = %d, want not found", id, got)
		}
	}
	if len(x.slots) < 2*x.n || x.n != 50_000 {
		t.Errorf("%d slots for %d entries: more than half full", len(x.slots), x.n)
	}
}

// TestReadIndexFields: the fields of a stored line, read from the members
// before "actor" when the line is as encodeLogLine writes it, and by the
// walk through the line when it is not; the same either way.
func TestReadIndexFields(t *testing.T) {
	at := "2026-03-02T09:00:00Z"
	want := indexFields{ID: "ev-1", Type: TriggerInboundCallEnds, InteractionID: "int-1", ContactID: "c-1", AgentID: "a-1"}
	want.OccurredAt, _ = time.Parse(time.RFC3339, at)
	for name, line := range map[string]string{
		"as written": `{"id":"ev-1","type":"inboundCallEnds","event":"x","occurred_at":"` + at + `","received_at":"` + at +
			`","interaction_id":"int-1","contact_id":"c-1","agent_id":"a-1","actor":{"type":"agent"},"payload":{},"raw":{}}`,
		"a name that quotes the actor key": `{"id":"ev-1","type":"inboundCallEnds","event":",\"actor\":{}}","occurred_at":"` + at +
			`","interaction_id":"int-1","contact_id":"c-1","agent_id":"a-1","actor":{"type":"agent"},"payload":{},"raw":{}}`,
		"keys in another order": `{"type":"inboundCallEnds","id":"ev-1","actor":{"type":"agent"},"occurred_at":"` + at +
			`","interaction_id":"int-1","contact_id":"c-1","agent_id":"a-1","payload":{},"raw":{}}`,
		"the ID after the actor": `{"id":"","type":"inboundCallEnds","occurred_at":"` + at + `","actor":{},"id":"ev-1",` +
			`"interaction_id":"int-1","contact_id":"c-1","agent_id":"a-1"}`,
	} {
		got, err := readIndexFields([]byte(line))
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, want)
		}
	}
	for name, line := range map[string]string{
		"cut short":     `{"id":"ev-1","type":"inboundCallEnds","occurred_at":"` + at + `","actor":{`,
		"a broken head": `{"id":"ev-1","type":inboundCallEnds,"occurred_at":"` + at + `","actor":{}}`,
		"not an object": `["id","ev-1"]`,
	} {
		if _, err := readIndexFields([]byte(line)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestLogEntryHasNoPointer: an entry of the index is 48 bytes and holds no
// pointer (its IDs are in the log's keys), so that a log of millions of
// events costs the garbage collector nothing to scan.
func TestLogEntryHasNoPointer(t *testing.T) {
	if size := unsafe.Sizeof(logEntry{}); size > 48 {
		t.Errorf("a logEntry is %d bytes, want at most 48", size)
	}
	typ := reflect.TypeFor[logEntry]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Int64, reflect.Uint32, reflect.Uint8, reflect.Bool:
		default:
			t.Errorf("logEntry.%s is a %s", f.Name, f.Type)
		}
	}
}
