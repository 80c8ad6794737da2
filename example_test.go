package talkdesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
	"golang.org/x/time/rate"
)

// This example runs against talkdesktest, the fake Talkdesk that tests and
// the quick start use; against real Talkdesk only the options differ.
func Example() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	seeded := fake.AddContact(talkdesk.Contact{
		ID:     "5f3e1c0a9b8d7e6f5a4b3c2d",
		Name:   "Joana Ferreira",
		Phones: []talkdesk.Phone{{Label: "mobile", Number: "+351912345678"}},
	})

	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	contact, err := client.GetContact(context.Background(), seeded.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(contact.Name, contact.Phones[0].Number)
	// Output: Joana Ferreira +351912345678
}

func ExampleNewClient() {
	client, err := talkdesk.NewClient(
		talkdesk.WithClientCredentials(os.Getenv("TALKDESK_ACCOUNT"), os.Getenv("TALKDESK_CLIENT_ID"), os.Getenv("TALKDESK_CLIENT_SECRET"),
			talkdesk.ConnectorScopes()...),
		talkdesk.WithRegion(talkdesk.RegionEU),
		talkdesk.WithRetryPolicy(talkdesk.RetryPolicy{MaxAttempts: 6}),
	)
	if err != nil {
		log.Fatal(err) // ErrInvalid: an account name that is not a DNS label, an empty ID or secret
	}
	_ = client
}

func ExampleClient_GetContact() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	_, err = client.GetContact(context.Background(), "64b7f0c2e4b0a1d2c3e4f5a6")
	var apiErr *talkdesk.APIError
	switch {
	case errors.Is(err, talkdesk.ErrNotFound) && errors.As(err, &apiErr):
		fmt.Println("no such contact:", apiErr.StatusCode, apiErr.Message)
	case err != nil:
		log.Fatal(err)
	}
	// Output: no such contact: 404 Contact not found
}

// Two Clients of the same Talkdesk connection in one process share one
// throttle, so that together they stay within 100 calls per 60 seconds.
func ExampleWithLimiter() {
	shared, err := talkdesk.NewWindowLimiter(100, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	fake := talkdesktest.NewServer()
	defer fake.Close()
	reports, _ := talkdesk.NewClient(append(fake.ClientOptions(), talkdesk.WithLimiter(shared))...)
	sync, _ := talkdesk.NewClient(append(fake.ClientOptions(), talkdesk.WithLimiter(shared))...)
	fmt.Println(reports != nil, sync != nil, shared)

	// A token bucket from golang.org/x/time/rate also fits. To keep Talkdesk's
	// guarantee it needs burst + rate*60s <= 100: here 10 + 90 per minute.
	bucket := rate.NewLimiter(rate.Every(time.Minute/90), 10)
	_, err = talkdesk.NewClient(append(fake.ClientOptions(), talkdesk.WithLimiter(bucket))...)
	fmt.Println(err)
	// Output:
	// true true 100 requests per 1m0s
	// <nil>
}

func ExampleAuthCodeConfig() {
	cfg, err := talkdesk.AuthCodeConfig("acme", talkdesk.RegionUS, "my-client-id", "my-client-secret",
		"https://crm.example.com/talkdesk/callback", "contacts:read", "callback:write")
	if err != nil {
		log.Fatal(err)
	}
	// Send the user to this URL. Talkdesk redirects back with ?code=...&state=...,
	// and the callback handler does:
	//	tok, err := cfg.Exchange(ctx, r.URL.Query().Get("code"))
	//	client, err := talkdesk.NewClient(talkdesk.WithTokenSource(cfg.TokenSource(ctx, tok)))
	fmt.Println(cfg.AuthCodeURL("xyz"))

	// Output: https://acme.talkdeskid.com/oauth/authorize?client_id=my-client-id&redirect_uri=https%3A%2F%2Fcrm.example.com%2Ftalkdesk%2Fcallback&response_type=code&scope=contacts%3Aread+callback%3Awrite&state=xyz
}

func ExampleAPIError() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	fake.InjectFault(talkdesktest.Fault{Status: 403})
	client, _ := talkdesk.NewClient(fake.ClientOptions()...)

	_, err := client.GetContact(context.Background(), "5f3e1c0a9b8d7e6f5a4b3c2d")
	var apiErr *talkdesk.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Method, apiErr.Path, errors.Is(err, talkdesk.ErrForbidden))
	}
	// Output: 403 GET /contacts/5f3e1c0a9b8d7e6f5a4b3c2d true
}

// Printing or logging a Client, with any verb, shows its settings and never
// its credentials or tokens (String, GoString, Format and LogValue agree).
func ExampleClient_String() {
	client, err := talkdesk.NewClient(talkdesk.WithClientCredentials("acme", "client-id", "client-secret"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client)
	fmt.Printf("%#v\n", client)
	// Output:
	// talkdesk.Client{api: https://api.talkdeskapp.com, auth: client credentials of account "acme" from https://acme.talkdeskid.com/oauth/token, limit: 100 requests per 1m0s, retries: 4 attempts}
	// talkdesk.Client{api: https://api.talkdeskapp.com, auth: client credentials of account "acme" from https://acme.talkdeskid.com/oauth/token, limit: 100 requests per 1m0s, retries: 4 attempts}
}
