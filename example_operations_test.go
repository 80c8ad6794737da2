package talkdesk_test

import (
	"context"
	"encoding/json"
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

func ExampleClient_CreateAgents() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	res, err := client.CreateAgents(context.Background(),
		talkdesk.NewAgent{Email: "ines@example.com", FullName: "Inês Costa", Role: talkdesk.RoleAgent, Active: talkdesk.Ptr(true)},
		talkdesk.NewAgent{Email: "ines@example.com", FullName: "Inês Costa again", Role: talkdesk.RoleAgent},
	)
	if err != nil {
		log.Fatal(err)
	}
	// A batch that partly failed is no error: each agent has its outcome.
	for _, a := range res.Created {
		fmt.Println("created", a.Email)
	}
	for _, a := range res.Failed {
		fmt.Println("failed", a.Email+":", a.Message)
	}
	// Output:
	// created ines@example.com
	// failed ines@example.com: Email has already been taken
}

// A compare-and-set of a user's status, after subscribing to presence.
func ExampleClient_UpdateUserStatus() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	user := fake.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana"})
	fake.AddCustomStatus(talkdesk.CustomStatus{ID: "lunch", DisplayName: "Lunch"})
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.SubscribePresence(ctx); err != nil {
		log.Fatal(err)
	}

	// Without a current status, the status is set whatever it was.
	if err := client.UpdateUserStatus(ctx, user.ID, "", talkdesktest.StatusAvailable); err != nil {
		log.Fatal(err)
	}
	// With one, Talkdesk refuses when the user's status is another.
	err = client.UpdateUserStatus(ctx, user.ID, "lunch", talkdesktest.StatusAvailable)
	fmt.Println(errors.Is(err, talkdesk.ErrInvalid))
	err = client.UpdateUserStatus(ctx, user.ID, talkdesktest.StatusAvailable, "lunch")
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

func ExampleClient_GetUserStatuses() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	ana := fake.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana"})
	rui := fake.AddUser(talkdesk.User{Email: "rui@example.com", Name: "Rui"})
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.SubscribePresence(ctx); err != nil {
		log.Fatal(err)
	}
	if err := client.UpdateUserStatus(ctx, ana.ID, "", talkdesktest.StatusAvailable); err != nil {
		log.Fatal(err)
	}

	statuses, err := client.GetUserStatuses(ctx, ana.ID, rui.ID)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range statuses {
		fmt.Println(s.ID == ana.ID, s.Status)
	}
	// Output:
	// true available
	// false offline
}

func ExampleClient_ListCustomStatuses() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	fake.AddCustomStatus(talkdesk.CustomStatus{ID: "lunch", DisplayName: "Lunch"})
	fake.AddCustomStatus(talkdesk.CustomStatus{ID: "training", DisplayName: "Training"})
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	statuses, err := client.ListCustomStatuses(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range statuses {
		fmt.Println(s.ID, s.DisplayName)
	}
	// Output:
	// lunch Lunch
	// training Training
}

func ExampleClient_GetUserPresence() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	user := fake.AddUser(talkdesk.User{Email: "ana@example.com", Name: "Ana"})
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	p, err := client.GetUserPresence(ctx, user.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.UserID == user.ID, p.Status)

	_, err = client.GetUserPresence(ctx, "nobody")
	fmt.Println(errors.Is(err, talkdesk.ErrNotFound))
	// Output:
	// true offline
	// true
}

func ExampleClient_SubscribePresence() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	sub, err := client.SubscribePresence(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// Connect an MQTT client to sub.URL with sub.Username, sub.Password
	// and sub.ClientID, and subscribe to sub.Topic. Printed, the password
	// is hidden.
	fmt.Println(sub.URL == talkdesktest.BrokerURL, sub.Topic != "")
	// Output:
	// true true
}

func ExampleClient_CreateWorkspaceNotification() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	err = client.CreateWorkspaceNotification(ctx, talkdesk.NotificationEmail, map[string]any{
		"to":      "supervisors@example.com",
		"subject": "Queue over 20 calls",
		"body":    "Sales has 23 calls waiting.",
	})
	if err != nil {
		log.Fatal(err)
	}
	sent := fake.Notifications()[0]
	fmt.Println(sent.Kind, sent.Fields["subject"])
	// Output:
	// email Queue over 20 calls
}

// The schema says which fields a notification of each kind takes.
func ExampleClient_GetNotificationSchema() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	schema, err := client.GetNotificationSchema(context.Background(), talkdesk.NotificationPush)
	if err != nil {
		log.Fatal(err)
	}
	var s struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Required)
	// Output:
	// [user_id message]
}

func ExampleClient_GetListSchema() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}

	schema, err := client.GetListSchema(context.Background(), string(talkdesk.NotificationEmail))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(json.Valid(schema))
	// Output:
	// true
}
