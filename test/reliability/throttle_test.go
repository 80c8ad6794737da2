package reliability_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"golang.org/x/time/rate"
)

// hammer makes calls GetContact calls from 8 goroutines.
func hammer(t *testing.T, c *talkdesk.Client, id string, calls int) {
	t.Helper()
	var wg sync.WaitGroup
	jobs := make(chan struct{}, calls)
	for range calls {
		jobs <- struct{}{}
	}
	close(jobs)
	for range 8 {
		wg.Go(func() {
			for range jobs {
				if _, err := c.GetContact(context.Background(), id); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}

// TestThrottleOnTheServerSide runs 70 calls through a Client limited to 20
// per 200 ms and counts, on the fake, the arrivals in every window. Arrival
// times carry loopback jitter, so windows are counted 10% short of 200 ms:
// a limiter that lets 21 through in a true window of 200 ms still fails.
func TestThrottleOnTheServerSide(t *testing.T) {
	const n, per = 20, 200 * time.Millisecond
	const slack = per / 10

	srv, id := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv, talkdesk.WithRateLimit(n, per))
	hammer(t, c, id, 70)
	most, total := srv.MaxInWindow("GET", "/contacts/"+id, per-slack), srv.Count("GET", "/contacts/"+id)
	if total != 70 {
		t.Fatalf("%d calls arrived, want 70", total)
	}
	if most > n {
		t.Errorf("%d calls arrived within %v, want at most %d", most, per-slack, n)
	}
	if most < n {
		t.Errorf("at most %d calls in a window: the limiter is not letting the burst of %d through", most, n)
	}

	// The naive token bucket (burst n, rate n/per) passes the same test only
	// if the counting is broken: it lets about 2n through in the first window.
	srv2, id2 := testkit.NewFake(t)
	naive := rate.NewLimiter(rate.Every(per/n), n)
	c2 := testkit.FakeClient(t, srv2, talkdesk.WithLimiter(naive))
	hammer(t, c2, id2, 70)
	if most := srv2.MaxInWindow("GET", "/contacts/"+id2, per-slack); most <= n {
		t.Errorf("the naive limiter let only %d through in a window; the check above would not catch it", most)
	}
}
