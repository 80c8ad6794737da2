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
	}
	if rows, _ := countRows(t, s); rows != len(evs)-1 {
		t.Errorf("%d rows, want %d", rows, len(evs)-1)
	}
}
