package eventstoretest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// The API keys of TestEventLogHandler.
const (
	testKey  = "k-7f3a9c2e1d"
	otherKey = "k-other-4b8e"
)

// TestEventLogHandler checks [talkdesk.NewEventLogHandler] over a store from
// open (empty, as for TestStore) with a real HTTP client against an
// httptest.Server: each endpoint and filter, paging to the end by
// next_cursor and by Link, the JSON Lines export, the live stream resumed
// with Last-Event-ID after a cut connection while appends go on,
// heartbeats, auth, every bad parameter, the limit on streams, and a
// client that goes away.
func TestEventLogHandler(t *testing.T, open func(t *testing.T) talkdesk.EventStore) {
	t.Run("Auth", func(t *testing.T) { testHTTPAuth(t, open(t)) })
	t.Run("Methods", func(t *testing.T) { testHTTPMethods(t, open(t)) })
	t.Run("PageAndFilters", func(t *testing.T) { testHTTPPage(t, open(t)) })
	t.Run("Paging", func(t *testing.T) { testHTTPPaging(t, open(t)) })
	t.Run("BadParameters", func(t *testing.T) { testHTTPBadParams(t, open(t)) })
	t.Run("Export", func(t *testing.T) { testHTTPExport(t, open(t)) })
	t.Run("StreamResume", func(t *testing.T) { testHTTPStreamResume(t, open(t)) })
	t.Run("StreamFilterAndHeartbeat", func(t *testing.T) { testHTTPHeartbeat(t, open(t)) })
	t.Run("StreamLimitAndDisconnect", func(t *testing.T) { testHTTPStreamLimit(t, open(t)) })
}

// served is a handler of a store behind an httptest.Server, at /log/.
type served struct {
	srv     *httptest.Server
	active  sync.WaitGroup // ServeHTTP calls under way
	logs    *bytes.Buffer
	logsMu  *sync.Mutex
	handler *talkdesk.EventLogHandler
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func serve(t *testing.T, s talkdesk.EventStore, opts ...talkdesk.EventLogHandlerOption) *served {
	t.Helper()
	sv := &served{logs: new(bytes.Buffer), logsMu: new(sync.Mutex)}
	logger := slog.New(slog.NewTextHandler(lockedWriter{sv.logsMu, sv.logs}, nil))
	h, err := talkdesk.NewEventLogHandler(s, append([]talkdesk.EventLogHandlerOption{
		talkdesk.WithAPIKeys(testKey, otherKey), talkdesk.WithEventLogHandlerLogger(logger)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	sv.handler = h
	mux := http.NewServeMux()
	mux.Handle("/log/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv.active.Add(1)
		defer sv.active.Done()
		h.ServeHTTP(w, r)
	}))
	sv.srv = httptest.NewServer(mux)
	t.Cleanup(sv.srv.Close)
	return sv
}

func (sv *served) get(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	return sv.do(t, http.MethodGet, path, append([]string{"Authorization", "Bearer " + testKey}, header...)...)
}

func (sv *served) do(t *testing.T, method, path string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, sv.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := sv.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readAll reads and closes the body of resp.
func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pageOf is the JSON of one page.
type pageOf struct {
	Events     []*talkdesk.Event `json:"events"`
	NextCursor *string           `json:"next_cursor"`
}

func (sv *served) page(t *testing.T, path string) (pageOf, *http.Response) {
	t.Helper()
	resp := sv.get(t, path)
	b := readAll(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	var p pageOf
	if err := json.Unmarshal(b, &p); err != nil || p.NextCursor == nil {
		t.Fatalf("GET %s: %v, next_cursor %v in %.300s", path, err, p.NextCursor, b)
	}
	return p, resp
}

// pageIDs returns the IDs of every event of the query, paging to the end
// by next_cursor.
func (sv *served) pageIDs(t *testing.T, query string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 1000 {
		path := "/log/events?" + query
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		p, _ := sv.page(t, path)
		out = append(out, idsOf(p.Events...)...)
		if *p.NextCursor == "" {
			return out
		}
		cursor = *p.NextCursor
	}
	t.Fatal("paging does not end")
	return nil
}

func testHTTPAuth(t *testing.T, s talkdesk.EventStore) {
	if _, err := talkdesk.NewEventLogHandler(s); err == nil {
		t.Error("NewEventLogHandler without an authenticator succeeded")
	}
	if _, err := talkdesk.NewEventLogHandler(s, talkdesk.WithAPIKeys("")); err == nil {
		t.Error("NewEventLogHandler with an empty key succeeded")
	}
	sv := serve(t, s)
	if str := fmt.Sprint(sv.handler); strings.Contains(str, testKey) {
		t.Errorf("the handler prints its key: %s", str)
	}
	for name, header := range map[string][]string{
		"no credentials":    nil,
		"a wrong key":       {"Authorization", "Bearer " + testKey + "x"},
		"a prefix of a key": {"Authorization", "Bearer " + testKey[:5]},
		"the key as Basic":  {"Authorization", "Basic " + testKey},
		"the bare key":      {"Authorization", testKey},
		"an empty bearer":   {"Authorization", "Bearer "},
	} {
		for _, path := range []string{"/log/events", "/log/events/stream"} {
			resp := sv.do(t, http.MethodGet, path, header...)
			b := readAll(t, resp)
			var e struct{ Error string }
			if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal(b, &e) != nil || e.Error == "" {
				t.Errorf("GET %s with %s: %d %s, want 401 with a JSON error", path, name, resp.StatusCode, b)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s with %s: WWW-Authenticate %q", path, name, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
	for _, key := range []string{testKey, otherKey} {
		resp := sv.do(t, http.MethodGet, "/log/events", "Authorization", "Bearer "+key)
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET with a good key: %d", resp.StatusCode)
		}
	}
	sv.logsMu.Lock()
	defer sv.logsMu.Unlock()
	if strings.Contains(sv.logs.String(), testKey[:5]) {
		t.Errorf("a key (or part of one) is in the logs:\n%s", sv.logs)
	}
	if !strings.Contains(sv.logs.String(), "401") {
		t.Errorf("refused requests are not logged:\n%s", sv.logs)
	}
}

func testHTTPMethods(t *testing.T, s talkdesk.EventStore) {
	appendAll(t, s, call(t, 1))
	sv := serve(t, s)
	auth := []string{"Authorization", "Bearer " + testKey}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		for _, path := range []string{"/log/events", "/log/events/stream"} {
			resp := sv.do(t, m, path, auth...)
			readAll(t, resp)
			if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") {
				t.Errorf("%s %s: %d, Allow %q; want 405 allowing GET", m, path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	}
	resp := sv.do(t, http.MethodHead, "/log/events", auth...)
	if b := readAll(t, resp); resp.StatusCode != http.StatusOK || len(b) != 0 {
		t.Errorf("HEAD: %d with %d bytes", resp.StatusCode, len(b))
	}
	resp = sv.get(t, "/log/nothing")
	if readAll(t, resp); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /log/nothing: %d, want 404", resp.StatusCode)
	}
}

func testHTTPPage(t *testing.T, s talkdesk.EventStore) {
	calls, logIns := appendFilterSet(t, s)
	sv := serve(t, s)
	at := func(n int) string { return base.Add(time.Duration(n) * time.Minute).Format(time.RFC3339) }
	all := append(slices.Clone(calls), logIns...)
	for query, want := range map[string][]string{
		"":                                      idsOf(all...),
		"interaction_id=int-4":                  idsOf(calls[4]),
		"contact_id=contact-2":                  pick(calls, func(e *talkdesk.Event) bool { return e.ContactID == "contact-2" }),
		"agent_id=agent-1":                      pick(all, func(e *talkdesk.Event) bool { return e.AgentID == "agent-1" }),
		"type=agentLogIn":                       idsOf(logIns...),
		"type=agentLogIn,inboundCallEnds":       idsOf(all...),
		"type=agentLogIn&type=inboundCallEnds":  idsOf(all...),
		"agent_id=agent-0&type=inboundCallEnds": pick(calls, func(e *talkdesk.Event) bool { return e.AgentID == "agent-0" }),
		"since=" + at(7) + "&until=" + at(9):    idsOf(calls[7:9]...),
		"since=" + url.QueryEscape(base.Add(7*time.Minute).In(time.FixedZone("X", 3600)).Format(time.RFC3339)) + "&until=" + at(8): idsOf(calls[7]),
		"interaction_id=int-none": nil,
	} {
		if got := sv.pageIDs(t, query); !slices.Equal(got, want) {
			t.Errorf("?%s: %v, want %v", query, got, want)
		}
	}
	// Every field read back, warnings too.
	p, _ := sv.page(t, "/log/events?interaction_id=int-3")
	if len(p.Events) != 1 {
		t.Fatalf("one interaction: %d events", len(p.Events))
	}
	if diff := sameEvent(p.Events[0], calls[3]); diff != "" {
		t.Errorf("an event over HTTP: %s", diff)
	}
}

func testHTTPPaging(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 250)
	appendAll(t, s, evs...)
	sv := serve(t, s)
	if got := sv.pageIDs(t, "limit=100"); !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("paging by next_cursor: %d events, want the 250 in order", len(got))
	}
	p, _ := sv.page(t, "/log/events")
	if len(p.Events) != talkdesk.DefaultEventPageSize {
		t.Errorf("default page: %d events", len(p.Events))
	}
	// By Link, as a generic HTTP client pages.
	var got []string
	next, pages := "/log/events?limit=100&agent_id=agent-1", 0
	for next != "" {
		p, resp := sv.page(t, next)
		pages++
		got = append(got, idsOf(p.Events...)...)
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			target, rel, ok := strings.Cut(link, ">; ")
			if !ok || rel != `rel="next"` || !strings.HasPrefix(target, "<") {
				t.Fatalf("Link %q", link)
			}
			u, err := url.Parse(sv.srv.URL + next)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := u.Parse(target[1:])
			if err != nil {
				t.Fatalf("Link %q: %v", link, err)
			}
			next = ref.RequestURI()
		} else if *p.NextCursor != "" {
			t.Fatal("a page with a next_cursor has no Link")
		}
	}
	var want []string
	for _, ev := range evs {
		if ev.AgentID == "agent-1" {
			want = append(want, ev.ID)
		}
	}
	if pages != 1+len(want)/100 || !slices.Equal(got, want) {
		t.Errorf("paging by Link: %d pages, %d events; want %d pages, %d events in order", pages, len(got), 1+len(want)/100, len(want))
	}
}

func testHTTPBadParams(t *testing.T, s talkdesk.EventStore) {
	appendAll(t, s, call(t, 1), call(t, 2))
	sv := serve(t, s)
	p, _ := sv.page(t, "/log/events?limit=1")
	otherCursor := url.QueryEscape(*p.NextCursor)
	for path, param := range map[string]string{
		"/log/events?type=callHappened":                                     "type",
		"/log/events?type=agentLogIn,nope":                                  "type",
		"/log/events?since=yesterday":                                       "since",
		"/log/events?until=2026-13-01T00:00:00Z":                            "until",
		"/log/events?since=2026-03-02":                                      "since",
		"/log/events?since=2026-03-02T10:00:00Z&until=2026-03-02T09:00:00Z": "since",
		"/log/events?since=2026-03-02T10:00:00Z&until=2026-03-02T10:00:00Z": "since",
		"/log/events?limit=1001":                                            "limit",
		"/log/events?limit=0":                                               "limit",
		"/log/events?limit=-5":                                              "limit",
		"/log/events?limit=ten":                                             "limit",
		"/log/events?limit=99999999999999999999999":                         "limit",
		"/log/events?cursor=not-a-cursor":                                   "cursor",
		"/log/events?agent_id=agent-1&cursor=" + otherCursor:                "cursor",
		"/log/events?colour=blue":                                           "colour",
		"/log/events?since=2026-03-02T10:00:00Z&since=2026-03-02T11:00:00Z": "since",
		"/log/events?agent_id=a&agent_id=b":                                 "agent_id",
		"/log/events/stream?since=2026-03-02T10:00:00Z":                     "since",
		"/log/events/stream?cursor=x":                                       "cursor",
		"/log/events/stream?type=nope":                                      "type",
		"/log/events/stream?after=no-such-event":                            "after",
	} {
		for _, accept := range []string{"", "application/x-ndjson"} {
			resp := sv.get(t, path, "Accept", accept)
			b := readAll(t, resp)
			var e struct{ Error string }
			wantStatus := http.StatusBadRequest
			if strings.Contains(path, "no-such-event") {
				wantStatus = http.StatusNotFound
			}
			if resp.StatusCode != wantStatus || json.Unmarshal(b, &e) != nil || !strings.HasPrefix(e.Error, param) {
				t.Errorf("GET %s (Accept %q): %d %s; want %d and an error about %s", path, accept, resp.StatusCode, b, wantStatus, param)
			}
		}
	}
}

func testHTTPExport(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 250)
	appendAll(t, s, evs...)
	sv := serve(t, s)
	for query, want := range map[string][]*talkdesk.Event{
		"":                         evs,
		"agent_id=agent-2&limit=7": slices.DeleteFunc(slices.Clone(evs), func(e *talkdesk.Event) bool { return e.AgentID != "agent-2" }),
		"since=" + base.Add(240*time.Minute).Format(time.RFC3339): evs[240:],
	} {
		resp := sv.get(t, "/log/events?"+query, "Accept", "application/json;q=0.5, application/x-ndjson")
		b := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("export ?%s: %d %q", query, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var got []*talkdesk.Event
		for line := range bytes.Lines(b) {
			ev := new(talkdesk.Event)
			if err := json.Unmarshal(line, ev); err != nil {
				t.Fatalf("export ?%s: a line that is not an event: %v", query, err)
			}
			got = append(got, ev)
		}
		if !slices.Equal(idsOf(got...), idsOf(want...)) {
			t.Errorf("export ?%s: %d events, want %d in order", query, len(got), len(want))
			continue
		}
		for i := range got {
			if diff := sameEvent(got[i], want[i]); diff != "" {
				t.Errorf("export ?%s: %s", query, diff)
				break
			}
		}
	}
}

// sse is a client of the stream.
type sse struct {
	resp *http.Response
	r    *bufio.Reader
}

type sseMessage struct {
	id, event, data string
	comment         bool
}

func (sv *served) stream(t *testing.T, path string, header ...string) *sse {
	t.Helper()
	resp := sv.get(t, path, header...)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b := readAll(t, resp)
		t.Fatalf("GET %s: %d %q %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return &sse{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next returns the next message or comment of the stream.
func (c *sse) next() (sseMessage, error) {
	var m sseMessage
	seen := false
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if seen {
				return m, nil
			}
		case strings.HasPrefix(line, ":"):
			m.comment, seen = true, true
		case strings.HasPrefix(line, "id: "):
			m.id, seen = line[4:], true
		case strings.HasPrefix(line, "event: "):
			m.event, seen = line[7:], true
		case strings.HasPrefix(line, "data: "):
			m.data, seen = line[6:], true
		}
		// Other fields (retry:) do not matter here.
	}
}

// nextEvent returns the next event of the stream, skipping comments.
func (c *sse) nextEvent(t *testing.T) *talkdesk.Event {
	t.Helper()
	for {
		m, err := c.next()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if m.comment {
			continue
		}
		if m.event != "" {
			t.Fatalf("stream: an %q message: %s", m.event, m.data)
		}
		ev := new(talkdesk.Event)
		if err := json.Unmarshal([]byte(m.data), ev); err != nil {
			t.Fatalf("stream: data that is not an event: %v", err)
		}
		if m.id != ev.ID {
			t.Fatalf("stream: id: %q for event %s", m.id, ev.ID)
		}
		return ev
	}
}

func (c *sse) close() { c.resp.Body.Close() }

func testHTTPStreamResume(t *testing.T, s talkdesk.EventStore) {
	evs := calls(t, 60)
	appendAll(t, s, evs[:10]...)
	sv := serve(t, s)
	// Appends go on all along.
	stop := make(chan struct{})
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		for _, ev := range evs[10:] {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if _, err := s.Append(context.Background(), ev); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() { close(stop); <-appended }()
	var got []string
	c := sv.stream(t, "/log/events/stream")
	for range 15 {
		got = append(got, c.nextEvent(t).ID)
	}
	c.close() // the connection drops mid-stream
	c = sv.stream(t, "/log/events/stream", "Last-Event-ID", got[len(got)-1])
	for range 20 {
		got = append(got, c.nextEvent(t).ID)
	}
	c.close()
	// A client that starts after a known event, by parameter.
	c = sv.stream(t, "/log/events/stream?after="+url.QueryEscape(got[len(got)-1]))
	for len(got) < len(evs) {
		got = append(got, c.nextEvent(t).ID)
	}
	c.close()
	if !slices.Equal(got, idsOf(evs...)) {
		t.Errorf("streamed with two reconnections: %v, want each of the %d events once, in commit order", got, len(evs))
	}
	<-appended

	// A filtered stream resumes with its filter, in commit order: events
	// committed the latest first.
	var late []*talkdesk.Event
	for n := 99; n >= 80; n-- {
		late = append(late, call(t, n))
	}
	appendAll(t, s, late...)
	var want []string
	for _, ev := range late {
		if ev.AgentID == "agent-1" {
			want = append(want, ev.ID)
		}
	}
	var filtered []string
	c = sv.stream(t, "/log/events/stream?agent_id=agent-1&after="+url.QueryEscape(evs[len(evs)-1].ID))
	for range 3 {
		filtered = append(filtered, c.nextEvent(t).ID)
	}
	c.close()
	c = sv.stream(t, "/log/events/stream?agent_id=agent-1", "Last-Event-ID", filtered[len(filtered)-1])
	for len(filtered) < len(want) {
		filtered = append(filtered, c.nextEvent(t).ID)
	}
	c.close()
	if !slices.Equal(filtered, want) {
		t.Errorf("a stream of agent-1 resumed: %v, want %v", filtered, want)
	}
}

func testHTTPHeartbeat(t *testing.T, s talkdesk.EventStore) {
	sv := serve(t, s, talkdesk.WithHeartbeat(20*time.Millisecond))
	c := sv.stream(t, "/log/events/stream?type=agentLogIn&agent_id=agent-1")
	defer c.close()
	m, err := c.next()
	if err != nil || !m.comment {
		t.Fatalf("first message of a quiet stream: %+v, %v; want a heartbeat comment", m, err)
	}
	// Only what the filter matches.
	appendAll(t, s, call(t, 1), logIn(t, 2), logIn(t, 4))
	if ev := c.nextEvent(t); ev.Type != talkdesk.TriggerAgentLogIn || ev.AgentID != "agent-1" {
		t.Errorf("the filtered stream gave %s of %s", ev.Type, ev.AgentID)
	}
}

func testHTTPStreamLimit(t *testing.T, s talkdesk.EventStore) {
	sv := serve(t, s, talkdesk.WithStreamLimit(2))
	a := sv.stream(t, "/log/events/stream")
	b := sv.stream(t, "/log/events/stream")
	resp := sv.get(t, "/log/events/stream")
	if readAll(t, resp); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third stream of one key: %d, want 429", resp.StatusCode)
	}
	// Another key has its own limit.
	resp = sv.do(t, http.MethodGet, "/log/events/stream", "Authorization", "Bearer "+otherKey)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a stream of another key: %d", resp.StatusCode)
	}
	resp.Body.Close()
	a.close()
	b.close()
	// The clients went away: every ServeHTTP returns (and with it the
	// goroutine that follows the store), and the key may stream again.
	done := make(chan struct{})
	go func() { sv.active.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("streams whose clients went away are still served")
	}
	c := sv.stream(t, "/log/events/stream")
	c.close()
}
