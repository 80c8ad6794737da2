package talkdesk

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var most time.Duration
		for range 2000 {
			d := drawBackoff(p.MinBackoff, p.ceiling(attempt))
			if d < p.MinBackoff || d > ceiling {
				t.Fatalf("attempt %d: backoff %v outside [%v, %v]", attempt, d, p.MinBackoff, ceiling)
			}
			most = max(most, d)
		}
		if attempt > 1 && most < ceiling*3/4 {
			t.Errorf("attempt %d: largest of 2000 backoffs %v, want close to %v (full jitter)", attempt, most, ceiling)
		}
	}
}

func TestRetryPolicyDefaults(t *testing.T) {
	tests := []struct{ in, want RetryPolicy }{
		{RetryPolicy{}, DefaultRetryPolicy},
		{RetryPolicy{MaxAttempts: 1}, RetryPolicy{MaxAttempts: 1, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}},
		{RetryPolicy{MaxBackoff: 100 * time.Millisecond}, RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}},
		{RetryPolicy{MinBackoff: time.Minute}, RetryPolicy{MaxAttempts: 4, MinBackoff: time.Minute, MaxBackoff: time.Minute}},
	}
	for _, tt := range tests {
		c, err := NewClient(WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})), WithRetryPolicy(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if c.retry != tt.want {
			t.Errorf("WithRetryPolicy(%+v): policy %+v, want %+v", tt.in, c.retry, tt.want)
		}
	}
}

// TestDecide is the retry table of the README, row by row, and the cases
// around it: the decision after an attempt, as a pure function.
func TestDecide(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second}
	const forever = time.Duration(math.MaxInt64)
	ans := func(status int) outcome { return outcome{kind: answered, status: status} }
	withRA := func(o outcome, d time.Duration) outcome { o.retryAfter = d; return o }
	backoff := func(n int) decision { return decision{retry: true, wait: p.ceiling(n)} } // draw gives its upper bound
	none := decision{}
	tests := []struct {
		name       string
		o          outcome
		idempotent bool
		n          int
		renewed    bool
		left       time.Duration
		want       decision
	}{
		{"429 GET, Retry-After", withRA(ans(429), 2*time.Second), true, 1, false, forever, decision{retry: true, wait: 2 * time.Second}},
		{"429 POST, Retry-After: Talkdesk did not act", withRA(ans(429), 2*time.Second), false, 1, false, forever, decision{retry: true, wait: 2 * time.Second}},
		{"429 without Retry-After: backoff", ans(429), false, 2, false, forever, backoff(2)},
		{"401: renew, whatever the attempt", ans(401), false, 4, false, forever, decision{retry: true, renew: true}},
		{"401 after a renewal", ans(401), true, 1, true, forever, none},
		{"500 GET", ans(500), true, 1, false, forever, backoff(1)},
		{"502 GET", ans(502), true, 2, false, forever, backoff(2)},
		{"503 GET with Retry-After", withRA(ans(503), time.Second), true, 1, false, forever, decision{retry: true, wait: time.Second}},
		{"504 GET", ans(504), true, 3, false, forever, backoff(3)},
		{"500 POST: Talkdesk may have acted", ans(500), false, 1, false, forever, none},
		{"503 POST with Retry-After", withRA(ans(503), time.Second), false, 1, false, forever, none},
		{"connection refused, POST", outcome{kind: unsent}, false, 1, false, forever, backoff(1)},
		{"connection refused, GET", outcome{kind: unsent}, true, 1, false, forever, backoff(1)},
		{"lost after sending, GET", outcome{kind: lost}, true, 1, false, forever, backoff(1)},
		{"lost after sending, POST", outcome{kind: lost}, false, 1, false, forever, none},
		{"success answer cut short, POST", outcome{kind: lost, status: 201}, false, 1, false, forever, none},
		{"answer too large, or undecodable, or a redirect", outcome{kind: final}, true, 1, false, forever, none},
		{"token endpoint failed for now", outcome{kind: noToken}, false, 1, false, forever, backoff(1)},
		{"400", ans(400), true, 1, false, forever, none},
		{"403", ans(403), true, 1, false, forever, none},
		{"404", ans(404), true, 1, false, forever, none},
		{"409", ans(409), false, 1, false, forever, none},
		{"501", ans(501), true, 1, false, forever, none},
		{"505", ans(505), true, 1, false, forever, none},
		{"attempts used up", ans(500), true, 4, false, forever, none},
		{"Retry-After past MaxBackoff", withRA(ans(429), 31*time.Second), true, 1, false, forever, none},
		{"Retry-After past the deadline", withRA(ans(429), 2*time.Second), true, 1, false, time.Second, none},
		{"backoff past the deadline", ans(500), true, 3, false, 300 * time.Millisecond, none},
		{"backoff within the deadline", ans(500), true, 1, false, time.Second, backoff(1)},
		{"succeeded", outcome{kind: succeeded}, true, 1, false, forever, none},
	}
	draw := func(lo, hi time.Duration) time.Duration { return hi }
	for _, tt := range tests {
		if got := p.decide(&tt.o, tt.idempotent, tt.n, tt.renewed, tt.left, draw); got != tt.want {
			t.Errorf("%s: decide = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestServerClosedIdleTextMatchesNetHTTP pins the one error the Client
// recognises by its text to the toolchain's net/http: if a Go release
// renamed it, POSTs that met a closed idle connection would silently stop
// being retried.
func TestServerClosedIdleTextMatchesNetHTTP(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("go env GOROOT: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "src", "net", "http", "transport.go"))
	if err != nil {
		t.Skipf("net/http source not available: %v", err)
	}
	if want := `errServerClosedIdle = errors.New("` + serverClosedIdle + `")`; !strings.Contains(string(src), want) {
		t.Errorf("net/http's transport.go no longer declares %s", want)
	}
	if !isServerClosedIdle(fmt.Errorf("talkdesk: POST /calls/callback: %w", errors.New(serverClosedIdle))) {
		t.Error("isServerClosedIdle misses the error when wrapped")
	}
}
