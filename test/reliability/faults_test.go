//lint:file-ignore SA1019 CreateAgents is deprecated but still a Client method: it must hold under faults too.

package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// The fault tests call every Client method (operations) under every fault
// a server or network may show (faults), each case on a fake of its own,
// and check what the call ended with, how long it took, and what the fake
// did.

// operation is one Client method as the fault tests call it.
type operation struct {
	name   string
	method string // POST is never retried once Talkdesk may have acted...
	// ...unless readOnly: a POST that only reads (GetUserStatuses) is
	// retried like a GET.
	readOnly bool
	// creates is what the fake's Acted counts for it; "" for reads and
	// for updates that may be repeated.
	creates talkdesktest.Operation
	// reads says the method decodes a JSON answer; noContent that the
	// answer is 204 No Content.
	reads, noContent bool
	call             func(ctx context.Context, c *talkdesk.Client, fx *fixture) error
}

// fixture is what a case starts from: a fake with a contact, a user, a
// custom status, a presence subscription and a webhook subscription.
type fixture struct {
	srv               *talkdesktest.Server
	contactID, userID string
	subscriptionID    string
	seq               atomic.Int64 // makes the e-mails of creates unique
	transports        []*http.Transport
	transportsMu      sync.Mutex
	actedBefore       map[talkdesktest.Operation]int
}

const fixtureEmail = "ada@example.com"

var operations = []operation{
	{name: "GetContact", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetContact(ctx, fx.contactID)
		return err
	}},
	{name: "CreateCallback", method: "POST", creates: talkdesktest.OpCreateCallback, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		return c.CreateCallback(ctx, &talkdesk.CallbackRequest{TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+351912345678"})
	}},
	{name: "GetUserByEmail", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetUserByEmail(ctx, fixtureEmail)
		return err
	}},
	{name: "CreateUser", method: "POST", creates: talkdesktest.OpCreateUser, reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.CreateUser(ctx, &talkdesk.NewUser{UserName: fx.email("user"), GivenName: "Grace", FamilyName: "Hopper", Active: true})
		return err
	}},
	{name: "CreateAgents", method: "POST", creates: talkdesktest.OpCreateAgent, reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.CreateAgents(ctx, talkdesk.NewAgent{Email: fx.email("agent"), FullName: "Alan Turing", Role: talkdesk.RoleAgent})
		return err
	}},
	{name: "UpdateUserStatus", method: "PUT", noContent: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		return c.UpdateUserStatus(ctx, fx.userID, "", talkdesktest.StatusAvailable)
	}},
	{name: "GetUserStatuses", method: "POST", readOnly: true, reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetUserStatuses(ctx, fx.userID)
		return err
	}},
	{name: "ListCustomStatuses", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.ListCustomStatuses(ctx)
		return err
	}},
	{name: "GetUserPresence", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetUserPresence(ctx, fx.userID)
		return err
	}},
	{name: "SubscribePresence", method: "POST", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.SubscribePresence(ctx)
		return err
	}},
	{name: "CreateWorkspaceNotification", method: "POST", creates: talkdesktest.OpCreateWorkspaceNotification, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		return c.CreateWorkspaceNotification(ctx, talkdesk.NotificationEmail, map[string]any{"to": fixtureEmail, "subject": "Missed call"})
	}},
	{name: "GetNotificationSchema", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetNotificationSchema(ctx, talkdesk.NotificationEmail)
		return err
	}},
	{name: "GetListSchema", method: "GET", reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.GetListSchema(ctx, string(talkdesk.NotificationPush))
		return err
	}},
	{name: "Subscribe", method: "POST", creates: talkdesktest.OpSubscribe, reads: true, call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		_, err := c.Subscribe(ctx, talkdesk.TriggerInboundCallEnds, "https://hooks.example.com/td?token="+fx.email("hook"))
		return err
	}},
	{name: "Unsubscribe", method: "DELETE", call: func(ctx context.Context, c *talkdesk.Client, fx *fixture) error {
		return c.Unsubscribe(ctx, talkdesk.TriggerContactCreated, fx.subscriptionID)
	}},
}

// newFixture starts a fake and seeds it, partly through a Client of its
// own (made with setupOpts), so that every operation can succeed on it.
func newFixture(t *testing.T, setupOpts ...talkdesk.Option) *fixture {
	t.Helper()
	srv := talkdesktest.NewServer()
	t.Cleanup(srv.Close)
	fx := &fixture{srv: srv, actedBefore: map[talkdesktest.Operation]int{}}
	fx.contactID = srv.AddContact(talkdesk.Contact{Name: "Ada Lovelace"}).ID
	fx.userID = srv.AddUser(talkdesk.User{Email: fixtureEmail, Name: "Ada Lovelace", Active: true}).ID
	srv.AddCustomStatus(talkdesk.CustomStatus{ID: "lunch", DisplayName: "Lunch"})

	setup := fx.client(t, setupOpts...)
	ctx := context.Background()
	if _, err := setup.SubscribePresence(ctx); err != nil {
		t.Fatalf("setup: %v", err)
	}
	sub, err := setup.Subscribe(ctx, talkdesk.TriggerContactCreated, "https://hooks.example.com/contacts")
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	fx.subscriptionID = sub.ID
	for _, op := range operations {
		if op.creates != "" {
			fx.actedBefore[op.creates] = srv.Acted(op.creates)
		}
	}
	return fx
}

// client returns a Client of the fixture's fake with an HTTP transport of
// its own, no throttle and millisecond backoffs. opts come last.
func (fx *fixture) client(t *testing.T, opts ...talkdesk.Option) *talkdesk.Client {
	t.Helper()
	tr := &http.Transport{}
	fx.transportsMu.Lock()
	fx.transports = append(fx.transports, tr)
	fx.transportsMu.Unlock()
	all := append(fx.srv.ClientOptions(),
		talkdesk.WithRateLimit(0, 0),
		talkdesk.WithHTTPClient(&http.Client{Transport: tr}),
		talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	c, err := talkdesk.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// warmClient returns a client as client does. Unless fc is a fault of the
// token endpoint, it has fetched its token and opened its connection, so
// that the call under the fault starts with the API request: a call held
// until a short deadline surely reaches the fault.
func (fx *fixture) warmClient(t *testing.T, fc faultCase) *talkdesk.Client {
	t.Helper()
	c := fx.client(t)
	if fc.fault.Path != talkdesktest.TokenPath {
		if _, err := c.ListCustomStatuses(context.Background()); err != nil {
			t.Fatalf("warming up: %v", err)
		}
	}
	return c
}

// closeIdle closes the idle connections of every Client of the fixture.
func (fx *fixture) closeIdle() {
	fx.transportsMu.Lock()
	defer fx.transportsMu.Unlock()
	for _, tr := range fx.transports {
		tr.CloseIdleConnections()
	}
}

// email returns a new unique address.
func (fx *fixture) email(kind string) string {
	return fmt.Sprintf("%s%d@example.com", kind, fx.seq.Add(1))
}

// acted returns how often op acted since the fixture was set up.
func (fx *fixture) acted(op talkdesktest.Operation) int {
	return fx.srv.Acted(op) - fx.actedBefore[op]
}

// outcome is how a call ended.
type outcome int

const (
	succeeded   outcome = iota
	apiFailed           // an *APIError; want.status says which
	tokenFailed         // a *TokenError
	timedOut            // the caller's deadline: context.DeadlineExceeded
	connFailed          // the connection failed or was cut: a net.Error, io.EOF or io.ErrUnexpectedEOF
	undecodable         // a 2xx answer that is not JSON: a *json.SyntaxError
	tooLarge            // a 2xx answer over the Client's size limit
)

func (o outcome) String() string {
	return [...]string{"success", "APIError", "TokenError", "deadline", "connection error", "JSON syntax error", "too large"}[o]
}

// want is an expected outcome.
type want struct {
	outcome
	status int // of the APIError
}

func (w want) String() string {
	if w.outcome == apiFailed {
		return fmt.Sprintf("APIError %d", w.status)
	}
	return w.outcome.String()
}

// classify says which outcome err is, or explains why it is none: an
// error a caller cannot match to a type or sentinel.
func classify(err error) (want, error) {
	var apiErr *talkdesk.APIError
	var tokenErr *talkdesk.TokenError
	var syntaxErr *json.SyntaxError
	var netErr net.Error
	switch {
	case err == nil:
		return want{outcome: succeeded}, nil
	case !strings.HasPrefix(err.Error(), "talkdesk: "):
		return want{}, fmt.Errorf("error %q does not say it comes from talkdesk", err)
	case errors.As(err, &apiErr):
		return want{apiFailed, apiErr.StatusCode}, nil
	case errors.As(err, &tokenErr):
		return want{outcome: tokenFailed}, nil
	case errors.Is(err, context.DeadlineExceeded):
		return want{outcome: timedOut}, nil
	case errors.Is(err, talkdesk.ErrResponseTooLarge):
		return want{outcome: tooLarge}, nil
	case errors.As(err, &syntaxErr):
		return want{outcome: undecodable}, nil
	case errors.As(err, &netErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return want{outcome: connFailed}, nil
	}
	return want{}, fmt.Errorf("error %q (%T) matches no type or sentinel a caller can test", err, err)
}

// faultCase is a fault and what each operation should end with under it.
type faultCase struct {
	name  string
	fault talkdesktest.Fault
	// held says the fault holds the call until its deadline, which is
	// then short.
	held bool
	want func(op operation) want
}

func always(w want) func(operation) want { return func(operation) want { return w } }

// mayAct reports whether Talkdesk may act on op's request, so that it is
// not retried once sent: a POST that does not only read.
func (op operation) mayAct() bool { return op.method == "POST" && !op.readOnly }

// retried: idempotent calls retry past a transient fault; POSTs, which
// Talkdesk may have acted on, end with w.
func retried(w want) func(operation) want {
	return func(op operation) want {
		if op.mayAct() {
			return w
		}
		return want{outcome: succeeded}
	}
}

// retriedAfterAct: as retried, but the fake acted on the first request.
// A repeated DELETE finds nothing to delete: its 404 means what the caller
// asked for is done, a success.
func retriedAfterAct(w want) func(operation) want {
	return func(op operation) want {
		if op.mayAct() {
			return w
		}
		return want{outcome: succeeded}
	}
}

// damagedAnswer: a 2xx answer that is cut short or too long fails the
// calls that read it.
func damagedAnswer(w want) func(operation) want {
	return func(op operation) want {
		if op.noContent || w.outcome == undecodable && !op.reads {
			return want{outcome: succeeded}
		}
		return w
	}
}

var (
	ok         = want{outcome: succeeded}
	conn       = want{outcome: connFailed}
	deadline   = want{outcome: timedOut}
	tokenError = want{outcome: tokenFailed}
)

func api(status int) want { return want{apiFailed, status} }

// retryAfter is a Retry-After header of n seconds.
func retryAfter(n string) http.Header { return http.Header{"Retry-After": {n}} }

var faultCases = []faultCase{
	{name: "latency", fault: talkdesktest.Fault{Kind: talkdesktest.FaultServe, Delay: 20 * time.Millisecond}, want: always(ok)},
	{name: "500 once", fault: talkdesktest.Fault{Status: 500, Count: 1}, want: retried(api(500))},
	{name: "502 twice", fault: talkdesktest.Fault{Status: 502, Count: 2}, want: retried(api(502))},
	{name: "503 twice with Retry-After", fault: talkdesktest.Fault{Status: 503, Count: 2, Header: retryAfter("0.005")}, want: retried(api(503))},
	{name: "500 always", fault: talkdesktest.Fault{Status: 500}, want: always(api(500))},
	{name: "HTML 502 page labelled JSON", fault: talkdesktest.Fault{Status: 502, Header: http.Header{"Content-Type": {"application/json"}}, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"}, want: always(api(502))},
	{name: "429 twice", fault: talkdesktest.Fault{Status: 429, Count: 2}, want: always(ok)},
	{name: "429 twice with Retry-After", fault: talkdesktest.Fault{Status: 429, Count: 2, Header: retryAfter("0.005")}, want: always(ok)},
	{name: "429 with Retry-After past the deadline", fault: talkdesktest.Fault{Status: 429, Count: 1, Header: retryAfter("3600")}, want: always(api(429))},
	{name: "429 always", fault: talkdesktest.Fault{Status: 429}, want: always(api(429))},
	{name: "401 once", fault: talkdesktest.Fault{Kind: talkdesktest.FaultBadToken, Count: 1}, want: always(ok)},
	{name: "dropped once", fault: talkdesktest.Fault{Kind: talkdesktest.FaultDrop, Count: 1}, want: retried(conn)},
	{name: "dropped always", fault: talkdesktest.Fault{Kind: talkdesktest.FaultDrop}, want: always(conn)},
	{name: "error body cut once", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, Status: 503, Count: 1}, want: retried(api(503))},
	{name: "429 with its body cut", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, Status: 429, Count: 1}, want: always(ok)},
	{name: "401 with its body cut", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, Status: 401, Count: 1}, want: always(ok)},
	{name: "error body truncated once", fault: talkdesktest.Fault{Kind: talkdesktest.FaultTruncate, Status: 503, Count: 1}, want: retried(api(503))},
	{name: "error body oversized once", fault: talkdesktest.Fault{Kind: talkdesktest.FaultOversize, Status: 503, Count: 1}, want: retried(api(503))},
	{name: "stall", fault: talkdesktest.Fault{Kind: talkdesktest.FaultStall}, held: true, want: always(deadline)},
	{name: "slower than the deadline", fault: talkdesktest.Fault{Kind: talkdesktest.FaultServe, Delay: time.Hour}, held: true, want: always(deadline)},

	{name: "500 after acting", fault: talkdesktest.Fault{Status: 500, Count: 1, AfterAct: true}, want: retriedAfterAct(api(500))},
	{name: "dropped after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultDrop, Count: 1, AfterAct: true}, want: retriedAfterAct(conn)},
	{name: "body cut after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, Count: 1, AfterAct: true}, want: retriedAfterAct(conn)},
	{name: "answer truncated after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultTruncate, Count: 1, AfterAct: true}, want: damagedAnswer(want{outcome: undecodable})},
	{name: "answer oversized after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultOversize, Count: 1, AfterAct: true}, want: damagedAnswer(want{outcome: tooLarge})},
	{name: "stall after acting", fault: talkdesktest.Fault{Kind: talkdesktest.FaultStall, AfterAct: true}, held: true, want: always(deadline)},

	{name: "token endpoint 503 twice", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: 503, Count: 2}, want: always(ok)},
	{name: "token endpoint 500 always", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: 500}, want: always(tokenError)},
	{name: "token endpoint refuses the client", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: 401, Body: `{"error":"invalid_client","error_description":"Client authentication failed"}`, Header: http.Header{"Content-Type": {"application/json"}}}, want: always(tokenError)},
	{name: "token endpoint slow", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultServe, Delay: 20 * time.Millisecond}, want: always(ok)},
	{name: "token endpoint drops once", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultDrop, Count: 1}, want: always(ok)},
	{name: "token endpoint drops always", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultDrop}, want: always(tokenError)},
	{name: "token answer truncated", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultTruncate, AfterAct: true}, want: always(tokenError)},
	{name: "token endpoint stalls", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultStall}, held: true, want: always(deadline)},
	{name: "token rejected by the API once", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultBadToken, Count: 1}, want: always(ok)},
	{name: "tokens rejected by the API always", fault: talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultBadToken}, want: always(api(401))},
}

// Deadlines of the calls: a held call can only end at its deadline, so it
// gets a short one; every other call should end long before its own.
const (
	heldDeadline = 500 * time.Millisecond
	callDeadline = 20 * time.Second
	// hangAfter is how long past its deadline a call may take to return
	// before the test calls it hung.
	hangAfter = 5 * time.Second
)

// result is how one call under one fault ended.
type result struct {
	err     error
	elapsed time.Duration
	hung    bool
	panic   any
}

// run calls op with a deadline and returns how it ended. A call that has
// not returned hangAfter past its deadline is reported as hung and left
// behind.
func run(op operation, c *talkdesk.Client, fx *fixture, timeout time.Duration) result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		var r result
		defer func() {
			r.panic = recover()
			r.elapsed = time.Since(start)
			done <- r
		}()
		r.err = op.call(ctx, c, fx)
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(timeout + hangAfter):
		return result{hung: true, elapsed: time.Since(start)}
	}
}

// forEachCase calls f for every operation under every fault, each on a
// fixture of its own, from 8 goroutines.
func forEachCase(t *testing.T, ops []operation, f func(op operation, fc faultCase)) {
	t.Helper()
	type job struct {
		op operation
		fc faultCase
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				f(j.op, j.fc)
			}
		})
	}
	for _, fc := range faultCases {
		for _, op := range ops {
			jobs <- job{op, fc}
		}
	}
	close(jobs)
	wg.Wait()
}

// TestEveryOperationUnderEveryFault calls every Client method under every
// fault of faultCases: each call ends with success or an error a caller can
// match (an *APIError, a *TokenError, the context's error, a connection
// error, a JSON syntax error, ErrResponseTooLarge), the one that the fault
// calls for, within its deadline, without a panic; and creates act exactly
// once when the call succeeded or the fault acted, never otherwise.
func TestEveryOperationUnderEveryFault(t *testing.T) {
	var calls, faulted atomic.Int64
	start := time.Now()
	forEachCase(t, operations, func(op operation, fc faultCase) {
		name := op.name + " under " + fc.name
		fx := newFixture(t)
		c := fx.warmClient(t, fc)
		defer fx.closeIdle()
		fx.srv.InjectFault(fc.fault)
		timeout := callDeadline
		if fc.held {
			timeout = heldDeadline
		}
		r := run(op, c, fx, timeout)
		calls.Add(1)
		switch {
		case r.hung:
			t.Errorf("%s: still running %v after its deadline", name, hangAfter)
			return
		case r.panic != nil:
			t.Errorf("%s: panic: %v", name, r.panic)
			return
		case r.elapsed > timeout+2*time.Second:
			t.Errorf("%s: returned %v after its deadline of %v", name, r.elapsed-timeout, timeout)
		}
		got, err := classify(r.err)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		if w := fc.want(op); got != w {
			t.Errorf("%s: %v (%v), want %v", name, got, r.err, w)
		}
		n := 0
		for _, req := range fx.srv.Requests() {
			if req.Fault != nil {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s: the fault answered no request", name)
		}
		faulted.Add(int64(n))
		if op.creates != "" {
			wantActed := 0
			if got.outcome == succeeded || fc.fault.AfterAct && fc.fault.Path != talkdesktest.TokenPath {
				wantActed = 1
			}
			if n := fx.acted(op.creates); n != wantActed {
				t.Errorf("%s: the fake acted %d times, want %d", name, n, wantActed)
			}
		}
	})
	t.Logf("%d calls (%d operations x %d faults), %d requests answered by a fault, in %v",
		calls.Load(), len(operations), len(faultCases), faulted.Load(), time.Since(start).Round(time.Millisecond))
}

// TestCreatesAreNeverDuplicated makes two calls of each operation that
// creates something, one after the other on one fake, under each fault
// (injected anew before each call), and counts after every call what the
// fake acted on: never more than once per call, whatever the fault.
func TestCreatesAreNeverDuplicated(t *testing.T) {
	var creates []operation
	for _, op := range operations {
		if op.creates != "" {
			creates = append(creates, op)
		}
	}
	const callsPerCase = 2
	var calls, acted atomic.Int64
	forEachCase(t, creates, func(op operation, fc faultCase) {
		name := op.name + " under " + fc.name
		fx := newFixture(t)
		c := fx.warmClient(t, fc)
		defer fx.closeIdle()
		for i := range callsPerCase {
			fx.srv.ClearFaults()
			fx.srv.InjectFault(fc.fault)
			before := fx.acted(op.creates)
			timeout := callDeadline
			if fc.held {
				timeout = heldDeadline
			}
			r := run(op, c, fx, timeout)
			if r.hung {
				t.Errorf("%s: call %d hung", name, i+1)
				return
			}
			calls.Add(1)
			if n := fx.acted(op.creates) - before; n > 1 {
				t.Errorf("%s: call %d (%v) acted %d times", name, i+1, r.err, n)
			}
		}
		acted.Add(int64(fx.acted(op.creates)))
	})
	t.Logf("%d calls of %d creating operations under %d faults: the fake acted %d times", calls.Load(), len(creates), len(faultCases), acted.Load())
}

// goroutineDump returns the stacks of every goroutine, for a failure message.
func goroutineDump() string {
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	return b.String()
}

// TestNoGoroutineOutlivesItsCall makes every operation under every fault
// on one shared fake and Client, 15 calls at a time, then closes the
// Client's idle connections: the goroutine count must come back to what it
// was before the calls, with the fake still running (a handler the client
// abandoned has ended) and once the fake is closed.
func TestNoGoroutineOutlivesItsCall(t *testing.T) {
	before := runtime.NumGoroutine()
	fx := newFixture(t)
	c := fx.client(t)
	fx.closeIdle() // the setup Client's connections
	baseline := settleGoroutines(runtime.NumGoroutine())

	calls := 0
	start := time.Now()
	for _, fc := range faultCases {
		fx.srv.InjectFault(fc.fault)
		var wg sync.WaitGroup
		for _, op := range operations {
			wg.Go(func() {
				timeout := 100 * time.Millisecond
				if !fc.held {
					timeout = callDeadline
				}
				if r := run(op, c, fx, timeout); r.hung || r.panic != nil {
					t.Errorf("%s under %s: hung %v, panic %v", op.name, fc.name, r.hung, r.panic)
				}
			})
			calls++
		}
		wg.Wait()
		fx.srv.ClearFaults()
	}
	storm := time.Since(start)
	peak := runtime.NumGoroutine()

	fx.closeIdle()
	after := settleGoroutines(baseline)
	if after > baseline {
		t.Errorf("%d goroutines after the calls, %d before them:\n%s", after, baseline, goroutineDump())
	}
	fx.srv.Close()
	closed := settleGoroutines(before)
	if closed > before {
		t.Errorf("%d goroutines after closing the fake, %d before it started:\n%s", closed, before, goroutineDump())
	}
	t.Logf("%d calls in %v; goroutines: %d before the fake, %d with the fake and Client, %d right after the storm, %d after CloseIdleConnections, %d after closing the fake",
		calls, storm.Round(time.Millisecond), before, baseline, peak, after, closed)
}

// settleGoroutines waits, up to 10 seconds, for the goroutine count to fall
// to at most want (goroutines end a little after the connections they
// serve close), and returns the last count.
func settleGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(10 * time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}
