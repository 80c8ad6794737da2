// Package eventstoretest checks that a talkdesk.EventStore keeps the
// promises of the interface, in the manner of testing/fstest.TestFS: a store
// of the SDK or of your own passes TestStore, or is not a conversation log
// users can rely on.
//
//	func TestMyStore(t *testing.T) {
//		eventstoretest.TestStore(t, func(t *testing.T) talkdesk.EventStore {
//			return openEmptyStore(t) // closed by t.Cleanup
//		})
//	}
package eventstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// TestStore runs the conformance suite, each part a subtest with a store of
// its own from open, which must be empty and have the default repeat
// window (talkdesk.DefaultRepeatWindow, or any between a minute and an
// hour). If the store implements io.Closer, the suite closes it to check
// that it then refuses calls; open should also close it in t.Cleanup
// (Close must allow a second call).
func TestStore(t *testing.T, open func(t *testing.T) talkdesk.EventStore) {
	t.Run("AppendAndRedelivery", func(t *testing.T) { testAppend(t, open(t)) })
	t.Run("InvalidEvents", func(t *testing.T) { testInvalid(t, open(t)) })
	t.Run("Filters", func(t *testing.T) { testFilters(t, open(t)) })
	t.Run("TimeRange", func(t *testing.T) { testTimeRange(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, open(t)) })
	t.Run("CursorWhileAppending", func(t *testing.T) { testCursorStability(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("Follow", func(t *testing.T) { testFollow(t, open(t)) })
	t.Run("FollowResume", func(t *testing.T) { testFollowResume(t, open(t)) })
	t.Run("FollowResumeFiltered", func(t *testing.T) { testFollowResumeFiltered(t, open(t)) })
	t.Run("FollowResumeCommitOrder", func(t *testing.T) { testFollowResumeCommitOrder(t, open(t)) })
	t.Run("FollowSlowFollower", func(t *testing.T) { testSlowFollower(t, open(t)) })
	t.Run("FollowCancel", func(t *testing.T) { testFollowCancel(t, open(t)) })
	t.Run("ConcurrentAppends", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("GenuineRepeats", func(t *testing.T) { testRepeats(t, open(t)) })
	t.Run("HostileBodies", func(t *testing.T) { testHostileBodies(t, open(t)) })
	t.Run("Closed", func(t *testing.T) { testClosed(t, open(t)) })
}

// base is where the suite's event times start.
var base = time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)

// call returns an inboundCallEnds event of interaction n (of contact n%5
// and agent n%3), at base + n minutes.
func call(t *testing.T, n int) *talkdesk.Event {
	t.Helper()
	at := base.Add(time.Duration(n) * time.Minute)
	return parse(t, talkdesk.TriggerInboundCallEnds, map[string]string{
		"call_id":        fmt.Sprintf("call-%d", n),
		"interaction_id": fmt.Sprintf("int-%d", n),
		"contact_id":     fmt.Sprintf("contact-%d", n%5),
		"agent_id":       fmt.Sprintf("agent-%d", n%3),
		"start_time":     at.Add(-3 * time.Minute).Format(time.RFC3339),
		"timestamp":      at.Format(time.RFC3339),
		"hold_time":      "12",
		"tags":           "sales, vip",
	})
}

// calls returns the calls 0 to n-1 of call, in that order.
func calls(t *testing.T, n int) []*talkdesk.Event {
	t.Helper()
	evs := make([]*talkdesk.Event, n)
	for i := range evs {
		evs[i] = call(t, i)
	}
	return evs
}

// logIn returns an agentLogIn event of agent n%3 at base + n minutes.
func logIn(t *testing.T, n int) *talkdesk.Event {
	t.Helper()
	ev := parse(t, talkdesk.TriggerAgentLogIn, map[string]string{"agent_id": fmt.Sprintf("agent-%d", n%3), "agent_name": fmt.Sprint("Agent ", n)})
	ev.OccurredAt = base.Add(time.Duration(n) * time.Minute)
	return ev
}

func parse(t *testing.T, tr talkdesk.Trigger, fields map[string]string) *talkdesk.Event {
	t.Helper()
	body, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := talkdesk.ParseEvent(tr, body)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func appendAll(t *testing.T, s talkdesk.EventStore, evs ...*talkdesk.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := s.Append(context.Background(), ev); err != nil {
			t.Fatalf("Append %s: %v", ev.ID, err)
		}
	}
}

// ids returns the IDs of every event of s matching q, paging to the end.
func ids(t *testing.T, s talkdesk.EventStore, q talkdesk.EventQuery) []string {
	t.Helper()
	var out []string
	for ev, err := range talkdesk.Events(context.Background(), s, q) {
		if err != nil {
			t.Fatalf("Events(%+v): %v", q, err)
		}
		out = append(out, ev.ID)
	}
	return out
}

func idsOf(evs ...*talkdesk.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

func testAppend(t *testing.T, s talkdesk.EventStore) {
	ctx := context.Background()
	ev := call(t, 1)
	if added, err := s.Append(ctx, ev); err != nil || !added {
		t.Fatalf("first Append = %v, %v; want added", added, err)
	}
	// The same delivery again, with other white space and key order.
	var m map[string]any
	_ = json.Unmarshal(ev.Raw, &m)
	again, _ := json.MarshalIndent(m, "", "   ")
	redelivery, err := talkdesk.ParseEvent(ev.Type, again)
	if err != nil || redelivery.ID != ev.ID {
		t.Fatalf("a redelivery parses to %v, %v; want ID %s", redelivery, err, ev.ID)
	}
	if added, err := s.Append(ctx, redelivery); err != nil || added {
		t.Errorf("Append of a redelivery = %v, %v; want not added", added, err)
	}
	if got := ids(t, s, talkdesk.EventQuery{}); !slices.Equal(got, []string{ev.ID}) {
		t.Errorf("stored %v, want the event once", got)
	}
}

func testInvalid(t *testing.T, s talkdesk.EventStore) {
	ctx := context.Background()
	noID := call(t, 1)
	noID.ID = ""
	badType := call(t, 2)
	badType.Type = "callHappened"
	farFuture := call(t, 3)
	farFuture.ID, farFuture.OccurredAt = "far-future", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	rawArray := call(t, 4)
	rawArray.ID, rawArray.Raw = "raw-array", json.RawMessage(`[1,2]`)
	for name, ev := range map[string]*talkdesk.Event{"nil": nil, "no ID": noID, "unknown type": badType,
		"a time in year 3000": farFuture, "a raw body that is not an object": rawArray} {
		if _, err := s.Append(ctx, ev); !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("Append of an event with %s: %v, want ErrInvalid", name, err)
		}
	}
	for name, q := range map[string]talkdesk.EventQuery{
		"unknown type":       {Types: []talkdesk.Trigger{"callHappened"}},
		"negative limit":     {Limit: -1},
		"until before since": {Since: base.Add(time.Hour), Until: base},
		"bad cursor":         {Cursor: "not-a-cursor"},
	} {
		if _, err := s.Query(ctx, q); !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("Query with %s: %v, want ErrInvalid", name, err)
		}
	}
	if got := ids(t, s, talkdesk.EventQuery{}); len(got) != 0 {
		t.Errorf("invalid events were stored: %v", got)
	}
}

// appendFilterSet appends 12 calls (interactions int-0 to int-11, of
// contacts n%5 and agents n%3) and 12 log-ins (of agents n%3), for the
// tests of the filters.
func appendFilterSet(t *testing.T, s talkdesk.EventStore) (calls, logIns []*talkdesk.Event) {
	t.Helper()
	for n := range 12 {
		calls = append(calls, call(t, n))
		logIns = append(logIns, logIn(t, 100+n))
	}
	appendAll(t, s, calls...)
	appendAll(t, s, logIns...)
	return calls, logIns
}

// pick returns the IDs of the events of evs that keep reports.
func pick(evs []*talkdesk.Event, keep func(*talkdesk.Event) bool) []string {
	var out []string
	for _, ev := range evs {
		if keep(ev) {
			out = append(out, ev.ID)
		}
	}
	return out
}

func testFilters(t *testing.T, s talkdesk.EventStore) {
	calls, logIns := appendFilterSet(t, s)
	all := append(slices.Clone(calls), logIns...)
	for name, tt := range map[string]struct {
		q    talkdesk.EventQuery
		want []string
	}{
		"all":         {talkdesk.EventQuery{}, idsOf(all...)},
		"interaction": {talkdesk.EventQuery{InteractionID: "int-4"}, idsOf(calls[4])},
		"contact":     {talkdesk.EventQuery{ContactID: "contact-2"}, pick(calls, func(e *talkdesk.Event) bool { return e.ContactID == "contact-2" })},
		"agent":       {talkdesk.EventQuery{AgentID: "agent-1"}, pick(all, func(e *talkdesk.Event) bool { return e.AgentID == "agent-1" })},
		"type":        {talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.TriggerAgentLogIn}}, idsOf(logIns...)},
		"two types":   {talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.TriggerAgentLogIn, talkdesk.TriggerInboundCallEnds}}, idsOf(all...)},
		"agent and type": {talkdesk.EventQuery{AgentID: "agent-0", Types: []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds}},
			pick(calls, func(e *talkdesk.Event) bool { return e.AgentID == "agent-0" })},
		"contact and agent": {talkdesk.EventQuery{ContactID: "contact-1", AgentID: "agent-0"},
			pick(calls, func(e *talkdesk.Event) bool { return e.ContactID == "contact-1" && e.AgentID == "agent-0" })},
		"nobody": {talkdesk.EventQuery{InteractionID: "int-none"}, nil},
	} {
		if got := ids(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

func testTimeRange(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 10) // at base + n minutes
	// Appended out of time order: queries answer in time order.
	appendAll(t, s, evs[5], evs[0], evs[9], evs[3], evs[1], evs[8], evs[2], evs[7], evs[4], evs[6])
	at := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	for name, tt := range map[string]struct {
		q    talkdesk.EventQuery
		want []string
	}{
		"all in time order":             {talkdesk.EventQuery{}, idsOf(evs...)},
		"since is inclusive":            {talkdesk.EventQuery{Since: at(7)}, idsOf(evs[7:]...)},
		"until is exclusive":            {talkdesk.EventQuery{Until: at(3)}, idsOf(evs[:3]...)},
		"since and until":               {talkdesk.EventQuery{Since: at(2), Until: at(4)}, idsOf(evs[2:4]...)},
		"a nanosecond wide":             {talkdesk.EventQuery{Since: at(5), Until: at(5).Add(1)}, idsOf(evs[5])},
		"empty range":                   {talkdesk.EventQuery{Since: at(5).Add(1), Until: at(6)}, nil},
		"in another zone":               {talkdesk.EventQuery{Since: at(8).In(time.FixedZone("X", 5*3600))}, idsOf(evs[8:]...)},
		"before everything":             {talkdesk.EventQuery{Until: at(0)}, nil},
		"after everything":              {talkdesk.EventQuery{Since: at(10)}, nil},
		"since long ago, until far off": {talkdesk.EventQuery{Since: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}, idsOf(evs...)},
		"since year 1000":               {talkdesk.EventQuery{Since: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)}, idsOf(evs...)},
		"until year 9999":               {talkdesk.EventQuery{Until: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, idsOf(evs...)},
		"since year 2300":               {talkdesk.EventQuery{Since: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
	} {
		if got := ids(t, s, tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

func testPaging(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 250)
	appendAll(t, s, evs...)
	ctx := context.Background()
	q := talkdesk.EventQuery{Limit: 100}
	var got []string
	pages := 0
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Events) > 100 {
			t.Fatalf("a page of %d events, limit 100", len(page.Events))
		}
		got = append(got, idsOf(page.Events...)...)
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if pages != 3 || !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("%d pages with %d events, want 3 pages with the 250 in order", pages, len(got))
	}
	page, err := s.Query(ctx, talkdesk.EventQuery{})
	if err != nil || len(page.Events) != talkdesk.DefaultEventPageSize {
		t.Errorf("default page: %d events, %v; want %d", len(page.Events), err, talkdesk.DefaultEventPageSize)
	}
	// A cursor belongs to its query.
	first, _ := s.Query(ctx, talkdesk.EventQuery{Limit: 10})
	if _, err := s.Query(ctx, talkdesk.EventQuery{AgentID: "agent-1", Cursor: first.NextCursor}); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("a cursor of another query: %v, want ErrInvalid", err)
	}
}

func testCursorStability(t *testing.T, s talkdesk.EventStore) {
	var evs []*talkdesk.Event
	for n := range 60 {
		evs = append(evs, call(t, 2*n)) // even minutes
	}
	appendAll(t, s, evs...)
	ctx := context.Background()
	q := talkdesk.EventQuery{Limit: 7}
	var got []string
	for odd := 1; ; odd += 2 {
		page, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, idsOf(page.Events...)...)
		// Events that sort before and after the cursor arrive meanwhile.
		appendAll(t, s, call(t, odd), call(t, 200+odd))
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, ev := range evs {
		if seen[ev.ID] != 1 {
			t.Errorf("event %s stored before the paging began was seen %d times", ev.ID, seen[ev.ID])
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("event %s seen %d times", id, n)
		}
	}
}

// sameEvent reports how got differs from want, read back from a store.
func sameEvent(got, want *talkdesk.Event) string {
	switch {
	case got.ID != want.ID || got.Type != want.Type || got.Name != want.Name:
		return fmt.Sprintf("identity %s %s %q, want %s %s %q", got.ID, got.Type, got.Name, want.ID, want.Type, want.Name)
	case !got.OccurredAt.Equal(want.OccurredAt) || !got.ReceivedAt.Equal(want.ReceivedAt):
		return fmt.Sprintf("times %v %v, want %v %v", got.OccurredAt, got.ReceivedAt, want.OccurredAt, want.ReceivedAt)
	case got.OccurredAt.Location() != time.UTC || got.ReceivedAt.Location() != time.UTC:
		return "times not in UTC"
	case got.AccountID != want.AccountID || got.InteractionID != want.InteractionID || got.CallID != want.CallID ||
		got.ContactID != want.ContactID || got.AgentID != want.AgentID || got.Actor != want.Actor:
		return fmt.Sprintf("IDs or actor %+v, want %+v", got, want)
	case !reflect.DeepEqual(got.Payload, want.Payload):
		return fmt.Sprintf("payload %+v, want %+v", got.Payload, want.Payload)
	case !reflect.DeepEqual(got.Warnings, want.Warnings):
		return fmt.Sprintf("warnings %v, want %v", got.Warnings, want.Warnings)
	}
	var a, b bytes.Buffer
	if json.Compact(&a, got.Raw) != nil || json.Compact(&b, want.Raw) != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		return fmt.Sprintf("raw %s, want %s", got.Raw, want.Raw)
	}
	return ""
}

func testRoundTrip(t *testing.T, s talkdesk.EventStore) {
	bodies := map[talkdesk.Trigger]map[string]string{
		talkdesk.TriggerContactCreated:                  {"contact_id": "c-1", "contact_name": "Zé <x>", "account_id": "acc"},
		talkdesk.TriggerContactUpdated:                  {"contact_id": "c-1", "contact_email": "ze@example.com"},
		talkdesk.TriggerNoteCreated:                     {"contact_id": "c-2", "note": "called back\nline two"},
		talkdesk.TriggerAgentLogIn:                      {"agent_id": "a-1", "agent_email": "ana@example.com"},
		talkdesk.TriggerAgentLogOut:                     {"agent_id": "a-1"},
		talkdesk.TriggerInboundCallReachesContactCenter: {"interaction_id": "i-1", "call_id": "c", "in_business_hours": "yes", "start_time": "2024-05-06 10:11:12"},
		talkdesk.TriggerInboundCallStarts:               {"interaction_id": "i-2", "agent_id": "a-2", "start_time": "1714990272"},
		talkdesk.TriggerInboundCallEnds:                 {"interaction_id": "i-3", "hold_time": "00:00:12.5", "tags": `["x","y"]`, "duration": "soon", "timestamp": "2024-05-06T10:14:19.123Z"},
		talkdesk.TriggerOutboundCallEnds:                {"interaction_id": "i-4", "agent_tags": "a,b", "phone_vip": "1", "start_time": "2024-05-06T10:00:00+01:00"},
	}
	ctx := context.Background()
	var want []*talkdesk.Event
	for _, tr := range talkdesk.Triggers() {
		ev := parse(t, tr, bodies[tr])
		want = append(want, ev)
		appendAll(t, s, ev)
	}
	byID := map[string]*talkdesk.Event{}
	for ev, err := range talkdesk.Events(ctx, s, talkdesk.EventQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		byID[ev.ID] = ev
	}
	for _, w := range want {
		got, ok := byID[w.ID]
		if !ok {
			t.Errorf("%s: not read back", w.Type)
			continue
		}
		if diff := sameEvent(got, w); diff != "" {
			t.Errorf("%s read back: %s", w.Type, diff)
		}
	}
	if ew := want[7]; len(ew.Warnings) == 0 {
		t.Error("the suite's inboundCallEnds event should carry a warning")
	}
}

// follow collects n events of s.Follow(q, after) with a deadline.
func follow(t *testing.T, s talkdesk.EventStore, q talkdesk.EventQuery, after string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []string
	for ev, err := range s.Follow(ctx, q, after) {
		if err != nil {
			t.Fatalf("Follow after %q, with %d of %d: %v", after, len(got), n, err)
		}
		got = append(got, ev.ID)
		if len(got) == n {
			break
		}
	}
	return got
}

func testFollow(t *testing.T, s talkdesk.EventStore) {
	ctx := context.Background()
	// Commit order, not time order: appended from the latest to the earliest.
	var evs []*talkdesk.Event
	for n := 9; n >= 0; n-- {
		evs = append(evs, call(t, n))
	}
	appendAll(t, s, evs[:5]...)
	done := make(chan []string)
	go func() { done <- follow(t, s, talkdesk.EventQuery{}, "", 10) }()
	// The rest while the follower waits: pushed to it as they commit.
	for _, ev := range evs[5:] {
		appendAll(t, s, ev)
	}
	if got := <-done; !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("followed %v, want the commit order %v", got, idsOf(evs...))
	}
	// A filter.
	if got := follow(t, s, talkdesk.EventQuery{AgentID: "agent-1"}, "", 3); !slices.Equal(got, []string{evs[2].ID, evs[5].ID, evs[8].ID}) {
		t.Errorf("followed agent-1: %v", got)
	}
	// A filter on a contact and an agent no stored event has yet: their
	// first event reaches the follower all the same.
	newcomer := make(chan string, 1)
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	go func() {
		for ev, err := range s.Follow(fctx, talkdesk.EventQuery{ContactID: "contact-new", AgentID: "agent-new"}, "") {
			if err != nil {
				newcomer <- err.Error()
				return
			}
			newcomer <- ev.ID
			return
		}
	}()
	time.Sleep(20 * time.Millisecond) // let it start waiting
	first := parse(t, talkdesk.TriggerInboundCallEnds, map[string]string{"interaction_id": "int-new", "contact_id": "contact-new",
		"agent_id": "agent-new", "timestamp": base.Format(time.RFC3339)})
	appendAll(t, s, first)
	if got := <-newcomer; got != first.ID {
		t.Errorf("followed a new contact and agent: %s, want %s", got, first.ID)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	for ev, err := range s.Follow(short, talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.TriggerAgentLogIn}}, "") {
		if ev != nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Follow of a type never stored: %v, %v; want nothing, then the deadline", ev, err)
		}
	}
	for ev, err := range s.Follow(ctx, talkdesk.EventQuery{}, "no-such-event") {
		if !errors.Is(err, talkdesk.ErrNotFound) || ev != nil {
			t.Errorf("Follow after an unknown event: %v, %v; want ErrNotFound", ev, err)
		}
		break
	}
	for ev, err := range s.Follow(ctx, talkdesk.EventQuery{Types: []talkdesk.Trigger{"nope"}}, "") {
		if !errors.Is(err, talkdesk.ErrInvalid) || ev != nil {
			t.Errorf("Follow of an unknown type: %v, %v; want ErrInvalid", ev, err)
		}
		break
	}
}

func testFollowResume(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 30)
	appendAll(t, s, evs[:10]...)
	// A follower handles 4 events and stops, as a process that restarts.
	first := follow(t, s, talkdesk.EventQuery{}, "", 4)
	appendAll(t, s, evs[10:20]...)
	// It resumes after the last it handled: the rest, once each.
	rest := follow(t, s, talkdesk.EventQuery{}, first[len(first)-1], 16)
	appendAll(t, s, evs[20:]...)
	more := follow(t, s, talkdesk.EventQuery{}, rest[len(rest)-1], 10)
	if got := append(append(first, rest...), more...); !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("resumed following gave %v, want each event once in order", got)
	}
}

// testFollowResumeFiltered: a follower with a filter resumes after the
// last event it handled with the same filter: the rest of the matching
// events, once each, and none that does not match.
func testFollowResumeFiltered(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 30)
	appendAll(t, s, evs...)
	appendAll(t, s, logIn(t, 40), logIn(t, 41), logIn(t, 42))
	for name, q := range map[string]talkdesk.EventQuery{
		"interaction": {InteractionID: "int-7"},
		"contact":     {ContactID: "contact-2"},
		"agent":       {AgentID: "agent-1"},
		"type":        {Types: []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds}},
	} {
		want := ids(t, s, q) // the matching events; in commit order too, as appended in time order
		if len(want) == 1 {
			continue
		}
		first := follow(t, s, q, "", len(want)/2)
		rest := follow(t, s, q, first[len(first)-1], len(want)-len(first))
		if got := append(first, rest...); !slices.Equal(got, want) {
			t.Errorf("resumed following by %s: %v, want %v", name, got, want)
		}
		// Nothing more matches: a follower after the last gets nothing
		// until its deadline, not an event of another filter.
		short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		for ev, err := range s.Follow(short, q, want[len(want)-1]) {
			if ev != nil {
				t.Errorf("following by %s after the last match gave %s", name, ev.ID)
			}
			if err != nil {
				break
			}
		}
		cancel()
	}
}

// testFollowResumeCommitOrder: events committed out of time order (the
// latest first): a follower resumes in commit order, not in time order.
func testFollowResumeCommitOrder(t *testing.T, s talkdesk.EventStore) {
	var evs []*talkdesk.Event
	for n := 19; n >= 0; n-- {
		evs = append(evs, call(t, n))
	}
	appendAll(t, s, evs[:10]...)
	first := follow(t, s, talkdesk.EventQuery{}, "", 5)
	appendAll(t, s, evs[10:]...)
	rest := follow(t, s, talkdesk.EventQuery{}, first[len(first)-1], 15)
	if got := append(first, rest...); !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("resumed following of events committed out of time order: %v, want the commit order %v", got, idsOf(evs...))
	}
}

func testSlowFollower(t *testing.T, s talkdesk.EventStore) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for ev, err := range s.Follow(ctx, talkdesk.EventQuery{}, "") {
			if err != nil {
				return
			}
			select {
			case got <- ev.ID: // nobody reads until the appends are done
			case <-ctx.Done():
				return
			}
		}
	}()
	evs := calls(t, 300)
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		appendAll(t, s, evs...)
	}()
	select {
	case <-appended:
	case <-time.After(60 * time.Second):
		t.Fatal("a follower that reads nothing held up the appends")
	}
	var ids []string
	for range evs {
		ids = append(ids, <-got)
	}
	if !slices.Equal(ids, idsOf(evs...)) {
		t.Error("the slow follower missed or reordered events")
	}
	cancel()
	<-stopped
}

func testFollowCancel(t *testing.T, s talkdesk.EventStore) {
	appendAll(t, s, call(t, 1))
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() {
		var last error
		for _, err := range s.Follow(ctx, talkdesk.EventQuery{}, "") {
			last = err
		}
		ended <- last
	}()
	time.Sleep(20 * time.Millisecond) // let it catch up and wait
	cancel()
	select {
	case err := <-ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Follow ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow went on after its context was cancelled")
	}
}

func testConcurrent(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 200)
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := map[string]int{}
	for w := range 16 {
		wg.Go(func() {
			for i := range evs { // every writer appends every event, from its own start
				ev := evs[(i+w*13)%len(evs)]
				ok, err := s.Append(context.Background(), ev)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					added[ev.ID]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for _, ev := range evs {
		if added[ev.ID] != 1 {
			t.Errorf("event %s was added %d times by 16 writers, want exactly once", ev.ID, added[ev.ID])
		}
	}
	if got := ids(t, s, talkdesk.EventQuery{}); !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("stored %d events, want the 200 in order", len(got))
	}
}

func testClosed(t *testing.T, s talkdesk.EventStore) {
	c, ok := s.(io.Closer)
	if !ok {
		t.Skip("the store has no Close")
	}
	appendAll(t, s, call(t, 1))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Append(ctx, call(t, 2)); err == nil {
		t.Error("Append after Close succeeded")
	}
	if _, err := s.Query(ctx, talkdesk.EventQuery{}); err == nil {
		t.Error("Query after Close succeeded")
	}
	for _, err := range s.Follow(ctx, talkdesk.EventQuery{}, "") {
		if err == nil {
			t.Error("Follow after Close yielded an event")
		}
		break
	}
}

// testRepeats: an event without a time of its own, identical to one
// stored, is a redelivery of it while it was not handled, however late it
// comes; once handled, a redelivery within the repeat window and a new
// event, under a derived ID, after it; exactly one of several concurrent
// appends of the same repeat adds it; events with their own time are
// always redeliveries. A store that is not a talkdesk.HandledMarker must
// treat every identical event as a redelivery.
func testRepeats(t *testing.T, s talkdesk.EventStore) {
	ctx := context.Background()
	t0 := base
	login := func(received time.Time) *talkdesk.Event {
		ev := parse(t, talkdesk.TriggerAgentLogIn, map[string]string{"agent_id": "agent-7", "agent_name": "Ana"})
		ev.ReceivedAt, ev.OccurredAt = received, received
		return ev
	}
	first := login(t0)
	appendAll(t, s, first)
	expect := func(ev *talkdesk.Event, wantAdded bool, what string) {
		t.Helper()
		added, err := s.Append(ctx, ev)
		if err != nil || added != wantAdded {
			t.Errorf("%s: added %v, %v; want %v", what, added, err, wantAdded)
		}
	}
	// A handler that fails for 40 minutes: Talkdesk delivers again and
	// again, each time later than the window. Every one is the first's
	// redelivery, never a new event.
	for _, m := range []time.Duration{12, 25, 40} {
		again := login(t0.Add(m * time.Minute))
		expect(again, false, fmt.Sprintf("the same log-in, not handled, %d minutes later (a redelivery)", m))
		if again.ID != first.ID {
			t.Errorf("the redelivery %d minutes later names %q, want the first, %q", m, again.ID, first.ID)
		}
	}
	marker, ok := s.(talkdesk.HandledMarker)
	if !ok {
		expect(login(t0.Add(2*time.Hour)), false, "the same log-in 2 h later, to a store without handled marks")
		return
	}
	mark := func(id string) {
		t.Helper()
		if err := marker.MarkHandled(ctx, id); err != nil {
			t.Fatalf("MarkHandled(%s): %v", id, err)
		}
	}
	mark(first.ID)
	second := login(t0.Add(2 * time.Hour))
	expect(second, true, "the same log-in 2 h later (a genuine repeat)")
	if second.ID == first.ID || second.ID == "" {
		t.Errorf("the repeat is stored as %q, the first as %q: want another ID", second.ID, first.ID)
	}
	redelivered := login(t0.Add(2*time.Hour + 30*time.Second))
	expect(redelivered, false, "the repeat redelivered 30 s later")
	late := login(t0.Add(3 * time.Hour))
	expect(late, false, "the repeat, not handled, redelivered an hour later")
	if late.ID != second.ID {
		t.Errorf("the late redelivery of the repeat names %q, want the repeat, %q", late.ID, second.ID)
	}
	mark(second.ID)
	// Eight handlers sharing the store get the third log-in at once.
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for range 8 {
		wg.Go(func() {
			ok, err := s.Append(ctx, login(t0.Add(5*time.Hour)))
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
	if added != 1 {
		t.Errorf("8 concurrent appends of the third log-in added %d, want 1", added)
	}
	got := ids(t, s, talkdesk.EventQuery{AgentID: "agent-7"})
	if len(got) != 3 || got[0] != first.ID || got[1] != second.ID {
		t.Errorf("stored log-ins %v, want 3: the first, the repeat, the third", got)
	} else {
		mark(got[2])
		expect(login(t0.Add(5*time.Hour+5*time.Minute)), false, "the third log-in, handled, again within the window (a redelivery)")
	}
	// An event with a time of its own is a redelivery whenever it comes.
	c := call(t, 1)
	appendAll(t, s, c)
	dayLater := call(t, 1)
	dayLater.ReceivedAt = c.ReceivedAt.Add(24 * time.Hour)
	expect(dayLater, false, "a call ending delivered again a day later")
}
