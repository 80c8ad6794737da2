package talkdesk_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// FuzzEventLogHandler sends the handler any method, path, query and
// headers: it never panics and never answers 500 (the memory log does not
// fail), and every answer is JSON, JSON Lines or a stream.
func FuzzEventLogHandler(f *testing.F) {
	f.Add("GET", "/events", "agent_id=agent-1&limit=2", "", "", "Bearer k")
	f.Add("GET", "/events", "type=agentLogIn,inboundCallEnds&since=2026-03-02T09:00:00Z&until=2026-03-03T00:00:00Z", "application/x-ndjson", "", "Bearer k")
	f.Add("GET", "/events/stream", "type=noteCreated", "", "x", "Bearer k")
	f.Add("HEAD", "/events", "cursor=AAAA&limit=1000", "", "", "Bearer k")
	f.Add("POST", "/events", "", "", "", "bearer k")
	f.Add("GET", "/events", "limit=1001&since=%zz", "*/*;q=0", "", "Basic k")
	log, err := talkdesk.OpenEventLog("")
	if err != nil {
		f.Fatal(err)
	}
	for _, body := range []string{`{"agent_id":"agent-1"}`, `{"agent_id":"agent-2"}`} {
		ev, _ := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, []byte(body))
		log.Append(context.Background(), ev)
	}
	h, err := talkdesk.NewEventLogHandler(log, talkdesk.WithAPIKeys("k"), talkdesk.WithHeartbeat(time.Millisecond))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, path, query, accept, lastID, auth string) {
		req, err := http.NewRequest(method, "http://example.com/", nil)
		if err != nil {
			return // not a request net/http would deliver
		}
		req.URL.Path, req.URL.RawQuery = path, query
		req.Header.Set("Accept", accept)
		req.Header.Set("Last-Event-ID", lastID)
		req.Header.Set("Authorization", auth)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req.WithContext(ctx))
		switch ct := w.Header().Get("Content-Type"); {
		case w.Code == http.StatusInternalServerError:
			t.Fatalf("%s %s?%s: 500 %s", method, path, query, w.Body)
		case w.Code != http.StatusOK && method != http.MethodHead:
			var e struct{ Error string }
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s?%s: %d with a body that is not a JSON error: %q", method, path, query, w.Code, w.Body)
			}
		case w.Code == http.StatusOK && ct == "application/json" && method != http.MethodHead:
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("%s %s?%s: a page that is not JSON", method, path, query)
			}
		}
	})
}
