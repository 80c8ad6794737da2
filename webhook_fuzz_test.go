package talkdesk

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

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
