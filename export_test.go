package talkdesk

import (
	"context"
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
