package talkdesk_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/talkdeskgo/talkdesk"
)

// recordsOf yields recs.
func recordsOf(recs []talkdesk.CallRecord) iter.Seq2[*talkdesk.CallRecord, error] {
	return func(yield func(*talkdesk.CallRecord, error) bool) {
		for i := range recs {
			if !yield(&recs[i], nil) {
				return
			}
		}
	}
}

// webhookCallEnd is the inboundCallEnds delivery of a reported call: the
// same interaction, the same Twilio call SID.
func webhookCallEnd(t *testing.T, c talkdesk.CallRecord) *talkdesk.Event {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"interaction_id": c.CallID, "call_id": c.CallSID, "agent_id": c.UserID,
		"start_time": c.StartAt.Format(time.RFC3339), "timestamp": c.EndAt.Format(time.RFC3339)})
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestImportCallsAndReconcile: the calls a webhook feed lost are found,
// imported once however often the import runs, linked to the webhook
// events of the same call, and read back as they were reported.
func TestImportCallsAndReconcile(t *testing.T) {
	ctx := context.Background()
	for _, path := range []string{"", "file"} {
		t.Run("log="+map[string]string{"": "memory", "file": "file"}[path], func(t *testing.T) {
			if path != "" {
				path = t.TempDir() + "/events.jsonl"
			}
			log, err := talkdesk.OpenEventLog(path)
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			report := reportedCalls(5)
			// The feed delivered calls 0 to 2, and a call the report lacks.
			for _, c := range report[:3] {
				if _, err := log.Append(ctx, webhookCallEnd(t, c)); err != nil {
					t.Fatal(err)
				}
			}
			stray := reportedCalls(1)[0]
			stray.CallID, stray.CallSID = "stray-call", "CAstray"
			if _, err := log.Append(ctx, webhookCallEnd(t, stray)); err != nil {
				t.Fatal(err)
			}
			from, to := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
			rec, err := talkdesk.ReconcileCalls(ctx, log, recordsOf(report), from, to)
			if err != nil {
				t.Fatal(err)
			}
			var missing []string
			for _, m := range rec.Missing {
				missing = append(missing, m.CallID)
			}
			if !slices.Equal(missing, []string{report[3].CallID, report[4].CallID}) || rec.Matched != 3 || len(rec.Unreported) != 1 || rec.Unreported[0].InteractionID != "stray-call" {
				t.Fatalf("reconciled: missing %v, matched %d, unreported %d", missing, rec.Matched, len(rec.Unreported))
			}
			lost := func(yield func(*talkdesk.CallRecord, error) bool) {
				for _, m := range rec.Missing {
					if !yield(m, nil) {
						return
					}
				}
			}
			for round, want := range []talkdesk.ImportResult{{Read: 2, Added: 2}, {Read: 2, Present: 2}} {
				res, err := talkdesk.ImportCalls(ctx, log, lost, 4)
				if err != nil || res != want {
					t.Errorf("import %d: %+v, %v; want %+v", round+1, res, err, want)
				}
			}
			again, err := talkdesk.ReconcileCalls(ctx, log, recordsOf(report), from, to)
			if err != nil || len(again.Missing) != 0 || again.Imported != 2 || again.Matched != 3 {
				t.Errorf("reconciled after the import: %+v, %v", again, err)
			}
			// The imported call is linked to its interaction, reads back as
			// reported, and is told from a webhook event by its type.
			page, err := log.Query(ctx, talkdesk.EventQuery{InteractionID: report[3].CallID})
			if err != nil || len(page.Events) != 1 {
				t.Fatalf("query by the call's interaction: %v, %v", page, err)
			}
			ev := page.Events[0]
			got, ok := ev.Payload.(*talkdesk.CallRecord)
			if ev.Type != talkdesk.EventReportedCall || !ok || ev.CallID != report[3].CallSID || !ev.OccurredAt.Equal(report[3].EndAt) || ev.AgentID != report[3].UserID {
				t.Fatalf("the imported event: %+v", ev)
			}
			if diff := cmp.Diff(&report[3], got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(talkdesk.CallRecord{}, "Fields")); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
			byType, err := log.Query(ctx, talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.EventReportedCall}})
			if err != nil || len(byType.Events) != 2 {
				t.Errorf("query by type: %v, %v", byType, err)
			}
			// Over HTTP too.
			h, err := talkdesk.NewEventLogHandler(log, talkdesk.WithAPIKeys("k"))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/events?type=reportedCall&interaction_id="+url.QueryEscape(report[4].CallID), nil)
			req.Header.Set("Authorization", "Bearer k")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"type":"reportedCall"`) {
				t.Errorf("GET /events?type=reportedCall: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestReportedCallsAreNotTriggers: the type of imported calls is no
// trigger to subscribe to.
func TestReportedCallsAreNotTriggers(t *testing.T) {
	if _, err := talkdesk.ParseTrigger(string(talkdesk.EventReportedCall)); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("ParseTrigger(reportedCall): %v, want ErrInvalid", err)
	}
	if slices.Contains(talkdesk.Triggers(), talkdesk.EventReportedCall) || !slices.Contains(talkdesk.EventTypes(), talkdesk.EventReportedCall) {
		t.Error("reportedCall is among the triggers, or not among the event types")
	}
	var rec talkdesk.CallRecord
	if _, err := rec.Event(time.Now()); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("the event of a record without IDs: %v, want ErrInvalid", err)
	}
}
