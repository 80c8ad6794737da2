package talkdesk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"
)

func TestClientCredentialsOnTheWire(t *testing.T) {
	rs := newReplayServer(t, "auth/client_credentials_token.json", "auth/get_contact_with_fetched_token.json")
	c, err := NewClient(
		WithBaseURL(rs.URL),
		WithTokenURL(rs.URL+"/oauth/token"),
		WithClientCredentials("acme", "my-client-id", "my-client-secret", "contacts:read", "callback:write"),
		WithRateLimit(0, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(context.Background(), "5f3e1c0a9b8d7e6f5a4b3c2d"); err != nil {
		t.Fatal(err)
	}
}

func TestRefusedTokenErrorHidesSecretAndBody(t *testing.T) {
	rs := newReplayServer(t, "auth/client_credentials_refused.json")
	c, err := NewClient(
		WithBaseURL(rs.URL),
		WithTokenURL(rs.URL+"/oauth/token"),
		WithClientCredentials("acme", "my-client-id", "my-client-secret", "contacts:read", "callback:write"),
	)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetContact(context.Background(), "x")
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("error = %v, want a TokenError matching ErrUnauthorized", err)
	}
	want := &TokenError{StatusCode: 401, Code: "invalid_client", Description: "Bad client credentials: [REDACTED]"}
	if diff := cmp.Diff(want, te, cmp.AllowUnexported(TokenError{})); diff != "" {
		t.Errorf("TokenError (-want +got):\n%s", diff)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "my-client-secret") {
			t.Errorf("error chain shows the secret: %v", e)
		}
	}
}

// recordingTransport answers every request with a canned response by host
// and records the URLs asked for.
type recordingTransport struct {
	mu   sync.Mutex
	urls []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.urls = append(rt.urls, r.Method+" "+r.URL.String())
	rt.mu.Unlock()
	body := `{"contact":{"id":"c1"}}`
	if strings.HasSuffix(r.URL.Path, "/oauth/token") {
		body = `{"access_token":"t","token_type":"Bearer","expires_in":600}`
	}
	return &http.Response{
		StatusCode: 200,
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func TestRegionEndpoints(t *testing.T) {
	tests := []struct {
		region Region
		want   []string
	}{
		{"", []string{"POST https://acme.talkdeskid.com/oauth/token", "GET https://api.talkdeskapp.com/contacts/c1"}},
		{RegionUS, []string{"POST https://acme.talkdeskid.com/oauth/token", "GET https://api.talkdeskapp.com/contacts/c1"}},
		{RegionEU, []string{"POST https://acme.talkdeskid.eu/oauth/token", "GET https://api.talkdeskapp.eu/contacts/c1"}},
		{RegionCA, []string{"POST https://acme.talkdeskidca.com/oauth/token", "GET https://api.talkdeskappca.com/contacts/c1"}},
	}
	for _, tt := range tests {
		rt := &recordingTransport{}
		c, err := NewClient(WithRegion(tt.region), WithClientCredentials("acme", "id", "secret"), WithHTTPClient(&http.Client{Transport: rt}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetContact(context.Background(), "c1"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, rt.urls); diff != "" {
			t.Errorf("region %q (-want +got):\n%s", tt.region, diff)
		}
	}
	if _, err := NewClient(WithRegion("mars"), WithClientCredentials("acme", "id", "secret")); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown region: %v, want ErrInvalid", err)
	}
}

func TestAuthCodeConfig(t *testing.T) {
	cfg, err := AuthCodeConfig("acme", RegionEU, "cid", "csecret", "https://app.example.com/cb", ConnectorScopes()...)
	if err != nil {
		t.Fatal(err)
	}
	want := &oauth2.Config{
		ClientID:     "cid",
		ClientSecret: "csecret",
		Endpoint: oauth2.Endpoint{
			AuthURL:   "https://acme.talkdeskid.eu/oauth/authorize",
			TokenURL:  "https://acme.talkdeskid.eu/oauth/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: "https://app.example.com/cb",
		Scopes:      []string{"contacts:read", "callback:write", "users:read", "webhooks-trigger:write", "scim"},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(oauth2.Config{})); diff != "" {
		t.Errorf("AuthCodeConfig (-want +got):\n%s", diff)
	}
	for _, bad := range []struct {
		region                  Region
		clientID, redirect, why string
	}{
		{"mars", "cid", "https://app.example.com/cb", "region"},
		{RegionUS, "", "https://app.example.com/cb", "client ID"},
		{RegionUS, "cid", "app.example.com/cb", "relative redirect"},
		{RegionUS, "cid", "javascript:alert(1)", "non-http redirect"},
	} {
		if _, err := AuthCodeConfig("acme", bad.region, bad.clientID, "s", bad.redirect); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", bad.why, err)
		}
	}
}

func TestTokenCacheWaitersRespectTheirContext(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	var calls int
	var mu sync.Mutex
	tc := &tokenCache{now: time.Now, fetch: func(ctx context.Context) (*oauth2.Token, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		started <- struct{}{}
		select {
		case <-release:
			return &oauth2.Token{AccessToken: "fresh", Expiry: time.Now().Add(time.Hour)}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}}

	// The first caller fetches, and gives up: a waiter takes the fetch over.
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderErr := make(chan error)
	go func() {
		_, err := tc.token(leaderCtx)
		leaderErr <- err
	}()
	<-started

	// A waiter whose context ends returns at once with its own error.
	shortCtx, cancelShort := context.WithCancel(context.Background())
	shortErr := make(chan error)
	go func() {
		_, err := tc.token(shortCtx)
		shortErr <- err
	}()
	cancelShort()
	if err := <-shortErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}

	waiterTok := make(chan string)
	go func() {
		tok, err := tc.token(context.Background())
		if err != nil {
			t.Error(err)
		}
		waiterTok <- tok.AccessToken
	}()
	time.Sleep(10 * time.Millisecond) // let the waiter queue behind the leader's fetch
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	<-started // the waiter fetches for itself
	close(release)
	if got := <-waiterTok; got != "fresh" {
		t.Errorf("waiter got %q", got)
	}
	if calls != 2 {
		t.Errorf("%d fetches, want 2", calls)
	}

	// A token that is now cached is reused, and dropped when rejected.
	tok, _ := tc.token(context.Background())
	tc.invalidate(context.Background(), &oauth2.Token{AccessToken: "some other token"})
	if again, _ := tc.token(context.Background()); again != tok {
		t.Error("invalidating another token dropped the cached one")
	}
	tc.invalidate(context.Background(), tok)
	if tc.tok != nil {
		t.Error("invalidate kept the rejected token")
	}
}

func TestTokenSourceWithoutAccessToken(t *testing.T) {
	c, err := NewClient(WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{})), WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetContact(context.Background(), "x")
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("error = %v, want a TokenError", err)
	}
}
