package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func noEnv(string) string { return "" }

func TestRunCallsItselfWithTheSample(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, noEnv, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"bridge listening: POST http://127.0.0.1:",
		`bridge answered 201 Created: {"message":"Case successfully created","external_id":"CASE-0001"}`,
		`stored CASE-0001: "Call missed in Talkdesk" for contact 1, by agent 2`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), sampleAuth["password"]) {
		t.Errorf("output shows the password:\n%s", out.String())
	}
}

func TestRunServes(t *testing.T) {
	env := map[string]string{"BRIDGE_USERNAME": "ops@example.com", "BRIDGE_PASSWORD": "s3cret-pw"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-serve"}, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output: %v", <-done)
	}
	base, ok := strings.CutPrefix(lines.Text(), "bridge listening: POST ")
	if !ok {
		t.Fatalf("first line %q", lines.Text())
	}
	base = strings.TrimSuffix(base, "{action}")
	var logs strings.Builder
	drained := make(chan struct{})
	go func() {
		for lines.Scan() {
			logs.WriteString(lines.Text() + "\n")
		}
		close(drained)
	}()

	auth := map[string]string{"username": "ops@example.com", "password": "s3cret-pw"}
	meta := talkdesk.ActionMeta{ContactExternalID: "42"}
	tests := []struct {
		name   string
		auth   map[string]string
		data   any
		status int
		res    talkdesk.ActionResult
	}{
		{"created", auth, map[string]string{"subject": "Callback", "description": "Wants a callback"}, 201,
			talkdesk.ActionResult{Message: "Case successfully created", ExternalID: "CASE-0001"}},
		{"second case", auth, map[string]string{"subject": "Refund"}, 201,
			talkdesk.ActionResult{Message: "Case successfully created", ExternalID: "CASE-0002"}},
		{"no subject", auth, map[string]string{"description": "?"}, 400,
			talkdesk.ActionResult{Message: "Case creation failed: subject is required"}},
		{"subject not a string", auth, map[string]int{"subject": 1}, 400,
			talkdesk.ActionResult{Message: `data field "subject": want string, got number`}},
		{"wrong password", map[string]string{"username": "ops@example.com", "password": "605b32dd"}, map[string]string{"subject": "x"}, 400,
			talkdesk.ActionResult{Message: "Invalid username or password"}},
		{"wrong username", map[string]string{"username": "ops@example.org", "password": "s3cret-pw"}, map[string]string{"subject": "x"}, 400,
			talkdesk.ActionResult{Message: "Invalid username or password"}},
		{"sample credentials are not accepted", sampleAuth, sampleData, 400,
			talkdesk.ActionResult{Message: "Invalid username or password"}},
	}
	for _, tt := range tests {
		status, res, err := talkdesktest.ExecuteAction(ctx, base+"create_case", tt.auth, tt.data, meta)
		if err != nil || status != tt.status || *res != tt.res {
			t.Errorf("%s: got %d %+v %v, want %d %+v", tt.name, status, res, err, tt.status, tt.res)
		}
	}
	resp, err := http.Get(strings.TrimSuffix(base, prefix) + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	<-drained
	if strings.Contains(logs.String(), "s3cret-pw") {
		t.Errorf("logs show the password:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("rejected credentials were not logged:\n%s", logs.String())
	}
}

func TestRunServeNeedsCredentials(t *testing.T) {
	err := run(context.Background(), []string{"-serve"}, noEnv, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "BRIDGE_PASSWORD") {
		t.Errorf("got %v", err)
	}
}

// TestServerTimeouts: the server the example starts cuts off clients that
// trickle their headers (slowloris) or body, and closes idle keep-alive
// connections, each within minutes. Without these timeouts such a client
// holds a connection and a goroutine for as long as it likes.
func TestServerTimeouts(t *testing.T) {
	s := newServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for _, tt := range []struct {
		name      string
		got, most time.Duration
	}{
		{"ReadHeaderTimeout", s.ReadHeaderTimeout, 30 * time.Second},
		{"ReadTimeout", s.ReadTimeout, 2 * time.Minute},
		{"WriteTimeout", s.WriteTimeout, 5 * time.Minute},
		{"IdleTimeout", s.IdleTimeout, 5 * time.Minute},
	} {
		if tt.got <= 0 || tt.got > tt.most {
			t.Errorf("%s is %s, want at most %s and not 0", tt.name, tt.got, tt.most)
		}
	}
	if s.ReadHeaderTimeout > s.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %s is longer than ReadTimeout %s", s.ReadHeaderTimeout, s.ReadTimeout)
	}
}
