package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEventLogExample(t *testing.T) {
	start := time.Now().UTC()
	var out bytes.Buffer
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := run(context.Background(), []string{"-log", path}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []string{
		"Received 12 deliveries; the log holds 11 events",
		"Timeline of interaction int-7a41c9e0:",
		"Over HTTP, GET /log/events?interaction_id=int-7a41c9e0: 3 events",
		"inboundCallEnds                  agent   ended after 2m34s with Miguel Santos",
		"Export of " + start.Format("2006-01-02") + " (JSON Lines):",
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
	// The export: only the day's events with a time of that day, as JSON.
	lines := strings.Split(strings.TrimSpace(got[strings.Index(got, "(JSON Lines):\n")+len("(JSON Lines):\n"):]), "\n")
	// Call ends occur up to 5 minutes after the run: near midnight they
	// fall on the next day.
	if want := 11; len(lines) != want && start.Add(10*time.Minute).Day() == start.Day() {
		t.Errorf("exported %d lines, want %d", len(lines), want)
	}
	for _, l := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil || ev["id"] == "" || ev["raw"] == nil {
			t.Errorf("export line %q: %v", l, err)
		}
	}

	// A second run with the same log finds the first run's events.
	out.Reset()
	if err := run(context.Background(), []string{"-log", path}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Event log "+path+": 11 events") {
		t.Errorf("second run:\n%s", out.String())
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
