package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
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

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"93", 93 * time.Second, false},
		{"0", 0, false},
		{" 93 ", 93 * time.Second, false},
		{"93.5", 93500 * time.Millisecond, false},
		{"0.000000001", time.Nanosecond, false},
		{"1.0000000019", time.Second + time.Nanosecond, false},
		{".5", 500 * time.Millisecond, false},
		{"00:01:33", 93 * time.Second, false},
		{"1:02:03", time.Hour + 2*time.Minute + 3*time.Second, false},
		{"100:00:00", 100 * time.Hour, false},
		{"00:00:01.25", 1250 * time.Millisecond, false},
		{"soon", 0, true},
		{"-5", 0, true},
		{"5.", 0, true},
		{"1e3", 0, true},
		{"1:2:3", 0, true},
		{"00:60:00", 0, true},
		{"00:00:60", 0, true},
		{"01:33", 0, true},
		{"::", 0, true},
		{"99999999999999", 0, true},
		{"5s", 0, true},
		// The largest time.Duration, and what would overflow it.
		{"9223372036.854775807", math.MaxInt64, false},
		{"2562047:47:16.854775807", math.MaxInt64, false},
		{"9223372036.854775808", 0, true},
		{"9223372037", 0, true},
		{"99999999999", 0, true},
		{"2562047:47:16.854775808", 0, true},
		{"2562048:00:00", 0, true},
		{"999999999:00:00", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseInstant(t *testing.T) {
	at := time.Date(2024, 5, 6, 10, 11, 12, 0, time.UTC)
	frac := at.Add(345 * time.Millisecond)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"2024-05-06T10:11:12Z", at, false},
		{"2024-05-06T10:11:12.345Z", frac, false},
		{"2024-05-06T11:11:12+01:00", at, false},
		{"2024-05-06T11:11:12.345+01:00", frac, false},
		{"2024-05-06T11:11:12+0100", at, false},
		{"2024-05-06T10:11:12", at, false},
		{"2024-05-06T10:11:12.345", frac, false},
		{"2024-05-06 10:11:12", at, false},
		{"2024-05-06 10:11:12.345", frac, false},
		{"2024-05-06 10:11:12 UTC", at, false},
		{"2024-05-06 05:11:12 -0500", at, false},
		{"2024-05-06 05:11:12 -05:00", at, false},
		{"2024-05-06 11:11:12+01:00", at, false},
		{" 2024-05-06T10:11:12Z ", at, false},
		{"1714990272", at, false},
		{"1714990272.345", frac, false},
		{"1714990272345", frac, false},
		{"0", time.Unix(0, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"2024-05-06", time.Time{}, true},
		{"2024-13-06T10:11:12Z", time.Time{}, true},
		{"2024-05-06X10:11:12Z", time.Time{}, true},
		{"1714990272345.5", time.Time{}, true},
		{"1.2.3", time.Time{}, true},
		{"99999999999999999999", time.Time{}, true},
		{"-1714990272", time.Time{}, true},
		// The times whose Unix nanoseconds fit an int64, and beyond.
		{"9223372036.854775807", time.Unix(0, math.MaxInt64).UTC(), false},
		{"9223372036854", time.UnixMilli(9223372036854).UTC(), false},
		{"2262-04-11T23:47:16.854775807Z", time.Unix(0, math.MaxInt64).UTC(), false},
		{"1677-09-21T00:12:43.145224192Z", time.Unix(0, math.MinInt64).UTC(), false},
		{"9223372036.854775808", time.Time{}, true},
		{"99999999999", time.Time{}, true},
		{"9223372036855", time.Time{}, true},
		{"9999999999999999", time.Time{}, true},
		{"2262-04-12T00:00:00Z", time.Time{}, true},
		{"9999-12-31T23:59:59Z", time.Time{}, true},
		{"1677-09-21T00:12:43.145224191Z", time.Time{}, true},
		{"0001-01-01T00:00:00Z", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseInstant(tt.in)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseInstant(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
		if err == nil && got.Location() != time.UTC {
			t.Errorf("parseInstant(%q) is in %v, want UTC", tt.in, got.Location())
		}
	}
}

func TestParseFlag(t *testing.T) {
	for _, in := range []string{"true", "TRUE", "True", "1", "yes", "YES", "Yes", " yes "} {
		if got, err := parseFlag(in); err != nil || !got {
			t.Errorf("parseFlag(%q) = %v, %v; want true", in, got, err)
		}
	}
	for _, in := range []string{"false", "FALSE", "0", "no", "No", "NO"} {
		if got, err := parseFlag(in); err != nil || got {
			t.Errorf("parseFlag(%q) = %v, %v; want false", in, got, err)
		}
	}
	for _, in := range []string{"y", "n", "2", "on", "maybe", "truee"} {
		if _, err := parseFlag(in); err == nil {
			t.Errorf("parseFlag(%q) gave no error", in)
		}
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"sales", []string{"sales"}, false},
		{"sales,support", []string{"sales", "support"}, false},
		{" sales , support ,, vip ,", []string{"sales", "support", "vip"}, false},
		{`["sales"," support ",""]`, []string{"sales", "support"}, false},
		{` [ "a" ] `, []string{"a"}, false},
		{`[]`, nil, false},
		{` , ,`, nil, false},
		{`[sales`, nil, true},
		{`[1,2]`, nil, true},
		{`["a"] x`, nil, true},
		{`["a"]]`, nil, true},
		{`[null, "a"]`, []string{"a"}, false},
		// At most maxTags tags; empty ones do not count.
		{strings.Repeat("t,", maxTags), slices.Repeat([]string{"t"}, maxTags), false},
		{strings.Repeat("t,", maxTags) + "u", nil, true},
		{"t" + strings.Repeat(",", 100000) + "u", []string{"t", "u"}, false},
		{`["t"` + strings.Repeat(`,"t"`, maxTags-1) + `]`, slices.Repeat([]string{"t"}, maxTags), false},
		{`["t"` + strings.Repeat(`,"t"`, maxTags) + `]`, nil, true},
		{`["t"` + strings.Repeat(`,""`, 100000) + `]`, []string{"t"}, false},
	}
	for _, tt := range tests {
		got, err := parseTags(tt.in)
		if (err != nil) != tt.err || !cmp.Equal(got, tt.want) {
			t.Errorf("parseTags(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
		}
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

// TestPayloadJSON checks the JSON encoding of the payload types: Talkdesk's
// keys, typed values, empty fields left out, and an exact round trip.
func TestPayloadJSON(t *testing.T) {
	p := &InboundCallEndedPayload{
		CallID: "c1", HoldTime: 12*time.Second + 5*time.Millisecond, Duration: time.Nanosecond, TotalDuration: 1500 * time.Millisecond,
		StartTime: time.Date(2024, 5, 6, 10, 11, 12, 123456789, time.UTC), InBusinessHours: Ptr(false),
		Tags: []string{"a", `b"c`}, ContactName: "Zé <x>\u2028", PhoneVIP: Ptr(true),
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"call_id":"c1","total_duration":1.5,"duration":0.000000001,"hold_time":12.005,"in_business_hours":false,"start_time":"2024-05-06T10:11:12.123456789Z","tags":["a","b\"c"],"contact_name":"Zé \u003cx\u003e\u2028","phone_vip":true}` // json.Marshal escapes HTML and U+2028
	if string(data) != want {
		t.Errorf("json.Marshal =\n %s\nwant\n %s", data, want)
	}
	var back InboundCallEndedPayload
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, &back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"hold_time":"soon"}`), &back); err == nil {
		t.Error("Unmarshal of a bad duration gave no error")
	}
	// Talkdesk's durations are never negative, and UnmarshalJSON reads
	// what Talkdesk sends: a negative one encodes, and is refused on read.
	data, _ = json.Marshal(&InboundCallEndedPayload{TotalDuration: -1500 * time.Millisecond})
	if string(data) != `{"total_duration":-1.5}` {
		t.Errorf("a negative duration encodes as %s", data)
	}
	if err := json.Unmarshal(data, &back); err == nil {
		t.Error("Unmarshal of a negative duration gave no error")
	}
}

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

// TestSecondsRoundTrip: the seconds the payload types encode read back,
// through the parser of webhook bodies, to the same duration, down to the
// extremes; a duration past the largest is refused, not wrapped around.
func TestSecondsRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 93 * time.Second, 1500 * time.Millisecond, math.MaxInt64} {
		data, err := json.Marshal(&InboundCallEndedPayload{HoldTime: d, CallID: "c"})
		if err != nil {
			t.Fatal(err)
		}
		var p InboundCallEndedPayload
		if err := json.Unmarshal(data, &p); err != nil || p.HoldTime != d {
			t.Errorf("%d encodes as %s, read back as %d, %v", d, data, p.HoldTime, err)
		}
	}
	var p InboundCallEndedPayload
	if err := json.Unmarshal([]byte(`{"hold_time":9223372036.854775808}`), &p); err == nil {
		t.Errorf("a hold time past the largest duration read as %d", p.HoldTime)
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
