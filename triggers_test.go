package talkdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// connectorTriggers reads the trigger paths of the connector definition,
// as extracted into testdata.
func connectorTriggers(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("testdata/triggers/connector_definition.json")
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}
	return def.Paths
}

// subscribeBody is the body parameter of a trigger's POST in the definition.
type subscribeBody struct {
	Properties map[string]struct {
		Default string `json:"default"`
	} `json:"properties"`
	Required []string `json:"required"`
}

func triggerBody(t *testing.T, paths map[string]json.RawMessage, tr Trigger) subscribeBody {
	t.Helper()
	var op struct {
		Post struct {
			Parameters []struct {
				In     string        `json:"in"`
				Schema subscribeBody `json:"schema"`
			} `json:"parameters"`
		} `json:"post"`
	}
	raw, ok := paths["/webhooks/triggers/"+string(tr)]
	if !ok {
		t.Fatalf("the definition has no trigger %s", tr)
	}
	if err := json.Unmarshal(raw, &op); err != nil {
		t.Fatal(err)
	}
	for _, p := range op.Post.Parameters {
		if p.In == "body" {
			return p.Schema
		}
	}
	t.Fatalf("trigger %s has no body parameter", tr)
	return subscribeBody{}
}

// TestDefinitionExtract checks that the extract in testdata is the
// definition in shared/, when that is beside the repository.
func TestDefinitionExtract(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "shared", "reference", "talkdesk-connector.swagger.json"))
	if err != nil {
		t.Skip("the connector definition is not beside the repository")
	}
	var def struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(data, &def); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for p, v := range def.Paths {
		if strings.HasPrefix(p, "/webhooks/triggers/") {
			want[p] = v
		}
	}
	got := map[string]any{}
	for p, v := range connectorTriggers(t) {
		var x any
		json.Unmarshal(v, &x)
		got[p] = x
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("testdata/triggers/connector_definition.json differs from the definition (-want +got):\n%s", diff)
	}
}

// TestSubscriptionSchemas compares the schema generated from each payload
// type, parsed, with the definition's default message for every trigger,
// and the title and callback field with the definition's.
func TestSubscriptionSchemas(t *testing.T) {
	paths := connectorTriggers(t)
	n := 0
	for p := range paths {
		if !strings.Contains(p, "{") {
			n++
		}
	}
	if n != len(Triggers()) {
		t.Fatalf("the definition has %d triggers, Triggers() %d", n, len(Triggers()))
	}
	for _, tr := range Triggers() {
		t.Run(string(tr), func(t *testing.T) {
			body := triggerBody(t, paths, tr)
			info := triggerInfos[tr]
			var want, got any
			if err := json.Unmarshal([]byte(body.Properties["message"].Default), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(info.schema), &got); err != nil {
				t.Fatalf("generated schema is not JSON: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("schema (-definition +generated):\n%s", diff)
			}
			// Keys in the definition's order too: the string is the same.
			if info.schema != body.Properties["message"].Default {
				t.Errorf("schema text differs from the definition's:\n got %s\nwant %s", info.schema, body.Properties["message"].Default)
			}
			if got, want := info.title, body.Properties["title"].Default; got != want {
				t.Errorf("title = %q, definition %q", got, want)
			}
			if _, ok := body.Properties[info.callbackField]; !ok {
				t.Errorf("callback field %q is not in the definition's body %v", info.callbackField, body.Properties)
			}
			wantRequired := []string{info.callbackField, "message", "title"}
			if diff := cmp.Diff(wantRequired, body.Required); diff != "" {
				t.Errorf("required body fields (-sent +definition):\n%s", diff)
			}
		})
	}
}

func TestSubscribe(t *testing.T) {
	want := map[Trigger]string{
		TriggerContactCreated:                  "66a1f0c2e4b0a1d2c3e4f501", // Location only
		TriggerContactUpdated:                  "66a1f0c2e4b0a1d2c3e4f502", // id in the body
		TriggerNoteCreated:                     "66a1f0c2e4b0a1d2c3e4f503",
		TriggerAgentLogIn:                      "66a1f0c2e4b0a1d2c3e4f504",
		TriggerAgentLogOut:                     "66a1f0c2e4b0a1d2c3e4f505", // both
		TriggerInboundCallReachesContactCenter: "66a1f0c2e4b0a1d2c3e4f506", // absolute Location
		TriggerInboundCallStarts:               "733241507",                // numeric id in the body
		TriggerInboundCallEnds:                 "66a1f0c2e4b0a1d2c3e4f508",
		TriggerOutboundCallEnds:                "66a1f0c2e4b0a1d2c3e4f509",
	}
	for _, tr := range Triggers() {
		t.Run(string(tr), func(t *testing.T) {
			rs := newReplayServer(t, "triggers/subscribe_"+string(tr)+".json")
			cb := "https://hooks.example.com/talkdesk/" + string(tr) + "?token=s3cr3t-webhook-token"
			got, err := replayClient(t, rs).Subscribe(context.Background(), tr, cb)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&Subscription{ID: want[tr], Trigger: tr, CallbackURL: cb}, got); diff != "" {
				t.Errorf("Subscription (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubscribeWithoutID(t *testing.T) {
	rs := newReplayServer(t, "triggers/subscribe_no_id.json")
	_, err := replayClient(t, rs).Subscribe(context.Background(), TriggerAgentLogOut, "https://hooks.example.com/x")
	if err == nil || !strings.Contains(err.Error(), "no subscription id") {
		t.Fatalf("Subscribe with an answer without id: %v", err)
	}
}

func TestSubscribeRejectsBadArguments(t *testing.T) {
	tests := []struct {
		trigger Trigger
		url     string
		field   string
	}{
		{"callCreated", "https://hooks.example.com/x", "trigger"},
		{"", "https://hooks.example.com/x", "trigger"},
		{TriggerInboundCallEnds, "", "callbackURL"},
		{TriggerInboundCallEnds, "/relative", "callbackURL"},
		{TriggerInboundCallEnds, "ftp://hooks.example.com/x", "callbackURL"},
		{TriggerInboundCallEnds, "https://user:pw@hooks.example.com/x", "callbackURL"},
		{TriggerInboundCallEnds, "https://hooks.example.com/x#frag", "callbackURL"},
		{TriggerInboundCallEnds, "https://hooks.example.com/x y", "callbackURL"},
		{TriggerInboundCallEnds, "https://hooks.example.com/\r\nx", "callbackURL"},
		{TriggerInboundCallEnds, "https://hooks.example.com/" + strings.Repeat("a", 3000), "callbackURL"},
	}
	for _, tt := range tests {
		rs := newReplayServer(t) // any request fails the test
		_, err := replayClient(t, rs).Subscribe(context.Background(), tt.trigger, tt.url)
		var ve *ValidationError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("Subscribe(%q, %.40q) = %v, want a ValidationError of %s", tt.trigger, tt.url, err, tt.field)
		}
	}
}

func TestUnsubscribe(t *testing.T) {
	tests := []struct {
		fixture string
		trigger Trigger
		id      string
		wantErr error
	}{
		{"triggers/unsubscribe_200.json", TriggerInboundCallEnds, "66a1f0c2e4b0a1d2c3e4f508", nil},
		{"triggers/unsubscribe_404.json", TriggerContactCreated, "000000000000000000000000", ErrNotFound},
		{"triggers/unsubscribe_escaped_id.json", TriggerNoteCreated, "../contacts?x=1#y", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			err := replayClient(t, rs).Unsubscribe(context.Background(), tt.trigger, tt.id)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Unsubscribe = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestUnsubscribeRejectsBadArguments(t *testing.T) {
	tests := []struct {
		trigger Trigger
		id      string
		field   string
	}{
		{"nope", "abc", "trigger"},
		{TriggerAgentLogIn, "", "subscriptionID"},
		{TriggerAgentLogIn, "..", "subscriptionID"},
		{TriggerAgentLogIn, "a\nb", "subscriptionID"},
	}
	for _, tt := range tests {
		rs := newReplayServer(t)
		err := replayClient(t, rs).Unsubscribe(context.Background(), tt.trigger, tt.id)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tt.field {
			t.Errorf("Unsubscribe(%q, %q) = %v, want a ValidationError of %s", tt.trigger, tt.id, err, tt.field)
		}
	}
}

func TestSubscriptionHidesQuery(t *testing.T) {
	s := Subscription{ID: "1", Trigger: TriggerAgentLogIn, CallbackURL: "https://hooks.example.com/t/agentLogIn?token=hunter2-secret"}
	for _, out := range []string{s.String(), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), fmt.Sprintf("%v %+v %#v", &s, &s, &s)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("the secret shows: %s", out)
		}
		if !strings.Contains(out, "hooks.example.com/t/agentLogIn") {
			t.Errorf("the URL does not show: %s", out)
		}
	}
}

// TestSubscribeErrorHidesTheWebhookSecret: Talkdesk may echo the callback
// URL it rejects; the error must not repeat the secret in its query.
func TestSubscribeErrorHidesTheWebhookSecret(t *testing.T) {
	rs := newReplayServer(t, "triggers/subscribe_400_echoes_url.json")
	_, err := replayClient(t, rs).Subscribe(context.Background(), TriggerAgentLogIn,
		"https://hooks.example.com/talkdesk/agentLogIn?token=s3cr3t-webhook-token")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("error = %v, want a 400 APIError", err)
	}
	if strings.Contains(err.Error(), "s3cr3t-webhook-token") {
		t.Errorf("error shows the webhook secret: %v", err)
	}
	if want := "Invalid callbackurl: https://hooks.example.com/talkdesk/agentLogIn?token=[REDACTED]"; apiErr.Message != want {
		t.Errorf("Message = %q, want %q", apiErr.Message, want)
	}
}

func TestURLSecrets(t *testing.T) {
	got := urlSecrets("https://user:pa%24%24word@hooks.example.com/td?token=a+b&format=json&key=0123456789")
	want := []string{"pa$$word", "pa%24%24word", "a b", "a+b", "0123456789", "0123456789"}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("urlSecrets (-want +got):\n%s", diff)
	}
}
