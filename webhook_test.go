package talkdesk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
)

// TestWebhookStatuses sends one request per rule of the handler and checks
// the status and that nothing was dispatched unless all checks passed.
func TestWebhookStatuses(t *testing.T) {
	good := testkit.EventFixture(t, "inboundCallEnds_complete.json")
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        []byte
		chunked     bool
		handlerErr  error
		panics      bool
		want        int
		dispatched  bool
	}{
		{name: "ok", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, want: 200, dispatched: true},
		{name: "ok with charset", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, contentType: "application/json; charset=utf-8", want: 200, dispatched: true},
		{name: "ok with +json", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, contentType: "application/vnd.talkdesk+json", want: 200, dispatched: true},
		{name: "unknown trigger", target: "/hooks/callCreated?token=" + testkit.WebhookSecret, want: 404},
		{name: "no trigger", target: "/hooks/?token=" + testkit.WebhookSecret, want: 404},
		{name: "trigger not last", target: "/hooks/inboundCallEnds/x?token=" + testkit.WebhookSecret, want: 404},
		{name: "GET", method: "GET", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: []byte{}, want: 405},
		{name: "PUT", method: "PUT", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, want: 405},
		{name: "no token", target: "/hooks/inboundCallEnds", want: 401},
		{name: "wrong token", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret + "x", want: 401},
		{name: "token prefix", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret[:5], want: 401},
		{name: "two tokens", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret + "&token=" + testkit.WebhookSecret, want: 401},
		{name: "token elsewhere", target: "/hooks/inboundCallEnds?secret=" + testkit.WebhookSecret, want: 401},
		{name: "no content type", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, contentType: "-", want: 415},
		{name: "text/plain", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, contentType: "text/plain", want: 415},
		{name: "form", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, contentType: "application/x-www-form-urlencoded", want: 415},
		{name: "too large", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: bytes.Repeat([]byte(" "), 4097), want: 413},
		{name: "too large, chunked", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: append([]byte(`{"a":"`), bytes.Repeat([]byte("x"), 5000)...), chunked: true, want: 413},
		{name: "malformed", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: []byte(`{"call_id":`), want: 400},
		{name: "not an object", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: []byte(`["call_id"]`), want: 400},
		{name: "empty", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, body: []byte{}, want: 400},
		{name: "handler error", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, handlerErr: errors.New("database down"), want: 500, dispatched: true},
		{name: "handler panic", target: "/hooks/inboundCallEnds?token=" + testkit.WebhookSecret, panics: true, want: 500, dispatched: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret), talkdesk.WithMaxBodyBytes(4096))
			var calls atomic.Int32
			h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
				calls.Add(1)
				if tt.panics {
					panic("handler bug")
				}
				return tt.handlerErr
			})
			method, body, ct := "POST", good, "application/json"
			if tt.method != "" {
				method = tt.method
			}
			if tt.body != nil {
				body = tt.body
			}
			if tt.contentType != "" {
				ct = tt.contentType
			}
			r := httptest.NewRequest(method, tt.target, bytes.NewReader(body))
			if ct != "-" {
				r.Header.Set("Content-Type", ct)
			}
			if tt.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d (%s)", w.Code, tt.want, strings.TrimSpace(w.Body.String()))
			}
			if tt.want == 405 && w.Header().Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", w.Header().Get("Allow"))
			}
			if got := calls.Load() > 0; got != tt.dispatched {
				t.Errorf("dispatched = %v, want %v", got, tt.dispatched)
			}
			if strings.Contains(w.Body.String(), testkit.WebhookSecret) || strings.Contains(w.Body.String(), "database down") {
				t.Errorf("the answer shows the secret or the handler's error: %q", w.Body.String())
			}
		})
	}
}

func TestWebhookWithoutSecretAcceptsAnyToken(t *testing.T) {
	h := talkdesk.NewWebhookHandler()
	for _, target := range []string{"/agentLogIn", "/x/agentLogIn?token=whatever"} {
		r := httptest.NewRequest("POST", target, bytes.NewReader(testkit.EventFixture(t, "agentLogIn_complete.json")))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Errorf("%s: status %d", target, w.Code)
		}
	}
}

func deliver(t *testing.T, h http.Handler, trigger talkdesk.Trigger, body []byte) int {
	t.Helper()
	r := httptest.NewRequest("POST", "/hooks/"+string(trigger)+"?token="+testkit.WebhookSecret, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// TestWebhookRedelivery: a failed handler gives 500, the redelivery runs it
// again, and once it succeeded a further redelivery is recognised by its
// ID and not handled again.
func TestWebhookRedelivery(t *testing.T) {
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret))
	var ids []string
	fail := true
	h.Handle(talkdesk.TriggerInboundCallEnds, func(ctx context.Context, ev *talkdesk.Event) error {
		ids = append(ids, ev.ID)
		if fail {
			fail = false
			return errors.New("temporary failure")
		}
		return nil
	})
	body := testkit.EventFixture(t, "inboundCallEnds_complete.json")
	for i, want := range []int{500, 200, 200, 200} {
		if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, body); got != want {
			t.Fatalf("delivery %d: status %d, want %d", i+1, got, want)
		}
	}
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Fatalf("handler saw %v, want the same ID twice (the failure and the retry)", ids)
	}
	// Reformatted but the same payload: the same event.
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, append([]byte("\n "), body...)); got != 200 || len(ids) != 2 {
		t.Fatalf("reformatted redelivery: status %d, handler ran %d times", got, len(ids))
	}
	// A different event is handled.
	other := testkit.EventFixture(t, "inboundCallEnds_odd.json")
	if got := deliver(t, h, talkdesk.TriggerInboundCallEnds, other); got != 200 || len(ids) != 3 || ids[2] == ids[0] {
		t.Fatalf("another event: status %d, handler saw %v", got, ids)
	}
}

// TestWebhookConcurrentRedelivery: a redelivery that arrives while the
// first delivery is being handled waits for it instead of running the
// handler a second time.
func TestWebhookConcurrentRedelivery(t *testing.T) {
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret))
	entered := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int32
	h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return nil
	})
	body := testkit.EventFixture(t, "agentLogIn_complete.json")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	wg.Add(1)
	go func() { defer wg.Done(); codes[0] = deliver(t, h, talkdesk.TriggerAgentLogIn, body) }()
	<-entered
	wg.Add(1)
	go func() { defer wg.Done(); codes[1] = deliver(t, h, talkdesk.TriggerAgentLogIn, body) }()
	time.Sleep(10 * time.Millisecond) // let the second delivery reach the wait; correctness does not depend on it
	close(release)
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 || calls.Load() != 1 {
		t.Fatalf("codes %v, handler ran %d times; want 200, 200 and once", codes, calls.Load())
	}
}

func TestWebhookHandlersOrderAndFilter(t *testing.T) {
	h := talkdesk.NewWebhookHandler()
	var got []string
	rec := func(name string, err error) func(context.Context, *talkdesk.Event) error {
		return func(ctx context.Context, ev *talkdesk.Event) error {
			got = append(got, name+":"+string(ev.Type))
			return err
		}
	}
	h.Handle(talkdesk.TriggerAgentLogIn, rec("login", nil))
	h.HandleAll(rec("all", nil))
	h.Handle(talkdesk.TriggerAgentLogOut, rec("logout", errors.New("stop")))
	h.Handle(talkdesk.TriggerAgentLogOut, rec("never", nil))
	h.Handle(talkdesk.TriggerAgentLogOut, nil)
	ctx := context.Background()
	for _, tr := range []talkdesk.Trigger{talkdesk.TriggerAgentLogIn, talkdesk.TriggerAgentLogOut} {
		ev, err := talkdesk.ParseEvent(tr, testkit.EventFixture(t, string(tr)+"_complete.json"))
		if err != nil {
			t.Fatal(err)
		}
		err = h.Dispatch(ctx, ev)
		if (tr == talkdesk.TriggerAgentLogOut) != (err != nil) {
			t.Errorf("Dispatch %s: %v", tr, err)
		}
	}
	want := []string{"login:agentLogIn", "all:agentLogIn", "all:agentLogOut", "logout:agentLogOut"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handlers ran (-want +got):\n%s", diff)
	}
}

func TestWebhookDispatchPanic(t *testing.T) {
	h := talkdesk.NewWebhookHandler()
	h.HandleAll(func(context.Context, *talkdesk.Event) error { panic(fmt.Sprintf("bug %d", 7)) })
	ev, _ := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, testkit.EventFixture(t, "agentLogIn_complete.json"))
	err := h.Dispatch(context.Background(), ev)
	var pe *talkdesk.PanicError
	if !errors.As(err, &pe) || pe.Value != "bug 7" || len(pe.Stack) == 0 {
		t.Fatalf("Dispatch = %v, want a PanicError with the value and a stack", err)
	}
	if err := h.Dispatch(context.Background(), nil); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("Dispatch(nil) = %v", err)
	}
}

func TestWebhookVerify(t *testing.T) {
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret))
	for target, ok := range map[string]bool{
		"/x?token=" + testkit.WebhookSecret:     true,
		"/x?a=1&token=" + testkit.WebhookSecret: true,
		"/x":                                    false,
		"/x?token=":                             false,
		"/x?token=" + strings.ToUpper(testkit.WebhookSecret): false,
		"/x?token=%zz": false,
	} {
		err := h.Verify(httptest.NewRequest("POST", target, nil))
		if (err == nil) != ok {
			t.Errorf("Verify(%s) = %v, want ok %v", target, err, ok)
		}
		if err != nil && (!errors.Is(err, talkdesk.ErrWebhookToken) || !errors.Is(err, talkdesk.ErrUnauthorized) || strings.Contains(err.Error(), testkit.WebhookSecret)) {
			t.Errorf("Verify(%s) error %v", target, err)
		}
	}
}

func TestWebhookCallbackURL(t *testing.T) {
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret("a b&c/d"))
	got, err := h.CallbackURL("https://hooks.example.com/talkdesk/", talkdesk.TriggerNoteCreated)
	if want := "https://hooks.example.com/talkdesk/noteCreated?token=a+b%26c%2Fd"; err != nil || got != want {
		t.Errorf("CallbackURL = %q, %v; want %q", got, err, want)
	}
	plain := talkdesk.NewWebhookHandler()
	got, err = plain.CallbackURL("http://127.0.0.1:8080", talkdesk.TriggerAgentLogIn)
	if want := "http://127.0.0.1:8080/agentLogIn"; err != nil || got != want {
		t.Errorf("CallbackURL = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []struct {
		base string
		t    talkdesk.Trigger
	}{
		{"hooks.example.com", talkdesk.TriggerAgentLogIn},
		{"https://hooks.example.com/?x=1", talkdesk.TriggerAgentLogIn},
		{"https://hooks.example.com/#f", talkdesk.TriggerAgentLogIn},
		{"https://hooks.example.com", "agentLogin"},
	} {
		if _, err := h.CallbackURL(bad.base, bad.t); !errors.Is(err, talkdesk.ErrInvalid) || strings.Contains(err.Error(), "a b&c") {
			t.Errorf("CallbackURL(%q, %q) = %v, want ErrInvalid", bad.base, bad.t, err)
		}
	}
}

// TestWebhookSecretNeverShows formats the handler and runs requests that
// fail at every step with a logger on: no output carries the secret.
func TestWebhookSecretNeverShows(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret), talkdesk.WithWebhookLogger(logger), talkdesk.WithMaxBodyBytes(64))
	h.HandleAll(func(context.Context, *talkdesk.Event) error { return errors.New("fails") })
	for _, ct := range []string{"text/plain", "application/json"} {
		for _, body := range []string{`{"agent_id":"a"}`, `nope`, strings.Repeat("x", 100)} {
			for _, q := range []string{"?token=" + testkit.WebhookSecret, "?token=wrong", ""} {
				r := httptest.NewRequest("POST", "/hooks/agentLogIn"+q, strings.NewReader(body))
				r.Header.Set("Content-Type", ct)
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		}
	}
	out := logs.String() + fmt.Sprintf("%v %+v %#v %s", h, h, h, h)
	if strings.Contains(out, testkit.WebhookSecret) {
		t.Errorf("the secret shows:\n%s", out)
	}
	for _, want := range []string{"status=401", "status=415", "status=400", "status=413", "handler failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// TestWebhooksEndToEnd subscribes a handler to all nine triggers of the
// fake Talkdesk, emits one event of each, and checks what the handler
// received; then unsubscribes.
func TestWebhooksEndToEnd(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	client := testkit.FakeClient(t, srv)
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret))
	var mu sync.Mutex
	got := map[talkdesk.Trigger]*talkdesk.Event{}
	h.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		mu.Lock()
		got[ev.Type] = ev
		mu.Unlock()
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/", h)
	hooks := httptest.NewServer(mux)
	defer hooks.Close()

	ctx := context.Background()
	var subs []*talkdesk.Subscription
	for _, tr := range talkdesk.Triggers() {
		cb, err := h.CallbackURL(hooks.URL+"/talkdesk", tr)
		if err != nil {
			t.Fatal(err)
		}
		sub, err := client.Subscribe(ctx, tr, cb)
		if err != nil {
			t.Fatalf("Subscribe %s: %v", tr, err)
		}
		subs = append(subs, sub)
	}
	if diff := cmp.Diff(subs, ptrs(srv.Subscriptions())); diff != "" {
		t.Errorf("the fake's subscriptions differ (-client +fake):\n%s", diff)
	}
	fields := map[string]string{
		"event": "call_finished", "call_id": "c1", "interaction_id": "i1", "contact.id": "ct1", "contact_id": "ct1",
		"account_id": "acc1", "agent_id": "ag1", "agent.name": "Miguel", "agent.email": "m@acme.example",
		"agent.tags_list": "sales, vip", "hold_time": "00:00:12", "timestamp": "2024-05-06 10:14:19",
		"contact.name": "Joana", "contact.email": "j@example.pt", "in_business_hours": "yes", "tags": "a,b",
	}
	for _, tr := range talkdesk.Triggers() {
		if err := srv.Emit(ctx, tr, fields); err != nil {
			t.Fatalf("Emit %s: %v", tr, err)
		}
	}
	if len(got) != 9 {
		t.Fatalf("received %d triggers, want 9", len(got))
	}
	end := got[talkdesk.TriggerInboundCallEnds]
	p := end.Payload.(*talkdesk.InboundCallEndedPayload)
	if p.HoldTime != 12*time.Second || !end.OccurredAt.Equal(time.Date(2024, 5, 6, 10, 14, 19, 0, time.UTC)) ||
		p.InBusinessHours == nil || !*p.InBusinessHours || !cmp.Equal(p.AgentTags, []string{"sales", "vip"}) ||
		end.Actor != (talkdesk.Actor{Type: talkdesk.ActorAgent, ID: "ag1", Name: "Miguel", Email: "m@acme.example"}) ||
		end.InteractionID != "i1" || end.ContactID != "ct1" || p.RecordingURL != "" || p.ContactCompany != "" {
		t.Errorf("inboundCallEnds event: %+v\npayload %+v", end, p)
	}
	if strings.Contains(string(end.Raw), `"recording_url":"{{recording_url}}"`) == false {
		t.Errorf("Raw does not keep the unfilled template: %s", end.Raw)
	}
	contact := got[talkdesk.TriggerContactCreated]
	if contact.Actor != (talkdesk.Actor{Type: talkdesk.ActorContact, ID: "ct1", Name: "Joana", Email: "j@example.pt"}) {
		t.Errorf("contactCreated actor %+v", contact.Actor)
	}

	for _, sub := range subs {
		if err := client.Unsubscribe(ctx, sub.Trigger, sub.ID); err != nil {
			t.Fatalf("Unsubscribe: %v", err)
		}
	}
	if n := len(srv.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left", n)
	}
	if err := client.Unsubscribe(ctx, subs[0].Trigger, subs[0].ID); !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("second Unsubscribe = %v, want ErrNotFound", err)
	}
	if err := srv.Emit(ctx, talkdesk.TriggerAgentLogIn, nil); err == nil {
		t.Error("Emit without subscribers gave no error")
	}
}

func ptrs(subs []talkdesk.Subscription) []*talkdesk.Subscription {
	out := make([]*talkdesk.Subscription, len(subs))
	for i := range subs {
		out[i] = &subs[i]
	}
	return out
}

// TestWebhookClock: with WithWebhookClock, events are received at the
// clock's time, and an event without a time of its own occurs then.
func TestWebhookClock(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.FixedZone("WET+1", 3600))
	h := talkdesk.NewWebhookHandler(talkdesk.WithWebhookClock(func() time.Time { return at }))
	var got *talkdesk.Event
	h.HandleAll(func(_ context.Context, ev *talkdesk.Event) error { got = ev; return nil })
	r := httptest.NewRequest("POST", "/hooks/agentLogIn", strings.NewReader(`{"agent_id":"a-1"}`))
	r.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got == nil || !got.ReceivedAt.Equal(at) || got.ReceivedAt.Location() != time.UTC || !got.OccurredAt.Equal(at) {
		t.Errorf("event %+v, want received and occurred at %s, in UTC", got, at)
	}
}
