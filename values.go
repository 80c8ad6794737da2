package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk/eventcursor"
)

var (
	errNotDuration   = errors.New("not a duration (seconds or h:mm:ss)")
	errDurationRange = errors.New("duration out of range (over 292 years)")
	errNotInstant    = errors.New("not a time (RFC 3339, 2006-01-02 15:04:05, or Unix seconds or milliseconds)")
	errInstantRange  = errors.New("time out of range (before 1677-09-21 or after 2262-04-11)")
	errNotFlag       = errors.New("not a flag (true/false, 1/0, yes/no)")
	errNotTags       = errors.New("not a tag list (comma-separated or a JSON array of strings)")
	errTooManyTags   = fmt.Errorf("more than %d tags", maxTags)
)

// parseDuration reads whole or fractional seconds ("93", "93.5") or
// h:mm:ss with an optional fraction ("00:01:33", "1:02:03.5").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, ":") {
		return parseSeconds(s)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, errNotDuration
	}
	var hm [2]int64
	for i, p := range parts[:2] {
		if p == "" || len(p) > 9 || strings.Trim(p, "0123456789") != "" {
			return 0, errNotDuration
		}
		hm[i], _ = strconv.ParseInt(p, 10, 64)
	}
	if len(parts[1]) != 2 || hm[1] >= 60 || len(parts[2]) < 2 || parts[2][:2] > "59" {
		return 0, errNotDuration
	}
	sec, err := parseSeconds(parts[2])
	if err != nil {
		return 0, errNotDuration
	}
	rest := time.Duration(hm[1])*time.Minute + sec // under an hour
	if hm[0] > int64((math.MaxInt64-rest)/time.Hour) {
		return 0, errDurationRange
	}
	return time.Duration(hm[0])*time.Hour + rest, nil
}

// parseSeconds reads a non-negative decimal number of seconds ("93",
// "93.5", "0.000000001") with time.ParseDuration, to the nanosecond:
// digits past it are dropped. A number beyond the largest time.Duration
// (about 292 years) is out of range, not wrapped around.
func parseSeconds(s string) (time.Duration, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && frac == "" || dot && frac == "" || len(whole) > 11 ||
		strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, errNotDuration
	}
	if len(frac) > 9 {
		s = whole + "." + frac[:9]
	}
	d, err := time.ParseDuration(s + "s")
	if err != nil {
		return 0, errDurationRange // the syntax is checked: only the range is left
	}
	return d, nil
}

// instantLayouts are the layouts of Talkdesk times that are not Unix
// numbers. Parsing accepts a fraction of seconds after the seconds in each.
var instantLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05 UTC",
}

// The instants an Event holds: those whose Unix time in nanoseconds is an
// int64, which an EventLog indexes (and JSON can encode).
var (
	minInstant = eventcursor.MinInstant // 1677-09-21T00:12:43.145224192Z
	maxInstant = eventcursor.MaxInstant // 2262-04-11T23:47:16.854775807Z
)

// parseInstant reads a time in one of instantLayouts (no zone means UTC),
// or Unix seconds or milliseconds (13 or more digits), and returns it in
// UTC. A time outside [minInstant, maxInstant] is out of range.
func parseInstant(s string) (time.Time, error) {
	t, err := parseAnyInstant(s)
	if err == nil && (t.Before(minInstant) || t.After(maxInstant)) {
		return time.Time{}, errInstantRange
	}
	return t, err
}

func parseAnyInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789.") == "" {
		whole, frac, _ := strings.Cut(s, ".")
		if whole == "" || len(whole) > 16 || strings.Contains(frac, ".") {
			return time.Time{}, errNotInstant
		}
		if len(whole) >= 13 { // milliseconds: 10^12 ms is 2001, 10^12 s the year 33658
			ms, _ := strconv.ParseInt(whole, 10, 64)
			if frac != "" {
				return time.Time{}, errNotInstant
			}
			return time.UnixMilli(ms).UTC(), nil
		}
		d, err := parseSeconds(s)
		if err == errDurationRange {
			return time.Time{}, errInstantRange
		}
		if err != nil {
			return time.Time{}, errNotInstant
		}
		return time.Unix(0, int64(d)).UTC(), nil
	}
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, errNotInstant
	}
	for _, layout := range instantLayouts {
		if layout[10] != s[10] {
			continue
		}
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errNotInstant
}

// parseFlag reads true/false, 1/0 or yes/no in any case.
func parseFlag(s string) (bool, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
		return true, nil
	case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
		return false, nil
	}
	return false, errNotFlag
}

// maxTags is the most tags a tag list may hold. A longer one is not read
// (a warning): Talkdesk's ringing groups are a handful, and a body of a
// million one-letter tags would otherwise cost many times its size.
const maxTags = 1024

// parseTags reads a comma-separated list or a JSON array of strings, each
// tag trimmed and empty ones dropped; nil when no tag is left. More than
// maxTags tags are an error.
func parseTags(s string) ([]string, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		return parseTagArray([]byte(t))
	}
	keep := func(tag string) bool { return tag != "" && !unset(tag) }
	n := 0
	for tag := range strings.SplitSeq(s, ",") {
		if keep(strings.TrimSpace(tag)) {
			if n++; n > maxTags {
				return nil, errTooManyTags
			}
		}
	}
	if n == 0 {
		return nil, nil
	}
	tags := make([]string, 0, n)
	for tag := range strings.SplitSeq(s, ",") {
		if tag = strings.TrimSpace(tag); keep(tag) {
			tags = append(tags, tag)
		}
	}
	return tags, nil
}

// parseTagArray reads a JSON array of strings, one element at a time so
// that a long one fails at maxTags + 1.
func parseTagArray(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errNotTags
	}
	var tags []string
	for dec.More() {
		var tag string
		if err := dec.Decode(&tag); err != nil {
			return nil, errNotTags
		}
		if tag = strings.TrimSpace(tag); tag != "" {
			if len(tags) == maxTags {
				return nil, errTooManyTags
			}
			tags = append(tags, tag)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, errNotTags
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotTags
	}
	return tags, nil
}

// appendSeconds writes d as an exact decimal number of seconds.
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/uint64(time.Second), 10)
	if frac := u % uint64(time.Second); frac != 0 {
		digits := strconv.AppendUint(nil, frac+uint64(time.Second), 10)[1:] // nine digits, leading zeros kept
		b = append(b, '.')
		b = append(b, bytes.TrimRight(digits, "0")...)
	}
	return b
}
