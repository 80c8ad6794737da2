//lint:file-ignore SA1019 CreateAgents is deprecated but still takes e-mails: it must be as safe as the others.

package reliability_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// hostileIDs are IDs and names that try to change the path, the query,
// the host or the headers of a request.
var hostileIDs = []string{
	"a/b", "/", "//evil.example/x", "../admin", "..", ".", "./.", "a/../../b", "..%2F..%2Fadmin",
	"%2F", "a%2Fb", "%2e%2e", "%00", "a%0d%0aX-Injected:%201",
	"a?x=1", "?", "a#frag", "#", "a&b=c", "a;b", "a b", " ", "a+b",
	"a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b", "a\tb", "\x7f",
	"http://evil.example/", "@evil.example", "a:b", "\\..\\admin",
	"ünïcødé", "／admin", "\u202eevil", "\u2028", "\xff\xfe", strings.Repeat("a", 1025),
}

// hostileEmails are e-mail addresses of the same intent.
var hostileEmails = []string{
	"ada@example.com/../admin", "ada@example.com?x=1", "ada@example.com#f", "ada@example.com&email=eve@example.com",
	"ada%2F@example.com", "ada%40example.com", "ada@example.com%0d%0aX-Injected:%201", "ada@example.com\r\nX-Injected: 1",
	"ada@example.com\n", "ada @example.com", "ada@exämple.com", "ädä@example.com", "/@example.com", "..@..",
	"ada@example.com;x", "\"ada\"@example.com", "ada@", "@example.com", "", "\xff@example.com", strings.Repeat("a", 300) + "@example.com",
}

// wireRecorder is an http.RoundTripper that records every request the
// Client hands to the transport, as it hands it.
type wireRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	w.mu.Lock()
	w.reqs = append(w.reqs, r.Clone(context.Background()))
	w.body = append(w.body, body)
	w.mu.Unlock()
	return w.next.RoundTrip(r)
}

// api returns the recorded API requests (not token requests) and their
// bodies, and forgets them.
func (w *wireRecorder) api() ([]*http.Request, [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var reqs []*http.Request
	var bodies [][]byte
	for i, r := range w.reqs {
		if r.URL.Path != talkdesktest.TokenPath {
			reqs = append(reqs, r)
			bodies = append(bodies, w.body[i])
		}
	}
	w.reqs, w.body = nil, nil
	return reqs, bodies
}

// idCall is a Client method that puts a caller's string into a request.
type idCall struct {
	name string
	// path is the path template; {} marks the segment that carries the
	// value. A path without {} carries it elsewhere (query or body).
	path  string
	query bool // the value is the email query parameter
	// inBody returns the value as the request body carries it.
	inBody func(body []byte) (string, error)
	call   func(ctx context.Context, c *talkdesk.Client, v string) error
}

var idCalls = []idCall{
	{name: "GetContact", path: "/contacts/{}", call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.GetContact(ctx, v)
		return err
	}},
	{name: "GetUserPresence", path: "/users/{}/presence", call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.GetUserPresence(ctx, v)
		return err
	}},
	{name: "UpdateUserStatus", path: "/ccaas/users/{}/status", call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		return c.UpdateUserStatus(ctx, v, "", talkdesktest.StatusAvailable)
	}},
	{name: "UpdateUserStatus new status", path: "/ccaas/users/u1/status", inBody: bodyField("new_status"), call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		return c.UpdateUserStatus(ctx, "u1", "", v)
	}},
	{name: "GetListSchema", path: "/webhooks/schema/{}", call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.GetListSchema(ctx, v)
		return err
	}},
	{name: "Unsubscribe", path: "/webhooks/triggers/inboundCallEnds/{}", call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		return c.Unsubscribe(ctx, talkdesk.TriggerInboundCallEnds, v)
	}},
	{name: "GetUserStatuses", path: "/ccaas/users/status", inBody: func(b []byte) (string, error) {
		var body struct {
			UserIDs []string `json:"user_ids"`
		}
		err := json.Unmarshal(b, &body)
		if len(body.UserIDs) != 1 {
			return "", errors.New("not one user ID")
		}
		return body.UserIDs[0], err
	}, call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.GetUserStatuses(ctx, v)
		return err
	}},
}

var emailCalls = []idCall{
	{name: "GetUserByEmail", path: "/users", query: true, call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.GetUserByEmail(ctx, v)
		return err
	}},
	{name: "CreateUser", path: "/scim/v2/Users", inBody: bodyField("userName"), call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.CreateUser(ctx, &talkdesk.NewUser{UserName: v, GivenName: "Ada", FamilyName: "Lovelace", Active: true})
		return err
	}},
	{name: "CreateAgents", path: "/agents/bulk", inBody: func(b []byte) (string, error) {
		var body struct {
			Agents []struct {
				Email string `json:"email"`
			} `json:"agents"`
		}
		err := json.Unmarshal(b, &body)
		if len(body.Agents) != 1 {
			return "", errors.New("not one agent")
		}
		return body.Agents[0].Email, err
	}, call: func(ctx context.Context, c *talkdesk.Client, v string) error {
		_, err := c.CreateAgents(ctx, talkdesk.NewAgent{Email: v, FullName: "Ada Lovelace", Role: talkdesk.RoleAgent})
		return err
	}},
}

// bodyField returns the string field name of a JSON object body.
func bodyField(name string) func([]byte) (string, error) {
	return func(b []byte) (string, error) {
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			return "", err
		}
		v, ok := body[name].(string)
		if !ok {
			return "", errors.New(name + " is not a string")
		}
		return v, nil
	}
}

// TestHostileIDsAndEmails gives every method that takes an ID or an e-mail
// address values that try to change the request's path, query, host or
// headers. Each call either fails with ErrInvalid before any request, or
// sends exactly one request, to the fake's host, whose path has exactly
// the segments of its template with the value whole in its own segment
// (or whole in the query or the JSON body), whose query has nothing else,
// and whose headers are exactly the Client's, free of line breaks. The fake
// saw the same path the transport was given.
func TestHostileIDsAndEmails(t *testing.T) {
	srv := talkdesktest.NewServer()
	t.Cleanup(srv.Close)
	rec := &wireRecorder{next: &http.Transport{}}
	c := testkit.FakeClient(t, srv, talkdesk.WithHTTPClient(&http.Client{Transport: rec}), talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 1}))
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()

	rejected, sent := 0, 0
	check := func(m idCall, v string) {
		before := len(srv.Requests())
		err := m.call(ctx, c, v)
		reqs, bodies := rec.api()
		if errors.Is(err, talkdesk.ErrInvalid) && len(reqs) == 0 {
			var ve *talkdesk.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%s(%q): %v is not a ValidationError", m.name, v, err)
			}
			rejected++
			return
		}
		sent++
		if len(reqs) != 1 {
			t.Errorf("%s(%q): %d requests (error %v), want 1 or ErrInvalid before any", m.name, v, len(reqs), err)
			return
		}
		r := reqs[0]
		if r.URL.Host != host || r.Host != "" && r.Host != host || r.URL.Scheme != "http" || r.URL.User != nil || r.URL.Fragment != "" {
			t.Errorf("%s(%q): request to %s (Host %q), want %s", m.name, v, r.URL.Redacted(), r.Host, host)
		}
		wantSegs := strings.Split(m.path, "/")
		gotSegs := strings.Split(r.URL.EscapedPath(), "/")
		if len(gotSegs) != len(wantSegs) {
			t.Errorf("%s(%q): path %s has %d segments, want %d like %s", m.name, v, r.URL.EscapedPath(), len(gotSegs), len(wantSegs), m.path)
		} else {
			for i, seg := range gotSegs {
				got, uerr := url.PathUnescape(seg)
				want := wantSegs[i]
				if want == "{}" {
					want = v
				}
				if uerr != nil || got != want {
					t.Errorf("%s(%q): segment %d of %s is %q, want %q", m.name, v, i, r.URL.EscapedPath(), got, want)
				}
			}
		}
		wantQuery := url.Values{}
		if m.query {
			wantQuery.Set("email", v)
		}
		if diff := cmp.Diff(wantQuery, r.URL.Query(), cmp.Comparer(func(a, b url.Values) bool { return a.Encode() == b.Encode() })); diff != "" {
			t.Errorf("%s(%q): query (-want +got):\n%s", m.name, v, diff)
		}
		if m.inBody != nil {
			if got, berr := m.inBody(bodies[0]); berr != nil || got != v {
				t.Errorf("%s(%q): body %s carries %q (%v), want the value whole", m.name, v, bodies[0], got, berr)
			}
		}
		wantHeaders := []string{"Accept", "Authorization", "User-Agent"}
		if r.Method != "GET" && r.Method != "DELETE" {
			wantHeaders = append(wantHeaders, "Content-Type")
		}
		var gotHeaders []string
		for k, vs := range r.Header {
			gotHeaders = append(gotHeaders, k)
			for _, hv := range vs {
				if strings.ContainsAny(hv, "\r\n") {
					t.Errorf("%s(%q): header %s: %q has a line break", m.name, v, k, hv)
				}
			}
		}
		slices.Sort(gotHeaders)
		slices.Sort(wantHeaders)
		if diff := cmp.Diff(wantHeaders, gotHeaders); diff != "" {
			t.Errorf("%s(%q): header names (-want +got):\n%s", m.name, v, diff)
		}
		seen := srv.Requests()[before:]
		var apiSeen []talkdesktest.Request
		for _, s := range seen {
			if s.Path != talkdesktest.TokenPath {
				apiSeen = append(apiSeen, s)
			}
		}
		if len(apiSeen) != 1 || apiSeen[0].Path != r.URL.EscapedPath() || apiSeen[0].Header.Get("X-Injected") != "" {
			t.Errorf("%s(%q): the fake saw %+v, want one request to %s", m.name, v, apiSeen, r.URL.EscapedPath())
		}
	}
	for _, m := range idCalls {
		for _, v := range hostileIDs {
			check(m, v)
		}
	}
	for _, m := range emailCalls {
		for _, v := range hostileEmails {
			check(m, v)
		}
	}
	t.Logf("%d hostile values: %d rejected with ErrInvalid before any request, %d sent with the path, query and headers intact", rejected+sent, rejected, sent)
}

// TestHostileAccountNames: the account name becomes the first label of the
// token endpoint's host, so anything but a DNS label fails with ErrInvalid,
// in WithClientCredentials and in AuthCodeConfig; a good name gives exactly
// the account's host.
func TestHostileAccountNames(t *testing.T) {
	for _, account := range []string{
		"acme/evil", "acme.evil.example", "evil.example#", "acme?x=1", "acme@evil.example", "acme:443",
		"..", ".", "acme%2F", "ac me", "acme\r\nX-Injected: 1", "acme\n", "ácme", "acme\x00", "-acme", "acme-",
		"", strings.Repeat("a", 64), "acme/../evil", "/", "acme.",
	} {
		_, err := talkdesk.NewClient(talkdesk.WithClientCredentials(account, "id", "secret"))
		if !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("WithClientCredentials(%q): %v, want ErrInvalid", account, err)
		}
		if _, err := talkdesk.AuthCodeConfig(account, talkdesk.RegionUS, "id", "secret", "https://app.example/cb"); !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("AuthCodeConfig(%q): %v, want ErrInvalid", account, err)
		}
	}

	// A good name: the token request goes to the account's host, and
	// nowhere else (a transport that answers everything without network).
	var hosts []string
	var mu sync.Mutex
	offline := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		hosts = append(hosts, r.URL.Host+r.URL.EscapedPath())
		mu.Unlock()
		body := `{"contact":{"id":"c1"}}`
		if r.URL.Path == "/oauth/token" {
			body = `{"access_token":"at","token_type":"Bearer","expires_in":600}`
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c, err := talkdesk.NewClient(talkdesk.WithClientCredentials("acme-2", "id", "secret"), talkdesk.WithHTTPClient(&http.Client{Transport: offline}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetContact(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme-2.talkdeskid.com/oauth/token", "api.talkdeskapp.com/contacts/c1"}, hosts); diff != "" {
		t.Errorf("hosts (-want +got):\n%s", diff)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
