package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// testViewer is the viewer and the log's handler, routed as serve routes
// them, over a file log, with a clock the test moves.
type testViewer struct {
	t    *testing.T
	v    *viewer
	mux  *http.ServeMux
	log  *talkdesk.EventLog
	logs *bytes.Buffer
	now  time.Time
}

func newTestViewer(t *testing.T, keys ...string) *testViewer {
	t.Helper()
	l, err := talkdesk.OpenEventLog(filepath.Join(t.TempDir(), "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tv := &testViewer{t: t, log: l, logs: new(bytes.Buffer), now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	logger := slog.New(slog.NewJSONHandler(tv.logs, nil))
	v, err := newViewer(l, keys, logger)
	if err != nil {
		t.Fatal(err)
	}
	v.now = func() time.Time { return tv.now }
	opts := []talkdesk.EventLogHandlerOption{talkdesk.WithEventLogHandlerLogger(logger), talkdesk.WithEventLogAuth(v.auth)}
	if len(keys) > 0 {
		opts = append(opts, talkdesk.WithAPIKeys(keys...))
	}
	api, err := talkdesk.NewEventLogHandler(l, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	tv.v, tv.mux = v, http.NewServeMux()
	v.register(tv.mux)
	tv.mux.Handle("/events", api)
	tv.mux.Handle("/events/", api)
	return tv
}

// do sends a request from addr with the session cookie (when not "") and
// the headers given as name, value pairs.
func (tv *testViewer) do(method, target, addr, cookie string, form url.Values, headers ...string) *http.Response {
	tv.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = addr + ":50000"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	tv.mux.ServeHTTP(w, r)
	return w.Result()
}

// login logs in from addr with key and returns the answer and its session
// cookie ("" when none was set).
func (tv *testViewer) login(addr, key, next string, headers ...string) (*http.Response, *http.Cookie) {
	tv.t.Helper()
	resp := tv.do(http.MethodPost, "/login", addr, "", url.Values{"api_key": {key}, "next": {next}}, headers...)
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return resp, c
		}
	}
	return resp, nil
}

func bodyOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// TestViewerSession: the login form, a session cookie with every
// attribute it needs, accepted by the log's handler, ended by logout and
// by time; the page's security headers; no login from another site; a
// login sends the browser only to a view of this page.
func TestViewerSession(t *testing.T) {
	const key = "k3y-viewer"
	tv := newTestViewer(t, key)

	resp := tv.do(http.MethodGet, "/?agent_id=ag-1", "10.0.0.1", "", nil)
	body := bodyOf(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="api_key"`) || !strings.Contains(body, `value="agent_id=ag-1"`) {
		t.Fatalf("GET / without a session: %d\n%s\nwant the login form, going on to agent_id=ag-1", resp.StatusCode, body)
	}
	for name, want := range map[string]string{"Content-Security-Policy": viewerCSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("GET /: %s: %q, want %q", name, got, want)
		}
	}
	if strings.Contains(viewerCSP, "unsafe-inline") || !strings.Contains(viewerCSP, "script-src 'self'") {
		t.Errorf("the CSP %q lets inline scripts in", viewerCSP)
	}
	for _, path := range []string{"/events", "/events/stream", "/viewer/recent"} {
		if resp := tv.do(http.MethodGet, path, "10.0.0.1", "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: %d, want 401", path, resp.StatusCode)
		}
	}

	resp, c := tv.login("10.0.0.1", key, "type=inboundCallEnds&agent_id=ag%2F1&utm=x")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?agent_id=ag%2F1&type=inboundCallEnds" {
		t.Errorf("login: %d to %q, want 303 to the view asked for", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c == nil {
		t.Fatal("login set no session cookie")
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != int(sessionTTL.Seconds()) || c.Secure {
		t.Errorf("the session cookie over plain HTTP: %s; want HttpOnly, SameSite=Strict, Path=/, Max-Age=%d, not Secure", c, int(sessionTTL.Seconds()))
	}
	if len(c.Value) < 26 {
		t.Errorf("the session token %q is short", c.Value)
	}
	if _, tls := tv.login("10.0.0.1", key, "", "X-Forwarded-Proto", "https"); tls == nil || !tls.Secure {
		t.Errorf("the session cookie behind a TLS proxy: %v, want Secure", tls)
	}

	if body := bodyOf(t, tv.do(http.MethodGet, "/", "10.0.0.1", c.Value, nil)); !strings.Contains(body, `id="events"`) {
		t.Errorf("GET / in a session: not the viewer\n%s", body)
	}
	for _, path := range []string{"/events", "/viewer/recent"} {
		if resp := tv.do(http.MethodGet, path, "10.0.0.1", c.Value, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s in a session: %d, want 200", path, resp.StatusCode)
		}
	}
	for _, tc := range []struct {
		cookie, auth string
		want         bool
	}{{c.Value, "", true}, {"", "Bearer " + key, false}} {
		resp := tv.do(http.MethodGet, "/viewer/recent", "10.0.0.1", tc.cookie, nil, "Authorization", tc.auth)
		var ans struct{ Session bool }
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK || ans.Session != tc.want {
			t.Errorf("GET /viewer/recent with cookie %v, Authorization %v: %d, session %v, %v; want session %v",
				tc.cookie != "", tc.auth != "", resp.StatusCode, ans.Session, err, tc.want)
		}
	}

	// Logout ends the session, not just the cookie.
	resp = tv.do(http.MethodPost, "/logout", "10.0.0.1", c.Value, url.Values{})
	cleared := false
	for _, rc := range resp.Cookies() {
		cleared = cleared || (rc.Name == sessionCookie && rc.MaxAge < 0 && rc.Value == "")
	}
	if resp.StatusCode != http.StatusSeeOther || !cleared {
		t.Errorf("logout: %d, cookies %v; want 303 and the cookie cleared", resp.StatusCode, resp.Cookies())
	}
	if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", c.Value, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /events with the cookie of a session logged out: %d, want 401", resp.StatusCode)
	}

	// A session ends with its time.
	_, c = tv.login("10.0.0.1", key, "")
	tv.now = tv.now.Add(sessionTTL - time.Second)
	if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", c.Value, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /events a second before the session ends: %d, want 200", resp.StatusCode)
	}
	tv.now = tv.now.Add(2 * time.Second)
	if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", c.Value, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /events a second after the session ended: %d, want 401", resp.StatusCode)
	}

	// No login, nor logout, from another site.
	resp, c = tv.login("10.0.0.1", key, "", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || c != nil {
		t.Errorf("a login from another site: %d, cookie %v; want 403 and none", resp.StatusCode, c)
	}
	resp, c = tv.login("10.0.0.1", key, "", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden || c != nil {
		t.Errorf("a login with Origin https://evil.example: %d, cookie %v; want 403 and none", resp.StatusCode, c)
	}
	if resp := tv.do(http.MethodGet, "/logout", "10.0.0.1", "", nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /logout: %d, want 405 (no state changes by GET)", resp.StatusCode)
	}

	// A form too large, or not a form.
	if resp, c := tv.login("10.0.0.3", strings.Repeat("k", 20<<10), ""); resp.StatusCode != http.StatusRequestEntityTooLarge || c != nil {
		t.Errorf("a login of 20 KiB: %d, cookie %v; want 413 and none", resp.StatusCode, c)
	}
	if resp := tv.do(http.MethodPost, "/login", "10.0.0.3", "", url.Values{"api_key": {"%zz"}}, "Content-Type", "application/x-www-form-urlencoded; charset=%%"); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Errorf("a login form of a broken content type: %d, want 400 or 403", resp.StatusCode)
	}

	// A login goes on to this page only.
	for _, next := range []string{"//evil.example", "/\\evil.example", "https://evil.example/", "#top", "a=%zz", "next=//evil.example", "agent_id=a&%zz"} {
		resp, _ := tv.login("10.0.0.2", key, next)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("login with next=%q goes on to %q, want /", next, loc)
		}
	}
}

// TestViewerSessionTokens: a session outlives its process (a viewer with
// the same keys accepts it: a restart, a replica) but not its key's
// removal, its expiry or a change of a byte; a logout is remembered.
func TestViewerSessionTokens(t *testing.T) {
	tv := newTestViewer(t, "k3y-one", "k3y-two")
	_, one := tv.login("10.0.0.1", "k3y-one", "")
	_, two := tv.login("10.0.0.1", "k3y-two", "")
	if one == nil || two == nil {
		t.Fatal("no session")
	}
	for _, tc := range []struct {
		name string
		keys []string
		c    *http.Cookie
		want int
	}{
		{"a restart with the same keys", []string{"k3y-one", "k3y-two"}, one, http.StatusOK},
		{"a replica with the keys in another order", []string{"k3y-two", "k3y-one"}, two, http.StatusOK},
		{"a restart without the session's key", []string{"k3y-two"}, one, http.StatusUnauthorized},
		{"a restart with other keys", []string{"k3y-three"}, two, http.StatusUnauthorized},
	} {
		other := newTestViewer(t, tc.keys...)
		other.now = tv.now
		if resp := other.do(http.MethodGet, "/events", "10.0.0.1", tc.c.Value, nil); resp.StatusCode != tc.want {
			t.Errorf("%s: GET /events with a session: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	b := []byte(one.Value)
	for i := range b {
		tampered := slices.Clone(b)
		tampered[i] = "AB"[min(1, strings.IndexByte("A", b[i])+1)] // another letter of the alphabet
		if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", string(tampered), nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a session token changed at byte %d: %d, want 401", i, resp.StatusCode)
		}
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 200), one.Value + "A"} {
		if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", bad, nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the session token %q: %d, want 401", bad, resp.StatusCode)
		}
	}
	tv.do(http.MethodPost, "/logout", "10.0.0.1", one.Value, url.Values{})
	if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", one.Value, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session logged out: %d, want 401", resp.StatusCode)
	}
	if resp := tv.do(http.MethodGet, "/events", "10.0.0.1", two.Value, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("another session after a logout: %d, want 200", resp.StatusCode)
	}
}

// TestViewerLoginLimit: wrong keys are limited per client address, a
// right key from another address is not, and time lets the address in
// again; no key, right or wrong, and no session token is ever logged.
func TestViewerLoginLimit(t *testing.T) {
	const key = "k3y-limit"
	tv := newTestViewer(t, key)
	for i := range loginBurst {
		if resp, c := tv.login("10.0.0.9", "wr0ng-guess", ""); resp.StatusCode != http.StatusForbidden || c != nil {
			t.Fatalf("wrong key %d: %d, cookie %v; want 403", i+1, resp.StatusCode, c)
		}
	}
	resp, c := tv.login("10.0.0.9", key, "")
	if resp.StatusCode != http.StatusTooManyRequests || c != nil || resp.Header.Get("Retry-After") == "" {
		t.Errorf("after %d wrong keys, the right one: %d, Retry-After %q, cookie %v; want 429 with Retry-After and no session",
			loginBurst, resp.StatusCode, resp.Header.Get("Retry-After"), c)
	}
	if resp, c := tv.login("10.0.0.10", key, ""); resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Errorf("the right key from another address: %d, want 303 and a session", resp.StatusCode)
	} else if strings.Contains(tv.logs.String(), c.Value) {
		t.Error("a session token is in the log")
	}
	tv.now = tv.now.Add(loginEvery)
	if resp, c := tv.login("10.0.0.9", key, ""); resp.StatusCode != http.StatusSeeOther || c == nil {
		t.Errorf("the right key %v after the last wrong one: %d, want 303 and a session", loginEvery, resp.StatusCode)
	}
	logs := tv.logs.String()
	if strings.Contains(logs, key) || strings.Contains(logs, "wr0ng-guess") {
		t.Errorf("a key is in the log:\n%s", logs)
	}
	if !strings.Contains(logs, "a wrong API key") {
		t.Errorf("the wrong keys were not logged:\n%s", logs)
	}
}

// TestViewerInsecureDev: without API keys the page needs no login.
func TestViewerInsecureDev(t *testing.T) {
	tv := newTestViewer(t)
	if body := bodyOf(t, tv.do(http.MethodGet, "/", "10.0.0.1", "", nil)); !strings.Contains(body, `id="events"`) {
		t.Errorf("GET / without keys: not the viewer\n%s", body)
	}
	resp := tv.do(http.MethodGet, "/viewer/recent", "10.0.0.1", "", nil)
	var ans struct{ Session *bool }
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK || ans.Session == nil || *ans.Session {
		t.Errorf("GET /viewer/recent without keys: %d, session %v, %v; want 200 and no session to log out of", resp.StatusCode, ans.Session, err)
	}
}

// TestViewerRecentAnswer: /viewer/recent gives the newest events that
// match, and the last event committed to follow after; a bad filter is a
// 400 naming it.
func TestViewerRecentAnswer(t *testing.T) {
	tv := newTestViewer(t)
	ctx := context.Background()
	base := tv.now.Add(-time.Hour)
	var last string
	for i := range 250 {
		ev := testEvent(fmt.Sprintf("ev-%03d", i), base.Add(time.Duration(i)*time.Second), fmt.Sprintf("ag-%d", i%2))
		if i == 249 {
			ev.Raw = json.RawMessage(`{"event":"call_finished","agent_id":"ag-1","hold_time":"soon"}`) // read back with a warning
		}
		if _, err := tv.log.Append(ctx, ev); err != nil {
			t.Fatal(err)
		}
		last = ev.ID
	}
	resp := tv.do(http.MethodGet, "/viewer/recent?agent_id=ag-1", "10.0.0.1", "", nil)
	var ans struct {
		Events []struct {
			ID       string                    `json:"id"`
			AgentID  string                    `json:"agent_id"`
			Warnings []talkdesk.PayloadWarning `json:"warnings"`
		}
		After string
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /viewer/recent: %d, %v", resp.StatusCode, err)
	}
	var got []string
	for _, ev := range ans.Events {
		if ev.AgentID != "ag-1" {
			t.Errorf("event %s of agent %s in the view of ag-1", ev.ID, ev.AgentID)
		}
		got = append(got, ev.ID)
	}
	var want []string
	for i := 249 - 2*(recentEvents-1); i < 250; i += 2 {
		want = append(want, fmt.Sprintf("ev-%03d", i))
	}
	// The events are in the form /events writes, warnings and all.
	if n := len(ans.Events); n == 0 || len(ans.Events[n-1].Warnings) != 1 || ans.Events[n-1].Warnings[0].Field != "hold_time" {
		t.Errorf("the newest event's warnings in /viewer/recent: %+v, want its warning of hold_time", ans.Events[max(0, n-1):])
	}
	if !slices.Equal(got, want) || ans.After != last {
		t.Errorf("recent of ag-1: %d events %v… after %q; want the newest %d of ag-1 (%s to %s) after %s",
			len(got), got[:min(3, len(got))], ans.After, recentEvents, want[0], want[len(want)-1], last)
	}
	for _, q := range []string{"type=nope", "since=2026-01-01T00:00:00Z", "agent_id=a&agent_id=b"} {
		resp := tv.do(http.MethodGet, "/viewer/recent?"+q, "10.0.0.1", "", nil)
		name, _, _ := strings.Cut(q, "=")
		if body := bodyOf(t, resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, name) {
			t.Errorf("GET /viewer/recent?%s: %d %s, want 400 naming %s", q, resp.StatusCode, body, name)
		}
	}
}

// testEvent is an inboundCallEnds event of agent at at.
func testEvent(id string, at time.Time, agent string) *talkdesk.Event {
	raw := fmt.Sprintf(`{"event":"call_finished","agent_id":%q}`, agent)
	return &talkdesk.Event{
		ID: id, Type: talkdesk.TriggerInboundCallEnds, Name: "call_finished",
		OccurredAt: at, ReceivedAt: at, InteractionID: "int-" + id, AgentID: agent,
		Raw: json.RawMessage(raw),
	}
}

// TestRecent: recent gives what sorting the whole log and taking its end
// gives, for logs busy, quiet, bursting at one instant, in the future and
// empty, with and without a filter, reading a few pages only.
func TestRecent(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		times func(i int) time.Time
		n     int
		read  int // at most this many events read, when not 0
	}{
		{"steady, one a second", func(i int) time.Time { return now.Add(-time.Duration(i) * time.Second) }, 10000, 2000},
		{"busy, 50 a second", func(i int) time.Time { return now.Add(-time.Duration(i) * 20 * time.Millisecond) }, 10000, 3000},
		{"quiet, one a day", func(i int) time.Time { return now.Add(-time.Duration(i) * 24 * time.Hour) }, 800, 0},
		{"last year only", func(i int) time.Time { return now.Add(-400*24*time.Hour - time.Duration(i)*time.Minute) }, 600, 0},
		{"a burst at one instant", func(i int) time.Time {
			if i < 1500 {
				return now.Add(-time.Minute)
			}
			return now.Add(-time.Duration(i) * time.Second)
		}, 3000, 0},
		{"the future", func(i int) time.Time { return now.Add(time.Duration(i) * time.Second) }, 2000, 0},
		{"few", func(i int) time.Time { return now.Add(-time.Duration(i) * time.Hour) }, 30, 0},
		{"none", nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := talkdesk.OpenEventLog(filepath.Join(t.TempDir(), "events.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			var all []*talkdesk.Event
			for i := range tc.n {
				ev := testEvent(fmt.Sprintf("ev-%05d", i), tc.times(i), fmt.Sprintf("ag-%d", i%3))
				if _, err := l.Append(context.Background(), ev); err != nil {
					t.Fatal(err)
				}
				all = append(all, ev)
			}
			slices.SortFunc(all, func(a, b *talkdesk.Event) int {
				if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			for _, agent := range []string{"", "ag-2"} {
				var want []string
				for _, ev := range all {
					if agent == "" || ev.AgentID == agent {
						want = append(want, ev.ID)
					}
				}
				want = want[max(0, len(want)-recentEvents):]
				counter := &countingStore{EventStore: l}
				evs, err := recent(context.Background(), counter, talkdesk.EventQuery{AgentID: agent}, now, recentEvents)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, ev := range evs {
					got = append(got, ev.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("agent %q: recent gave %d events (%v…), want the newest %d (%v…)", agent, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
				}
				// Each look reads a page of at most recentProbe events:
				// a busy log a few, not the log.
				if tc.read > 0 && counter.read > tc.read {
					t.Errorf("agent %q: recent read %d of the %d events in %d queries, want at most %d", agent, counter.read, tc.n, counter.queries, tc.read)
				}
				t.Logf("agent %q: %d queries, %d events read", agent, counter.queries, counter.read)
			}
		})
	}
}

// countingStore counts the queries made of the store it wraps, and the
// events they read.
type countingStore struct {
	talkdesk.EventStore
	queries, read int
}

func (s *countingStore) Query(ctx context.Context, q talkdesk.EventQuery) (*talkdesk.EventPage, error) {
	s.queries++
	page, err := s.EventStore.Query(ctx, q)
	if page != nil {
		s.read += len(page.Events)
	}
	return page, err
}

// TestViewerFiles: the page offers every type of the log as a filter,
// has no inline script, style or event handler (the CSP would refuse
// them), and its script writes no markup from strings.
func TestViewerFiles(t *testing.T) {
	index := readEmbedded(t, "viewer/index.html")
	for _, typ := range talkdesk.EventTypes() {
		if !strings.Contains(index, fmt.Sprintf(`<option value="%s">`, typ)) {
			t.Errorf("the type filter has no option %s", typ)
		}
	}
	scriptTag := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)\son[a-z]+\s*=|\sstyle\s*=|<style|javascript:`)
	for _, name := range []string{"viewer/index.html", "viewer/login.html"} {
		page := readEmbedded(t, name)
		for _, m := range scriptTag.FindAllStringSubmatch(page, -1) {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s has an inline script: %q", name, m[0])
			}
		}
		if m := inline.FindString(page); m != "" {
			t.Errorf("%s has inline code or style: %q", name, m)
		}
	}
	script := readEmbedded(t, "viewer/viewer.js")
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(script, sink) {
			t.Errorf("viewer.js uses %s: every value of an event must reach the page as text", sink)
		}
	}
}

func readEmbedded(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(viewerFiles, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
