package talkdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Option configures a Client in [NewClient].
type Option interface {
	apply(*options) error
}

type optionFunc func(*options) error

func (f optionFunc) apply(o *options) error { return f(o) }

// options collects what the Options set before NewClient builds the Client.
type options struct {
	credentials *credentials
	tokenSource oauth2.TokenSource
	region      Region
	baseURL     string
	tokenURL    string
	hc          *http.Client
	limiter     Limiter
	limitDesc   string
	retry       RetryPolicy
	logger      *slog.Logger
	userAgent   string

	now   func() time.Time                                 // tests: the clock of the token cache
	sleep func(ctx context.Context, d time.Duration) error // tests: backoff waits
}

// WithRegion selects the Talkdesk region of the account: it sets the API
// root and the host of the OAuth token endpoint. The default is RegionUS.
func WithRegion(r Region) Option {
	return optionFunc(func(o *options) error {
		if _, _, err := r.hosts(); err != nil {
			return err
		}
		o.region = r
		return nil
	})
}

// WithBaseURL sets the API root, such as a proxy or a fake Talkdesk, in
// place of the region's (https://api.talkdeskapp.com in the US). Paths of
// the API are appended to it.
func WithBaseURL(rawURL string) Option {
	return optionFunc(func(o *options) error {
		u, err := parseHTTPURL("baseURL", rawURL)
		if err != nil {
			return err
		}
		o.baseURL = strings.TrimSuffix(u.String(), "/")
		return nil
	})
}

// WithTokenURL sets the OAuth token endpoint used with
// [WithClientCredentials], in place of the account's.
func WithTokenURL(rawURL string) Option {
	return optionFunc(func(o *options) error {
		u, err := parseHTTPURL("tokenURL", rawURL)
		if err != nil {
			return err
		}
		o.tokenURL = u.String()
		return nil
	})
}

// WithHTTPClient sets the HTTP client for API and token requests. The
// default has a 60-second timeout per request; the context of each call
// bounds it too. The Client sends through a copy of hc whose Transport
// wraps hc's and refuses every redirect (see [RedirectError]), whatever
// hc's CheckRedirect says; hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(o *options) error {
		if hc == nil {
			return invalid("httpClient", "must not be nil")
		}
		o.hc = hc
		return nil
	})
}

// WithRateLimit lets at most requests API requests start in any window of
// length per (see [WindowLimiter]); the default is Talkdesk's limit of 100
// per 60 seconds. requests <= 0 turns throttling off.
func WithRateLimit(requests int, per time.Duration) Option {
	return optionFunc(func(o *options) error {
		if requests <= 0 {
			o.limiter, o.limitDesc = nil, "off"
			return nil
		}
		l, err := NewWindowLimiter(requests, per)
		if err != nil {
			return err
		}
		o.limiter, o.limitDesc = l, l.String()
		return nil
	})
}

// WithLimiter replaces the built-in throttle with l, for example one
// [WindowLimiter] shared by several Clients of the same connection, or a
// limiter shared between processes.
func WithLimiter(l Limiter) Option {
	return optionFunc(func(o *options) error {
		if l == nil {
			return invalid("limiter", "must not be nil (use WithRateLimit(0, 0) to turn throttling off)")
		}
		o.limiter, o.limitDesc = l, fmt.Sprintf("%T", l)
		return nil
	})
}

// WithLogger makes the Client log one line per HTTP attempt: method, path
// (without the query), status, attempt number and duration. Successful
// attempts are logged at Debug level, failed ones at Warn. Headers, bodies
// and tokens are never logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) error {
		o.logger = l
		return nil
	})
}

// WithUserAgent puts ua in front of the SDK's own User-Agent
// ("talkdesk-go/Version").
func WithUserAgent(ua string) Option {
	return optionFunc(func(o *options) error {
		if strings.ContainsFunc(ua, isControl) {
			return invalid("userAgent", "must not contain control characters")
		}
		o.userAgent = ua
		return nil
	})
}

// WithRetryPolicy sets how the Client retries; zero fields keep their
// defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return optionFunc(func(o *options) error {
		if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
			return invalid("retryPolicy", "fields must not be negative")
		}
		if p.MaxAttempts == 0 {
			p.MaxAttempts = DefaultRetryPolicy.MaxAttempts
		}
		if p.MinBackoff == 0 {
			p.MinBackoff = DefaultRetryPolicy.MinBackoff
			if p.MaxBackoff > 0 {
				p.MinBackoff = min(p.MinBackoff, p.MaxBackoff)
			}
		}
		if p.MaxBackoff == 0 {
			p.MaxBackoff = max(DefaultRetryPolicy.MaxBackoff, p.MinBackoff)
		}
		if p.MinBackoff > p.MaxBackoff {
			return invalid("retryPolicy", "MinBackoff must not exceed MaxBackoff")
		}
		o.retry = p
		return nil
	})
}

// ErrNoCredentials is the error of [OptionsFromEnv] when none of
// TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET is set.
var ErrNoCredentials = errors.New("talkdesk: no credentials: set TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET")

// OptionsFromEnv returns the options of a Client from the environment, as
// getenv reads it (os.Getenv): TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and
// TALKDESK_CLIENT_SECRET (all three, for [WithClientCredentials]),
// TALKDESK_REGION (us, eu or ca; us when empty), TALKDESK_SCOPES (the
// scopes, separated by spaces; ConnectorScopes and extra when empty), and
// TALKDESK_BASE_URL and TALKDESK_TOKEN_URL (a proxy, or a fake such as
// talkdesktest's). None of the three credentials set fails with
// [ErrNoCredentials]; some but not all with [ErrInvalid].
func OptionsFromEnv(getenv func(string) string, extra ...string) ([]Option, error) {
	account, id, secret := getenv("TALKDESK_ACCOUNT"), getenv("TALKDESK_CLIENT_ID"), getenv("TALKDESK_CLIENT_SECRET")
	switch {
	case account == "" && id == "" && secret == "":
		return nil, ErrNoCredentials
	case account == "" || id == "" || secret == "":
		return nil, invalid("environment", "set all of TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET, or none")
	}
	scopes := append(ConnectorScopes(), extra...)
	if s := getenv("TALKDESK_SCOPES"); s != "" {
		scopes = strings.Fields(s)
	}
	opts := []Option{WithClientCredentials(account, id, secret, scopes...)}
	if r := getenv("TALKDESK_REGION"); r != "" {
		opts = append(opts, WithRegion(Region(strings.ToLower(r))))
	}
	if u := getenv("TALKDESK_BASE_URL"); u != "" {
		opts = append(opts, WithBaseURL(u))
	}
	if u := getenv("TALKDESK_TOKEN_URL"); u != "" {
		opts = append(opts, WithTokenURL(u))
	}
	return opts, nil
}
