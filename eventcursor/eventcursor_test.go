package eventcursor

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestCursor(t *testing.T) {
	since := time.Date(2024, 5, 6, 10, 0, 0, 0, time.UTC)
	fp := Fingerprint("int-1", "", "ag-1", []string{"b", "a", "a"}, since, time.Time{})
	if again := Fingerprint("int-1", "", "ag-1", []string{"a", "b"}, since.In(time.FixedZone("x", 3600)), time.Time{}); again != fp {
		t.Error("the order and repeats of the types, or the zone of Since, change the fingerprint")
	}
	for _, other := range [][8]byte{
		Fingerprint("int-1", "ag-1", "", []string{"a", "b"}, since, time.Time{}), // the same ID as another filter
		Fingerprint("int-1", "", "ag-1", []string{"a"}, since, time.Time{}),
		Fingerprint("int-1", "", "ag-1", []string{"a", "b"}, since, since.Add(time.Hour)),
	} {
		if other == fp {
			t.Error("other filters give the same fingerprint")
		}
	}

	c := Encode('v', fp, -42, "ev-\x00-1")
	if at, id, err := Decode(c, 'v', fp); err != nil || at != -42 || id != "ev-\x00-1" {
		t.Errorf("Decode(Encode) = %d, %q, %v", at, id, err)
	}
	for _, tt := range []struct {
		s       string
		version byte
		fp      [8]byte
		want    error
	}{
		{c, 'w', fp, ErrNotCursor},
		{c, 'v', [8]byte{}, ErrOtherQuery},
		{"not base64!", 'v', fp, ErrNotCursor},
		{c[:20], 'v', fp, ErrNotCursor}, // cut short
	} {
		if _, _, err := Decode(tt.s, tt.version, tt.fp); !errors.Is(err, tt.want) {
			t.Errorf("Decode(%q, %c) = %v, want %v", tt.s, tt.version, err, tt.want)
		}
	}
}

func TestNanos(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want int64
	}{
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{MinInstant, math.MinInt64},
		{MaxInstant, math.MaxInt64},
		{time.Unix(1, 2), 1e9 + 2},
	} {
		if got := Nanos(tt.t); got != tt.want {
			t.Errorf("Nanos(%v) = %d, want %d", tt.t, got, tt.want)
		}
	}
}
