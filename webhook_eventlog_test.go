package talkdesk_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

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
