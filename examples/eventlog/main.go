// Command eventlog keeps a conversation log of Talkdesk events with
// talkdesk.EventLog.
//
//	go run ./examples/eventlog [-log events.jsonl]
//
// It starts an embedded fake Talkdesk (package talkdesktest), subscribes a
// WebhookHandler that stores every event in an EventLog before handling
// it, and has the fake deliver three calls (each arrives, is answered and
// ends) and two notes, one call's end delivered twice as Talkdesk does when
// an answer is lost. Then it prints the timeline of one interaction and
// exports the day's events as JSON Lines to stdout.
//
// The same server serves the log over HTTP (talkdesk.NewEventLogHandler)
// under /log/, for tools in any language, with an API key
// (TALKDESK_EVENTLOG_API_KEY, or one made up for the run): the example
// reads one page through it. With -serve it keeps serving until
// interrupted (Ctrl-C ends it at once, open streams too; a second Ctrl-C
// kills it), and prints curl lines for a page, an export and the live
// stream:
//
//	export TALKDESK_EVENTLOG_API_KEY=secret-key
//	go run ./examples/eventlog -serve 127.0.0.1:8080
//
// The demo's calls happen on 2 March 2026 from 09:00 UTC, always the same:
// the log is a JSON Lines file (-log; a temporary file by default), and a
// second run with the same -log finds the first run's events and adds
// none, each delivery being a redelivery of one stored.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the process
	}()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eventlog:", err)
		os.Exit(1)
	}
}

// call is one call of the demo.
type call struct {
	interaction, callID, agentID, agentName, contactID, contactName string
	start                                                           time.Time
	talk                                                            time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("eventlog", flag.ContinueOnError)
	flags.SetOutput(out)
	logPath := flags.String("log", "", "the event log file (default: a new temporary file)")
	serve := flags.String("serve", "", "after the demo, keep serving the log over HTTP at this address (host:port) until interrupted")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *logPath == "" {
		dir, err := os.MkdirTemp("", "talkdesk-eventlog")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*logPath = filepath.Join(dir, "events.jsonl")
	}
	log, err := talkdesk.OpenEventLog(*logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(out, "Event log %s: %d events\n", *logPath, log.Stats().Events)

	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		return err
	}

	// The demo's clock: every delivery is received at a fixed time of the
	// demo, so that every run gives the same events.
	demoNow := demoDay.Add(9 * time.Hour)
	clock := func() time.Time { return demoNow }

	// Every event goes to the log, durably, before the handlers see it.
	handler := talkdesk.NewWebhookHandler(talkdesk.WithEventLog(log), talkdesk.WithWebhookClock(clock))
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/", handler)

	// The log over HTTP, read-only, behind an API key.
	apiKey := os.Getenv("TALKDESK_EVENTLOG_API_KEY")
	if apiKey == "" {
		b := make([]byte, 16)
		rand.Read(b)
		apiKey = hex.EncodeToString(b)
	}
	logAPI, err := talkdesk.NewEventLogHandler(log, talkdesk.WithAPIKeys(apiKey))
	if err != nil {
		return err
	}
	mux.Handle("/log/", logAPI)

	addr := "127.0.0.1:0"
	if *serve != "" {
		addr = *serve
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	server := newServer(mux)
	// Shutdown waits for the requests under way: the log's streams and
	// exports end when it starts.
	server.RegisterOnShutdown(func() { logAPI.Close() })
	go server.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		server.Shutdown(ctx)
	}()

	for _, t := range []talkdesk.Trigger{
		talkdesk.TriggerInboundCallReachesContactCenter, talkdesk.TriggerInboundCallStarts,
		talkdesk.TriggerInboundCallEnds, talkdesk.TriggerNoteCreated,
	} {
		cb, err := handler.CallbackURL("http://"+ln.Addr().String()+"/talkdesk", t)
		if err != nil {
			return err
		}
		if _, err := client.Subscribe(ctx, t, cb); err != nil {
			return err
		}
	}

	// Arrivals and answers carry no time, so they occur when received (the
	// demo's clock); the ends carry their own times.
	calls := []call{
		{"int-7a41c9e0", "CA-1001", "ag-miguel", "Miguel Santos", "ct-joana", "Joana Ferreira", demoDay.Add(9 * time.Hour), 154 * time.Second},
		{"int-7a41c9e1", "CA-1002", "ag-rita", "Rita Lopes", "ct-jose", "José Simões", demoDay.Add(9*time.Hour + 4*time.Minute), 61 * time.Second},
		{"int-7a41c9e2", "CA-1003", "ag-miguel", "Miguel Santos", "ct-ana", "Ana Costa", demoDay.Add(9*time.Hour + 12*time.Minute), 305 * time.Second},
	}
	for _, c := range calls {
		common := map[string]string{
			"account_id": "acme-5d1c", "call_id": c.callID, "interaction_id": c.interaction,
			"contact.id": c.contactID, "contact.name": c.contactName, "contact_phone_number": "+351912345678",
			"talkdesk_phone_number": "+14155550100", "interaction.type": "inbound",
		}
		agent := map[string]string{"agent_id": c.agentID, "agent.name": c.agentName, "agent.email": c.agentID + "@acme.example"}
		steps := []struct {
			t      talkdesk.Trigger
			fields map[string]string
		}{
			{talkdesk.TriggerInboundCallReachesContactCenter, merge(common, map[string]string{"event": "call_reaches_contact_center"})},
			{talkdesk.TriggerInboundCallStarts, merge(common, agent, map[string]string{"event": "call_started", "waiting_time": "21"})},
			{talkdesk.TriggerInboundCallEnds, merge(common, agent, map[string]string{
				"event": "call_finished", "start_time": c.start.Format(time.RFC3339), "timestamp": c.start.Add(c.talk).Format(time.RFC3339),
				"duration": fmt.Sprint(c.talk.Seconds()), "hold_time": "0", "in_business_hours": "true",
			})},
		}
		for i, s := range steps {
			// It arrives, waits 21 s, is answered, ends.
			demoNow = []time.Time{c.start.Add(-21 * time.Second), c.start, c.start.Add(c.talk)}[i]
			if err := fake.Emit(ctx, s.t, s.fields); err != nil {
				return err
			}
		}
	}
	// Talkdesk did not get the answer to the first call's end: it delivers
	// it again. The log recognises the event by its ID and keeps one.
	first := calls[0]
	demoNow = first.start.Add(first.talk + 30*time.Second)
	if err := fake.Emit(ctx, talkdesk.TriggerInboundCallEnds, map[string]string{
		"account_id": "acme-5d1c", "call_id": first.callID, "interaction_id": first.interaction,
		"contact.id": first.contactID, "contact.name": first.contactName, "contact_phone_number": "+351912345678",
		"talkdesk_phone_number": "+14155550100", "interaction.type": "inbound", "agent_id": first.agentID,
		"agent.name": first.agentName, "agent.email": first.agentID + "@acme.example", "event": "call_finished",
		"start_time": first.start.Format(time.RFC3339), "timestamp": first.start.Add(first.talk).Format(time.RFC3339),
		"duration": fmt.Sprint(first.talk.Seconds()), "hold_time": "0", "in_business_hours": "true",
	}); err != nil {
		return err
	}
	demoNow = demoDay.Add(9*time.Hour + 30*time.Minute)
	for _, n := range []map[string]string{
		{"event": "note_created", "contact_id": "ct-joana", "contact.name": "Joana Ferreira", "contact.email": "joana@example.pt", "title": "Claim 4471", "content": "Call back after 17:00."},
		{"event": "note_created", "contact_id": "ct-ana", "contact.name": "Ana Costa", "contact.email": "ana@example.pt", "title": "Renewal", "content": "Send the new quote."},
	} {
		if err := fake.Emit(ctx, talkdesk.TriggerNoteCreated, n); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Received %d deliveries; the log holds %d events\n", 3*3+1+2, log.Stats().Events)

	fmt.Fprintf(out, "\nTimeline of interaction %s:\n", first.interaction)
	for ev, err := range log.Events(ctx, talkdesk.EventQuery{InteractionID: first.interaction}) {
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s  %-32s %-7s %s\n", ev.OccurredAt.Format("15:04:05"), ev.Type, ev.Actor.Type, describe(ev))
	}

	// The same, over HTTP, as a BI tool or a script would ask.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		"http://"+ln.Addr().String()+"/log/events?interaction_id="+first.interaction, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var page struct {
		Events     []json.RawMessage `json:"events"`
		NextCursor string            `json:"next_cursor"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /log/events: %s, %v", resp.Status, err)
	}
	fmt.Fprintf(out, "\nOver HTTP, GET /log/events?interaction_id=%s: %d events\n", first.interaction, len(page.Events))

	if *serve != "" {
		fmt.Fprintf(out, "\nServing the log until interrupted. Try:\n")
		if os.Getenv("TALKDESK_EVENTLOG_API_KEY") == "" {
			fmt.Fprintf(out, "  export TALKDESK_EVENTLOG_API_KEY=%s\n", apiKey)
		}
		for _, line := range CurlLines("http://" + ln.Addr().String() + "/log/events") {
			fmt.Fprintf(out, "  %s\n", line)
		}
		<-ctx.Done()
		return nil
	}

	fmt.Fprintf(out, "\nExport of %s (JSON Lines):\n", demoDay.Format("2006-01-02"))
	err = log.Export(ctx, out, talkdesk.EventQuery{Since: demoDay, Until: demoDay.Add(24 * time.Hour)})
	if err != nil {
		return err
	}
	return nil
}

// demoDay is the day of the demo's calls.
var demoDay = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// CurlLines returns the curl commands -serve prints for the log served at
// base (http://HOST:PORT/log/events): a page of one agent's events, the
// export of the demo's day, and the live stream of call endings, with the
// key from $TALKDESK_EVENTLOG_API_KEY.
func CurlLines(base string) []string {
	auth := `-H "Authorization: Bearer $TALKDESK_EVENTLOG_API_KEY"`
	return []string{
		fmt.Sprintf("curl -sS %s '%s?agent_id=ag-miguel&limit=2'", auth, base),
		fmt.Sprintf("curl -sS %s -H 'Accept: application/x-ndjson' '%s?since=%s'", auth, base, demoDay.Format(time.RFC3339)),
		fmt.Sprintf("curl -sSN %s '%s/stream?type=inboundCallEnds'", auth, base),
	}
}

// newServer returns the HTTP server of the webhook handler. Its timeouts
// keep a misbehaving or hostile client from holding connections (and a
// goroutine each) open: one that sends its headers a byte at a time
// (slowloris) is cut off after ReadHeaderTimeout, one that never finishes
// its body after ReadTimeout, and keep-alive connections left idle between
// deliveries are closed after IdleTimeout. WriteTimeout leaves the
// handlers, which run after the event is stored and before the answer, a
// minute.
func newServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

// describe says what happened in one event.
func describe(ev *talkdesk.Event) string {
	switch p := ev.Payload.(type) {
	case *talkdesk.CallArrivedPayload:
		return "call " + p.CallID + " from " + p.ContactPhoneNumber
	case *talkdesk.CallStartedPayload:
		return fmt.Sprintf("answered by %s after %s", p.AgentName, p.WaitingTime)
	case *talkdesk.InboundCallEndedPayload:
		return fmt.Sprintf("ended after %s with %s", p.Duration, p.AgentName)
	case *talkdesk.NotePayload:
		return "note " + p.Title
	}
	return ""
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
