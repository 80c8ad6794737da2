package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// received is the receive time of the events parsed in these tests.
var received = time.Date(2024, 5, 6, 10, 15, 0, 0, time.UTC)

func readEventFixture(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile("testdata/events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// The values of the complete fixtures.
const (
	fxContactID     = "64b7f0c2e4b0a1d2c3e4f5a6"
	fxAccountID     = "5d1c8e2f3a4b5c6d7e8f9a0b"
	fxAgentID       = "a3f1c9e07b2d4e5f8a6b1c2d3e4f5a6b"
	fxCallID        = "CA7f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c"
	fxInteractionID = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
)

func completeContact(event string) *ContactPayload {
	return &ContactPayload{
		Event: event, ContactID: fxContactID, AccountID: fxAccountID,
		ContactFirstName: "Joana", ContactLastName: "Ferreira", ContactName: "Joana Ferreira",
		ContactEmail: "joana.ferreira@lusitania.example", ContactPhone: "+351912345678",
		ContactAddress: "Rua Augusta 100, 1100-053 Lisboa", ContactCompany: "Lusitania Seguros",
		ContactWebsite: "https://lusitania.example", ContactTitle: "Claims Manager",
		AccountEmail: "ops@acme.example", AccountName: "acme",
	}
}

func TestParseEventFixtures(t *testing.T) {
	c := completeContact("x")
	joana := Actor{Type: ActorContact, ID: fxContactID, Name: "Joana Ferreira", Email: "joana.ferreira@lusitania.example"}
	miguel := Actor{Type: ActorAgent, ID: fxAgentID, Name: "Miguel Santos", Email: "miguel.santos@acme.example"}
	system := Actor{Type: ActorSystem}
	start := time.Date(2024, 5, 6, 10, 11, 12, 0, time.UTC)
	end := time.Date(2024, 5, 6, 10, 14, 19, 0, time.UTC)
	call := func(ev *Event) *Event {
		ev.AccountID, ev.InteractionID, ev.CallID, ev.ContactID = fxAccountID, fxInteractionID, fxCallID, fxContactID
		return ev
	}

	tests := []struct {
		fixture  string
		trigger  Trigger
		want     *Event // ID, Raw and ReceivedAt are checked apart
		warnings []PayloadWarning
	}{
		// Complete, realistic payloads.
		{"contactCreated_complete.json", TriggerContactCreated, &Event{
			Name: "contact_created", OccurredAt: received, AccountID: fxAccountID, ContactID: fxContactID, Actor: joana,
			Payload: completeContact("contact_created"),
		}, nil},
		{"contactUpdated_complete.json", TriggerContactUpdated, &Event{
			Name: "contact_updated", OccurredAt: received, AccountID: fxAccountID, ContactID: fxContactID, Actor: joana,
			Payload: completeContact("contact_updated"),
		}, nil},
		{"noteCreated_complete.json", TriggerNoteCreated, &Event{
			Name: "note_created", OccurredAt: received, AccountID: fxAccountID, ContactID: fxContactID, Actor: joana,
			Payload: &NotePayload{
				Event: "note_created", ContactID: fxContactID, AccountID: fxAccountID,
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName,
				ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone, ContactAddress: c.ContactAddress,
				ContactCompany: c.ContactCompany, ContactWebsite: c.ContactWebsite, ContactTitle: c.ContactTitle,
				Title: "Follow-up on claim 4471", Content: "Customer asked for a callback after 17:00 about claim #4471.",
				AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}, nil},
		{"agentLogIn_complete.json", TriggerAgentLogIn, &Event{
			Name: "agent_login", OccurredAt: received, AgentID: fxAgentID, Actor: miguel,
			Payload: &AgentPayload{Event: "agent_login", AgentEmail: "miguel.santos@acme.example", AgentID: fxAgentID,
				AgentName: "Miguel Santos", AgentTags: []string{"sales", "support", "vip"}},
		}, nil},
		{"agentLogOut_complete.json", TriggerAgentLogOut, &Event{
			Name: "agent_logout", OccurredAt: received, AgentID: fxAgentID, Actor: miguel,
			Payload: &AgentPayload{Event: "agent_logout", AgentEmail: "miguel.santos@acme.example", AgentID: fxAgentID,
				AgentName: "Miguel Santos", AgentTags: []string{"sales", "support", "vip"}},
		}, nil},
		{"inboundCallReachesContactCenter_complete.json", TriggerInboundCallReachesContactCenter, call(&Event{
			Name: "call_reaches_contact_center", OccurredAt: received, Actor: system,
			Payload: &CallArrivedPayload{
				Event: "call_reaches_contact_center", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID,
				AccountID: fxAccountID, ContactPhoneNumber: "+351912345678", InteractionContextID: "ctx-1f2e3d4c5b6a",
				TalkdeskPhoneNumber: "+14155550100", ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName,
				ContactName: c.ContactName, ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany,
				ContactTitle: c.ContactTitle, ContactAddress: c.ContactAddress, ContactWebsite: c.ContactWebsite,
				PhoneVIP: Ptr(false), PhoneIVR: Ptr(true), InteractionType: "inbound", AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), nil},
		{"inboundCallStarts_complete.json", TriggerInboundCallStarts, call(&Event{
			Name: "call_started", OccurredAt: received, AgentID: fxAgentID, Actor: miguel,
			Payload: &CallStartedPayload{
				Event: "call_started", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID, AccountID: fxAccountID,
				AgentID: fxAgentID, ContactPhoneNumber: "+351912345678", WaitingTime: 21 * time.Second, InteractionContextID: "ctx-1f2e3d4c5b6a",
				ProactiveOutbound: Ptr(false), Tags: []string{"sales", "portugal"}, TalkdeskPhoneNumber: "+14155550100", IsTransfer: Ptr(false),
				AgentName: "Miguel Santos", AgentEmail: "miguel.santos@acme.example", AgentTags: []string{"sales", "support", "vip"},
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
				ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany, ContactTitle: c.ContactTitle, ContactAddress: c.ContactAddress,
				ContactWebsite: c.ContactWebsite, PhoneVIP: Ptr(false), PhoneIVR: Ptr(true), InteractionType: "inbound",
				AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), nil},
		{"inboundCallEnds_complete.json", TriggerInboundCallEnds, call(&Event{
			Name: "call_finished", OccurredAt: end, AgentID: fxAgentID, Actor: miguel,
			Payload: &InboundCallEndedPayload{
				Event: "call_finished", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID, AccountID: fxAccountID,
				AgentID: fxAgentID, ContactPhoneNumber: "+351912345678", TotalDuration: 187 * time.Second, Duration: 154 * time.Second,
				WaitingTime: 21 * time.Second, HoldTime: 12 * time.Second, InBusinessHours: Ptr(true),
				RecordingURL: "https://recordings.talkdeskapp.com/r/9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d.mp3", Hangup: "agent",
				StartTime: start, Timestamp: end, InteractionContextID: "ctx-1f2e3d4c5b6a", ProactiveOutbound: Ptr(false),
				Tags: []string{"sales", "portugal"}, TalkdeskPhoneNumber: "+14155550100", AgentName: "Miguel Santos",
				AgentEmail: "miguel.santos@acme.example", AgentTags: []string{"sales", "support", "vip"},
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
				ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany, ContactTitle: c.ContactTitle, ContactAddress: c.ContactAddress,
				ContactWebsite: c.ContactWebsite, PhoneVIP: Ptr(false), PhoneIVR: Ptr(true), InteractionType: "inbound",
				AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), nil},
		{"outboundCallEnds_complete.json", TriggerOutboundCallEnds, call(&Event{
			Name: "outbound_call_finished", OccurredAt: received, AgentID: fxAgentID, Actor: miguel,
			Payload: &OutboundCallEndedPayload{
				Event: "outbound_call_finished", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID, AccountID: fxAccountID,
				AgentID: fxAgentID, TotalDuration: 187 * time.Second, Duration: 154 * time.Second, WaitingTime: 21 * time.Second,
				HoldTime: 12 * time.Second, Hangup: "contact", ProactiveOutbound: Ptr(true), Tags: []string{"sales", "portugal"},
				TalkdeskPhoneNumber: "+14155550100", ContactPhoneNumber: "+442071838750", AgentName: "Miguel Santos",
				AgentEmail: "miguel.santos@acme.example", AgentTags: []string{"sales", "support", "vip"},
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
				ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany, ContactTitle: c.ContactTitle, ContactAddress: c.ContactAddress,
				ContactWebsite: c.ContactWebsite, PhoneVIP: Ptr(false), PhoneIVR: Ptr(true), InteractionType: "outbound",
				AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), nil},

		// Every value empty or the unfilled template: zero values, no warnings.
		{"contactCreated_empty.json", TriggerContactCreated, &Event{OccurredAt: received, Actor: Actor{Type: ActorContact}, Payload: &ContactPayload{}}, nil},
		{"contactUpdated_empty.json", TriggerContactUpdated, &Event{OccurredAt: received, Actor: Actor{Type: ActorContact}, Payload: &ContactPayload{}}, nil},
		{"noteCreated_empty.json", TriggerNoteCreated, &Event{OccurredAt: received, Actor: Actor{Type: ActorContact}, Payload: &NotePayload{}}, nil},
		{"agentLogIn_empty.json", TriggerAgentLogIn, &Event{OccurredAt: received, Actor: system, Payload: &AgentPayload{}}, nil},
		{"agentLogOut_empty.json", TriggerAgentLogOut, &Event{OccurredAt: received, Actor: system, Payload: &AgentPayload{}}, nil},
		{"inboundCallReachesContactCenter_empty.json", TriggerInboundCallReachesContactCenter, &Event{OccurredAt: received, Actor: system, Payload: &CallArrivedPayload{}}, nil},
		{"inboundCallStarts_empty.json", TriggerInboundCallStarts, &Event{OccurredAt: received, Actor: system, Payload: &CallStartedPayload{}}, nil},
		{"inboundCallEnds_empty.json", TriggerInboundCallEnds, &Event{OccurredAt: received, Actor: system, Payload: &InboundCallEndedPayload{}}, nil},
		{"outboundCallEnds_empty.json", TriggerOutboundCallEnds, &Event{OccurredAt: received, Actor: system, Payload: &OutboundCallEndedPayload{}}, nil},

		// Odd formats, escapes, extra fields and unreadable values.
		{"contactCreated_odd.json", TriggerContactCreated, &Event{
			Name: "contact_created", OccurredAt: received, AccountID: "5012", ContactID: "64b7f0c2e4b0a1d2c3e4f5a7",
			Actor: Actor{Type: ActorContact, ID: "64b7f0c2e4b0a1d2c3e4f5a7", Name: "  José Simões  ", Email: "jose.simoes@example.pt"},
			Payload: &ContactPayload{
				Event: "contact_created", ContactID: "64b7f0c2e4b0a1d2c3e4f5a7", AccountID: "5012", ContactFirstName: "José",
				ContactLastName: "Simões", ContactName: "  José Simões  ", ContactEmail: "jose.simoes@example.pt",
				ContactWebsite: "https://simoes.example.pt", ContactTitle: `Dr. "Zé"`, AccountEmail: "ops@acme.example", AccountName: "acme",
			},
		}, nil},
		{"contactUpdated_odd.json", TriggerContactUpdated, &Event{
			Name: "contact_updated", OccurredAt: received, AccountID: fxAccountID, ContactID: fxContactID,
			Actor: Actor{Type: ActorContact, ID: fxContactID, Name: "Joana Maria Ferreira 👩‍💼"},
			Payload: &ContactPayload{
				Event: "contact_updated", ContactID: fxContactID, AccountID: fxAccountID, ContactFirstName: "Joana\tMaria",
				ContactLastName: "Ferreira", ContactName: "Joana Maria Ferreira 👩‍💼", ContactPhone: "+351 912 345 678",
				ContactAddress: "Rua Augusta 100\n1100-053 Lisboa", ContactWebsite: "lusitania.example",
				AccountEmail: "ops@acme.example", AccountName: "acme",
			},
		}, nil},
		{"noteCreated_odd.json", TriggerNoteCreated, &Event{
			Name: "note_created", OccurredAt: received, AccountID: fxAccountID, ContactID: fxContactID, Actor: joana,
			Payload: &NotePayload{
				Event: "note_created", ContactID: fxContactID, AccountID: fxAccountID, ContactFirstName: "Joana", ContactLastName: "Ferreira",
				ContactName: "Joana Ferreira", ContactEmail: c.ContactEmail, ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany,
				Title: "<b>Urgent</b> & important", Content: "Line one\r\nLine two — with a dash and a 😀",
				AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}, nil},
		{"agentLogIn_odd.json", TriggerAgentLogIn, &Event{
			Name: "agent_login", OccurredAt: received, AgentID: fxAgentID,
			Actor: Actor{Type: ActorAgent, ID: fxAgentID, Name: "Miguel Santos", Email: "MIGUEL.SANTOS@ACME.EXAMPLE"},
			Payload: &AgentPayload{Event: "agent_login", AgentEmail: "MIGUEL.SANTOS@ACME.EXAMPLE", AgentID: fxAgentID,
				AgentName: "Miguel Santos", AgentTags: []string{"sales", "support", "vip"}},
		}, nil},
		{"agentLogOut_odd.json", TriggerAgentLogOut, &Event{
			Name: "agent_logout", OccurredAt: received, AgentID: fxAgentID, Actor: Actor{Type: ActorAgent, ID: fxAgentID},
			Payload: &AgentPayload{Event: "agent_logout", AgentID: fxAgentID, AgentTags: []string{"sales"}},
		}, nil},
		{"inboundCallReachesContactCenter_odd.json", TriggerInboundCallReachesContactCenter, &Event{
			Name: "call_reaches_contact_center", OccurredAt: received, AccountID: fxAccountID, InteractionID: fxInteractionID, CallID: fxCallID,
			Actor: system,
			Payload: &CallArrivedPayload{
				Event: "call_reaches_contact_center", CallID: fxCallID, InteractionID: fxInteractionID, AccountID: fxAccountID,
				ContactPhoneNumber: "+351912345678", TalkdeskPhoneNumber: "+14155550100", PhoneVIP: Ptr(true), PhoneIVR: Ptr(false),
				InteractionType: "inbound", AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}, nil},
		{"inboundCallStarts_odd.json", TriggerInboundCallStarts, call(&Event{
			Name: "call_started", OccurredAt: received, AgentID: fxAgentID, Actor: miguel,
			Payload: &CallStartedPayload{
				Event: "call_started", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID, AccountID: fxAccountID,
				AgentID: fxAgentID, ContactPhoneNumber: "+351912345678", WaitingTime: 21500 * time.Millisecond, InteractionContextID: "ctx-1f2e3d4c5b6a",
				ProactiveOutbound: Ptr(false), Tags: []string{"sales", "portugal"}, TalkdeskPhoneNumber: "+14155550100", IsTransfer: Ptr(false),
				AgentName: "Miguel Santos", AgentEmail: "miguel.santos@acme.example", AgentTags: []string{"sales"},
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
				ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany, ContactTitle: c.ContactTitle,
				PhoneVIP: Ptr(true), PhoneIVR: Ptr(true), InteractionType: "inbound", AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), nil},
		{"inboundCallEnds_odd.json", TriggerInboundCallEnds, call(&Event{
			Name: "call_finished", OccurredAt: time.UnixMilli(1714990459000).UTC(), AgentID: fxAgentID, Actor: miguel,
			Payload: &InboundCallEndedPayload{
				Event: "call_finished", CallID: fxCallID, InteractionID: fxInteractionID, ContactID: fxContactID, AccountID: fxAccountID,
				AgentID: fxAgentID, ContactPhoneNumber: "+351912345678", TotalDuration: 187 * time.Second, Duration: 154500 * time.Millisecond,
				WaitingTime: 21 * time.Second, InBusinessHours: Ptr(true), Hangup: "agent", StartTime: start,
				Timestamp: time.UnixMilli(1714990459000).UTC(), InteractionContextID: "ctx-1f2e3d4c5b6a", ProactiveOutbound: Ptr(false),
				Tags: []string{"sales", "portugal"}, TalkdeskPhoneNumber: "+14155550100", AgentName: "Miguel Santos",
				AgentEmail: "miguel.santos@acme.example", AgentTags: []string{"sales"},
				ContactFirstName: c.ContactFirstName, ContactLastName: c.ContactLastName, ContactName: c.ContactName, ContactEmail: c.ContactEmail,
				ContactPhone: c.ContactPhone, ContactCompany: c.ContactCompany, ContactTitle: c.ContactTitle,
				PhoneIVR: Ptr(false), InteractionType: "inbound", AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}), []PayloadWarning{
			{Field: "hold_time", Value: "soon", Reason: errNotDuration.Error()},
			{Field: "phone_vip", Value: "maybe", Reason: errNotFlag.Error()},
		}},
		{"outboundCallEnds_odd.json", TriggerOutboundCallEnds, &Event{
			Name: "outbound_call_finished", OccurredAt: received, AccountID: fxAccountID, InteractionID: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
			CallID: "CA0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a", Actor: system,
			Payload: &OutboundCallEndedPayload{
				Event: "outbound_call_finished", CallID: "CA0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a", InteractionID: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
				AccountID: fxAccountID, TotalDuration: time.Hour + 2*time.Minute + 3250*time.Millisecond, Duration: 3723 * time.Second,
				HoldTime: time.Nanosecond, ProactiveOutbound: Ptr(true), TalkdeskPhoneNumber: "+14155550100",
				ContactPhoneNumber: "+442071838750", InteractionType: "outbound", AccountEmail: c.AccountEmail, AccountName: c.AccountName,
			},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			body := readEventFixture(t, tt.fixture)
			got, err := parseEvent(tt.trigger, body, received)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Type, want.ReceivedAt, want.Warnings = tt.trigger, received, tt.warnings
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Event{}, "ID", "Raw")); diff != "" {
				t.Errorf("ParseEvent (-want +got):\n%s", diff)
			}
			if !bytes.Equal(got.Raw, body) {
				t.Error("Raw is not the body as sent")
			}
			if len(got.ID) != 32 || strings.Trim(got.ID, "0123456789abcdef") != "" {
				t.Errorf("ID = %q, want 32 hex digits", got.ID)
			}
		})
	}
}

// TestParseEventWarnings checks every typed field kind with an unreadable
// value: the field stays zero, the value is reported and kept in Raw.
func TestParseEventWarnings(t *testing.T) {
	body := []byte(`{"agent_id":"a1","hold_time":"soon","start_time":"yesterday","in_business_hours":"perhaps","tags":"[oops","call_id":{"x":1},"duration":"` + strings.Repeat("9", 400) + `"}`)
	ev, err := parseEvent(TriggerInboundCallEnds, body, received)
	if err != nil {
		t.Fatal(err)
	}
	want := []PayloadWarning{ // in the order of the payload's fields
		{Field: "call_id", Value: `{"x":1}`, Reason: "not a string"},
		{Field: "duration", Value: strings.Repeat("9", 256) + "...", Reason: errNotDuration.Error()},
		{Field: "hold_time", Value: "soon", Reason: errNotDuration.Error()},
		{Field: "in_business_hours", Value: "perhaps", Reason: errNotFlag.Error()},
		{Field: "start_time", Value: "yesterday", Reason: errNotInstant.Error()},
		{Field: "tags", Value: "[oops", Reason: errNotTags.Error()},
	}
	if diff := cmp.Diff(want, ev.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&InboundCallEndedPayload{AgentID: "a1"}, ev.Payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if !bytes.Equal(ev.Raw, body) || ev.OccurredAt != received {
		t.Errorf("Raw or OccurredAt wrong: %s %v", ev.Raw, ev.OccurredAt)
	}
}

func TestParseEventRejects(t *testing.T) {
	good := []byte(`{"agent_id":"a1"}`)
	if _, err := ParseEvent("agentLogin", good); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown trigger: %v, want ErrInvalid", err)
	}
	for _, body := range []string{
		``, ` `, `null`, `"text"`, `42`, `[{"agent_id":"a1"}]`, `{`, `{"agent_id":"a1"`, `{"agent_id":"a1",}`,
		`{"agent_id":"a1"}{}`, `{"agent_id":"a1"} x`, `{agent_id:"a1"}`, `{"agent_id":'a1'}`, `{"agent_id":"a\x01"}`,
		`{"agent_id":"\q"}`, `{"agent_id":"\u12"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":tru}`, `{"a":[1,]}`,
		`{"a":{"b"}}`, `{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, "\xef\xbb\xbf{}", // encoding/json's depth limit is 10000
	} {
		if _, err := ParseEvent(TriggerAgentLogIn, []byte(body)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseEvent(%.40q) = %v, want ErrInvalid", body, err)
		}
	}
}

// TestEventIDs checks that IDs are stable across deliveries, blind to
// formatting, and different for different payloads or triggers.
func TestEventIDs(t *testing.T) {
	id := func(tr Trigger, body string) string {
		t.Helper()
		ev, err := ParseEvent(tr, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	base := id(TriggerAgentLogIn, `{"agent_id":"a1","agent_name":"Ann"}`)
	for _, same := range []string{
		`{"agent_id":"a1","agent_name":"Ann"}`,
		` { "agent_name" : "Ann" , "agent_id" : "a1" } `,
		`{"agent_id":"\u0061\u0031","agent_name":"Ann"}`,
	} {
		if got := id(TriggerAgentLogIn, same); got != base {
			t.Errorf("ID of %s = %s, want %s", same, got, base)
		}
	}
	seen := map[string]string{base: "base"}
	for _, other := range []struct {
		t    Trigger
		body string
	}{
		{TriggerAgentLogOut, `{"agent_id":"a1","agent_name":"Ann"}`},
		{TriggerAgentLogIn, `{"agent_id":"a1","agent_name":"Anne"}`},
		{TriggerAgentLogIn, `{"agent_id":"a1"}`},
		{TriggerAgentLogIn, `{"agent_id":"a1","agent_name":"Ann","x":""}`},
		{TriggerAgentLogIn, `{"agent_id":"a1","agent_name":null}`},
		{TriggerAgentLogIn, `{"agent_id":1,"agent_name":"Ann"}`},
		{TriggerAgentLogIn, `{"agent_id":"1","agent_name":"Ann"}`},
		{TriggerAgentLogIn, `{"agent_id":"a1","agent_name":"Ann","n":12345678901234567890}`},
		{TriggerAgentLogIn, `{"agent_id":"a1","agent_name":"Ann","n":12345678901234567891}`},
		{TriggerAgentLogIn, `{"agent_id":"a1a","gent_name":"Ann"}`},
	} {
		got := id(other.t, other.body)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s %s has the ID of %s", other.t, other.body, prev)
		}
		seen[got] = other.body
	}
	// The ID scheme is part of the stored data (an EventLog deduplicates
	// by it): changing it must be deliberate.
	if got := id(TriggerInboundCallEnds, string(readEventFixture(t, "inboundCallEnds_complete.json"))); got != goldenInboundCallEndsID {
		t.Errorf("ID of inboundCallEnds_complete.json = %s, want %s", got, goldenInboundCallEndsID)
	}
}

const goldenInboundCallEndsID = "e11d84b2a025179fa089d1ba4276fb30"

// TestEventJSONRoundTrip checks that an Event survives encoding/json with
// its typed payload, for every fixture.
func TestEventJSONRoundTrip(t *testing.T) {
	for _, tr := range Triggers() {
		for _, kind := range []string{"complete", "empty", "odd"} {
			ev, err := parseEvent(tr, readEventFixture(t, string(tr)+"_"+kind+".json"), received)
			if err != nil {
				t.Fatal(err)
			}
			data, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("%s %s: %v", tr, kind, err)
			}
			var back Event
			if err := json.Unmarshal(data, &back); err != nil {
				t.Fatalf("%s %s: %v", tr, kind, err)
			}
			if diff := cmp.Diff(ev, &back, cmpopts.IgnoreFields(Event{}, "Warnings", "Raw")); diff != "" {
				t.Errorf("%s %s: round trip (-want +got):\n%s", tr, kind, diff)
			}
			var raw1, raw2 any
			json.Unmarshal(ev.Raw, &raw1)
			json.Unmarshal(back.Raw, &raw2)
			if !cmp.Equal(raw1, raw2) {
				t.Errorf("%s %s: Raw changed", tr, kind)
			}
		}
	}
	var keys map[string]json.RawMessage
	ev, _ := parseEvent(TriggerInboundCallEnds, readEventFixture(t, "inboundCallEnds_odd.json"), received)
	data, _ := json.Marshal(ev)
	json.Unmarshal(data, &keys)
	var names []string
	for k := range keys {
		names = append(names, k)
	}
	want := []string{"id", "type", "event", "occurred_at", "received_at", "account_id", "interaction_id", "call_id", "contact_id", "agent_id", "actor", "payload", "raw"}
	if diff := cmp.Diff(want, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Event JSON keys (-want +got):\n%s", diff)
	}
}

// TestParseEventDuplicateKeys: of a key sent twice the last one wins, as
// encoding/json reads it, and a null changes nothing. Found by
// FuzzParseEvent: {"agent_id":"0","agent_id":""} kept "0".
func TestParseEventDuplicateKeys(t *testing.T) {
	tests := []struct {
		body     string
		agentID  string
		hold     time.Duration
		warnings int
	}{
		{`{"agent_id":"0","agent_id":""}`, "", 0, 0},
		{`{"agent_id":"a1","agent_id":"a2"}`, "a2", 0, 0},
		{`{"agent_id":"a1","agent_id":null}`, "a1", 0, 0},
		{`{"hold_time":"soon","hold_time":"12"}`, "", 12 * time.Second, 0},
		{`{"hold_time":"12","hold_time":"soon"}`, "", 0, 1},
		{`{"hold_time":"12","hold_time":"{{hold_time}}"}`, "", 0, 0},
	}
	for _, tt := range tests {
		ev, err := ParseEvent(TriggerInboundCallEnds, []byte(tt.body))
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		p := ev.Payload.(*InboundCallEndedPayload)
		if p.AgentID != tt.agentID || ev.AgentID != tt.agentID || p.HoldTime != tt.hold || len(ev.Warnings) != tt.warnings {
			t.Errorf("%s: agent %q (event %q), hold %v, warnings %v; want %q, %v, %d warnings",
				tt.body, p.AgentID, ev.AgentID, p.HoldTime, ev.Warnings, tt.agentID, tt.hold, tt.warnings)
		}
	}
}

// FuzzParseEvent feeds arbitrary bodies to ParseEvent. It must not panic;
// it must accept exactly the JSON objects encoding/json accepts (up to the
// nesting limit), read every string field as json.Unmarshal does, give the
// same ID twice, and return events that survive json.Marshal and back.
// The seed corpus is in testdata/fuzz/FuzzParseEvent.
func FuzzParseEvent(f *testing.F) {
	triggers := Triggers()
	f.Add(uint8(7), []byte(`{"call_id":"c1","hold_time":"00:00:12","tags":"a,b"}`))
	f.Add(uint8(7), []byte(`{"call_id":"c1","call_id":"c2","hold_time":"soon","agent_name":" A\u00e9\"\ud800 ","x":"null"}`))
	f.Add(uint8(3), []byte(`{"agent_id":"a","agent_id":null}`))
	f.Add(uint8(0), []byte(`{"a":{"z":[1, "<x>", {"c":null, "c":2.50}], "\u0061":"\u00e9\ud800"}, "b":[[],{}]}`))
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		tr := triggers[int(which)%len(triggers)]
		ev, err := parseEvent(tr, body, received)
		var asMap map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		isObject := dec.Decode(&asMap) == nil && asMap != nil && !dec.More()
		if isObject {
			_, err := dec.Token()
			isObject = err == io.EOF && json.Valid(body)
		}
		if err != nil {
			if isObject && bytes.Count(body, []byte(":")) <= maxMembers {
				t.Fatalf("ParseEvent rejected a JSON object: %v", err)
			}
			return
		}
		if !isObject {
			t.Fatalf("ParseEvent accepted a body encoding/json does not read as an object: %q", body)
		}
		again, _ := parseEvent(tr, body, received)
		if again.ID != ev.ID {
			t.Fatalf("the same body got IDs %s and %s", ev.ID, again.ID)
		}
		// A body of strings is read the quick way, into a map of strings:
		// the same ID, payload and warnings as member by member.
		spec := triggerInfos[tr].spec
		members, err := readMembers(body, nullKeeps)
		if err != nil {
			t.Fatalf("readMembers: %v", err)
		}
		pv := reflect.New(spec.typ)
		warnings := spec.decode(pv.Elem(), members)
		if id := eventID(tr, members); id != ev.ID {
			t.Fatalf("ID %s, member by member %s", ev.ID, id)
		}
		// Members split by their delimiters are those a json.Decoder reads.
		if json.Valid(body) {
			split, serr := splitMembers(body)
			decoded, derr := decodeMembers(body)
			if (serr == nil) != (derr == nil) || !reflect.DeepEqual(split, decoded) {
				t.Fatalf("split members %q, %v; decoded %q, %v", split, serr, decoded, derr)
			}
		}
		for _, m := range members {
			if m.composite() {
				if got, want := string(canonical(m.raw)), referenceCanonical(t, m.raw); got != want {
					t.Fatalf("canonical(%s) = %s, encoding/json gives %s", m.raw, got, want)
				}
			}
		}
		if !reflect.DeepEqual(pv.Interface(), ev.Payload) || !slices.Equal(warnings, ev.Warnings) {
			t.Fatalf("payload %+v, warnings %v\nmember by member: %+v, %v", ev.Payload, ev.Warnings, pv.Interface(), warnings)
		}
		v := reflect.ValueOf(ev.Payload).Elem()
		for _, fld := range spec.fields {
			s, ok := asMap[fld.key].(string)
			if !ok || fld.kind != kindString {
				continue
			}
			want := s
			if unset(s) {
				want = ""
			}
			if got := v.Field(fld.index).String(); got != want {
				t.Fatalf("%s = %q, encoding/json reads %q", fld.key, got, want)
			}
		}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("json.Marshal of the event: %v", err)
		}
		var back Event
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("json.Unmarshal of the event: %v", err)
		}
		// Its stored line is what encoding/json writes, and Validate
		// accepts it, as every stored event reads back.
		sameLogLine(t, ev)
		if err := ev.Validate(); err != nil {
			t.Fatalf("Validate of a parsed event: %v", err)
		}
	})
}
