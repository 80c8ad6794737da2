package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	body   []byte      // optional body as it is, when in is nil (Client.Do)
	// rawQuery is the query as it is, when query is nil (Client.Do).
	rawQuery string
	out      any // optional target for the JSON answer
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
	// redirect says a redirect answer (300, 301, 302, 303, 307 or 308)
	// with a Location is the answer the caller wants: it is returned,
	// with its Location and any JSON body, and never followed (see
	// followRedirect).
	redirect bool
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
	body := r.body
	if r.in != nil {
		var err error
		if body, err = json.Marshal(r.in); err != nil {
			return nil, fmt.Errorf("talkdesk: %s %s: encoding request: %w", r.method, r.path, err)
		}
	}
	target := c.baseURL + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	} else if r.rawQuery != "" {
		target += "?" + r.rawQuery
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
	if r.redirect {
		reqCtx = context.WithValue(reqCtx, redirectIsAnswer{}, true)
	}
	req, err := http.NewRequestWithContext(reqCtx, r.method, target, bodyReader(body))
	if err != nil {
		gate.close()
		return outcome{kind: final, err: fmt.Errorf("talkdesk: %s %s: %w", r.method, r.path, err)}
	}
	c.setHeaders(req, r, body != nil, tok)
	// What an answer or a transport error must not repeat, besides the
	// Client's own secrets: the request's and the token it carried.
	secrets := append(r.secrets[:len(r.secrets):len(r.secrets)], tok.AccessToken)

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		refused, isRefused := gate.refused()
		gate.close()
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
	if status >= 200 && status < 300 || r.redirect && redirectAnswer(status, resp.Header) {
		if err := decode(buf.Bytes(), r.out, status, r.mayBeEmpty); err != nil {
			return outcome{kind: final, err: &malformedError{method: r.method, path: r.path, why: "not the expected JSON", err: err}}
		}
		return outcome{kind: succeeded, resp: &response{StatusCode: status, Header: resp.Header}}
	}
	apiErr := newAPIError(r.method, r.path, status, resp.Header, buf.Bytes(), c.secrets, secrets...)
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
	if w, ok := out.(io.Writer); ok {
		_, err := w.Write(data)
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if status == http.StatusNoContent || status >= 300 || mayBeEmpty {
			return nil
		}
		return errors.New("empty body")
	}
	if status >= 300 && !json.Valid(data) {
		return nil // a redirect's body is not always JSON: its Location is the answer
	}
	return json.Unmarshal(data, out)
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
