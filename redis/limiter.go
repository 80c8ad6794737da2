package tdredis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
)

// Limiter is a talkdesk.Limiter whose state lives in Redis, so that every
// process using the same key shares one throttle: together they never let
// more than requests API calls start in any window of length per, the
// guarantee of talkdesk.WindowLimiter.
//
// It runs the GCRA (generic cell rate algorithm, a token bucket kept as one
// timestamp) of github.com/go-redis/redis_rate: one Lua script per Wait,
// judged by Redis's own clock, so the processes' clocks do not matter. A
// token bucket with a burst of b and a rate of r lets at most b + r·W
// requests start in a window of length W (its two ends included), so the
// Limiter runs with a burst of 1 and a rate of requests-1 per per:
// 1 + (requests-1) = requests. For Talkdesk's 100 per 60 seconds that is one
// request at once, then one every 606 ms: 99 per minute sustained, against
// 100 for the in-process WindowLimiter, which can also send all 100 at once.
// The smallest burst gives the highest sustained rate, which is what busy
// replicas sharing one connection need; [WithBurst] trades rate for burst.
//
// Because the bound holds with both ends of the window included, requests
// that arrive at Talkdesk later than they started (network delay) still
// keep the limit as long as their delays differ by less than one interval
// (per / (requests - burst)).
type Limiter struct {
	rl       *redis_rate.Limiter
	key      string
	requests int
	per      time.Duration
	limit    redis_rate.Limit
	fallback talkdesk.Limiter
	burst    int
}

// LimiterOption configures a Limiter in [NewLimiter].
type LimiterOption func(*Limiter) error

// WithBurst lets burst requests start at once when the limit has not been
// used for a while, at the cost of the sustained rate: the Limiter then
// allows requests-burst per per. burst must be at least 1 and less than
// requests; the default is 1.
func WithBurst(burst int) LimiterOption {
	return func(l *Limiter) error {
		l.burst = burst
		return nil
	}
}

// WithFallback makes Wait use l when Redis cannot be reached, instead of
// failing with [ErrUnavailable]. While Redis is down each process then
// throttles alone, so together they may exceed the shared limit; a fallback
// of talkdesk.NewWindowLimiter(requests/replicas, per) keeps the total
// within it. Every Wait tries Redis first, so the shared limit is back as
// soon as Redis is.
func WithFallback(l talkdesk.Limiter) LimiterOption {
	return func(lim *Limiter) error {
		if l == nil {
			return invalid("fallback", "must not be nil")
		}
		lim.fallback = l
		return nil
	}
}

// NewLimiter returns a Limiter that lets at most requests API requests start
// in any window of length per, counted over every process that uses the
// same Redis key. Pass it to talkdesk.WithLimiter. requests must be at least
// 2 (one start plus a rate above zero), and per/(requests-burst), the
// interval between sustained requests, at least 1 ms. The key (stored as
// "rate:" + key) should name the Talkdesk connection, such as
// "talkdesk:acme:limit". Invalid arguments fail with talkdesk.ErrInvalid.
// NewLimiter does not contact Redis.
func NewLimiter(rdb redis.UniversalClient, key string, requests int, per time.Duration, opts ...LimiterOption) (*Limiter, error) {
	if err := checkArgs(rdb, key); err != nil {
		return nil, err
	}
	if requests < 2 {
		return nil, invalid("requests", fmt.Sprintf("must be at least 2, got %d", requests))
	}
	if per <= 0 {
		return nil, invalid("per", fmt.Sprintf("must be positive, got %v", per))
	}
	l := &Limiter{rl: redis_rate.NewLimiter(rdb), key: key, requests: requests, per: per, burst: 1}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(l); err != nil {
			return nil, err
		}
	}
	if l.burst < 1 || l.burst >= requests {
		return nil, invalid("burst", fmt.Sprintf("must be between 1 and requests-1 (%d), got %d", requests-1, l.burst))
	}
	if interval := per / time.Duration(requests-l.burst); interval < minInterval {
		return nil, invalid("per", fmt.Sprintf("%d requests per %v leaves %v between sustained requests, less than the %v the Redis limiter can keep exactly", requests, per, interval, minInterval))
	}
	l.limit = gcraLimit(requests, per, l.burst)
	return l, nil
}

// minInterval is the shortest interval between sustained requests that a
// Limiter accepts. redis_rate keeps its state as float seconds since 2017,
// exact to about 60 ns today; each admitted request adds one interval to it,
// so rounding could only matter for intervals orders of magnitude below
// this, far from Talkdesk's 600 ms.
const minInterval = time.Millisecond

// gcraLimit returns the GCRA parameters that let at most requests start in
// any closed window of length per with the given burst: redis_rate admits a
// request when the theoretical arrival time (TAT) is at most (burst-1)
// emission intervals T ahead of now, and each admitted request moves the TAT
// T further, so in any window of length per at most burst + per/T requests
// are admitted. With T = per/(requests-burst) that is requests. The script
// judges "now" by Redis's TIME and lets its key expire only after the TAT
// has passed (EX ceil(TAT-now)), so no process's clock and no early expiry
// can loosen the bound.
func gcraLimit(requests int, per time.Duration, burst int) redis_rate.Limit {
	return redis_rate.Limit{Rate: requests - burst, Burst: burst, Period: per}
}

// Wait blocks until a request may start without making more than requests
// start in any window of length per across every process sharing the key,
// and records the start in Redis. It returns ctx's error if ctx is done
// first, and at once an error matching context.DeadlineExceeded when ctx's
// deadline comes before the request could start. When Redis cannot be
// reached it returns an error matching [ErrUnavailable], or waits on the
// fallback limiter given with [WithFallback]. A Wait that returns an error
// records nothing. The Redis client's own timeouts bound each round trip;
// give it ContextTimeoutEnabled so that ctx's deadline bounds them too.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := l.rl.Allow(ctx, l.key, l.limit)
		if err != nil {
			if ctx.Err() == nil && l.fallback != nil {
				return l.fallback.Wait(ctx)
			}
			return redisError(ctx, fmt.Sprintf("rate limit %q", l.key), err)
		}
		if res.Allowed > 0 {
			return nil
		}
		wait := res.RetryAfter
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return fmt.Errorf("tdredis: rate limit %q: the next request may start in %v, after the context deadline: %w", l.key, wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if err := sleepContext(ctx, wait); err != nil {
			return err
		}
	}
}

// String describes the limit, as `100 requests per 1m0s in Redis key
// "talkdesk:acme:limit" (burst 1, then one every 606ms)`.
func (l *Limiter) String() string {
	return fmt.Sprintf("%d requests per %v in Redis key %q (burst %d, then one every %v)",
		l.requests, l.per, l.key, l.burst, (l.per / time.Duration(l.limit.Rate)).Round(time.Millisecond))
}
