package tdredis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
	tdredis "github.com/talkdeskgo/talkdesk/redis"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// redisAddrEnv names the environment variable with the address of the
// redis-server the tests use.
const redisAddrEnv = "TALKDESK_TEST_REDIS_ADDR"

// testRedis returns a client of the redis-server at $TALKDESK_TEST_REDIS_ADDR
// and a key prefix of the test's own, whose keys are deleted when the test
// ends. Without the variable the test is skipped.
func testRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv(redisAddrEnv)
	if addr == "" {
		msg := "needs a real Redis: run ../scripts/redis go test ./... in redis/, which starts a throwaway one, as .ci/run does"
		if os.Getenv("CI") != "" {
			t.Fatal(msg) // in CI a test never skips for want of a server
		}
		t.Skip(msg)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("Redis at %s (from %s): %v", addr, redisAddrEnv, err)
	}
	prefix := "tdredis-test:" + randomHex(8) + ":"
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, "*"+prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
	return rdb, prefix
}

// unreachableRedis returns a client of a loopback port nobody listens on.
func unreachableRedis(t *testing.T) *redis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// newFake starts a fake Talkdesk with one contact and returns it with the
// contact's path.
func newFake(t *testing.T) (*talkdesktest.Server, string) {
	t.Helper()
	srv := talkdesktest.NewServer()
	t.Cleanup(srv.Close)
	c := srv.AddContact(talkdesk.Contact{Name: "Ada Lovelace"})
	return srv, c.ID
}

// replica returns a Client of srv, as one replica of a service would build
// it; opts come last.
func replica(t *testing.T, srv *talkdesktest.Server, opts ...talkdesk.Option) *talkdesk.Client {
	t.Helper()
	all := append(srv.ClientOptions(), talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 1}))
	c, err := talkdesk.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// fakeBase returns a token source that asks srv's token endpoint for a new
// token on every call, as a replica's base source would.
func fakeBase(srv *talkdesktest.Server) oauth2.TokenSource {
	id, secret := srv.Credentials()
	cfg := &clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     srv.URL + talkdesktest.TokenPath,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	return tdredis.TokenSourceFunc(func() (*oauth2.Token, error) { return cfg.Token(context.Background()) })
}

// tokenClient returns a Client of srv that takes its tokens from ts, with no
// throttle.
func tokenClient(t *testing.T, srv *talkdesktest.Server, ts oauth2.TokenSource) *talkdesk.Client {
	t.Helper()
	c, err := talkdesk.NewClient(
		talkdesk.WithBaseURL(srv.URL),
		talkdesk.WithTokenSource(ts),
		talkdesk.WithRateLimit(0, 0),
		talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 1}),
	)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
