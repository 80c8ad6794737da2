package talkdesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func ExampleClient_CreateCallback() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	err = client.CreateCallback(context.Background(), &talkdesk.CallbackRequest{
		TalkdeskPhoneNumber: "+14155550100",
		ContactPhoneNumber:  "+351912345678",
		Fields: []talkdesk.ContextField{
			{Name: "ticket", DisplayName: "Ticket", DataType: talkdesk.FieldURL, Value: "https://acme.zendesk.com/agent/tickets/48213"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	queued := fake.Callbacks()[0]
	fmt.Println(queued.ContactPhoneNumber, queued.Fields[0].Value)

	// A number that is not E.164 fails before any request.
	err = client.CreateCallback(context.Background(), &talkdesk.CallbackRequest{
		TalkdeskPhoneNumber: "+14155550100",
		ContactPhoneNumber:  "912 345 678",
	})
	fmt.Println(errors.Is(err, talkdesk.ErrInvalid), err)
	// Output:
	// +351912345678 https://acme.zendesk.com/agent/tickets/48213
	// true talkdesk: invalid ContactPhoneNumber: "912 345 678" is not an E.164 number ("+" and 2 to 15 digits, the first not 0)
}

func ExampleClient_GetUserByEmail() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	fake.AddUser(talkdesk.User{Email: "ana.sousa@example.com", Name: "Ana Sousa", Active: true, Extension: "2101"})
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	user, err := client.GetUserByEmail(context.Background(), "Ana.Sousa@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.Name, user.Active, user.Extension)

	_, err = client.GetUserByEmail(context.Background(), "nobody@example.com")
	fmt.Println(errors.Is(err, talkdesk.ErrNotFound))
	// Output:
	// Ana Sousa true 2101
	// true
}

func ExampleClient_CreateUser() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	newUser := &talkdesk.NewUser{
		UserName:   "rui.almeida@example.com",
		GivenName:  "Rui",
		FamilyName: "Almeida",
		Active:     true,
		Roles:      []string{"Agent"},
		Teams:      []string{"Lisbon", "Claims"},
	}
	user, err := client.CreateUser(ctx, newUser)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserName, user.Roles, user.Teams, user.Meta.ResourceType)

	// Creating the same user again is a SCIM conflict.
	_, err = client.CreateUser(ctx, newUser)
	var apiErr *talkdesk.APIError
	if errors.Is(err, talkdesk.ErrConflict) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// rui.almeida@example.com [Agent] [Lisbon Claims] User
	// 409 uniqueness
}

// PresenceSubscription carries the broker's password, but printing or
// logging it never shows it.
func ExamplePresenceSubscription() {
	sub := talkdesk.PresenceSubscription{
		URL:      "wss://presence-broker.example.com/mqtt",
		Username: "acct-5a1b",
		Password: "s3cret",
		ClientID: "connector-01",
		Topic:    "presence/accounts/5a1b/users/+",
	}
	fmt.Printf("%+v\n", sub)
	// Output: talkdesk.PresenceSubscription{URL: "wss://presence-broker.example.com/mqtt", Username: "acct-5a1b", Password: "[REDACTED]", ClientID: "connector-01", Topic: "presence/accounts/5a1b/users/+"}
}
