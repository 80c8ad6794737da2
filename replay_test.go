package talkdesk

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"
)

// A fixture is one exchange on the wire, stored as a file under testdata/:
// the request the client must send and the response to give back.
//
//	{
//	  "request": {
//	    "method": "GET",
//	    "path": "/contacts/abc",            // escaped, exactly as sent
//	    "query": {"email": ["a@b.c"]},      // the whole query; absent = none
//	    "headers": {"Accept": "application/json"}, // headers that must be present with these values
//	    "body": {...},                      // JSON body, compared as JSON; absent = no body
//	    "form": {"grant_type": ["..."]}     // or a form body, compared as values
//	  },
//	  "response": {
//	    "status": 200,
//	    "headers": {"Content-Type": "application/json"},
//	    "body": {...},                      // JSON, sent as written
//	    "body_text": "<html>..."            // or any text, sent as is
//	  }
//	}
//
// In header values, {{version}} stands for Version. In the response's
// headers and body, {{base}} stands for the replay server's URL, and
// {{elsewhere}} for an origin that is not it.
type fixture struct {
	name    string
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Query   url.Values        `json:"query"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
		Form    url.Values        `json:"form"`
	} `json:"request"`
	Response struct {
		Status   int               `json:"status"`
		Headers  map[string]string `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		BodyText *string           `json:"body_text"`
	} `json:"response"`
}

// loadFixture reads testdata/name.
func loadFixture(t testing.TB, name string) *fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	f := &fixture{name: name}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if f.Request.Method == "" || f.Request.Path == "" || f.Response.Status == 0 {
		t.Fatalf("fixture %s: request.method, request.path and response.status are required", name)
	}
	return f
}

// replayServer serves fixtures in order, checking that each request matches
// its fixture; a request that differs, or one more than the fixtures, fails
// the test. When the test ends, every fixture must have been used.
type replayServer struct {
	*httptest.Server
	t        testing.TB
	mu       sync.Mutex
	fixtures []*fixture
	served   int
	// elsewhere is what {{elsewhere}} stands for: another origin.
	elsewhere string
}

// newReplayServer starts a server replaying the named fixtures.
func newReplayServer(t testing.TB, names ...string) *replayServer {
	t.Helper()
	rs := &replayServer{t: t}
	for _, n := range names {
		rs.fixtures = append(rs.fixtures, loadFixture(t, n))
	}
	rs.Server = httptest.NewServer(http.HandlerFunc(rs.serve))
	t.Cleanup(func() {
		rs.Close()
		rs.mu.Lock()
		defer rs.mu.Unlock()
		if rs.served < len(rs.fixtures) {
			t.Errorf("replay: %d of %d fixtures not requested; next: %s", len(rs.fixtures)-rs.served, len(rs.fixtures), rs.fixtures[rs.served].name)
		}
	})
	return rs
}

func (rs *replayServer) serve(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	if rs.served >= len(rs.fixtures) {
		rs.served++
		rs.mu.Unlock()
		rs.t.Errorf("replay: unexpected request %s %s (all %d fixtures used)", r.Method, r.URL.RequestURI(), len(rs.fixtures))
		http.Error(w, "no fixture left", http.StatusTeapot)
		return
	}
	f := rs.fixtures[rs.served]
	rs.served++
	rs.mu.Unlock()

	body, _ := io.ReadAll(r.Body)
	if diff := diffRequest(f, r, body); diff != "" {
		rs.t.Errorf("replay %s: request differs (-want +got):\n%s", f.name, diff)
	}
	elsewhere := rs.elsewhere
	if elsewhere == "" {
		elsewhere = "https://elsewhere.example.com"
	}
	fill := strings.NewReplacer("{{base}}", rs.URL, "{{elsewhere}}", elsewhere).Replace
	for k, v := range f.Response.Headers {
		w.Header().Set(k, fill(v))
	}
	w.WriteHeader(f.Response.Status)
	switch {
	case f.Response.BodyText != nil:
		_, _ = io.WriteString(w, fill(*f.Response.BodyText))
	case len(f.Response.Body) > 0:
		_, _ = io.WriteString(w, fill(string(f.Response.Body)))
	}
}

// wireRequest is the part of a request a fixture checks.
type wireRequest struct {
	Method  string
	Path    string
	Query   url.Values
	Headers map[string]string
	Body    any
	Form    url.Values
}

// diffRequest compares what r carries with what f expects.
func diffRequest(f *fixture, r *http.Request, body []byte) string {
	want := wireRequest{Method: f.Request.Method, Path: f.Request.Path, Query: f.Request.Query, Headers: map[string]string{}, Form: f.Request.Form}
	got := wireRequest{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Headers: map[string]string{}}
	for k, v := range f.Request.Headers {
		want.Headers[k] = strings.ReplaceAll(v, "{{version}}", Version)
		if vs := r.Header.Values(k); len(vs) > 0 {
			got.Headers[k] = strings.Join(vs, ", ")
		}
	}
	switch {
	case len(f.Request.Body) > 0:
		if err := json.Unmarshal(f.Request.Body, &want.Body); err != nil {
			return "fixture body: " + err.Error()
		}
		if err := json.Unmarshal(body, &got.Body); err != nil {
			got.Body = "not JSON: " + string(body)
		}
	case f.Request.Form != nil:
		got.Form, _ = url.ParseQuery(string(body))
	default:
		// No body expected: none may be sent, nor a Content-Type for one.
		if len(body) > 0 {
			got.Body = string(body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			got.Headers["Content-Type"] = ct
		}
	}
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// testToken is the access token of replayClient.
const testToken = "test-access-token"

// replayClient returns a Client for rs with the static token testToken, no
// throttle and retries with millisecond backoffs; opts come after those.
func replayClient(t testing.TB, rs *replayServer, opts ...Option) *Client {
	t.Helper()
	base := []Option{
		WithBaseURL(rs.URL),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken, TokenType: "Bearer"})),
		WithRateLimit(0, 0),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
	}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// TestReplayCatchesWrongRequests makes sure the harness fails a test when
// the request differs from its fixture, so that the fixture tests mean
// something.
func TestReplayCatchesWrongRequests(t *testing.T) {
	f := loadFixture(t, "contacts/get_contact_200.json")
	tests := []struct {
		name   string
		mutate func(r *http.Request)
		body   string
	}{
		{"method", func(r *http.Request) { r.Method = "POST" }, ""},
		{"path", func(r *http.Request) { r.URL.Path = "/contacts/other" }, ""},
		{"escaping", func(r *http.Request) { r.URL.RawPath = "/contacts/5f3e1c0a9b8d7e6f5a4b3c2%64" }, ""},
		{"query", func(r *http.Request) { r.URL.RawQuery = "x=1" }, ""},
		{"header", func(r *http.Request) { r.Header.Set("Authorization", "Bearer other") }, ""},
		{"missing header", func(r *http.Request) { r.Header.Del("Accept") }, ""},
		{"unexpected body", func(r *http.Request) {}, `{"a":1}`},
		{"unexpected content type", func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, ""},
	}
	ok := httptest.NewRequest("GET", "/contacts/5f3e1c0a9b8d7e6f5a4b3c2d", nil)
	ok.Header.Set("Accept", "application/json")
	ok.Header.Set("Authorization", "Bearer "+testToken)
	ok.Header.Set("User-Agent", "talkdesk-go/"+Version)
	if diff := diffRequest(f, ok, nil); diff != "" {
		t.Fatalf("the matching request differs:\n%s", diff)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok.Clone(ok.Context())
			tt.mutate(r)
			if diffRequest(f, r, []byte(tt.body)) == "" {
				t.Error("diffRequest found no difference")
			}
		})
	}
}
