// Package talkdesktest runs a fake Talkdesk in process, for tests of code
// that uses package talkdesk and as the embedded default of its examples.
//
// A Server is an httptest server with Talkdesk's OAuth token endpoint and
// API routes, in-memory state, and a record of every request it received:
//
//	srv := talkdesktest.NewServer()
//	defer srv.Close()
//	contact := srv.AddContact(talkdesk.Contact{Name: "Ada"})
//	client, err := talkdesk.NewClient(srv.ClientOptions()...)
//	...
//	got, err := client.GetContact(ctx, contact.ID)
//
// Faults are injected per route or for every route with
// [Server.InjectFault]: error statuses with or without Retry-After, custom
// bodies, latency, dropped connections, cut, truncated and oversized
// bodies, stalls, bad tokens, each of them before or after the Server acts
// on the request (see [Fault]). Tokens can be made short-lived or revoked to
// exercise refreshes.
package talkdesktest

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"golang.org/x/oauth2"
)

// Account is the Talkdesk account name of every fake Server.
const Account = "talkdesktest"

// TokenPath is the path of the fake's OAuth token endpoint.
const TokenPath = "/oauth/token"

// DefaultTokenTTL is how long the tokens of a new Server live.
const DefaultTokenTTL = 10 * time.Minute

// Server is a fake Talkdesk. Its methods are safe for concurrent use.
type Server struct {
	// URL is the API root of the fake, such as http://127.0.0.1:41234. The
	// token endpoint is URL + TokenPath.
	URL string

	ts           *httptest.Server
	clientID     string
	clientSecret string

	mu            sync.Mutex
	tokenTTL      time.Duration
	tokens        map[string]time.Time // access token -> expiry
	refreshTokens map[string]bool
	contacts      map[string]talkdesk.Contact
	actions       actionState // the connector's operations beyond contacts (operations.go)
	requests      []Request
	faults        []*faultState // injected faults, in order (faults.go)
	triggers      triggerState
	explore       exploreState // the APIs beyond the connector (explore.go)

	closing   chan struct{} // closed by Close: delayed and stalled requests end
	closeOnce sync.Once
}

// Request is one request the Server received.
type Request struct {
	Time   time.Time // when it arrived
	Method string
	Path   string // escaped, as sent
	Query  url.Values
	Header http.Header
	Body   []byte
	// Status is the status the Server answered with: 0 while it has not
	// answered, or when it sent none (a dropped or stalled connection).
	Status int
	Fault  *Fault // the injected fault that answered it, or nil
}

// NewServer starts a fake Talkdesk on a loopback port. Close it when done.
func NewServer() *Server {
	s := &Server{
		clientID:      "talkdesktest-" + randomHex(8),
		clientSecret:  randomHex(24),
		tokenTTL:      DefaultTokenTTL,
		tokens:        make(map[string]time.Time),
		refreshTokens: make(map[string]bool),
		contacts:      make(map[string]talkdesk.Contact),
		closing:       make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, s.handleToken)
	mux.Handle("GET /contacts/{id}", s.api(s.handleGetContact))
	s.registerActions(mux)
	s.registerExplore(mux)
	s.registerTriggers(mux)
	mux.Handle("/", s.api(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.EscapedPath())
	}))
	s.ts = httptest.NewServer(s.record(mux))
	s.URL = s.ts.URL
	return s
}

// Close shuts the Server down and blocks until its requests are done;
// requests a [Fault] is delaying or stalling end at once, unanswered.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.ts.Close()
	s.explore.presigned.Close()
}

// Client returns an http.Client for the Server, as httptest.Server.Client does.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// ClientOptions returns the options that point a talkdesk.Client at the
// Server: its base URL, its token URL, and working client credentials for
// the account [Account] with [talkdesk.ConnectorScopes]. The Client keeps
// its default throttle of 100 calls per 60 seconds; add
// talkdesk.WithRateLimit(0, 0) for tests that make more calls than that.
func (s *Server) ClientOptions() []talkdesk.Option {
	return []talkdesk.Option{
		talkdesk.WithBaseURL(s.URL),
		talkdesk.WithTokenURL(s.URL + TokenPath),
		talkdesk.WithClientCredentials(Account, s.clientID, s.clientSecret, talkdesk.ConnectorScopes()...),
	}
}

// Credentials returns the client ID and secret the token endpoint accepts.
func (s *Server) Credentials() (clientID, clientSecret string) { return s.clientID, s.clientSecret }

// SetTokenTTL sets the lifetime of the tokens issued from now on. The
// token response states it in whole seconds (at least 1), but the Server
// rejects a token as soon as its lifetime is over.
func (s *Server) SetTokenTTL(d time.Duration) {
	s.mu.Lock()
	s.tokenTTL = d
	s.mu.Unlock()
}

// RevokeTokens makes every access token issued so far invalid, as if it had
// expired: the next API call with one of them gets 401.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// UserToken returns a token as the authorization-code flow would give it:
// an access token the API accepts and a refresh token the token endpoint
// exchanges (grant_type=refresh_token) for a new pair. Point an
// oauth2.Config's Endpoint.TokenURL at URL + TokenPath to refresh it.
func (s *Server) UserToken() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	access, expiry := s.issueLocked()
	refresh := "rt-" + randomHex(16)
	s.refreshTokens[refresh] = true
	return &oauth2.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: refresh, Expiry: expiry}
}

// AddContact stores a contact that GET /contacts/{id} then serves, giving
// it an ID when it has none, and returns it.
func (s *Server) AddContact(c talkdesk.Contact) talkdesk.Contact {
	if c.ID == "" {
		c.ID = randomHex(12)
	}
	c.Phones = append([]talkdesk.Phone(nil), c.Phones...)
	s.mu.Lock()
	s.contacts[c.ID] = c
	s.mu.Unlock()
	return c
}

// Requests returns every request the Server received, token requests
// included, in the order they arrived.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests with this method and escaped path the
// Server received; an empty method matches every method.
func (s *Server) Count(method, path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && r.Path == path {
			n++
		}
	}
	return n
}

// MaxInWindow returns the most requests with this method and escaped path
// that arrived within any window of the given length (from one arrival up
// to, not including, window later): the busiest stretch a throttle let
// through. An empty method matches every method; an empty path matches
// every API route but not the token endpoint.
func (s *Server) MaxInWindow(method, path string, window time.Duration) int {
	var times []time.Time
	s.mu.Lock()
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && (r.Path == path || path == "" && r.Path != TokenPath) {
			times = append(times, r.Time)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(times, time.Time.Compare)
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= window {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// TokenRequests returns how many requests reached the token endpoint.
func (s *Server) TokenRequests() int { return s.Count(http.MethodPost, TokenPath) }

// record logs every request as it arrives and the status it got, and
// answers injected faults before any route sees the request.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, err := readAll(r, 1<<20)
		f := s.takeFault(r)
		s.mu.Lock()
		i := len(s.requests)
		s.requests = append(s.requests, Request{
			Time:   arrived,
			Method: r.Method,
			Path:   r.URL.EscapedPath(),
			Query:  r.URL.Query(),
			Header: r.Header.Clone(),
			Body:   body,
			Fault:  f,
		})
		s.mu.Unlock()

		status := 0
		defer func() {
			s.mu.Lock()
			s.requests[i].Status = status
			s.mu.Unlock()
		}()
		switch {
		case err != nil:
			status = http.StatusRequestEntityTooLarge
			writeError(w, status, "too_large", err.Error())
		case f != nil:
			status = s.serveFault(w, r, f, next)
		default:
			rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(rw, r)
			status = rw.status
		}
	})
}

// api wraps an API route with the bearer-token check Talkdesk makes.
func (s *Server) api(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		expiry, known := s.tokens[token]
		s.mu.Unlock()
		if !ok || !known || !time.Now().Before(expiry) {
			writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid or expired access token")
			return
		}
		h(w, r)
	})
}

// handleToken is the OAuth token endpoint: client_credentials with the
// client in HTTP Basic auth, and refresh_token for tokens from UserToken.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(s.clientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "Unreadable form body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := map[string]any{"token_type": "Bearer"}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		if scope := r.PostForm.Get("scope"); scope != "" {
			resp["scope"] = scope
		}
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if !s.refreshTokens[old] {
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "Unknown or used refresh token")
			return
		}
		delete(s.refreshTokens, old)
		refresh := "rt-" + randomHex(16)
		s.refreshTokens[refresh] = true
		resp["refresh_token"] = refresh
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type")
		return
	}
	access, _ := s.issueLocked()
	resp["access_token"] = access
	resp["expires_in"] = max(1, int(math.Ceil(s.tokenTTL.Seconds())))
	writeJSON(w, http.StatusOK, resp)
}

// issueLocked creates an access token valid for the current TTL.
func (s *Server) issueLocked() (string, time.Time) {
	token := "at-" + randomHex(20)
	expiry := time.Now().Add(s.tokenTTL)
	s.tokens[token] = expiry
	return token, expiry
}

func (s *Server) handleGetContact(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c, ok := s.contacts[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "contact_not_found", "Contact not found")
		return
	}
	phones := make([]map[string]string, len(c.Phones))
	for i, p := range c.Phones {
		phones[i] = map[string]string{"label": p.Label, "number": p.Number}
	}
	writeJSON(w, http.StatusOK, map[string]any{"contact": map[string]any{
		"id": c.ID, "name": c.Name, "company": c.Company, "phones": phones,
	}})
}

// writeError answers with Talkdesk's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message})
}

// writeOAuthError answers with an RFC 6749 error body.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// readAll reads r's body, at most limit bytes, and puts it back for the
// handlers.
func readAll(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body.Close()
	if err == nil && int64(len(body)) > limit {
		err = fmt.Errorf("request body larger than %d bytes", limit)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
