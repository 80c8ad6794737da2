package talkdesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const presenceUserID = "1f9a0c2e4b5d6e7f8a9b0c1d"

func TestUpdateUserStatus(t *testing.T) {
	tests := []struct {
		fixture               string
		id, current, newValue string
	}{
		{"presence/update_user_status_204.json", presenceUserID, "available", "lunch_break"},
		// An empty current status is left out; the ID is escaped as one segment.
		{"presence/update_user_status_no_current.json", "user/7 x", "", "available"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			if err := replayClient(t, rs).UpdateUserStatus(context.Background(), tt.id, tt.current, tt.newValue); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestUpdateUserStatusErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"presence/update_user_status_400.json", APIError{StatusCode: 400, Code: "0400010", Message: "Bad Request.",
			Description: "current_status does not match the user's status."}, ErrInvalid},
		{"presence/update_user_status_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized.", Description: "The access token expired."}, ErrUnauthorized},
		{"presence/update_user_status_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden.", Description: "Presence subscription required."}, ErrForbidden},
		{"presence/update_user_status_404.json", APIError{StatusCode: 404, Code: "0404001", Message: "Account not found.", Description: "No user with this id in the account."}, ErrNotFound},
	}, func(c *Client) error {
		return c.UpdateUserStatus(context.Background(), presenceUserID, "available", "lunch_break")
	})
}

// An update with a current status is a compare-and-set: after a 500 the
// Client reads the status, and sends the update again only while the
// status is still the current one. When the attempts run out, the error is
// the last 500.
func TestUpdateUserStatusRetriedAfter500(t *testing.T) {
	f, still := "presence/update_user_status_500.json", "presence/status_of_one_available.json"
	rs := newReplayServer(t, f, still, f, still, f, still)
	err := replayClient(t, rs, WithRetryPolicy(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})).
		UpdateUserStatus(context.Background(), presenceUserID, "available", "lunch_break")
	want := &APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error.", Description: "Try again later.",
		Method: "PUT", Path: "/ccaas/users/" + presenceUserID + "/status"}
	var got *APIError
	if !errors.As(err, &got) {
		t.Fatalf("UpdateUserStatus on three 500s: %v, want the 500", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("APIError (-want +got):\n%s", diff)
	}
}

// TestUpdateUserStatusAfterActing: both sides of the compare-and-set after
// an answer that does not say whether Talkdesk acted.
func TestUpdateUserStatusAfterActing(t *testing.T) {
	tests := []struct {
		name     string
		fixtures []string
		is       error // nil: success
	}{
		{"applied: no second PUT, success", []string{"presence/update_user_status_500.json", "presence/status_of_one_lunch_break.json"}, nil},
		{"not applied: sent again", []string{"presence/update_user_status_500.json", "presence/status_of_one_available.json",
			"presence/update_user_status_204.json"}, nil},
		{"changed by someone else: conflict", []string{"presence/update_user_status_500.json", "presence/status_of_one_busy.json"}, ErrConflict},
		{"the status cannot be read", []string{"presence/update_user_status_500.json", "presence/status_of_one_403.json"}, ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixtures...)
			err := replayClient(t, rs).UpdateUserStatus(context.Background(), presenceUserID, "available", "lunch_break")
			switch {
			case tt.is == nil && err != nil:
				t.Errorf("UpdateUserStatus: %v, want success", err)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("UpdateUserStatus: %v, want %v", err, tt.is)
			case tt.is != nil && !strings.Contains(err.Error(), "500"):
				t.Errorf("UpdateUserStatus: %v, want the 500 named too", err)
			}
		})
	}
}

// Without a current status the update is a plain PUT, retried after a 500.
func TestUpdateUserStatusWithoutCurrentRetried(t *testing.T) {
	rs := newReplayServer(t, "presence/update_user_status_no_current_500.json", "presence/update_user_status_no_current.json")
	if err := replayClient(t, rs).UpdateUserStatus(context.Background(), "user/7 x", "", "available"); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateUserStatusValidation(t *testing.T) {
	tests := []struct {
		id, current, newValue, field string
	}{
		{"", "available", "busy", "userID"},
		{"..", "available", "busy", "userID"},
		{presenceUserID, "available", "", "newStatus"},
		{presenceUserID, "available", " ", "newStatus"},
		{presenceUserID, "avail\x00able", "busy", "currentStatus"},
	}
	for _, tt := range tests {
		err := replayClient(t, newReplayServer(t)).UpdateUserStatus(context.Background(), tt.id, tt.current, tt.newValue)
		wantInvalid(t, err, tt.field)
	}
}

func TestGetUserStatuses(t *testing.T) {
	rs := newReplayServer(t, "presence/get_user_statuses_200.json")
	got, err := replayClient(t, rs).GetUserStatuses(context.Background(), presenceUserID, "60c72b2f9b1e8a3d4c5f6a7b")
	if err != nil {
		t.Fatal(err)
	}
	want := []UserStatus{{presenceUserID, "available"}, {"60c72b2f9b1e8a3d4c5f6a7b", "offline"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetUserStatuses (-want +got):\n%s", diff)
	}
}

func TestGetUserStatusesErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"presence/get_user_statuses_400.json", APIError{StatusCode: 400, Code: "0400011", Message: "Bad Request.", Description: "user_ids must not be empty."}, ErrInvalid},
		{"presence/get_user_statuses_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized.", Description: "The access token expired."}, ErrUnauthorized},
		{"presence/get_user_statuses_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden.", Description: "The access token lacks the presence scope."}, ErrForbidden},
		{"presence/get_user_statuses_500.json", APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error.", Description: "Try again later."}, nil},
	}, func(c *Client) error {
		_, err := c.GetUserStatuses(context.Background(), presenceUserID, "60c72b2f9b1e8a3d4c5f6a7b")
		return err
	})
}

// GetUserStatuses is a POST that only reads, so unlike a create it is
// retried after a 500.
func TestGetUserStatusesRetriedAfter500(t *testing.T) {
	rs := newReplayServer(t, "presence/get_user_statuses_500.json", "presence/get_user_statuses_200.json")
	got, err := replayClient(t, rs).GetUserStatuses(context.Background(), presenceUserID, "60c72b2f9b1e8a3d4c5f6a7b")
	if err != nil || len(got) != 2 {
		t.Fatalf("GetUserStatuses after a 500: %v, %v; want the statuses of the retry", got, err)
	}
}

func TestGetUserStatusesValidation(t *testing.T) {
	_, err := replayClient(t, newReplayServer(t)).GetUserStatuses(context.Background())
	wantInvalid(t, err, "userIDs")
	_, err = replayClient(t, newReplayServer(t)).GetUserStatuses(context.Background(), presenceUserID, "", "x")
	wantInvalid(t, err, "userIDs[1]")
	_, err = replayClient(t, newReplayServer(t)).GetUserStatuses(context.Background(), "a\nb")
	wantInvalid(t, err, "userIDs[0]")
}

func TestListCustomStatuses(t *testing.T) {
	tests := []struct {
		fixture string
		want    []CustomStatus
	}{
		{"presence/list_custom_statuses_200.json", []CustomStatus{{"lunch_break", "Lunch"}, {"training", "Training"}}},
		{"presence/list_custom_statuses_empty.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			got, err := replayClient(t, rs).ListCustomStatuses(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ListCustomStatuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListCustomStatusesErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"presence/list_custom_statuses_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized."}, ErrUnauthorized},
		{"presence/list_custom_statuses_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden."}, ErrForbidden},
		{"presence/list_custom_statuses_404.json", APIError{StatusCode: 404, Code: "0404003", Message: "Account not found."}, ErrNotFound},
		{"presence/list_custom_statuses_500.json", APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error."}, nil},
	}, func(c *Client) error {
		_, err := c.ListCustomStatuses(context.Background())
		return err
	})
}

func TestGetUserPresence(t *testing.T) {
	rs := newReplayServer(t, "presence/get_user_presence_200.json")
	got, err := replayClient(t, rs).GetUserPresence(context.Background(), presenceUserID)
	if err != nil {
		t.Fatal(err)
	}
	want := &Presence{
		ID:             "e0b8f1d2-3c4a-4b5c-9d6e-7f8091a2b3c4",
		AccountID:      "5a1b2c3d4e5f6a7b8c9d0e1f",
		UserID:         presenceUserID,
		Status:         "busy",
		CustomStatus:   "Lunch",
		CustomStatusID: "lunch_break",
		Occupancy:      80,
		Channels: []PresenceChannel{
			{Name: "voice", Occupancy: 100, Devices: []string{"webrtc-3f2a", "desk-phone-1"}},
			{Name: "chat", Occupancy: 50, Devices: []string{}},
		},
		Devices:      []PresenceDevice{{"webrtc-3f2a"}, {"desk-phone-1"}},
		Interactions: []PresenceInteraction{{ID: "int-9a8b7c", DeviceID: "webrtc-3f2a", ChannelName: "voice", Cost: 100}},
		UpdatedBy:    "agent-app",
		UpdatedAt:    time.Date(2024, 6, 3, 12, 5, 9, 512e6, time.UTC),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetUserPresence (-want +got):\n%s", diff)
	}
}

func TestGetUserPresenceErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"presence/get_user_presence_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden access.",
			Description: "The access token lacks the presence-user:read scope."}, ErrForbidden},
		{"presence/get_user_presence_404.json", APIError{StatusCode: 404, Code: "0404001", Message: "User not found.",
			Description: "No user with this id in the account."}, ErrNotFound},
		{"presence/get_user_presence_406.json", APIError{StatusCode: 406, Code: "0406001", Message: "Accept format mime type not supported.",
			Description: "Only application/json is served."}, nil},
	}, func(c *Client) error {
		_, err := c.GetUserPresence(context.Background(), presenceUserID)
		return err
	})
}

func TestGetUserPresenceValidation(t *testing.T) {
	for _, id := range []string{"", ".", "a\tb"} {
		_, err := replayClient(t, newReplayServer(t)).GetUserPresence(context.Background(), id)
		wantInvalid(t, err, "userID")
	}
}

const brokerPassword = "pw-7hN2qX9vL4kR8sT1" // in presence/subscribe_presence_200.json

func TestSubscribePresence(t *testing.T) {
	rs := newReplayServer(t, "presence/subscribe_presence_200.json")
	got, err := replayClient(t, rs).SubscribePresence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &PresenceSubscription{
		URL:      "wss://presence-broker.talkdeskapp.com:443/mqtt",
		Username: "acct-5a1b2c3d4e5f6a7b8c9d0e1f",
		Password: brokerPassword,
		ClientID: "connector-5a1b2c3d-01",
		Topic:    "presence/accounts/5a1b2c3d4e5f6a7b8c9d0e1f/users/+",
	}
	if got.Password != want.Password {
		t.Errorf("Password not decoded") // cmp would print it; compare the rest with it cleared
	}
	w, g := *want, *got
	w.Password, g.Password = "", ""
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("SubscribePresence (-want +got):\n%s", diff)
	}
}

func TestPresenceSubscriptionHidesPassword(t *testing.T) {
	s := &PresenceSubscription{URL: "wss://broker", Username: "u", Password: brokerPassword, ClientID: "c", Topic: "t"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("subscribed", "sub", s, "value", *s)
	type holder struct{ Sub PresenceSubscription }
	outputs := []string{
		s.String(), s.GoString(), logged.String(),
		fmt.Sprint(s), fmt.Sprint(*s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", *s, *s, *s),
		fmt.Sprintf("%v %+v", holder{*s}, &holder{*s}),
		fmt.Sprintf("%v", []PresenceSubscription{*s}),
	}
	for _, out := range outputs {
		if strings.Contains(out, brokerPassword) {
			t.Errorf("output shows the password: %s", out)
		}
	}
	if !strings.Contains(s.String(), "[REDACTED]") || !strings.Contains(s.String(), "wss://broker") {
		t.Errorf("String() = %s, want the URL and a redacted password", s)
	}
	if !strings.Contains(logged.String(), "wss://broker") {
		t.Errorf("log line lacks the URL: %s", logged.String())
	}
}

func TestSubscribePresenceErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"presence/subscribe_presence_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden access.",
			Description: "Presence is not enabled for this account."}, ErrForbidden},
		{"presence/subscribe_presence_500.json", APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error.",
			Description: "Broker unavailable."}, nil},
	}, func(c *Client) error {
		_, err := c.SubscribePresence(context.Background())
		return err
	})
}
