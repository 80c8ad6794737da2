package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// countingServer answers every request with handler and counts them.
func countingServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// testClient returns a Client of baseURL with a static token, no throttle
// and waits that return at once.
func testClient(t *testing.T, baseURL string, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithBaseURL(baseURL),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})),
		WithRateLimit(0, 0),
		WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
	}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var postCall = call{method: "POST", path: "/calls/callback", in: map[string]string{"talkdesk_phone_number": "+14155550100"}}

func TestServerErrorNotRetriedForPOST(t *testing.T) {
	srv, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"code":"0500001","message":"Internal server error."}`, http.StatusInternalServerError)
	})
	c := testClient(t, srv.URL)
	r := postCall
	_, err := c.do(context.Background(), &r)
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("error = %v, want a 500 APIError", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d POSTs reached the server, want 1: Talkdesk may have acted on it", got)
	}
}

func TestRateLimitedPOSTIsRetried(t *testing.T) {
	srv, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if body, _ := io.ReadAll(r.Body); !bytes.Contains(body, []byte("+14155550100")) {
			t.Errorf("retried POST body %q lost its content", body)
		}
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	c := testClient(t, srv.URL, WithRetryPolicy(RetryPolicy{MaxAttempts: 3}))
	r := postCall
	if _, err := c.do(context.Background(), &r); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("error = %v, want ErrRateLimited", err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d POSTs, want 3: a 429 means Talkdesk did not act", got)
	}
}

// countingTransport counts round trips and passes them on.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

func TestPOSTRetriedWhenTheConnectionFailed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens: every dial is refused
	rt := &countingTransport{next: http.DefaultTransport}
	c := testClient(t, "http://"+addr, WithHTTPClient(&http.Client{Transport: rt}))
	r := postCall
	_, err = c.do(context.Background(), &r)
	if err == nil || !strings.Contains(err.Error(), "POST /calls/callback") {
		t.Fatalf("error = %v, want a connection error naming the call", err)
	}
	if got := rt.n.Load(); got != 4 {
		t.Errorf("%d attempts, want 4: a POST that never left may be retried", got)
	}
}

// closedIdleTransport fails the first request as net/http does when the
// server closed the kept-alive connection it was about to use.
type closedIdleTransport struct {
	failed atomic.Bool
	next   http.RoundTripper
}

func (c *closedIdleTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.failed.CompareAndSwap(false, true) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("http: server closed idle connection") // as net/http's Transport returns it
	}
	return c.next.RoundTrip(r)
}

// A POST that met a connection the server had closed as idle never
// reached the server: it is retried, and reaches the server once.
func TestPOSTRetriedWhenTheServerClosedTheIdleConnection(t *testing.T) {
	srv, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"code":true}`)
	})
	c := testClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: &closedIdleTransport{next: http.DefaultTransport}}))
	r := postCall
	if _, err := c.do(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("the POST reached the server %d times, want 1", got)
	}
}

// hangUpServer reads each request and closes the connection without an answer.
func hangUpServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	return countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
}

func TestConnectionDroppedAfterTheRequest(t *testing.T) {
	srv, n := hangUpServer(t)
	c := testClient(t, srv.URL)
	r := postCall
	if _, err := c.do(context.Background(), &r); err == nil {
		t.Fatal("POST: no error")
	}
	if got := n.Load(); got != 1 {
		t.Errorf("POST reached the server %d times, want 1: it was sent, so it is not retried", got)
	}

	n.Store(0)
	if _, err := c.GetContact(context.Background(), "c1"); err == nil {
		t.Fatal("GET: no error")
	}
	if got := n.Load(); got != 4 {
		t.Errorf("GET reached the server %d times, want 4: idempotent calls are retried", got)
	}
}

func TestResponseBodyIsBounded(t *testing.T) {
	big := `{"contact":{"id":"c1","name":"` + strings.Repeat("a", maxResponseBytes) + `"}}`
	srv, n := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, big)
	})
	c := testClient(t, srv.URL)
	_, err := c.GetContact(context.Background(), "c1")
	if !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("error = %v, want a body-too-large error", err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1: an oversized answer is not retried", got)
	}
}

// A success answer that declares a body over the limit is refused before
// any of it is read: here the server sends 10 bytes of the 20 MiB it
// declared and waits, so reading would last until the deadline.
func TestDeclaredOversizedAnswerRefusedUnread(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(20<<20))
		_, _ = io.WriteString(w, `{"contact"`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := testClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.GetContact(ctx, "c1"); !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("error = %v, want ErrResponseTooLarge", err)
	}
}

// closeTracker wraps a transport and checks that every body is closed.
type closeTracker struct {
	next   http.RoundTripper
	mu     sync.Mutex
	open   int
	opened int
}

type trackedBody struct {
	io.ReadCloser
	t    *closeTracker
	once sync.Once
}

func (b *trackedBody) Close() error {
	b.once.Do(func() {
		b.t.mu.Lock()
		b.t.open--
		b.t.mu.Unlock()
	})
	return b.ReadCloser.Close()
}

func (c *closeTracker) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.opened++
	c.mu.Unlock()
	resp.Body = &trackedBody{ReadCloser: resp.Body, t: c}
	return resp, nil
}

func TestEveryResponseBodyIsClosed(t *testing.T) {
	statuses := []int{200, 404, 429, 500, 503, 401, 200}
	var i atomic.Int32
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		s := statuses[int(i.Add(1)-1)%len(statuses)]
		w.WriteHeader(s)
		if s == 200 {
			_, _ = io.WriteString(w, `{"contact":{"id":"c1"}}`)
		}
	})
	ct := &closeTracker{next: http.DefaultTransport}
	c := testClient(t, srv.URL, WithHTTPClient(&http.Client{Transport: ct}), WithRetryPolicy(RetryPolicy{MaxAttempts: 2}))
	for range 10 {
		_, _ = c.GetContact(context.Background(), "c1")
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.opened < 10 || ct.open != 0 {
		t.Errorf("%d bodies opened, %d left open; want none open", ct.opened, ct.open)
	}
}

func TestLoggerWritesOneLinePerAttempt(t *testing.T) {
	var calls atomic.Int32
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := testClient(t, srv.URL, WithLogger(logger))
	if _, err := c.GetContact(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	type line struct {
		Level, Msg, Method, Path string
		Status, Attempt          int
		Duration                 *float64
	}
	var got []line
	for _, l := range lines {
		var v line
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatal(err)
		}
		if v.Duration == nil {
			t.Errorf("line without a duration: %s", l)
		}
		v.Duration = nil
		got = append(got, v)
	}
	want := []line{
		{Level: "WARN", Msg: "talkdesk request", Method: "GET", Path: "/contacts/c1", Status: 503, Attempt: 1},
		{Level: "DEBUG", Msg: "talkdesk request", Method: "GET", Path: "/contacts/c1", Status: 200, Attempt: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
	if strings.Contains(buf.String(), testToken) || strings.Contains(buf.String(), "Bearer") {
		t.Errorf("the log shows the token:\n%s", buf.String())
	}
}

func TestHeadersAndUserAgent(t *testing.T) {
	var got http.Header
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		_, _ = io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	c := testClient(t, srv.URL, WithUserAgent("crm-sync/2.1"))
	if _, err := c.GetContact(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if ua, want := got.Get("User-Agent"), "crm-sync/2.1 talkdesk-go/"+Version; ua != want {
		t.Errorf("User-Agent %q, want %q", ua, want)
	}
	r := postCall
	r.header = map[string][]string{"Eventid": {"email"}}
	if _, err := c.do(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "Eventid": "email", "Authorization": "Bearer " + testToken} {
		if v := got.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
}
