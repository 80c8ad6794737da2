package talkdesk

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// redacted stands in an error or log text for a secret that was removed.
const redacted = "[REDACTED]"

// secretForms returns the forms in which secret can come back from a
// server that echoes what it was sent: as is, and percent-encoded the way
// a query or form (space as "+") and a path (space as "%20") encode it,
// with upper- and lower-case hex digits.
func secretForms(secret string) []string {
	forms := []string{secret}
	for _, enc := range []string{url.QueryEscape(secret), url.PathEscape(secret)} {
		forms = append(forms, enc, lowerHex(enc))
	}
	return dedupe(forms)
}

// basicForms returns the forms of an HTTP Basic authorization of id and
// secret: base64 of "id:secret" with both URL-encoded first (as OAuth 2
// clients send them, RFC 6749 section 2.3.1) and without, each in standard
// and URL-safe base64, padded and not.
func basicForms(id, secret string) []string {
	var forms []string
	for _, pair := range []string{url.QueryEscape(id) + ":" + url.QueryEscape(secret), id + ":" + secret} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			forms = append(forms, enc.EncodeToString([]byte(pair)))
		}
	}
	return dedupe(forms)
}

// lowerHex returns s with the hex digits of its percent escapes in lower
// case.
func lowerHex(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			for j := i + 1; j <= i+2; j++ {
				if 'A' <= b[j] && b[j] <= 'F' {
					b[j] += 'a' - 'A'
				}
			}
		}
	}
	return string(b)
}

func dedupe(forms []string) []string {
	out := forms[:0]
	for _, f := range forms {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// maxRecentTokens is how many of the latest access and refresh tokens a
// redactor keeps besides its fixed secrets: a token rotated out a few
// fetches ago may still come back in a late answer.
const maxRecentTokens = 8

// redactor knows every secret of a Client, in every form it could come back
// in: the client secret and the Basic authorization built from it, and the
// latest access and refresh tokens. It is safe for concurrent use.
type redactor struct {
	fixed []string // forms of the client secret and of the Basic pair

	mu     sync.RWMutex
	tokens [][]string // forms of the recent tokens, oldest first
}

// addCredentials adds the client secret and the Basic authorization of id
// and secret.
func (r *redactor) addCredentials(id, secret string) {
	r.fixed = dedupe(append(append(r.fixed, secretForms(secret)...), basicForms(id, secret)...))
}

// addToken adds an access or refresh token, forgetting the oldest when it
// holds more than maxRecentTokens.
func (r *redactor) addToken(tok string) {
	if r == nil || tok == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, forms := range r.tokens {
		if forms[0] == tok {
			return
		}
	}
	if len(r.tokens) == maxRecentTokens {
		r.tokens = append(r.tokens[:0], r.tokens[1:]...)
	}
	r.tokens = append(r.tokens, secretForms(tok))
}

// clean returns s bounded and without control characters (see clean), with
// every form of every secret r knows, and of each of extra, replaced.
func (r *redactor) clean(s string, extra ...string) string {
	return clean(r.remove(s, extra...))
}

// remove replaces in s every form of every secret r knows and of each of
// extra.
func (r *redactor) remove(s string, extra ...string) string {
	if r != nil {
		s = removeAll(s, r.fixed)
		r.mu.RLock()
		for _, forms := range r.tokens {
			s = removeAll(s, forms)
		}
		r.mu.RUnlock()
	}
	for _, e := range extra {
		if e != "" {
			s = removeAll(s, secretForms(e))
		}
	}
	return s
}

func removeAll(s string, forms []string) string {
	for _, f := range forms {
		if strings.Contains(s, f) {
			s = strings.ReplaceAll(s, f, redacted)
		}
	}
	return s
}

// scrub returns err itself when its text, and the text of every error it
// wraps, carries no secret r knows nor any of extra; otherwise an error with the cleaned
// text of err, which matches what err matched of the package's sentinels
// and of the context's errors, and wraps nothing else.
func (r *redactor) scrub(err error, extra ...string) error {
	if err == nil {
		return nil
	}
	dirty := false
	for e := err; e != nil && !dirty; e = errors.Unwrap(e) {
		dirty = r.remove(e.Error(), extra...) != e.Error()
	}
	if !dirty {
		return err
	}
	return &scrubbedError{text: r.remove(err.Error(), extra...), kind: sentinelOf(err)}
}

// scrubbedError is an error whose text had a secret in it.
type scrubbedError struct {
	text string
	kind error // the sentinel or context error err matched, or nil
}

func (e *scrubbedError) Error() string { return e.text }
func (e *scrubbedError) Unwrap() error { return e.kind }

// sentinelOf returns the first of the package's sentinel errors and the
// context's errors that err matches, or nil.
func sentinelOf(err error) error {
	for _, s := range []error{
		ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited, ErrInvalid, ErrResponseTooLarge, ErrMalformedResponse,
		context.Canceled, context.DeadlineExceeded,
	} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// SecretEqual reports whether the secret given in a request equals the
// expected one, in time that does not depend on where they differ or on
// how long they are: both are hashed with SHA-256 and the digests compared
// with crypto/subtle. Use it in [WithActionAuth] checks, where == would let
// an attacker find a password byte by byte from response times.
//
// An empty string equals nothing, not even another empty string, so that a
// secret left unconfigured cannot be matched by a request without it.
func SecretEqual(given, expected string) bool {
	if given == "" || expected == "" {
		return false
	}
	g := sha256.Sum256([]byte(given))
	e := sha256.Sum256([]byte(expected))
	return subtle.ConstantTimeCompare(g[:], e[:]) == 1
}
