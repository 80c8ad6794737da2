package talkdesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func ExampleClient_Subscribe() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	handler := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret("a-long-random-secret"))
	callback, err := handler.CallbackURL("https://hooks.example.com/talkdesk", talkdesk.TriggerInboundCallEnds)
	if err != nil {
		log.Fatal(err)
	}
	sub, err := client.Subscribe(context.Background(), talkdesk.TriggerInboundCallEnds, callback)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sub.Trigger, len(sub.ID) > 0)
	// Printing a Subscription redacts the token in its callback URL.
	fmt.Println(strings.Contains(fmt.Sprint(sub), "token=REDACTED"), strings.Contains(fmt.Sprint(sub), "a-long-random-secret"))
	// Output:
	// inboundCallEnds true
	// true false
}

func ExampleClient_Unsubscribe() {
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sub, err := client.Subscribe(ctx, talkdesk.TriggerAgentLogIn, "https://hooks.example.com/talkdesk/agentLogIn")
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Unsubscribe(ctx, sub.Trigger, sub.ID); err != nil {
		log.Fatal(err)
	}
	err = client.Unsubscribe(ctx, sub.Trigger, sub.ID)
	fmt.Println(errors.Is(err, talkdesk.ErrNotFound))
	// Output: true
}

func ExampleParseEvent() {
	body := []byte(`{"event":"call_finished","call_id":"CA7f3e","interaction_id":"9b8a7c","agent_id":"a3f1c9",
		"agent_name":"Miguel Santos","hold_time":"00:00:12","in_business_hours":"yes","tags":"sales, portugal",
		"timestamp":"2024-05-06 10:14:19","recording_url":"{{recording_url}}","waiting_time":"soon"}`)
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, body)
	if err != nil {
		log.Fatal(err) // not a JSON object
	}
	p := ev.Payload.(*talkdesk.InboundCallEndedPayload)
	fmt.Println(ev.OccurredAt, ev.Actor.Type, ev.Actor.Name, ev.InteractionID)
	fmt.Println(p.HoldTime, *p.InBusinessHours, p.Tags, p.RecordingURL == "")
	fmt.Println(ev.Warnings)
	// Output:
	// 2024-05-06 10:14:19 +0000 UTC agent Miguel Santos 9b8a7c
	// 12s true [sales portugal] true
	// [waiting_time "soon": not a duration (seconds or h:mm:ss)]
}

func ExampleNewWebhookHandler() {
	handler := talkdesk.NewWebhookHandler(
		talkdesk.WithWebhookSecret("a-long-random-secret"),
		talkdesk.WithMaxBodyBytes(256<<10),
	)
	handler.Handle(talkdesk.TriggerInboundCallEnds, func(ctx context.Context, ev *talkdesk.Event) error {
		call := ev.Payload.(*talkdesk.InboundCallEndedPayload)
		fmt.Printf("call %s ended after %s (hold %s)\n", call.CallID, call.Duration, call.HoldTime)
		return nil // an error here answers 500 and Talkdesk delivers again
	})
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/", handler) // receives /talkdesk/{trigger}
	server := httptest.NewServer(mux)
	defer server.Close()

	// Talkdesk (here the fake) delivers to the callback URL.
	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	callback, _ := handler.CallbackURL(server.URL+"/talkdesk", talkdesk.TriggerInboundCallEnds)
	ctx := context.Background()
	if _, err := client.Subscribe(ctx, talkdesk.TriggerInboundCallEnds, callback); err != nil {
		log.Fatal(err)
	}
	err = fake.Emit(ctx, talkdesk.TriggerInboundCallEnds, map[string]string{
		"call_id": "CA7f3e", "duration": "154", "hold_time": "00:00:12", "account_id": "acme",
	})
	fmt.Println(err)
	// Output:
	// call CA7f3e ended after 2m34s (hold 12s)
	// <nil>
}

func ExampleWebhookHandler_Dispatch() {
	handler := talkdesk.NewWebhookHandler()
	handler.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		fmt.Println("handled", ev.Type, ev.AgentID)
		return nil
	})
	// Verify, parse and dispatch are separate steps, for use outside
	// net/http (a queue consumer, a serverless function).
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, []byte(`{"agent_id":"a3f1c9","agent_name":"Miguel"}`))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fmt.Println(handler.Dispatch(ctx, ev))
	fmt.Println(handler.Dispatch(ctx, ev)) // the same ID again: already handled
	// Output:
	// handled agentLogIn a3f1c9
	// <nil>
	// <nil>
}
