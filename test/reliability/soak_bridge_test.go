package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// The bridge soak: bridgeSoakCalls action calls from bridgeSoakClients
// concurrent clients to an ActionServer over HTTP, of every kind the
// contract answers: successes, action errors, other errors, panics, failed
// credentials, malformed, non-object and oversized bodies (with and
// without Content-Length), unknown actions, wrong methods, data of the
// wrong type, and callers that go away while the action runs.
const (
	bridgeSoakCalls   = 5000
	bridgeSoakClients = 32
	bridgeSoakLimit   = 64 << 10
	bridgePassword    = "br-pass-4c1f9e"
)

// bridgeCall is one kind of call and the answer it must get.
type bridgeCall struct {
	kind    string
	method  string
	action  string
	body    func(ref string) []byte
	chunked bool
	status  int
	answer  func(ref string) map[string]string // the JSON answer
}

func bridgeBody(password string, data any) []byte {
	b, _ := json.Marshal(map[string]any{
		"auth": map[string]string{"username": "ops", "password": password},
		"data": data,
		"meta": map[string]string{"contact_external_id": "contact-1", "agent_external_id": "agent-1"},
	})
	return b
}

func message(m string) func(string) map[string]string {
	return func(string) map[string]string { return map[string]string{"message": m} }
}

var bridgeCalls = []bridgeCall{
	{kind: "created", method: "POST", action: "file",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) },
		status: 201,
		answer: func(ref string) map[string]string {
			return map[string]string{"message": "filed " + ref, "external_id": ref, "contact_external_id": "contact-1"}
		}},
	{kind: "action error", method: "POST", action: "reject",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) },
		status: 400, answer: func(ref string) map[string]string { return map[string]string{"message": "rejected " + ref} }},
	{kind: "other error", method: "POST", action: "broken",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) },
		status: 400, answer: message("action failed")},
	{kind: "panic", method: "POST", action: "panic",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) },
		status: 400, answer: message("action failed")},
	{kind: "wrong password", method: "POST", action: "file",
		body:   func(ref string) []byte { return bridgeBody("wrong-"+ref, map[string]string{"ref": ref}) },
		status: 400, answer: message("Invalid username or password")},
	{kind: "data of the wrong type", method: "POST", action: "file",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]int{"ref": 7}) },
		status: 400, answer: message(`data field "ref": want string, got number`)},
	{kind: "malformed JSON", method: "POST", action: "file",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref})[:20] },
		status: 400, answer: message("request body is not valid JSON")},
	{kind: "not an object", method: "POST", action: "file",
		body:   func(ref string) []byte { return []byte(`["` + ref + `"]`) },
		status: 400, answer: message("request body must be a JSON object")},
	{kind: "oversized", method: "POST", action: "file",
		body: func(ref string) []byte {
			return bridgeBody(bridgePassword, map[string]string{"ref": strings.Repeat("x", bridgeSoakLimit)})
		},
		status: 400, answer: message(fmt.Sprintf("request body is larger than %d bytes", bridgeSoakLimit))},
	{kind: "oversized, chunked", method: "POST", action: "file", chunked: true,
		body: func(ref string) []byte {
			return bridgeBody(bridgePassword, map[string]string{"ref": strings.Repeat("x", bridgeSoakLimit)})
		},
		status: 400, answer: message(fmt.Sprintf("request body is larger than %d bytes", bridgeSoakLimit))},
	{kind: "unknown action", method: "POST", action: "nope",
		body:   func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) },
		status: 404, answer: message("unknown action")},
	{kind: "wrong method", method: "GET", action: "file",
		body:   func(string) []byte { return nil },
		status: 405, answer: message("method not allowed: actions accept only POST")},
	{kind: "caller gone", method: "POST", action: "wait",
		body: func(ref string) []byte { return bridgeBody(bridgePassword, map[string]string{"ref": ref}) }},
}

// countingHandler is a slog.Handler that counts records by level and
// fails the test when one shows the password.
type countingHandler struct {
	t      *testing.T
	mu     sync.Mutex
	levels map[slog.Level]int
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *countingHandler) WithGroup(string) slog.Handler            { return h }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	if strings.Contains(b.String(), bridgePassword) {
		h.t.Errorf("a log line shows the password: %s", b.String())
	}
	h.mu.Lock()
	h.levels[r.Level]++
	h.mu.Unlock()
	return nil
}

// TestActionServerSoak sends bridgeSoakCalls calls of every kind, shuffled,
// from bridgeSoakClients goroutines: each gets its status and exact JSON
// answer, the server still answers afterwards, and once it is closed no
// goroutine is left behind.
func TestActionServerSoak(t *testing.T) {
	baseline := runtime.NumGoroutine()
	logs := &countingHandler{t: t, levels: map[slog.Level]int{}}
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionPrefix("/bridge"),
		talkdesk.WithActionMaxBodyBytes(bridgeSoakLimit),
		talkdesk.WithActionLogger(slog.New(logs)),
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			if !talkdesk.SecretEqual(auth["username"], "ops") || !talkdesk.SecretEqual(auth["password"], bridgePassword) {
				return &talkdesk.ActionError{Message: "Invalid username or password"}
			}
			return nil
		}),
	)
	bind := func(req *talkdesk.ActionRequest) (string, error) {
		var in struct {
			Ref string `json:"ref"`
		}
		err := req.Bind(&in)
		return in.Ref, err
	}
	var filed sync.Map // refs filed, each once
	srv.Handle("file", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		ref, err := bind(req)
		if err != nil {
			return nil, err
		}
		if _, dup := filed.LoadOrStore(ref, true); dup {
			return nil, fmt.Errorf("%s filed twice", ref)
		}
		return &talkdesk.ActionResult{Message: "filed " + ref, ExternalID: ref, ContactExternalID: req.Meta.ContactExternalID}, nil
	})
	srv.Handle("reject", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		ref, _ := bind(req)
		return nil, fmt.Errorf("upstream said no: %w", &talkdesk.ActionError{Message: "rejected " + ref})
	})
	srv.Handle("broken", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return nil, errors.New("database unavailable at 10.0.0.7") // logged, not answered
	})
	srv.Handle("panic", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		ref, _ := bind(req)
		fields := strings.Split(ref, ":")
		_ = fields[1] // "ref-01234" has no colon: index out of range
		return nil, nil
	})
	started := sync.Map{} // ref -> chan struct{}, closed when the wait action runs
	var cancelled atomic.Int64
	srv.Handle("wait", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		ref, _ := bind(req)
		if ch, ok := started.Load(ref); ok {
			close(ch.(chan struct{}))
		}
		select {
		case <-ctx.Done():
			cancelled.Add(1)
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			return nil, errors.New("the caller's going away never reached the action")
		}
	})
	ts := httptest.NewServer(srv)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: bridgeSoakClients}}

	// The calls: every kind in turn, shuffled.
	kinds := make([]int, bridgeSoakCalls)
	for i := range kinds {
		kinds[i] = i % len(bridgeCalls)
	}
	r := rand.New(rand.NewPCG(5, 5))
	r.Shuffle(len(kinds), func(a, b int) { kinds[a], kinds[b] = kinds[b], kinds[a] })

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var mu sync.Mutex
	outcomes := map[string]int{}
	call := func(i int) error {
		c := bridgeCalls[kinds[i]]
		ref := fmt.Sprintf("ref-%05d", i)
		body := c.body(ref)
		var rd io.Reader = bytes.NewReader(body)
		if c.chunked {
			rd = io.MultiReader(rd) // no length: sent chunked
		}
		if body == nil {
			rd = nil
		}
		reqCtx, cancelReq := context.WithCancel(ctx)
		defer cancelReq()
		if c.kind == "caller gone" {
			ch := make(chan struct{})
			started.Store(ref, ch)
			go func() {
				select {
				case <-ch: // the action runs: go away
				case <-reqCtx.Done():
				}
				cancelReq()
			}()
		}
		req, err := http.NewRequestWithContext(reqCtx, c.method, ts.URL+"/bridge/"+c.action, rd)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if c.kind == "caller gone" {
			if !errors.Is(err, context.Canceled) {
				return fmt.Errorf("call %d (%s): %v, want the caller's cancellation", i, c.kind, err)
			}
			mu.Lock()
			outcomes[c.kind]++
			mu.Unlock()
			return nil
		}
		if err != nil {
			return fmt.Errorf("call %d (%s): %w", i, c.kind, err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("call %d (%s): reading the answer: %w", i, c.kind, err)
		}
		var answer map[string]string
		if err := json.Unmarshal(raw, &answer); err != nil {
			return fmt.Errorf("call %d (%s): answer %q: %v", i, c.kind, raw, err)
		}
		if resp.StatusCode != c.status || resp.Header.Get("Content-Type") != "application/json" {
			return fmt.Errorf("call %d (%s): %d %s %s, want %d", i, c.kind, resp.StatusCode, resp.Header.Get("Content-Type"), raw, c.status)
		}
		if c.status == 405 && resp.Header.Get("Allow") != "POST" {
			return fmt.Errorf("call %d (%s): Allow %q", i, c.kind, resp.Header.Get("Allow"))
		}
		if diff := cmp.Diff(c.answer(ref), answer); diff != "" {
			return fmt.Errorf("call %d (%s): answer (-want +got):\n%s", i, c.kind, diff)
		}
		mu.Lock()
		outcomes[c.kind]++
		mu.Unlock()
		return nil
	}

	start := time.Now()
	jobs := make(chan int)
	errs := make(chan error, bridgeSoakCalls)
	var wg sync.WaitGroup
	for range bridgeSoakClients {
		wg.Go(func() {
			for i := range jobs {
				if err := call(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range kinds {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 10 {
			t.Error(err)
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d calls were not answered per the contract", failed, bridgeSoakCalls)
	}

	// The server is alive and still answers correctly.
	status, res, err := talkdesktest.ExecuteAction(ctx, ts.URL+"/bridge/file",
		map[string]string{"username": "ops", "password": bridgePassword}, map[string]string{"ref": "after"},
		talkdesk.ActionMeta{ContactExternalID: "contact-2"})
	if err != nil || status != 201 || res.ExternalID != "after" || res.ContactExternalID != "contact-2" {
		t.Errorf("after the soak: %d %+v %v", status, res, err)
	}

	ts.Close() // waits for every handler
	client.CloseIdleConnections()
	want := map[string]int{}
	for _, k := range kinds {
		want[bridgeCalls[k].kind]++
	}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := int(cancelled.Load()); got != want["caller gone"] {
		t.Errorf("%d actions saw their caller go away, want %d", got, want["caller gone"])
	}
	logs.mu.Lock()
	if got, wantErrors := logs.levels[slog.LevelError], want["other error"]+want["panic"]; got != wantErrors {
		t.Errorf("%d Error log lines, want %d (other errors and panics)", got, wantErrors)
	}
	logs.mu.Unlock()

	// No goroutine outlives the server and the client's connections.
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		var dump bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&dump, 1)
		t.Errorf("%d goroutines after the soak, %d before:\n%s", n, baseline, dump.String())
	}
	t.Logf("%d calls from %d clients in %s: %v", bridgeSoakCalls, bridgeSoakClients, elapsed.Round(time.Millisecond), outcomes)
}
