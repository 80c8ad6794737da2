package talkdesk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// fastRetries retries four times with millisecond backoffs.
var fastRetries = talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})

var callback = &talkdesk.CallbackRequest{TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+351912345678"}

// After a 500 Talkdesk may have queued the callback, so the Client does not
// send it again: one request reached the fake, and a retry that succeeded
// would have queued a second callback.
func TestCreateCallbackNotRetriedOn500(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Method: "POST", Path: "/calls/callback", Status: 500, Count: 1})
	err := testkit.FakeClient(t, srv, fastRetries).CreateCallback(context.Background(), callback)
	var apiErr *talkdesk.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("CreateCallback = %v, want the 500", err)
	}
	if n := srv.Count("POST", "/calls/callback"); n != 1 {
		t.Errorf("the fake received %d callback requests, want 1 (no retry)", n)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 0 {
		t.Errorf("the fake acted on %d, want 0", n)
	}
}

// A 429 means Talkdesk did not act, so the Client retries, and the
// callback is queued exactly once.
func TestCreateCallbackRetriedOn429(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	srv.InjectFault(talkdesktest.Fault{Method: "POST", Path: "/calls/callback", Status: 429, Count: 2})
	if err := testkit.FakeClient(t, srv, fastRetries).CreateCallback(context.Background(), callback); err != nil {
		t.Fatalf("CreateCallback after two 429s: %v", err)
	}
	if n := srv.Count("POST", "/calls/callback"); n != 3 {
		t.Errorf("the fake received %d callback requests, want 3", n)
	}
	if n := srv.Acted(talkdesktest.OpCreateCallback); n != 1 {
		t.Errorf("the fake acted on %d, want 1", n)
	}
	if got := srv.Callbacks(); len(got) != 1 || got[0].ContactPhoneNumber != callback.ContactPhoneNumber {
		t.Errorf("Callbacks() = %+v", got)
	}
}

// Invalid requests fail before reaching the fake.
func TestValidationSendsNothing(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	c := testkit.FakeClient(t, srv)
	ctx := context.Background()
	calls := map[string]error{
		"CreateCallback": c.CreateCallback(ctx, &talkdesk.CallbackRequest{TalkdeskPhoneNumber: "+1", ContactPhoneNumber: "+351912345678"}),
		"CreateUser": func() error {
			_, err := c.CreateUser(ctx, &talkdesk.NewUser{UserName: "a@b.c", GivenName: "A"})
			return err
		}(),
		"GetUserByEmail": func() error { _, err := c.GetUserByEmail(ctx, ""); return err }(),
	}
	for name, err := range calls {
		if !errors.Is(err, talkdesk.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the fake received %d requests, want 0", n)
	}
}
