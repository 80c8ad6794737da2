package talkdesk

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Limiter decides when the next API request may start. Wait blocks until it
// may, or returns an error when it may not (at the latest when ctx is done).
// Every attempt of every API call, retries included, waits on the Client's
// Limiter; token-endpoint calls do not.
//
// *rate.Limiter from golang.org/x/time/rate satisfies Limiter. A token
// bucket of burst b and rate r lets up to b + r·W requests start in a window
// of length W, so to stay within Talkdesk's 100 calls per 60 seconds it needs
// b + r·60s <= 100 (a burst of 10 and 90 per minute, say).
type Limiter interface {
	Wait(ctx context.Context) error
}

// Talkdesk's throttle for connector calls: 100 per 60 seconds per connection.
const (
	defaultRateRequests = 100
	defaultRatePer      = 60 * time.Second
)

// WindowLimiter lets at most N requests start in any window of length Per:
// it remembers when each of the last N requests started and lets the next
// one start once the oldest of them is Per in the past. An idle WindowLimiter
// lets a burst of N start at once, and a busy one sustains N per Per; no
// token bucket can give both while keeping the guarantee.
//
// It is the Client's default limiter (100 per 60 s). It holds at most N
// start times, allocated as they are needed. Share one WindowLimiter between
// several Clients in a process with [WithLimiter] when they use the same
// Talkdesk connection.
type WindowLimiter struct {
	n   int
	per time.Duration

	// Test hooks; the real clock and timers otherwise.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	starts []time.Time // ring buffer of the start times still inside the window
	head   int         // index of the oldest start in starts
	count  int         // number of starts in the ring
}

// NewWindowLimiter returns a limiter that lets at most requests start in any
// window of length per. Both must be positive.
func NewWindowLimiter(requests int, per time.Duration) (*WindowLimiter, error) {
	if requests <= 0 {
		return nil, invalid("requests", fmt.Sprintf("must be positive, got %d", requests))
	}
	if per <= 0 {
		return nil, invalid("per", fmt.Sprintf("must be positive, got %v", per))
	}
	return &WindowLimiter{n: requests, per: per, now: time.Now, sleep: sleepContext}, nil
}

// Wait blocks until a request may start without making more than N start in
// any window of length Per, and records the start. It returns ctx's error if
// ctx is done first, and at once an error matching
// context.DeadlineExceeded when ctx's deadline comes before the request
// could start. A Wait that returns an error records nothing.
func (l *WindowLimiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		l.mu.Lock()
		now := l.now()
		for l.count > 0 && !l.starts[l.head].Add(l.per).After(now) {
			l.head = (l.head + 1) % len(l.starts)
			l.count--
		}
		if l.count < l.n {
			l.push(now)
			l.mu.Unlock()
			return nil
		}
		wait := l.starts[l.head].Add(l.per).Sub(now)
		l.mu.Unlock()

		// The deadline is an instant of the real clock and wait a length
		// on the limiter's: compare lengths, never instants of two clocks.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("talkdesk: rate limit: the next request may start in %v, after the context deadline: %w", wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if err := l.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// push records a start at t, growing the ring up to n entries.
func (l *WindowLimiter) push(t time.Time) {
	if l.count == len(l.starts) {
		grown := make([]time.Time, min(max(2*len(l.starts), 16), l.n))
		for i := range l.count {
			grown[i] = l.starts[(l.head+i)%len(l.starts)]
		}
		l.starts, l.head = grown, 0
	}
	l.starts[(l.head+l.count)%len(l.starts)] = t
	l.count++
}

// String describes the limit, as "100 requests per 1m0s".
func (l *WindowLimiter) String() string {
	return fmt.Sprintf("%d requests per %v", l.n, l.per)
}

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
