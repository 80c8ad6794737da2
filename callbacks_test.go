package talkdesk

import (
	"context"
	"strings"
	"testing"
	"time"
)

// minimalCallback is the request of the callback fixtures other than
// create_callback_200.json.
func minimalCallback() *CallbackRequest {
	return &CallbackRequest{TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+351912345678"}
}

func TestCreateCallback(t *testing.T) {
	tests := []struct {
		fixture string
		req     *CallbackRequest
	}{
		{"callbacks/create_callback_200.json", &CallbackRequest{
			TalkdeskPhoneNumber: "+14155550100",
			ContactPhoneNumber:  "+351912345678",
			Fields: []ContextField{
				{Name: "ticket_id", DisplayName: "Ticket", TooltipText: "Zendesk ticket of the request", DataType: FieldText, Value: "48213"},
				{Name: "ticket_url", DisplayName: "Open ticket", DataType: FieldURL, Value: "https://acme.zendesk.com/agent/tickets/48213"},
				{Name: "alt_phone", DisplayName: "Alternative number", DataType: FieldPhone, Value: "+351213456789"},
				{Name: "note", Value: "Prefers Portuguese"},
			},
		}},
		// Without fields no context is sent; an empty 202 answer is a success.
		{"callbacks/create_callback_202_empty.json", minimalCallback()},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			if err := replayClient(t, rs).CreateCallback(context.Background(), tt.req); err != nil {
				t.Fatalf("CreateCallback: %v", err)
			}
		})
	}
}

func TestCreateCallbackErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"callbacks/create_callback_400.json", APIError{StatusCode: 400, Code: "0400001", Message: "Invalid request.", Fields: []FieldError{
			{"contact_phone_number", "must be a valid E.164 phone number"},
			{"context.fields[0].data_type", "must be one of phone, text, url"}}}, ErrInvalid},
		{"callbacks/create_callback_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized."}, ErrUnauthorized},
		{"callbacks/create_callback_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden.",
			Description: "The access token lacks the callback:write scope."}, ErrForbidden},
		{"callbacks/create_callback_404.json", APIError{StatusCode: 404, Code: "0404002", Message: "Phone number not found."}, ErrNotFound},
		{"callbacks/create_callback_415.json", APIError{StatusCode: 415, Code: "0415001", Message: "Unsupported Media Type."}, ErrInvalid},
		{"callbacks/create_callback_422.json", APIError{StatusCode: 422, Code: "0422001", Message: "Unprocessable Entity.", Fields: []FieldError{
			{"talkdesk_phone_number", "is not a Talkdesk number of this account"}}}, ErrInvalid},
		{"callbacks/create_callback_429.json", APIError{StatusCode: 429, Code: "0429001", Message: "Too Many Requests.", RetryAfter: 30 * time.Second,
			Fields: []FieldError{{"contact_phone_number", "a callback to this number is already queued"}}}, ErrRateLimited},
		{"callbacks/create_callback_500.json", APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error."}, nil},
	}, func(c *Client) error {
		return c.CreateCallback(context.Background(), minimalCallback())
	})
}

// A 500 answer to a POST is not retried: Talkdesk may have queued the
// callback. The replay server fails the test on a second request.
func TestCreateCallbackNotRetriedAfter500(t *testing.T) {
	rs := newReplayServer(t, "callbacks/create_callback_500.json")
	err := replayClient(t, rs).CreateCallback(context.Background(), minimalCallback())
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("CreateCallback = %v, want the 500", err)
	}
}

// A 429 is retried: Talkdesk did not act on the request. Its Retry-After
// of 30 s is within the policy's MaxBackoff.
func TestCreateCallbackRetriedAfter429(t *testing.T) {
	rs := newReplayServer(t, "callbacks/create_callback_429.json", "callbacks/create_callback_202_empty.json")
	if err := replayClient(t, rs, WithSleep(func(context.Context, time.Duration) error { return nil }),
		WithRetryPolicy(RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Minute})).
		CreateCallback(context.Background(), minimalCallback()); err != nil {
		t.Fatalf("CreateCallback after a 429: %v", err)
	}
}

func TestCreateCallbackValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *CallbackRequest)
		field  string
	}{
		{"no Talkdesk number", func(r *CallbackRequest) { r.TalkdeskPhoneNumber = "" }, "TalkdeskPhoneNumber"},
		{"no contact number", func(r *CallbackRequest) { r.ContactPhoneNumber = "" }, "ContactPhoneNumber"},
		{"no plus", func(r *CallbackRequest) { r.ContactPhoneNumber = "351912345678" }, "ContactPhoneNumber"},
		{"leading zero", func(r *CallbackRequest) { r.ContactPhoneNumber = "+0351912345678" }, "ContactPhoneNumber"},
		{"one digit", func(r *CallbackRequest) { r.ContactPhoneNumber = "+3" }, "ContactPhoneNumber"},
		{"16 digits", func(r *CallbackRequest) { r.ContactPhoneNumber = "+1234567890123456" }, "ContactPhoneNumber"},
		{"spaces", func(r *CallbackRequest) { r.TalkdeskPhoneNumber = "+1 415 555 0100" }, "TalkdeskPhoneNumber"},
		{"dashes", func(r *CallbackRequest) { r.TalkdeskPhoneNumber = "+1-415-555-0100" }, "TalkdeskPhoneNumber"},
		{"letters", func(r *CallbackRequest) { r.TalkdeskPhoneNumber = "+1415CALLNOW" }, "TalkdeskPhoneNumber"},
		{"just plus", func(r *CallbackRequest) { r.TalkdeskPhoneNumber = "+" }, "TalkdeskPhoneNumber"},
		{"unknown data type", func(r *CallbackRequest) {
			r.Fields = []ContextField{{Name: "a", DataType: FieldText}, {Name: "b", DataType: "email"}}
		}, "Fields[1].DataType"},
		{"data type casing", func(r *CallbackRequest) { r.Fields = []ContextField{{Name: "a", DataType: "URL"}} }, "Fields[0].DataType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newReplayServer(t) // no fixture: any request fails the test
			req := minimalCallback()
			tt.mutate(req)
			wantInvalid(t, replayClient(t, rs).CreateCallback(context.Background(), req), tt.field)
		})
	}
	t.Run("nil", func(t *testing.T) {
		wantInvalid(t, replayClient(t, newReplayServer(t)).CreateCallback(context.Background(), nil), "req")
	})
}
