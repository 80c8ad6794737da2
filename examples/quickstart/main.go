// Command quickstart walks through the talkdesk SDK: it creates a user,
// finds it by e-mail, fetches a contact and asks for a callback.
//
//	go run ./examples/quickstart
//
// With no Talkdesk credentials in the environment it starts an embedded
// fake Talkdesk (package talkdesktest) and runs every step against it, so
// it works on any machine with Go installed.
//
// With TALKDESK_ACCOUNT, TALKDESK_CLIENT_ID and TALKDESK_CLIENT_SECRET set
// it runs against real Talkdesk (TALKDESK_REGION picks us, eu or ca;
// TALKDESK_SCOPES overrides the scopes; TALKDESK_BASE_URL and
// TALKDESK_TOKEN_URL point it at a proxy) and runs only the steps its flags
// ask for. It only reads unless -write is given:
//
//	go run ./examples/quickstart -contact 5f3e1c0a9b8d7e6f5a4b3c2d -email ana@example.com
//	go run ./examples/quickstart -write -new-user rui@example.com -given Rui -family Almeida
//	go run ./examples/quickstart -write -talkdesk-number +14155550100 -contact-number +351912345678
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

// steps are what the quickstart does; flags fill them against real
// Talkdesk, and the fake gets a full set.
type steps struct {
	write                          bool
	newUser, givenName, familyName string
	email                          string
	contactID                      string
	talkdeskNumber, contactNumber  string
}

// run is the whole program, with its arguments, environment and output
// given, so that a test can run it.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	var s steps
	flags := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	flags.SetOutput(out)
	flags.BoolVar(&s.write, "write", false, "allow the steps that change Talkdesk (CreateUser, CreateCallback)")
	flags.StringVar(&s.newUser, "new-user", "", "e-mail address of a user to create (needs -write, -given, -family)")
	flags.StringVar(&s.givenName, "given", "", "given name of the user to create")
	flags.StringVar(&s.familyName, "family", "", "family name of the user to create")
	flags.StringVar(&s.email, "email", "", "e-mail address of a user to find")
	flags.StringVar(&s.contactID, "contact", "", "ID of a contact to fetch")
	flags.StringVar(&s.talkdeskNumber, "talkdesk-number", "", "your Talkdesk number that takes the callback, E.164 (needs -write)")
	flags.StringVar(&s.contactNumber, "contact-number", "", "number to call back, E.164 (needs -write)")
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
		s = steps{
			write:   true,
			newUser: "rui.almeida@example.com", givenName: "Rui", familyName: "Almeida",
			email:          "rui.almeida@example.com",
			contactID:      seeded.ID,
			talkdeskNumber: "+14155550100", contactNumber: seeded.Phones[0].Number,
		}
	}

	client, err := talkdesk.NewClient(opts...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "1. created %v\n", client)
	if err := s.run(ctx, client, out); err != nil {
		return err
	}

	if fake != nil {
		missing := "000000000000000000000000"
		_, err := client.GetContact(ctx, missing)
		if !errors.Is(err, talkdesk.ErrNotFound) {
			return fmt.Errorf("want ErrNotFound for an unknown contact, got %v", err)
		}
		fmt.Fprintf(out, "6. GetContact(%s): errors.Is(err, talkdesk.ErrNotFound) = true\n   %v\n", missing, err)
		fmt.Fprintf(out, "7. the fake received %d token request and %d API calls, and queued %d callback\n",
			fake.TokenRequests(), len(fake.Requests())-fake.TokenRequests(), len(fake.Callbacks()))
	}
	return nil
}

// run performs the steps that are set, in order, writing only when allowed.
func (s *steps) run(ctx context.Context, client *talkdesk.Client, out io.Writer) error {
	did := false
	if s.newUser != "" {
		did = true
		if !s.write {
			fmt.Fprintf(out, "2. CreateUser(%s): skipped, pass -write to create users\n", s.newUser)
		} else {
			u, err := client.CreateUser(ctx, &talkdesk.NewUser{
				UserName: s.newUser, GivenName: s.givenName, FamilyName: s.familyName, Active: true,
			})
			if err != nil {
				return fmt.Errorf("creating user: %w", err)
			}
			fmt.Fprintf(out, "2. CreateUser(%s): id %s, created %s\n", u.UserName, u.ID, u.Meta.Created.Format(time.RFC3339))
		}
	}
	if s.email != "" {
		did = true
		u, err := client.GetUserByEmail(ctx, s.email)
		if err != nil {
			return fmt.Errorf("finding user: %w", err)
		}
		fmt.Fprintf(out, "3. GetUserByEmail(%s): %s, active %t\n", s.email, u.Name, u.Active)
	}
	if s.contactID != "" {
		did = true
		contact, err := client.GetContact(ctx, s.contactID)
		if err != nil {
			return fmt.Errorf("fetching contact: %w", err)
		}
		fmt.Fprintf(out, "4. GetContact(%s): %s", contact.ID, contact.Name)
		if contact.Company != "" {
			fmt.Fprintf(out, " of %s", contact.Company)
		}
		for _, p := range contact.Phones {
			fmt.Fprintf(out, ", %s %s", p.Label, p.Number)
		}
		fmt.Fprintln(out)
	}
	if s.talkdeskNumber != "" || s.contactNumber != "" {
		did = true
		if !s.write {
			fmt.Fprintf(out, "5. CreateCallback(%s -> %s): skipped, pass -write to queue callbacks\n", s.talkdeskNumber, s.contactNumber)
		} else {
			err := client.CreateCallback(ctx, &talkdesk.CallbackRequest{
				TalkdeskPhoneNumber: s.talkdeskNumber,
				ContactPhoneNumber:  s.contactNumber,
				Fields:              []talkdesk.ContextField{{Name: "source", DisplayName: "Source", DataType: talkdesk.FieldText, Value: "talkdesk-go quickstart"}},
			})
			if err != nil {
				return fmt.Errorf("creating callback: %w", err)
			}
			fmt.Fprintf(out, "5. CreateCallback(%s -> %s): queued\n", s.talkdeskNumber, s.contactNumber)
		}
	}
	if !did {
		fmt.Fprintln(out, "2. nothing to do: give -contact, -email, or -write with -new-user or the callback numbers (see -h)")
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
	opts := []talkdesk.Option{
		talkdesk.WithClientCredentials(account, id, secret, scopes...),
		talkdesk.WithRegion(talkdesk.Region(getenv("TALKDESK_REGION"))),
	}
	if u := getenv("TALKDESK_BASE_URL"); u != "" {
		opts = append(opts, talkdesk.WithBaseURL(u))
	}
	if u := getenv("TALKDESK_TOKEN_URL"); u != "" {
		opts = append(opts, talkdesk.WithTokenURL(u))
	}
	return opts, nil, nil
}
