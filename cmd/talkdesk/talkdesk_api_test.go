package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// fakeEnv is the environment that points the command at fake, as a user
// points it at Talkdesk.
func fakeEnv(fake *talkdesktest.Server) []string {
	id, secret := fake.Credentials()
	return []string{"TALKDESK_ACCOUNT=" + talkdesktest.Account, "TALKDESK_CLIENT_ID=" + id, "TALKDESK_CLIENT_SECRET=" + secret,
		"TALKDESK_BASE_URL=" + fake.URL, "TALKDESK_TOKEN_URL=" + fake.URL + talkdesktest.TokenPath}
}

// waitFor polls cond for 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not after 30 s", what)
}

// TestServeSubscribe: with credentials and --public-url, --subscribe
// subscribes every trigger to serve's webhooks, Talkdesk's deliveries are
// stored, and the subscriptions are removed on exit, or kept with
// --keep-subscriptions.
func TestServeSubscribe(t *testing.T) {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	addr := freeAddr(t)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	args := []string{"--log", path, "--webhook-secret", "hook-secret-9", "--api-key", "K", "--subscribe", "--public-url", "http://" + addr}
	srv := serve(t, fakeEnv(fake), addr, args...)
	waitFor(t, "nine subscriptions", func() bool { return len(fake.Subscriptions()) == 9 })
	var subscribed []string
	for _, s := range fake.Subscriptions() {
		subscribed = append(subscribed, string(s.Trigger))
		if !strings.HasPrefix(s.CallbackURL, "http://"+addr+"/webhooks/"+string(s.Trigger)+"?") {
			t.Errorf("the callback of %s: %s", s.Trigger, s.CallbackURL)
		}
	}
	slices.Sort(subscribed)
	if !slices.Equal(subscribed, allTriggers()) {
		t.Errorf("subscribed %v", subscribed)
	}
	err := fake.Emit(context.Background(), talkdesk.TriggerInboundCallEnds, map[string]string{"interaction_id": "int-from-talkdesk", "duration": "42"})
	if err != nil {
		t.Fatal(err)
	}
	got := jsonLines(t, mustRun(t, nil, "tail", "--server", srv.url, "--api-key", "K", "--json", "--limit", "1", "--interaction", "int-from-talkdesk").stdout)
	if len(got) != 1 || got[0].Type != talkdesk.TriggerInboundCallEnds {
		t.Errorf("Talkdesk's delivery: %v", got)
	}
	if strings.Contains(srv.stderr(), "hook-secret-9") {
		t.Errorf("the webhook secret is in serve's log:\n%s", srv.stderr())
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d\n%s", code, srv.stderr())
	}
	if n := len(fake.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left after exit", n)
	}

	kept := serve(t, fakeEnv(fake), addr, append(args, "--keep-subscriptions")...)
	waitFor(t, "nine subscriptions", func() bool { return len(fake.Subscriptions()) == 9 })
	if code := kept.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d\n%s", code, kept.stderr())
	}
	if n := len(fake.Subscriptions()); n != 9 {
		t.Errorf("%d subscriptions left after exit with --keep-subscriptions, want 9", n)
	}

	r := runCmd(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "TALKDESK_CLIENT_ID") {
		t.Errorf("--subscribe without credentials: exit %d, %q", r.code, r.stderr)
	}
}

// TestReportsCalls: reports calls downloads the calls of a range from the
// Explore API (JSON Lines and CSV), imports them into a log once however
// often it runs, and reconciles the log's webhook events with them.
func TestReportsCalls(t *testing.T) {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	day := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		fake.AddReportedCalls(talkdesk.CallRecord{
			CallID: fmt.Sprintf("call-%d", i), InteractionID: fmt.Sprintf("int-%d", i), Direction: "inbound",
			StartAt: day.Add(time.Duration(9+i) * time.Hour), EndAt: day.Add(time.Duration(9+i)*time.Hour + 3*time.Minute),
			UserID: "ag-miguel", UserName: "Miguel Santos", TalkTime: 150 * time.Second,
		})
	}
	env := fakeEnv(fake)
	rng := []string{"reports", "calls", "--from", "2026-04-01T00:00:00Z", "--to", "2026-04-02T00:00:00Z"}

	lines := strings.Split(strings.TrimSpace(mustRun(t, env, rng...).stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"call_id":"call-`) {
		t.Errorf("reports calls: %q", lines)
	}
	csvPath := filepath.Join(t.TempDir(), "calls.csv")
	mustRun(t, env, append(rng, "--format", "csv", "--output", csvPath)...)
	rows := readCSV(t, csvPath)
	if len(rows) != 4 || !slices.Equal(rows[0], talkdesk.CallColumns()) {
		t.Fatalf("reports calls --format csv: %q", rows)
	}
	if got := rows[1][slices.Index(rows[0], "talk_time")]; got != "150" {
		t.Errorf("talk_time = %q, want 150", got)
	}

	path := filepath.Join(t.TempDir(), "events.jsonl")
	if r := mustRun(t, env, append(rng, "--import", "--log", path)...); !strings.Contains(r.stdout, "read 3 calls: 3 imported, 0 already") {
		t.Errorf("--import: %q", r.stdout)
	}
	if r := mustRun(t, env, append(rng, "--import", "--log", path)...); !strings.Contains(r.stdout, "read 3 calls: 0 imported, 3 already") {
		t.Errorf("--import again: %q", r.stdout)
	}
	if got := jsonLines(t, mustRun(t, nil, "export", "--log", path, "--type", "reportedCall").stdout); len(got) != 3 {
		t.Errorf("the imported calls: %v", got)
	}
	r := mustRun(t, env, append(rng, "--reconcile", "--log", path)...)
	if !strings.Contains(r.stdout, "0 calls matched, 3 imported before, 0 missing") {
		t.Errorf("--reconcile: %q", r.stdout)
	}

	// A log with only webhook events: the report's calls are what it missed.
	hooks := filepath.Join(t.TempDir(), "hooks.jsonl")
	r = mustRun(t, env, append(rng, "--reconcile", "--log", hooks)...)
	if strings.Count(r.stdout, "missing     ") != 3 || !strings.Contains(r.stdout, "3 missing from the webhook feed") {
		t.Errorf("--reconcile of an empty log: %q", r.stdout)
	}
}
