package talkdesk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"golang.org/x/oauth2"
)

// sink is a server a hostile redirect points at; it records whatever
// reaches it.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // method, path, Authorization and body of each request
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization")+" body="+string(body))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"sub-from-elsewhere","contact":{"id":"c-elsewhere"}}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// redirector answers every request with status and a Location at target,
// whose query repeats the request's token.
func redirector(status int, target func(r *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target(r))
		w.WriteHeader(status)
	})
}

const redirectToken = "at-redirect-5e1d9c0b7a"

// TestRedirectsAreRefused: whatever the status, the method, the target's
// origin (another port, another scheme) and the HTTP client, a redirect
// from the API is refused with a *RedirectError naming the status and the
// target's origin, and nothing reaches the target.
func TestRedirectsAreRefused(t *testing.T) {
	ops := []struct {
		name string
		call func(ctx context.Context, c *talkdesk.Client) error
	}{
		{"GetContact", func(ctx context.Context, c *talkdesk.Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
		{"Subscribe", func(ctx context.Context, c *talkdesk.Client) error {
			_, err := c.Subscribe(ctx, talkdesk.TriggerAgentLogIn, "https://hooks.example.com/td?token=whsec-in-callback-77")
			return err
		}},
		{"Unsubscribe", func(ctx context.Context, c *talkdesk.Client) error {
			return c.Unsubscribe(ctx, talkdesk.TriggerAgentLogIn, "sub-1")
		}},
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, op := range ops {
			for _, tls := range []bool{false, true} {
				name := op.name + "/" + http.StatusText(status)
				if tls {
					name += "/https to http"
				}
				t.Run(name, func(t *testing.T) {
					target := newSink(t)
					h := redirector(status, func(r *http.Request) string {
						return target.URL + "/elsewhere?stolen=" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
					})
					api := httptest.NewServer(h)
					if tls {
						api.Close()
						api = httptest.NewTLSServer(h)
					}
					defer api.Close()

					// The caller's client would follow anything.
					hc := api.Client()
					follow := func(*http.Request, []*http.Request) error { return nil }
					hc.CheckRedirect = follow
					transport := hc.Transport
					lim := &testkit.CountingLimiter{Limiter: testkit.Unlimited{}}
					c, err := talkdesk.NewClient(talkdesk.WithBaseURL(api.URL), talkdesk.WithHTTPClient(hc), talkdesk.WithLimiter(lim),
						talkdesk.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: redirectToken})))
					if err != nil {
						t.Fatal(err)
					}
					err = op.call(context.Background(), c)
					var re *talkdesk.RedirectError
					if !errors.As(err, &re) || re.StatusCode != status || re.Origin != target.URL {
						t.Fatalf("error = %v, want a RedirectError for %d to %s", err, status, target.URL)
					}
					if strings.Contains(err.Error(), "stolen") || strings.Contains(err.Error(), redirectToken) {
						t.Errorf("the error quotes the Location's path or query: %v", err)
					}
					if got := target.requests(); len(got) > 0 {
						t.Errorf("the target got %q", got)
					}
					if n := lim.Grants.Load(); n != 1 {
						t.Errorf("%d limiter waits, want 1: one request went out", n)
					}
					if hc.Transport != transport || hc.CheckRedirect == nil {
						t.Error("NewClient changed the caller's http.Client")
					}
				})
			}
		}
	}
}

// TestTokenEndpointRedirectIsRefused: the token endpoint's redirect gets
// neither the Basic credentials nor the form body.
func TestTokenEndpointRedirectIsRefused(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			target := newSink(t)
			tokens := httptest.NewTLSServer(redirector(status, func(*http.Request) string { return target.URL + "/oauth/token" }))
			defer tokens.Close()
			c, err := talkdesk.NewClient(talkdesk.WithBaseURL(target.URL), talkdesk.WithTokenURL(tokens.URL+"/oauth/token"),
				talkdesk.WithHTTPClient(tokens.Client()), talkdesk.WithClientCredentials("acme", "id-1", "secret-redirected-4f2a"))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetContact(context.Background(), "c-1")
			var re *talkdesk.RedirectError
			var te *talkdesk.TokenError
			if !errors.As(err, &te) || !errors.As(err, &re) || re.StatusCode != status || re.Origin != target.URL {
				t.Fatalf("error = %v, want a TokenError for a refused %d redirect to %s", err, status, target.URL)
			}
			if got := target.requests(); len(got) > 0 {
				t.Errorf("the target got %q", got)
			}
		})
	}
}

// TestRedirectErrorOfUnreadableLocation: a Location that is not a URL is
// neither followed nor quoted.
func TestRedirectErrorOfUnreadableLocation(t *testing.T) {
	api := httptest.NewServer(redirector(http.StatusFound, func(r *http.Request) string {
		return "http://[" + strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") + "/%zz"
	}))
	defer api.Close()
	c, err := talkdesk.NewClient(talkdesk.WithBaseURL(api.URL), talkdesk.WithRateLimit(0, 0),
		talkdesk.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: redirectToken})))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetContact(context.Background(), "c-1")
	var re *talkdesk.RedirectError
	if !errors.As(err, &re) || re.Origin != "" {
		t.Fatalf("error = %v, want a RedirectError without origin", err)
	}
	if strings.Contains(err.Error(), redirectToken) {
		t.Errorf("the error quotes the Location: %v", err)
	}
}
