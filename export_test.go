package talkdesk

import (
	"context"
	"os"
	"testing"
	"time"
)

// Hooks for the tests of package talkdesk_test, which use talkdesktest and
// so cannot live in package talkdesk.

// WithClock sets the clock the Client judges token expiry and deadlines by.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) error {
		o.now = now
		return nil
	})
}

// WithSleep replaces the Client's waits between retries.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return optionFunc(func(o *options) error {
		o.sleep = sleep
		return nil
	})
}

// FakeClockStart is the instant the tests' fake clocks start at:
// 2026-11-21T09:00:00Z, or the RFC 3339 instant in TALKDESK_TEST_EPOCH.
// Moving it years forward and back shows that no test depends on where a
// fake clock stands against the real one (.ci/run does so).
func FakeClockStart(t testing.TB) time.Time {
	t.Helper()
	v := os.Getenv("TALKDESK_TEST_EPOCH")
	if v == "" {
		return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	}
	at, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t.Fatalf("TALKDESK_TEST_EPOCH: %v", err)
	}
	return at
}
