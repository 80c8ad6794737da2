package talkdesk

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errorCase is one documented error answer of an operation: the fixture
// that gives it and the *APIError the call must return. Method and Path of
// want are taken from the fixture's request.
type errorCase struct {
	fixture string
	want    APIError
	is      error // the one sentinel the error matches; nil for none
}

var sentinels = []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrRateLimited, ErrInvalid}

// testErrorFixtures replays each case's fixture to call, made with a
// Client that does not retry, and checks the *APIError it returns and the
// sentinels it matches.
func testErrorFixtures(t *testing.T, cases []errorCase, call func(c *Client) error) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			err := call(replayClient(t, rs, WithRetryPolicy(RetryPolicy{MaxAttempts: 1})))
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			f := loadFixture(t, tt.fixture)
			want := tt.want
			want.Method, want.Path = f.Request.Method, f.Request.Path
			if diff := cmp.Diff(&want, got); diff != "" {
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

// wantInvalid checks that err is a *ValidationError of field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var ve *ValidationError
	if !errors.Is(err, ErrInvalid) || !errors.As(err, &ve) || ve.Field != field {
		t.Errorf("error = %v, want a ValidationError of %s", err, field)
	}
}
