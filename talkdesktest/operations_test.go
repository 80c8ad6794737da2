//lint:file-ignore SA1019 these tests exercise the deprecated actions on purpose: the fake serves them too.

package talkdesktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// client returns a Client of srv without throttle.
func client(t *testing.T, srv *talkdesktest.Server) *talkdesk.Client {
	t.Helper()
	c, err := talkdesk.NewClient(append(srv.ClientOptions(), talkdesk.WithRateLimit(0, 0))...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// send makes a raw API request with a valid token (unless token is "-")
// and returns the status and the decoded JSON answer.
func send(t *testing.T, srv *talkdesktest.Server, method, path, contentType, body string, header http.Header) (int, any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+accessToken(t, srv))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %q", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, v
}

// fieldNames returns the names in the fields of a Talkdesk 400 body.
func fieldNames(body any) []string {
	var names []string
	m, _ := body.(map[string]any)
	fields, _ := m["fields"].([]any)
	for _, f := range fields {
		if fm, ok := f.(map[string]any); ok {
			names = append(names, fm["name"].(string))
		}
	}
	return names
}

func TestCallbacks(t *testing.T) {
	srv := newServer(t)
	c := client(t, srv)
	req := &talkdesk.CallbackRequest{
		TalkdeskPhoneNumber: "+14155550100",
		ContactPhoneNumber:  "+351912345678",
		Fields:              []talkdesk.ContextField{{Name: "ticket", DisplayName: "Ticket", DataType: talkdesk.FieldURL, Value: "https://t.example/1"}},
	}
	if err := c.CreateCallback(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]talkdesk.CallbackRequest{*req}, srv.Callbacks()); diff != "" {
		t.Errorf("Callbacks (-want +got):\n%s", diff)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 1 {
		t.Errorf("Acted = %d, want 1", n)
	}
	srv.Callbacks()[0].Fields[0].Name = "changed"
	if srv.Callbacks()[0].Fields[0].Name != "ticket" {
		t.Error("Callbacks shares its slices with the Server")
	}
}

func TestBadCallbackBodies(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, contentType, body string
		status                  int
		fields                  []string
	}{
		{"bad numbers", "application/json", `{"talkdesk_phone_number":"4155550100","contact_phone_number":"+0351"}`, 400,
			[]string{"talkdesk_phone_number", "contact_phone_number"}},
		{"missing numbers", "application/json", `{}`, 400, []string{"talkdesk_phone_number", "contact_phone_number"}},
		{"bad data type", "application/json", `{"talkdesk_phone_number":"+14155550100","contact_phone_number":"+351912345678",
			"context":{"fields":[{"name":"a","data_type":"text"},{"name":"b","data_type":"email"}]}}`, 400, []string{"context.fields[1].data_type"}},
		{"unknown field", "application/json", `{"talkdesk_phone_number":"+14155550100","contact_phone_number":"+351912345678","priority":1}`, 400, []string{"priority"}},
		{"wrong type", "application/json", `{"talkdesk_phone_number":14155550100}`, 400, []string{"talkdesk_phone_number"}},
		{"not JSON", "application/json", `{"talkdesk_phone_number":`, 400, []string{"body"}},
		{"empty", "application/json", ``, 400, []string{"body"}},
		{"two values", "application/json", `{} {}`, 400, []string{"body"}},
		{"form", "application/x-www-form-urlencoded", `talkdesk_phone_number=%2B14155550100`, 415, nil},
		{"no content type", "", `{}`, 415, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := send(t, srv, "POST", "/calls/callback", tt.contentType, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, body)
			}
			if diff := cmp.Diff(tt.fields, fieldNames(body)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if n := len(srv.Callbacks()); n != 0 {
		t.Errorf("%d callbacks recorded from bad bodies", n)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 0 {
		t.Errorf("Acted = %d after bad bodies, want 0", n)
	}
}

func TestUsers(t *testing.T) {
	srv := newServer(t)
	c := client(t, srv)
	ctx := context.Background()
	start := time.Now().UTC().Add(-time.Second)

	created, err := c.CreateUser(ctx, &talkdesk.NewUser{UserName: "rui.almeida@example.com", GivenName: "Rui", FamilyName: "Almeida",
		ExternalID: "crm-42", Active: true, Roles: []string{"Agent"}, Teams: []string{"Lisbon", "Claims"}})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.Meta.Created.Before(start) || created.Meta.Location != srv.URL+"/scim/v2/Users/"+created.ID {
		t.Errorf("created user %+v", created)
	}
	want := &talkdesk.SCIMUser{ID: created.ID, UserName: "rui.almeida@example.com", GivenName: "Rui", FamilyName: "Almeida",
		ExternalID: "crm-42", Active: true, Roles: []string{"Agent"}, Teams: []string{"Lisbon", "Claims"},
		Schemas: []string{talkdesk.SCIMUserSchema, talkdesk.SCIMTalkdeskSchema}, Meta: created.Meta}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("CreateUser (-want +got):\n%s", diff)
	}

	found, err := c.GetUserByEmail(ctx, "Rui.Almeida@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantUser := &talkdesk.User{ID: created.ID, Email: "rui.almeida@example.com", Name: "Rui Almeida", Active: true, CreatedAt: created.Meta.Created}
	if diff := cmp.Diff(wantUser, found); diff != "" {
		t.Errorf("GetUserByEmail (-want +got):\n%s", diff)
	}

	_, err = c.CreateUser(ctx, &talkdesk.NewUser{UserName: "RUI.ALMEIDA@example.com", GivenName: "R", FamilyName: "A"})
	var apiErr *talkdesk.APIError
	if !errors.Is(err, talkdesk.ErrConflict) || !errors.As(err, &apiErr) || apiErr.Code != "uniqueness" {
		t.Errorf("second CreateUser: %v, want a SCIM uniqueness conflict", err)
	}
	if n := srv.Acted(talkdesktest.OpCreateUser); n != 1 {
		t.Errorf("Acted(CreateUser) = %d, want 1", n)
	}

	seeded := srv.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana", Extension: "2101"})
	got, err := c.GetUserByEmail(ctx, "ana@example.com")
	if err != nil || got.ID != seeded.ID || got.Extension != "2101" || !got.CreatedAt.Equal(seeded.CreatedAt) {
		t.Errorf("seeded user: %+v, %v; want %+v", got, err, seeded)
	}
	if _, err := c.GetUserByEmail(ctx, "nobody@example.com"); !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("unknown address: %v, want ErrNotFound", err)
	}
	if n := len(srv.Users()); n != 2 {
		t.Errorf("Users() has %d users, want 2", n)
	}
}

func TestBadUserRequests(t *testing.T) {
	srv := newServer(t)
	core := `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	tests := []struct {
		name, body, detail string
	}{
		{"no active", `{` + core + `,"userName":"a@b.c","name":{"givenName":"A","familyName":"B"}}`, "Attribute 'active' is required."},
		{"no family name", `{` + core + `,"userName":"a@b.c","name":{"givenName":"A"},"active":true}`, "Attribute 'name.familyName' is required."},
		{"no schemas", `{"userName":"a@b.c","name":{"givenName":"A","familyName":"B"},"active":true}`, "Attribute 'schemas' must contain urn:ietf:params:scim:schemas:core:2.0:User."},
		{"unknown attribute", `{` + core + `,"userName":"a@b.c","nickName":"x"}`, "Attribute 'nickName' is not a field of this operation."},
	}
	for _, tt := range tests {
		status, body := send(t, srv, "POST", "/scim/v2/Users", "application/scim+json", tt.body, nil)
		m, _ := body.(map[string]any)
		if status != 400 || m["detail"] != tt.detail || m["status"] != "400" || m["schemas"] == nil {
			t.Errorf("%s: %d %v, want a SCIM 400 saying %q", tt.name, status, body, tt.detail)
		}
	}
	if status, _ := send(t, srv, "GET", "/users", "", "", nil); status != 400 {
		t.Errorf("GET /users without email: %d, want 400", status)
	}
	if status, _ := send(t, srv, "GET", "/users?email=a@b.c", "", "", http.Header{"Accept": {"text/html"}}); status != 406 {
		t.Errorf("GET /users accepting HTML only: %d, want 406", status)
	}
	if n := len(srv.Users()); n != 0 {
		t.Errorf("bad requests created %d users", n)
	}
}

func TestCreateAgents(t *testing.T) {
	srv := newServer(t)
	c := client(t, srv)
	ctx := context.Background()
	srv.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana"})

	res, err := c.CreateAgents(ctx,
		talkdesk.NewAgent{Email: "marta@example.com", FullName: "Marta Silva", Role: talkdesk.RoleAgent, Active: talkdesk.Ptr(true), ExtensionNumber: "2203"},
		talkdesk.NewAgent{Email: "ANA@example.com", FullName: "Ana Sousa", Role: talkdesk.RoleSupervisor},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 1 || res.Created[0].Email != "marta@example.com" || res.Created[0].ID == "" {
		t.Errorf("Created = %+v", res.Created)
	}
	if diff := cmp.Diff([]talkdesk.FailedAgent{{Email: "ANA@example.com", Message: "Email has already been taken"}}, res.Failed); diff != "" {
		t.Errorf("Failed (-want +got):\n%s", diff)
	}
	u, err := c.GetUserByEmail(ctx, "marta@example.com")
	if err != nil || u.ID != res.Created[0].ID || u.Name != "Marta Silva" || !u.Active || u.Extension != "2203" {
		t.Errorf("created agent as a user: %+v, %v", u, err)
	}

	status, body := send(t, srv, "POST", "/agents/bulk", "application/json",
		`{"agents":[{"email":"x@example.com","full_name":"X","role_name":"Owner","extension_number":"12a","phone_number":"123"}]}`, nil)
	want := []string{"agents[0].role_name", "agents[0].extension_number", "agents[0].phone_number"}
	if diff := cmp.Diff(want, fieldNames(body)); status != 400 || diff != "" {
		t.Errorf("bad agent: %d, fields (-want +got):\n%s", status, diff)
	}
	if status, body := send(t, srv, "POST", "/agents/bulk", "application/json", `{"agents":[]}`, nil); status != 400 || fieldNames(body)[0] != "agents" {
		t.Errorf("no agents: %d %v", status, body)
	}
	if n := srv.Acted(talkdesktest.OpCreateAgent); n != 1 {
		t.Errorf("Acted(CreateAgent) = %d, want 1", n)
	}
}

func TestPresence(t *testing.T) {
	srv := newServer(t)
	c := client(t, srv)
	ctx := context.Background()
	u := srv.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana"})
	srv.AddCustomStatus(talkdesk.CustomStatus{ID: "lunch", DisplayName: "Lunch"})

	err := c.UpdateUserStatus(ctx, u.ID, "", talkdesktest.StatusAvailable)
	if !errors.Is(err, talkdesk.ErrForbidden) {
		t.Errorf("UpdateUserStatus before SubscribePresence: %v, want ErrForbidden", err)
	}
	sub, err := c.SubscribePresence(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sub.URL != talkdesktest.BrokerURL || sub.Password == "" || sub.Username == "" || sub.ClientID == "" || sub.Topic == "" {
		t.Errorf("subscription %v", sub)
	}

	if err := c.UpdateUserStatus(ctx, "nobody", "", talkdesktest.StatusAvailable); !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if err := c.UpdateUserStatus(ctx, u.ID, "", "sleeping"); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("unknown status: %v, want ErrInvalid", err)
	}
	if err := c.UpdateUserStatus(ctx, u.ID, "available", "lunch"); !errors.Is(err, talkdesk.ErrInvalid) {
		t.Errorf("wrong current status: %v, want ErrInvalid", err)
	}
	before := time.Now().UTC().Add(-time.Second)
	if err := c.UpdateUserStatus(ctx, u.ID, "offline", "lunch"); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetUserPresence(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != u.ID || p.Status != "busy" || p.CustomStatus != "Lunch" || p.CustomStatusID != "lunch" || p.UpdatedAt.Before(before) || p.AccountID == "" {
		t.Errorf("presence %+v", p)
	}
	if _, err := c.GetUserPresence(ctx, "nobody"); !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("presence of an unknown user: %v, want ErrNotFound", err)
	}

	statuses, err := c.GetUserStatuses(ctx, u.ID, "nobody")
	if diff := cmp.Diff([]talkdesk.UserStatus{{ID: u.ID, Status: "lunch"}}, statuses); err != nil || diff != "" {
		t.Errorf("GetUserStatuses: %v (-want +got):\n%s", err, diff)
	}
	list, err := c.ListCustomStatuses(ctx)
	if diff := cmp.Diff([]talkdesk.CustomStatus{{ID: "lunch", DisplayName: "Lunch"}}, list); err != nil || diff != "" {
		t.Errorf("ListCustomStatuses: %v (-want +got):\n%s", err, diff)
	}
	if n := srv.Acted(talkdesktest.OpUpdateUserStatus); n != 1 {
		t.Errorf("Acted(UpdateUserStatus) = %d, want 1", n)
	}
	if status, _ := send(t, srv, "POST", "/ccaas/users/status", "application/json", `{"user_ids":[]}`, nil); status != 400 {
		t.Errorf("no user IDs: %d, want 400", status)
	}
}

func TestNotifications(t *testing.T) {
	srv := newServer(t)
	c := client(t, srv)
	ctx := context.Background()

	schema, err := c.GetNotificationSchema(ctx, talkdesk.NotificationPush)
	if err != nil {
		t.Fatal(err)
	}
	var s struct{ Required []string }
	if err := json.Unmarshal(schema, &s); err != nil || strings.Join(s.Required, ",") != "user_id,message" {
		t.Errorf("push schema %s: %v", schema, err)
	}

	list, err := c.GetListSchema(ctx, "push")
	if err != nil || !strings.Contains(string(list), `"items"`) {
		t.Errorf("GetListSchema: %s, %v; want the answer with its items", list, err)
	}

	fields := map[string]any{"user_id": "u1", "message": "Queue above SLA"}
	if err := c.CreateWorkspaceNotification(ctx, talkdesk.NotificationPush, fields); err != nil {
		t.Fatal(err)
	}
	want := []talkdesktest.Notification{{Kind: talkdesk.NotificationPush, Fields: fields}}
	if diff := cmp.Diff(want, srv.Notifications()); diff != "" {
		t.Errorf("Notifications (-want +got):\n%s", diff)
	}

	err = c.CreateWorkspaceNotification(ctx, talkdesk.NotificationEmail, map[string]any{"to": "a@b.c"})
	var apiErr *talkdesk.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || len(apiErr.Fields) != 1 || apiErr.Fields[0].Name != "subject" {
		t.Errorf("e-mail without subject: %v, want 400 naming subject", err)
	}
	status, body := send(t, srv, "POST", "/notifications", "application/json", `{}`, http.Header{"eventID": {"sms"}})
	if status != 400 || fieldNames(body)[0] != "eventID" {
		t.Errorf("unknown eventID: %d %v", status, body)
	}
	if status, _ := send(t, srv, "GET", "/webhooks/schemas/sms", "", "", nil); status != 404 {
		t.Errorf("schema of an unknown kind: %d, want 404", status)
	}
	if n := srv.Acted(talkdesktest.OpCreateWorkspaceNotification); n != 1 {
		t.Errorf("Acted = %d, want 1", n)
	}
}

// Every route of the actions checks the bearer token.
func TestActionsCheckTheBearerToken(t *testing.T) {
	srv := newServer(t)
	routes := []struct{ method, path string }{
		{"POST", "/calls/callback"}, {"GET", "/users?email=a@b.c"}, {"POST", "/scim/v2/Users"}, {"POST", "/agents/bulk"},
		{"PUT", "/ccaas/users/u1/status"}, {"POST", "/ccaas/users/status"}, {"GET", "/account/custom-status"},
		{"GET", "/users/u1/presence"}, {"POST", "/presence"}, {"POST", "/notifications"}, {"GET", "/webhooks/schemas/email"},
	}
	for _, r := range routes {
		for _, auth := range []string{"Bearer made-up", "Basic eDp5"} {
			status, _ := send(t, srv, r.method, r.path, "application/json", `{}`, http.Header{"Authorization": {auth}})
			if status != 401 {
				t.Errorf("%s %s with %q: %d, want 401", r.method, r.path, auth, status)
			}
		}
	}
	if n := srv.Acted(talkdesktest.OpSubscribePresence); n != 0 {
		t.Errorf("an unauthenticated request acted: %d", n)
	}
}
