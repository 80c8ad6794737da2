package talkdesk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/oauth2"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTokenReusedThenRefreshedOnExpiry(t *testing.T) {
	srv, id := testkit.NewFake(t)
	clk := &clock{t: talkdesk.FakeClockStart(t)}
	c := testkit.FakeClient(t, srv, talkdesk.WithClock(clk.Now))
	ctx := context.Background()

	for range 5 {
		if _, err := c.GetContact(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Fatalf("after 5 calls: %d token requests, want 1 (the token is reused)", n)
	}

	clk.Add(talkdesktest.DefaultTokenTTL - 20*time.Second) // still well before expiry
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Fatalf("before expiry: %d token requests, want 1", n)
	}

	clk.Add(15 * time.Second) // within the last 10 s before expiry
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Fatalf("at expiry: %d token requests, want 2 (refreshed)", n)
	}
}

func TestOneTokenRequestUnderConcurrency(t *testing.T) {
	srv, id := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 200 {
		wg.Go(func() {
			if _, err := c.GetContact(context.Background(), id); err != nil {
				failed.Add(1)
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("200 concurrent calls made %d token requests, want 1", n)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 200 {
		t.Errorf("the fake got %d contact requests, want 200", n)
	}
}

func TestUnauthorizedRefreshesAndRetriesOnce(t *testing.T) {
	srv, id := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv)
	ctx := context.Background()
	if _, err := c.GetContact(ctx, id); err != nil {
		t.Fatal(err)
	}

	srv.RevokeTokens() // the cached token now gets 401
	got, err := c.GetContact(ctx, id)
	if err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	if got.ID != id {
		t.Errorf("got contact %q, want %q", got.ID, id)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	reqs := srv.Requests()
	var statuses []int
	for _, r := range reqs {
		if r.Path != talkdesktest.TokenPath {
			statuses = append(statuses, r.Status)
		}
	}
	if want := []int{200, 401, 200}; !slices.Equal(statuses, want) {
		t.Errorf("API statuses %v, want %v", statuses, want)
	}
	// The retry carries the new token, not the rejected one.
	last, prev := reqs[len(reqs)-1], reqs[len(reqs)-3]
	if last.Header.Get("Authorization") == prev.Header.Get("Authorization") {
		t.Error("the retry after 401 sent the rejected token again")
	}
}

func TestSecondUnauthorizedIsErrUnauthorized(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: "/contacts/" + id, Status: http.StatusUnauthorized})
	c := testkit.FakeClient(t, srv)
	_, err := c.GetContact(context.Background(), id)
	var apiErr *talkdesk.APIError
	if !errors.Is(err, talkdesk.ErrUnauthorized) || !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("error = %v, want a 401 APIError", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 2 {
		t.Errorf("%d API requests, want 2 (one retry after the refresh)", n)
	}
	if n := srv.TokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

func TestUnauthorizedWithUnchangingTokenSourceIsNotRetried(t *testing.T) {
	srv, id := testkit.NewFake(t)
	c, err := talkdesk.NewClient(
		talkdesk.WithBaseURL(srv.URL),
		talkdesk.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "not-issued"})),
		talkdesk.WithRateLimit(0, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(context.Background(), id); !errors.Is(err, talkdesk.ErrUnauthorized) {
		t.Fatalf("error = %v, want ErrUnauthorized", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 1 {
		t.Errorf("%d API requests, want 1: the source has no other token to retry with", n)
	}
}

func TestTokenSourceFromAuthCodeConfigRefreshes(t *testing.T) {
	srv, id := testkit.NewFake(t)
	clientID, secret := srv.Credentials()
	cfg, err := talkdesk.AuthCodeConfig(talkdesktest.Account, talkdesk.RegionUS, clientID, secret, "https://app.example.com/callback", talkdesk.ConnectorScopes()...)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Endpoint.TokenURL = srv.URL + talkdesktest.TokenPath

	tok := srv.UserToken()
	tok.Expiry = time.Now().Add(-time.Minute) // expired: the first call must refresh it
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	c, err := talkdesk.NewClient(
		talkdesk.WithBaseURL(srv.URL),
		talkdesk.WithTokenSource(cfg.TokenSource(ctx, tok)),
		talkdesk.WithRateLimit(0, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Path != talkdesktest.TokenPath {
		t.Fatalf("requests %d, want a token refresh then the call", len(reqs))
	}
	form := string(reqs[0].Body)
	if want := "grant_type=refresh_token"; !strings.Contains(form, want) || !strings.Contains(form, "refresh_token="+tok.RefreshToken) {
		t.Errorf("refresh request body %q, want %s with the refresh token", form, want)
	}
}

func TestRefusedCredentials(t *testing.T) {
	srv, id := testkit.NewFake(t)
	clientID, _ := srv.Credentials()
	const wrongSecret = "wrong-secret-d41d8cd98f00b204"
	c, err := talkdesk.NewClient(
		talkdesk.WithBaseURL(srv.URL),
		talkdesk.WithTokenURL(srv.URL+talkdesktest.TokenPath),
		talkdesk.WithClientCredentials(talkdesktest.Account, clientID, wrongSecret),
	)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetContact(context.Background(), id)
	var te *talkdesk.TokenError
	if !errors.Is(err, talkdesk.ErrUnauthorized) || !errors.As(err, &te) {
		t.Fatalf("error = %v, want a TokenError matching ErrUnauthorized", err)
	}
	if te.StatusCode != 401 || te.Code != "invalid_client" {
		t.Errorf("TokenError = %+v, want 401 invalid_client", te)
	}
	if strings.Contains(err.Error(), wrongSecret) {
		t.Errorf("error shows the secret: %v", err)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 0 {
		t.Errorf("%d API requests without a token, want 0", n)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1: a refusal is not retried", n)
	}
}

func TestTokenEndpointOutageIsRetried(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: http.StatusServiceUnavailable, Count: 2})
	c := testkit.FakeClient(t, srv, talkdesk.WithSleep(func(context.Context, time.Duration) error { return nil }))
	if _, err := c.GetContact(context.Background(), id); err != nil {
		t.Fatalf("GetContact: %v", err)
	}
	if n := srv.TokenRequests(); n != 3 {
		t.Errorf("%d token requests, want 3 (two 503s, then a token)", n)
	}
}

func TestNewClientRequiresAuth(t *testing.T) {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	tests := []struct {
		name string
		opts []talkdesk.Option
	}{
		{"nothing", nil},
		{"only a base URL", []talkdesk.Option{talkdesk.WithBaseURL("https://proxy.example.com")}},
		{"nil token source", []talkdesk.Option{talkdesk.WithTokenSource(nil)}},
		{"both", []talkdesk.Option{talkdesk.WithTokenSource(ts), talkdesk.WithClientCredentials("acme", "id", "secret")}},
		{"token URL without credentials", []talkdesk.Option{talkdesk.WithTokenSource(ts), talkdesk.WithTokenURL("https://id.example.com/token")}},
		{"empty client ID", []talkdesk.Option{talkdesk.WithClientCredentials("acme", "", "secret")}},
		{"empty secret", []talkdesk.Option{talkdesk.WithClientCredentials("acme", "id", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := talkdesk.NewClient(tt.opts...)
			if !errors.Is(err, talkdesk.ErrInvalid) || c != nil {
				t.Errorf("NewClient = %v, %v; want nil, ErrInvalid", c, err)
			}
		})
	}
}

// blockingSource gives its token only once released.
type blockingSource struct {
	calls   atomic.Int32
	release chan struct{}
}

func (s *blockingSource) Token() (*oauth2.Token, error) {
	s.calls.Add(1)
	<-s.release
	return &oauth2.Token{AccessToken: "at-slow-source", Expiry: time.Now().Add(time.Hour)}, nil
}

// TestSlowTokenSourceDoesNotOutliveTheDeadline: a call returns when its
// context is done, whatever its token source is doing; later calls wait for
// the same Token call, and the token it gives in the end is used.
func TestSlowTokenSourceDoesNotOutliveTheDeadline(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"contact":{"id":"c-1","name":"Ada"}}`)
	}))
	defer api.Close()
	src := &blockingSource{release: make(chan struct{})}
	c, err := talkdesk.NewClient(talkdesk.WithBaseURL(api.URL), talkdesk.WithTokenSource(src), talkdesk.WithRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		_, err := c.GetContact(ctx, "c-1")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GetContact while the source blocks: %v, want DeadlineExceeded", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d Token calls while the first was under way, want 1", n)
	}
	close(src.release)
	if _, err := c.GetContact(context.Background(), "c-1"); err != nil {
		t.Fatal(err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Errorf("%d Token calls, want 1: the late token is used", n)
	}
}

// TestShortLivedTokenIsReused: a token that lives less than the usual
// renewal margin is still reused for most of its life.
func TestShortLivedTokenIsReused(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.SetTokenTTL(5 * time.Second)
	c := testkit.FakeClient(t, srv)
	for range 20 {
		if _, err := c.GetContact(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("20 calls with a 5 s token made %d token requests, want 1", n)
	}
}

// TestTokenOutageCostsNoLimiterSlot: the throttle counts requests sent to
// the API; calls that could not get a token sent none.
func TestTokenOutageCostsNoLimiterSlot(t *testing.T) {
	srv, id := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Path: talkdesktest.TokenPath, Status: http.StatusServiceUnavailable})
	lim := &testkit.CountingLimiter{Limiter: testkit.Unlimited{}}
	c := testkit.FakeClient(t, srv, talkdesk.WithLimiter(lim), talkdesk.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
	for range 5 {
		var te *talkdesk.TokenError
		if _, err := c.GetContact(context.Background(), id); !errors.As(err, &te) {
			t.Fatalf("GetContact during a token outage: %v, want a TokenError", err)
		}
	}
	if n := lim.Grants.Load(); n != 0 {
		t.Errorf("5 calls during a token outage took %d limiter slots, want 0", n)
	}
	if n := srv.TokenRequests(); n != 5*4 {
		t.Errorf("%d token requests, want 20: a 503 is retried within the call's 4 attempts", n)
	}
}

// TestTokenEndpointFailures: what asking again may mend (5xx, a body cut
// short, a reset) is retried with the API calls' backoff and budget; a
// refusal is not.
func TestTokenEndpointFailures(t *testing.T) {
	tests := []struct {
		name     string
		fault    talkdesktest.Fault
		requests int
		refused  bool
	}{
		{"503 twice", talkdesktest.Fault{Status: http.StatusServiceUnavailable, Count: 2}, 3, false},
		{"body cut", talkdesktest.Fault{Kind: talkdesktest.FaultCutBody, Count: 1}, 2, false},
		{"dropped", talkdesktest.Fault{Kind: talkdesktest.FaultDrop, Count: 1}, 2, false},
		{"429", talkdesktest.Fault{Status: http.StatusTooManyRequests, Count: 1}, 2, false},
		{"400 invalid_client", talkdesktest.Fault{Status: http.StatusBadRequest, Body: `{"error":"invalid_client"}`}, 1, true},
		{"401", talkdesktest.Fault{Status: http.StatusUnauthorized}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, id := testkit.NewFake(t)
			tt.fault.Path = talkdesktest.TokenPath
			srv.InjectFault(tt.fault)
			c := testkit.FakeClient(t, srv, talkdesk.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }))
			_, err := c.GetContact(context.Background(), id)
			if tt.refused {
				if !errors.Is(err, talkdesk.ErrUnauthorized) {
					t.Errorf("GetContact: %v, want ErrUnauthorized", err)
				}
			} else if err != nil {
				t.Errorf("GetContact: %v, want success after the retry", err)
			}
			if n := srv.TokenRequests(); n != tt.requests {
				t.Errorf("%d token requests, want %d", n, tt.requests)
			}
		})
	}
}

// invalidatingSource hands out at-1, then at-2, and records the tokens the
// Client says the API rejected.
type invalidatingSource struct {
	mu          sync.Mutex
	given       int
	invalidated []string
}

func (s *invalidatingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.given++
	return &oauth2.Token{AccessToken: "at-" + strconv.Itoa(s.given)}, nil
}

func (s *invalidatingSource) Invalidate(_ context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok.AccessToken)
	return nil
}

// TestTokenInvalidatorHearsOf401: a source that implements TokenInvalidator
// is told which token the API rejected before it is asked for another.
func TestTokenInvalidatorHearsOf401(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer at-2" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"contact":{"id":"c-1"}}`)
	}))
	defer api.Close()
	src := &invalidatingSource{}
	c, err := talkdesk.NewClient(talkdesk.WithBaseURL(api.URL), talkdesk.WithTokenSource(src), talkdesk.WithRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(context.Background(), "c-1"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(src.invalidated, []string{"at-1"}) || src.given != 2 {
		t.Errorf("invalidated %q after %d tokens, want [at-1] after 2", src.invalidated, src.given)
	}
}
