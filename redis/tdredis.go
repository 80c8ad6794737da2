// Package tdredis shares one Talkdesk connection's throttle and access token
// between processes, through Redis.
//
// Its import path is github.com/talkdeskgo/talkdesk/redis, a module of its
// own so that the SDK gains no Redis dependency; its name is tdredis, not
// redis, so that it does not clash with the client it works with,
// github.com/redis/go-redis/v9, whose package is redis and which a program
// imports beside it.
//
// Talkdesk's limit of 100 API calls per 60 seconds belongs to the connection,
// not to the process: four replicas of a service, each with the built-in
// limiter of package talkdesk, send up to four times the limit and get 429s,
// and each fetches its own token. Give every replica's Client the same
// Redis-backed limiter and token source instead, under keys named for the
// connection:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	limiter, err := tdredis.NewLimiter(rdb, "talkdesk:acme:limit", 100, time.Minute)
//	...
//	tokens, err := tdredis.NewTokenSource(rdb, "talkdesk:acme:token", base)
//	...
//	client, err := talkdesk.NewClient(
//		talkdesk.WithTokenSource(tokens),
//		talkdesk.WithLimiter(limiter),
//	)
//
// [NewLimiter] keeps the guarantee of talkdesk.WindowLimiter (never more than
// N requests start in any window of the given length) across every process
// that shares the key; [NewTokenSource] makes one process fetch the token and
// the others read it from Redis.
//
// When Redis cannot be reached, both fail with an error matching
// [ErrUnavailable] rather than silently letting every process call Talkdesk
// on its own; [WithFallback] chooses a local limiter for that case instead.
//
// The package lives in its own module, so that package talkdesk itself does
// not depend on Redis.
package tdredis

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
)

// ErrUnavailable matches the errors of calls that failed because Redis could
// not be reached or did not answer: no connection, a timeout, a server that
// is loading, read-only or refuses the command.
var ErrUnavailable = errors.New("tdredis: Redis unavailable")

// unavailableError is a Redis failure during op; it matches ErrUnavailable
// and the error from Redis.
type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string {
	return "tdredis: " + e.op + ": Redis unavailable: " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// redisError turns the error of a Redis command into the error of op: the
// caller's context error when ctx is done (the command was abandoned, not
// refused), an unavailableError otherwise.
func redisError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return &unavailableError{op: op, err: err}
}

// checkArgs validates what NewLimiter and NewTokenSource share.
func checkArgs(rdb redis.UniversalClient, key string) error {
	if rdb == nil {
		return invalid("rdb", "must not be nil")
	}
	if key == "" {
		return invalid("key", "must not be empty")
	}
	return nil
}

// invalid reports a rejected argument; it matches talkdesk.ErrInvalid.
func invalid(field, reason string) error {
	return &talkdesk.ValidationError{Field: field, Reason: reason}
}

// sleepContext waits for d or until ctx is done, whichever comes first.
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
