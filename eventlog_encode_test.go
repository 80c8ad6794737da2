package talkdesk

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// referenceLogLine is the stored line of ev as encoding/json writes its
// logLine: what encodeLogLine wrote before it wrote lines field by field,
// and must go on writing, byte for byte.
func referenceLogLine(ev *Event) ([]byte, error) {
	utc := *ev
	utc.OccurredAt, utc.ReceivedAt = ev.OccurredAt.UTC(), ev.ReceivedAt.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(logLine{plainEvent: (*plainEvent)(&utc), Warnings: ev.Warnings}); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sameLogLine fails t unless encodeLogLine and referenceLogLine agree on
// ev: the same line, or both an error.
func sameLogLine(t testing.TB, ev *Event) {
	t.Helper()
	got, gerr := encodeLogLine(ev)
	want, werr := referenceLogLine(ev)
	if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
		t.Fatalf("encodeLogLine:\n%s (%v)\nencoding/json:\n%s (%v)", got, gerr, want, werr)
	}
}

// hostileStrings are strings every escape of encoding/json meets.
var hostileStrings = []string{
	"", "plain", "José Simões 🎧", `a"b`, `back\slash`, "<&>", "line\nbreak\r\t", "\b\f\x00\x1f\x7f",
	"\u2028\u2029", "\xff\xfe", "a\xc3", "\xed\xa0\x80", "{\"x\":1}", strings.Repeat("é", 100),
}

// TestEncodeLogLineAsJSON: the stored lines of the fixtures, and of events
// with hostile strings in every field, odd bodies and warnings, are those
// encoding/json writes.
func TestEncodeLogLineAsJSON(t *testing.T) {
	for _, ev := range fixtureEvents(t) {
		sameLogLine(t, ev)
		withWarnings := *ev
		withWarnings.Warnings = []PayloadWarning{{Field: "hold_time", Value: "soon\n<b>", Reason: "not a duration"}, {Field: "é", Value: "\xff", Reason: "\u2028"}}
		sameLogLine(t, &withWarnings)
	}
	zone := time.FixedZone("Lisbon-ish", 3600)
	for _, s := range hostileStrings {
		ev := &Event{
			ID: s, Type: Trigger(s), Name: s, AccountID: s, InteractionID: s, CallID: s, ContactID: s, AgentID: s,
			OccurredAt: time.Date(2026, 3, 2, 9, 0, 0, 123456789, zone), ReceivedAt: time.Now(),
			Actor:    Actor{Type: ActorType(s), ID: s, Name: s, Email: s},
			Payload:  map[string]any{"k": s, s: []any{1.5, nil, true}},
			Raw:      json.RawMessage(`{"k":` + string(mustJSON(t, s)) + `}`),
			Warnings: []PayloadWarning{{Field: s, Value: s, Reason: s}},
		}
		sameLogLine(t, ev)
	}
	for _, raw := range []string{``, `null`, `{}`, ` { "a" : "b" } `, "{\"a\":\"b\"}\n", `{"a":1,"b":[1, 2]}`, `{"a":"b"`, `[1]`, `"s"`, `{"a":"\u00e9"}`, `{"a":"</script>"}`} {
		ev := &Event{ID: "e", Type: TriggerNoteCreated, OccurredAt: time.Unix(0, 0), ReceivedAt: time.Unix(1, 0), Raw: json.RawMessage(raw)}
		if raw == "" {
			ev.Raw = json.RawMessage{}
		}
		sameLogLine(t, ev)
	}
	sameLogLine(t, &Event{ID: "nil raw", Type: TriggerNoteCreated})
	sameLogLine(t, &Event{ID: "typed nil payload", Payload: (*NotePayload)(nil)})
	sameLogLine(t, &Event{ID: "year 10000", OccurredAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzEncodeLogLine: for any strings and any body, encodeLogLine writes
// what encoding/json writes.
func FuzzEncodeLogLine(f *testing.F) {
	for _, s := range hostileStrings {
		f.Add(s, []byte(`{"a":"`+s+`"}`), int64(0))
	}
	f.Add("x", []byte(" {\"a\" : \"b c\"}\n"), int64(1e18))
	f.Fuzz(func(t *testing.T, s string, raw []byte, nanos int64) {
		ev := &Event{
			ID: s, Type: TriggerInboundCallEnds, Name: s, ContactID: s,
			OccurredAt: time.Unix(0, nanos), ReceivedAt: time.Unix(0, -nanos),
			Actor: Actor{Type: ActorAgent, Name: s}, Payload: s, Raw: raw,
		}
		if len(s)%3 == 0 {
			ev.Warnings = []PayloadWarning{{Field: s, Value: s, Reason: s}}
		}
		sameLogLine(t, ev)
	})
}

// FuzzStringObjectShape: what stringObjectShape calls an object of
// strings, scanStringObject and readMembers read; what it calls compact,
// json.Compact leaves as it is.
func FuzzStringObjectShape(f *testing.F) {
	for _, s := range stringObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok, compact := stringObjectShape(data)
		if !ok {
			return
		}
		if !scanStringObject(data, map[string]string{}) {
			t.Fatalf("stringObjectShape(%q) but scanStringObject refuses it", data)
		}
		if _, err := readMembers(data, nullKeeps); err != nil {
			t.Fatalf("stringObjectShape(%q) but readMembers: %v", data, err)
		}
		var c bytes.Buffer
		if err := json.Compact(&c, data); err != nil || compact != bytes.Equal(c.Bytes(), data) {
			t.Fatalf("stringObjectShape(%q): compact %v; json.Compact gives %q, %v", data, compact, c.Bytes(), err)
		}
	})
}

// TestStringObjectShapeTakesDeliveries: the fast check is taken for
// Talkdesk's bodies (FuzzStringObjectShape would pass if it took none).
func TestStringObjectShapeTakesDeliveries(t *testing.T) {
	delivery := `{"event":"call_finished","call_id":"CA8df49401","interaction_id":"int-1","total_duration":"175",` +
		`"start_time":"2026-12-05T06:01:42Z","timestamp":"2026-12-05T06:04:16Z","tags":"support, vip",` +
		`"contact_name":"José Simões 🎧","recording_url":"{{recording_url}}","content":"Line one\r\nLine \"two\" \/ \\"}`
	for _, s := range []string{`{}`, `{"a":"b"}`, delivery} {
		if ok, compact := stringObjectShape([]byte(s)); !ok || !compact {
			t.Errorf("stringObjectShape(%s) = %v, %v; want an object of strings, compact", s, ok, compact)
		}
	}
	if ok, compact := stringObjectShape([]byte(` {"a" : "b"}`)); !ok || compact {
		t.Errorf("stringObjectShape with spaces = %v, %v; want an object of strings, not compact", ok, compact)
	}
	if ok, _ := stringObjectShape([]byte("{" + strings.Repeat(`"k":"v",`, maxMembers) + `"k":"v"}`)); ok {
		t.Error("stringObjectShape takes an object of more members than readMembers reads")
	}
}

// deliveryBody is a body as Talkdesk delivers inboundCallEnds: every
// value a string, placeholders left as they were.
const deliveryBody = `{"event":"call_finished","call_id":"CA8df4940100000000000000000000000000","interaction_id":"int-8df49401-000000",` +
	`"contact_id":"ct-joana","account_id":"acme-5d1c","agent_id":"ag-miguel","contact_phone_number":"+351912345678",` +
	`"total_duration":"175","duration":"154","waiting_time":"21","hold_time":"12","in_business_hours":"true",` +
	`"recording_url":"{{recording_url}}","hangup":"agent","start_time":"2026-12-05T06:01:42Z","timestamp":"2026-12-05T06:04:16Z",` +
	`"interaction_context_id":"{{interaction_context_id}}","proactive_outbound":"{{proactive_outbound}}","tags":"support, vip",` +
	`"talkdesk_phone_number":"+14155550100","agent_name":"Miguel Santos","agent_email":"miguel.santos@acme.example",` +
	`"agent_tags":"support, tier2","contact_first_name":"Joana","contact_last_name":"{{contact.last_name}}",` +
	`"contact_name":"Joana Ferreira","contact_email":"{{contact.email}}","contact_phone":"+351912345678",` +
	`"contact_company":"{{contact.company}}","contact_title":"{{contact.title}}","contact_address":"{{contact.address}}",` +
	`"contact_website":"{{contact.website}}","phone_vip":"{{phone.vip}}","phone_ivr":"{{phone.ivr}}","interaction_type":"inbound",` +
	`"account_email":"{{account.email}}","account_name":"{{account.name}}"}`

// BenchmarkCheckEvent measures what an append costs before the lock:
// checkEvent (the stored line, and the check that it reads back) of a
// delivery as Talkdesk sends it, against encoding/json's line and
// readMembers' check, which it did before.
func BenchmarkCheckEvent(b *testing.B) {
	ev, err := ParseEvent(TriggerInboundCallEnds, []byte(deliveryBody))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=checkEvent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := checkEvent(b.Context(), ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=encoding-json+readMembers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := referenceLogLine(ev); err != nil {
				b.Fatal(err)
			}
			if _, err := readMembers(ev.Raw, nullKeeps); err != nil {
				b.Fatal(err)
			}
		}
	})
}
