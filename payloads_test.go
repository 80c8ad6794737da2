package talkdesk

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestPayloadJSON checks the JSON encoding of the payload types: Talkdesk's
// keys, typed values, empty fields left out, and an exact round trip.
func TestPayloadJSON(t *testing.T) {
	p := &InboundCallEndedPayload{
		CallID: "c1", HoldTime: 12*time.Second + 5*time.Millisecond, Duration: time.Nanosecond, TotalDuration: 1500 * time.Millisecond,
		StartTime: time.Date(2024, 5, 6, 10, 11, 12, 123456789, time.UTC), InBusinessHours: Ptr(false),
		Tags: []string{"a", `b"c`}, ContactName: "Zé <x>\u2028", PhoneVIP: Ptr(true),
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"call_id":"c1","total_duration":1.5,"duration":0.000000001,"hold_time":12.005,"in_business_hours":false,"start_time":"2024-05-06T10:11:12.123456789Z","tags":["a","b\"c"],"contact_name":"Zé \u003cx\u003e\u2028","phone_vip":true}` // json.Marshal escapes HTML and U+2028
	if string(data) != want {
		t.Errorf("json.Marshal =\n %s\nwant\n %s", data, want)
	}
	var back InboundCallEndedPayload
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, &back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"hold_time":"soon"}`), &back); err == nil {
		t.Error("Unmarshal of a bad duration gave no error")
	}
	// Talkdesk's durations are never negative, and UnmarshalJSON reads
	// what Talkdesk sends: a negative one encodes, and is refused on read.
	data, _ = json.Marshal(&InboundCallEndedPayload{TotalDuration: -1500 * time.Millisecond})
	if string(data) != `{"total_duration":-1.5}` {
		t.Errorf("a negative duration encodes as %s", data)
	}
	if err := json.Unmarshal(data, &back); err == nil {
		t.Error("Unmarshal of a negative duration gave no error")
	}
}

// TestSecondsRoundTrip: the seconds the payload types encode read back,
// through the parser of webhook bodies, to the same duration, down to the
// extremes; a duration past the largest is refused, not wrapped around.
func TestSecondsRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 93 * time.Second, 1500 * time.Millisecond, math.MaxInt64} {
		data, err := json.Marshal(&InboundCallEndedPayload{HoldTime: d, CallID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		var p InboundCallEndedPayload
		if err := json.Unmarshal(data, &p); err != nil || p.HoldTime != d {
			t.Errorf("%d encodes as %s, read back as %d, %v", d, data, p.HoldTime, err)
		}
	}
	var p InboundCallEndedPayload
	if err := json.Unmarshal([]byte(`{"hold_time":9223372036.854775808}`), &p); err == nil {
		t.Errorf("a hold time past the largest duration read as %d", p.HoldTime)
	}
}
