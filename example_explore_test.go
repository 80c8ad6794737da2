package talkdesk_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// exampleFake is a fake Talkdesk with two calls of 1 April 2026 in its
// history, and a Client of it.
func exampleFake() (*talkdesktest.Server, *talkdesk.Client) {
	fake := talkdesktest.NewServer()
	yes := true
	for i, agent := range []string{"Ana Sousa", "Rui Almeida"} {
		start := time.Date(2026, 4, 1, 9, i*10, 0, 0, time.UTC)
		fake.AddReportedCalls(talkdesk.CallRecord{
			CallID: fmt.Sprintf("call-%d", i+1), CallSID: fmt.Sprintf("CA%d", i+1), Direction: "inbound",
			StartAt: start, EndAt: start.Add(3 * time.Minute), UserID: fmt.Sprintf("agent-%d", i+1), UserName: agent,
			TalkTime: 150 * time.Second, WaitTime: 20 * time.Second, InBusinessHours: &yes,
		})
	}
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		log.Fatal(err)
	}
	return fake, client
}

func ExampleClient_Calls() {
	fake, client := exampleFake()
	defer fake.Close()
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	// Any range: it is split into report jobs of at most 31 days.
	for call, err := range client.Calls(context.Background(), from, from.AddDate(0, 3, 0), nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(call.CallID, call.StartAt.Format(time.Kitchen), call.UserName, call.TalkTime, *call.InBusinessHours)
	}
	// Output:
	// call-1 9:00AM Ana Sousa 2m30s true
	// call-2 9:10AM Rui Almeida 2m30s true
}

func ExampleClient_CreateReport() {
	fake, client := exampleFake()
	defer fake.Close()
	ctx := context.Background()
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	job, err := client.CreateReport(ctx, &talkdesk.ReportRequest{Type: talkdesk.ReportCalls, From: from, To: from.AddDate(0, 0, 1), Format: talkdesk.ReportCSV})
	if err != nil {
		log.Fatal(err)
	}
	if job, err = client.WaitReport(ctx, job); err != nil {
		log.Fatal(err)
	}
	report, err := client.OpenReport(ctx, job)
	if err != nil {
		log.Fatal(err)
	}
	defer report.Close()
	// Any report type as raw records; a calls report as typed calls with
	// report.Calls.
	for rec, err := range report.Records() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec["call_id"], rec["user_name"], rec["talk_time"])
	}
	// Output:
	// call-1 Ana Sousa 150
	// call-2 Rui Almeida 150
}

func ExampleClient_ReportStatus() {
	fake, client := exampleFake()
	defer fake.Close()
	fake.SetVariants(talkdesktest.Variants{PendingPolls: 1, Ready: talkdesktest.Ready303})
	ctx := context.Background()
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	job, err := client.CreateReport(ctx, &talkdesk.ReportRequest{Type: talkdesk.ReportCalls, From: from, To: from.AddDate(0, 0, 7)})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		if job, err = client.ReportStatus(ctx, job); err != nil {
			log.Fatal(err)
		}
		fmt.Println(job.Status, job.Ready)
	}
	// Output:
	// processing false
	// done true
}

func ExampleImportCalls() {
	fake, client := exampleFake()
	defer fake.Close()
	ctx := context.Background()
	events, err := talkdesk.OpenEventLog("") // a log in memory, for the example
	if err != nil {
		log.Fatal(err)
	}
	defer events.Close()
	from, to := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)

	// What did the webhook feed miss? Nothing came: both calls.
	rec, err := talkdesk.ReconcileCalls(ctx, events, client.Calls(ctx, from, to, nil), from, to)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("missing:", len(rec.Missing))
	for range 2 { // a second import adds nothing
		res, err := talkdesk.ImportCalls(ctx, events, client.Calls(ctx, from, to, nil), 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%+v\n", res)
	}
	page, err := events.Query(ctx, talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.EventReportedCall}})
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range page.Events {
		fmt.Println(ev.Type, ev.InteractionID, ev.OccurredAt.Format(time.Kitchen), ev.Payload.(*talkdesk.CallRecord).UserName)
	}
	// Output:
	// missing: 2
	// {Read:2 Added:2 Present:0}
	// {Read:2 Added:0 Present:2}
	// reportedCall call-1 9:03AM Ana Sousa
	// reportedCall call-2 9:13AM Rui Almeida
}

func ExampleClient_DownloadRecording() {
	fake, client := exampleFake()
	defer fake.Close()
	ended := time.Now().Add(-time.Minute)
	fake.AddRecording("call-1", ended, []byte("ID3 the audio"))
	ctx := context.Background()
	recs, err := client.AwaitCallRecordings(ctx, "call-1", ended, 0)
	if err != nil {
		log.Fatal(err)
	}
	var audio bytes.Buffer // or an *os.File: the audio streams to it
	n, err := client.DownloadRecording(ctx, recs[0].ID, &audio)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(recs), recs[0].Type, recs[0].Duration, n)
	// Output:
	// 1 conversation 30s 13
}

func ExampleClient_CallRecordings() {
	fake, client := exampleFake()
	defer fake.Close()
	fake.AddRecording("call-2", time.Now().Add(-time.Hour), []byte("audio"))
	for rec, err := range client.CallRecordings(context.Background(), "call-2") {
		if err != nil {
			log.Fatal(err) // errors.Is(err, talkdesk.ErrRecordingNotReady) for a call just ended
		}
		fmt.Println(rec.CallID, rec.Type, len(rec.Channels))
	}
	// Output:
	// call-2 conversation 2
}

func ExampleClient_GetRecording() {
	fake, client := exampleFake()
	defer fake.Close()
	added := fake.AddRecording("call-1", time.Now().Add(-time.Hour), []byte("audio"))
	rec, err := client.GetRecording(context.Background(), added.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.CallID, rec.Channels[0][0].Type, rec.Channels[1][0].Type)
	// Output:
	// call-1 AGENT CONTACT
}

func ExampleClient_Users() {
	fake, client := exampleFake()
	defer fake.Close()
	for _, name := range []string{"Ana Sousa", "Rui Almeida", "Joana Ferreira"} {
		fake.AddUser(talkdesk.User{Name: name, Email: name[:3] + "@example.com", Active: true})
	}
	for user, err := range client.Users(context.Background(), 2) { // pages of 2
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(user.Name)
	}
	// Output:
	// Ana Sousa
	// Rui Almeida
	// Joana Ferreira
}

func ExampleClient_GetUser() {
	fake, client := exampleFake()
	defer fake.Close()
	added := fake.AddUser(talkdesk.User{Name: "Ana Sousa", Email: "ana@example.com", Extension: "2101"})
	user, err := client.GetUser(context.Background(), added.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.Name, user.Extension)
	// Output:
	// Ana Sousa 2101
}

func ExampleClient_GetAccount() {
	fake, client := exampleFake()
	defer fake.Close()
	account, err := client.GetAccount(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(account.Name, account.Timezone)
	// Output:
	// talkdesktest UTC
}

func ExampleClient_Do() {
	fake, client := exampleFake()
	defer fake.Close()
	ctx := context.Background()
	// Any endpoint, with the Client's token, throttle, retries and
	// redaction: here the account, by hand.
	req, err := client.NewRequest(ctx, "GET", "account", nil)
	if err != nil {
		log.Fatal(err)
	}
	var account struct {
		Name string `json:"name"`
	}
	resp, err := client.Do(req, &account)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, account.Name)
	// Output:
	// 200 talkdesktest
}

func ExampleCallRecords() {
	// A calls report file you have (CSV here, with Talkdesk's labels).
	file := "Call Id,Type,Start At,End At,User Name,Talk Time,Is In Business Hours\n" +
		"call-1,inbound,2026-04-01T09:00:00Z,2026-04-01T09:03:00Z,Ana Sousa,150,TRUE\n"
	for call, err := range talkdesk.CallRecords(strings.NewReader(file), talkdesk.ReportCSV, nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(call.CallID, call.UserName, call.TalkTime, *call.InBusinessHours, call.EndAt.Sub(call.StartAt))
	}
	// Output:
	// call-1 Ana Sousa 2m30s true 3m0s
}

func ExampleCallRecord_Event() {
	call := &talkdesk.CallRecord{CallID: "call-1", CallSID: "CA1", EndAt: time.Date(2026, 4, 1, 9, 3, 0, 0, time.UTC), UserID: "agent-1"}
	ev, err := call.Event(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ev.ID, ev.Type, ev.InteractionID, ev.CallID, ev.AgentID, ev.OccurredAt)
	// Output:
	// reported-call-call-1 reportedCall call-1 CA1 agent-1 2026-04-01 09:03:00 +0000 UTC
}

func ExampleExploreScopes() {
	scopes := append(talkdesk.ConnectorScopes(), talkdesk.ExploreScopes()...)
	scopes = append(scopes, talkdesk.RecordingScopes()...)
	scopes = append(scopes, talkdesk.DirectoryScopes()...)
	fmt.Println(scopes)
	// Output:
	// [contacts:read callback:write users:read webhooks-trigger:write scim data-reports:read data-reports:write recordings:read users:read account:read]
}
