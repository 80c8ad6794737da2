package talkdesktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// callbackBody is a CreateCallback request the fake accepts; callbackAnswer
// is what it answers on success.
const (
	callbackBody   = `{"talkdesk_phone_number":"+14155550100","contact_phone_number":"+351912345678"}`
	callbackAnswer = `{"code":true}` + "\n"
)

// errorAnswer is the body a Fault without Body answers with status.
func errorAnswer(status int) string {
	b, _ := json.Marshal(map[string]string{"code": "injected_fault", "message": http.StatusText(status)})
	return string(b)
}

// rawResult is what a raw request got.
type rawResult struct {
	err     error // from Do
	status  int
	header  http.Header
	body    []byte
	readErr error
}

// postCallback sends callbackBody to POST /calls/callback with a fresh
// transport, so that a dropped connection touches no other test.
func postCallback(t *testing.T, ctx context.Context, srv *talkdesktest.Server, token string) rawResult {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/calls/callback", strings.NewReader(callbackBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return rawResult{err: err}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(resp.Body)
	return rawResult{status: resp.StatusCode, header: resp.Header, body: body, readErr: readErr}
}

func TestFaultKinds(t *testing.T) {
	json500 := errorAnswer(500)
	for _, tt := range []struct {
		name    string
		fault   talkdesktest.Fault
		status  int    // 0: Do fails
		body    string // what the client reads
		readErr error  // what reading the body ends with
		length  int64  // the Content-Length, when it is not len(body)
		acted   int
	}{
		{name: "respond", fault: talkdesktest.Fault{}, status: 500, body: json500},
		{name: "respond with its own page", fault: talkdesktest.Fault{Status: 502, Body: "<html>Bad gateway</html>", Header: http.Header{"Content-Type": {"application/json"}}}, status: 502, body: "<html>Bad gateway</html>"},
		{name: "respond after acting", fault: talkdesktest.Fault{Status: 503, AfterAct: true}, status: 503, body: errorAnswer(503), acted: 1},
		{name: "serve", fault: talkdesktest.Fault{Kind: talkdesktest.FaultServe}, status: 200, body: callbackAnswer, acted: 1},
		{name: "drop", fault: talkdesktest.Fault{Kind: talkdesktest.FaultDrop}},
		{name: "drop after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultDrop, AfterAct: true}, acted: 1},
		{name: "cut body", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody}, status: 500, body: json500[:len(json500)/2], readErr: io.ErrUnexpectedEOF, length: int64(len(json500))},
		{name: "cut body after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, AfterAct: true}, status: 200, body: callbackAnswer[:7], readErr: io.ErrUnexpectedEOF, length: int64(len(callbackAnswer)), acted: 1},
		{name: "truncate", fault: talkdesktest.Fault{Kind: talkdesktest.FaultTruncate, Status: 200}, status: 200, body: errorAnswer(200)[:len(errorAnswer(200))/2]},
		{name: "truncate after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultTruncate, AfterAct: true}, status: 200, body: callbackAnswer[:7], acted: 1},
		{name: "oversize", fault: talkdesktest.Fault{Kind: talkdesktest.FaultOversize}, status: 500, body: strings.Repeat(" ", talkdesktest.OversizeBytes) + json500},
		{name: "oversize after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultOversize, AfterAct: true}, status: 200, body: strings.Repeat(" ", talkdesktest.OversizeBytes) + callbackAnswer, acted: 1},
		{name: "stall", fault: talkdesktest.Fault{Kind: talkdesktest.FaultStall}},
		{name: "stall after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultStall, AfterAct: true}, acted: 1},
		{name: "bad token on an API route", fault: talkdesktest.Fault{Kind: talkdesktest.FaultBadToken}, status: 401, body: `{"code":"unauthorized","message":"Invalid or expired access token"}` + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			token := accessToken(t, srv)
			tt.fault.Header = http.Header{"X-Injected": {"1"}, "Content-Type": tt.fault.Header["Content-Type"]}
			srv.InjectFault(tt.fault)
			// A stall ends only with the deadline, so it is short there; the
			// other answers get all the time they need (an oversized one is
			// over 10 MiB, slow to read under -race).
			wait := time.Minute
			if tt.fault.Kind == talkdesktest.FaultStall {
				wait = 200 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			got := postCallback(t, ctx, srv, token)

			if tt.status == 0 {
				if got.err == nil {
					t.Fatalf("Do: answer %d, want the connection to fail", got.status)
				}
			} else {
				if got.err != nil {
					t.Fatalf("Do: %v", got.err)
				}
				if got.status != tt.status || string(got.body) != tt.body || !errors.Is(got.readErr, tt.readErr) {
					t.Errorf("got %d %.80q (read error %v), want %d %.80q (read error %v)", got.status, got.body, got.readErr, tt.status, tt.body, tt.readErr)
				}
				if got.header.Get("X-Injected") != "1" {
					t.Errorf("answer without the Fault's Header: %v", got.header)
				}
				if want := max(tt.length, int64(len(tt.body))); got.header.Get("Content-Length") != itoa(want) {
					t.Errorf("Content-Length %q, want %d", got.header.Get("Content-Length"), want)
				}
			}
			if tt.fault.Kind == talkdesktest.FaultOversize && !json.Valid(got.body) {
				t.Error("an oversized answer is not valid JSON")
			}
			if n := srv.Acted(talkdesktest.OpCreateCallback); n != tt.acted {
				t.Errorf("Acted = %d, want %d", n, tt.acted)
			}
			if n := len(srv.Callbacks()); n != tt.acted {
				t.Errorf("%d callbacks stored, want %d", n, tt.acted)
			}
			// The request is recorded with the status it got and its fault.
			recorded := recorded(t, srv, "/calls/callback", tt.status != 0)
			if recorded.Fault == nil || recorded.Fault.Kind != tt.fault.Kind {
				t.Errorf("recorded Fault %+v, want one of kind %v", recorded.Fault, tt.fault.Kind)
			}
			if recorded.Status != tt.status {
				t.Errorf("recorded Status %d, want %d", recorded.Status, tt.status)
			}
		})
	}
}

// recorded returns the one request to path, once it has a Status when
// answered is set: the client may see the answer before the Server has
// recorded its status.
func recorded(t *testing.T, srv *talkdesktest.Server, path string, answered bool) talkdesktest.Request {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		var found []talkdesktest.Request
		for _, r := range srv.Requests() {
			if r.Path == path {
				found = append(found, r)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d requests to %s recorded, want 1", len(found), path)
		}
		if !answered || found[0].Status != 0 || time.Now().After(deadline) {
			return found[0]
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFaultMatching(t *testing.T) {
	srv := newServer(t)
	token := accessToken(t, srv)
	srv.InjectFault(talkdesktest.Fault{Method: "GET", Status: 418, Count: 1})
	srv.InjectFault(talkdesktest.Fault{Path: "/calls/callback", Status: 502, Count: 2})
	srv.InjectFault(talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: 503, Count: 1})

	var statuses []int
	for range 3 {
		statuses = append(statuses, postCallback(t, context.Background(), srv, token).status)
	}
	if diff := cmp.Diff([]int{502, 502, 200}, statuses); diff != "" {
		t.Errorf("POST statuses (-want +got):\n%s", diff)
	}
	id, secret := srv.Credentials()
	if status, _ := post(t, srv, id, secret, map[string][]string{"grant_type": {"client_credentials"}}); status != 503 {
		t.Errorf("token endpoint under a TokenPath fault: %d, want 503", status)
	}
	if status, _ := get(t, srv, "/contacts/none", token); status != 418 {
		t.Errorf("GET under a fault for every GET: %d, want 418", status)
	}
	if status, _ := get(t, srv, "/contacts/none", token); status != 404 {
		t.Errorf("GET once the fault is spent: %d, want 404", status)
	}
}

func TestDelay(t *testing.T) {
	srv := newServer(t)
	token := accessToken(t, srv)
	srv.InjectFault(talkdesktest.Fault{Kind: talkdesktest.FaultServe, Delay: 50 * time.Millisecond, Count: 1})
	start := time.Now()
	got := postCallback(t, context.Background(), srv, token)
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("answered after %v, before the Delay of 50ms", elapsed)
	}
	if got.status != 200 || srv.Acted(talkdesktest.OpCreateCallback) != 1 {
		t.Errorf("delayed request: %d, Acted %d; want 200 and 1", got.status, srv.Acted(talkdesktest.OpCreateCallback))
	}

	// A delayed AfterAct fault waits before acting: a client that gives up
	// first leaves nothing done.
	srv.InjectFault(talkdesktest.Fault{Delay: time.Hour, AfterAct: true, Count: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if got := postCallback(t, ctx, srv, token); !errors.Is(got.err, context.DeadlineExceeded) {
		t.Errorf("request delayed for an hour: %v, want the client's deadline", got.err)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 1 {
		t.Errorf("Acted = %d after a request abandoned during its delay, want 1 (the first one)", n)
	}
}

// TestHeldRequestsEndWithTheClient checks that a delayed or stalled request
// ends when its client goes away: no handler goroutine is left.
func TestHeldRequestsEndWithTheClient(t *testing.T) {
	for _, f := range []talkdesktest.Fault{
		{Kind: talkdesktest.FaultStall},
		{Kind: talkdesktest.FaultStall, AfterAct: true},
		{Kind: talkdesktest.FaultServe, Delay: time.Hour},
	} {
		srv := newServer(t)
		token := accessToken(t, srv)
		baseline := runtime.NumGoroutine()
		srv.InjectFault(f)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		got := postCallback(t, ctx, srv, token)
		cancel()
		if !errors.Is(got.err, context.DeadlineExceeded) {
			t.Errorf("%v: %v, want the client's deadline", f.Kind, got.err)
		}
		if n := settle(baseline); n > baseline {
			t.Errorf("%v (AfterAct %v): %d goroutines after the client left, want at most %d (the handler is still waiting)", f.Kind, f.AfterAct, n, baseline)
		}
	}
}

// settle waits up to 5 seconds for the goroutine count to fall to at most
// want and returns it.
func settle(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(5 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(5 * time.Millisecond)
	}
	return n
}

func TestCloseEndsStalledRequests(t *testing.T) {
	srv := talkdesktest.NewServer()
	token := accessToken(t, srv)
	srv.InjectFault(talkdesktest.Fault{Kind: talkdesktest.FaultStall})
	srv.InjectFault(talkdesktest.Fault{Kind: talkdesktest.FaultServe, Delay: time.Hour})
	errs := make(chan error, 2)
	for range 2 {
		go func() { errs <- postCallback(t, context.Background(), srv, token).err }()
	}
	for deadline := time.Now().Add(5 * time.Second); len(srv.Requests()) < 3 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // until both requests are held
	}
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits for held requests after 10s")
	}
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a request held when the Server closed got an answer")
		}
	}
}

func TestBadTokenFromTheTokenEndpoint(t *testing.T) {
	srv := newServer(t)
	srv.InjectFault(talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultBadToken, Count: 1})
	bad := accessToken(t, srv)
	if !strings.HasPrefix(bad, "at-") {
		t.Errorf("bad token %q does not look like the fake's tokens", bad)
	}
	if status, _ := get(t, srv, "/contacts/none", bad); status != 401 {
		t.Errorf("API with the bad token: %d, want 401", status)
	}
	if status, _ := get(t, srv, "/contacts/none", accessToken(t, srv)); status != 404 {
		t.Errorf("API with the next token: %d, want 404 (accepted, no such contact)", status)
	}
}

func TestMaxInWindow(t *testing.T) {
	srv := newServer(t)
	token := accessToken(t, srv)
	for i := range 12 {
		get(t, srv, "/contacts/none", token)
		if i%4 == 3 {
			time.Sleep(3 * time.Millisecond)
		}
	}
	postCallback(t, context.Background(), srv, token)

	// Against a count of every window, from the recorded arrival times.
	var times []time.Time
	for _, r := range srv.Requests() {
		if r.Method == "GET" {
			times = append(times, r.Time)
		}
	}
	if len(times) != 12 {
		t.Fatalf("%d GETs recorded, want 12", len(times))
	}
	for i := 1; i < len(times); i++ {
		if times[i].Before(times[i-1]) {
			t.Fatalf("Requests out of arrival order: %v before %v", times[i-1], times[i])
		}
	}
	for _, window := range []time.Duration{time.Nanosecond, times[3].Sub(times[0]), times[4].Sub(times[0]) + 1, times[11].Sub(times[2]), time.Hour} {
		want := 0
		for _, start := range times {
			n := 0
			for _, at := range times {
				if !at.Before(start) && at.Sub(start) < window {
					n++
				}
			}
			want = max(want, n)
		}
		if got := srv.MaxInWindow("GET", "/contacts/none", window); got != want {
			t.Errorf("MaxInWindow(GET, %v) = %d, want %d", window, got, want)
		}
	}
	if got := srv.MaxInWindow("", "", time.Hour); got != 13 {
		t.Errorf("MaxInWindow of every API route = %d, want 13 (not the token request)", got)
	}
	if got := srv.MaxInWindow("POST", talkdesktest.TokenPath, time.Hour); got != 1 {
		t.Errorf("MaxInWindow of the token endpoint = %d, want 1", got)
	}
}

func TestFaultKindString(t *testing.T) {
	if s := talkdesktest.FaultCutBody.String(); s != "FaultCutBody" {
		t.Errorf("FaultCutBody.String() = %q", s)
	}
	if s := talkdesktest.FaultKind(99).String(); s != "FaultKind(99)" {
		t.Errorf("FaultKind(99).String() = %q", s)
	}
}

func TestActedCountsSubscriptions(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv)
	ctx := context.Background()
	for _, trigger := range []talkdesk.Trigger{talkdesk.TriggerAgentLogIn, talkdesk.TriggerContactCreated} {
		sub, err := c.Subscribe(ctx, trigger, "https://hooks.example.com/"+string(trigger))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Unsubscribe(ctx, trigger, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Refused subscriptions did nothing.
	if status, _ := send(t, srv, "POST", "/webhooks/triggers/agentLogIn", "application/json", `{"title":"no callback"}`, nil); status != 400 {
		t.Errorf("subscription without a callback URL: %d, want 400", status)
	}
	srv.InjectFault(talkdesktest.Fault{Status: 503, Count: 1})
	if _, err := c.Subscribe(ctx, talkdesk.TriggerAgentLogIn, "https://hooks.example.com/x"); err == nil {
		t.Error("Subscribe under a 503 succeeded")
	}
	if n := srv.Acted(talkdesktest.OpSubscribe); n != 2 {
		t.Errorf("Acted(OpSubscribe) = %d, want 2", n)
	}
}
