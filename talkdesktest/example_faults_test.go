package talkdesktest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// Two 503 answers with Retry-After: the Client waits and tries again, and
// the third request succeeds.
func ExampleServer_InjectFault() {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	contact := srv.AddContact(talkdesk.Contact{Name: "Ada"})
	srv.InjectFault(talkdesktest.Fault{
		Path:   "/contacts/" + contact.ID,
		Status: http.StatusServiceUnavailable,
		Header: http.Header{"Retry-After": {"0.01"}},
		Count:  2,
	})

	client, err := talkdesk.NewClient(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	got, err := client.GetContact(context.Background(), contact.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, srv.Count("GET", "/contacts/"+contact.ID))
	// Output: Ada 3
}

// A gateway that fails after Talkdesk acted: the callback is queued, the
// Client gets a 502, and it does not send the callback again.
func ExampleFault_afterAct() {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	srv.InjectFault(talkdesktest.Fault{Method: "POST", Path: "/calls/callback", Status: http.StatusBadGateway, AfterAct: true})

	client, err := talkdesk.NewClient(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	err = client.CreateCallback(context.Background(), &talkdesk.CallbackRequest{
		TalkdeskPhoneNumber: "+14155550100",
		ContactPhoneNumber:  "+351912345678",
	})
	var apiErr *talkdesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("status:", apiErr.StatusCode)
	}
	fmt.Println("callbacks queued:", srv.Acted(talkdesktest.OpCreateCallback))
	// Output:
	// status: 502
	// callbacks queued: 1
}

// A token endpoint that stalls: the call ends at the caller's deadline.
func ExampleFault_stall() {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	srv.InjectFault(talkdesktest.Fault{Path: talkdesktest.TokenPath, Kind: talkdesktest.FaultStall})

	client, err := talkdesk.NewClient(srv.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = client.GetContact(ctx, "a1b2c3")
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output: true
}

// MaxInWindow shows what a throttle let through: here a Client limited to
// 5 calls an hour tries 8 calls with a one-second deadline each. Five
// arrive; the others fail at once, since they could not start before
// their deadline.
func ExampleServer_MaxInWindow() {
	srv := talkdesktest.NewServer()
	defer srv.Close()
	contact := srv.AddContact(talkdesk.Contact{Name: "Ada"})
	client, err := talkdesk.NewClient(append(srv.ClientOptions(), talkdesk.WithRateLimit(5, time.Hour))...)
	if err != nil {
		log.Fatal(err)
	}
	failed := 0
	for range 8 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := client.GetContact(ctx, contact.ID); errors.Is(err, context.DeadlineExceeded) {
			failed++
		}
		cancel()
	}
	fmt.Println(srv.MaxInWindow("GET", "/contacts/"+contact.ID, time.Hour), failed)
	// Output: 5 3
}
