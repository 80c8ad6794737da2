package tdpostgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// TestImportReportedCalls: calls of the Explore report are stored as
// events of their own type, once however often they are imported, and
// read back with their typed record; the calls_ended view leaves them
// out.
func TestImportReportedCalls(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	yes := true
	var recs []*talkdesk.CallRecord
	for i := range 20 {
		start := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
		recs = append(recs, &talkdesk.CallRecord{CallID: fmt.Sprintf("call-%d", i), CallSID: fmt.Sprintf("CA%d", i), StartAt: start,
			EndAt: start.Add(time.Minute), TalkTime: 50 * time.Second, UserID: "agent-1", InBusinessHours: &yes})
	}
	all := func(yield func(*talkdesk.CallRecord, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	for round, want := range []talkdesk.ImportResult{{Read: 20, Added: 20}, {Read: 20, Present: 20}} {
		res, err := talkdesk.ImportCalls(ctx, s, all, 8)
		if err != nil || res != want {
			t.Errorf("import %d: %+v, %v; want %+v", round+1, res, err, want)
		}
	}
	page, err := s.Query(ctx, talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.EventReportedCall}, InteractionID: "call-7"})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("query: %v, %v", page, err)
	}
	got, ok := page.Events[0].Payload.(*talkdesk.CallRecord)
	if !ok || got.CallID != "call-7" || got.TalkTime != 50*time.Second || got.InBusinessHours == nil || !*got.InBusinessHours {
		t.Errorf("read back %+v", page.Events[0].Payload)
	}
	var ended int
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT count(*) FROM {{s}}.calls_ended`)).Scan(&ended); err != nil || ended != 0 {
		t.Errorf("calls_ended holds %d rows of imported calls, %v", ended, err)
	}
}
