package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/talkdeskgo/talkdesk"
)

// TestUsageErrors: a mistake in the command line exits 2 with an error
// that names the flag or argument at fault, before anything is done.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"nosuchcommand"}, "nosuchcommand"},
		{[]string{"serve", "--nosuchflag"}, "--nosuchflag"},
		{[]string{"serve", "--insecure-dev", "--log", "a.jsonl", "--postgres", "postgres://x"}, "--postgres"},
		{[]string{"serve", "--insecure-dev", "--subscribe"}, "--public-url"},
		{[]string{"serve", "--insecure-dev", "--keep-subscriptions"}, "--subscribe"},
		{[]string{"serve", "--webhook-secret", "S", "--api-key", ""}, "--api-key"},
		{[]string{"serve", "extra"}, "extra"},
		{[]string{"trigger", "--to", "http://127.0.0.1:1/webhooks"}, "--all"},
		{[]string{"trigger", "callEnds", "--to", "http://127.0.0.1:1/webhooks"}, "callEnds"},
		{[]string{"trigger", "--all", "noteCreated", "--to", "http://127.0.0.1:1/webhooks"}, "--all"},
		{[]string{"trigger", "--all"}, "--to"},
		{[]string{"trigger", "--all", "--to", "ftp://example.com"}, "--to"},
		{[]string{"trigger", "--all", "--to", "http://127.0.0.1:1", "--count", "0"}, "--count"},
		{[]string{"trigger", "--all", "--to", "http://127.0.0.1:1", "--concurrency", "0"}, "--concurrency"},
		{[]string{"trigger", "--all", "--to", "http://127.0.0.1:1", "--count", "many"}, "--count"},
		{[]string{"tail"}, "--server"},
		{[]string{"tail", "--server", "http://127.0.0.1:1"}, "--api-key"},
		{[]string{"tail", "--server", "http://127.0.0.1:1", "--log", "a.jsonl"}, "--log"},
		{[]string{"tail", "--log", "a.jsonl", "--type", "callEnds"}, "--type"},
		{[]string{"tail", "--log", "a.jsonl", "--limit", "-1"}, "--limit"},
		{[]string{"tail", "--server", "not a url", "--api-key", "K"}, "--server"},
		{[]string{"tail", "--postgres", "postgres://x", "--schema", ""}, "--schema"},
		{[]string{"export", "--log", "a.jsonl", "--format", "xml"}, "--format"},
		{[]string{"export", "--log", "a.jsonl", "--since", "yesterday"}, "--since"},
		{[]string{"export", "--log", "a.jsonl", "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-01T00:00:00Z"}, "--until"},
		{[]string{"reports", "calls", "--from", "2026-04-01T00:00:00Z"}, "--to"},
		{[]string{"reports", "calls", "--from", "2026-04-01T00:00:00Z", "--to", "2026-04-02T00:00:00Z", "--import"}, "--log"},
		{[]string{"reports", "calls", "--from", "2026-04-01T00:00:00Z", "--to", "2026-04-02T00:00:00Z", "--import", "--reconcile", "--log", "a"}, "--reconcile"},
		{[]string{"reports", "calls", "--from", "2026-04-01T00:00:00Z", "--to", "2026-04-02T00:00:00Z"}, "TALKDESK_CLIENT_ID"},
		{[]string{"version", "extra"}, "extra"},
	} {
		r := runCmd(t, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.says) || r.stdout != "" {
			t.Errorf("talkdesk %s: exit %d, stderr %q, stdout %q; want exit 2 and %q", strings.Join(c.args, " "), r.code, r.stderr, r.stdout, c.says)
		}
		if strings.Contains(r.stderr, "goroutine ") {
			t.Errorf("talkdesk %s: a stack trace:\n%s", strings.Join(c.args, " "), r.stderr)
		}
	}
}

// TestFailuresAreOneLine: an unreachable server or database is a one-line
// error, exit 1, with no secret of the command line in it.
func TestFailuresAreOneLine(t *testing.T) {
	for _, c := range []struct {
		args   []string
		secret string
	}{
		{[]string{"export", "--server", "http://127.0.0.1:1", "--api-key", "key-0f9a8b"}, "key-0f9a8b"},
		{[]string{"tail", "--server", "http://127.0.0.1:1", "--api-key", "key-0f9a8b", "--limit", "1"}, "key-0f9a8b"},
		{[]string{"export", "--postgres", "postgres://talkdesk:pw-7c1d2e@127.0.0.1:1/talkdesk?connect_timeout=2"}, "pw-7c1d2e"},
		{[]string{"serve", "--postgres", "postgres://talkdesk:pw-7c1d2e@127.0.0.1:1/talkdesk?connect_timeout=2", "--webhook-secret", "S", "--api-key", "K"}, "pw-7c1d2e"},
		{[]string{"trigger", "--all", "--to", "http://127.0.0.1:1/webhooks", "--secret", "hook-5e6f"}, "hook-5e6f"},
		{[]string{"export", "--log", "/nonexistent-dir/events.jsonl"}, ""},
		{[]string{"serve", "--addr", "256.0.0.1:80", "--insecure-dev", "--log", t.TempDir() + "/a.jsonl"}, ""},
	} {
		r := runCmd(t, nil, c.args...)
		if r.code != 1 {
			t.Errorf("talkdesk %s: exit %d, want 1\n%s", strings.Join(c.args, " "), r.code, r.stderr)
			continue
		}
		last := r.stderr[strings.LastIndex(strings.TrimSuffix(r.stderr, "\n"), "\n")+1:]
		if !strings.HasPrefix(last, "talkdesk: ") || strings.Count(last, "\n") != 1 {
			t.Errorf("talkdesk %s: the error is not one line: %q", strings.Join(c.args, " "), r.stderr)
		}
		if c.secret != "" && strings.Contains(r.stdout+r.stderr, c.secret) {
			t.Errorf("talkdesk %s: the secret is in the output:\n%s%s", strings.Join(c.args, " "), r.stdout, r.stderr)
		}
	}
}

// TestVersionAndHelp: version prints the SDK's version; every command has
// --help with an example.
func TestVersionAndHelp(t *testing.T) {
	r := mustRun(t, nil, "version")
	if !strings.HasPrefix(r.stdout, "talkdesk "+talkdesk.Version+" ") {
		t.Errorf("version: %q", r.stdout)
	}
	var out, errs bytes.Buffer
	run(context.Background(), []string{"--help"}, &out, &errs, func(string) string { return "" })
	if !strings.Contains(out.String(), "unofficial") {
		t.Errorf("talkdesk --help does not say it is unofficial:\n%s", out.String())
	}
	for _, cmd := range [][]string{{"serve"}, {"trigger"}, {"tail"}, {"export"}, {"reports", "calls"}, {"version"}} {
		r := mustRun(t, nil, append(cmd, "--help")...)
		if !strings.Contains(r.stdout, "Examples:\n  talkdesk "+cmd[0]) {
			t.Errorf("talkdesk %s --help has no example:\n%s", strings.Join(cmd, " "), r.stdout)
		}
	}
}

// TestTriggerFollowsNoRedirect: a receiver that redirects has refused the
// delivery; nothing reaches the target, neither the body nor, in a
// Referer, the URL with its token.
func TestTriggerFollowsNoRedirect(t *testing.T) {
	var reached atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) }))
	defer target.Close()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer receiver.Close()
	r := runCmd(t, nil, "trigger", "noteCreated", "--to", receiver.URL+"/webhooks", "--secret", "hook-5e6f")
	if r.code != 1 || !strings.Contains(r.stdout, "307") {
		t.Errorf("trigger to a redirecting receiver: exit %d, stdout %q; want exit 1 and the 307", r.code, r.stdout)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target got %d requests", n)
	}
}

// TestLogFileHeldByServe: a log file a running serve holds is read
// through the server; reading it directly says so, for every command
// that opens a file.
func TestLogFileHeldByServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	srv := serve(t, nil, "", "--log", path, "--insecure-dev")
	for _, args := range [][]string{
		{"export", "--log", path},
		{"tail", "--log", path, "--limit", "1"},
		{"reports", "calls", "--from", "2026-04-01T00:00:00Z", "--to", "2026-04-02T00:00:00Z", "--import", "--log", path},
	} {
		vars := []string{"TALKDESK_ACCOUNT=acme", "TALKDESK_CLIENT_ID=id", "TALKDESK_CLIENT_SECRET=secret-3a4b",
			"TALKDESK_BASE_URL=http://127.0.0.1:1", "TALKDESK_TOKEN_URL=http://127.0.0.1:1/oauth/token"}
		r := runCmd(t, vars, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "held by another process") || !strings.Contains(r.stderr, "--server") {
			t.Errorf("talkdesk %s: exit %d, %q; want exit 1 saying to read through the server", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}
