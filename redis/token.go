package tdredis

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/talkdeskgo/talkdesk"
	"golang.org/x/oauth2"
)

// TokenSource is an oauth2.TokenSource that shares one access token between
// every process using the same Redis key. Pass it to talkdesk.WithTokenSource.
//
// When a process needs a token and Redis holds none, it takes a short lock
// (SET key:lock NX PX with a random value), fetches a token from its base
// source, stores it under the key and releases the lock (deleting it only if
// it still holds the random value); processes that find the lock taken poll
// Redis, with a growing delay, until the token appears. A lock whose holder
// died is gone after its TTL ([WithLockTTL]), and the next process fetches.
//
// The token is stored in Redis as JSON (access token, type and expiry; never
// the refresh token) with a TTL ending before the token expires: 30 seconds
// before, or half its lifetime for tokens shorter than a minute; a token
// without expiry is stored without TTL. A token past its expiry is never
// served, whatever Redis holds. TokenSource logs nothing, and formatting it
// prints no token.
//
// When the API rejects the shared token, a talkdesk.Client calls
// [TokenSource.Invalidate] (it implements talkdesk.TokenInvalidator), which
// deletes the token from Redis if it is still the stored one; the next
// Token call of any process then fetches a new one for everybody. One
// TokenSource may serve any number of Clients.
type TokenSource struct {
	rdb     redis.UniversalClient
	key     string
	lockKey string
	base    oauth2.TokenSource
	lockTTL time.Duration
	maxWait time.Duration

	mu sync.Mutex // one Token call of this process at a time
}

// A Client tells a TokenSource of the tokens the API rejects.
var _ talkdesk.TokenInvalidator = (*TokenSource)(nil)

// Defaults of the TokenSource options.
const (
	DefaultLockTTL = 10 * time.Second
	DefaultMaxWait = 30 * time.Second
)

// How long before its expiry a stored token leaves Redis, and how the
// waiters for a token poll.
const (
	expiryMargin = 30 * time.Second
	minPoll      = 5 * time.Millisecond
	maxPoll      = 200 * time.Millisecond
)

// TokenSourceOption configures a TokenSource in [NewTokenSource].
type TokenSourceOption func(*TokenSource) error

// WithLockTTL sets how long the lock taken to fetch a token lives if its
// holder never releases it (because it died): other processes wait at most
// that long before one of them fetches instead. It should exceed the time a
// token request takes. The default is [DefaultLockTTL].
func WithLockTTL(d time.Duration) TokenSourceOption {
	return func(s *TokenSource) error {
		if d < time.Millisecond {
			return invalid("lockTTL", fmt.Sprintf("must be at least 1ms, got %v", d))
		}
		s.lockTTL = d
		return nil
	}
}

// WithMaxWait bounds how long Token waits on Redis and on another process's
// fetch before it gives up with an error. The default is [DefaultMaxWait].
// It does not bound the base source's own fetch, which takes no context.
func WithMaxWait(d time.Duration) TokenSourceOption {
	return func(s *TokenSource) error {
		if d <= 0 {
			return invalid("maxWait", fmt.Sprintf("must be positive, got %v", d))
		}
		s.maxWait = d
		return nil
	}
}

// NewTokenSource returns a TokenSource that shares, under key (such as
// "talkdesk:acme:token"; the lock is key + ":lock"), the tokens it gets from
// base. base is called only when a new token is needed (none stored, the
// stored one expiring or rejected), so it should fetch a new token on each
// call: an oauth2.ReuseTokenSource, like the one clientcredentials.Config's
// TokenSource returns, would hand back a rejected token again until it
// expires. [TokenSourceFunc] adapts clientcredentials.Config.Token.
// NewTokenSource does not contact Redis.
func NewTokenSource(rdb redis.UniversalClient, key string, base oauth2.TokenSource, opts ...TokenSourceOption) (*TokenSource, error) {
	if err := checkArgs(rdb, key); err != nil {
		return nil, err
	}
	if base == nil {
		return nil, invalid("base", "must not be nil")
	}
	s := &TokenSource{rdb: rdb, key: key, lockKey: key + ":lock", base: base, lockTTL: DefaultLockTTL, maxWait: DefaultMaxWait}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// TokenSourceFunc adapts a function to an oauth2.TokenSource, such as
// func() (*oauth2.Token, error) { return cfg.Token(ctx) } for a
// clientcredentials.Config cfg, which asks the token endpoint on every call.
type TokenSourceFunc func() (*oauth2.Token, error)

// Token calls f.
func (f TokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// Token returns the access token stored in Redis or, when there is none
// usable, fetches one from the base source (one process at a time, under
// the lock) and stores it for the others. It fails with an error matching
// [ErrUnavailable] when Redis cannot be reached, with the base source's
// error when the fetch fails, and with context.DeadlineExceeded when no
// token came within the maximum wait.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.maxWait)
	defer cancel()

	poll := minPoll
	for {
		tok, _, err := s.load(ctx)
		if err != nil {
			return nil, err
		}
		if tok != nil {
			return tok, nil
		}

		lock := randomValue()
		ok, err := s.rdb.SetNX(ctx, s.lockKey, lock, s.lockTTL).Result()
		if err != nil {
			return nil, s.redisError(ctx, err)
		}
		if ok {
			return s.fetchLocked(ctx, lock)
		}
		// Another process is fetching: wait for its token, or for its lock
		// to be released or to expire.
		if err := sleepContext(ctx, poll/2+rand.N(poll/2+1)); err != nil {
			return nil, fmt.Errorf("tdredis: token %q: no token after waiting %v while another process held %q: %w", s.key, s.maxWait, s.lockKey, err)
		}
		poll = min(2*poll, maxPoll)
	}
}

// fetchLocked fetches a token from the base source while holding the lock
// whose value is lock, stores it and releases the lock.
func (s *TokenSource) fetchLocked(ctx context.Context, lock string) (*oauth2.Token, error) {
	defer func() {
		// A lock that expired meanwhile is someone else's and stays.
		_ = s.deleteIfEqual(context.WithoutCancel(ctx), s.lockKey, lock)
	}()
	// The previous holder may have stored a token between our look and
	// our lock.
	tok, _, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	if tok != nil {
		return tok, nil
	}

	tok, err = s.base.Token()
	if err != nil {
		return nil, fmt.Errorf("tdredis: token %q: fetching from the base source: %w", s.key, err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("tdredis: token %q: the base source returned no access token", s.key)
	}
	// Failing to store only keeps a good token from being shared; the next
	// Token call meets Redis's trouble and reports it.
	_ = s.store(ctx, tok)
	return tok, nil
}

// Invalidate removes tok from Redis if it is still the shared token, so that
// the next Token call of any process fetches a new one. A talkdesk.Client
// calls it when the API answers 401; call it yourself when the API rejected
// tok in a way the Client does not see.
func (s *TokenSource) Invalidate(ctx context.Context, tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return nil
	}
	stored, raw, err := s.load(ctx)
	if err != nil || stored == nil || stored.AccessToken != tok.AccessToken {
		return err
	}
	if err := s.deleteIfEqual(ctx, s.key, raw); err != nil {
		return s.redisError(ctx, err)
	}
	return nil
}

// storedToken is the JSON form of a token in Redis.
type storedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type,omitempty"`
	Expiry      time.Time `json:"expiry,omitzero"`
}

// load returns the token stored in Redis and its raw value, or nil when
// there is none that may be served: none stored, an unreadable value, or a
// token past its expiry.
func (s *TokenSource) load(ctx context.Context) (*oauth2.Token, string, error) {
	raw, err := s.rdb.Get(ctx, s.key).Result()
	if errors.Is(err, redis.Nil) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", s.redisError(ctx, err)
	}
	var st storedToken
	if json.Unmarshal([]byte(raw), &st) != nil || st.AccessToken == "" {
		return nil, raw, nil // overwritten by the next fetch
	}
	if !st.Expiry.IsZero() && !time.Now().Before(st.Expiry) {
		return nil, raw, nil
	}
	return &oauth2.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, Expiry: st.Expiry}, raw, nil
}

// store puts tok in Redis with a TTL ending before its expiry; a token too
// close to its expiry to be shared is not stored.
func (s *TokenSource) store(ctx context.Context, tok *oauth2.Token) error {
	var ttl time.Duration
	if !tok.Expiry.IsZero() {
		if ttl = storeTTL(time.Until(tok.Expiry)); ttl < time.Millisecond {
			return nil
		}
	}
	raw, err := json.Marshal(storedToken{AccessToken: tok.AccessToken, TokenType: tok.TokenType, Expiry: tok.Expiry})
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, s.key, raw, ttl).Err()
}

// storeTTL returns how long a token with this much lifetime left stays in
// Redis: until expiryMargin before its expiry, or half its lifetime when
// that is shorter.
func storeTTL(lifetime time.Duration) time.Duration {
	return lifetime - min(expiryMargin, lifetime/2)
}

// deleteIfEqualScript deletes KEYS[1] only if it holds ARGV[1].
var deleteIfEqualScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then
	return redis.call("DEL", KEYS[1])
end
return 0
`)

// deleteIfEqual deletes key only if it still holds value.
func (s *TokenSource) deleteIfEqual(ctx context.Context, key, value string) error {
	return deleteIfEqualScript.Run(ctx, s.rdb, []string{key}, value).Err()
}

func (s *TokenSource) redisError(ctx context.Context, err error) error {
	return redisError(ctx, fmt.Sprintf("token %q", s.key), err)
}

// String describes the TokenSource without any token.
func (s *TokenSource) String() string {
	return fmt.Sprintf("tdredis.TokenSource{key: %q, lock TTL: %v}", s.key, s.lockTTL)
}

// GoString is String, so that %#v prints no token either.
func (s *TokenSource) GoString() string { return s.String() }

// Format prints String for every verb.
func (s *TokenSource) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// randomValue returns 128 random bits in hex, the value of one lock.
func randomValue() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:])
	return hex.EncodeToString(b[:])
}
