package talkdesk

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCreateWorkspaceNotification(t *testing.T) {
	tests := []struct {
		fixture string
		kind    NotificationKind
		fields  map[string]any
	}{
		{"notifications/create_workspace_notification_200.json", NotificationEmail, map[string]any{
			"to": "ana.sousa@example.com", "subject": "Queue above SLA", "body": "14 calls waiting in Claims", "priority": 2}},
		// No fields send an empty object.
		{"notifications/create_workspace_notification_empty.json", NotificationPush, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			if err := replayClient(t, rs).CreateWorkspaceNotification(context.Background(), tt.kind, tt.fields); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// headerKeys records the header keys of each request exactly as the client
// put them on the wire, before any server canonicalizes them.
type headerKeys struct {
	next http.RoundTripper
	keys [][]string
}

func (h *headerKeys) RoundTrip(r *http.Request) (*http.Response, error) {
	var keys []string
	for k := range r.Header {
		keys = append(keys, k)
	}
	h.keys = append(h.keys, keys)
	return h.next.RoundTrip(r)
}

// The connector names the header eventID; it is sent with that casing, not
// Go's canonical Eventid.
func TestCreateWorkspaceNotificationHeaderCasing(t *testing.T) {
	rs := newReplayServer(t, "notifications/create_workspace_notification_empty.json")
	rec := &headerKeys{next: http.DefaultTransport}
	c := replayClient(t, rs, WithHTTPClient(&http.Client{Transport: rec}))
	if err := c.CreateWorkspaceNotification(context.Background(), NotificationPush, nil); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range rec.keys[0] {
		found = found || k == "eventID"
	}
	if !found {
		t.Errorf("header keys %v lack eventID", rec.keys[0])
	}
}

func TestCreateWorkspaceNotificationValidation(t *testing.T) {
	tests := []struct {
		kind   NotificationKind
		fields map[string]any
		field  string
	}{
		{"", nil, "kind"},
		{"sms", nil, "kind"},
		{"Email", nil, "kind"},
		{NotificationEmail, map[string]any{"": "x"}, "fields"},
		{NotificationPush, map[string]any{"n": math.Inf(1)}, "fields"},
		{NotificationPush, map[string]any{"f": func() {}}, "fields"},
	}
	for _, tt := range tests {
		err := replayClient(t, newReplayServer(t)).CreateWorkspaceNotification(context.Background(), tt.kind, tt.fields)
		wantInvalid(t, err, tt.field)
	}
}

func TestGetNotificationSchema(t *testing.T) {
	rs := newReplayServer(t, "notifications/get_notification_schema_200.json")
	got, err := replayClient(t, rs).GetNotificationSchema(context.Background(), NotificationPush)
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(got, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	want := map[string]any{
		"type":     "object",
		"required": []any{"user_id", "message"},
		"properties": map[string]any{
			"user_id": map[string]any{"type": "string", "title": "User id"},
			"title":   map[string]any{"type": "string", "title": "Title"},
			"message": map[string]any{"type": "string", "title": "Message"},
		},
	}
	if diff := cmp.Diff(want, schema); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}

func TestGetNotificationSchemaWithoutItems(t *testing.T) {
	rs := newReplayServer(t, "notifications/get_notification_schema_no_items.json")
	_, err := replayClient(t, rs).GetNotificationSchema(context.Background(), NotificationEmail)
	if !errors.Is(err, errNoSchema) {
		t.Fatalf("error = %v, want errNoSchema", err)
	}
}

func TestGetNotificationSchemaValidation(t *testing.T) {
	for _, k := range []NotificationKind{"", "sms", "../push"} {
		_, err := replayClient(t, newReplayServer(t)).GetNotificationSchema(context.Background(), k)
		wantInvalid(t, err, "kind")
	}
}

func TestGetListSchema(t *testing.T) {
	rs := newReplayServer(t, "notifications/get_list_schema_200.json")
	got, err := replayClient(t, rs).GetListSchema(context.Background(), "email")
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	if err := json.Unmarshal(got, &answer); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	items, _ := answer["items"].(map[string]any)
	if items["type"] != "object" || len(items["required"].([]any)) != 3 {
		t.Errorf("answer %v, want the whole object with its items schema", answer)
	}
	for _, id := range []string{"", "..", "a\nb"} {
		_, err := replayClient(t, newReplayServer(t)).GetListSchema(context.Background(), id)
		wantInvalid(t, err, "listID")
	}
}
