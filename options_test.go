package talkdesk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestOptionValidation(t *testing.T) {
	auth := WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))
	tests := map[string]Option{
		"base URL not absolute":        WithBaseURL("api.talkdeskapp.com"),
		"base URL not http":            WithBaseURL("ftp://api.talkdeskapp.com"),
		"base URL with query":          WithBaseURL("https://api.talkdeskapp.com/?x=1"),
		"base URL with user":           WithBaseURL("https://user:pw@api.talkdeskapp.com"),
		"base URL with empty query":    WithBaseURL("https://api.talkdeskapp.com/api?"),
		"base URL with empty fragment": WithBaseURL("https://api.talkdeskapp.com/api#"),
		"token URL with empty query":   WithTokenURL("https://acme.talkdeskid.com/oauth/token?"),
		"token URL not absolute":       WithTokenURL("/oauth/token"),
		"nil HTTP client":              WithHTTPClient(nil),
		"nil limiter":                  WithLimiter(nil),
		"rate without period":          WithRateLimit(10, 0),
		"negative retry":               WithRetryPolicy(RetryPolicy{MaxAttempts: -1}),
		"min backoff above max":        WithRetryPolicy(RetryPolicy{MinBackoff: time.Minute, MaxBackoff: time.Second}),
		"unknown region":               WithRegion("mars"),
		"header in user agent":         WithUserAgent("x\r\nX-Injected: 1"),
	}
	for name, opt := range tests {
		if _, err := NewClient(auth, opt); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := NewClient(auth, nil, WithRateLimit(0, 0)); err != nil {
		t.Errorf("nil option and throttle off: %v", err)
	}
}

// TestOptionsFromEnv: the three credentials, the region, the scopes and
// the URLs of a proxy or a fake, from the environment.
func TestOptionsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := OptionsFromEnv(env(nil)); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("nothing set: %v", err)
	}
	if _, err := OptionsFromEnv(env(map[string]string{"TALKDESK_ACCOUNT": "acme"})); !errors.Is(err, ErrInvalid) {
		t.Errorf("an account alone: %v", err)
	}
	opts, err := OptionsFromEnv(env(map[string]string{"TALKDESK_ACCOUNT": "acme", "TALKDESK_CLIENT_ID": "id", "TALKDESK_CLIENT_SECRET": "s3cret",
		"TALKDESK_REGION": "EU", "TALKDESK_BASE_URL": "https://proxy.example.com/td"}), "recordings:read")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); !strings.Contains(s, "https://proxy.example.com/td") || !strings.Contains(s, "acme.talkdeskid.eu") || strings.Contains(s, "s3cret") {
		t.Errorf("client %s", s)
	}
}
