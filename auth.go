package talkdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ConnectorScopes are the OAuth scopes the official Talkdesk connector asks
// for: enough for every action and trigger of this package.
func ConnectorScopes() []string {
	return []string{"contacts:read", "callback:write", "users:read", "webhooks-trigger:write", "scim"}
}

// WithClientCredentials makes the Client authenticate with the OAuth 2
// client-credentials grant: it asks the account's token endpoint
// (https://{account}.talkdeskid.com/oauth/token, or its EU or CA twin per
// [WithRegion], or [WithTokenURL]) for a token, with the client ID and
// secret in HTTP Basic auth and grant_type and scopes in the form body.
// Tokens are cached until shortly before they expire; when the API answers
// 401 the Client fetches a new one and tries the call once more.
//
// account is the Talkdesk account name, the first label of the account's
// host name (acme for acme.mytalkdesk.com). It must be a DNS label: ASCII
// letters, digits and inner hyphens, 1 to 63 of them. The secret is kept
// out of every error, log line and formatted value.
func WithClientCredentials(account, clientID, clientSecret string, scopes ...string) Option {
	return optionFunc(func(o *options) error {
		if err := validateAccount(account); err != nil {
			return err
		}
		if clientID == "" {
			return invalid("clientID", "must not be empty")
		}
		if clientSecret == "" {
			return invalid("clientSecret", "must not be empty")
		}
		o.credentials = &credentials{
			account:  account,
			clientID: clientID,
			secret:   clientSecret,
			scopes:   append([]string(nil), scopes...),
		}
		return nil
	})
}

// WithTokenSource makes the Client take its tokens from ts, such as the
// source AuthCodeConfig(...).TokenSource(ctx, token) returns, which refreshes
// the token with its refresh token. The Client caches what ts returns until
// shortly before it expires; after a 401 it tells ts if ts implements
// [TokenInvalidator], asks ts again and retries the call once if ts
// returned a different token.
//
// ts.Token takes no context, so it runs in a goroutine of its own: a call
// returns when its context is done, and a token that comes later is used by
// the next call. Of an error from ts, the Client keeps the status and a
// registered OAuth error code, not the description, which could echo
// secrets of ts's that the Client cannot know to redact.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return optionFunc(func(o *options) error {
		if ts == nil {
			return invalid("tokenSource", "must not be nil")
		}
		o.tokenSource = ts
		return nil
	})
}

// AuthCodeConfig returns the OAuth 2 configuration of the authorization-code
// flow for a Talkdesk account, as the Talkdesk connector uses it: the
// account's authorize and token endpoints for the region
// (https://{account}.talkdeskid.com/oauth/authorize and /oauth/token in the
// US), the client ID and secret (sent in HTTP Basic auth), the redirect URL
// and the scopes ([ConnectorScopes] gives the connector's).
//
// Send users to cfg.AuthCodeURL(state), exchange the code with
// cfg.Exchange, and give cfg.TokenSource(ctx, token) to [WithTokenSource].
// That source refreshes through the HTTP client of ctx (see
// oauth2.HTTPClient), not the Client's: give it one whose CheckRedirect
// returns http.ErrUseLastResponse, so that a redirect of the token endpoint
// gets neither the client secret nor the refresh token.
func AuthCodeConfig(account string, region Region, clientID, clientSecret, redirectURL string, scopes ...string) (*oauth2.Config, error) {
	if err := validateAccount(account); err != nil {
		return nil, err
	}
	_, identity, err := region.hosts()
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		return nil, invalid("clientID", "must not be empty")
	}
	if _, err := parseHTTPURL("redirectURL", redirectURL); err != nil {
		return nil, err
	}
	base := "https://" + account + "." + identity + "/oauth/"
	return &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "authorize",
			TokenURL:  base + "token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: redirectURL,
		Scopes:      append([]string(nil), scopes...),
	}, nil
}

// credentials are the client-credentials settings. They are only reachable
// through pointers and closures, so formatting a Client cannot print them.
type credentials struct {
	account, clientID, secret string
	scopes                    []string
}

// expiryDelta is how long before its expiry a cached token is replaced, so
// a token does not expire between the check and the request (a quarter of
// its life, for a token that lives less than 40 seconds).
const expiryDelta = 10 * time.Second

// tokenCache hands out one access token to every concurrent call, fetches a
// new one when it is missing, about to expire or rejected, and makes sure
// only one fetch is under way at a time. Callers waiting for a fetch give up
// when their own context is done; a fetch abandoned by its caller's
// context is taken over by the next waiter.
type tokenCache struct {
	fetch  func(ctx context.Context) (*oauth2.Token, error)
	reject func(ctx context.Context, tok *oauth2.Token) // optional: told of a token the API rejected
	now    func() time.Time
	red    *redactor // learns every token fetched

	mu     sync.Mutex
	tok    *oauth2.Token
	renew  time.Time // when tok is to be replaced, on the clock now; zero: never
	flight *tokenFetch
}

// tokenFetch is one fetch under way; done is closed when tok or err is set.
type tokenFetch struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

// token returns a valid token, fetching one if needed.
func (c *tokenCache) token(ctx context.Context) (*oauth2.Token, error) {
	for {
		c.mu.Lock()
		if t := c.tok; t != nil && (c.renew.IsZero() || c.now().Before(c.renew)) {
			c.mu.Unlock()
			return t, nil
		}
		if f := c.flight; f != nil {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && isContextError(f.err) && ctx.Err() == nil {
				continue // the fetching caller gave up; fetch for ourselves
			}
			return f.tok, f.err
		}
		f := &tokenFetch{done: make(chan struct{})}
		c.flight = f
		c.mu.Unlock()

		tok, err := c.fetch(ctx)
		if err == nil && (tok == nil || tok.AccessToken == "") {
			tok, err = nil, &TokenError{err: errors.New("the token source returned no access token")}
		}

		if err == nil {
			c.red.addToken(tok.AccessToken)
			c.red.addToken(tok.RefreshToken)
		}
		c.mu.Lock()
		c.flight = nil
		if err == nil {
			c.tok, c.renew = tok, c.renewal(tok)
		}
		f.tok, f.err = tok, err
		close(f.done)
		c.mu.Unlock()
		return tok, err
	}
}

// renewal returns when a token fetched just now is to be replaced, on the
// cache's clock: expiryDelta before it expires, or a quarter of its life
// before for a token that lives less than four times that. The token's Expiry is an
// instant of the real clock (x/oauth2 and token sources set it from
// time.Now), so what is carried over to the cache's clock is its remaining
// life, a length, never the instant itself.
func (c *tokenCache) renewal(t *oauth2.Token) time.Time {
	if t.Expiry.IsZero() {
		return time.Time{}
	}
	life := time.Until(t.Expiry)
	return c.now().Add(life - min(expiryDelta, life/4))
}

// invalidate drops t from the cache after the API rejected it, unless
// another call has already replaced it, and tells the source.
func (c *tokenCache) invalidate(ctx context.Context, t *oauth2.Token) {
	c.mu.Lock()
	dropped := c.tok != nil && c.tok.AccessToken == t.AccessToken
	if dropped {
		c.tok, c.renew = nil, time.Time{}
	}
	c.mu.Unlock()
	if dropped && c.reject != nil {
		c.reject(ctx, t)
	}
}

// clientCredentialsFetch returns the fetch function of a tokenCache for the
// client-credentials grant: a POST to tokenURL over hc (the Client's, which
// follows no redirect) with the client ID and secret in HTTP Basic auth,
// form-encoded first as RFC 6749 section 2.3.1 asks, and grant_type and
// scope in the form body.
func clientCredentialsFetch(cr *credentials, tokenURL string, hc *http.Client, red *redactor) func(context.Context) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(cr.scopes) > 0 {
		form.Set("scope", strings.Join(cr.scopes, " "))
	}
	body := form.Encode()
	user, pass := url.QueryEscape(cr.clientID), url.QueryEscape(cr.secret)
	return func(ctx context.Context) (*oauth2.Token, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(body))
		if err != nil {
			return nil, &TokenError{err: red.scrub(err)}
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.SetBasicAuth(user, pass)
		return requestToken(ctx, hc, req, red)
	}
}

// maxTokenBodyBytes bounds what the Client reads of a token endpoint's
// answer, as golang.org/x/oauth2 does.
const maxTokenBodyBytes = 1 << 20

// wireToken is a token endpoint's answer (RFC 6749 sections 5.1 and 5.2).
type wireToken struct {
	AccessToken      string          `json:"access_token"`
	TokenType        string          `json:"token_type"`
	RefreshToken     string          `json:"refresh_token"`
	ExpiresIn        json.RawMessage `json:"expires_in"` // a number, or a string of one
	Error            string          `json:"error"`
	ErrorDescription string          `json:"error_description"`
}

// requestToken sends req to a token endpoint and reads the token in its
// answer. Every failure is a *TokenError whose text holds no secret red
// knows. A failure asking again may mend (no answer, an answer cut short,
// 408, 429, 5xx) is temporary; a refusal (another 4xx) or an answer that
// is not a token is not.
func requestToken(ctx context.Context, hc *http.Client, req *http.Request, red *redactor) (*oauth2.Token, error) {
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		err = unwrapURLError(err)
		var re *RedirectError
		if errors.As(err, &re) {
			re.Origin = red.clean(re.Origin)
			return nil, &TokenError{StatusCode: re.StatusCode, err: re}
		}
		return nil, &TokenError{err: red.scrub(err), transient: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBodyBytes))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &TokenError{StatusCode: resp.StatusCode, err: red.scrub(fmt.Errorf("reading the answer: %w", err)), transient: true}
	}
	var w wireToken
	jsonErr := json.Unmarshal(data, &w)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		te := &TokenError{StatusCode: resp.StatusCode}
		if jsonErr == nil {
			te.Code, te.Description = red.clean(w.Error), red.clean(w.ErrorDescription)
		}
		te.transient = !te.refused()
		return nil, te
	}
	if jsonErr != nil || w.AccessToken == "" {
		return nil, &TokenError{StatusCode: resp.StatusCode, Description: "the answer holds no access token"}
	}
	tok := &oauth2.Token{AccessToken: w.AccessToken, TokenType: w.TokenType, RefreshToken: w.RefreshToken}
	if secs, err := strconv.ParseInt(strings.Trim(string(w.ExpiresIn), `"`), 10, 64); err == nil && secs > 0 {
		tok.Expiry = time.Now().Add(time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second)
	}
	return tok, nil
}

// TokenInvalidator is implemented by token sources that want to learn that
// the API rejected a token they handed out, such as tdredis's TokenSource,
// which then drops the token it shares with other processes. When the API
// answers 401, the Client calls Invalidate with the rejected token before it
// asks the source for another.
type TokenInvalidator interface {
	Invalidate(ctx context.Context, tok *oauth2.Token) error
}

// sourceFetcher is the fetch function of a tokenCache for a token source
// given by the user. oauth2.TokenSource takes no context, so Token runs in
// a goroutine of its own: a caller whose context ends returns at once, the
// next caller waits for the same Token call rather than starting another
// while it runs, and a token that came after its callers left is kept for
// the next.
type sourceFetcher struct {
	ts  oauth2.TokenSource
	red *redactor

	mu        sync.Mutex
	running   *tokenFetch // the Token call under way, if any
	unclaimed *tokenFetch // a call that gave a token after its callers left
}

func (f *sourceFetcher) fetch(ctx context.Context) (*oauth2.Token, error) {
	f.mu.Lock()
	if u := f.unclaimed; u != nil {
		f.unclaimed = nil
		f.mu.Unlock()
		return u.tok, nil
	}
	call := f.running
	if call == nil {
		call = &tokenFetch{done: make(chan struct{})}
		f.running = call
		go f.run(call)
	}
	f.mu.Unlock()
	select {
	case <-call.done:
		f.mu.Lock()
		if f.unclaimed == call {
			f.unclaimed = nil
		}
		f.mu.Unlock()
		return call.tok, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run makes one Token call of the source.
func (f *sourceFetcher) run(call *tokenFetch) {
	tok, err := f.ts.Token()
	if err != nil {
		err = sourceError(err, f.red)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.running = nil
	call.tok, call.err = tok, err
	if err == nil {
		f.unclaimed = call // until a caller takes it
	}
	close(call.done)
}

// invalidate tells the source, if it wants to know, that the API rejected
// tok.
func (f *sourceFetcher) invalidate(ctx context.Context, tok *oauth2.Token) {
	if inv, ok := f.ts.(TokenInvalidator); ok {
		_ = inv.Invalidate(ctx, tok) // if it failed, the source's next token tells
	}
}

// oauthErrorCodes are the error codes OAuth 2 registers for token and
// resource requests (RFC 6749 sections 4.1.2.1 and 5.2, RFC 6750, RFC 8628).
var oauthErrorCodes = []string{
	"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type",
	"invalid_scope", "access_denied", "unsupported_response_type", "server_error", "temporarily_unavailable",
	"invalid_token", "insufficient_scope", "authorization_pending", "slow_down", "expired_token",
}

// sourceError turns an error of a token source given by the user into a
// *TokenError. The Client cannot know what that source sent (a refresh
// token, a client secret of its own), so of a token endpoint's refusal it
// keeps the status and a registered OAuth error code, never the
// description or the body, which could echo them; any other error keeps its
// text without the secrets the Client knows.
func sourceError(err error, red *redactor) error {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		if slices.Contains(oauthErrorCodes, re.ErrorCode) {
			te.Code = re.ErrorCode
		}
		te.transient = te.StatusCode != 0 && !te.refused()
		return te
	}
	var netErr net.Error
	if errors.As(err, &netErr) || isContextError(err) {
		return &TokenError{err: red.scrub(unwrapURLError(err)), transient: netErr != nil}
	}
	return &TokenError{Description: red.clean(err.Error())}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
