package talkdesktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// receiver records the bodies POSTed to it.
type receiver struct {
	*httptest.Server
	bodies [][]byte
	status int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{status: http.StatusOK}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery Content-Type %q", r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		rc.bodies = append(rc.bodies, b)
		w.WriteHeader(rc.status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func newClient(t *testing.T, srv *talkdesktest.Server) *talkdesk.Client {
	c, err := talkdesk.NewClient(append(srv.ClientOptions(), talkdesk.WithRateLimit(0, 0))...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmitFillsTemplates(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	rc := newReceiver(t)
	ctx := context.Background()
	if _, err := newClient(t, srv).Subscribe(ctx, talkdesk.TriggerAgentLogIn, rc.URL+"/agentLogIn?token=secret-token"); err != nil {
		t.Fatal(err)
	}
	err := srv.Emit(ctx, talkdesk.TriggerAgentLogIn, map[string]string{
		"agent_id":        "ag1",        // a template variable ({{agent_id}})
		"agent_name":      "Ana",        // a payload key ({{agent.name}} is not given)
		"agent.tags_list": "sales, vip", // a template variable
		"event":           "agent_login",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.bodies) != 1 {
		t.Fatalf("%d deliveries", len(rc.bodies))
	}
	// Every value a string, the unfilled template kept, the schema's order.
	want := `{"event":"agent_login","agent_email":"{{agent.email}}","agent_id":"ag1","agent_name":"Ana","agent_tags":"sales, vip"}`
	if got := string(rc.bodies[0]); got != want {
		t.Errorf("delivered\n %s\nwant\n %s", got, want)
	}
}

func TestEmitErrors(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	if err := srv.Emit(ctx, talkdesk.TriggerNoteCreated, nil); err == nil {
		t.Error("Emit without a subscriber gave no error")
	}
	rc := newReceiver(t)
	rc.status = http.StatusInternalServerError
	if _, err := newClient(t, srv).Subscribe(ctx, talkdesk.TriggerNoteCreated, rc.URL+"/x?token=secret-token"); err != nil {
		t.Fatal(err)
	}
	err := srv.Emit(ctx, talkdesk.TriggerNoteCreated, nil)
	if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("Emit to a failing receiver = %v, want an error naming 500 and not the token", err)
	}
	rc.Close()
	err = srv.Emit(ctx, talkdesk.TriggerNoteCreated, nil)
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("Emit to a closed receiver = %v, want an error without the token", err)
	}
}

// TestSubscribeChecksTheBody posts subscription bodies by hand: the fake
// insists on the callback field the connector uses for each trigger, a
// title and a JSON Schema message.
func TestSubscribeChecksTheBody(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	c := newClient(t, srv)
	// A token for raw requests: the client fetched one through the fake.
	if _, err := c.Subscribe(context.Background(), talkdesk.TriggerContactCreated, "https://hooks.example.com/a"); err != nil {
		t.Fatal(err)
	}
	token := srv.UserToken().AccessToken
	schema := `{"type":"object","required":["agent_id"],"properties":{"agent_id":{"type":"string","default":"{{agent_id}}"}}}`
	tests := []struct {
		name    string
		trigger string
		body    map[string]string
		want    int
	}{
		{"ok", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": schema}, 201},
		{"contactCreated wants callbackURL", "contactCreated", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": schema}, 400},
		{"others want callbackurl", "agentLogIn", map[string]string{"callbackURL": "https://h.example/x", "title": "t", "message": schema}, 400},
		{"relative callback", "agentLogIn", map[string]string{"callbackurl": "/x", "title": "t", "message": schema}, 400},
		{"no title", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "message": schema}, 400},
		{"no message", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "title": "t"}, 400},
		{"message not a schema", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": "{}"}, 400},
		{"property without template", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": `{"type":"object","properties":{"a":{"type":"string"}}}`}, 400},
		{"required not a property", "agentLogIn", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": `{"type":"object","required":["b"],"properties":{"a":{"type":"string","default":"{{a}}"}}}`}, 400},
		{"unknown trigger", "agentLogin", map[string]string{"callbackurl": "https://h.example/x", "title": "t", "message": schema}, 404},
	}
	for _, tt := range tests {
		body, _ := json.Marshal(tt.body)
		req, _ := http.NewRequest("POST", srv.URL+"/webhooks/triggers/"+tt.trigger, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	var triggers []talkdesk.Trigger
	for _, s := range srv.Subscriptions() {
		triggers = append(triggers, s.Trigger)
	}
	if diff := cmp.Diff([]talkdesk.Trigger{talkdesk.TriggerContactCreated, talkdesk.TriggerAgentLogIn}, triggers); diff != "" {
		t.Errorf("subscriptions (-want +got):\n%s", diff)
	}
}

func TestUnsubscribeOnlyItsTrigger(t *testing.T) {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	c := newClient(t, srv)
	ctx := context.Background()
	sub, err := c.Subscribe(ctx, talkdesk.TriggerAgentLogOut, "https://hooks.example.com/a")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, talkdesk.TriggerAgentLogIn, sub.ID); err == nil {
		t.Error("Unsubscribe with another trigger succeeded")
	}
	if err := c.Unsubscribe(ctx, talkdesk.TriggerAgentLogOut, sub.ID); err != nil {
		t.Error(err)
	}
}

// TestDelivery: the body of Delivery is what a subscriber gets from Emit,
// and ParseEvent reads it.
func TestDelivery(t *testing.T) {
	fields := map[string]string{"agent_id": "a-1", "agent.name": "Ana"}
	body, err := talkdesktest.Delivery(talkdesk.TriggerAgentLogIn, fields)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, body)
	if err != nil || ev.AgentID != "a-1" || ev.Actor.Name != "Ana" {
		t.Fatalf("%s: %+v, %v", body, ev, err)
	}
	if _, err := talkdesktest.Delivery("nope", nil); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("an unknown trigger: %v", err)
	}
}
