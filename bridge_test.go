package talkdesk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// An actionFixture is one call of Talkdesk to a bridge, stored under
// testdata/bridge/: the request Talkdesk sends and the answer the bridge
// must give.
//
//	{
//	  "request":  {"method": "POST", "path": "/new_action", "headers": {...},
//	               "body": {...} or "body_text": "..."},
//	  "response": {"status": 201, "headers": {...}, "body": {...}}
//	}
//
// Response headers are those that must be present with these values; the
// body is compared as JSON.
type actionFixture struct {
	Request struct {
		Method   string            `json:"method"`
		Path     string            `json:"path"`
		Headers  map[string]string `json:"headers"`
		Body     json.RawMessage   `json:"body"`
		BodyText *string           `json:"body_text"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func loadActionFixture(t testing.TB, name string) *actionFixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "bridge", name))
	if err != nil {
		t.Fatal(err)
	}
	var f actionFixture
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	if f.Request.Method == "" || f.Request.Path == "" || f.Response.Status == 0 || f.Response.Body == nil {
		t.Fatalf("fixture %s: request.method, request.path, response.status and response.body are required", name)
	}
	return &f
}

// body is the request body of the fixture.
func (f *actionFixture) body() []byte {
	if f.Request.BodyText != nil {
		return []byte(*f.Request.BodyText)
	}
	return f.Request.Body
}

// send sends the fixture's request to base and checks the answer against
// the fixture.
func (f *actionFixture) send(t *testing.T, base string) {
	t.Helper()
	var body io.Reader
	if b := f.body(); b != nil {
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(f.Request.Method, base+f.Request.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range f.Request.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != f.Response.Status {
		t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, f.Response.Status, got)
	}
	for k, v := range f.Response.Headers {
		if g := resp.Header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if diff := cmp.Diff(decodeJSON(t, f.Response.Body), decodeJSON(t, got)); diff != "" {
		t.Errorf("answer body (-want +got):\n%s", diff)
	}
}

func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, b)
	}
	return v
}

// The integration of the tests: the credentials of the seed's sample
// request, and an external service that knows contact 1.
const (
	sampleUsername = "[email protected]"
	samplePassword = "605b32dd"
)

type crmContact struct{ ID, Type, URL string }

type crmCase struct {
	Subject, Description, ContactID, AgentID string
}

// testBridge is a bridge in front of a small in-memory CRM, with the
// actions the fixtures call.
type testBridge struct {
	srv  *talkdesk.ActionServer
	logs *testkit.SyncBuffer

	mu       sync.Mutex
	contacts map[string]crmContact
	cases    []crmCase
}

func newTestBridge(t testing.TB, opts ...talkdesk.ActionServerOption) *testBridge {
	b := &testBridge{
		logs: &testkit.SyncBuffer{},
		contacts: map[string]crmContact{
			"1": {ID: "7d97925a-864e-414d-9cc1-a09dd487d3e6", Type: "lead", URL: "https://my.site.com/contact/123"},
		},
	}
	logger := slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	b.srv = talkdesk.NewActionServer(append([]talkdesk.ActionServerOption{
		talkdesk.WithActionLogger(logger),
		talkdesk.WithActionAuth(checkSampleAuth),
	}, opts...)...)
	b.srv.Handle("new_action", b.newAction)
	b.srv.Handle("sync_agent", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, fmt.Errorf("crm: POST https://crm.internal/agents as %s/%s: connection refused", req.Auth["username"], req.Auth["password"])
	})
	b.srv.Handle("explode", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		panic("exploding with password " + req.Auth["password"])
	})
	b.srv.Handle("log_call", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, nil
	})
	return b
}

func checkSampleAuth(ctx context.Context, auth map[string]string) error {
	if auth == nil {
		return errors.New("no auth hash")
	}
	if auth["username"] != sampleUsername {
		return &talkdesk.ActionError{Message: "unknown user: check the username in the integration settings"}
	}
	if !talkdesk.SecretEqual(auth["password"], samplePassword) {
		return errors.New("wrong password")
	}
	return nil
}

// newAction files a case for the contact of meta.contact_external_id, as
// the seed's sample request asks, and answers with that contact.
func (b *testBridge) newAction(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
	var in struct {
		Subject     string `json:"subject"`
		Description string `json:"description"`
	}
	if err := req.Bind(&in); err != nil {
		return nil, err
	}
	if in.Subject == "" {
		return nil, &talkdesk.ActionError{Message: "Case creation failed: subject is required"}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.contacts[req.Meta.ContactExternalID]
	if !ok {
		return nil, fmt.Errorf("crm lookup: %w", &talkdesk.ActionError{Message: "Case creation failed: no contact " + req.Meta.ContactExternalID})
	}
	b.cases = append(b.cases, crmCase{in.Subject, in.Description, c.ID, req.Meta.AgentExternalID})
	return &talkdesk.ActionResult{
		Message:             "Case successfully created",
		ContactExternalID:   c.ID,
		ContactExternalType: c.Type,
		ContactExternalURL:  c.URL,
	}, nil
}

func (b *testBridge) casesFiled() []crmCase {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]crmCase(nil), b.cases...)
}

// TestActionServerSampleRequest sends the seed's sample request and checks
// the answer is the seed's sample response, and that the action saw the
// request as Talkdesk sent it.
func TestActionServerSampleRequest(t *testing.T) {
	b := newTestBridge(t)
	var got *talkdesk.ActionRequest
	b.srv.Handle("spy", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		got = req
		return b.newAction(ctx, req)
	})
	ts := httptest.NewServer(b.srv)
	defer ts.Close()

	f := loadActionFixture(t, "sample_request.json")
	f.send(t, ts.URL)
	want := []crmCase{{"Call missed in Talkdesk", "A call from Jane Doe was missed.", "7d97925a-864e-414d-9cc1-a09dd487d3e6", "2"}}
	if diff := cmp.Diff(want, b.casesFiled()); diff != "" {
		t.Errorf("cases (-want +got):\n%s", diff)
	}

	f.Request.Path = "/spy"
	f.send(t, ts.URL)
	if got == nil {
		t.Fatal("the action did not run")
	}
	wantReq := &talkdesk.ActionRequest{
		Action: "spy",
		Auth:   map[string]string{"username": sampleUsername, "password": samplePassword},
		Meta:   talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: "2"},
	}
	gotData := got.Data
	got.Data = nil
	if diff := cmp.Diff(wantReq, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	var sample struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(f.Request.Body, &sample); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeJSON(t, sample.Data), decodeJSON(t, gotData)); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// TestActionServerFixtures replays every status path of the contract, one
// fixture each, through a real HTTP server.
func TestActionServerFixtures(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "bridge", "*.json"))
	if err != nil || len(names) < 20 {
		t.Fatalf("fixtures: %v (%d found)", err, len(names))
	}
	b := newTestBridge(t)
	ts := httptest.NewServer(b.srv)
	defer ts.Close()
	for _, name := range names {
		name = filepath.Base(name)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			loadActionFixture(t, name).send(t, ts.URL)
		})
	}
	if n := len(b.casesFiled()); n != 1 {
		t.Errorf("%d cases filed, want 1 (the sample request's)", n)
	}
}

// TestActionServerLogs checks what each failure logs: the level, the
// error behind a generic answer, the panic and its stack, and never a
// value of the auth hash.
func TestActionServerLogs(t *testing.T) {
	tests := []struct {
		fixture string
		want    []string
	}{
		{"sample_request.json", []string{"level=DEBUG", "action=new_action", "status=201"}},
		{"action_internal_error_400.json", []string{"level=ERROR", "action=sync_agent", "status=400", "connection refused", "[REDACTED]"}},
		{"action_panic_400.json", []string{"level=ERROR", "action=explode", `panic="exploding with password [REDACTED]"`, "stack=", "bridge_test.go"}},
		{"action_error_400.json", []string{"level=INFO", "subject is required"}},
		{"auth_wrong_password_400.json", []string{"level=WARN", `error="auth check: wrong password"`, `message="authentication failed"`}},
		{"malformed_json_400.json", []string{"level=WARN", `message="request body is not valid JSON"`}},
		{"unknown_action_404.json", []string{"level=DEBUG", "status=404"}},
		{"get_405.json", []string{"level=DEBUG", "status=405"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.fixture, ".json"), func(t *testing.T) {
			b := newTestBridge(t)
			ts := httptest.NewServer(b.srv)
			defer ts.Close()
			loadActionFixture(t, tt.fixture).send(t, ts.URL)
			logs := b.logs.String()
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("log lacks %q:\n%s", w, logs)
				}
			}
			if strings.Contains(logs, samplePassword) || strings.Contains(logs, sampleUsername) {
				t.Errorf("log shows a value of the auth hash:\n%s", logs)
			}
			if n := strings.Count(logs, "\n"); n != 1 {
				t.Errorf("%d log lines, want 1:\n%s", n, logs)
			}
		})
	}
}

// post sends body to the handler in process and returns the status and
// the answer's message (or the whole result on 201).
func post(t testing.TB, h http.Handler, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	var res talkdesk.ActionResult
	if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
		t.Fatalf("answer is not JSON: %v: %q", err, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if rec.Code == http.StatusCreated {
		return rec.Code, rec.Body.String()
	}
	return rec.Code, res.Message
}

// capture registers an action that records the requests it gets.
func capture(srv *talkdesk.ActionServer, name string) func() *talkdesk.ActionRequest {
	var mu sync.Mutex
	var last *talkdesk.ActionRequest
	srv.Handle(name, func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		mu.Lock()
		last = req
		mu.Unlock()
		return &talkdesk.ActionResult{Message: "ok"}, nil
	})
	return func() *talkdesk.ActionRequest {
		mu.Lock()
		defer mu.Unlock()
		r := last
		last = nil
		return r
	}
}

func TestActionServerDecodesHashes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want *talkdesk.ActionRequest
	}{
		{
			name: "numbers and booleans in auth become strings",
			body: `{"auth": {"account_id": 1234, "ratio": -1.5e3, "sandbox": true, "legacy": false, "token": "s3cr\u00e9t\n"}}`,
			want: &talkdesk.ActionRequest{Action: "a", Auth: map[string]string{
				"account_id": "1234", "ratio": "-1.5e3", "sandbox": "true", "legacy": "false", "token": "s3crét\n",
			}},
		},
		{
			name: "null auth fields are left out",
			body: `{"auth": {"username": "u", "password": null}}`,
			want: &talkdesk.ActionRequest{Action: "a", Auth: map[string]string{"username": "u"}},
		},
		{
			name: "empty auth hash",
			body: `{"auth": {}}`,
			want: &talkdesk.ActionRequest{Action: "a", Auth: map[string]string{}},
		},
		{
			name: "no hashes at all",
			body: `{}`,
			want: &talkdesk.ActionRequest{Action: "a"},
		},
		{
			name: "null hashes",
			body: `{"auth": null, "meta": null, "data": null}`,
			want: &talkdesk.ActionRequest{Action: "a"},
		},
		{
			name: "numeric meta IDs",
			body: `{"meta": {"contact_external_id": 1, "agent_external_id": 2}}`,
			want: &talkdesk.ActionRequest{Action: "a", Meta: talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: "2"}},
		},
		{
			name: "only an agent",
			body: ` {"meta": {"agent_external_id": "ag-7", "other": [1]}, "extra": {"ignored": true}} `,
			want: &talkdesk.ActionRequest{Action: "a", Meta: talkdesk.ActionMeta{AgentExternalID: "ag-7"}},
		},
		{
			name: "data kept raw",
			body: `{"data": {"b": [1, 2], "a": {"x": "y"}}}`,
			want: &talkdesk.ActionRequest{Action: "a", Data: json.RawMessage(`{"b": [1, 2], "a": {"x": "y"}}`)},
		},
	}
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	last := capture(srv, "a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, msg := post(t, srv, "/a", tt.body); code != http.StatusCreated {
				t.Fatalf("status %d: %s", code, msg)
			}
			if diff := cmp.Diff(tt.want, last()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActionServerRejects(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"auth array", `{"auth": {"scopes": ["a", "b"]}}`, `auth field "scopes" must be a string, number or boolean`},
		{"auth nested", `{"auth": {"oauth": {"token": "t"}}}`, `auth field "oauth" must be a string, number or boolean`},
		{"auth as array", `{"auth": [{"username": "u"}]}`, "auth must be a JSON object"},
		{"long auth key", `{"auth": {"` + strings.Repeat("k", 100) + `": {}}}`, `auth field "` + strings.Repeat("k", 64) + `..." must be a string, number or boolean`},
		{"meta agent object", `{"meta": {"agent_external_id": {"id": 2}}}`, `meta field "agent_external_id" must be a string`},
		{"meta string", `{"meta": "1"}`, "meta must be a JSON object"},
		{"data array", `{"data": [1]}`, "data must be a JSON object"},
		{"data number", `{"data": 1}`, "data must be a JSON object"},
		{"body string", `"hello"`, "request body must be a JSON object"},
		{"body null", `null`, "request body must be a JSON object"},
		{"body not JSON", `auth=x&data=y`, "request body is not valid JSON"},
		{"body truncated", `{"data": {"subject": "x"`, "request body is not valid JSON"},
		{"body two objects", `{}{}`, "request body is not valid JSON"},
	}
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	last := capture(srv, "a")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := post(t, srv, "/a", tt.body)
			if code != http.StatusBadRequest || msg != tt.want {
				t.Errorf("got %d %q, want 400 %q", code, msg, tt.want)
			}
			if r := last(); r != nil {
				t.Errorf("the action ran with %v", r)
			}
		})
	}
}

func TestActionServerAuthCheck(t *testing.T) {
	var seen []map[string]string
	var mu sync.Mutex
	type ctxKey struct{}
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)),
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			if ctx.Value(ctxKey{}) != "from the request" {
				t.Error("the auth check did not get the request's context")
			}
			mu.Lock()
			seen = append(seen, auth)
			mu.Unlock()
			return checkSampleAuth(ctx, auth)
		}),
	)
	ran := 0
	srv.Handle("a", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		ran++
		return &talkdesk.ActionResult{Message: "ran"}, nil
	})
	tests := []struct {
		name     string
		auth     string
		wantCode int
		wantMsg  string
	}{
		{"pass", `{"username": "[email protected]", "password": "605b32dd"}`, 201, `{"message":"ran"}`},
		{"wrong password", `{"username": "[email protected]", "password": "605b32dD"}`, 400, "authentication failed"},
		{"password prefix", `{"username": "[email protected]", "password": "605b32d"}`, 400, "authentication failed"},
		{"empty password", `{"username": "[email protected]", "password": ""}`, 400, "authentication failed"},
		{"no password", `{"username": "[email protected]"}`, 400, "authentication failed"},
		{"unknown user, ActionError from the check", `{"username": "x", "password": "605b32dd"}`, 400, "unknown user: check the username in the integration settings"},
		{"no auth hash", ``, 400, "authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran = 0
			body := `{"data": {}}`
			if tt.auth != "" {
				body = `{"auth": ` + tt.auth + `, "data": {}}`
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("POST", "/a", strings.NewReader(body))
			req = req.WithContext(context.WithValue(req.Context(), ctxKey{}, "from the request"))
			srv.ServeHTTP(rec, req)
			var res talkdesk.ActionResult
			if err := json.Unmarshal(rec.Body.Bytes(), &res); err != nil {
				t.Fatal(err)
			}
			msg := res.Message
			if rec.Code == 201 {
				msg = rec.Body.String()
			}
			if rec.Code != tt.wantCode || msg != tt.wantMsg {
				t.Errorf("got %d %q, want %d %q", rec.Code, msg, tt.wantCode, tt.wantMsg)
			}
			if wantRan := map[bool]int{true: 1, false: 0}[tt.wantCode == 201]; ran != wantRan {
				t.Errorf("action ran %d times, want %d", ran, wantRan)
			}
		})
	}
	if len(seen) != len(tests) || seen[len(seen)-1] != nil {
		t.Errorf("the check saw %v; want one call per request, nil auth for the last", seen)
	}
}

func TestSecretEqual(t *testing.T) {
	tests := []struct {
		given, expected string
		want            bool
	}{
		{"605b32dd", "605b32dd", true},
		{"605b32dd", "605b32de", false},
		{"605b32d", "605b32dd", false},
		{"605b32dd ", "605b32dd", false},
		{"", "605b32dd", false},
		{"605b32dd", "", false},
		{"", "", false},
		{"pässwörd", "pässwörd", true},
		{strings.Repeat("x", 10000), strings.Repeat("x", 10000), true},
	}
	for _, tt := range tests {
		if got := talkdesk.SecretEqual(tt.given, tt.expected); got != tt.want {
			t.Errorf("SecretEqual(%.20q, %.20q) = %v, want %v", tt.given, tt.expected, got, tt.want)
		}
	}
}

func TestActionServerBodyLimit(t *testing.T) {
	const limit = 256
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)),
		talkdesk.WithActionMaxBodyBytes(limit),
	)
	last := capture(srv, "a")
	ts := httptest.NewServer(srv)
	defer ts.Close()
	// body returns a request body of exactly n bytes.
	body := func(n int) string {
		s := `{"data": {"text": "`
		return s + strings.Repeat("x", n-len(s)-3) + `"}}`
	}
	tests := []struct {
		name    string
		n       int
		chunked bool // no Content-Length: the limit must hold while reading
		want    int
	}{
		{"at the limit", limit, false, 201},
		{"at the limit, chunked", limit, true, 201},
		{"one byte over", limit + 1, false, 400},
		{"one byte over, chunked", limit + 1, true, 400},
		{"far over, chunked", 10 << 20, true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(body(tt.n))
			if tt.chunked {
				r = io.MultiReader(r) // hides the length from net/http
			}
			resp, err := http.Post(ts.URL+"/a", "application/json", r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res talkdesk.ActionResult
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, res.Message, tt.want)
			}
			ran := last() != nil
			if ran != (tt.want == 201) {
				t.Errorf("action ran = %v", ran)
			}
			if tt.want == 400 && res.Message != "request body is larger than 256 bytes" {
				t.Errorf("message %q", res.Message)
			}
		})
	}
}

// readSpy is a request body that records whether it was read.
type readSpy struct {
	io.Reader
	read bool
}

func (r *readSpy) Read(p []byte) (int, error) {
	r.read = true
	return r.Reader.Read(p)
}

// TestActionServerDeclaredLengthOverLimit checks that a body whose
// Content-Length is over the limit is refused before any of it is read.
func TestActionServerDeclaredLengthOverLimit(t *testing.T) {
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)), talkdesk.WithActionMaxBodyBytes(100))
	last := capture(srv, "a")
	body := &readSpy{Reader: strings.NewReader(`{}`)}
	req := httptest.NewRequest("POST", "/a", body)
	req.ContentLength = 1 << 30
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "larger than 100 bytes") {
		t.Errorf("got %d %s", rec.Code, rec.Body.String())
	}
	if body.read || last() != nil {
		t.Errorf("body read: %v; the action ran: %v", body.read, last() != nil)
	}
}

func TestActionServerDefaultBodyLimit(t *testing.T) {
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)), talkdesk.WithActionMaxBodyBytes(-1))
	capture(srv, "a")
	big := `{"data": {"text": "` + strings.Repeat("x", 1<<20) + `"}}`
	if code, msg := post(t, srv, "/a", big); code != 400 || msg != "request body is larger than 1048576 bytes" {
		t.Errorf("got %d %q", code, msg)
	}
	fits := `{"data": {"text": "` + strings.Repeat("x", 1<<20-100) + `"}}`
	if code, msg := post(t, srv, "/a", fits); code != 201 {
		t.Errorf("got %d %q", code, msg)
	}
}

// TestActionServerPanicRecovery checks that a panic in an action or in the
// auth check answers 400 and that the server goes on serving.
func TestActionServerPanicRecovery(t *testing.T) {
	b := newTestBridge(t)
	ts := httptest.NewServer(b.srv)
	defer ts.Close()
	for range 3 {
		loadActionFixture(t, "action_panic_400.json").send(t, ts.URL)
		loadActionFixture(t, "sample_request.json").send(t, ts.URL)
	}
	if n := strings.Count(b.logs.String(), "panic="); n != 3 {
		t.Errorf("%d panics logged, want 3", n)
	}

	srv := talkdesk.NewActionServer(
		talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)),
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			fields := strings.Split(auth["x"], ":")
			_ = fields[1] // "y" has no colon: index out of range
			return nil
		}),
	)
	capture(srv, "a")
	if code, msg := post(t, srv, "/a", `{"auth": {"x": "y"}}`); code != 400 || msg != "action failed" {
		t.Errorf("panic in the auth check: got %d %q", code, msg)
	}
}

func TestActionServerAbortHandler(t *testing.T) {
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	srv.Handle("a", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		panic(http.ErrAbortHandler)
	})
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler to reach net/http", v)
		}
	}()
	srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/a", strings.NewReader("{}")))
}

func TestActionServerErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"ActionError", &talkdesk.ActionError{Message: "Case creation failed"}, "Case creation failed"},
		{"wrapped ActionError", fmt.Errorf("filing case: %w", &talkdesk.ActionError{Message: "Case creation failed"}), "Case creation failed"},
		{"joined ActionError", errors.Join(errors.New("db: timeout"), &talkdesk.ActionError{Message: "Try again"}), "Try again"},
		{"empty ActionError", &talkdesk.ActionError{}, "action failed"},
		{"internal error", errors.New("pq: password authentication failed for user \"crm\" at 10.0.0.7"), "action failed"},
		{"context error", context.DeadlineExceeded, "action failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
			srv.Handle("a", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
				return &talkdesk.ActionResult{Message: "ignored with an error"}, tt.err
			})
			if code, msg := post(t, srv, "/a", `{}`); code != 400 || msg != tt.want {
				t.Errorf("got %d %q, want 400 %q", code, msg, tt.want)
			}
		})
	}
}

func TestActionServerResultFields(t *testing.T) {
	tests := []struct {
		res  *talkdesk.ActionResult
		want string
	}{
		{nil, `{}`},
		{&talkdesk.ActionResult{}, `{}`},
		{&talkdesk.ActionResult{ExternalID: "case-1"}, `{"external_id":"case-1"}`},
		{
			&talkdesk.ActionResult{Message: "m", ExternalID: "e", ContactExternalID: "c", ContactExternalType: "lead", ContactExternalURL: "https://x/c?a=1&b=2"},
			`{"message":"m","external_id":"e","contact_external_id":"c","contact_external_type":"lead","contact_external_url":"https://x/c?a=1\u0026b=2"}`,
		},
	}
	for _, tt := range tests {
		srv := talkdesk.NewActionServer()
		srv.Handle("a", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
			return tt.res, nil
		})
		if code, body := post(t, srv, "/a", `{}`); code != 201 || body != tt.want {
			t.Errorf("%+v: got %d %s, want 201 %s", tt.res, code, body, tt.want)
		}
	}
}

func TestActionServerMethods(t *testing.T) {
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	last := capture(srv, "a")
	for _, m := range []string{"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "post"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(m, "/a", strings.NewReader("{}")))
		if rec.Code != 405 || rec.Header().Get("Allow") != "POST" {
			t.Errorf("%s: got %d, Allow %q; want 405, Allow POST", m, rec.Code, rec.Header().Get("Allow"))
		}
		if r := last(); r != nil {
			t.Errorf("%s ran the action", m)
		}
		rec = httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(m, "/unknown", nil))
		if rec.Code != 404 {
			t.Errorf("%s to an unknown action: got %d, want 404", m, rec.Code)
		}
	}
}

// TestActionServerMounting mounts the server in the ways the docs show and
// checks which paths reach the action.
func TestActionServerMounting(t *testing.T) {
	newSrv := func(opts ...talkdesk.ActionServerOption) (*talkdesk.ActionServer, func() *talkdesk.ActionRequest) {
		srv := talkdesk.NewActionServer(append([]talkdesk.ActionServerOption{talkdesk.WithActionLogger(slog.New(slog.DiscardHandler))}, opts...)...)
		return srv, capture(srv, "create_case")
	}
	type probe struct {
		path string
		want int
	}
	tests := []struct {
		name   string
		mux    func() (http.Handler, func() *talkdesk.ActionRequest)
		probes []probe
	}{
		{
			name: "at the root",
			mux: func() (http.Handler, func() *talkdesk.ActionRequest) {
				return newSrv()
			},
			probes: []probe{{"/create_case", 201}, {"/x/create_case", 404}, {"/create_case/", 404}, {"/", 404}, {"/create%5Fcase", 201}},
		},
		{
			name: "http.Handle with WithActionPrefix",
			mux: func() (http.Handler, func() *talkdesk.ActionRequest) {
				srv, last := newSrv(talkdesk.WithActionPrefix("/talkdesk/actions"))
				mux := http.NewServeMux()
				mux.Handle("/talkdesk/actions/", srv)
				return mux, last
			},
			probes: []probe{{"/talkdesk/actions/create_case", 201}, {"/talkdesk/actions/", 404}, {"/talkdesk/actions/create_case/x", 404}, {"/create_case", 404}},
		},
		{
			name: "prefix with slashes",
			mux: func() (http.Handler, func() *talkdesk.ActionRequest) {
				return newSrv(talkdesk.WithActionPrefix("talkdesk/"))
			},
			probes: []probe{{"/talkdesk/create_case", 201}, {"/talkdeskcreate_case", 404}, {"/create_case", 404}},
		},
		{
			name: "http.StripPrefix",
			mux: func() (http.Handler, func() *talkdesk.ActionRequest) {
				srv, last := newSrv()
				mux := http.NewServeMux()
				mux.Handle("/bridge/", http.StripPrefix("/bridge", srv))
				return mux, last
			},
			probes: []probe{{"/bridge/create_case", 201}, {"/bridge/other", 404}},
		},
		{
			name: "ServeMux pattern with {action}",
			mux: func() (http.Handler, func() *talkdesk.ActionRequest) {
				srv, last := newSrv()
				mux := http.NewServeMux()
				mux.Handle("/v1/{tenant}/{action}", srv)
				return mux, last
			},
			probes: []probe{{"/v1/acme/create_case", 201}, {"/v1/acme/other", 404}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, last := tt.mux()
			for _, p := range tt.probes {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("POST", p.path, strings.NewReader("{}")))
				if rec.Code != p.want {
					t.Errorf("POST %s: %d, want %d", p.path, rec.Code, p.want)
				}
				r := last()
				if (r != nil) != (p.want == 201) || r != nil && r.Action != "create_case" {
					t.Errorf("POST %s: action ran with %v", p.path, r)
				}
			}
		})
	}
}

func TestActionServerZeroValue(t *testing.T) {
	var srv talkdesk.ActionServer
	capture(&srv, "a")
	if code, body := post(t, &srv, "/a", `{}`); code != 201 || body != `{"message":"ok"}` {
		t.Errorf("got %d %s", code, body)
	}
}

func TestActionServerHandlePanics(t *testing.T) {
	fn := func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, nil
	}
	tests := []struct {
		name   string
		action string
		fn     talkdesk.ActionFunc
		want   string
	}{
		{"empty name", "", fn, "empty action name"},
		{"slash", "a/b", fn, "contains a slash"},
		{"nil func", "b", nil, "nil ActionFunc"},
		{"twice", "a", fn, "registered twice"},
	}
	srv := talkdesk.NewActionServer()
	srv.Handle("a", fn)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), tt.want) {
					t.Errorf("panic %v, want one saying %q", v, tt.want)
				}
			}()
			srv.Handle(tt.action, tt.fn)
		})
	}
}

// TestActionServerContextCancel checks that the action runs with the
// request's context: when Talkdesk goes away, the action sees it.
func TestActionServerContextCancel(t *testing.T) {
	started := make(chan struct{})
	done := make(chan error, 1)
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	srv.Handle("slow", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		close(started)
		select {
		case <-ctx.Done():
			done <- ctx.Err()
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			done <- errors.New("the context was not cancelled within a minute")
			return nil, nil
		}
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := talkdesktest.ExecuteAction(ctx, ts.URL+"/slow", nil, nil, talkdesk.ActionMeta{})
		errc <- err
	}()
	<-started
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v, want context.Canceled", err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("action: %v, want context.Canceled", err)
	}
}

// TestActionServerConcurrent runs many actions at once, with Handle
// registering more while the server serves; run it with -race.
func TestActionServerConcurrent(t *testing.T) {
	b := newTestBridge(t, talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	ts := httptest.NewServer(b.srv)
	defer ts.Close()
	auth := map[string]string{"username": sampleUsername, "password": samplePassword}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each+workers)
	for w := range workers {
		wg.Go(func() {
			name := fmt.Sprintf("late_%d", w)
			b.srv.Handle(name, func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
				return &talkdesk.ActionResult{ExternalID: req.Action + "/" + req.Meta.AgentExternalID}, nil
			})
			for i := range each {
				meta := talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: fmt.Sprint(i)}
				data := map[string]string{"subject": fmt.Sprintf("case %d-%d", w, i)}
				code, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/new_action", auth, data, meta)
				if err != nil || code != 201 || res.ContactExternalID != "7d97925a-864e-414d-9cc1-a09dd487d3e6" {
					errs <- fmt.Errorf("new_action: %d %+v %v", code, res, err)
				}
				code, res, err = talkdesktest.ExecuteAction(context.Background(), ts.URL+"/"+name, auth, nil, meta)
				if want := fmt.Sprintf("%s/%d", name, i); err != nil || code != 201 || res.ExternalID != want {
					errs <- fmt.Errorf("%s: %d %+v %v, want external_id %s", name, code, res, err, want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	cases := b.casesFiled()
	if len(cases) != workers*each {
		t.Fatalf("%d cases filed, want %d", len(cases), workers*each)
	}
	seen := make(map[string]bool)
	for _, c := range cases {
		seen[c.Subject] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct cases, want %d", len(seen), workers*each)
	}
}

func TestActionRequestBind(t *testing.T) {
	type customer struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	type caseData struct {
		Subject  string     `json:"subject"`
		Priority int        `json:"priority"`
		Urgent   bool       `json:"urgent"`
		Score    float64    `json:"score"`
		Tags     []string   `json:"tags"`
		Customer customer   `json:"customer"`
		Due      *time.Time `json:"due"`
		Extra    map[string]int
	}
	tests := []struct {
		name    string
		data    string
		want    caseData
		wantErr string // the ActionError's message
	}{
		{name: "all fields", data: `{"subject": "s", "priority": 2, "urgent": true, "score": 0.5, "tags": ["a"], "customer": {"name": "Ada", "age": 36}, "due": "2025-01-02T03:04:05Z", "unknown": 1}`,
			want: caseData{Subject: "s", Priority: 2, Urgent: true, Score: 0.5, Tags: []string{"a"}, Customer: customer{"Ada", 36}, Due: talkdesk.Ptr(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))}},
		{name: "no data", data: ``},
		{name: "string for integer", data: `{"priority": "high"}`, wantErr: `data field "priority": want integer, got string`},
		{name: "fraction for integer", data: `{"priority": 1.5}`, wantErr: `data field "priority": want integer, got number 1.5`},
		{name: "number for string", data: `{"subject": 42}`, wantErr: `data field "subject": want string, got number`},
		{name: "string for boolean", data: `{"urgent": "yes"}`, wantErr: `data field "urgent": want boolean, got string`},
		{name: "object for array", data: `{"tags": {"a": 1}}`, wantErr: `data field "tags": want array, got object`},
		{name: "number in array", data: `{"tags": ["a", 1]}`, wantErr: `data field "tags": want string, got number`},
		{name: "nested field", data: `{"customer": {"age": "36"}}`, wantErr: `data field "customer.age": want integer, got string`},
		{name: "array for object", data: `{"customer": []}`, wantErr: `data field "customer": want object, got array`},
		{name: "number for time", data: `{"due": 20250102}`, wantErr: `invalid data: Time.UnmarshalJSON: input is not a JSON string`},
		{name: "bad time", data: `{"due": "tomorrow"}`, wantErr: `invalid data: parsing time "tomorrow" as "2006-01-02T15:04:05Z07:00": cannot parse "tomorrow" as "2006"`},
		{name: "map value", data: `{"Extra": {"a": "b"}}`, wantErr: `data field "Extra": want integer, got string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &talkdesk.ActionRequest{Data: json.RawMessage(tt.data)}
			var got caseData
			err := req.Bind(&got)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
				return
			}
			var ae *talkdesk.ActionError
			if !errors.As(err, &ae) || ae.Message != tt.wantErr || err.Error() != tt.wantErr {
				t.Errorf("error %#v, want *ActionError %q", err, tt.wantErr)
			}
		})
	}

	t.Run("not a pointer", func(t *testing.T) {
		var ae *talkdesk.ActionError
		err := (&talkdesk.ActionRequest{Data: json.RawMessage(`{}`)}).Bind(caseData{})
		if err == nil || errors.As(err, &ae) {
			t.Errorf("got %v, want an ordinary error", err)
		}
	})
	t.Run("into a map", func(t *testing.T) {
		var m map[string]int
		err := (&talkdesk.ActionRequest{Data: json.RawMessage(`{"a": 1, "b": "x"}`)}).Bind(&m)
		var ae *talkdesk.ActionError
		if !errors.As(err, &ae) || ae.Message != `data: want integer, got string` {
			t.Errorf("got %v", err)
		}
	})
	t.Run("invalid JSON set by hand", func(t *testing.T) {
		err := (&talkdesk.ActionRequest{Data: json.RawMessage(`{`)}).Bind(&caseData{})
		var ae *talkdesk.ActionError
		if !errors.As(err, &ae) || ae.Message != "data is not valid JSON" {
			t.Errorf("got %v", err)
		}
	})
}

// TestActionRequestHidesAuth formats and logs a request in every way and
// checks that the credentials never show.
func TestActionRequestHidesAuth(t *testing.T) {
	req := &talkdesk.ActionRequest{
		Action: "new_action",
		Auth:   map[string]string{"username": sampleUsername, "password": samplePassword},
		Meta:   talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: "2"},
		Data:   json.RawMessage(`{"subject":"Call missed"}`),
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("req", "req", req, "val", *req)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("req", "req", req)
	outs := []string{
		fmt.Sprintf("%v", req), fmt.Sprintf("%+v", req), fmt.Sprintf("%#v", req), fmt.Sprintf("%s", req),
		fmt.Sprintf("%v", *req), fmt.Sprint([]*talkdesk.ActionRequest{req}), logs.String(),
	}
	for _, out := range outs {
		if strings.Contains(out, samplePassword) || strings.Contains(out, sampleUsername) {
			t.Errorf("shows the credentials: %s", out)
		}
		for _, want := range []string{"new_action", "password", "username", "Call missed"} {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q: %s", want, out)
			}
		}
	}
	if got, want := fmt.Sprint(req), `{Action:new_action Auth:map[password:[REDACTED] username:[REDACTED]] Meta:{ContactExternalID:1 AgentExternalID:2} Data:{"subject":"Call missed"}}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var nilReq *talkdesk.ActionRequest
	if got := fmt.Sprint(nilReq); got != "<nil>" {
		t.Errorf("nil request prints %q", got)
	}
}

// FuzzActionServer sends arbitrary methods, paths and bodies to a bridge
// whose actions bind data, fail and panic. Whatever arrives, the server
// must not panic and must answer JSON with one of the contract's statuses.
// Seeds: every fixture of testdata/bridge and testdata/fuzz/FuzzActionServer.
func FuzzActionServer(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "bridge", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		fx := loadActionFixture(f, filepath.Base(name))
		f.Add(fx.Request.Method, fx.Request.Path, fx.body())
	}
	b := newTestBridge(f, talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)), talkdesk.WithActionMaxBodyBytes(4096))
	b.srv.Handle("typed", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in struct {
			N     int                `json:"n"`
			Tags  []string           `json:"tags"`
			When  time.Time          `json:"when"`
			Inner map[string]float64 `json:"inner"`
		}
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		if in.N < 0 {
			panic("negative")
		}
		return &talkdesk.ActionResult{ExternalID: fmt.Sprint(in.N), Message: strings.Join(in.Tags, ",")}, nil
	})
	f.Fuzz(func(t *testing.T, method, path string, body []byte) {
		req := &http.Request{
			Method:        method,
			URL:           &url.URL{Path: path},
			Header:        http.Header{"Content-Type": {"application/json"}},
			Body:          io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)),
		}
		rec := httptest.NewRecorder()
		b.srv.ServeHTTP(rec, req)

		allowed := map[int]bool{201: true, 400: true, 404: true, 405: true}
		if method == "POST" {
			delete(allowed, 405)
		} else {
			delete(allowed, 201)
			delete(allowed, 400)
		}
		if !allowed[rec.Code] {
			t.Fatalf("%s %q: status %d", method, path, rec.Code)
		}
		if rec.Code == 405 && rec.Header().Get("Allow") != "POST" {
			t.Errorf("405 without Allow: POST")
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer is not a JSON object: %v: %q", err, rec.Body.String())
		}
		if rec.Code != 201 {
			if msg, _ := answer["message"].(string); msg == "" || len(answer) != 1 {
				t.Errorf("%d answer %q: want only a message", rec.Code, rec.Body.String())
			}
		}
		if rec.Code != 201 && strings.Contains(rec.Body.String(), "negative") {
			t.Errorf("a panic value reached the answer: %s", rec.Body.String())
		}
	})
}

// benchCase is the data of the seed's sample request.
type benchCase struct {
	Subject     string `json:"subject"`
	Description string `json:"description"`
}

// benchActionServer is the bridge of the benchmark: the sample's auth
// check, then an action that binds the data and answers with a case ID.
func benchActionServer() http.Handler {
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)),
		talkdesk.WithActionAuth(checkSampleAuth),
	)
	srv.Handle("new_action", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in benchCase
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		if in.Subject == "" {
			return nil, &talkdesk.ActionError{Message: "subject is required"}
		}
		return &talkdesk.ActionResult{Message: "Case successfully created", ExternalID: "case-1", ContactExternalID: req.Meta.ContactExternalID}, nil
	})
	return srv
}

// handWrittenAction is the same bridge as a careful programmer writes it
// with net/http and encoding/json alone: one route, POST only, a bounded
// body, one decode into typed structs, the same auth check, one encode.
func handWrittenAction(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
	if r.URL.Path != "/new_action" {
		fail(http.StatusNotFound, "unknown action")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		fail(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	var in struct {
		Auth map[string]string `json:"auth"`
		Meta struct {
			ContactExternalID string `json:"contact_external_id"`
			AgentExternalID   string `json:"agent_external_id"`
		} `json:"meta"`
		Data benchCase `json:"data"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		fail(http.StatusBadRequest, "invalid request")
		return
	}
	if checkSampleAuth(r.Context(), in.Auth) != nil {
		fail(http.StatusBadRequest, "authentication failed")
		return
	}
	if in.Data.Subject == "" {
		fail(http.StatusBadRequest, "subject is required")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(&talkdesk.ActionResult{Message: "Case successfully created", ExternalID: "case-1", ContactExternalID: in.Meta.ContactExternalID})
}

var benchImpls = []struct {
	name string
	h    http.Handler
}{
	{"ActionServer", benchActionServer()},
	{"hand-written", http.HandlerFunc(handWrittenAction)},
}

// BenchmarkActionServer is one action round trip, the seed's sample
// request over loopback HTTP to an in-process server and its answer
// decoded, through ActionServer and through the hand-written handler.
func BenchmarkActionServer(b *testing.B) {
	body := loadActionFixture(b, "sample_request.json").body()
	for _, impl := range benchImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			ts := httptest.NewServer(impl.h)
			defer ts.Close()
			hc := &http.Client{Transport: &http.Transport{}}
			b.ReportAllocs()
			for b.Loop() {
				resp, err := hc.Post(ts.URL+"/new_action", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				var res talkdesk.ActionResult
				err = json.NewDecoder(resp.Body).Decode(&res)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 201 || res.ExternalID != "case-1" || res.ContactExternalID != "1" {
					b.Fatal(resp.StatusCode, res, err)
				}
			}
		})
	}
}

// BenchmarkActionServerHandler is the same work without the network:
// ServeHTTP on a recorded request, which shows the server's own cost.
func BenchmarkActionServerHandler(b *testing.B) {
	body := loadActionFixture(b, "sample_request.json").body()
	for _, impl := range benchImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				impl.h.ServeHTTP(rec, httptest.NewRequest("POST", "/new_action", bytes.NewReader(body)))
				if rec.Code != 201 {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// TestActionServerHeadersAloneClaimNoMemory: 200 connections that send
// only headers declaring a body of 1 MiB, and no byte of it, hold no
// buffer of that size while they wait: the buffer grows as bytes arrive.
func TestActionServerHeadersAloneClaimNoMemory(t *testing.T) {
	s := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	s.Handle("ping", func(context.Context, *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return &talkdesk.ActionResult{Message: "pong"}, nil
	})
	var mu sync.Mutex
	active := 0
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive {
			mu.Lock()
			active++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	const conns = 200
	for range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /ping HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 1<<20)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := active
		mu.Unlock()
		if n == conns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d connections reached the server", n, conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // every handler is waiting for the body
	if grew := int64(heap()) - int64(before); grew > 50<<20 {
		t.Errorf("%d connections that sent only headers hold %d MiB", conns, grew>>20)
	} else {
		t.Logf("%d connections that sent only headers hold %.1f MiB", conns, float64(grew)/(1<<20))
	}
}
