package talkdesk

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// RedirectError reports a redirect the Client refused to follow. Talkdesk
// does not redirect the connector's operations or its token requests, and a
// redirect followed would carry the bearer token, the client credentials or
// the request body wherever the answer points: the Client follows none, to
// any origin, and sends nothing to the target.
type RedirectError struct {
	StatusCode int    // 301, 302, 303, 307 or 308
	Origin     string // scheme://host[:port] of the Location; "" when it could not be read
}

func (e *RedirectError) Error() string {
	to := "an unreadable Location"
	if e.Origin != "" {
		to = e.Origin
	}
	return "talkdesk: refused to follow a " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode) +
		" redirect to " + to + ": the Client sends requests only to the origin it was configured with"
}

// isRedirect reports whether net/http's Client would follow an answer
// with this status.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// noRedirects is the Transport of the Client's copy of its HTTP client: it
// turns every redirect answer into a *RedirectError before net/http's
// Client sees it, so that the Client neither follows it (whatever its
// CheckRedirect says) nor quotes its Location (which may echo a secret) in
// an error of its own.
type noRedirects struct{ base http.RoundTripper }

// guardRedirects returns a copy of hc whose Transport refuses redirects.
// hc itself is left as it is.
func guardRedirects(hc *http.Client) *http.Client {
	g := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	g.Transport = &noRedirects{base: base}
	g.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// Only a redirect the caller wants as the answer gets here:
		// noRedirects refuses every other.
		return http.ErrUseLastResponse
	}
	return &g
}

func (t *noRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || !isRedirect(resp.StatusCode) {
		return resp, err
	}
	if answer, _ := req.Context().Value(redirectIsAnswer{}).(bool); answer {
		// The caller wants the redirect itself (see call.redirect): the
		// Client's CheckRedirect (guardRedirects) does not follow it.
		return resp, nil
	}
	// Drain a little, so that a short body leaves the connection reusable.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	return nil, &RedirectError{StatusCode: resp.StatusCode, Origin: locationOrigin(req.URL, resp.Header.Get("Location"))}
}

// redirectIsAnswer is the context key of a request whose redirect answer
// the caller wants (see call.redirect).
type redirectIsAnswer struct{}

// redirectAnswer reports whether an answer is a redirect with a Location:
// a 300, which net/http never follows, or one noRedirects let through.
func redirectAnswer(status int, h http.Header) bool {
	return (status == http.StatusMultipleChoices || isRedirect(status)) && h.Get("Location") != ""
}

// locationOrigin returns the origin of loc, resolved against the URL of
// the request, or "" when loc cannot be read as an http or https URL.
func locationOrigin(base *url.URL, loc string) string {
	u, err := base.Parse(loc)
	if err != nil || loc == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// CloseIdleConnections closes the idle connections of the wrapped
// Transport, as http.Client.CloseIdleConnections asks.
func (t *noRedirects) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
