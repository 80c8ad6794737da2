package tdpostgres

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// TestHostileValues: values PostgreSQL's text and indexes cannot hold as
// they are (NUL, invalid UTF-8, an ID of 100 KB) are stored, found by
// their exact value and by nothing else, and never fail the group of
// appends they are committed with.
func TestHostileValues(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	long := strings.Repeat("i", 100_000)
	hostile := map[string]string{
		"nul":     "int-\x00-1",
		"utf8":    "int-\xff\xfe-2",
		"long":    long,
		"longer":  long + "x", // the same first 100,000 bytes
		"replace": "int-\uFFFD-1",
	}
	var evs []*talkdesk.Event
	for name, interaction := range hostile {
		ev := callEvent(t, len(evs))
		ev.ID = "hostile-" + name
		ev.InteractionID = interaction
		ev.ContactID = interaction
		ev.Actor.Name = interaction
		evs = append(evs, ev)
	}
	for n := range 40 {
		evs = append(evs, callEvent(t, 100+n))
	}
	// All at once, so that the hostile ones share groups with the others.
	var wg sync.WaitGroup
	for _, ev := range evs {
		wg.Go(func() {
			if added, err := s.Append(ctx, ev); err != nil || !added {
				t.Errorf("Append %s: %v, %v", ev.ID, added, err)
			}
		})
	}
	wg.Wait()
	for name, interaction := range hostile {
		for _, q := range []talkdesk.EventQuery{{InteractionID: interaction}, {ContactID: interaction}} {
			page, err := s.Query(ctx, q)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := idsOf(page.Events); !slices.Equal(got, []string{"hostile-" + name}) {
				t.Errorf("query by the %s value: %v, want [hostile-%s]", name, got, name)
			}
			// Invalid UTF-8 reads back replaced, as from JSON (and from the
			// file log); everything else exactly.
			if len(page.Events) == 1 && page.Events[0].InteractionID != asJSON(interaction) {
				t.Errorf("the %s value read back as %q", name, page.Events[0].InteractionID)
			}
		}
	}
	// Follow filters by the exact value too.
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ev, err := range s.Follow(fctx, talkdesk.EventQuery{InteractionID: hostile["nul"]}, "") {
		if err != nil || ev.ID != "hostile-nul" {
			t.Errorf("Follow by the nul value: %v, %v", ev, err)
		}
		break
	}
	// A cursor made by hand with an ID PostgreSQL cannot take.
	fp := fingerprint(talkdesk.EventQuery{})
	if _, err := s.Query(ctx, talkdesk.EventQuery{Cursor: encodeCursor(0, "x\x00", fp)}); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("a cursor with a NUL: %v, want ErrInvalid", err)
	}
	if rows, _ := countRows(t, s); rows != len(evs) {
		t.Errorf("%d rows, want %d", rows, len(evs))
	}
	// An ID that PostgreSQL could not index is refused before anything is
	// sent, and so is one it could not hold.
	for _, id := range []string{strings.Repeat("x", 2000), "id-\x00", "id-\xff"} {
		ev := callEvent(t, 999)
		ev.ID = id
		if _, err := s.Append(ctx, ev); !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("Append with the ID %.20q...: %v, want ErrInvalid", id, err)
		}
	}
}

// TestRowRefusedAlone: a row the database refuses (here, by a constraint a
// DBA added) fails its own Append only, not the others of its group.
func TestRowRefusedAlone(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.pool.Exec(ctx, s.sql(`ALTER TABLE {{s}}.events ADD CONSTRAINT no_poison CHECK (interaction_id <> 'int-13')`)); err != nil {
		t.Fatal(err)
	}
	var evs []*talkdesk.Event
	for n := range 40 {
		evs = append(evs, callEvent(t, n))
	}
	errs := make([]error, len(evs))
	var wg sync.WaitGroup
	for i, ev := range evs {
		wg.Go(func() { _, errs[i] = s.Append(ctx, ev) })
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 13) != (err != nil) {
			t.Errorf("Append of event %d: %v", i, err)
		}
		if i == 13 && err != nil && !strings.Contains(err.Error(), evs[13].ID) {
			t.Errorf("the refusal does not name the event: %v", err)
		}
	}
	if rows, _ := countRows(t, s); rows != len(evs)-1 {
		t.Errorf("%d rows, want %d", rows, len(evs)-1)
	}
}

// TestJSONBHolds: jsonbHolds says of each document what PostgreSQL's jsonb
// does: it takes it, or refuses it.
func TestJSONBHolds(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	z := strings.Repeat("0", 16383)
	docs := []string{
		`{"a":"Ana \ud83d"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ude00"}`, `{"a":"x\ud83dy"}`, `{"a":"\ud83d\u0041"}`,
		`{"a":"\\ud83d"}`, `{"a":"\u0000"}`, `{"a":"\\u0000"}`, `{"a":"\u00e9\u2028"}`, `{"\ud800":1}`,
		`{"a":1e200000}`, `{"a":1e131071}`, `{"a":1e131072}`, `{"a":-1E+131072}`, `{"a":1e-16383}`, `{"a":1e-16384}`,
		`{"a":10e-16384}`, `{"a":0e-99999}`, `{"a":0e999999}`, `{"a":1.5e-400}`, `{"a":-0}`, `{"a":0.` + z + `1}`,
		`{"a":1.` + z + `0}`, `{"a":0.` + z + `}`, `{"a":123.456e-16380}`, `{"a":0.00012e131075}`, `{"a":0.00012e131076}`,
		`{"a":[1e99999999999]}`, `{"a":[0e-1,{"b":2e-16384}]}`, `{"a":12345678901234567890}`,
	}
	for _, doc := range docs {
		_, err := pool.Exec(ctx, `SELECT $1::text::jsonb`, doc)
		if got, want := jsonbHolds([]byte(doc)), err == nil; got != want {
			t.Errorf("jsonbHolds(%.60s) = %v; PostgreSQL takes it: %v (%v)", doc, got, want, err)
		}
	}
}

// TestJSONBRefusedStoredWithoutIt: a jsonb value the database refuses for
// a reason jsonbHolds does not know (here, a trigger a DBA added) leaves
// the row without its jsonb columns, and the event reads back whole.
func TestJSONBRefusedStoredWithoutIt(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, q := range []string{
		`CREATE FUNCTION {{s}}.poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.raw ? 'poison' THEN RAISE EXCEPTION 'poisoned' USING ERRCODE = '22023'; END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER poison BEFORE INSERT ON {{s}}.events FOR EACH ROW EXECUTE FUNCTION {{s}}.poison()`,
	} {
		if _, err := s.pool.Exec(ctx, s.sql(q)); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerNoteCreated, []byte(`{"contact_id":"c-1","content":"x","poison":"yes"}`))
	if err != nil {
		t.Fatal(err)
	}
	evs := []*talkdesk.Event{ev, callEvent(t, 1), callEvent(t, 2)}
	var wg sync.WaitGroup
	for _, e := range evs {
		wg.Go(func() {
			if added, err := s.Append(ctx, e); err != nil || !added {
				t.Errorf("Append %s: %v, %v", e.ID, added, err)
			}
		})
	}
	wg.Wait()
	var raw *string
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT raw::text FROM {{s}}.events WHERE id = $1`), ev.ID).Scan(&raw); err != nil || raw != nil {
		t.Errorf("the poisoned row's raw column: %v, %v; want NULL", raw, err)
	}
	page, err := s.Query(ctx, talkdesk.EventQuery{ContactID: "c-1"})
	if err != nil || len(page.Events) != 1 || string(page.Events[0].Raw) != string(ev.Raw) {
		t.Errorf("read back %v, %v; want the event whole", page, err)
	}
}
