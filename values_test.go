package talkdesk

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"93", 93 * time.Second, false},
		{"0", 0, false},
		{" 93 ", 93 * time.Second, false},
		{"93.5", 93500 * time.Millisecond, false},
		{"0.000000001", time.Nanosecond, false},
		{"1.0000000019", time.Second + time.Nanosecond, false},
		{".5", 500 * time.Millisecond, false},
		{"00:01:33", 93 * time.Second, false},
		{"1:02:03", time.Hour + 2*time.Minute + 3*time.Second, false},
		{"100:00:00", 100 * time.Hour, false},
		{"00:00:01.25", 1250 * time.Millisecond, false},
		{"soon", 0, true},
		{"-5", 0, true},
		{"5.", 0, true},
		{"1e3", 0, true},
		{"1:2:3", 0, true},
		{"00:60:00", 0, true},
		{"00:00:60", 0, true},
		{"01:33", 0, true},
		{"::", 0, true},
		{"99999999999999", 0, true},
		{"5s", 0, true},
		// The largest time.Duration, and what would overflow it.
		{"9223372036.854775807", math.MaxInt64, false},
		{"2562047:47:16.854775807", math.MaxInt64, false},
		{"9223372036.854775808", 0, true},
		{"9223372037", 0, true},
		{"99999999999", 0, true},
		{"2562047:47:16.854775808", 0, true},
		{"2562048:00:00", 0, true},
		{"999999999:00:00", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseInstant(t *testing.T) {
	at := time.Date(2024, 5, 6, 10, 11, 12, 0, time.UTC)
	frac := at.Add(345 * time.Millisecond)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2024-05-06T10:11:12Z", at, false},
		{"2024-05-06T10:11:12.345Z", frac, false},
		{"2024-05-06T11:11:12+01:00", at, false},
		{"2024-05-06T11:11:12.345+01:00", frac, false},
		{"2024-05-06T11:11:12+0100", at, false},
		{"2024-05-06T10:11:12", at, false},
		{"2024-05-06T10:11:12.345", frac, false},
		{"2024-05-06 10:11:12", at, false},
		{"2024-05-06 10:11:12.345", frac, false},
		{"2024-05-06 10:11:12 UTC", at, false},
		{"2024-05-06 05:11:12 -0500", at, false},
		{"2024-05-06 05:11:12 -05:00", at, false},
		{"2024-05-06 11:11:12+01:00", at, false},
		{" 2024-05-06T10:11:12Z ", at, false},
		{"1714990272", at, false},
		{"1714990272.345", frac, false},
		{"1714990272345", frac, false},
		{"0", time.Unix(0, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"2024-05-06", time.Time{}, true},
		{"2024-13-06T10:11:12Z", time.Time{}, true},
		{"2024-05-06X10:11:12Z", time.Time{}, true},
		{"1714990272345.5", time.Time{}, true},
		{"1.2.3", time.Time{}, true},
		{"99999999999999999999", time.Time{}, true},
		{"-1714990272", time.Time{}, true},
		// The times whose Unix nanoseconds fit an int64, and beyond.
		{"9223372036.854775807", time.Unix(0, math.MaxInt64).UTC(), false},
		{"9223372036854", time.UnixMilli(9223372036854).UTC(), false},
		{"2262-04-11T23:47:16.854775807Z", time.Unix(0, math.MaxInt64).UTC(), false},
		{"1677-09-21T00:12:43.145224192Z", time.Unix(0, math.MinInt64).UTC(), false},
		{"9223372036.854775808", time.Time{}, true},
		{"99999999999", time.Time{}, true},
		{"9223372036855", time.Time{}, true},
		{"9999999999999999", time.Time{}, true},
		{"2262-04-12T00:00:00Z", time.Time{}, true},
		{"9999-12-31T23:59:59Z", time.Time{}, true},
		{"1677-09-21T00:12:43.145224191Z", time.Time{}, true},
		{"0001-01-01T00:00:00Z", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseInstant(tt.in)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseInstant(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseInstant(%q) is in %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestParseFlag(t *testing.T) {
	for _, in := range []string{"true", "TRUE", "True", "1", "yes", "YES", "Yes", " yes "} {
		if got, err := parseFlag(in); err != nil || !got {
			t.Errorf("parseFlag(%q) = %v, %v; want true", in, got, err)
		}
	}
	for _, in := range []string{"false", "FALSE", "0", "no", "No", "NO"} {
		if got, err := parseFlag(in); err != nil || got {
			t.Errorf("parseFlag(%q) = %v, %v; want false", in, got, err)
		}
	}
	for _, in := range []string{"y", "n", "2", "on", "maybe", "truee"} {
		if _, err := parseFlag(in); err == nil {
			t.Errorf("parseFlag(%q) gave no error", in)
		}
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"sales", []string{"sales"}, false},
		{"sales,support", []string{"sales", "support"}, false},
		{" sales , support ,, vip ,", []string{"sales", "support", "vip"}, false},
		{`["sales"," support ",""]`, []string{"sales", "support"}, false},
		{` [ "a" ] `, []string{"a"}, false},
		{`[]`, nil, false},
		{` , ,`, nil, false},
		{`[sales`, nil, true},
		{`[1,2]`, nil, true},
		{`["a"] x`, nil, true},
		{`["a"]]`, nil, true},
		{`[null, "a"]`, []string{"a"}, false},
		// At most maxTags tags; empty ones do not count.
		{strings.Repeat("t,", maxTags), slices.Repeat([]string{"t"}, maxTags), false},
		{strings.Repeat("t,", maxTags) + "u", nil, true},
		{"t" + strings.Repeat(",", 100000) + "u", []string{"t", "u"}, false},
		{`["t"` + strings.Repeat(`,"t"`, maxTags-1) + `]`, slices.Repeat([]string{"t"}, maxTags), false},
		{`["t"` + strings.Repeat(`,"t"`, maxTags) + `]`, nil, true},
		{`["t"` + strings.Repeat(`,""`, 100000) + `]`, []string{"t"}, false},
	}
	for _, tt := range tests {
		got, err := parseTags(tt.in)
		if (err != nil) != tt.err || !cmp.Equal(got, tt.want) {
			t.Errorf("parseTags(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}
