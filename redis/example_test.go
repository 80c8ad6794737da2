package tdredis_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
	tdredis "github.com/talkdeskgo/talkdesk/redis"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Every replica of a service builds its Client the same way: a Limiter and a
// TokenSource of its own, over keys that name the Talkdesk connection, so
// that all replicas together keep Talkdesk's 100 calls per 60 seconds and
// share one access token.
func Example() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})

	limiter, err := tdredis.NewLimiter(rdb, "talkdesk:acme:limit", 100, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &clientcredentials.Config{
		ClientID:     "my-client-id",
		ClientSecret: "my-client-secret",
		TokenURL:     "https://acme.talkdeskid.com/oauth/token",
		Scopes:       talkdesk.ConnectorScopes(),
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	// cfg.Token asks the token endpoint on every call; the TokenSource
	// calls it only when no process has a usable token.
	base := tdredis.TokenSourceFunc(func() (*oauth2.Token, error) { return cfg.Token(context.Background()) })
	tokens, err := tdredis.NewTokenSource(rdb, "talkdesk:acme:token", base)
	if err != nil {
		log.Fatal(err)
	}

	client, err := talkdesk.NewClient(
		talkdesk.WithTokenSource(tokens),
		talkdesk.WithLimiter(limiter),
	)
	if err != nil {
		log.Fatal(err)
	}
	contact, err := client.GetContact(context.Background(), "5f3e1c0a9b8d7e6f5a4b3c2d")
	if errors.Is(err, tdredis.ErrUnavailable) {
		log.Print("Redis is down: no call was sent")
	}
	_ = contact
}

// With a fallback, a process keeps calling Talkdesk while Redis is down,
// throttled alone: here each of 4 replicas takes a quarter of the limit.
func ExampleWithFallback() {
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
	local, err := talkdesk.NewWindowLimiter(100/4, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := tdredis.NewLimiter(rdb, "talkdesk:acme:limit", 100, time.Minute, tdredis.WithFallback(local))
	if err != nil {
		log.Fatal(err)
	}
	_, err = talkdesk.NewClient(
		talkdesk.WithClientCredentials("acme", "my-client-id", "my-client-secret", talkdesk.ConnectorScopes()...),
		talkdesk.WithLimiter(limiter),
	)
	if err != nil {
		log.Fatal(err)
	}
}
