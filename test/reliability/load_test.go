package reliability_test

import (
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// stormFaults are the faults of the load test: every fault of faultCases
// that ends by itself (no stall, no hour-long delay), and no oversized
// body (10 MiB each would make the run about memory, not concurrency).
var stormFaults = []talkdesktest.Fault{
	{Status: 500},
	{Status: 502},
	{Status: 503, Header: retryAfter("0.01")},
	{Status: 429},
	{Status: 429, Header: retryAfter("0.01")},
	{Status: 502, Header: http.Header{"Content-Type": {"application/json"}}, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
	{Kind: talkdesktest.FaultBadToken},
	{Kind: talkdesktest.FaultDrop},
	{Kind: talkdesktest.FaultCutBody, Status: 503},
	{Kind: talkdesktest.FaultTruncate, Status: 503},
	{Kind: talkdesktest.FaultServe, Delay: 5 * time.Millisecond},
	{Status: 500, AfterAct: true},
	{Kind: talkdesktest.FaultDrop, AfterAct: true},
	{Kind: talkdesktest.FaultCutBody, AfterAct: true},
	{Kind: talkdesktest.FaultTruncate, AfterAct: true},
}

// TestSharedClientUnderLoad shares one Client among 64 goroutines for 5,000
// calls of every operation in turn, with a fault injected before every
// tenth call (it answers whichever request comes next). It checks that
// every call ends in success or a typed error, that no call failed but by
// a fault (its own request's, or a kept-alive connection a fault closed,
// or an Unsubscribe of a subscription already gone), that no
// create acted more often than it was called or less often than it
// succeeded, and that the throttle held: every request that reached the
// fake, retries and net/http's own replays included, waited on the
// limiter, and no more than its limit arrived in any window of half its
// length.
//
// The throttle is 500 per 500 ms, so 5,000 calls (and their retries) take
// at least 5 seconds; under the race detector the run is scaled down to
// 2,000 calls. Arrival times at the fake lag the starts the limiter allows
// by a loopback and scheduling delay that, with 64 goroutines on a busy
// 2-core machine, reaches tens of milliseconds and more; so windows are
// counted at half the limiter's (250 ms). That still catches a missing
// throttle (about 1,000 arrivals a second otherwise) and a token bucket
// of burst and rate 500 per 500 ms (750 in its first 250 ms).
func TestSharedClientUnderLoad(t *testing.T) {
	calls := 5000
	if raceEnabled {
		calls = 2000
	}
	if s := os.Getenv("TALKDESK_LOAD_CALLS"); s != "" {
		calls, _ = strconv.Atoi(s) // for longer runs by hand
	}
	const (
		goroutines = 64
		limit, per = 500, 500 * time.Millisecond
		slack      = per / 2
	)
	wl, err := talkdesk.NewWindowLimiter(limit, per)
	if err != nil {
		t.Fatal(err)
	}
	limiter := &testkit.CountingLimiter{Limiter: wl}
	fx := newFixture(t, talkdesk.WithLimiter(limiter)) // its requests count against the limit too
	c := fx.client(t, talkdesk.WithLimiter(limiter))
	defer fx.closeIdle()

	type tally struct{ calls, failed int }
	var (
		next     atomic.Int64
		injected atomic.Int64
		mu       sync.Mutex
		byOp     = map[string]*tally{}
		errs     = map[string]int{}
	)
	for _, op := range operations {
		byOp[op.name] = &tally{}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= calls {
					return
				}
				if i%10 == 0 {
					f := stormFaults[(i/10)%len(stormFaults)]
					f.Count = 1
					fx.srv.InjectFault(f)
					injected.Add(1)
				}
				op := operations[i%len(operations)]
				r := run(op, c, fx, callDeadline)
				got, err := classify(r.err)
				switch {
				case r.hung || r.panic != nil:
					t.Errorf("%s: hung %v, panic %v", op.name, r.hung, r.panic)
				case err != nil:
					t.Errorf("%s: %v", op.name, err)
				}
				mu.Lock()
				byOp[op.name].calls++
				if r.err != nil {
					byOp[op.name].failed++
					errs[got.String()]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	fx.srv.ClearFaults()

	requests := fx.srv.Requests()
	faulted, closedKeptAlive, apiRequests := 0, 0, 0
	for _, r := range requests {
		if r.Fault != nil {
			faulted++
		}
		if r.Fault != nil && r.Fault.Kind == talkdesktest.FaultCutBody && r.Status == http.StatusNoContent {
			// A whole answer, then the connection closed: a POST that
			// took the connection from the idle pool as it closed fails.
			closedKeptAlive++
		}
		if r.Path != talkdesktest.TokenPath {
			apiRequests++
		}
	}
	failed := 0
	for _, tl := range byOp {
		failed += tl.failed
	}
	// A faulted request fails at most its own call, and a kept-alive
	// connection closed after a whole answer at most one other; an
	// Unsubscribe succeeds once, and the others find the subscription gone.
	if allowed := faulted + closedKeptAlive + byOp["Unsubscribe"].calls - 1; failed > allowed {
		t.Errorf("%d calls failed, but only %d requests were faulted (%d closing a kept-alive connection) and %d Unsubscribes may find nothing: errors %v",
			failed, faulted, closedKeptAlive, byOp["Unsubscribe"].calls-1, errs)
	}
	for _, op := range operations {
		if op.creates == "" {
			continue
		}
		tl := byOp[op.name]
		acted := fx.acted(op.creates)
		if acted > tl.calls || acted < tl.calls-tl.failed {
			t.Errorf("%s: %d calls, %d failed, the fake acted %d times", op.name, tl.calls, tl.failed, acted)
		}
	}
	// Every request that reached the fake waited on the limiter.
	if grants := int(limiter.Grants.Load()); apiRequests > grants {
		t.Errorf("%d API requests arrived, but the limiter let only %d start", apiRequests, grants)
	}
	most := fx.srv.MaxInWindow("", "", per-slack)
	if most > limit {
		t.Errorf("%d requests arrived within %v, want at most %d", most, per-slack, limit)
	}
	t.Logf("%d calls from %d goroutines in %v: %d API requests (%d token requests), %d faults injected, %d requests faulted, %d calls failed %v; %d limiter grants; at most %d requests in %v (limit %d per %v)",
		calls, goroutines, elapsed.Round(time.Millisecond), apiRequests, len(requests)-apiRequests, injected.Load(), faulted, failed, errs, limiter.Grants.Load(), most, per-slack, limit, per)
}
