package tdredis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
	tdredis "github.com/talkdeskgo/talkdesk/redis"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/oauth2"
)

// newTokenSource returns a TokenSource of key over base, failing the test
// on error.
func newTokenSource(t *testing.T, rdb redis.UniversalClient, key string, base oauth2.TokenSource, opts ...tdredis.TokenSourceOption) *tdredis.TokenSource {
	t.Helper()
	ts, err := tdredis.NewTokenSource(rdb, key, base, opts...)
	if err != nil {
		t.Fatalf("NewTokenSource: %v", err)
	}
	return ts
}

// countingBase counts the calls of base.
type countingBase struct {
	base  oauth2.TokenSource
	calls atomic.Int32
}

func (c *countingBase) Token() (*oauth2.Token, error) {
	c.calls.Add(1)
	return c.base.Token()
}

// TestSharedTokenOneRequestForEightClients starts 8 Clients at once, as 8
// replicas starting together would, each with its own TokenSource of one
// key: one token request reaches the token endpoint, and every Client's
// call succeeds with the shared token.
func TestSharedTokenOneRequestForEightClients(t *testing.T) {
	rdb, prefix := testRedis(t)
	srv, id := newFake(t)
	var clients []*talkdesk.Client
	for range 8 {
		clients = append(clients, tokenClient(t, srv, newTokenSource(t, rdb, prefix+"token", fakeBase(srv))))
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			<-start
			if _, err := c.GetContact(context.Background(), id); err != nil {
				t.Error(err)
			}
		})
	}
	close(start)
	wg.Wait()

	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("8 clients made %d token requests, want 1", n)
	}
	if n := srv.Count("GET", "/contacts/"+id); n != 8 {
		t.Errorf("%d calls reached the API, want 8", n)
	}
	auth := map[string]bool{}
	for _, r := range srv.Requests() {
		if r.Path == "/contacts/"+id {
			auth[r.Header.Get("Authorization")] = true
		}
	}
	if len(auth) != 1 {
		t.Errorf("the calls carried %d different tokens, want 1", len(auth))
	}
	// The lock is released once the token is stored.
	if n, err := rdb.Exists(context.Background(), prefix+"token:lock").Result(); err != nil || n != 0 {
		t.Errorf("lock key: exists = %d, %v; want released", n, err)
	}
}

// TestSharedTokenReplacedAfter401 revokes the shared token, for two
// Clients with a TokenSource each (two processes) and for two Clients of
// one TokenSource (one process: each Client's first call is no
// rejection). The first Client to meet the 401 tells its source, which
// fetches a new token for everybody; the second takes it from Redis
// without another token request.
func TestSharedTokenReplacedAfter401(t *testing.T) {
	for name, shared := range map[string]bool{"a TokenSource per Client": false, "one TokenSource for both": true} {
		t.Run(name, func(t *testing.T) {
			rdb, prefix := testRedis(t)
			srv, id := newFake(t)
			ts := newTokenSource(t, rdb, prefix+"token", fakeBase(srv))
			a, b := tokenClient(t, srv, ts), tokenClient(t, srv, ts)
			if !shared {
				b = tokenClient(t, srv, newTokenSource(t, rdb, prefix+"token", fakeBase(srv)))
			}
			ctx := context.Background()
			for _, c := range []*talkdesk.Client{a, b, a, b} {
				if _, err := c.GetContact(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if n := srv.TokenRequests(); n != 1 {
				t.Fatalf("before the revocation: %d token requests, want 1", n)
			}

			srv.RevokeTokens()
			for _, c := range []*talkdesk.Client{a, b} {
				if _, err := c.GetContact(ctx, id); err != nil {
					t.Fatalf("GetContact after the token was revoked: %v", err)
				}
			}
			if n := srv.TokenRequests(); n != 2 {
				t.Errorf("after the revocation: %d token requests, want 2 (one new token, shared)", n)
			}
			unauthorized := 0
			for _, r := range srv.Requests() {
				if r.Status == 401 {
					unauthorized++
				}
			}
			if unauthorized != 2 {
				t.Errorf("%d calls got 401, want 2 (each client's first call with the revoked token)", unauthorized)
			}
		})
	}
}

// TestTokenLockHolderDied leaves a lock behind, as a process that died while
// fetching would: once the lock's TTL is over, the next process fetches.
func TestTokenLockHolderDied(t *testing.T) {
	rdb, prefix := testRedis(t)
	srv, id := newFake(t)
	if err := rdb.Set(context.Background(), prefix+"token:lock", "dead-process", 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	c := tokenClient(t, srv, newTokenSource(t, rdb, prefix+"token", fakeBase(srv)))
	if _, err := c.GetContact(context.Background(), id); err != nil {
		t.Fatalf("GetContact while a dead process's lock expires: %v", err)
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

// TestTokenWaitIsBounded holds the lock for an hour: Token gives up after
// its maximum wait, with an error that says why, and fetches nothing.
func TestTokenWaitIsBounded(t *testing.T) {
	rdb, prefix := testRedis(t)
	srv := talkdesktest.NewServer()
	defer srv.Close()
	if err := rdb.Set(context.Background(), prefix+"token:lock", "stuck-process", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	ts := newTokenSource(t, rdb, prefix+"token", fakeBase(srv), tdredis.WithMaxWait(100*time.Millisecond))
	tok, err := ts.Token()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another process held") {
		t.Fatalf("Token with the lock held = %v, %v; want a timeout naming the lock", tok, err)
	}
	if n := srv.TokenRequests(); n != 0 {
		t.Errorf("%d token requests, want 0", n)
	}
}

// TestTokenNotServedPastExpiry stores an expired token without TTL, as a
// process with a clock ahead might have: it is replaced, never served.
func TestTokenNotServedPastExpiry(t *testing.T) {
	rdb, prefix := testRedis(t)
	srv := talkdesktest.NewServer()
	defer srv.Close()
	expired := fmt.Sprintf(`{"access_token":"at-expired","token_type":"Bearer","expiry":%q}`, time.Now().Add(-time.Second).Format(time.RFC3339Nano))
	if err := rdb.Set(context.Background(), prefix+"token", expired, 0).Err(); err != nil {
		t.Fatal(err)
	}
	tok, err := newTokenSource(t, rdb, prefix+"token", fakeBase(srv)).Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "at-expired" || srv.TokenRequests() != 1 {
		t.Errorf("Token served the expired token (%d token requests), want a new one", srv.TokenRequests())
	}
}

// TestTokenStoredUntilBeforeExpiry checks what lands in Redis: the access
// token, its type and expiry, never the refresh token, with a TTL that ends
// before the token expires.
func TestTokenStoredUntilBeforeExpiry(t *testing.T) {
	rdb, prefix := testRedis(t)
	tests := []struct {
		name     string
		lifetime time.Duration
		maxTTL   time.Duration // at most: lifetime less the margin
	}{
		{"an hour", time.Hour, time.Hour - 30*time.Second},
		{"a minute", time.Minute, 30 * time.Second},
		{"20 seconds", 20 * time.Second, 10 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("%stoken-%d", prefix, i)
			base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) {
				return &oauth2.Token{AccessToken: "at-shared", TokenType: "Bearer", RefreshToken: "rt-never-shared", Expiry: time.Now().Add(tt.lifetime)}, nil
			})
			if _, err := newTokenSource(t, rdb, key, base).Token(); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			raw, err := rdb.Get(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(raw, "rt-never-shared") || !strings.Contains(raw, `"access_token":"at-shared"`) {
				t.Errorf("stored %s; want the access token and not the refresh token", raw)
			}
			ttl, err := rdb.PTTL(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl <= 0 || ttl > tt.maxTTL {
				t.Errorf("TTL %v, want positive and at most %v", ttl, tt.maxTTL)
			}
		})
	}
}

func TestTokenUnreachableRedis(t *testing.T) {
	base := &countingBase{base: tdredis.TokenSourceFunc(func() (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "at-x"}, nil
	})}
	ts := newTokenSource(t, unreachableRedis(t), "talkdesk:acme:token", base)
	tok, err := ts.Token()
	if !errors.Is(err, tdredis.ErrUnavailable) || !strings.Contains(err.Error(), `token "talkdesk:acme:token": Redis unavailable`) {
		t.Fatalf("Token without Redis = %v, %v; want an error matching ErrUnavailable", tok, err)
	}
	if n := base.calls.Load(); n != 0 {
		t.Errorf("the base source was called %d times, want 0", n)
	}

	// A Client with it sends nothing and says why.
	srv, id := newFake(t)
	c := tokenClient(t, srv, ts)
	if _, err := c.GetContact(context.Background(), id); err == nil || !strings.Contains(err.Error(), "Redis unavailable") {
		t.Errorf("GetContact without Redis: %v, want an error saying Redis is unavailable", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the fake received %d requests, want none", n)
	}
}

// TestTokenBaseError checks that a failed fetch is reported with the base
// source's error and releases the lock, so that the next try fetches again.
func TestTokenBaseError(t *testing.T) {
	rdb, prefix := testRedis(t)
	refused := &oauth2.RetrieveError{ErrorCode: "invalid_client"}
	fail := true
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) {
		if fail {
			return nil, refused
		}
		return &oauth2.Token{AccessToken: "at-second-try", Expiry: time.Now().Add(time.Hour)}, nil
	})
	ts := newTokenSource(t, rdb, prefix+"token", base)
	if _, err := ts.Token(); !errors.Is(err, refused) {
		t.Fatalf("Token with a failing base: %v, want the base's error", err)
	}
	if n, _ := rdb.Exists(context.Background(), prefix+"token:lock").Result(); n != 0 {
		t.Errorf("the lock is still held after the failed fetch")
	}
	fail = false
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "at-second-try" {
		t.Errorf("Token after the base recovered = %v, %v", tok, err)
	}
}

// TestTokenInvalidate removes the shared token only while it is the stored
// one.
func TestTokenInvalidate(t *testing.T) {
	rdb, prefix := testRedis(t)
	n := 0
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) {
		n++
		return &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	})
	ctx := context.Background()
	a := newTokenSource(t, rdb, prefix+"token", base)
	b := newTokenSource(t, rdb, prefix+"token", base)
	first, err := a.Token()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Invalidate(ctx, &oauth2.Token{AccessToken: "at-unknown"}); err != nil {
		t.Fatal(err)
	}
	if tok, err := b.Token(); err != nil || tok.AccessToken != first.AccessToken {
		t.Fatalf("Token after invalidating another token = %v, %v; want the stored %s", tok, err, first.AccessToken)
	}
	if err := b.Invalidate(ctx, first); err != nil {
		t.Fatal(err)
	}
	c := newTokenSource(t, rdb, prefix+"token", base)
	if tok, err := c.Token(); err != nil || tok.AccessToken == first.AccessToken {
		t.Fatalf("Token after Invalidate = %v, %v; want a new token", tok, err)
	}
}

// TestTokenSourceFormatsWithoutToken prints a TokenSource that has handed
// out a token in every way fmt can.
func TestTokenSourceFormatsWithoutToken(t *testing.T) {
	rdb, prefix := testRedis(t)
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "at-secret-value", Expiry: time.Now().Add(time.Hour)}, nil
	})
	ts := newTokenSource(t, rdb, prefix+"token", base)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %s", ts, ts, ts, ts)
	if strings.Contains(out, "at-secret-value") {
		t.Errorf("formatting shows the token: %s", out)
	}
	if !strings.Contains(out, prefix+"token") {
		t.Errorf("formatting does not name the key: %s", out)
	}
}

func TestNewTokenSourceRejectsBadArguments(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) { return nil, errors.New("unused") })
	tests := []struct {
		name      string
		rdb       redis.UniversalClient
		key       string
		base      oauth2.TokenSource
		opts      []tdredis.TokenSourceOption
		wantField string
	}{
		{"nil client", nil, "k", base, nil, "rdb"},
		{"empty key", rdb, "", base, nil, "key"},
		{"nil base", rdb, "k", nil, nil, "base"},
		{"lock TTL under 1ms", rdb, "k", base, []tdredis.TokenSourceOption{tdredis.WithLockTTL(time.Microsecond)}, "lockTTL"},
		{"zero max wait", rdb, "k", base, []tdredis.TokenSourceOption{tdredis.WithMaxWait(0)}, "maxWait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := tdredis.NewTokenSource(tt.rdb, tt.key, tt.base, tt.opts...)
			var ve *talkdesk.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, talkdesk.ErrInvalid) || ve.Field != tt.wantField {
				t.Fatalf("NewTokenSource = %v, %v; want a ValidationError of field %q", ts, err, tt.wantField)
			}
		})
	}
}
