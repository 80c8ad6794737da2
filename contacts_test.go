package talkdesk

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
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
