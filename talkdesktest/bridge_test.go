package talkdesktest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// sampleFixture is the seed's sample request and response, shared with the
// tests of package talkdesk.
type sampleFixture struct {
	Request struct {
		Method  string            `json:"method"`
		Path    string            `json:"path"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"request"`
	Response struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers"`
		Body    json.RawMessage   `json:"body"`
	} `json:"response"`
}

func loadSample(t *testing.T) *sampleFixture {
	t.Helper()
	data, err := os.ReadFile("../testdata/bridge/sample_request.json")
	if err != nil {
		t.Fatal(err)
	}
	var f sampleFixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return &f
}

// received is one request a bridge under test got.
type received struct {
	Method, Path, ContentType, Accept string
	Body                              any
}

// bridgeStub records requests and answers each with status and body.
func bridgeStub(t *testing.T, status int, body string) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("request body is not JSON: %q", b)
		}
		mu.Lock()
		got = append(got, received{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), r.Header.Get("Accept"), v})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestExecuteActionSendsTheSample checks that ExecuteAction sends the
// seed's sample request byte for byte as JSON, and decodes the sample
// response.
func TestExecuteActionSendsTheSample(t *testing.T) {
	f := loadSample(t)
	ts, got := bridgeStub(t, f.Response.Status, string(f.Response.Body))
	var sample struct {
		Auth map[string]string   `json:"auth"`
		Meta talkdesk.ActionMeta `json:"meta"`
		Data json.RawMessage     `json:"data"`
	}
	if err := json.Unmarshal(f.Request.Body, &sample); err != nil {
		t.Fatal(err)
	}
	data := struct {
		Subject     string `json:"subject"`
		Description string `json:"description"`
	}{"Call missed in Talkdesk", "A call from Jane Doe was missed."}

	status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+f.Request.Path, sample.Auth, data, sample.Meta)
	if err != nil {
		t.Fatal(err)
	}
	want := []received{{
		Method:      f.Request.Method,
		Path:        f.Request.Path,
		ContentType: f.Request.Headers["Content-Type"],
		Accept:      "application/json",
		Body:        jsonValue(t, f.Request.Body),
	}}
	if diff := cmp.Diff(want, got()); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	wantRes := &talkdesk.ActionResult{
		Message:             "Case successfully created",
		ContactExternalID:   "7d97925a-864e-414d-9cc1-a09dd487d3e6",
		ContactExternalType: "lead",
		ContactExternalURL:  "https://my.site.com/contact/123",
	}
	if status != 201 {
		t.Errorf("status %d", status)
	}
	if diff := cmp.Diff(wantRes, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestExecuteActionBodies(t *testing.T) {
	tests := []struct {
		name string
		auth map[string]string
		data any
		meta talkdesk.ActionMeta
		want string
	}{
		{"no auth: left out", nil, map[string]int{"n": 1}, talkdesk.ActionMeta{}, `{"meta": {}, "data": {"n": 1}}`},
		{"empty auth: sent", map[string]string{}, nil, talkdesk.ActionMeta{}, `{"auth": {}, "meta": {}, "data": {}}`},
		{"raw data", map[string]string{"api_key": "k"}, json.RawMessage(`{"a": [1, {"b": null}]}`), talkdesk.ActionMeta{AgentExternalID: "2"},
			`{"auth": {"api_key": "k"}, "meta": {"agent_external_id": "2"}, "data": {"a": [1, {"b": null}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, got := bridgeStub(t, 201, `{}`)
			status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/a", tt.auth, tt.data, tt.meta)
			if err != nil || status != 201 || *res != (talkdesk.ActionResult{}) {
				t.Fatalf("got %d %+v %v", status, res, err)
			}
			if diff := cmp.Diff(jsonValue(t, []byte(tt.want)), got()[0].Body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecuteActionFailures(t *testing.T) {
	t.Run("data not an object", func(t *testing.T) {
		ts, got := bridgeStub(t, 201, `{}`)
		for _, data := range []any{[]string{"a"}, "text", json.RawMessage(`null`), func() {}} {
			if _, _, err := talkdesktest.ExecuteAction(context.Background(), ts.URL, nil, data, talkdesk.ActionMeta{}); err == nil {
				t.Errorf("data %T: no error", data)
			}
		}
		if n := len(got()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
	t.Run("400 message", func(t *testing.T) {
		ts, _ := bridgeStub(t, 400, `{"message": "Case creation failed"}`)
		status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL, nil, nil, talkdesk.ActionMeta{})
		if err != nil || status != 400 || res.Message != "Case creation failed" {
			t.Errorf("got %d %+v %v", status, res, err)
		}
	})
	t.Run("answer not JSON", func(t *testing.T) {
		ts := httptest.NewServer(http.NotFoundHandler())
		defer ts.Close()
		status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/a", nil, nil, talkdesk.ActionMeta{})
		if status != 404 || res != nil || err == nil || !strings.Contains(err.Error(), "404 page not found") {
			t.Errorf("got %d %+v %v", status, res, err)
		}
	})
	t.Run("bad URL", func(t *testing.T) {
		if _, _, err := talkdesktest.ExecuteAction(context.Background(), "://x", nil, nil, talkdesk.ActionMeta{}); err == nil {
			t.Error("no error")
		}
	})
}

// TestExecuteActionAgainstActionServer is the round trip users write:
// their bridge, called as Talkdesk calls it.
func TestExecuteActionAgainstActionServer(t *testing.T) {
	srv := talkdesk.NewActionServer()
	srv.Handle("create_case", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in struct {
			Subject string `json:"subject"`
		}
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		return &talkdesk.ActionResult{Message: in.Subject + " for " + req.Meta.ContactExternalID + " by " + req.Auth["username"]}, nil
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/create_case",
		map[string]string{"username": "ada"}, map[string]string{"subject": "Call missed"}, talkdesk.ActionMeta{ContactExternalID: "1"})
	if err != nil || status != 201 || res.Message != "Call missed for 1 by ada" {
		t.Errorf("got %d %+v %v", status, res, err)
	}
	status, res, err = talkdesktest.ExecuteAction(context.Background(), ts.URL+"/create_case", nil, map[string]int{"subject": 1}, talkdesk.ActionMeta{})
	if err != nil || status != 400 || res.Message != `data field "subject": want string, got number` {
		t.Errorf("got %d %+v %v", status, res, err)
	}
}
