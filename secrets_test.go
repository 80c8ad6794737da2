package talkdesk

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// TestRedactorForms: every form in which a server could echo a secret is
// removed: as is, URL-encoded as a query and as a path (upper- and
// lower-case hex), and the Basic pair in base64, padded or not, standard
// or URL-safe, with the pair URL-encoded first or not.
func TestRedactorForms(t *testing.T) {
	const id, secret = "client id/1", "s3c+r/e=t&x y"
	r := &redactor{}
	r.addCredentials(id, secret)
	r.addToken("at-token+/=1")
	forms := []string{
		secret, url.QueryEscape(secret), url.PathEscape(secret), strings.ToLower(url.QueryEscape(secret)),
		"at-token+/=1", url.QueryEscape("at-token+/=1"),
	}
	for _, pair := range []string{url.QueryEscape(id) + ":" + url.QueryEscape(secret), id + ":" + secret} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			forms = append(forms, enc.EncodeToString([]byte(pair)))
		}
	}
	for _, f := range forms {
		text := "the server said <" + f + "> back"
		if got := r.clean(text); strings.Contains(got, f) || !strings.Contains(got, redacted) {
			t.Errorf("clean(%q) = %q", text, got)
		}
	}
	if got := r.clean("nothing secret here"); got != "nothing secret here" {
		t.Errorf("clean changed a text without secrets: %q", got)
	}
}

// TestRedactorKeepsRecentTokens: the latest tokens are redacted, the
// oldest forgotten beyond maxRecentTokens.
func TestRedactorKeepsRecentTokens(t *testing.T) {
	r := &redactor{}
	for i := range maxRecentTokens + 2 {
		r.addToken(fmt.Sprintf("token-%02d", i))
	}
	if got := r.clean("token-00"); got != "token-00" {
		t.Errorf("the oldest token is still redacted: %q", got)
	}
	last := fmt.Sprintf("token-%02d", maxRecentTokens+1)
	if got := r.clean(last); got != redacted {
		t.Errorf("the latest token shows: %q", got)
	}
}

// TestScrub: an error whose chain holds a secret is replaced by one with
// the cleaned text that still matches the sentinels it matched; an error
// without one is kept as it is.
func TestScrub(t *testing.T) {
	r := &redactor{}
	r.addToken("at-secret-4e1c")
	clean := fmt.Errorf("dial: %w", context.DeadlineExceeded)
	if got := r.scrub(clean); got != clean {
		t.Errorf("scrub replaced an error without secrets: %v", got)
	}
	dirty := fmt.Errorf("talkdesk: bad token at-secret-4e1c: %w", fmt.Errorf("wrapped: %w", ErrUnauthorized))
	got := r.scrub(dirty)
	for e := got; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "at-secret-4e1c") {
			t.Errorf("the scrubbed chain shows the token: %v", e)
		}
	}
	if !errors.Is(got, ErrUnauthorized) {
		t.Errorf("scrub lost the sentinel: %v", got)
	}
	if got := r.scrub(errors.New("with extra sec-777"), "sec-777"); strings.Contains(got.Error(), "sec-777") {
		t.Errorf("scrub kept an extra secret: %v", got)
	}
}
