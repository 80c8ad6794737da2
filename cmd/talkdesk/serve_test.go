package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// logged is what a test reads of an event: its ID and type.
type logged struct {
	ID         string           `json:"id"`
	Type       talkdesk.Trigger `json:"type"`
	OccurredAt time.Time        `json:"occurred_at"`
}

// jsonLines reads JSON Lines of events.
func jsonLines(t *testing.T, s string) []logged {
	t.Helper()
	var out []logged
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var ev logged
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.ID == "" {
			t.Fatalf("not an event: %q (%v)", line, err)
		}
		out = append(out, ev)
	}
	return out
}

// types returns the types of evs, sorted.
func types(evs []logged) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Type))
	}
	slices.Sort(out)
	return out
}

// ids returns the IDs of evs, sorted.
func ids(evs []logged) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	slices.Sort(out)
	return out
}

// allTriggers returns the names of the nine triggers, sorted.
func allTriggers() []string {
	var out []string
	for _, t := range talkdesk.Triggers() {
		out = append(out, string(t))
	}
	slices.Sort(out)
	return out
}

// TestServeTriggerTailExport: serve on a log file takes a delivery of each
// of the nine triggers, tail and export (JSON Lines and CSV) give them
// back, /metrics counts them, and a wrong token or key is refused.
func TestServeTriggerTailExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	srv := serve(t, nil, "", "--log", path, "--webhook-secret", "hook-secret-1", "--api-key", "log-key-1")

	r := mustRun(t, nil, "trigger", "--all", "--to", srv.url+"/webhooks", "--secret", "hook-secret-1")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 9 {
		t.Fatalf("trigger --all printed %d lines, want 9:\n%s", len(lines), r.stdout)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "200 OK") {
			t.Errorf("a delivery not accepted: %q", l)
		}
	}

	server := []string{"--server", srv.url, "--api-key", "log-key-1"}
	tailed := jsonLines(t, mustRun(t, nil, append([]string{"tail", "--json", "--limit", "9"}, server...)...).stdout)
	if got := types(tailed); !slices.Equal(got, allTriggers()) {
		t.Errorf("tail: types %v, want %v", got, allTriggers())
	}
	exported := jsonLines(t, mustRun(t, nil, append([]string{"export"}, server...)...).stdout)
	if !slices.Equal(ids(exported), ids(tailed)) {
		t.Errorf("export: %v, tail: %v", ids(exported), ids(tailed))
	}
	// The server's key from the environment; a filter.
	r = mustRun(t, []string{"TALKDESK_SERVER=" + srv.url, "TALKDESK_EVENTLOG_API_KEY=log-key-1"}, "export", "--type", "inboundCallEnds,noteCreated")
	if got := types(jsonLines(t, r.stdout)); !slices.Equal(got, []string{"inboundCallEnds", "noteCreated"}) {
		t.Errorf("export --type: %v", got)
	}

	csvPath := filepath.Join(t.TempDir(), "events.csv")
	mustRun(t, nil, append([]string{"export", "--format", "csv", "--output", csvPath}, server...)...)
	rows := readCSV(t, csvPath)
	if len(rows) != 10 || !slices.Equal(rows[0], talkdesk.CSVColumns()) {
		t.Fatalf("export --format csv: %d rows, header %q", len(rows), rows[0])
	}
	idCol := slices.Index(rows[0], "id")
	var csvIDs []string
	for _, row := range rows[1:] {
		csvIDs = append(csvIDs, row[idCol])
	}
	slices.Sort(csvIDs)
	if !slices.Equal(csvIDs, ids(tailed)) {
		t.Errorf("export --format csv: %v, want %v", csvIDs, ids(tailed))
	}

	for _, trig := range allTriggers() {
		sample := `talkdesk_webhook_deliveries_total{outcome="ok",trigger="` + trig + `"}`
		if got := srv.metric(t, sample); got != "1" {
			t.Errorf("%s = %q, want 1", sample, got)
		}
	}
	for sample, want := range map[string]string{"talkdesk_events_stored_total": "9", "talkdesk_event_append_seconds_count": "9"} {
		if got := srv.metric(t, sample); got != want {
			t.Errorf("%s = %q, want %s", sample, got, want)
		}
	}

	// A wrong token: 401, exit 1, counted as refused, nothing stored.
	r = runCmd(t, nil, "trigger", "inboundCallEnds", "--to", srv.url+"/webhooks", "--secret", "wrong")
	if r.code != 1 || !strings.Contains(r.stdout, "401 Unauthorized") {
		t.Errorf("a wrong token: exit %d, %q", r.code, r.stdout)
	}
	if got := srv.metric(t, `talkdesk_webhook_deliveries_total{outcome="refused",trigger="inboundCallEnds"}`); got != "1" {
		t.Errorf("refused deliveries = %q, want 1", got)
	}
	if got := srv.metric(t, "talkdesk_events_stored_total"); got != "9" {
		t.Errorf("events stored after a refused delivery = %q, want 9", got)
	}
	// A wrong key: exit 1, one line, the key not in it.
	r = runCmd(t, nil, "export", "--server", srv.url, "--api-key", "wrong-key-77")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "wrong-key-77") {
		t.Errorf("a wrong key: exit %d, stderr %q", r.code, r.stderr)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/events": 401} {
		if status, _ := get(t, srv.url+path); status != want {
			t.Errorf("GET %s: %d, want %d", path, status, want)
		}
	}
	// The file is held: reading it directly is refused, with the way out.
	r = runCmd(t, nil, "export", "--log", path)
	if r.code != 1 || !strings.Contains(r.stderr, "--server") {
		t.Errorf("export --log of a served file: exit %d, %q", r.code, r.stderr)
	}

	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d after SIGTERM\n%s", code, srv.stderr())
	}
	// Stopped, the file is everybody's.
	direct := jsonLines(t, mustRun(t, nil, "export", "--log", path).stdout)
	if !slices.Equal(ids(direct), ids(tailed)) {
		t.Errorf("export --log: %v, want %v", ids(direct), ids(tailed))
	}
}

// readCSV reads the CSV file at path.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestServeStopsWithATailAttached: SIGTERM ends serve, exit 0, with a tail
// following it, its stream ended rather than cut at the deadline; the
// tail resumes silently when serve is back, missing and repeating
// nothing, and SIGINT ends it, exit 0.
func TestServeStopsWithATailAttached(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	args := []string{"--log", path, "--webhook-secret", "S", "--api-key", "K"}
	srv := serve(t, nil, "", args...)
	tail := start(t, nil, "tail", "--server", srv.url, "--api-key", "K", "--json")
	for deadline := time.Now().Add(30 * time.Second); srv.metric(t, "talkdesk_event_streams_open") != "1"; {
		if time.Now().After(deadline) {
			t.Fatal("the tail's stream did not open in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustRun(t, nil, "trigger", "noteCreated", "--to", srv.url+"/webhooks", "--secret", "S")
	first := jsonLines(t, tail.line())
	if got := srv.metric(t, "talkdesk_follower_lag_seconds_count"); got != "1" {
		t.Errorf("follower lag observations = %q, want 1", got)
	}

	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d after SIGTERM", code)
	}
	t.Logf("serve stopped %v after SIGTERM with a tail attached", srv.waited)
	if log := srv.stderr(); !strings.Contains(log, "talkdesk serve: stopped") || strings.Contains(log, "cut at shutdown") {
		t.Errorf("serve's shutdown:\n%s", log)
	}

	again := serve(t, nil, strings.TrimPrefix(srv.url, "http://"), args...)
	mustRun(t, nil, "trigger", "inboundCallEnds", "--to", again.url+"/webhooks", "--secret", "S")
	second := jsonLines(t, tail.line())
	if first[0].ID == second[0].ID || second[0].Type != talkdesk.TriggerInboundCallEnds {
		t.Errorf("after the restart the tail printed %v, then %v", first, second)
	}
	if code := tail.stop(syscall.SIGINT); code != 0 {
		t.Errorf("tail exit %d after SIGINT\n%s", code, tail.stderr())
	}
	if s := tail.stderr(); s != "" {
		t.Errorf("tail wrote to stderr: %q", s)
	}
	if n := strings.Count(tail.out.String(), "\n"); n != 2 {
		t.Errorf("tail printed %d events, want 2:\n%s", n, tail.out.String())
	}
	// A tail from the start replays the log: its backlog is not lag.
	before := again.metric(t, "talkdesk_follower_lag_seconds_count")
	mustRun(t, nil, "tail", "--server", again.url, "--api-key", "K", "--json", "--limit", "2")
	if got := again.metric(t, "talkdesk_follower_lag_seconds_count"); got != before {
		t.Errorf("follower lag observations after a tail replayed the log = %q, want still %q", got, before)
	}
	if code := again.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d", code)
	}
}

// TestServeRefusesWithoutSecrets: serve needs a webhook secret and an API
// key, or --insecure-dev, which it warns of.
func TestServeRefusesWithoutSecrets(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--log", filepath.Join(dir, "a.jsonl")},
		{"serve", "--log", filepath.Join(dir, "a.jsonl"), "--webhook-secret", "S"},
		{"serve", "--log", filepath.Join(dir, "a.jsonl"), "--api-key", "K"},
	} {
		r := runCmd(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "--insecure-dev") {
			t.Errorf("%v: exit %d, %q", args, r.code, r.stderr)
		}
	}
	srv := serve(t, nil, "", "--log", filepath.Join(dir, "b.jsonl"), "--insecure-dev")
	if !strings.Contains(srv.stderr(), "insecure-dev") {
		t.Errorf("no warning of --insecure-dev:\n%s", srv.stderr())
	}
	mustRun(t, nil, "trigger", "agentLogIn", "--to", srv.url+"/webhooks")
	if status, body := get(t, srv.url+"/events"); status != http.StatusOK || !strings.Contains(body, "agentLogIn") {
		t.Errorf("GET /events of --insecure-dev: %d %s", status, body)
	}
	// The secrets from the environment.
	srv2 := serve(t, []string{"TALKDESK_WEBHOOK_SECRET=env-secret", "TALKDESK_EVENTLOG_API_KEY=env-key"}, "", "--log", filepath.Join(dir, "c.jsonl"))
	mustRun(t, nil, "trigger", "agentLogIn", "--to", srv2.url+"/webhooks", "--secret", "env-secret")
	if got := types(jsonLines(t, mustRun(t, nil, "export", "--server", srv2.url, "--api-key", "env-key").stdout)); !slices.Equal(got, []string{"agentLogIn"}) {
		t.Errorf("export of serve keyed from the environment: %v", got)
	}
}

// serve's exports of a file log write its stored lines as they are, not
// each event read and encoded again (7 times the time for 50,000 events):
// the measured store says what it wraps.
var _ interface{ Unwrap() talkdesk.EventStore } = (*measuredStore)(nil)
