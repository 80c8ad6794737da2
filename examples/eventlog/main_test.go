package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEventLogExample(t *testing.T) {
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := run(context.Background(), []string{"-log", path}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Received 12 deliveries; the log holds 11 events",
		"Timeline of interaction int-7a41c9e0:",
		"  08:59:39  inboundCallReachesContactCenter  system  call CA-1001 from +351912345678",
		"  09:00:00  inboundCallStarts                agent   answered by Miguel Santos after 21s",
		"  09:02:34  inboundCallEnds                  agent   ended after 2m34s with Miguel Santos",
		"Over HTTP, GET /log/events?interaction_id=int-7a41c9e0: 3 events",
		"Export of 2026-03-02 (JSON Lines):",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The timeline: arrives, starts, ends, in that order.
	timeline := got[strings.Index(got, "Timeline"):strings.Index(got, "Export")]
	a, s, e := strings.Index(timeline, "inboundCallReachesContactCenter"), strings.Index(timeline, "inboundCallStarts"), strings.Index(timeline, "inboundCallEnds")
	if a < 0 || s < a || e < s || strings.Count(timeline, "inboundCallEnds") != 1 {
		t.Errorf("timeline out of order or with a duplicate:\n%s", timeline)
	}
	// The export: the demo's day, every event, as JSON.
	export := got[strings.Index(got, "(JSON Lines):\n")+len("(JSON Lines):\n"):]
	lines := strings.Split(strings.TrimSpace(export), "\n")
	if want := 11; len(lines) != want {
		t.Errorf("exported %d lines, want %d", len(lines), want)
	}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev["id"] == "" || ev["raw"] == nil {
			t.Errorf("export line %q: %v", l, err)
		}
	}

	// A second run with the same log finds the first run's events, and
	// adds none: the same demo, the same events.
	out.Reset()
	if err := run(context.Background(), []string{"-log", path}, &out); err != nil {
		t.Fatal(err)
	}
	again := out.String()
	for _, want := range []string{"Event log " + path + ": 11 events", "Received 12 deliveries; the log holds 11 events"} {
		if !strings.Contains(again, want) {
			t.Errorf("second run lacks %q:\n%s", want, again)
		}
	}
	if export2 := again[strings.Index(again, "(JSON Lines):\n")+len("(JSON Lines):\n"):]; export2 != export {
		t.Errorf("the second run exported another log:\n%s", export2)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeStopsWithAStreamOpen: -serve prints curl lines that work, and
// stops within a second of its context ending (Ctrl-C) with a stream of
// the log open.
func TestServeStopsWithAStreamOpen(t *testing.T) {
	t.Setenv("TALKDESK_EVENTLOG_API_KEY", "serve-test-key")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-serve", "127.0.0.1:0"}, &out) }()
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no curl lines:\n%s", out.String())
		}
		if i := strings.Index(out.String(), "'http://"); i >= 0 {
			rest := out.String()[i+1:]
			base = rest[:strings.Index(rest, "/log/events")+len("/log/events")]
		}
	}
	if !strings.Contains(out.String(), strings.Join(CurlLines(base), "\n  ")) {
		t.Errorf("the printed curl lines are not CurlLines:\n%s", out.String())
	}
	req, _ := http.NewRequest("GET", base+"/stream", nil)
	req.Header.Set("Authorization", "Bearer serve-test-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s", resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Second):
		t.Fatal("-serve did not stop within a second of Ctrl-C with a stream open")
	}
}

// TestServerTimeouts: the server the example starts cuts off clients that
// trickle their headers (slowloris) or body, and closes idle keep-alive
// connections, each within minutes. Without these timeouts such a client
// holds a connection and a goroutine for as long as it likes.
func TestServerTimeouts(t *testing.T) {
	s := newServer(http.NotFoundHandler())
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
