package talkdesk

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAPIErrors(t *testing.T) {
	sentinels := []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited, ErrInvalid}
	tests := []struct {
		fixture string
		want    *APIError
		is      error // the one sentinel it matches; nil for none
	}{
		{"errors/400_fields.json", &APIError{StatusCode: 400, Code: "0400001", Message: "Invalid request.", Fields: []FieldError{
			{"email", "must be a valid e-mail address"}, {"limit", "must be at most 50"}}}, ErrInvalid},
		{"errors/400_numeric_code.json", &APIError{StatusCode: 400, Code: "1001", Message: "Invalid contact id."}, ErrInvalid},
		{"errors/401.json", &APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized."}, ErrUnauthorized},
		{"errors/403_description.json", &APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden access.",
			Description: "The access token lacks the contacts:read scope."}, ErrForbidden},
		{"contacts/get_contact_404.json", &APIError{StatusCode: 404, Code: "0404001", Message: "Contact not found.", Path: "/contacts/000000000000000000000000"}, ErrNotFound},
		{"errors/406.json", &APIError{StatusCode: 406, Code: "0406001", Message: "Accept format mime type not supported."}, nil},
		{"errors/409_scim.json", &APIError{StatusCode: 409, Code: "uniqueness", Message: "User with userName 'ana@example.com' already exists."}, ErrConflict},
		{"errors/415.json", &APIError{StatusCode: 415, Code: "0415001", Message: "Unsupported Media Type."}, ErrInvalid},
		{"errors/422.json", &APIError{StatusCode: 422, Code: "0422001", Message: "Unprocessable Entity.", Fields: []FieldError{
			{"talkdesk_phone_number", "is not a Talkdesk number of this account"}}}, ErrInvalid},
		{"errors/429_retry_after.json", &APIError{StatusCode: 429, Code: "0429001", Message: "Too Many Requests.", RetryAfter: 7 * time.Second}, ErrRateLimited},
		{"errors/500_json.json", &APIError{StatusCode: 500, Code: "0500001", Message: "Internal server error."}, nil},
		{"errors/500_empty.json", &APIError{StatusCode: 500, Message: "Internal Server Error"}, nil},
		{"errors/502_html.json", &APIError{StatusCode: 502, Message: "Bad Gateway"}, nil},
		{"errors/503_html_claiming_json.json", &APIError{StatusCode: 503, Message: "Service Unavailable"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			c := replayClient(t, rs, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
			id := strings.TrimPrefix(loadFixture(t, tt.fixture).Request.Path, "/contacts/")
			_, err := c.GetContact(context.Background(), id)
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			tt.want.Method = "GET"
			if tt.want.Path == "" {
				tt.want.Path = "/contacts/c-1"
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) != (s == tt.is) {
					t.Errorf("errors.Is(err, %v) = %v", s, errors.Is(err, s))
				}
			}
		})
	}
}

func TestAPIErrorCleansHostileText(t *testing.T) {
	rs := newReplayServer(t, "errors/400_hostile_text.json")
	_, err := replayClient(t, rs).GetContact(context.Background(), "c-1")
	var e *APIError
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *APIError", err)
	}
	msg := err.Error()
	if strings.Contains(msg, testToken) {
		t.Errorf("error repeats the access token: %q", msg)
	}
	if strings.ContainsFunc(msg, isControl) {
		t.Errorf("error has control characters: %q", msg)
	}
	if len(e.Description) > maxErrorText+3 {
		t.Errorf("description is %d bytes, want at most %d", len(e.Description), maxErrorText+3)
	}
	if want := "token [REDACTED] rejected"; !strings.Contains(e.Message, want) {
		t.Errorf("Message = %q, want it to contain %q", e.Message, want)
	}
}

func TestAPIErrorText(t *testing.T) {
	e := &APIError{
		StatusCode: 400, Code: "0400001", Message: "Invalid request.", Description: "See fields.",
		Fields: []FieldError{{"email", "must be a valid e-mail address"}, {"limit", ""}},
		Method: "GET", Path: "/users",
	}
	want := "talkdesk: GET /users: 400 Bad Request: code 0400001: Invalid request. (See fields.) [email: must be a valid e-mail address; limit]"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%q, want\n%q", got, want)
	}
	e = &APIError{StatusCode: 429, Message: "Too Many Requests", RetryAfter: 2 * time.Second, Method: "POST", Path: "/calls/callback"}
	want = "talkdesk: POST /calls/callback: 429 Too Many Requests: Too Many Requests (retry after 2s)"
	if got := e.Error(); got != want {
		t.Errorf("Error() =\n%q, want\n%q", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"0.25", 250 * time.Millisecond, true},
		{"Sat, 21 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sat, 21 Nov 2026 11:00:00 GMT", 0, true}, // in the past: go now
		{"", 0, false},
		{"-3", 0, false},
		{"soon", 0, false},
		{"99999999", 99999999 * time.Second, true}, // the policy refuses so long a wait
		{"99999999999999999999", math.MaxInt64, true},
		{"NaN", 0, false},
		{"+Inf", 0, false},
		{"0x10", 0, false},
		{"1e3", 0, false},
		{".5", 0, false},
		{"5.", 0, false},
		{"1.2.3", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidationErrorMatchesOnlyErrInvalid(t *testing.T) {
	err := invalid("contactID", "must not be empty")
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
		t.Errorf("ValidationError matches the wrong sentinels")
	}
	if got, want := err.Error(), "talkdesk: invalid contactID: must not be empty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// FuzzAPIError feeds the decoder of error answers any status, Retry-After
// and body. It must not panic, and what it builds must stay clean: bounded
// text without control characters, no trace of the bearer token, and the
// sentinel that matches the status.
func FuzzAPIError(f *testing.F) {
	for _, name := range []string{
		"errors/400_fields.json", "errors/400_hostile_text.json", "errors/400_numeric_code.json",
		"errors/409_scim.json", "errors/429_retry_after.json", "errors/502_html.json", "errors/503_html_claiming_json.json",
	} {
		fx := loadFixture(f, name)
		body := []byte(fx.Response.Body)
		if fx.Response.BodyText != nil {
			body = []byte(*fx.Response.BodyText)
		}
		f.Add(fx.Response.Status, fx.Response.Headers["Retry-After"], body)
	}
	f.Fuzz(func(t *testing.T, status int, retryAfter string, body []byte) {
		header := http.Header{"Retry-After": {retryAfter}}
		e := newAPIError("POST", "/calls/callback", status, header, body, nil, testToken)
		msg := e.Error()
		if strings.Contains(msg, testToken) {
			t.Fatalf("error shows the token: %q", msg)
		}
		if strings.ContainsFunc(msg, isControl) {
			t.Fatalf("error has control characters: %q", msg)
		}
		// Every text field is bounded, and at most 100 fields are kept.
		if limit := 100 + 4*(maxErrorText+3) + 100*2*(maxErrorText+5); len(msg) > limit {
			t.Fatalf("error text is %d bytes, more than %d", len(msg), limit)
		}
		// Any wait, however long, is kept as said (or saturated): the
		// retry policy refuses a wait past MaxBackoff, not the parser.
		if e.RetryAfter < 0 {
			t.Fatalf("RetryAfter %v out of range", e.RetryAfter)
		}
		if got, want := errors.Is(e, ErrNotFound), status == 404; got != want {
			t.Fatalf("status %d: errors.Is(ErrNotFound) = %v", status, got)
		}
		if got, want := errors.Is(e, ErrInvalid), status == 400 || status == 415 || status == 422; got != want {
			t.Fatalf("status %d: errors.Is(ErrInvalid) = %v", status, got)
		}
	})
}
