package talkdesk

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
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

// maxEmailLength is the longest e-mail address SMTP allows.
const maxEmailLength = 254
