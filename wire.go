package talkdesk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// timestamp decodes the instants the API sends as strings into a UTC
// time.Time with parseInstant, the parser of the trigger payloads: RFC 3339
// with or without fractions, "Z" or a numeric offset with or without a
// colon, and the other forms Talkdesk uses. null and "" decode as the zero
// time.
type timestamp time.Time

func (t *timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time: %w", err)
	}
	if s == "" {
		return nil
	}
	v, err := parseInstant(s)
	if err != nil {
		return fmt.Errorf("time %q: %w", clean(s), err)
	}
	*t = timestamp(v)
	return nil
}

// Time returns t as a time.Time.
func (t timestamp) Time() time.Time { return time.Time(t) }

// splitList splits a Talkdesk ";"-separated list, such as SCIM's
// rolesString, dropping blanks around and between items. "" gives nil.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// joinList joins items as a ";"-separated list after checking that each is
// non-empty and free of ";" and control characters; field names the Go
// field in the error.
func joinList(field string, items []string) (string, error) {
	for i, item := range items {
		name := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case strings.TrimSpace(item) == "":
			return "", invalid(name, "must not be empty")
		case strings.Contains(item, ";"):
			return "", invalid(name, `must not contain ";" (Talkdesk separates the list with it)`)
		case badText(item) != "":
			return "", invalid(name, badText(item))
		}
	}
	return strings.Join(items, ";"), nil
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

// maxEmailLength is the longest e-mail address SMTP allows.
const maxEmailLength = 254

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
