package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Client performs Talkdesk API calls for one Talkdesk connection. It is safe
// for concurrent use; share one Client rather than creating one per call, so
// that its token cache and throttle see every call.
type Client struct {
	baseURL   string // API root without a trailing slash
	hc        *http.Client
	tokens    *tokenCache
	limiter   Limiter // nil when throttling is off
	retry     RetryPolicy
	logger    *slog.Logger // nil when not logging
	userAgent string
	desc      string // what String and Format print
	secrets   *redactor

	sleep func(ctx context.Context, d time.Duration) error // tests: backoff waits
}

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

// RetryPolicy says how often and how patiently a Client retries.
//
// A 429 answer is retried after its Retry-After header (seconds or an HTTP
// date), or else after a backoff. A 5xx answer (but 501 and 505) and a
// transport error are retried only for idempotent methods (GET, PUT, DELETE,
// HEAD). A POST is retried only when Talkdesk cannot have acted on it: after
// a 429, when the connection could not be made, or when the request met a
// kept-alive connection the server had already closed. A 401
// is not a retry: the Client fetches a new token and tries once more,
// whatever MaxAttempts says.
//
// Backoffs grow exponentially with full jitter: before retry n the Client
// waits a random time between MinBackoff and min(MaxBackoff,
// MinBackoff·2^(n-1)). A Retry-After longer than MaxBackoff is not waited
// for, and neither is any wait that would end after the context's
// deadline: the last error is returned at once (for a 429, an [*APIError]
// matching [ErrRateLimited] whose RetryAfter says how long Talkdesk asked
// to wait).
type RetryPolicy struct {
	MaxAttempts int           // total tries, including the first; 1 = no retry; 0 = 4
	MinBackoff  time.Duration // 0 = 500ms
	MaxBackoff  time.Duration // 0 = 30s
}

// DefaultRetryPolicy is the policy of a Client without [WithRetryPolicy].
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}

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

// NewClient returns a Client configured by opts. Exactly one of
// [WithClientCredentials] and [WithTokenSource] is required: a Client never
// sends unauthenticated requests. Invalid options fail with [ErrInvalid].
func NewClient(opts ...Option) (*Client, error) {
	o := options{retry: DefaultRetryPolicy, now: time.Now, sleep: sleepContext}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt.apply(&o); err != nil {
			return nil, err
		}
	}
	if o.limitDesc == "" {
		l, _ := NewWindowLimiter(defaultRateRequests, defaultRatePer)
		o.limiter, o.limitDesc = l, l.String()
	}
	if o.hc == nil {
		o.hc = &http.Client{Timeout: 60 * time.Second}
	}
	o.hc = guardRedirects(o.hc)
	apiHost, identity, err := o.region.hosts()
	if err != nil {
		return nil, err
	}
	if o.baseURL == "" {
		o.baseURL = "https://" + apiHost
	}

	c := &Client{
		baseURL:   o.baseURL,
		hc:        o.hc,
		limiter:   o.limiter,
		retry:     o.retry,
		logger:    o.logger,
		userAgent: "talkdesk-go/" + Version,
		secrets:   &redactor{},
		sleep:     o.sleep,
	}
	if o.userAgent != "" {
		c.userAgent = o.userAgent + " " + c.userAgent
	}
	var auth string
	switch {
	case o.credentials != nil && o.tokenSource != nil:
		return nil, invalid("options", "WithClientCredentials and WithTokenSource exclude each other")
	case o.credentials != nil:
		if o.tokenURL == "" {
			o.tokenURL = "https://" + o.credentials.account + "." + identity + "/oauth/token"
		}
		c.secrets.addCredentials(o.credentials.clientID, o.credentials.secret)
		c.tokens = &tokenCache{fetch: clientCredentialsFetch(o.credentials, o.tokenURL, o.hc, c.secrets), now: o.now, red: c.secrets}
		auth = fmt.Sprintf("client credentials of account %q from %s", o.credentials.account, o.tokenURL)
	case o.tokenSource != nil:
		if o.tokenURL != "" {
			return nil, invalid("tokenURL", "only applies with WithClientCredentials")
		}
		f := &sourceFetcher{ts: o.tokenSource, red: c.secrets}
		c.tokens = &tokenCache{fetch: f.fetch, reject: f.invalidate, now: o.now, red: c.secrets}
		auth = "token source"
	default:
		return nil, invalid("options", "no credentials: use WithClientCredentials or WithTokenSource")
	}
	c.desc = fmt.Sprintf("talkdesk.Client{api: %s, auth: %s, limit: %s, retries: %d attempts}", c.baseURL, auth, o.limitDesc, c.retry.MaxAttempts)
	return c, nil
}

// String describes the Client without any secret.
func (c *Client) String() string { return c.desc }

// GoString is String, so %#v shows no secret either.
func (c *Client) GoString() string { return c.desc }

// Format prints String for every verb, so no formatting of a Client can
// reach its credentials or tokens.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.desc) }

// LogValue logs the Client as its description.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.desc) }

// call is one API operation, as the action methods describe it.
type call struct {
	method string
	path   string      // escaped, from buildPath
	query  url.Values  // optional
	header http.Header // optional extra headers
	in     any         // optional JSON body
	out    any         // optional target for the JSON answer
	// mayBeEmpty says a successful answer may come without a body even
	// when out is set (out is then left as it is), as when an operation
	// answers either 201 with a Location header or 200 with a JSON body.
	mayBeEmpty bool
	// readOnly says the request changes nothing at Talkdesk although its
	// method is not idempotent (a read sent as a POST): it is retried
	// after 5xx answers and lost connections like a GET.
	readOnly bool
	// secrets are strings of the request that an error answer must not
	// repeat, besides the bearer token: Talkdesk may echo what it was sent.
	secrets []string
	// verify, when set, makes the call one that must not be sent twice
	// blindly (a compare-and-set): after an attempt Talkdesk may have
	// carried out without saying so (a 5xx answer, an answer lost), it
	// reports whether the change is in place (done), or that it is not
	// and the request may be sent again.
	verify func(ctx context.Context) (done bool, err error)
}

// response is what an action may need of a successful answer beyond its
// decoded body.
type response struct {
	StatusCode int
	Header     http.Header
}

// maxResponseBytes bounds the body the Client reads from a success answer
// (ErrResponseTooLarge says 10 MiB).
const maxResponseBytes = 10 << 20

// do performs r and returns Talkdesk's answer. Each attempt (c.attempt)
// takes a token, waits on the limiter, sends the request and reads a
// bounded answer; after one that failed, decide says whether to try again
// and after how long. Every API call of the package goes through it.
func (c *Client) do(ctx context.Context, r *call) (*response, error) {
	var body []byte
	if r.in != nil {
		var err error
		if body, err = json.Marshal(r.in); err != nil {
			return nil, fmt.Errorf("talkdesk: %s %s: encoding request: %w", r.method, r.path, err)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	// A call with verify is sent again only once verify said its last
	// attempt did not take effect.
	idempotent := (r.readOnly || isIdempotent(r.method)) && r.verify == nil

	var (
		lastErr  error  // of the attempt before: what a call that stops waiting reports
		rejected string // the access token the API answered 401 to
		acted    bool   // an attempt reached Talkdesk, which may have acted without saying so
	)
	for n := 1; ; {
		o := c.attempt(ctx, r, target, body, n, rejected, lastErr)
		switch {
		case o.kind == succeeded:
			return o.resp, nil
		case o.kind == answered && o.status == http.StatusNotFound && r.method == http.MethodDelete && acted:
			// An earlier attempt may have deleted it: what the caller
			// asked for is done.
			return &response{StatusCode: o.status}, nil
		}
		if o.mayHaveActed() {
			if r.verify != nil {
				done, err := r.verify(ctx)
				switch {
				case err != nil:
					return nil, fmt.Errorf("%w; whether it took effect is unknown: %w", o.err, err)
				case done:
					return &response{StatusCode: o.status}, nil
				}
				o.kind = unsent // it did not take effect: safe to send again
			}
			acted = true
		}
		d := c.retry.decide(&o, idempotent, n, rejected != "", timeLeft(ctx), drawBackoff)
		if !d.retry {
			return nil, o.err
		}
		lastErr = o.err
		if d.renew {
			rejected = o.tok.AccessToken
			c.tokens.invalidate(ctx, o.tok)
			continue // not a retry: the same attempt with a new token
		}
		if err := c.sleep(ctx, d.wait); err != nil {
			return nil, c.stopped(r, err, lastErr)
		}
		n++
	}
}

// outcome is what one attempt of a call came to.
type outcome struct {
	kind       outcomeKind
	status     int           // the answer's status, when there was an answer
	retryAfter time.Duration // the answer's Retry-After, on 429 and 503
	err        error         // the error the call returns if this attempt is its last
	resp       *response     // the answer, when kind is succeeded
	tok        *oauth2.Token // the token the request carried
}

type outcomeKind int

const (
	succeeded outcomeKind = iota // a 2xx answer, read whole and decoded
	final                        // an error no retry can mend: a redirect refused, an answer too large or undecodable, credentials refused, the context done
	noToken                      // no token this time: the token endpoint failed or could not be reached
	unsent                       // the request failed where the server cannot have read it: no connection, or a kept-alive one the server had closed
	lost                         // the request went out and no whole answer came back
	answered                     // an answer with a status other than 2xx
)

// mayHaveActed reports whether Talkdesk may have carried out the request
// although the attempt failed: the request went out and the answer was
// lost, or was a server error.
func (o *outcome) mayHaveActed() bool {
	return o.kind == lost || o.kind == answered && o.status >= 500
}

// decision is what the Client does after an attempt that failed.
type decision struct {
	retry bool
	renew bool          // drop the token first (the API rejected it): the attempt is made again, which is no retry
	wait  time.Duration // before the retry
}

// decide says, from the outcome of attempt number n of a call (1 for the
// first; an attempt made again with a renewed token keeps its number),
// whether to try again and after how long. idempotent says the request may
// be carried out twice (GET, PUT, DELETE, and reads sent as POST); renewed
// that a 401 already renewed the token in this call; left is the time
// until the caller's deadline. draw returns the jittered backoff between
// lo and hi. decide depends on nothing else.
//
// A 401 renews the token once, whatever the attempt. A 429, a token
// endpoint that failed and a request that cannot have reached Talkdesk are
// retried for any method; a 5xx (but 501 and 505) and a request lost after
// it went out only when idempotent. A retry waits the answer's
// Retry-After, or else the backoff; a wait past the policy's MaxBackoff or
// the deadline is not started, and the attempt's error is the call's.
func (p RetryPolicy) decide(o *outcome, idempotent bool, n int, renewed bool, left time.Duration, draw func(lo, hi time.Duration) time.Duration) decision {
	switch o.kind {
	case answered:
		if o.status == http.StatusUnauthorized {
			return decision{retry: !renewed, renew: !renewed}
		}
		if o.status != http.StatusTooManyRequests && !(idempotent && retryableStatus(o.status)) {
			return decision{}
		}
	case noToken, unsent:
	case lost:
		if !idempotent {
			return decision{}
		}
	default:
		return decision{}
	}
	if n >= p.MaxAttempts {
		return decision{}
	}
	wait := o.retryAfter
	if wait > 0 {
		if wait > p.MaxBackoff {
			return decision{}
		}
	} else {
		wait = draw(p.MinBackoff, p.ceiling(n))
	}
	if wait > left {
		return decision{}
	}
	return decision{retry: true, wait: wait}
}

// ceiling returns the longest backoff before retry n (1 for the first):
// min(MaxBackoff, MinBackoff·2^(n-1)).
func (p RetryPolicy) ceiling(n int) time.Duration {
	if shift := n - 1; shift < 32 && p.MinBackoff<<shift < p.MaxBackoff && p.MinBackoff<<shift > 0 {
		return p.MinBackoff << shift
	}
	return p.MaxBackoff
}

// drawBackoff returns a uniformly random wait in [lo, hi]: full jitter.
func drawBackoff(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo+1)
}

// timeLeft returns the time until ctx's deadline, or the longest
// duration when it has none.
func timeLeft(ctx context.Context) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return time.Until(deadline)
	}
	return math.MaxInt64
}

// attempt makes attempt number n of r: it takes a token, waits on the
// limiter (only then: a token that cannot be had costs no slot), sends the
// request and reads the answer. rejected is a token the API refused in
// this call, and lastErr the error of the attempt before.
func (c *Client) attempt(ctx context.Context, r *call, target string, body []byte, n int, rejected string, lastErr error) outcome {
	tok, o := c.token(ctx, r, lastErr)
	if o != nil {
		return *o
	}
	if rejected != "" && tok.AccessToken == rejected {
		return outcome{kind: final, err: lastErr} // the token source has nothing newer
	}
	if err := c.wait(ctx); err != nil {
		return outcome{kind: final, err: c.stopped(r, err, lastErr)}
	}
	// The wait may have been long enough for the token to be due.
	if tok, o = c.token(ctx, r, lastErr); o != nil {
		return *o
	}

	gate := c.newReplayGate(ctx, r.method)
	reqCtx := ctx
	if gate != nil {
		reqCtx = gate.ctx
	}
	req, err := http.NewRequestWithContext(reqCtx, r.method, target, bodyReader(body))
	if err != nil {
		gate.close()
		return outcome{kind: final, err: fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)}
	}
	c.setHeaders(req, r, body != nil, tok)

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		refused, isRefused := gate.refused()
		gate.close()
		secrets := append(r.secrets[:len(r.secrets):len(r.secrets)], tok.AccessToken)
		err = unwrapURLError(err)
		var redirect *RedirectError
		if errors.As(err, &redirect) {
			redirect.Origin = c.secrets.clean(redirect.Origin, secrets...)
			c.log(ctx, r, redirect.StatusCode, n, start, err)
			return outcome{kind: final, err: fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)}
		}
		err = c.secrets.scrub(err, secrets...)
		c.log(ctx, r, 0, n, start, err)
		switch {
		case ctx.Err() != nil:
			return outcome{kind: final, err: c.stopped(r, ctx.Err(), lastErr)}
		case isRefused:
			return outcome{kind: final, err: c.stopped(r, refused.err, lastErr)}
		case notSent(err):
			return outcome{kind: unsent, err: fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)}
		}
		return outcome{kind: lost, err: fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)}
	}

	buf, err := readBody(resp)
	defer putBuffer(buf)
	gate.close() // the body is read and closed: the request is over
	c.log(ctx, r, resp.StatusCode, n, start, err)
	if err != nil {
		if ctx.Err() != nil {
			return outcome{kind: final, err: c.stopped(r, ctx.Err(), lastErr)}
		}
		err = fmt.Errorf("talkdesk: %s %s: reading response: %w", r.method, r.path, err)
		if errors.Is(err, ErrResponseTooLarge) {
			return outcome{kind: final, err: err}
		}
		// A success answer cut short: Talkdesk acted.
		return outcome{kind: lost, status: resp.StatusCode, err: err}
	}

	status := resp.StatusCode
	if status >= 200 && status < 300 {
		if err := decode(buf.Bytes(), r.out, status, r.mayBeEmpty); err != nil {
			return outcome{kind: final, err: &malformedError{method: r.method, path: r.path, why: "not the expected JSON", err: err}}
		}
		return outcome{kind: succeeded, resp: &response{StatusCode: status, Header: resp.Header}}
	}
	apiErr := newAPIError(r.method, r.path, status, resp.Header, buf.Bytes(), c.secrets, append(r.secrets[:len(r.secrets):len(r.secrets)], tok.AccessToken)...)
	return outcome{kind: answered, status: status, retryAfter: apiErr.RetryAfter, err: apiErr, tok: tok}
}

// token returns the token for an attempt of r, or the outcome of an attempt
// that could not have one.
func (c *Client) token(ctx context.Context, r *call, lastErr error) (*oauth2.Token, *outcome) {
	tok, err := c.tokens.token(ctx)
	if err == nil {
		return tok, nil
	}
	if ctx.Err() != nil {
		return nil, &outcome{kind: final, err: c.stopped(r, ctx.Err(), lastErr)}
	}
	var te *TokenError
	if errors.As(err, &te) && te.temporary() {
		return nil, &outcome{kind: noToken, err: err}
	}
	return nil, &outcome{kind: final, err: err}
}

// replayGate makes every connection net/http's Transport takes for one
// request after the first wait on the limiter too: the Transport sends a
// GET again by itself when a kept-alive connection fails before any
// answer, and that request, which the server may have seen twice, would
// otherwise pass the throttle. When the
// limiter refuses such a wait, the gate cancels the request with
// limiterRefused.
type replayGate struct {
	limiter Limiter
	ctx     context.Context // the request's: ctx of do, with cancel and the trace
	cancel  context.CancelCauseFunc
	conns   atomic.Int32
	trace   httptrace.ClientTrace
}

// newReplayGate returns a gate for a request of ctx, or nil when
// throttling is off or net/http never sends a request with this method
// twice (it replays GET, HEAD and OPTIONS; a POST, PUT or DELETE only when
// not a byte of it reached the server). Give the request g.ctx, and call
// g.close once its answer's body is read or the request failed.
func (c *Client) newReplayGate(ctx context.Context, method string) *replayGate {
	switch {
	case c.limiter == nil:
		return nil
	case method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions:
		return nil
	}
	g := &replayGate{limiter: c.limiter}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	g.trace.GetConn = g.getConn
	g.ctx = httptrace.WithClientTrace(g.ctx, &g.trace)
	return g
}

func (g *replayGate) getConn(string) {
	if g.conns.Add(1) == 1 {
		return // the first send waited in do
	}
	if err := g.limiter.Wait(g.ctx); err != nil {
		g.cancel(limiterRefused{err})
	}
}

// refused returns the limiter's error if the gate cancelled the request.
func (g *replayGate) refused() (limiterRefused, bool) {
	var r limiterRefused
	ok := g != nil && errors.As(context.Cause(g.ctx), &r)
	return r, ok
}

// close releases the request's context.
func (g *replayGate) close() {
	if g != nil {
		g.cancel(nil)
	}
}

// limiterRefused is the limiter's error for a request net/http was about
// to send again.
type limiterRefused struct{ err error }

func (e limiterRefused) Error() string { return e.err.Error() }

// buildPath fills the {name} parameters of tmpl with params, in order, each
// validated and escaped as one path segment: an ID can never add a segment,
// a query or a fragment, or climb with "..". Validation errors name the
// parameter as the template does.
func buildPath(tmpl string, params ...string) (string, error) {
	var b strings.Builder
	b.Grow(len(tmpl) + 16*len(params))
	for _, v := range params {
		open := strings.IndexByte(tmpl, '{')
		end := strings.IndexByte(tmpl, '}')
		if open < 0 || end < open {
			return "", fmt.Errorf("talkdesk: internal error: path template %q has fewer parameters than given", tmpl)
		}
		if err := validatePathParam(tmpl[open+1:end], v); err != nil {
			return "", err
		}
		b.WriteString(tmpl[:open])
		b.WriteString(url.PathEscape(v))
		tmpl = tmpl[end+1:]
	}
	if strings.IndexByte(tmpl, '{') >= 0 {
		return "", fmt.Errorf("talkdesk: internal error: path template %q has more parameters than given", tmpl)
	}
	b.WriteString(tmpl)
	return b.String(), nil
}

// wait waits for the limiter, if throttling is on.
func (c *Client) wait(ctx context.Context) error {
	if c.limiter == nil {
		return ctx.Err()
	}
	return c.limiter.Wait(ctx)
}

// stopped builds the error of a call that ended while waiting: the
// context's error (or the limiter's), wrapping the last error too when
// there was one.
func (c *Client) stopped(r *call, err, lastErr error) error {
	if lastErr != nil {
		return fmt.Errorf("talkdesk: %s %s: %w (after: %w)", r.method, r.path, err, lastErr)
	}
	return fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)
}

// setHeaders sets the headers every request carries, then r's own.
func (c *Client) setHeaders(req *http.Request, r *call, hasBody bool, tok *oauth2.Token) {
	h := req.Header
	h["Accept"] = jsonType
	h["User-Agent"] = []string{c.userAgent}
	if hasBody {
		h["Content-Type"] = jsonType
	}
	for k, v := range r.header {
		h[k] = v
	}
	tok.SetAuthHeader(req)
}

var jsonType = []string{"application/json"}

// log writes the line of one attempt, if the Client has a logger.
func (c *Client) log(ctx context.Context, r *call, status, attempt int, start time.Time, err error) {
	if c.logger == nil {
		return
	}
	level := slog.LevelDebug
	if err != nil || status >= 400 {
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "talkdesk request", attrs...)
}

func bodyReader(body []byte) io.Reader {
	if body == nil {
		return nil
	}
	return bytes.NewReader(body)
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxErrorBodyBytes bounds what the Client reads of an error answer: far
// more than any error body Talkdesk sends.
const maxErrorBodyBytes = 1 << 20

// readBody reads resp's body into a pooled buffer and always closes the
// body. Of a success answer it reads at most maxResponseBytes, and fails
// when there is more (at once, unread, when the answer declares it) or the
// body is cut short. Of an error answer it keeps
// what it could read of the first maxErrorBodyBytes and never fails: the
// status decides what happens next (a 429 or a 401 says Talkdesk did not
// act), and a body too long or cut short only loses the error's details.
func readBody(resp *http.Response) (*bytes.Buffer, error) {
	defer resp.Body.Close()
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = buf.ReadFrom(io.LimitReader(resp.Body, maxErrorBodyBytes))
		return buf, nil
	}
	if resp.ContentLength > maxResponseBytes {
		return buf, ErrResponseTooLarge // refused unread
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err == nil && buf.Len() > maxResponseBytes {
		err = ErrResponseTooLarge
	}
	return buf, err
}

// putBuffer returns buf to the pool unless it grew large.
func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 1<<20 {
		bufferPool.Put(buf)
	}
}

// decode unmarshals a successful answer into out. An empty body is an
// error when an answer was expected, except for 204 No Content and calls
// whose answer may be empty.
func decode(data []byte, out any, status int, mayBeEmpty bool) error {
	if out == nil {
		return nil
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if status == http.StatusNoContent || mayBeEmpty {
			return nil
		}
		return errors.New("empty body")
	}
	return json.Unmarshal(data, out)
}

// isIdempotent reports whether a request with this method may be sent
// twice without a different effect.
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// retryableStatus reports whether a 5xx status may pass if tried again.
func retryableStatus(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported
}

// notSent reports whether err shows that the server cannot have read the
// request, let alone acted on it: the connection could not be made, or
// the server had closed the kept-alive connection before the request
// went out on it.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || isServerClosedIdle(err)
}

// serverClosedIdle is the text of net/http's error for a request that met
// a kept-alive connection the server had closed while it was idle: the
// Transport saw the server's FIN before it took the request, so the server
// never read it (https://go.dev/issue/19943). The Transport sends a GET
// again by itself then, but not a POST. The error is unexported, so its
// text is all there is to recognise it by.
const serverClosedIdle = "http: server closed idle connection"

func isServerClosedIdle(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == serverClosedIdle {
			return true
		}
	}
	return false
}

// unwrapURLError drops the *url.Error around a transport error: its URL
// would repeat the query, and the error names method and path anyway.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// temporary reports whether asking again may give a token.
func (e *TokenError) temporary() bool { return e.transient }
