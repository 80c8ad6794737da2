package talkdesk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
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
// shortly before it expires; after a 401 it asks ts again and retries the
// call once if ts returned a different token.
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

// validateAccount checks that account is a DNS label, so that it can only
// ever become the first label of a host name.
func validateAccount(account string) error {
	if len(account) < 1 || len(account) > 63 {
		return invalid("account", fmt.Sprintf("must be 1 to 63 characters, got %d", len(account)))
	}
	for i := 0; i < len(account); i++ {
		c := account[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' && i > 0 && i < len(account)-1:
		default:
			return invalid("account", fmt.Sprintf("%q is not a DNS label (ASCII letters, digits and inner hyphens)", account))
		}
	}
	return nil
}

// parseHTTPURL parses an absolute http or https URL without user info,
// query or fragment.
func parseHTTPURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid(field, "not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, invalid(field, "must be an absolute http or https URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, invalid(field, "must not carry user info, a query or a fragment")
	}
	return u, nil
}

// expiryDelta is how long before its expiry a cached token is replaced, so
// a token does not expire between the check and the request.
const expiryDelta = 10 * time.Second

// tokenCache hands out one access token to every concurrent call, fetches a
// new one when it is missing, about to expire or rejected, and makes sure
// only one fetch is under way at a time. Callers waiting for a fetch give up
// when their own context is done; a fetch abandoned by its caller's
// context is taken over by the next waiter.
type tokenCache struct {
	fetch func(ctx context.Context) (*oauth2.Token, error)
	now   func() time.Time

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
// cache's clock: expiryDelta before it expires. The token's Expiry is an
// instant of the real clock (x/oauth2 and token sources set it from
// time.Now), so what is carried over to the cache's clock is its remaining
// life, a length, never the instant itself.
func (c *tokenCache) renewal(t *oauth2.Token) time.Time {
	if t.Expiry.IsZero() {
		return time.Time{}
	}
	return c.now().Add(time.Until(t.Expiry) - expiryDelta)
}

// invalidate drops t from the cache after the API rejected it, unless
// another call has already replaced it.
func (c *tokenCache) invalidate(t *oauth2.Token) {
	c.mu.Lock()
	if c.tok != nil && c.tok.AccessToken == t.AccessToken {
		c.tok, c.renew = nil, time.Time{}
	}
	c.mu.Unlock()
}

// clientCredentialsFetch returns the fetch function of a tokenCache for the
// client-credentials grant, done by golang.org/x/oauth2 over hc.
func clientCredentialsFetch(cr *credentials, tokenURL string, hc *http.Client) func(context.Context) (*oauth2.Token, error) {
	cfg := &clientcredentials.Config{
		ClientID:     cr.clientID,
		ClientSecret: cr.secret,
		TokenURL:     tokenURL,
		Scopes:       cr.scopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := cfg.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, tokenError(err, cr.secret)
		}
		return tok, nil
	}
}

// tokenSourceFetch returns the fetch function of a tokenCache for a token
// source given by the user. oauth2.TokenSource takes no context, so a slow
// source can only be abandoned by the callers waiting for it.
func tokenSourceFetch(ts oauth2.TokenSource) func(context.Context) (*oauth2.Token, error) {
	return func(ctx context.Context) (*oauth2.Token, error) {
		tok, err := ts.Token()
		if err != nil {
			return nil, tokenError(err, "")
		}
		return tok, nil
	}
}

// tokenError turns an error from golang.org/x/oauth2 into a *TokenError
// that keeps the status and OAuth error code but not the response body,
// which could echo anything.
func tokenError(err error, secret string) error {
	var te *TokenError
	if errors.As(err, &te) {
		return te
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Code: clean(re.ErrorCode, secret), Description: clean(re.ErrorDescription, secret)}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		return te
	}
	var netErr net.Error
	if errors.As(err, &netErr) || isContextError(err) {
		return &TokenError{err: err}
	}
	// Some other failure (a response without a token, a source of the
	// user's): keep its text, minus the secret, but not the error itself.
	return &TokenError{Description: clean(err.Error(), secret)}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
