package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

func noEnv(string) string { return "" }

func TestWebhooksAgainstTheFake(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, noEnv, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, tr := range talkdesk.Triggers() {
		if !strings.Contains(got, "Subscribed "+string(tr)) || !strings.Contains(got, "\n"+string(tr)+"  id ") {
			t.Errorf("output lacks the subscription or the event of %s", tr)
		}
	}
	for _, want := range []string{
		`"hold_time":12,"in_business_hours":true`,
		"actor agent a3f1c9e07b2d4e5f8a6b1c2d3e4f5a6b Miguel Santos",
		"actor contact 64b7f0c2e4b0a1d2c3e4f5a6 Joana Ferreira",
		"at 2024-05-06T10:14:19Z",
		"Unsubscribed 9 triggers",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "warning") {
		t.Errorf("the sample events gave warnings:\n%s", got)
	}
}

func TestWebhooksNeedsPublicURLForRealTalkdesk(t *testing.T) {
	env := map[string]string{"TALKDESK_ACCOUNT": "acme", "TALKDESK_CLIENT_ID": "id", "TALKDESK_CLIENT_SECRET": "s"}
	err := run(context.Background(), nil, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "-public-url") {
		t.Fatalf("run without -public-url: %v", err)
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
