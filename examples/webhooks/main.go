// Command webhooks receives Talkdesk's trigger events with a
// talkdesk.WebhookHandler.
//
//	go run ./examples/webhooks
//
// With no Talkdesk credentials in the environment it starts an embedded
// fake Talkdesk (package talkdesktest), subscribes the handler to all nine
// triggers, has the fake emit one event of each, prints the typed events
// and unsubscribes.
//
// With TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET set
// (TALKDESK_REGION picks us, eu or ca) it subscribes to real Talkdesk:
// -public-url must then be the address at which Talkdesk reaches -listen
// (a tunnel or a public host). It prints events as they arrive until
// interrupted, and unsubscribes before it exits.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhooks:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its arguments, environment and output
// given, so that a test can run it.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	flags := flag.NewFlagSet("webhooks", flag.ContinueOnError)
	flags.SetOutput(out)
	listen := flags.String("listen", "127.0.0.1:0", "address the webhook server listens on")
	publicURL := flags.String("public-url", "", "URL at which Talkdesk reaches -listen (real Talkdesk only), such as https://hooks.example.com")
	if err := flags.Parse(args); err != nil {
		return err
	}

	opts, fake, err := connect(getenv, out)
	if err != nil {
		return err
	}
	if fake == nil && *publicURL == "" {
		return errors.New("against real Talkdesk, -public-url must say where Talkdesk reaches this program")
	}
	if fake != nil {
		defer fake.Close()
	}
	client, err := talkdesk.NewClient(opts...)
	if err != nil {
		return err
	}

	// The handler: a random secret in every callback URL, one function for
	// every trigger.
	handler := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(randomSecret()))
	var mu sync.Mutex
	handler.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		mu.Lock()
		defer mu.Unlock()
		printEvent(out, ev)
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/", handler)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	server := newServer(mux)
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	base := *publicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	base = strings.TrimSuffix(base, "/") + "/talkdesk"
	fmt.Fprintf(out, "Receiving webhooks at %s/{trigger}\n", base)

	var subs []*talkdesk.Subscription
	defer func() {
		for _, sub := range subs {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := client.Unsubscribe(ctx, sub.Trigger, sub.ID)
			cancel()
			if err != nil {
				fmt.Fprintf(out, "unsubscribing %s: %v\n", sub.Trigger, err)
			}
		}
		if len(subs) > 0 {
			fmt.Fprintf(out, "Unsubscribed %d triggers\n", len(subs))
		}
	}()
	for _, t := range talkdesk.Triggers() {
		cb, err := handler.CallbackURL(base, t)
		if err != nil {
			return err
		}
		sub, err := client.Subscribe(ctx, t, cb)
		if err != nil {
			return fmt.Errorf("subscribing %s: %w", t, err)
		}
		subs = append(subs, sub)
		fmt.Fprintf(out, "Subscribed %-32s as %s\n", t, sub.ID)
	}

	if fake == nil {
		fmt.Fprintln(out, "Waiting for events; interrupt to stop.")
		<-ctx.Done()
		return nil
	}
	for _, t := range talkdesk.Triggers() {
		if err := fake.Emit(ctx, t, sampleFields(t)); err != nil {
			return err
		}
	}
	return nil
}

// newServer returns the HTTP server of the webhook handler. Its timeouts
// keep a misbehaving or hostile client from holding connections (and a
// goroutine each) open: one that sends its headers a byte at a time
// (slowloris) is cut off after ReadHeaderTimeout, one that never finishes
// its body after ReadTimeout, and keep-alive connections left idle between
// deliveries are closed after IdleTimeout. WriteTimeout leaves the
// handlers, which run before the answer, a minute.
func newServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
}

// printEvent prints one event: its trigger, IDs, actor and typed payload.
func printEvent(out io.Writer, ev *talkdesk.Event) {
	payload, _ := json.Marshal(ev.Payload)
	fmt.Fprintf(out, "\n%s  id %s  at %s\n  actor %s %s %s  interaction %q  contact %q\n  payload %s\n",
		ev.Type, ev.ID[:12], ev.OccurredAt.Format(time.RFC3339), ev.Actor.Type, ev.Actor.ID, ev.Actor.Name,
		ev.InteractionID, ev.ContactID, payload)
	for _, w := range ev.Warnings {
		fmt.Fprintf(out, "  warning: %s\n", w)
	}
}

// sampleFields are the template variables the fake fills, as Talkdesk would
// for a call of Joana Ferreira answered by Miguel Santos.
func sampleFields(t talkdesk.Trigger) map[string]string {
	f := map[string]string{
		"account_id": "5d1c8e2f3a4b5c6d7e8f9a0b", "account.name": "acme", "account.email": "ops@acme.example",
		"contact_id": "64b7f0c2e4b0a1d2c3e4f5a6", "contact.id": "64b7f0c2e4b0a1d2c3e4f5a6",
		"contact.first_name": "Joana", "contact.last_name": "Ferreira", "contact.name": "Joana Ferreira",
		"contact.email": "joana.ferreira@lusitania.example", "contact.phone": "+351912345678",
		"contact.company": "Lusitania Seguros",
		"agent_id":        "a3f1c9e07b2d4e5f8a6b1c2d3e4f5a6b", "agent.name": "Miguel Santos",
		"agent.email": "miguel.santos@acme.example", "agent.tags_list": "sales,support",
		"call_id": "CA7f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c", "interaction_id": "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
		"talkdesk_phone_number": "+14155550100", "contact_phone_number": "+351912345678",
		"interaction.type": "inbound", "phone.vip": "false", "phone.ivr": "true", "tags": "sales,portugal",
		"waiting_time": "21", "is_transfer": "false", "proactive_outbound": "false",
		"total_duration": "00:03:07", "duration": "154", "hold_time": "12", "hangup": "agent",
		"in_business_hours": "true", "start_time": "2024-05-06T10:11:12Z", "timestamp": "2024-05-06T10:14:19Z",
		"title": "Follow-up", "content": "Call back after 17:00.",
	}
	events := map[talkdesk.Trigger]string{
		talkdesk.TriggerContactCreated: "contact_created", talkdesk.TriggerContactUpdated: "contact_updated",
		talkdesk.TriggerNoteCreated: "note_created", talkdesk.TriggerAgentLogIn: "agent_login",
		talkdesk.TriggerAgentLogOut: "agent_logout", talkdesk.TriggerInboundCallReachesContactCenter: "call_reaches_contact_center",
		talkdesk.TriggerInboundCallStarts: "call_started", talkdesk.TriggerInboundCallEnds: "call_finished",
		talkdesk.TriggerOutboundCallEnds: "outbound_call_finished",
	}
	f["event"] = events[t]
	if t == talkdesk.TriggerOutboundCallEnds {
		f["interaction.type"], f["hangup"] = "outbound", "contact"
	}
	return f
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// connect returns the client options for real Talkdesk when the three
// credentials are in the environment, and otherwise starts a fake.
func connect(getenv func(string) string, out io.Writer) ([]talkdesk.Option, *talkdesktest.Server, error) {
	account, id, secret := getenv("TALKDESK_ACCOUNT"), getenv("TALKDESK_CLIENT_ID"), getenv("TALKDESK_CLIENT_SECRET")
	switch {
	case account == "" && id == "" && secret == "":
		fake := talkdesktest.NewServer()
		fmt.Fprintf(out, "No TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID or TALKDESK_CLIENT_SECRET set: running against an embedded fake Talkdesk at %s\n", fake.URL)
		return fake.ClientOptions(), fake, nil
	case account == "" || id == "" || secret == "":
		return nil, nil, errors.New("set all of TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET, or none of them to use the embedded fake")
	}
	fmt.Fprintf(out, "Running against Talkdesk account %q\n", account)
	return []talkdesk.Option{
		talkdesk.WithClientCredentials(account, id, secret, talkdesk.ConnectorScopes()...),
		talkdesk.WithRegion(talkdesk.Region(getenv("TALKDESK_REGION"))),
	}, nil, nil
}
