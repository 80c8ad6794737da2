package talkdesk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// equateRaw compares json.RawMessage values as JSON values: the log stores
// the raw body compacted.
var equateRaw = cmp.Transformer("parseJSON", func(r json.RawMessage) any {
	var v any
	if err := json.Unmarshal(r, &v); err != nil {
		return "invalid: " + string(r)
	}
	return v
})

// fixtureEvents parses every event fixture.
func fixtureEvents(t testing.TB) []*Event {
	t.Helper()
	var evs []*Event
	for i, tr := range Triggers() {
		for j, kind := range []string{"complete", "empty", "odd"} {
			ev, err := parseEvent(tr, readEventFixture(t, string(tr)+"_"+kind+".json"), received.Add(time.Duration(i*3+j)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

func openLog(t testing.TB, path string, opts ...EventLogOption) *EventLog {
	t.Helper()
	l, err := OpenEventLog(path, opts...)
	if err != nil {
		t.Fatalf("OpenEventLog: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func allEvents(t testing.TB, l *EventLog, q EventQuery) []*Event {
	t.Helper()
	var out []*Event
	for ev, err := range l.Events(context.Background(), q) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// sortEvents orders events as the log does.
func sortEvents(evs []*Event) {
	slices.SortFunc(evs, func(a, b *Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// TestEventLogRoundTrip appends every fixture event, reopens the file and
// reads them back: each has the same typed payload and fields (Raw is
// compacted, so it is compared as JSON).
func TestEventLogRoundTrip(t *testing.T) {
	for _, name := range []string{"file", "memory"} {
		t.Run(name, func(t *testing.T) {
			path := ""
			if name == "file" {
				path = filepath.Join(t.TempDir(), "events.jsonl")
			}
			l := openLog(t, path)
			want := fixtureEvents(t)
			for _, ev := range want {
				if added, err := l.Append(context.Background(), ev); err != nil || !added {
					t.Fatalf("Append %s: %v, %v", ev.Type, added, err)
				}
			}
			if name == "file" {
				l.Close()
				l = openLog(t, path)
			}
			got := allEvents(t, l, EventQuery{})
			sortEvents(want)
			if diff := cmp.Diff(want, got, equateRaw, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("read back (-appended +got):\n%s", diff)
			}
			if warned := got[slices.IndexFunc(got, func(e *Event) bool { return len(e.Warnings) > 0 })]; len(warned.Warnings) != 2 {
				t.Errorf("warnings not kept: %+v", warned.Warnings)
			}
		})
	}
}

func TestEventLogRedelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l := openLog(t, path)
	ctx := context.Background()
	body := readEventFixture(t, "inboundCallEnds_complete.json")
	first, _ := parseEvent(TriggerInboundCallEnds, body, received)
	again, _ := parseEvent(TriggerInboundCallEnds, body, received.Add(time.Minute)) // redelivered a minute later
	if added, err := l.Append(ctx, first); !added || err != nil {
		t.Fatalf("first Append: %v, %v", added, err)
	}
	if added, err := l.Append(ctx, again); added || err != nil {
		t.Fatalf("redelivery Append: %v, %v; want false, nil", added, err)
	}
	l.Close()
	l = openLog(t, path)
	if added, err := l.Append(ctx, again); added || err != nil {
		t.Fatalf("redelivery after reopen: %v, %v; want false, nil", added, err)
	}
	if got := allEvents(t, l, EventQuery{}); len(got) != 1 || !got[0].ReceivedAt.Equal(received) {
		t.Fatalf("stored %d events (want 1, the first delivery)", len(got))
	}
	data, _ := os.ReadFile(path)
	if n := bytes.Count(data, []byte("\n")); n != 1 {
		t.Errorf("the file has %d lines, want 1", n)
	}
}

// TestEventLogConcurrentDuplicates appends the same event from many
// goroutines at once: exactly one reports added.
func TestEventLogConcurrentDuplicates(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	ev, _ := parseEvent(TriggerAgentLogIn, readEventFixture(t, "agentLogIn_complete.json"), received)
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for range 32 {
		wg.Go(func() {
			ok, err := l.Append(context.Background(), ev)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				added++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if added != 1 || l.Stats().Events != 1 {
		t.Fatalf("added %d times, %d stored; want 1 and 1", added, l.Stats().Events)
	}
}

// TestEventLogGroupCommit holds the first batch's write until more appends
// are queued: they all go out in one more write and one more fsync.
func TestEventLogGroupCommit(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	release := make(chan struct{})
	writing := make(chan struct{}, 1)
	l.beforeWrite = func() {
		select {
		case writing <- struct{}{}:
		default:
		}
		<-release
	}
	evs := fixtureEvents(t)
	var wg sync.WaitGroup
	wg.Go(func() { l.Append(context.Background(), evs[0]) })
	<-writing // the first batch is being written
	for _, ev := range evs[1:] {
		wg.Go(func() { l.Append(context.Background(), ev) })
	}
	for { // wait until every append is queued
		l.mu.Lock()
		n := 0
		if l.pending != nil {
			n = len(l.pending.entries)
		}
		l.mu.Unlock()
		if n == len(evs)-1 {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if st := l.Stats(); st.Events != len(evs) || st.Syncs != 2 {
		t.Fatalf("stats %+v; want %d events and 2 fsyncs", st, len(evs))
	}
}

// TestEventLogSyncsBeforeAck checks that Append returns only after a sync
// that covered its line.
func TestEventLogSyncsBeforeAck(t *testing.T) {
	var mu sync.Mutex
	synced := int64(-1) // file size at the last sync
	syncFile = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		mu.Lock()
		synced = fi.Size()
		mu.Unlock()
		return syncData(f)
	}
	defer func() { syncFile = syncData }()
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	for _, ev := range fixtureEvents(t)[:5] {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := synced
		mu.Unlock()
		if want := l.Stats().Bytes; got != want {
			t.Fatalf("Append returned with %d bytes synced of %d", got, want)
		}
	}
}

func TestEventLogTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l := openLog(t, path)
	evs := fixtureEvents(t)[:5]
	for _, ev := range evs {
		l.Append(context.Background(), ev)
	}
	l.Close()
	good, _ := os.ReadFile(path)
	// A crash in the middle of writing the next line.
	next, _ := encodeLogLine(fixtureEvents(t)[5])
	os.WriteFile(path, append(slices.Clone(good), next[:len(next)/2]...), 0o600)

	var logs bytes.Buffer
	l = openLog(t, path, WithEventLogLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if got := allEvents(t, l, EventQuery{}); len(got) != 5 {
		t.Fatalf("%d events after the torn tail, want 5", len(got))
	}
	if !strings.Contains(logs.String(), "torn last line") || !strings.Contains(logs.String(), "line=6") {
		t.Errorf("the cut was not reported: %q", logs.String())
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, good) {
		t.Errorf("the file was not cut back to its complete lines")
	}
	if broken, _ := os.ReadFile(path + ".broken"); !bytes.Equal(broken, next[:len(next)/2]) {
		t.Errorf("what was cut is not kept in .broken: %q", broken)
	}
	if added, err := l.Append(context.Background(), fixtureEvents(t)[5]); !added || err != nil {
		t.Fatalf("Append after the repair: %v, %v", added, err)
	}
	l.Close()
	if got := allEvents(t, openLog(t, path), EventQuery{}); len(got) != 6 {
		t.Fatalf("%d events after reopening, want 6", len(got))
	}
}

// TestEventLogNULTail: a last line of NUL bytes, as a power loss can leave
// it, is cut like a torn tail and kept in .broken, not a corrupt line.
func TestEventLogNULTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l := openLog(t, path)
	for _, ev := range fixtureEvents(t)[:3] {
		l.Append(context.Background(), ev)
	}
	l.Close()
	good, _ := os.ReadFile(path)
	nuls := append(make([]byte, 4096), '\n')
	os.WriteFile(path, append(slices.Clone(good), nuls...), 0o600)
	l = openLog(t, path)
	if got := allEvents(t, l, EventQuery{}); len(got) != 3 {
		t.Fatalf("%d events after a NUL tail, want 3", len(got))
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, good) {
		t.Error("the NUL tail was not cut")
	}
	if broken, _ := os.ReadFile(path + ".broken"); !bytes.Equal(broken, nuls) {
		t.Errorf("the NUL tail is not kept in .broken (%d bytes)", len(broken))
	}
}

// TestEventLogQueryTimesOutOfRange: times a caller can pass beyond the
// ones an event holds are answered, not wrapped around; an event with
// such a time is refused.
func TestEventLogQueryTimesOutOfRange(t *testing.T) {
	l := openLog(t, "")
	evs := fixtureEvents(t)
	for _, ev := range evs {
		l.Append(context.Background(), ev)
	}
	year := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	for _, q := range []EventQuery{{Until: year(2300)}, {Until: year(9999)}, {Since: year(1000)}, {Since: year(1000), Until: year(9999)}} {
		if got := allEvents(t, l, q); len(got) != len(evs) {
			t.Errorf("Query %v..%v: %d events, want all %d", q.Since, q.Until, len(got), len(evs))
		}
	}
	if got := allEvents(t, l, EventQuery{Since: year(2300)}); len(got) != 0 {
		t.Errorf("Query since 2300: %d events, want none", len(got))
	}
	far := *evs[0]
	far.ID, far.OccurredAt = "far-future", year(3000)
	if _, err := l.Append(context.Background(), &far); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append of an event in year 3000: %v, want ErrInvalid", err)
	}
	notObject := *evs[0]
	notObject.ID, notObject.Raw = "raw-array", json.RawMessage(`[1,2]`)
	if _, err := l.Append(context.Background(), &notObject); !errors.Is(err, ErrInvalid) {
		t.Errorf("Append of an event whose raw body is not an object: %v, want ErrInvalid", err)
	}
}

func TestEventLogCorruptLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l := openLog(t, path)
	for _, ev := range fixtureEvents(t)[:3] {
		l.Append(context.Background(), ev)
	}
	l.Close()
	data, _ := os.ReadFile(path)
	lines := bytes.SplitAfter(data, []byte("\n"))
	corrupt := slices.Concat(lines[0], []byte("{\"id\":\"x\",\"type\":\"agentLogIn\",\"occurred_at\":\"not a time\"}\n"), lines[1], []byte("garbage\n"), lines[2])
	os.WriteFile(path, corrupt, 0o600)

	_, err := OpenEventLog(path)
	var ce *CorruptLineError
	if !errors.As(err, &ce) || ce.Line != 2 || ce.Offset != int64(len(lines[0])) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("OpenEventLog = %v, want a CorruptLineError for line 2", err)
	}
	var logs bytes.Buffer
	l = openLog(t, path, WithSkipCorruptLines(), WithEventLogLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if got := allEvents(t, l, EventQuery{}); len(got) != 3 {
		t.Fatalf("%d events with corrupt lines skipped, want 3", len(got))
	}
	if strings.Count(logs.String(), "skipped a corrupt line") != 2 || !strings.Contains(logs.String(), "line=4") {
		t.Errorf("the skipped lines were not reported: %q", logs.String())
	}
}

func TestEventLogLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l, err := OpenEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenEventLog(path); !errors.Is(err, ErrEventLogLocked) {
		t.Fatalf("second OpenEventLog = %v, want ErrEventLogLocked", err)
	}
	l.Close()
	l2, err := OpenEventLog(path)
	if err != nil {
		t.Fatalf("OpenEventLog after Close: %v", err)
	}
	l2.Close()
}

func TestEventLogRejects(t *testing.T) {
	l := openLog(t, "")
	ctx := context.Background()
	ev := fixtureEvents(t)[0]
	for _, bad := range []*Event{nil, {Type: TriggerAgentLogIn}, {ID: "x", Type: "agentLogin"}} {
		if _, err := l.Append(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Append(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Append(cancelled, ev); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with a cancelled context = %v", err)
	}
	for _, q := range []EventQuery{
		{Limit: -1}, {Cursor: "!!"}, {Cursor: "AQ"}, {Types: []Trigger{"callCreated"}},
		{Since: received, Until: received}, {Since: received, Until: received.Add(-time.Second)},
	} {
		if _, err := l.Query(ctx, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("Query(%+v) = %v, want ErrInvalid", q, err)
		}
	}
	l.Close()
	if _, err := l.Append(ctx, ev); !errors.Is(err, ErrEventLogClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := l.Query(ctx, EventQuery{}); !errors.Is(err, ErrEventLogClosed) {
		t.Errorf("Query after Close = %v", err)
	}
}

// TestEventLogWriteFailure: after a failed write the log refuses appends
// instead of acknowledging events it may not have stored.
func TestEventLogWriteFailure(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	evs := fixtureEvents(t)
	l.Append(context.Background(), evs[0])
	l.f.Close() // the disk goes away
	if added, err := l.Append(context.Background(), evs[1]); added || err == nil {
		t.Fatalf("Append on a failed file = %v, %v", added, err)
	}
	if _, err := l.Append(context.Background(), evs[2]); err == nil || !strings.Contains(err.Error(), "reopen") {
		t.Fatalf("Append after a failure = %v, want the sticky error", err)
	}
}

// TestEventLogFileCutShort: a file cut short behind the log's back (by
// another program: the lock keeps out other EventLogs only) makes the
// reads of the lines it lost fail with an error that names the file; the
// lines still there read as before.
func TestEventLogFileCutShort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	l := openLog(t, path)
	defer l.Close()
	for _, ev := range fixtureEvents(t) {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Query(context.Background(), EventQuery{Limit: MaxEventPageSize}); err != nil {
		t.Fatal(err)
	}
	first := l.entries[0]
	if err := os.Truncate(path, first.off+int64(first.n)+1); err != nil {
		t.Fatal(err)
	}
	_, err := l.Query(context.Background(), EventQuery{Limit: MaxEventPageSize})
	if err == nil {
		t.Fatal("Query of lines cut off succeeded")
	}
	if !strings.Contains(err.Error(), l.path) {
		t.Errorf("Query of lines cut off: %v, want an error that names the file", err)
	}
	if _, err := l.readEvent(first); err != nil {
		t.Errorf("the line left in the file: %v", err)
	}
}

// synthetic builds n events over a few interactions, contacts and agents,
// with times out of order and ties.
func synthetic(n int, seed uint64) []*Event {
	r := rand.New(rand.NewPCG(seed, 1))
	trs := Triggers()
	evs := make([]*Event, n)
	for i := range evs {
		tr := trs[r.IntN(len(trs))]
		ev := &Event{
			ID:            fmt.Sprintf("ev-%d-%06d", seed, i),
			Type:          tr,
			OccurredAt:    received.Add(time.Duration(r.IntN(50)) * time.Minute), // ties on purpose
			ReceivedAt:    received,
			InteractionID: fmt.Sprintf("int-%d", r.IntN(8)),
			ContactID:     fmt.Sprintf("ct-%d", r.IntN(5)),
			Actor:         Actor{Type: ActorSystem},
			Raw:           json.RawMessage(`{}`),
		}
		if r.IntN(3) > 0 {
			ev.AgentID = fmt.Sprintf("ag-%d", r.IntN(4))
		}
		if r.IntN(5) == 0 {
			ev.InteractionID = ""
		}
		evs[i] = ev
	}
	return evs
}

func ids(evs []*Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// TestEventLogQuery compares every kind of query, paged with several
// limits, with a filter and sort of all events. It runs with the default
// scan of find under one hold of the lock, and with a scan of 3 entries,
// so that a page takes many holds.
func TestEventLogQuery(t *testing.T) {
	for _, scan := range []int{findScan, 3} {
		t.Run(fmt.Sprintf("scan=%d", scan), func(t *testing.T) {
			defer func(n int) { findScan = n }(findScan)
			findScan = scan
			testEventLogQuery(t)
		})
	}
}

func testEventLogQuery(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	evs := synthetic(400, 1)
	for _, ev := range evs {
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	queries := []EventQuery{
		{},
		{InteractionID: "int-3"},
		{ContactID: "ct-2"},
		{AgentID: "ag-1"},
		{InteractionID: "int-3", AgentID: "ag-1"},
		{InteractionID: "int-3", ContactID: "ct-1", AgentID: "ag-2"},
		{InteractionID: "nope"},
		{Types: []Trigger{TriggerInboundCallEnds, TriggerAgentLogIn}},
		{Since: received.Add(10 * time.Minute)},
		{Until: received.Add(10 * time.Minute)},
		{Since: received.Add(10 * time.Minute), Until: received.Add(11 * time.Minute)},
		{ContactID: "ct-4", Since: received.Add(20 * time.Minute), Types: []Trigger{TriggerNoteCreated}},
		{Types: []Trigger{TriggerNoteCreated}},
		{Types: []Trigger{TriggerNoteCreated, TriggerContactCreated, TriggerAgentLogOut}, Since: received.Add(5 * time.Minute)},
		{AgentID: "ag-3", Types: []Trigger{TriggerOutboundCallEnds}},
	}
	match := func(q EventQuery, ev *Event) bool {
		return (q.InteractionID == "" || ev.InteractionID == q.InteractionID) &&
			(q.ContactID == "" || ev.ContactID == q.ContactID) &&
			(q.AgentID == "" || ev.AgentID == q.AgentID) &&
			(len(q.Types) == 0 || slices.Contains(q.Types, ev.Type)) &&
			(q.Since.IsZero() || !ev.OccurredAt.Before(q.Since)) &&
			(q.Until.IsZero() || ev.OccurredAt.Before(q.Until))
	}
	for _, q := range queries {
		var want []*Event
		for _, ev := range evs {
			if match(q, ev) {
				want = append(want, ev)
			}
		}
		sortEvents(want)
		for _, limit := range []int{0, 1, 7, 1000, 5000} {
			q.Limit = limit
			var got []*Event
			pages := 0
			for cursor := ""; ; pages++ {
				q.Cursor = cursor
				page, err := l.Query(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if max := min(max(limit, 1), 1000); limit != 0 && len(page.Events) > max || limit == 0 && len(page.Events) > 100 {
					t.Fatalf("page of %d events for limit %d", len(page.Events), limit)
				}
				got = append(got, page.Events...)
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			if diff := cmp.Diff(ids(want), ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("query %+v (-want +got):\n%s", q, diff)
			}
		}
		q.Limit, q.Cursor = 0, ""
		if diff := cmp.Diff(ids(want), ids(allEvents(t, l, q)), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("Events %+v (-want +got):\n%s", q, diff)
		}
	}
	// A cursor is bound to its filters.
	page, _ := l.Query(context.Background(), EventQuery{AgentID: "ag-1", Limit: 2})
	if _, err := l.Query(context.Background(), EventQuery{AgentID: "ag-2", Cursor: page.NextCursor}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a cursor of another query: %v", err)
	}
}

// TestEventLogCursorStable pages through the log while other goroutines
// append: every event stored before paging began comes exactly once, and
// the pages stay in order.
func TestEventLogCursorStable(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"))
	before := synthetic(300, 2)
	for _, ev := range before {
		l.Append(context.Background(), ev)
	}
	during := synthetic(300, 3)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(during); i += 4 {
				if _, err := l.Append(context.Background(), during[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, q := range []EventQuery{{Limit: 7}, {InteractionID: "int-1", Limit: 3}} {
		seen := map[string]int{}
		var got []*Event
		for ev, err := range l.Events(context.Background(), q) {
			if err != nil {
				t.Fatal(err)
			}
			seen[ev.ID]++
			got = append(got, ev)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s came %d times", id, n)
			}
		}
		for _, ev := range before {
			if (q.InteractionID == "" || ev.InteractionID == q.InteractionID) && seen[ev.ID] == 0 {
				t.Errorf("%s was skipped", ev.ID)
			}
		}
		if !slices.IsSortedFunc(got, func(a, b *Event) int {
			if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		}) {
			t.Error("pages out of order")
		}
	}
	wg.Wait()
}

func TestEventLogExport(t *testing.T) {
	l := openLog(t, "")
	for _, ev := range synthetic(250, 4) {
		l.Append(context.Background(), ev)
	}
	q := EventQuery{AgentID: "ag-3", Limit: 10}
	var buf bytes.Buffer
	if err := l.Export(context.Background(), &buf, q); err != nil {
		t.Fatal(err)
	}
	var got []*Event
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		ev := new(Event)
		if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, ev)
	}
	q.Limit = 0
	want := allEvents(t, l, q)
	if len(want) < 20 {
		t.Fatalf("only %d events for the export", len(want))
	}
	if diff := cmp.Diff(want, got, equateRaw); diff != "" {
		t.Errorf("export (-query +export):\n%s", diff)
	}
	n := 0
	for range l.Events(context.Background(), q) {
		if n++; n == 3 {
			break // the iterator stops when asked
		}
	}
}

const crashEnv = "TALKDESK_EVENTLOG_CRASH_CHILD"

// TestEventLogCrashChild is the child of TestEventLogSurvivesSIGKILL: it
// appends from several goroutines until it is killed, printing the ID of
// every event whose Append returned.
func TestEventLogCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestEventLogSurvivesSIGKILL")
	}
	l, err := OpenEventLog(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	base := readEventFixture(t, "inboundCallEnds_complete.json")
	pad := strings.Repeat("x", 16<<10) // large lines make a torn write likelier
	var out sync.Mutex
	deadline := time.Now().Add(60 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				body := bytes.Replace(base, []byte(`"hangup": "agent"`), fmt.Appendf(nil, `"hangup": "w%d-%d", "padding": %q`, w, i, pad), 1)
				ev, err := ParseEvent(TriggerInboundCallEnds, body)
				if err != nil {
					panic(err)
				}
				if added, err := l.Append(context.Background(), ev); err != nil || !added {
					fmt.Println("error", added, err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", ev.ID)
				out.Unlock()
			}
		})
	}
	wg.Wait()
	os.Exit(0)
}

// TestEventLogSurvivesSIGKILL runs this test binary as a child that
// appends events, kills it with SIGKILL in the middle of its appends,
// reopens the log and checks that every acknowledged event is there.
func TestEventLogSurvivesSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs SIGKILL and a child process")
	}
	if testing.Short() {
		t.Skip("short")
	}
	for round := range 3 {
		path := filepath.Join(t.TempDir(), "events.jsonl")
		cmd := exec.Command(os.Args[0], "-test.run=^TestEventLogCrashChild$", "-test.count=1", "-test.v=false")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := map[string]bool{}
		sc := bufio.NewScanner(stdout)
		killAt := 200 + round*150
		for sc.Scan() {
			line := sc.Text()
			if id, ok := strings.CutPrefix(line, "ack "); ok {
				acked[id] = true
			} else if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			if len(acked) == killAt {
				cmd.Process.Kill() // SIGKILL, in the middle of appends
			}
		}
		cmd.Wait()
		if len(acked) < killAt {
			t.Fatalf("the child acknowledged only %d events", len(acked))
		}
		var logs bytes.Buffer
		l := openLog(t, path, WithEventLogLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		missing := 0
		for id := range acked {
			if _, ok := l.byID.get(id, l.entries); !ok {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged events are missing", round, missing, len(acked))
		}
		t.Logf("round %d: %d acknowledged, %d stored; repair: %q", round, len(acked), l.Stats().Events, strings.TrimSpace(logs.String()))
		l.Close()
	}
}

// TestEventLogRepeatWindow: both sides of the window, and a window of 0.
func TestEventLogRepeatWindow(t *testing.T) {
	login := func(received time.Time) *Event {
		ev, err := parseEvent(TriggerAgentLogIn, []byte(`{"agent_id":"a-1"}`), received)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	l, err := OpenEventLog("", WithRepeatWindow(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	for _, tt := range []struct {
		at    time.Duration
		added bool
		id    string
	}{
		{0, true, ""},
		{time.Second, false, ""},        // exactly W: a redelivery
		{time.Second + 1, true, ".2"},   // past W
		{2*time.Second + 1, false, ""},  // W after the repeat
		{3*time.Second + 2, true, ".3"}, // past W of the repeat
	} {
		ev := login(t0.Add(tt.at))
		base := ev.ID
		added, err := l.Append(ctx, ev)
		if err != nil || added != tt.added {
			t.Errorf("at +%v: added %v, %v; want %v", tt.at, added, err, tt.added)
		}
		if tt.added && ev.ID != base+tt.id {
			t.Errorf("at +%v: stored as %s, want %s%s", tt.at, ev.ID, base, tt.id)
		}
		// Handled, as a webhook handler marks it: only a handled copy
		// can be followed by a genuine repeat.
		if err := l.MarkHandled(ctx, ev.ID); err != nil {
			t.Fatal(err)
		}
	}
	off, err := OpenEventLog("", WithRepeatWindow(0))
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	off.Append(ctx, login(t0))
	if added, _ := off.Append(ctx, login(t0.Add(24*time.Hour))); added {
		t.Error("with a window of 0 an identical event a day later was added")
	}
}

// TestEventLogFollowResumesAfterReopen: a follower that stops, as its
// process does, resumes after the last event it handled on the log
// reopened from the file, missing none and repeating none.
func TestEventLogFollowResumesAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	evs := fixtureEvents(t)
	l := openLog(t, path)
	for _, ev := range evs[:10] {
		l.Append(context.Background(), ev)
	}
	var got []string
	for ev, err := range l.Follow(context.Background(), EventQuery{}, "") {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, ev.ID); len(got) == 4 {
			break
		}
	}
	l.Close()
	l = openLog(t, path)
	for _, ev := range evs[10:] {
		l.Append(context.Background(), ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ev, err := range l.Follow(ctx, EventQuery{}, got[len(got)-1]) {
		if err != nil {
			t.Fatal(err)
		}
		if got = append(got, ev.ID); len(got) == len(evs) {
			break
		}
	}
	var want []string
	for _, ev := range evs {
		want = append(want, ev.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("followed across a reopen: %v, want %v", got, want)
	}
}

// BenchmarkEventLogFollowLatency measures the time from Append returning
// to the event reaching a waiting follower, with the log on disk; it
// reports p50 and p99.
func BenchmarkEventLogFollowLatency(b *testing.B) {
	l, err := OpenEventLog(filepath.Join(b.TempDir(), "events.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan time.Time)
	go func() {
		for _, err := range l.Follow(ctx, EventQuery{}, "") {
			if err != nil {
				return
			}
			got <- time.Now()
		}
	}()
	var delays []time.Duration
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; b.Loop(); i++ {
		ev, _ := parseEvent(TriggerAgentLogIn, fmt.Appendf(nil, `{"agent_id":"a-%d"}`, i), at)
		if _, err := l.Append(ctx, ev); err != nil {
			b.Fatal(err)
		}
		done := time.Now()
		delays = append(delays, (<-got).Sub(done))
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds()), "p99-µs")
}

// TestEventLogHandledMarks: marks persist across a reopen, in the file
// beside the log; a mark of an event not stored is ErrNotFound.
func TestEventLogHandledMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	ctx := context.Background()
	evs := fixtureEvents(t)[:3]
	l := openLog(t, path)
	for _, ev := range evs {
		l.Append(ctx, ev)
	}
	if err := l.MarkHandled(ctx, evs[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkHandled(ctx, "not-stored"); !errors.Is(err, ErrNotFound) {
		t.Errorf("MarkHandled of an unknown ID: %v, want ErrNotFound", err)
	}
	l.Close()
	l = openLog(t, path)
	for i, ev := range evs {
		if done, err := l.Handled(ctx, ev.ID); err != nil || done != (i == 1) {
			t.Errorf("Handled(%d) after reopening = %v, %v", i, done, err)
		}
	}
	mem := openLog(t, "")
	mem.Append(ctx, evs[0])
	if err := mem.MarkHandled(ctx, evs[0].ID); err != nil {
		t.Fatal(err)
	}
	if done, _ := mem.Handled(ctx, evs[0].ID); !done {
		t.Error("a log in memory forgot its mark")
	}
}

// TestEventLogFollowRareFilter: a filter that matches only the last of
// 10,000 events is followed to it, across many short scans of the log.
func TestEventLogFollowRareFilter(t *testing.T) {
	l := openLog(t, "")
	ctx := context.Background()
	var last *Event
	for i := range 10_000 {
		ev, err := parseEvent(TriggerAgentLogIn, fmt.Appendf(nil, `{"agent_id":"a-%d"}`, i), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ev, err := range l.Follow(fctx, EventQuery{AgentID: "a-9999"}, "") {
		if err != nil || ev.ID != last.ID {
			t.Fatalf("Follow of the last agent: %v, %v; want its event", ev, err)
		}
		break
	}
}

// TestEventValidate: Validate is the check of Append, for stores of other
// packages.
func TestEventValidate(t *testing.T) {
	good := fixtureEvents(t)[0]
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate of a parsed event: %v", err)
	}
	for name, change := range map[string]func(*Event){
		"no ID":                    func(e *Event) { e.ID = "" },
		"unknown type":             func(e *Event) { e.Type = "callHappened" },
		"occurred in year 3000":    func(e *Event) { e.OccurredAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"received in year 1000":    func(e *Event) { e.ReceivedAt = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"a raw body not an object": func(e *Event) { e.Raw = json.RawMessage(`[1,2]`) },
	} {
		ev := *good
		change(&ev)
		if err := ev.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate of an event with %s: %v, want ErrInvalid", name, err)
		}
	}
	var nilEvent *Event
	if err := nilEvent.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate of nil: %v, want ErrInvalid", err)
	}
}

// TestDecodeStored: the two-part read of a stored line gives exactly what
// Event.UnmarshalJSON gives, for every fixture of every trigger, for
// events with warnings, markup and other scripts, and for lines it must
// leave to UnmarshalJSON (a payload built by hand with "raw" keys of its
// own, no raw body, an unknown type).
func TestDecodeStored(t *testing.T) {
	evs := fixtureEvents(t)
	odd := *evs[0]
	odd.Raw = json.RawMessage(`{"contact_id":"c-<1>&","raw":{"raw":1},"note":"Zé \"quoted\" ,\"raw\":"}`)
	evs = append(evs, &odd)
	for i, raw := range []string{
		`{"agent_id":"a-1","warnings":[{"field":"x"}]}`,
		`{"warnings":[1],"agent_id":"a-1","duration":"soon"}`,
		`{"agent_id":"a-1","nested":{"b":1,"warnings":[2]},"hold_time":"later"}`,
	} {
		ev, err := ParseEvent(TriggerInboundCallEnds, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ev.ID = fmt.Sprint("warnings-key-", i)
		evs = append(evs, ev)
	}
	handMade := *evs[len(evs)-2]
	handMade.ID, handMade.Payload = "hand-made", map[string]any{"a": 1, "raw": map[string]any{"raw": 2}}
	evs = append(evs, &handMade)
	noRaw := *evs[1]
	noRaw.ID, noRaw.Raw = "no-raw", nil
	evs = append(evs, &noRaw)
	unknown := *evs[2]
	unknown.ID, unknown.Type = "unknown", "callHappened"
	evs = append(evs, &unknown)
	// Heads that are not what the payload lifts, or that encoding/json
	// writes with escapes: read in two parts, the head as stored.
	edited := len(evs)
	for i, edit := range []func(*Event){
		func(e *Event) { e.OccurredAt = e.OccurredAt.Add(time.Hour) },
		func(e *Event) { e.ContactID, e.InteractionID = "hand-made-contact", "" },
		func(e *Event) { e.Actor = Actor{Type: ActorSystem} },
		func(e *Event) { e.Name = "" },
		func(e *Event) { e.ID = `quoted-"id"` },
		func(e *Event) { e.ID = "line\u2028separator" },
	} {
		ev := *evs[0]
		ev.ID = fmt.Sprint("edited-", i)
		edit(&ev)
		evs = append(evs, &ev)
	}
	for i, name := range []string{`Ana "Nana" Sousa`, "Zé <b>&amp;</b>", "tab\there", "sep\u2029", "bad \xff utf-8"} {
		quoted := strings.NewReplacer(`"`, `\"`, "\t", `\t`).Replace(name) // invalid UTF-8 kept as is
		ev, err := ParseEvent(TriggerAgentLogIn, fmt.Appendf(nil, `{"agent_id":"a-%d","agent_name":"%s"}`, i, quoted))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	split := 0
	for _, ev := range evs {
		line, err := encodeLogLine(ev)
		if err != nil {
			t.Fatal(err)
		}
		var want Event
		wantErr := want.UnmarshalJSON(line)
		got, err := decodeStored(line)
		if (err != nil) != (wantErr != nil) || err == nil && !reflect.DeepEqual(*got, want) {
			t.Errorf("%s %s: decodeStored = %+v, %v\nUnmarshalJSON = %+v, %v", ev.Type, ev.ID, got, err, want, wantErr)
		}
		var e Event
		if ok, _ := e.decodeStoredParts(line); ok {
			split++
		}
	}
	if split < len(evs)-3 {
		t.Errorf("%d of %d lines were read in two parts, want all but the hand-made ones", split, len(evs))
	}
	// The head of every event ParseEvent made, with strings encoding/json
	// writes as they are, is read the quick way.
	for _, ev := range append(fixtureEvents(t), evs[edited+7]) {
		line, err := encodeLogLine(ev)
		if err != nil {
			t.Fatal(err)
		}
		var e Event
		if !e.readHeadKeys(line) {
			t.Fatalf("%s %s: the head's keys are not read the quick way", ev.Type, ev.ID)
		}
		if err := e.decodePayload(triggerInfos[e.Type], ev.Raw); err != nil {
			t.Fatal(err)
		}
		if head := line[:bytes.Index(line, []byte(`,"payload":`))]; !e.liftHead(triggerInfos[e.Type], head) {
			t.Errorf("%s %s: the head is not lifted from the payload", ev.Type, ev.ID)
		}
	}
}

// FuzzDecodeStored checks that an event stored and read back is the event
// that was stored: decodeStored, the quick way queries read, reads every
// line as Event.UnmarshalJSON does, and both give back the payload and the
// warnings ParseEvent gave, whichever way each reads the body. The event
// is made by ParseEvent from the body, then, as an event built by hand
// can be, edited: edit picks the members whose stored value differs from
// what the payload lifts.
func FuzzDecodeStored(f *testing.F) {
	triggers := Triggers()
	for i, tr := range triggers {
		for _, kind := range []string{"complete", "empty", "odd"} {
			f.Add(uint8(i), readEventFixture(f, string(tr)+"_"+kind+".json"), uint8(0), "")
		}
	}
	f.Add(uint8(0), []byte(`{"agent_id":"a","agent_name":"A \"B\"","x":null}`), uint8(0), "")
	f.Add(uint8(7), []byte(`{"agent_id":" a-1 ","agent_name":"  Ana\u0020","agent_id":"a-2","hold_time":"00:01"}`), uint8(0), "")
	f.Add(uint8(3), []byte(`{"contact_id":"c","contact_id":null,"n":1}`), uint8(255), "\u2028")
	f.Fuzz(func(t *testing.T, which uint8, body []byte, edit uint8, text string) {
		tr := triggers[int(which)%len(triggers)]
		ev, err := parseEvent(tr, body, received)
		if err != nil {
			return
		}
		if edit&1 != 0 {
			ev.ID = text
		}
		if edit&2 != 0 {
			ev.OccurredAt = ev.OccurredAt.Add(time.Duration(len(text)) * time.Second)
		}
		if edit&4 != 0 {
			ev.ContactID = text
		}
		if edit&8 != 0 {
			ev.Actor.Name = text
		}
		if edit&16 != 0 {
			ev.Name = text
		}
		if ev.ID == "" {
			return
		}
		line, err := encodeLogLine(ev)
		if err != nil {
			return
		}
		var want Event
		if err := want.UnmarshalJSON(line); err != nil {
			t.Fatalf("UnmarshalJSON of a stored line: %v", err)
		}
		got, err := decodeStored(line)
		if err != nil {
			t.Fatalf("decodeStored: %v", err)
		}
		clear(line) // a query reads the next line into the same buffer
		if !reflect.DeepEqual(*got, want) {
			t.Fatalf("decodeStored = %+v\nUnmarshalJSON = %+v", got, want)
		}
		var raw bytes.Buffer
		json.Compact(&raw, ev.Raw)
		if !bytes.Equal(got.Raw, raw.Bytes()) {
			t.Fatalf("read back Raw %s, stored %s", got.Raw, raw.Bytes())
		}
		if !reflect.DeepEqual(got.Payload, ev.Payload) || !slices.Equal(got.Warnings, ev.Warnings) {
			t.Fatalf("read back: payload %+v, warnings %v\nParseEvent: payload %+v, warnings %v", got.Payload, got.Warnings, ev.Payload, ev.Warnings)
		}
	})
}

// TestEventLogHandledIDsAnyCharacter: the handled file names each ID on
// a line of its own whatever the ID holds (a line break, a quote), so a
// mark survives a reopen and marks no other event; a file written before
// the lines were encoded, an ID a line, reads as before.
func TestEventLogHandledIDsAnyCharacter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	ctx := context.Background()
	evs := synthetic(4, 7)
	evs[0].ID = "imported-7\nvictim-1"
	evs[1].ID = "victim-1"
	evs[2].ID = `"quoted"`
	evs[3].ID = "old-style"
	l := openLog(t, path)
	for _, ev := range evs {
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{evs[0].ID, evs[2].ID} {
		if err := l.MarkHandled(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	// A line as an earlier version wrote it, the ID raw.
	f, err := os.OpenFile(path+".handled", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("old-style\n")
	f.Close()
	l = openLog(t, path)
	for i, want := range []bool{true, false, true, true} {
		if done, err := l.Handled(ctx, evs[i].ID); err != nil || done != want {
			t.Errorf("Handled(%q) after reopening = %v, %v; want %v", evs[i].ID, done, err, want)
		}
	}
}

// TestEventLogRedeliveryOfARepeatOnItsWay: a redelivery of a genuine
// repeat that comes while the repeat is being written returns only once
// the repeat is committed, so that the 200 it earns is for a stored event
// (and MarkHandled of the ID it names finds it).
func TestEventLogRedeliveryOfARepeatOnItsWay(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, filepath.Join(t.TempDir(), "events.jsonl"), WithRepeatWindow(time.Second))
	login := func(received time.Time) *Event {
		ev, err := parseEvent(TriggerAgentLogIn, []byte(`{"agent_id":"a-1"}`), received)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	first := login(received)
	if _, err := l.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkHandled(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	writing, release := make(chan struct{}), make(chan struct{})
	l.beforeWrite = func() {
		close(writing)
		<-release
	}
	repeat := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, login(received.Add(time.Hour)))
		repeat <- err
	}()
	<-writing // the repeat is in a batch on its way to the file
	l.beforeWrite = nil
	redelivered := make(chan error, 1)
	go func() {
		ev := login(received.Add(time.Hour + 100*time.Millisecond))
		added, err := l.Append(ctx, ev)
		if err == nil && added {
			err = errors.New("the redelivery was added")
		}
		if err == nil {
			err = l.MarkHandled(ctx, ev.ID) // what the webhook handler does next
		}
		redelivered <- err
	}()
	select {
	case err := <-redelivered:
		close(release)
		<-repeat
		t.Fatalf("the redelivery returned (%v) while the repeat it names was not yet written", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-repeat; err != nil {
		t.Fatal(err)
	}
	if err := <-redelivered; err != nil {
		t.Errorf("the redelivery, then MarkHandled of the ID it names: %v", err)
	}
}

// readsRefused wraps a store and refuses every query: an Export that
// reads through it fails; one that writes the stored lines does not.
type readsRefused struct{ EventStore }

func (r readsRefused) Query(context.Context, EventQuery) (*EventPage, error) {
	return nil, errors.New("queried through the wrapper")
}

// TestExportUnwraps: Export of a wrapper with Unwrap() EventStore around an
// EventLog writes the log's stored lines, as the log's own Export does,
// without reading through the wrapper; of a wrapper without Unwrap it reads
// through the wrapper, which may filter.
func TestExportUnwraps(t *testing.T) {
	l := openLog(t, "")
	for _, ev := range synthetic(120, 3) {
		l.Append(context.Background(), ev)
	}
	var want bytes.Buffer
	if err := l.Export(context.Background(), &want, EventQuery{}); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	wrapped := unwrapping{readsRefused{EventStore: l}}
	if err := Export(context.Background(), wrapped, &got, EventQuery{}); err != nil {
		t.Fatalf("Export through Unwrap: %v", err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("Export through Unwrap wrote %d bytes, the log's own Export %d", got.Len(), want.Len())
	}
	if err := Export(context.Background(), readsRefused{EventStore: l}, io.Discard, EventQuery{}); err == nil {
		t.Error("Export of a wrapper without Unwrap did not read through it")
	}
	if err := Export(context.Background(), selfUnwrapping{readsRefused{EventStore: l}}, io.Discard, EventQuery{}); err == nil {
		t.Error("Export of a wrapper unwrapping to itself did not read through it")
	}
}

// TestLastEventID: LastEventID asks the store through its wrappers, and
// says when no store can tell.
func TestLastEventID(t *testing.T) {
	ctx := context.Background()
	l := openLog(t, "")
	evs := synthetic(3, 1)
	for _, ev := range evs {
		l.Append(ctx, ev)
	}
	for _, s := range []EventStore{l, unwrapping{readsRefused{EventStore: l}}} {
		if id, err := LastEventID(ctx, s); id != evs[2].ID || err != nil {
			t.Errorf("LastEventID(%T) = %q, %v; want %s", s, id, err, evs[2].ID)
		}
	}
	if id, err := LastEventID(ctx, readsRefused{EventStore: l}); id != "" || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("LastEventID of a wrapper that hides the log = %q, %v; want errors.ErrUnsupported", id, err)
	}
}

type unwrapping struct{ readsRefused }

func (u unwrapping) Unwrap() EventStore { return u.readsRefused.EventStore }

type selfUnwrapping struct{ readsRefused }

func (u selfUnwrapping) Unwrap() EventStore { return u }

// TestEventLogLastID: LastID is the last event in commit order (not the
// newest by time), across a reopen, and following after it gives only what
// is appended next.
func TestEventLogLastID(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	evs := fixtureEvents(t)
	l := openLog(t, path)
	if id, err := l.LastID(ctx); id != "" || err != nil {
		t.Fatalf("LastID of an empty log: %q, %v", id, err)
	}
	// The newest by time first, then an older one: the last committed is
	// the older one.
	newest := slices.MaxFunc(evs, func(a, b *Event) int { return a.OccurredAt.Compare(b.OccurredAt) })
	older := evs[0]
	if older == newest {
		older = evs[1]
	}
	for _, ev := range []*Event{newest, older} {
		if _, err := l.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := l.LastID(ctx); id != older.ID || err != nil {
		t.Fatalf("LastID = %q, %v; want the last committed, %s", id, err, older.ID)
	}
	l.Close()
	if _, err := l.LastID(ctx); !errors.Is(err, ErrEventLogClosed) {
		t.Errorf("LastID after Close: %v, want ErrEventLogClosed", err)
	}
	l = openLog(t, path)
	last, err := l.LastID(ctx)
	if last != older.ID || err != nil {
		t.Fatalf("LastID after a reopen = %q, %v; want %s", last, err, older.ID)
	}
	var next *Event
	for _, ev := range evs {
		if ev != newest && ev != older {
			next = ev
			break
		}
	}
	if _, err := l.Append(ctx, next); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ev, err := range l.Follow(fctx, EventQuery{}, last) {
		if err != nil || ev.ID != next.ID {
			t.Errorf("Follow after LastID gave %v, %v; want %s", ev, err, next.ID)
		}
		break
	}
}
