package talkdesk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestGetContact(t *testing.T) {
	tests := []struct {
		fixture string
		id      string
		want    *Contact
		wantErr error
	}{
		{
			fixture: "contacts/get_contact_200.json",
			id:      "5f3e1c0a9b8d7e6f5a4b3c2d",
			want: &Contact{
				ID:      "5f3e1c0a9b8d7e6f5a4b3c2d",
				Name:    "Joana Ferreira",
				Company: "Lusitania Seguros",
				Phones: []Phone{
					{Label: "mobile", Number: "+351912345678"},
					{Label: "work", Number: "+351213456789"},
				},
			},
		},
		{
			fixture: "contacts/get_contact_no_phones.json",
			id:      "64b7f0c2e4b0a1d2c3e4f5a6",
			want:    &Contact{ID: "64b7f0c2e4b0a1d2c3e4f5a6", Name: "Walk-in caller"},
		},
		{
			fixture: "contacts/get_contact_404.json",
			id:      "000000000000000000000000",
			wantErr: ErrNotFound,
		},
		{
			// Every character that could change the path structure is
			// escaped into the one segment.
			fixture: "contacts/get_contact_escaped_id.json",
			id:      "../../admin?x=1#frag é",
			wantErr: ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			got, err := replayClient(t, rs).GetContact(context.Background(), tt.id)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("GetContact error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("GetContact (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetContactRejectsBadIDs(t *testing.T) {
	for _, id := range []string{"", ".", "..", "a\r\nHost: evil.com", "a\x00b", "\xff\xfe", string(make([]byte, 2000))} {
		rs := newReplayServer(t) // no fixture: any request fails the test
		_, err := replayClient(t, rs).GetContact(context.Background(), id)
		var ve *ValidationError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Field != "contactID" {
			t.Errorf("GetContact(%q) error = %v, want a ValidationError of contactID", id, err)
		}
	}
}

// TestIncompleteAnswersAreErrors: a success answer that lacks what the
// operation returns is an error matching ErrMalformedResponse, not a zero
// value.
func TestIncompleteAnswersAreErrors(t *testing.T) {
	tests := []struct {
		name, body string
		call       func(ctx context.Context, c *Client) error
	}{
		{"GetContact {}", `{}`, func(ctx context.Context, c *Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
		{"GetContact null", `null`, func(ctx context.Context, c *Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
		{"GetContact contact null", `{"contact":null}`, func(ctx context.Context, c *Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
		{"GetContact contact without id", `{"contact":{"name":"Ada"}}`, func(ctx context.Context, c *Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
		{"CreateUser {}", `{}`, func(ctx context.Context, c *Client) error {
			_, err := c.CreateUser(ctx, &NewUser{UserName: "ada@example.com", GivenName: "Ada", FamilyName: "Lovelace"})
			return err
		}},
		{"GetUserByEmail user without id", `{"_embedded":{"users":[{"email":"ada@example.com"}]}}`, func(ctx context.Context, c *Client) error {
			_, err := c.GetUserByEmail(ctx, "ada@example.com")
			return err
		}},
		{"GetUserPresence {}", `{}`, func(ctx context.Context, c *Client) error { _, err := c.GetUserPresence(ctx, "u-1"); return err }},
		{"SubscribePresence null", `null`, func(ctx context.Context, c *Client) error { _, err := c.SubscribePresence(ctx); return err }},
		{"GetListSchema null", `null`, func(ctx context.Context, c *Client) error { _, err := c.GetListSchema(ctx, "email"); return err }},
		{"GetNotificationSchema {}", `{}`, func(ctx context.Context, c *Client) error {
			_, err := c.GetNotificationSchema(ctx, NotificationEmail)
			return err
		}},
		{"GetContact not JSON", `{"contact":`, func(ctx context.Context, c *Client) error { _, err := c.GetContact(ctx, "c-1"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.body)
			}))
			defer api.Close()
			c, err := NewClient(WithBaseURL(api.URL), WithRateLimit(0, 0),
				WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})))
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.call(context.Background(), c); !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("error = %v, want ErrMalformedResponse", err)
			}
		})
	}
}
