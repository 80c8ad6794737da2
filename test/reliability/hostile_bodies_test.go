package reliability_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
)

// Hostile bodies for the WebhookHandler and the ActionServer: each request
// must get its 4xx (or the documented success), within a deadline, without
// a panic, allocating at most hostileAllocFactor times the body limit.

// hostileLimit is the body limit of both servers in these tests: half the
// default, so that the tests run quickly under the race detector.
const hostileLimit = 512 << 10

// hostileAllocFactor bounds what one hostile request may allocate, in
// multiples of the body limit. The most measured is under 12 for the
// WebhookHandler with an EventLog (an escaped string up to the limit: read,
// kept as Event.Raw, unescaped into the payload, encoded in the log's line)
// and under 11 for the ActionServer (an auth hash of 60,000 keys); the
// rest is headroom. Before the fixes that came with these tests, some
// bodies cost 95 times the limit. Under the race detector sync.Pool drops
// buffers that encoding/json would reuse: up to 18 times the limit there.
func hostileAllocFactor() uint64 {
	if raceEnabled {
		return 32
	}
	return 16
}

// hostileDeadline is how long one request may take before it counts as a
// hang. It is not a speed goal: the slowest takes milliseconds.
const hostileDeadline = 30 * time.Second

// fillTo returns pre + unit repeated + post, as long as it can be without
// exceeding n bytes.
func fillTo(n int, pre, unit, post string) []byte {
	k := (n - len(pre) - len(post)) / len(unit)
	return []byte(pre + strings.Repeat(unit, k) + post)
}

// exactly returns pre + 'x' repeated + post, of exactly n bytes.
func exactly(n int, pre, post string) []byte {
	return []byte(pre + strings.Repeat("x", n-len(pre)-len(post)) + post)
}

// hostileRequest is one request of a hostile test.
type hostileRequest struct {
	method, target string
	header         http.Header
	body           []byte
	chunked        bool // send without Content-Length
}

// serveHostile runs req through h in a goroutine, failing the test when it
// panics or outlives hostileDeadline, and returns the answer and the bytes
// the process allocated meanwhile.
func serveHostile(t *testing.T, h http.Handler, req hostileRequest) (*httptest.ResponseRecorder, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileDeadline)
	defer cancel()
	var body io.Reader = bytes.NewReader(req.body)
	if req.chunked {
		body = io.MultiReader(body) // hides the length
	}
	r := httptest.NewRequestWithContext(ctx, req.method, req.target, body)
	if req.chunked {
		r.ContentLength = -1
	}
	for k, v := range req.header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		h.ServeHTTP(w, r)
	}()
	select {
	case v := <-done:
		runtime.ReadMemStats(&after)
		if v != nil {
			t.Fatalf("ServeHTTP panicked: %v", v)
		}
	case <-ctx.Done():
		t.Fatalf("ServeHTTP still running after %s", hostileDeadline)
	}
	return w, after.TotalAlloc - before.TotalAlloc
}

func nested(levels int, open, close, inner string) string {
	return strings.Repeat(open, levels) + inner + strings.Repeat(close, levels)
}

// TestWebhookHostileBodies sends hostile bodies to a WebhookHandler that
// stores events in a file-backed EventLog, then reopens the log: whatever
// was accepted reads back.
func TestWebhookHostileBodies(t *testing.T) {
	const limit = hostileLimit
	type check func(t *testing.T, ev *talkdesk.Event)
	call := func(f func(t *testing.T, p *talkdesk.InboundCallEndedPayload, ev *talkdesk.Event)) check {
		return func(t *testing.T, ev *talkdesk.Event) {
			f(t, ev.Payload.(*talkdesk.InboundCallEndedPayload), ev)
		}
	}
	warned := func(fields ...string) func(t *testing.T, ev *talkdesk.Event) {
		return func(t *testing.T, ev *talkdesk.Event) {
			var got []string
			for _, w := range ev.Warnings {
				got = append(got, w.Field)
			}
			if diff := cmp.Diff(fields, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s\n%v", diff, ev.Warnings)
			}
		}
	}
	tests := []struct {
		name    string
		body    []byte
		chunked bool
		status  int
		check   check
	}{
		// Nesting.
		{name: "arrays nested 100,000 deep", body: []byte(`{"tags":` + nested(100000, "[", "]", "") + `}`), status: 400},
		{name: "objects nested 100,000 deep", body: []byte(`{"":` + nested(100000, `{"":`, "}", "1") + `}`), status: 400},
		{name: "bare arrays nested 100,000 deep", body: []byte(nested(100000, "[", "]", "")), status: 400},
		{name: "unclosed arrays up to the limit", body: fillTo(limit, `{"a":`, "[", ""), status: 400},
		{name: "arrays nested 500 deep", body: []byte(`{"a":` + nested(500, "[", "]", "") + `}`), status: 200},
		// Size.
		{name: "string of exactly the limit", body: exactly(limit, `{"hangup":"`, `"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, _ *talkdesk.Event) {
				if len(p.Hangup) != limit-len(`{"hangup":""}`) {
					t.Errorf("hangup of %d bytes", len(p.Hangup))
				}
			})},
		{name: "string one byte over the limit", body: exactly(limit+1, `{"hangup":"`, `"}`), status: 413},
		{name: "string over the limit, chunked", body: exactly(limit+1, `{"hangup":"`, `"}`), chunked: true, status: 413},
		{name: "string of 8 times the limit, chunked", body: exactly(8*limit, `{"hangup":"`, `"}`), chunked: true, status: 413},
		{name: "escaped string up to the limit", body: fillTo(limit, `{"hangup":"`, `\u00e9`, `"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, _ *talkdesk.Event) {
				if !strings.HasPrefix(p.Hangup, "ééé") {
					t.Errorf("hangup %.20q...", p.Hangup)
				}
			})},
		{name: "key up to the limit", body: fillTo(limit, `{"`, "k", `":"v"}`), status: 200},
		// An object of more than 1024 members, repeated keys counted, is
		// refused: Talkdesk's have a few dozen.
		{name: "distinct keys up to the limit", body: manyKeys(limit), status: 400},
		{name: "1024 distinct keys", body: manyKeys(len(manyKeysOf(1024))), status: 200},
		{name: "1025 distinct keys", body: manyKeysOf(1025), status: 400},
		{name: "one key repeated up to the limit", body: fillTo(limit, `{"hangup":"0"`, `,"hangup":"1"`, `}`), status: 400},
		{name: "one key repeated 1024 times", body: []byte(`{"hangup":"0"` + strings.Repeat(`,"hangup":"1"`, 1023) + `}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, _ *talkdesk.Event) {
				if p.Hangup != "1" {
					t.Errorf("hangup %q, want the last value", p.Hangup)
				}
			})},
		{name: "number of half a million digits", body: fillTo(limit, `{"a":`, "7", `}`), status: 200},
		{name: "array of zeros up to the limit", body: fillTo(limit, `{"a":[0`, ",0", `]}`), status: 200},
		{name: "array of empty objects up to the limit", body: fillTo(limit, `{"a":[{}`, ",{}", `]}`), status: 200},
		{name: "array of empty arrays up to the limit", body: fillTo(limit, `{"a":[[]`, ",[]", `]}`), status: 200},
		{name: "objects of repeated keys up to the limit", body: fillTo(limit, `{"a":[{"k":1`, `,"k":1`, `}]}`), status: 200},
		{name: "tag list of 260,000 tags", body: fillTo(limit, `{"tags":"a`, ",a", `"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, ev *talkdesk.Event) {
				if p.Tags != nil || len(ev.Warnings) != 1 || ev.Warnings[0].Field != "tags" {
					t.Errorf("%d tags, warnings %v; want none and a warning", len(p.Tags), ev.Warnings)
				}
			})},
		{name: "tag array of 100,000 tags", body: fillTo(limit, `{"tags":["a"`, `,"a"`, `]}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, ev *talkdesk.Event) {
				if p.Tags != nil || len(ev.Warnings) != 1 || ev.Warnings[0].Field != "tags" {
					t.Errorf("%d tags, warnings %v; want none and a warning", len(p.Tags), ev.Warnings)
				}
			})},
		// Duplicate keys: the last wins, as in encoding/json.
		{name: "duplicate keys", body: []byte(`{"call_id":"CA-1","hangup":"agent","call_id":"CA-2"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, ev *talkdesk.Event) {
				if p.CallID != "CA-2" || ev.CallID != "CA-2" {
					t.Errorf("call_id %q, event %q; want the last, CA-2", p.CallID, ev.CallID)
				}
			})},
		// Encoding.
		{name: "invalid UTF-8 in a value", body: []byte("{\"hangup\":\"a\xffb\xc3\"}"), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, _ *talkdesk.Event) {
				if p.Hangup != "a\uFFFDb\uFFFD" {
					t.Errorf("hangup %q, want the bad bytes as U+FFFD", p.Hangup)
				}
			})},
		{name: "invalid UTF-8 in a key", body: []byte("{\"hang\xffup\":\"x\",\"call_id\":\"CA-3\"}"), status: 200},
		{name: "invalid UTF-8 outside strings", body: []byte("{\"a\":1\xff}"), status: 400},
		{name: "NUL in a string", body: []byte("{\"hangup\":\"a\x00b\"}"), status: 400},
		{name: "NUL after the object", body: []byte("{\"hangup\":\"a\"}\x00"), status: 400},
		{name: "escaped NUL", body: []byte(`{"hangup":"a\u0000b"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, _ *talkdesk.Event) {
				if p.Hangup != "a\x00b" {
					t.Errorf("hangup %q", p.Hangup)
				}
			})},
		{name: "byte order mark", body: []byte("\xef\xbb\xbf{\"hangup\":\"a\"}"), status: 400},
		{name: "lone surrogate escapes", body: []byte(`{"hangup":"\ud800\udc00\ud800x\udfff"}`), status: 200},
		// Types.
		{name: "wrong types everywhere", body: []byte(`{"event":1,"call_id":true,"duration":[1],"hold_time":{"s":1},` +
			`"waiting_time":-5,"total_duration":"soon","in_business_hours":"maybe","phone_vip":2,"start_time":{},` +
			`"timestamp":"yesterday","tags":7,"agent_tags":{"a":1},"account_id":null}`), status: 200,
			check: warned("total_duration", "duration", "waiting_time", "hold_time", "in_business_hours",
				"start_time", "timestamp", "agent_tags", "phone_vip")}, // in the payload's field order
		{name: "numbers that overflow", body: []byte(`{"duration":"99999999999","hold_time":"999999999:00:00",` +
			`"waiting_time":"9300000000","total_duration":"9223372036.854775808","start_time":"99999999999",` +
			`"timestamp":"9999999999999999","a":1e400,"b":-1e-400}`), status: 200,
			check: func(t *testing.T, ev *talkdesk.Event) {
				warned("total_duration", "duration", "waiting_time", "hold_time", "start_time", "timestamp")(t, ev)
				p := ev.Payload.(*talkdesk.InboundCallEndedPayload)
				if p.Duration != 0 || p.HoldTime != 0 || p.WaitingTime != 0 || p.TotalDuration != 0 || !p.StartTime.IsZero() || !p.Timestamp.IsZero() {
					t.Errorf("overflowing values were read: %+v", p)
				}
			}},
		{name: "largest duration and time", body: []byte(`{"duration":"9223372036.854775807","hold_time":"2562047:47:16.854775807",` +
			`"start_time":"2262-04-11T23:47:16.854775807Z","timestamp":"9223372036"}`), status: 200,
			check: call(func(t *testing.T, p *talkdesk.InboundCallEndedPayload, ev *talkdesk.Event) {
				last := time.Unix(0, 1<<63-1).UTC()
				if p.Duration != 1<<63-1 || p.HoldTime != 1<<63-1 || !p.StartTime.Equal(last) || !p.Timestamp.Equal(time.Unix(9223372036, 0)) || len(ev.Warnings) > 0 {
					t.Errorf("duration %d, hold %d, start %s, timestamp %s, warnings %v", p.Duration, p.HoldTime, p.StartTime, p.Timestamp, ev.Warnings)
				}
			})},
		// Not an object.
		{name: "empty body", body: nil, status: 400},
		{name: "spaces up to the limit", body: fillTo(limit, "", " ", ""), status: 400},
		{name: "digits up to the limit", body: fillTo(limit, "", "1", ""), status: 400},
		{name: "null", body: []byte("null"), status: 400},
		{name: "array", body: []byte(`[{"hangup":"a"}]`), status: 400},
		{name: "string", body: []byte(`"{}"`), status: 400},
		{name: "two objects", body: []byte(`{}{}`), status: 400},
		{name: "truncated object", body: []byte(`{"hangup":"agent"`), status: 400},
	}

	path := filepath.Join(t.TempDir(), "events.jsonl")
	events, err := talkdesk.OpenEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Close()
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret), talkdesk.WithEventLog(events), talkdesk.WithMaxBodyBytes(limit),
		talkdesk.WithWebhookLogger(slog.New(slog.DiscardHandler)))
	var mu sync.Mutex
	var last *talkdesk.Event
	h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		mu.Lock()
		last = ev
		mu.Unlock()
		return nil
	})
	request := func(body []byte, chunked bool) hostileRequest {
		return hostileRequest{
			method: "POST", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret,
			header: http.Header{"Content-Type": {"application/json"}}, body: body, chunked: chunked,
		}
	}
	serveHostile(t, h, request(testkit.EventFixture(t, "inboundCallEnds_complete.json"), false)) // warm up pools and caches
	accepted := 1
	var most uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			last = nil
			mu.Unlock()
			w, alloc := serveHostile(t, h, request(tt.body, tt.chunked))
			t.Logf("%d bytes: %d, allocated %.2f MiB (%.1f× the limit)", len(tt.body), w.Code, float64(alloc)/(1<<20), float64(alloc)/limit)
			most = max(most, alloc)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if alloc > hostileAllocFactor()*limit {
				t.Errorf("allocated %d bytes, more than %d× the limit", alloc, hostileAllocFactor())
			}
			mu.Lock()
			ev := last
			mu.Unlock()
			if (ev != nil) != (tt.status == 200) {
				t.Fatalf("status %d, handled: %v", w.Code, ev != nil)
			}
			if ev == nil {
				return
			}
			accepted++
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
	t.Logf("most allocated by one request: %.2f MiB (%.1f× the limit)", float64(most)/(1<<20), float64(most)/limit)

	// What was accepted is stored, and reads back.
	if err := events.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := talkdesk.OpenEventLog(path)
	if err != nil {
		t.Fatalf("reopening the log of hostile events: %v", err)
	}
	defer reopened.Close()
	n := 0
	for ev, err := range reopened.Events(context.Background(), talkdesk.EventQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID == "" || ev.Type != talkdesk.TriggerInboundCallEnds || !json.Valid(ev.Raw) {
			t.Errorf("stored event %s %s, raw %.40q", ev.ID, ev.Type, ev.Raw)
		}
		n++
	}
	if n != accepted {
		t.Errorf("the log holds %d events, want the %d accepted", n, accepted)
	}
}

// manyKeys returns an object of distinct keys with empty values, up to n
// bytes.
// manyKeysOf returns an object of n members with distinct keys.
func manyKeysOf(n int) []byte {
	b := []byte("{")
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `"k%d":""`, i)
	}
	return append(b, '}')
}

func manyKeys(n int) []byte {
	b := []byte("{")
	for i := 0; ; i++ {
		member := fmt.Sprintf(`"k%d":""`, i)
		if len(b)+len(member)+2 > n {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, member...)
	}
	return append(b, '}')
}

// TestActionServerHostileBodies sends hostile bodies to an ActionServer:
// every one gets its status and message, the action sees what encoding/json
// would give it, and no request allocates more than hostileAllocFactor
// times the body limit.
func TestActionServerHostileBodies(t *testing.T) {
	const limit = hostileLimit
	const (
		badJSON   = "request body is not valid JSON"
		notObject = "request body must be a JSON object"
		tooLarge  = "request body is larger than 524288 bytes"
	)
	type seen struct {
		Auth map[string]string
		Meta talkdesk.ActionMeta
		Data int // bytes
	}
	tests := []struct {
		name    string
		action  string
		body    []byte
		chunked bool
		status  int
		message string // of a 400; "" for a 201
		seen    *seen  // what the action got, when it ran
	}{
		// Nesting.
		{name: "data nested 100,000 deep", body: []byte(`{"data":{"a":` + nested(100000, "[", "]", "") + `}}`), status: 400, message: badJSON},
		{name: "auth nested 100,000 deep", body: []byte(`{"auth":` + nested(100000, `{"":`, "}", "1") + `}`), status: 400, message: badJSON},
		{name: "bare arrays nested 100,000 deep", body: []byte(nested(100000, "[", "]", "")), status: 400, message: badJSON},
		{name: "unclosed objects up to the limit", body: fillTo(limit, `{"data":`, `{"a":`, ""), status: 400, message: badJSON},
		{name: "data nested 500 deep", body: []byte(`{"data":{"a":` + nested(500, "[", "]", "") + `}}`), status: 201,
			seen: &seen{Data: len(`{"a":`) + 1000 + 1}},
		// Size.
		{name: "data of exactly the limit", body: exactly(limit, `{"data":{"s":"`, `"}}`), status: 201, seen: &seen{Data: limit - len(`{"data":}`)}},
		{name: "data one byte over the limit", body: exactly(limit+1, `{"data":{"s":"`, `"}}`), status: 400, message: tooLarge},
		{name: "over the limit, chunked", body: exactly(limit+1, `{"data":{"s":"`, `"}}`), chunked: true, status: 400, message: tooLarge},
		{name: "8 times the limit, chunked", body: exactly(8*limit, `{"data":{"s":"`, `"}}`), chunked: true, status: 400, message: tooLarge},
		{name: "escaped auth value up to the limit", body: fillTo(limit, `{"auth":{"token":"`, `\u00e9`, `"}}`), status: 201},
		{name: "distinct auth keys up to the limit", body: append([]byte(`{"auth":`), append(manyKeys(limit-len(`{"auth":}`)), '}')...), status: 400,
			message: "auth has more than 1024 fields"},
		{name: "1024 distinct auth keys", body: append([]byte(`{"auth":`), append(manyKeysOf(1024), '}')...), status: 201},
		{name: "auth key up to the limit with an object", body: fillTo(limit, `{"auth":{"`, "k", `":{}}}`), status: 400,
			message: `auth field "` + strings.Repeat("k", 64) + `..." must be a string, number or boolean`},
		{name: "array of zeros up to the limit", body: fillTo(limit, `{"data":{"a":[0`, ",0", `]}}`), status: 201},
		{name: "digits up to the limit", body: fillTo(limit, "", "1", ""), status: 400, message: notObject},
		{name: "spaces up to the limit", body: fillTo(limit, "", " ", ""), status: 400, message: badJSON},
		// Duplicate keys: the last wins, as in encoding/json.
		{name: "duplicate keys", body: []byte(`{"auth":{"password":"first","password":"last"},"meta":{"contact_external_id":"1","contact_external_id":"2"}}`),
			status: 201, seen: &seen{Auth: map[string]string{"password": "last"}, Meta: talkdesk.ActionMeta{ContactExternalID: "2"}}},
		{name: "one auth key repeated up to the limit", body: fillTo(limit, `{"auth":{"k":"0"`, `,"k":"1"`, `}}`), status: 400,
			message: "auth has more than 1024 fields"},
		{name: "one auth key repeated 1024 times", body: []byte(`{"auth":{"k":"0"` + strings.Repeat(`,"k":"1"`, 1023) + `}}`), status: 201,
			seen: &seen{Auth: map[string]string{"k": "1"}}},
		// Encoding.
		{name: "invalid UTF-8 in auth and meta", body: []byte("{\"auth\":{\"user\":\"a\xffb\"},\"meta\":{\"agent_external_id\":\"\xc3\"}}"), status: 201,
			seen: &seen{Auth: map[string]string{"user": "a\uFFFDb"}, Meta: talkdesk.ActionMeta{AgentExternalID: "\uFFFD"}}},
		{name: "invalid UTF-8 outside strings", body: []byte("{\"data\":{}\xff}"), status: 400, message: badJSON},
		{name: "NUL in a string", body: []byte("{\"auth\":{\"user\":\"a\x00\"}}"), status: 400, message: badJSON},
		{name: "NUL after the object", body: []byte("{}\x00"), status: 400, message: badJSON},
		{name: "escaped NUL", body: []byte(`{"auth":{"user":"a\u0000b"}}`), status: 201, seen: &seen{Auth: map[string]string{"user": "a\x00b"}}},
		{name: "byte order mark", body: []byte("\xef\xbb\xbf{}"), status: 400, message: badJSON},
		// Types.
		{name: "auth an array", body: []byte(`{"auth":[]}`), status: 400, message: "auth must be a JSON object"},
		{name: "meta a string", body: []byte(`{"meta":"1"}`), status: 400, message: "meta must be a JSON object"},
		{name: "data an array", body: []byte(`{"data":[{}]}`), status: 400, message: "data must be a JSON object"},
		{name: "data a number", body: []byte(`{"data":1}`), status: 400, message: "data must be a JSON object"},
		{name: "auth value an array", body: []byte(`{"auth":{"k":[]}}`), status: 400, message: `auth field "k" must be a string, number or boolean`},
		{name: "meta value an object", body: []byte(`{"meta":{"contact_external_id":{}}}`), status: 400, message: `meta field "contact_external_id" must be a string`},
		{name: "data field of the wrong type", action: "bind", body: []byte(`{"data":{"priority":"high"}}`), status: 400,
			message: `data field "priority": want integer, got string`},
		{name: "data field that overflows", action: "bind", body: []byte(`{"data":{"priority":1e400}}`), status: 400,
			message: `data field "priority": want integer, got number 1e400`},
		{name: "numbers that overflow in auth", body: []byte(`{"auth":{"pin":1e400,"n":-123456789012345678901234567890}}`), status: 201,
			seen: &seen{Auth: map[string]string{"pin": "1e400", "n": "-123456789012345678901234567890"}}},
		{name: "null", body: []byte("null"), status: 400, message: notObject},
		{name: "array", body: []byte(`[]`), status: 400, message: notObject},
		{name: "empty body", body: nil, status: 400, message: badJSON},
		{name: "two objects", body: []byte(`{}{}`), status: 400, message: badJSON},
	}

	var mu sync.Mutex
	var got *seen
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)), talkdesk.WithActionMaxBodyBytes(limit))
	srv.Handle("run", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		mu.Lock()
		got = &seen{Auth: req.Auth, Meta: req.Meta, Data: len(req.Data)}
		mu.Unlock()
		return &talkdesk.ActionResult{Message: "done"}, nil
	})
	srv.Handle("bind", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in struct {
			Priority int `json:"priority"`
		}
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		return &talkdesk.ActionResult{}, nil
	})
	serveHostile(t, srv, hostileRequest{method: "POST", target: "/run", body: []byte(`{"auth":{"a":"b"},"data":{}}`)}) // warm up
	var most uint64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			action := tt.action
			if action == "" {
				action = "run"
			}
			w, alloc := serveHostile(t, srv, hostileRequest{method: "POST", target: "/" + action, body: tt.body, chunked: tt.chunked})
			t.Logf("%d bytes: %d, allocated %.2f MiB (%.1f× the limit)", len(tt.body), w.Code, float64(alloc)/(1<<20), float64(alloc)/float64(limit))
			most = max(most, alloc)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var answer map[string]string
			if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
				t.Fatalf("answer %q: %v", w.Body, err)
			}
			if tt.status == 400 {
				if diff := cmp.Diff(map[string]string{"message": tt.message}, answer); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			}
			if alloc > hostileAllocFactor()*uint64(limit) {
				t.Errorf("allocated %d bytes, more than %d× the limit", alloc, hostileAllocFactor())
			}
			mu.Lock()
			g := got
			mu.Unlock()
			if action == "run" && (g != nil) != (tt.status == 201) {
				t.Fatalf("status %d, action ran: %v", w.Code, g != nil)
			}
			if tt.seen != nil {
				if diff := cmp.Diff(tt.seen, g); diff != "" {
					t.Errorf("the action got (-want +got):\n%s", diff)
				}
			}
		})
	}
	t.Logf("most allocated by one request: %.2f MiB (%.1f× the limit)", float64(most)/(1<<20), float64(most)/float64(limit))
}
