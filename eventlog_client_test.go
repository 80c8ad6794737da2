package talkdesk_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// TestEventLogClient: a page, an export and the live stream of a log
// served by the handler, the stream followed across a cut connection
// without missing or repeating an event; a wrong key fails.
func TestEventLogClient(t *testing.T) {
	ctx := context.Background()
	log, err := talkdesk.OpenEventLog("")
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	h, err := talkdesk.NewEventLogHandler(log, talkdesk.WithAPIKeys("key"))
	if err != nil {
		t.Fatal(err)
	}
	// A server whose connections the test can cut.
	var mu sync.Mutex
	var conns []net.Conn
	srv := httptest.NewUnstartedServer(http.StripPrefix("/log", h))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	evs := reportedEvents(t, 10)
	for _, ev := range evs[:5] {
		if _, err := log.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	c, err := talkdesk.NewEventLogClient(srv.URL+"/log/", "key", nil)
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.Query(ctx, talkdesk.EventQuery{Limit: 2})
	if err != nil || len(page.Events) != 2 || page.NextCursor == "" {
		t.Fatalf("Query: %v, %v", page, err)
	}
	var export bytes.Buffer
	if err := c.Export(ctx, &export, talkdesk.EventQuery{}); err != nil || strings.Count(export.String(), "\n") != 5 {
		t.Fatalf("Export: %d lines, %v", strings.Count(export.String(), "\n"), err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var got []string
	for ev, err := range c.Follow(fctx, talkdesk.EventQuery{}, "") {
		if err != nil {
			t.Fatalf("Follow after %d: %v", len(got), err)
		}
		got = append(got, ev.ID)
		if len(got) == 5 {
			mu.Lock()
			for _, conn := range conns { // the network drops every connection
				conn.Close()
			}
			mu.Unlock()
			for _, ev := range evs[5:] {
				if _, err := log.Append(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(got) == 10 {
			break
		}
	}
	var want []string
	for _, ev := range evs {
		want = append(want, ev.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("followed %v, want %v", got, want)
	}
	bad, _ := talkdesk.NewEventLogClient(srv.URL+"/log", "bad-key-123", nil)
	if _, err := bad.Query(ctx, talkdesk.EventQuery{}); !errors.Is(err, talkdesk.ErrUnauthorized) || strings.Contains(err.Error(), "bad-key-123") {
		t.Errorf("a wrong key: %v", err)
	}
	for _, err := range bad.Follow(ctx, talkdesk.EventQuery{}, "") {
		if !errors.Is(err, talkdesk.ErrUnauthorized) {
			t.Errorf("a stream with a wrong key: %v", err)
		}
		break
	}
}

// reportedEvents are n events of reported calls.
func reportedEvents(t *testing.T, n int) []*talkdesk.Event {
	t.Helper()
	var out []*talkdesk.Event
	for _, c := range reportedCalls(n) {
		ev, err := c.Event(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// TestExportCSV: a header of every column, a row an event, payload fields
// in their columns, and no cell a spreadsheet reads as a formula.
func TestExportCSV(t *testing.T) {
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, []byte(`{"interaction_id":"i-1","agent_id":"a-1","contact_name":"=HYPERLINK(\"x\")",`+
		`"contact_phone_number":"+351912345678","hold_time":"12","tags":"a, b","timestamp":"2026-03-02T09:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := talkdesk.ExportCSV(context.Background(), &buf, func(yield func(*talkdesk.Event, error) bool) { yield(ev, nil) }); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil || len(rows) != 2 || !slices.Equal(rows[0], talkdesk.CSVColumns()) {
		t.Fatalf("%q, %v", rows, err)
	}
	cols := talkdesk.CSVColumns()
	cells := rows[1]
	at := func(name string) string {
		return cells[slices.Index(cols, name)]
	}
	for name, want := range map[string]string{"type": "inboundCallEnds", "interaction_id": "i-1", "hold_time": "12",
		"contact_phone_number": "+351912345678", "occurred_at": "2026-03-02T09:00:00Z", "tags": "a,b", "contact_name": `'=HYPERLINK("x")`} {
		if got := at(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

// TestExportCallsCSV: a header of every call column, a row a call with its
// times in UTC and durations in seconds, the raw fields left out, and no
// cell a spreadsheet reads as a formula.
func TestExportCallsCSV(t *testing.T) {
	yes := true
	call := &talkdesk.CallRecord{CallID: "call-1", Direction: "inbound", UserName: "@SUM(A1)", ContactPhoneNumber: "+351912345678",
		StartAt: time.Date(2026, 4, 1, 10, 0, 0, 0, time.FixedZone("WEST", 3600)), TalkTime: 154500 * time.Millisecond, Transfer: &yes,
		Fields: talkdesk.ReportRecord{"secret_field": "x"}}
	var buf bytes.Buffer
	calls := func(yield func(*talkdesk.CallRecord, error) bool) { yield(call, nil) }
	if err := talkdesk.ExportCallsCSV(context.Background(), &buf, calls); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	cols := talkdesk.CallColumns()
	if err != nil || len(rows) != 2 || !slices.Equal(rows[0], cols) || slices.Contains(cols, "fields") {
		t.Fatalf("%q, %v", rows, err)
	}
	for name, want := range map[string]string{"call_id": "call-1", "type": "inbound", "user_name": "'@SUM(A1)",
		"contact_phone_number": "+351912345678", "start_at": "2026-04-01T09:00:00Z", "talk_time": "154.5", "is_transfer": "true",
		"hold_time": "", "is_in_business_hours": "", "end_at": ""} {
		if got := rows[1][slices.Index(cols, name)]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if strings.Contains(buf.String(), "secret_field") {
		t.Errorf("the raw fields are in the CSV: %s", buf.String())
	}
	failed := errors.New("the report failed")
	err = talkdesk.ExportCallsCSV(context.Background(), io.Discard, func(yield func(*talkdesk.CallRecord, error) bool) { yield(nil, failed) })
	if !errors.Is(err, failed) {
		t.Errorf("a failing report: %v", err)
	}
}
