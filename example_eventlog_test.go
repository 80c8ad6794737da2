package talkdesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// exampleEvents parses three deliveries of one call and a note.
func exampleEvents() []*talkdesk.Event {
	bodies := []struct {
		t    talkdesk.Trigger
		body string
	}{
		{talkdesk.TriggerInboundCallStarts, `{"event":"call_started","interaction_id":"int-1","call_id":"CA-1","agent_id":"ag-1","agent_name":"Miguel Santos","waiting_time":"21"}`},
		{talkdesk.TriggerInboundCallEnds, `{"event":"call_finished","interaction_id":"int-1","call_id":"CA-1","agent_id":"ag-1","agent_name":"Miguel Santos","duration":"154","start_time":"2024-05-06T10:11:12Z","timestamp":"2024-05-06T10:13:46Z"}`},
		{talkdesk.TriggerInboundCallEnds, `{"event":"call_finished","interaction_id":"int-2","call_id":"CA-2","agent_id":"ag-2","agent_name":"Rita Lopes","duration":"61","timestamp":"2024-05-06T11:00:01Z"}`},
		{talkdesk.TriggerNoteCreated, `{"event":"note_created","contact_id":"ct-1","contact_name":"Joana Ferreira","title":"Claim 4471"}`},
	}
	var evs []*talkdesk.Event
	for _, b := range bodies {
		ev, err := talkdesk.ParseEvent(b.t, []byte(b.body))
		if err != nil {
			log.Fatal(err)
		}
		evs = append(evs, ev)
	}
	// inboundCallStarts carries no time, so its event occurs when it is
	// received; date it here as if it had been received when the call began.
	evs[0].OccurredAt = time.Date(2024, 5, 6, 10, 11, 33, 0, time.UTC)
	return evs
}

func ExampleOpenEventLog() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.jsonl")

	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		log.Fatal(err) // ErrEventLogLocked if another process has it open
	}
	ctx := context.Background()
	for _, ev := range exampleEvents() {
		if _, err := l.Append(ctx, ev); err != nil { // on disk when it returns
			log.Fatal(err)
		}
	}
	added, _ := l.Append(ctx, exampleEvents()[1]) // a redelivery
	fmt.Println("redelivery added:", added)
	l.Close()

	l, err = talkdesk.OpenEventLog(path) // indexes rebuilt from the file
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	fmt.Println("events:", l.Stats().Events)
	// Output:
	// redelivery added: false
	// events: 4
}

func ExampleEventLog_Query() {
	l, _ := talkdesk.OpenEventLog("") // in memory
	defer l.Close()
	ctx := context.Background()
	for _, ev := range exampleEvents() {
		l.Append(ctx, ev)
	}
	page, err := l.Query(ctx, talkdesk.EventQuery{
		Types: []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds},
		Since: time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC),
		Limit: 1,
	})
	if err != nil {
		log.Fatal(err)
	}
	for page != nil {
		for _, ev := range page.Events {
			call := ev.Payload.(*talkdesk.InboundCallEndedPayload)
			fmt.Println(ev.OccurredAt.Format(time.TimeOnly), call.CallID, call.AgentName, call.Duration)
		}
		if page.NextCursor == "" {
			break
		}
		page, _ = l.Query(ctx, talkdesk.EventQuery{
			Types:  []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds},
			Since:  time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC),
			Until:  time.Date(2024, 5, 7, 0, 0, 0, 0, time.UTC),
			Limit:  1,
			Cursor: page.NextCursor,
		})
	}
	// Output:
	// 10:13:46 CA-1 Miguel Santos 2m34s
	// 11:00:01 CA-2 Rita Lopes 1m1s
}

func ExampleEventLog_Events() {
	l, _ := talkdesk.OpenEventLog("")
	defer l.Close()
	ctx := context.Background()
	for _, ev := range exampleEvents() {
		l.Append(ctx, ev)
	}
	// One interaction's timeline.
	for ev, err := range l.Events(ctx, talkdesk.EventQuery{InteractionID: "int-1"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Type, ev.Actor.Name)
	}
	// Output:
	// inboundCallStarts Miguel Santos
	// inboundCallEnds Miguel Santos
}

func ExampleEventLog_Export() {
	l, _ := talkdesk.OpenEventLog("")
	defer l.Close()
	ctx := context.Background()
	for _, ev := range exampleEvents() {
		l.Append(ctx, ev)
	}
	// JSON Lines of one agent's events, for a BI tool.
	if err := l.Export(ctx, os.Stdout, talkdesk.EventQuery{AgentID: "ag-2"}); err != nil {
		log.Fatal(err)
	}
}

func ExampleWithEventLog() {
	l, err := talkdesk.OpenEventLog(filepath.Join(os.TempDir(), "talkdesk-events.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	// Every event is on disk before a handler sees it and before Talkdesk
	// gets its 200; redeliveries are stored once.
	handler := talkdesk.NewWebhookHandler(
		talkdesk.WithWebhookSecret(os.Getenv("TALKDESK_WEBHOOK_SECRET")),
		talkdesk.WithEventLog(l),
	)
	_ = handler
}

// A store of your own checks each event as the SDK's stores do, before it
// keeps anything.
func ExampleEvent_Validate() {
	ev := exampleEvents()[1]
	fmt.Println(ev.Validate())
	ev.OccurredAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) // built by hand, wrongly
	err := ev.Validate()
	fmt.Println(errors.Is(err, talkdesk.ErrInvalid), err)
	// Output:
	// <nil>
	// true talkdesk: invalid event.OccurredAt: outside the times an event can hold (1677-09-21 to 2262-04-11)
}
