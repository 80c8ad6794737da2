// Package testkit holds the helpers that the tests of the root package and
// the suites of test/reliability share: a fake Talkdesk with a Client of
// it, a limiter that counts, a buffer for logs, and the event fixtures.
// It is for tests only.
package testkit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// WebhookSecret is the webhook secret of the tests' receivers.
const WebhookSecret = "wh-secret-7f3e2d1c0b9a"

// NewFake starts a fake Talkdesk with one contact, closed when the test
// ends, and returns it with the contact's ID.
func NewFake(t testing.TB) (*talkdesktest.Server, string) {
	t.Helper()
	srv := talkdesktest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.AddContact(talkdesk.Contact{Name: "Ada Lovelace", Phones: []talkdesk.Phone{{Label: "mobile", Number: "+442071234567"}}})
	return srv, c.ID
}

// FakeClient returns a Client of srv without throttle; opts come last.
func FakeClient(t testing.TB, srv *talkdesktest.Server, opts ...talkdesk.Option) *talkdesk.Client {
	t.Helper()
	all := append(srv.ClientOptions(), talkdesk.WithRateLimit(0, 0))
	c, err := talkdesk.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// NoBackoff is a retry policy that retries at once: tests of what is
// retried need not wait.
var NoBackoff = talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond})

// CountingLimiter counts the waits its Limiter let through.
type CountingLimiter struct {
	talkdesk.Limiter
	Grants atomic.Int64
}

func (l *CountingLimiter) Wait(ctx context.Context) error {
	err := l.Limiter.Wait(ctx)
	if err == nil {
		l.Grants.Add(1)
	}
	return err
}

// Unlimited lets every request start at once.
type Unlimited struct{}

func (Unlimited) Wait(ctx context.Context) error { return ctx.Err() }

// SyncBuffer is a bytes.Buffer safe for concurrent writes, for logs.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// EventFixture returns testdata/events/name of the module's root.
func EventFixture(t testing.TB, name string) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
