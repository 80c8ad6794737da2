// Command quickstart walks through the talkdesk SDK.
//
//	go run ./examples/quickstart
//
// With no Talkdesk credentials in the environment it starts an embedded
// fake Talkdesk (package talkdesktest) and runs against it, so it works on
// any machine with Go installed. With TALKDESK_ACCOUNT,
// TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET set it runs against real
// Talkdesk (TALKDESK_REGION picks us, eu or ca; TALKDESK_SCOPES overrides
// the scopes) and only reads: pass -contact to fetch one of your contacts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its arguments, environment and output
// given, so that a test can run it.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	flags := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	flags.SetOutput(out)
	contactID := flags.String("contact", "", "ID of a contact to fetch (against real Talkdesk)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	opts, fake, err := connect(getenv, out)
	if err != nil {
		return err
	}
	if fake != nil {
		defer fake.Close()
		seeded := fake.AddContact(talkdesk.Contact{
			ID:      "5f3e1c0a9b8d7e6f5a4b3c2d",
			Name:    "Joana Ferreira",
			Company: "Lusitania Seguros",
			Phones:  []talkdesk.Phone{{Label: "mobile", Number: "+351912345678"}},
		})
		fmt.Fprintf(out, "   seeded contact %s (%s)\n", seeded.ID, seeded.Name)
		*contactID = seeded.ID
	}

	client, err := talkdesk.NewClient(opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "1. created %v\n", client)

	if *contactID == "" {
		fmt.Fprintln(out, "2. no -contact given: nothing to fetch")
		return nil
	}
	contact, err := client.GetContact(ctx, *contactID)
	if err != nil {
		return fmt.Errorf("fetching contact: %w", err)
	}
	fmt.Fprintf(out, "2. GetContact(%s): %s", contact.ID, contact.Name)
	if contact.Company != "" {
		fmt.Fprintf(out, " of %s", contact.Company)
	}
	for _, p := range contact.Phones {
		fmt.Fprintf(out, ", %s %s", p.Label, p.Number)
	}
	fmt.Fprintln(out)

	if fake != nil {
		missing := "000000000000000000000000"
		_, err := client.GetContact(ctx, missing)
		if !errors.Is(err, talkdesk.ErrNotFound) {
			return fmt.Errorf("want ErrNotFound for an unknown contact, got %v", err)
		}
		fmt.Fprintf(out, "3. GetContact(%s): errors.Is(err, talkdesk.ErrNotFound) = true\n   %v\n", missing, err)
		fmt.Fprintf(out, "4. the fake received %d token request and %d API calls\n",
			fake.TokenRequests(), len(fake.Requests())-fake.TokenRequests())
	}
	return nil
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
	scopes := talkdesk.ConnectorScopes()
	if s := getenv("TALKDESK_SCOPES"); s != "" {
		scopes = strings.Fields(s)
	}
	fmt.Fprintf(out, "Running against Talkdesk account %q\n", account)
	return []talkdesk.Option{
		talkdesk.WithClientCredentials(account, id, secret, scopes...),
		talkdesk.WithRegion(talkdesk.Region(getenv("TALKDESK_REGION"))),
	}, nil, nil
}
