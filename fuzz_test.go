package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// FuzzParseEvent feeds arbitrary bodies to ParseEvent. It must not panic;
// it must accept exactly the JSON objects encoding/json accepts (up to the
// nesting limit), read every string field as json.Unmarshal does, give the
// same ID twice, and return events that survive json.Marshal and back.
// The seed corpus is in testdata/fuzz/FuzzParseEvent.
func FuzzParseEvent(f *testing.F) {
	triggers := Triggers()
	f.Add(uint8(7), []byte(`{"call_id":"c1","hold_time":"00:00:12","tags":"a,b"}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tr := triggers[int(which)%len(triggers)]
		ev, err := parseEvent(tr, body, received)
		var asMap map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		isObject := dec.Decode(&asMap) == nil && asMap != nil && !dec.More()
		if isObject {
			_, err := dec.Token()
			isObject = err == io.EOF && json.Valid(body)
		}
		if err != nil {
			if isObject && bytes.Count(body, []byte(":")) <= maxMembers {
				t.Fatalf("ParseEvent rejected a JSON object: %v", err)
			}
			return
		}
		if !isObject {
			t.Fatalf("ParseEvent accepted a body encoding/json does not read as an object: %q", body)
		}
		again, _ := parseEvent(tr, body, received)
		if again.ID != ev.ID {
			t.Fatalf("the same body got IDs %s and %s", ev.ID, again.ID)
		}
		spec := triggerInfos[tr].spec
		v := reflect.ValueOf(ev.Payload).Elem()
		for _, fld := range spec.fields {
			s, ok := asMap[fld.key].(string)
			if !ok || fld.kind != kindString {
				continue
			}
			want := s
			if unset(s) {
				want = ""
			}
			if got := v.Field(fld.index).String(); got != want {
				t.Fatalf("%s = %q, encoding/json reads %q", fld.key, got, want)
			}
		}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("json.Marshal of the event: %v", err)
		}
		var back Event
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("json.Unmarshal of the event: %v", err)
		}
	})
}

// FuzzWebhookHandler sends arbitrary requests to a WebhookHandler. It must
// not panic and must answer with one of its documented statuses, 200 only
// for a POST of a JSON object with the right token.
// The seed corpus is in testdata/fuzz/FuzzWebhookHandler.
func FuzzWebhookHandler(f *testing.F) {
	f.Add("POST", "/hooks/inboundCallEnds?token=s", "application/json", []byte(`{"call_id":"c1"}`))
	f.Fuzz(func(t *testing.T, method, target, contentType string, body []byte) {
		h := NewWebhookHandler(WithWebhookSecret("s"), WithMaxBodyBytes(1<<12))
		h.HandleAll(func(ctx context.Context, ev *Event) error {
			if ev.ID == "" || ev.Payload == nil {
				t.Fatalf("dispatched an event without ID or payload")
			}
			return nil
		})
		r, err := http.NewRequest(method, "http://hooks.example.com", bytes.NewReader(body))
		if err != nil {
			return
		}
		r.RequestURI = target
		if u, err := r.URL.Parse(target); err == nil {
			r.URL = u
		} else {
			return
		}
		r.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case 200:
			if method != "POST" || h.Verify(r) != nil || !isJSONContentType(contentType) {
				t.Fatalf("200 for %s %s %q", method, target, contentType)
			}
		case 400, 401, 404, 405, 413, 415:
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
