package talkdesk

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// validateAccount checks that account is a DNS label, so that it can only
// ever become the first label of a host name.
func validateAccount(account string) error {
	if len(account) < 1 || len(account) > 63 {
		return invalid("account", fmt.Sprintf("must be 1 to 63 characters, got %d", len(account)))
	}
	for i := 0; i < len(account); i++ {
		c := account[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' && i > 0 && i < len(account)-1:
		default:
			return invalid("account", fmt.Sprintf("%q is not a DNS label (ASCII letters, digits and inner hyphens)", account))
		}
	}
	return nil
}

// parseHTTPURL parses an absolute http or https URL without user info,
// query or fragment.
func parseHTTPURL(field, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid(field, "not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, invalid(field, "must be an absolute http or https URL")
	}
	if u.User != nil || strings.ContainsAny(raw, "?#") || u.Opaque != "" {
		return nil, invalid(field, "must not carry user info, a query or a fragment")
	}
	return u, nil
}

// maxIDLength bounds IDs given to path parameters.
const maxIDLength = 1024

// validatePathParam rejects values that cannot be a Talkdesk ID: empty, "."
// or "..", too long, not UTF-8, or with control characters.
func validatePathParam(name, v string) error {
	switch {
	case v == "":
		return invalid(name, "must not be empty")
	case v == "." || v == "..":
		return invalid(name, fmt.Sprintf("%q is not an ID", v))
	case len(v) > maxIDLength:
		return invalid(name, fmt.Sprintf("longer than %d bytes", maxIDLength))
	case !utf8.ValidString(v):
		return invalid(name, "not valid UTF-8")
	case strings.ContainsFunc(v, isControl):
		return invalid(name, "must not contain control characters")
	}
	return nil
}

// checkE164 reports whether v is a phone number in E.164 form: "+", then 2
// to 15 digits, the first not 0.
func checkE164(field, v string) error {
	switch {
	case v == "":
		return invalid(field, "must not be empty")
	case len(v) < 3 || len(v) > 16 || v[0] != '+' || v[1] == '0' || !allDigits(v[1:]):
		return invalid(field, fmt.Sprintf("%q is not an E.164 number (\"+\" and 2 to 15 digits, the first not 0)", clean(v)))
	}
	return nil
}

// checkOptional rejects an optional value that is not UTF-8 or has
// control characters.
func checkOptional(field, v string) error {
	if why := badText(v); why != "" {
		return invalid(field, why)
	}
	return nil
}

// maxCallbackURL bounds the length of a callback URL.
const maxCallbackURL = 2048

// validateCallbackURL accepts absolute http and https URLs without user
// info or fragment; a query (such as a webhook token) is allowed. Errors
// never repeat the URL, which may hold a secret.
func validateCallbackURL(raw string) error {
	if len(raw) > maxCallbackURL {
		return invalid("callbackURL", fmt.Sprintf("longer than %d bytes", maxCallbackURL))
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return isControl(r) || r == ' ' }) {
		return invalid("callbackURL", "must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("callbackURL", "not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" || u.Opaque != "" {
		return invalid("callbackURL", "must be an absolute http or https URL")
	}
	if u.User != nil || u.Fragment != "" {
		return invalid("callbackURL", "must not carry user info or a fragment")
	}
	return nil
}

// checkName rejects empty names and names that are not UTF-8 or have
// control characters.
func checkName(field, v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return invalid(field, "must not be empty")
	case badText(v) != "":
		return invalid(field, badText(v))
	}
	return nil
}

// checkLength checks that v, when set, has lo to hi characters.
func checkLength(field, v string, lo, hi int) error {
	if v == "" {
		return nil
	}
	if why := badText(v); why != "" {
		return invalid(field, why)
	}
	if n := utf8.RuneCountInString(v); n < lo || n > hi {
		return invalid(field, fmt.Sprintf("must have %d to %d characters, not %d", lo, hi, n))
	}
	return nil
}

// badText says why v cannot go into a request as text: bytes that are not
// UTF-8, which JSON would replace with U+FFFD and so send another value,
// or control characters. It returns "" when v can.
func badText(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "not valid UTF-8"
	case strings.ContainsFunc(v, isControl):
		return "must not contain control characters"
	}
	return ""
}

// checkEmail rejects what cannot be an e-mail address: empty, too long,
// without text on both sides of one "@", or with spaces or control
// characters, or not UTF-8.
func checkEmail(field, v string) error {
	at := strings.LastIndexByte(v, '@')
	switch {
	case v == "":
		return invalid(field, "must not be empty")
	case len(v) > maxEmailLength:
		return invalid(field, fmt.Sprintf("longer than %d bytes", maxEmailLength))
	case !utf8.ValidString(v):
		return invalid(field, "not valid UTF-8")
	case strings.ContainsFunc(v, func(r rune) bool { return isControl(r) || r == ' ' }):
		return invalid(field, "must not contain spaces or control characters")
	case at <= 0 || at == len(v)-1:
		return invalid(field, fmt.Sprintf("%q is not an e-mail address", v))
	}
	return nil
}

// check rejects kinds other than NotificationEmail and NotificationPush.
func (k NotificationKind) check() error {
	if k != NotificationEmail && k != NotificationPush {
		return invalid("kind", fmt.Sprintf("%q is not %q or %q", string(k), NotificationEmail, NotificationPush))
	}
	return nil
}
