package talkdesk

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeTime is a clock that only moves when the limiter sleeps on it.
type fakeTime struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
	return ctx.Err()
}

func fakeLimiter(t *testing.T, n int, per time.Duration) (*WindowLimiter, *fakeTime) {
	t.Helper()
	l, err := NewWindowLimiter(n, per)
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeTime{now: FakeClockStart(t)}
	l.now, l.sleep = clk.Now, clk.Sleep
	return l, clk
}

// maxInWindow returns the most of times (sorted) that fall in any half-open
// window [t, t+per).
func maxInWindow(times []time.Time, per time.Duration) int {
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= per {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestWindowLimiterDefaultIsExact(t *testing.T) {
	l, clk := fakeLimiter(t, defaultRateRequests, defaultRatePer)
	start := clk.Now()
	var starts []time.Time
	for range 350 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, clk.Now())
	}
	if got := maxInWindow(starts, defaultRatePer); got != 100 {
		t.Errorf("at most %d starts in a 60 s window, want exactly 100", got)
	}
	// An idle limiter bursts the full 100 at once...
	if !starts[99].Equal(start) {
		t.Errorf("100th start at +%v, want +0 (burst of 100)", starts[99].Sub(start))
	}
	// ...and then sustains 100 per 60 s: request 101 starts 60 s after the first.
	if got := starts[100].Sub(start); got != time.Minute {
		t.Errorf("101st start at +%v, want +1m0s", got)
	}
	if got := starts[349].Sub(start); got != 3*time.Minute {
		t.Errorf("350th start at +%v, want +3m0s (100 per minute)", got)
	}
}

func TestWindowLimiterSlidesWithIrregularStarts(t *testing.T) {
	l, clk := fakeLimiter(t, 5, time.Second)
	var starts []time.Time
	gaps := []time.Duration{0, 100, 0, 350, 20, 0, 900, 10, 10, 400, 0, 0, 0, 1200, 5, 5, 5, 5, 5, 5, 5}
	for _, g := range gaps {
		clk.Sleep(context.Background(), g*time.Millisecond)
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, clk.Now())
	}
	if got := maxInWindow(starts, time.Second); got > 5 {
		t.Errorf("%d starts in one window, want at most 5", got)
	}
}

func TestWindowLimiterContext(t *testing.T) {
	l, _ := fakeLimiter(t, 2, time.Minute)
	ctx := context.Background()
	_ = l.Wait(ctx)
	_ = l.Wait(ctx)

	// Full: a deadline before the next slot fails at once.
	dctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := l.Wait(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with a near deadline: %v, want DeadlineExceeded", err)
	}
	// A cancelled context fails at once and records nothing.
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := l.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with a cancelled context: %v, want Canceled", err)
	}
	if l.count != 2 {
		t.Errorf("%d starts recorded, want 2: failed waits record nothing", l.count)
	}
}

func TestWindowLimiterRealTimerIsCancellable(t *testing.T) {
	l, err := NewWindowLimiter(1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Wait: %v, want Canceled", err)
	}
}

func TestWindowLimiterGrowsOnDemand(t *testing.T) {
	l, err := NewWindowLimiter(1_000_000_000, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_ = l.Wait(context.Background())
	}
	if c := cap(l.starts); c > 256 {
		t.Errorf("ring of %d entries after 100 starts; it should grow with use, not with the limit", c)
	}
}

func TestNewWindowLimiterRejectsNonsense(t *testing.T) {
	for _, tt := range []struct {
		n   int
		per time.Duration
	}{{0, time.Second}, {-1, time.Second}, {1, 0}, {1, -time.Second}} {
		if _, err := NewWindowLimiter(tt.n, tt.per); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewWindowLimiter(%d, %v): %v, want ErrInvalid", tt.n, tt.per, err)
		}
	}
}
