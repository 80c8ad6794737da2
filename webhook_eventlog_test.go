package talkdesk_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
)

// TestWebhookEventLog: the event is in the log before any handler runs;
// a failing handler gives 500 with the event stored; the redelivery is
// recognised as a duplicate (not stored twice) and handled; a log that
// cannot store gives 500 and runs no handler.
func TestWebhookEventLog(t *testing.T) {
	log, err := talkdesk.OpenEventLog(filepath.Join(t.TempDir(), "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret), talkdesk.WithEventLog(log))
	var stored []int
	fail := true
	h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		page, err := log.Query(ctx, talkdesk.EventQuery{InteractionID: ev.InteractionID})
		if err != nil {
			return err
		}
		stored = append(stored, len(page.Events))
		if fail {
			fail = false
			return errors.New("downstream unavailable")
		}
		return nil
	})
	body := testkit.EventFixture(t, "inboundCallEnds_complete.json")
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, body); got != 500 {
		t.Fatalf("first delivery: %d, want 500", got)
	}
	if st := log.Stats(); st.Events != 1 {
		t.Fatalf("after a failed handler the log has %d events, want 1", st.Events)
	}
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, body); got != 200 {
		t.Fatalf("redelivery: %d, want 200", got)
	}
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, body); got != 200 {
		t.Fatalf("second redelivery: %d, want 200", got)
	}
	if st := log.Stats(); st.Events != 1 {
		t.Fatalf("after redeliveries the log has %d events, want 1", st.Events)
	}
	if len(stored) != 2 || stored[0] != 1 || stored[1] != 1 {
		t.Fatalf("handlers saw %v stored events, want [1 1]: stored before they ran, once", stored)
	}

	log.Close()
	ran := len(stored)
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, testkit.EventFixture(t, "inboundCallEnds_odd.json")); got != 500 {
		t.Fatalf("delivery with a closed log: %d, want 500", got)
	}
	if len(stored) != ran {
		t.Fatal("a handler ran although the event was not stored")
	}
}

// TestWebhookHandlersRunUntilTheySucceedAcrossRestarts: with an event log,
// the handlers of a stored event run until they succeed once, and not on
// a redelivery after that, even to a handler of a new process on the
// reopened log; a genuine repeat is handled, its redelivery is not.
func TestWebhookHandlersRunUntilTheySucceedAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	login := func(received time.Time) *talkdesk.Event {
		ev, err := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, []byte(`{"agent_id":"a-1","agent_name":"Ana"}`))
		if err != nil {
			t.Fatal(err)
		}
		ev.ReceivedAt, ev.OccurredAt = received, received
		return ev
	}
	var runs []string
	fail := true
	process := func() (*talkdesk.WebhookHandler, *talkdesk.EventLog) {
		log, err := talkdesk.OpenEventLog(path)
		if err != nil {
			t.Fatal(err)
		}
		h := talkdesk.NewWebhookHandler(talkdesk.WithEventLog(log))
		h.HandleAll(func(_ context.Context, ev *talkdesk.Event) error {
			runs = append(runs, ev.ID)
			if fail {
				return errors.New("the CRM is down")
			}
			return nil
		})
		return h, log
	}

	h, log := process()
	first := login(t0)
	if err := h.Dispatch(ctx, first); err == nil {
		t.Fatal("the failing handler's error was not returned")
	}
	log.Close()
	fail = false
	h, log = process() // a restart: the failed event's redelivery runs the handlers again
	if err := h.Dispatch(ctx, login(t0.Add(10*time.Second))); err != nil {
		t.Fatal(err)
	}
	log.Close()
	h, log = process() // another restart: the handled event's redelivery does not
	if err := h.Dispatch(ctx, login(t0.Add(20*time.Second))); err != nil {
		t.Fatal(err)
	}
	if want := []string{first.ID, first.ID}; !slices.Equal(runs, want) {
		t.Fatalf("handler runs %v, want %v: failed, then succeeded once", runs, want)
	}
	// A genuine repeat two hours later is handled, under its own ID; its
	// redelivery is not.
	repeat := login(t0.Add(2 * time.Hour))
	if err := h.Dispatch(ctx, repeat); err != nil {
		t.Fatal(err)
	}
	if err := h.Dispatch(ctx, login(t0.Add(2*time.Hour+time.Minute))); err != nil {
		t.Fatal(err)
	}
	if want := []string{first.ID, first.ID, first.ID + ".2"}; !slices.Equal(runs, want) || repeat.ID != first.ID+".2" {
		t.Errorf("handler runs %v (the repeat stored as %s), want %v", runs, repeat.ID, want)
	}
	log.Close()
}
