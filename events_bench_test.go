package talkdesk

import (
	"encoding/json"
	"testing"
)

// BenchmarkParseEvent compares ParseEvent on an inboundCallEnds payload
// with json.Unmarshal of the same bytes into a map[string]string, the
// least a hand-written receiver does (it types nothing and computes no ID).
func BenchmarkParseEvent(b *testing.B) {
	body := readEventFixture(b, "inboundCallEnds_complete.json")
	b.Run("impl=ParseEvent", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			ev, err := ParseEvent(TriggerInboundCallEnds, body)
			if err != nil || ev.CallID == "" {
				b.Fatal(ev, err)
			}
		}
	})
	b.Run("impl=map-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var m map[string]string
			if err := json.Unmarshal(body, &m); err != nil || m["call_id"] == "" {
				b.Fatal(m, err)
			}
		}
	})
}
