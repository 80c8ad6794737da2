package talkdesk_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// sleeps records the waits a Client asks for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func TestRateLimitedWaitsForRetryAfter(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		retryAfter string
		check      func(t *testing.T, d time.Duration)
	}{
		{"seconds", "3", func(t *testing.T, d time.Duration) {
			if d != 3*time.Second {
				t.Errorf("waited %v, want 3s", d)
			}
		}},
		{"fraction", "0.05", func(t *testing.T, d time.Duration) {
			if d != 50*time.Millisecond {
				t.Errorf("waited %v, want 50ms", d)
			}
		}},
		{"HTTP date", date, func(t *testing.T, d time.Duration) {
			if d < 85*time.Second || d > 90*time.Second {
				t.Errorf("waited %v, want about 90s", d)
			}
		}},
		{"absent: backoff", "", func(t *testing.T, d time.Duration) {
			if d != 20*time.Millisecond {
				t.Errorf("waited %v, want the first backoff, 20ms", d)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, id := testkit.NewFake(t)
			f := talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusTooManyRequests, Count: 1}
			if tt.retryAfter != "" {
				f.Header = http.Header{"Retry-After": {tt.retryAfter}}
			}
			srv.InjectFault(f)
			s := &sleeps{}
			c := testkit.FakeClient(t, srv, talkdesk.WithSleep(s.sleep),
				talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MinBackoff: 20 * time.Millisecond, MaxBackoff: 2 * time.Minute}))
			if _, err := c.GetContact(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			w := s.waits()
			if len(w) != 1 {
				t.Fatalf("waits %v, want one", w)
			}
			tt.check(t, w[0])
			if n := srv.Count("GET", "/contacts/"+id); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
		})
	}
}

func TestRateLimitedAfterRetriesRunOut(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"2"}}})
	s := &sleeps{}
	c := testkit.FakeClient(t, srv, talkdesk.WithSleep(s.sleep), talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 3}))
	_, err := c.GetContact(context.Background(), id)
	var apiErr *talkdesk.APIError
	if !errors.Is(err, talkdesk.ErrRateLimited) || !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want ErrRateLimited", err)
	}
	if apiErr.RetryAfter != 2*time.Second {
		t.Errorf("RetryAfter = %v, want 2s", apiErr.RetryAfter)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 3 {
		t.Errorf("%d requests, want 3 (MaxAttempts)", n)
	}
	if diff := cmp.Diff([]time.Duration{2 * time.Second, 2 * time.Second}, s.waits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// TestRetryAfterBeyondTheBoundFailsAtOnce: a Retry-After longer than the
// policy's MaxBackoff, in either form, or than the time left before the
// deadline, is not waited for: the call fails at once with the 429, which
// carries it.
func TestRetryAfterBeyondTheBoundFailsAtOnce(t *testing.T) {
	tests := []struct {
		name, retryAfter string
		deadline         time.Duration // 0: none
		want             time.Duration // about
	}{
		{"a date in year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", 0, math.MaxInt64},
		{"a date 48 hours ahead", time.Now().Add(48 * time.Hour).UTC().Format(http.TimeFormat), 0, 48 * time.Hour},
		{"seconds past MaxBackoff", "45", 0, 45 * time.Second},
		{"seconds past every duration", "99999999999999999999", 0, math.MaxInt64},
		{"seconds past the deadline", "5", time.Second, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, id := testkit.NewFake(t)
			srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusTooManyRequests, Count: 1,
				Header: http.Header{"Retry-After": {tt.retryAfter}}})
			s := &sleeps{}
			c := testkit.FakeClient(t, srv, talkdesk.WithSleep(s.sleep), talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxBackoff: 30 * time.Second}))
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			_, err := c.GetContact(ctx, id)
			var apiErr *talkdesk.APIError
			if !errors.Is(err, talkdesk.ErrRateLimited) || !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want ErrRateLimited", err)
			}
			if apiErr.RetryAfter < tt.want-time.Minute || apiErr.RetryAfter > tt.want {
				t.Errorf("RetryAfter = %v, want about %v", apiErr.RetryAfter, tt.want)
			}
			if w := s.waits(); len(w) > 0 {
				t.Errorf("waited %v, want no wait", w)
			}
			if n := srv.Count("GET", "/contacts/"+id); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestServerErrorsRetriedForGET(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		srv, id := testkit.NewFake(t)
		srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: status, Count: 2})
		s := &sleeps{}
		c := testkit.FakeClient(t, srv, talkdesk.WithSleep(s.sleep))
		got, err := c.GetContact(context.Background(), id)
		if err != nil || got.ID != id {
			t.Fatalf("%d: GetContact = %v, %v", status, got, err)
		}
		if n := srv.Count("GET", "/contacts/"+id); n != 3 {
			t.Errorf("%d: %d requests, want 3", status, n)
		}
		if len(s.waits()) != 2 {
			t.Errorf("%d: waits %v, want two backoffs", status, s.waits())
		}
	}
}

func TestNotImplementedIsNotRetried(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusNotImplemented})
	c := testkit.FakeClient(t, srv, talkdesk.WithSleep((&sleeps{}).sleep))
	if _, err := c.GetContact(context.Background(), id); err == nil {
		t.Fatal("no error")
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestServerErrorAfterRetriesRunOut(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusBadGateway, Body: "<html><body>Bad gateway</body></html>"})
	c := testkit.FakeClient(t, srv, talkdesk.WithSleep((&sleeps{}).sleep))
	_, err := c.GetContact(context.Background(), id)
	var apiErr *talkdesk.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Message != "Bad Gateway" {
		t.Fatalf("error = %v, want a clean 502 APIError", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 4 {
		t.Errorf("%d requests, want 4 (the default MaxAttempts)", n)
	}
}

// TestErrorAnswerStatusDecidesWhateverItsBody: the status of an error
// answer decides, even when its body is cut short or too long. A 429 says
// Talkdesk did not act, so a POST is retried after it; a 503 is retried
// for a GET; a 500 to a POST keeps its status.
func TestErrorAnswerStatusDecidesWhateverItsBody(t *testing.T) {
	srv, id := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv, talkdesk.WithSleep((&sleeps{}).sleep))
	ctx := context.Background()
	cb := &talkdesk.CallbackRequest{TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+351912345678"}

	srv.InjectFault(talkdesktest.Fault{Path: "/calls/callback", Kind: talkdesktest.FaultCutBody, Status: 429, Count: 1})
	if err := c.CreateCallback(ctx, cb); err != nil {
		t.Errorf("POST after a 429 with its body cut: %v, want a retry and success", err)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 1 {
		t.Errorf("the fake acted %d times, want 1", n)
	}

	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Kind: talkdesktest.FaultOversize, Status: 503, Count: 1})
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Errorf("GET after a 503 with an oversized body: %v, want a retry and success", err)
	}

	srv.InjectFault(talkdesktest.Fault{Path: "/calls/callback", Kind: talkdesktest.FaultOversize, Status: 500, Count: 1})
	var apiErr *talkdesk.APIError
	if err := c.CreateCallback(ctx, cb); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Errorf("POST answered 500 with an oversized body: %v, want an APIError 500", err)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 1 {
		t.Errorf("the fake acted %d times, want 1 (the 500 was not retried)", n)
	}
}

// TestReplaysWaitOnTheLimiter: net/http's Transport sends a GET again by
// itself when a kept-alive connection fails before any answer. That
// request waits on the limiter like any other, and is not sent when the
// limiter refuses it.
func TestReplaysWaitOnTheLimiter(t *testing.T) {
	srv, id := testkit.NewFake(t)
	path := "/contacts/" + id
	wl, err := talkdesk.NewWindowLimiter(1000, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	limiter := &testkit.CountingLimiter{Limiter: wl}
	c := testkit.FakeClient(t, srv, talkdesk.WithLimiter(limiter))
	ctx := context.Background()
	if _, err := c.GetContact(ctx, id); err != nil { // opens the connection to reuse
		t.Fatal(err)
	}
	srv.InjectFault(talkdesktest.Fault{Path: path, Kind: talkdesktest.FaultDrop, Count: 1})
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	if arrived, grants := srv.Count("GET", path), limiter.Grants.Load(); arrived != 3 || grants != 3 {
		t.Errorf("%d requests arrived, the limiter let %d start; want 3 and 3", arrived, grants)
	}

	errNoMore := errors.New("no more requests today")
	refusing := &refusingLimiter{allow: 2, err: errNoMore}
	c = testkit.FakeClient(t, srv, talkdesk.WithLimiter(refusing), talkdesk.WithSleep((&sleeps{}).sleep))
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	srv.InjectFault(talkdesktest.Fault{Path: path, Kind: talkdesktest.FaultDrop, Count: 1})
	before := srv.Count("GET", path)
	_, err = c.GetContact(ctx, id)
	if !errors.Is(err, errNoMore) {
		t.Errorf("replay refused by the limiter: %v, want the limiter's error", err)
	}
	if n := srv.Count("GET", path) - before; n != 1 {
		t.Errorf("%d requests arrived, want 1 (the replay was refused)", n)
	}
}

// refusingLimiter lets allow waits through, then fails with err.
type refusingLimiter struct {
	mu    sync.Mutex
	allow int
	err   error
}

func (l *refusingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.allow == 0 {
		return l.err
	}
	l.allow--
	return nil
}

// signalHandler is a slog.Handler that reports each record on a channel.
type signalHandler struct{ records chan<- slog.Record }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	h.records <- r
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

func TestCancelledContextStopsRetrying(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusServiceUnavailable})
	ctx, cancel := context.WithCancel(context.Background())
	// The Client logs an attempt once it has read the answer, before it
	// waits to retry: cancel then, during a real wait that only
	// cancellation can end.
	records := make(chan slog.Record, 10)
	c := testkit.FakeClient(t, srv, talkdesk.WithLogger(slog.New(signalHandler{records})),
		talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MinBackoff: time.Hour, MaxBackoff: time.Hour}))
	done := make(chan error)
	go func() {
		_, err := c.GetContact(ctx, id)
		done <- err
	}()
	<-records
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	var apiErr *talkdesk.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("error %v does not carry the 503 it was retrying", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 1 {
		t.Errorf("%d requests, want 1: no retry after cancel", n)
	}
	if len(records) != 0 {
		t.Errorf("%d more attempts logged after the cancel, want none", len(records))
	}
}

func TestNoWaitPastTheDeadline(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}}})
	c := testkit.FakeClient(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.GetContact(ctx, id)
	if !errors.Is(err, talkdesk.ErrRateLimited) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the 429 at once, not a deadline error", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	srv, id := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.GetContact(ctx, id); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}
