package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Trigger names one of the nine triggers of the Talkdesk connector: an
// event in Talkdesk that is delivered to a subscribed callback URL (see
// [Client.Subscribe] and [WebhookHandler]). Its value is the name Talkdesk
// uses in /webhooks/triggers/{trigger}.
type Trigger string

// The triggers of the Talkdesk connector. The comment of each names the
// payload type its events carry in [Event.Payload].
const (
	TriggerContactCreated                  Trigger = "contactCreated"                  // *ContactPayload
	TriggerContactUpdated                  Trigger = "contactUpdated"                  // *ContactPayload
	TriggerNoteCreated                     Trigger = "noteCreated"                     // *NotePayload
	TriggerAgentLogIn                      Trigger = "agentLogIn"                      // *AgentPayload
	TriggerAgentLogOut                     Trigger = "agentLogOut"                     // *AgentPayload
	TriggerInboundCallReachesContactCenter Trigger = "inboundCallReachesContactCenter" // *CallArrivedPayload
	TriggerInboundCallStarts               Trigger = "inboundCallStarts"               // *CallStartedPayload
	TriggerInboundCallEnds                 Trigger = "inboundCallEnds"                 // *InboundCallEndedPayload
	TriggerOutboundCallEnds                Trigger = "outboundCallEnds"                // *OutboundCallEndedPayload
)

// Triggers returns the nine triggers of the connector, in the order of the
// constants.
func Triggers() []Trigger {
	return []Trigger{
		TriggerContactCreated, TriggerContactUpdated, TriggerNoteCreated,
		TriggerAgentLogIn, TriggerAgentLogOut,
		TriggerInboundCallReachesContactCenter, TriggerInboundCallStarts,
		TriggerInboundCallEnds, TriggerOutboundCallEnds,
	}
}

// ParseTrigger returns the Trigger named s, exactly as Talkdesk spells it
// ("inboundCallEnds"). Any other name fails with [ErrInvalid].
func ParseTrigger(s string) (Trigger, error) {
	if _, ok := triggerInfos[Trigger(s)]; ok {
		return Trigger(s), nil
	}
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "", invalid("trigger", fmt.Sprintf("%q is not a Talkdesk trigger", s))
}

// triggerInfo is what the connector definition says about one trigger.
type triggerInfo struct {
	title         string // the connector's default webhook title
	callbackField string // the JSON name of the callback URL in the subscribe body
	spec          *payloadSpec
	schema        string // the JSON Schema sent as "message", generated from spec
}

var triggerInfos = func() map[Trigger]*triggerInfo {
	contact := newPayloadSpec(ContactPayload{})
	note := newPayloadSpec(NotePayload{})
	agent := newPayloadSpec(AgentPayload{})
	infos := map[Trigger]*triggerInfo{
		TriggerContactCreated:                  {"When a contact is created", "callbackURL", contact, ""},
		TriggerContactUpdated:                  {"When a contact is updated", "callbackurl", contact, ""},
		TriggerNoteCreated:                     {"When a note is created", "callbackurl", note, ""},
		TriggerAgentLogIn:                      {"When agent logs in", "callbackurl", agent, ""},
		TriggerAgentLogOut:                     {"When agent logs out", "callbackurl", agent, ""},
		TriggerInboundCallReachesContactCenter: {"When inbound call reaches contact center", "callbackurl", newPayloadSpec(CallArrivedPayload{}), ""},
		TriggerInboundCallStarts:               {"When inbound call starts", "callbackurl", newPayloadSpec(CallStartedPayload{}), ""},
		TriggerInboundCallEnds:                 {"When inbound call ends", "callbackurl", newPayloadSpec(InboundCallEndedPayload{}), ""},
		TriggerOutboundCallEnds:                {"When outbound call ends", "callbackurl", newPayloadSpec(OutboundCallEndedPayload{}), ""},
	}
	for _, info := range infos {
		info.schema = info.spec.schema()
	}
	return infos
}()

// Payloads. Talkdesk fills every field of a trigger's payload from a
// template (the default of each field in the subscription's JSON Schema,
// shown in the field's default tag) and sends it as a JSON string.
// [ParseEvent] turns those strings into Go values:
//
//   - durations (total_duration, duration, waiting_time, hold_time): whole
//     or fractional seconds ("93", "93.5") or h:mm:ss ("00:01:33",
//     "1:02:03.5"), up to the largest time.Duration (about 292 years);
//   - instants (start_time, timestamp): RFC 3339 with or without fraction
//     and zone (no zone is UTC), "2006-01-02 15:04:05" (UTC, optionally
//     with a fraction and a zone such as "+0000" or "UTC"), Unix seconds or
//     Unix milliseconds (13 digits or more), always returned in UTC, from
//     1677-09-21 to 2262-04-11 (the times whose Unix nanoseconds fit an
//     int64);
//   - flags (in_business_hours, proactive_outbound, is_transfer, phone_vip,
//     phone_ivr): true/false, 1/0 or yes/no in any case; nil when not given;
//   - tag lists (tags, agent_tags): comma-separated or a JSON array (as a
//     string or as an array), each tag trimmed, empty ones dropped; a list
//     of more than 1024 tags is not read.
//
// A value that is empty, or still the unfilled template ("{{agent.name}}"),
// leaves its field at the zero value. The tags title, default and
// required are the field's entry in the JSON Schema that [Client.Subscribe]
// sends; the json tag is the key in Talkdesk's payload and in the JSON
// encoding of the payload types (durations as seconds, instants as RFC 3339
// in UTC, empty fields left out).

// ContactPayload is the payload of contactCreated and contactUpdated: the
// contact as it is after the change, and the account.
type ContactPayload struct {
	Event            string `json:"event" title:"Event" default:"{{event}}"`                                         // name of the Talkdesk event
	ContactID        string `json:"contact_id" title:"Contact ID" default:"{{contact_id}}"`                          // id of the Talkdesk contact
	AccountID        string `json:"account_id" title:"Account ID" default:"{{account_id}}"`                          // id of the Talkdesk account
	ContactFirstName string `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`  // first name of the Talkdesk contact
	ContactLastName  string `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`     // last name of the Talkdesk contact
	ContactName      string `json:"contact_name" title:"Contact name" default:"{{contact.name}}" required:"true"`    // name of the Talkdesk contact
	ContactEmail     string `json:"contact_email" title:"Contact email" default:"{{contact.email}}" required:"true"` // email of the Talkdesk contact
	ContactPhone     string `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                 // phone of the Talkdesk contact
	ContactAddress   string `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`           // address of the Talkdesk contact
	ContactCompany   string `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`           // company of the Talkdesk contact
	ContactWebsite   string `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`           // website of the Talkdesk contact
	ContactTitle     string `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                 // title of the Talkdesk contact
	AccountEmail     string `json:"account_email" title:"Account email" default:"{{account.email}}"`                 // email of the Talkdesk account
	AccountName      string `json:"account_name" title:"Account name" default:"{{account.name}}"`                    // name of the Talkdesk account
}

// NotePayload is the payload of noteCreated: the note and the contact it
// was written on.
type NotePayload struct {
	Event            string `json:"event" title:"Event" default:"{{event}}"`                                         // name of the Talkdesk event
	ContactID        string `json:"contact_id" title:"Contact ID" default:"{{contact_id}}"`                          // id of the Talkdesk contact
	AccountID        string `json:"account_id" title:"Account ID" default:"{{account_id}}"`                          // id of the Talkdesk account
	ContactFirstName string `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`  // first name of the Talkdesk contact
	ContactLastName  string `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`     // last name of the Talkdesk contact
	ContactName      string `json:"contact_name" title:"Contact name" default:"{{contact.name}}" required:"true"`    // name of the Talkdesk contact
	ContactEmail     string `json:"contact_email" title:"Contact email" default:"{{contact.email}}" required:"true"` // email of the Talkdesk contact
	ContactPhone     string `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                 // phone of the Talkdesk contact
	ContactAddress   string `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`           // address of the Talkdesk contact
	ContactCompany   string `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`           // company of the Talkdesk contact
	ContactWebsite   string `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`           // website of the Talkdesk contact
	ContactTitle     string `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                 // title of the Talkdesk contact
	Title            string `json:"title" title:"Note title" default:"{{title}}"`                                    // title of the Talkdesk note
	Content          string `json:"content" title:"Note content" default:"{{content}}"`                              // content of the Talkdesk note
	AccountEmail     string `json:"account_email" title:"Account email" default:"{{account.email}}"`                 // email of the Talkdesk account
	AccountName      string `json:"account_name" title:"Account name" default:"{{account.name}}"`                    // name of the Talkdesk account
}

// AgentPayload is the payload of agentLogIn and agentLogOut.
type AgentPayload struct {
	Event      string   `json:"event" title:"Event" default:"{{event}}"`                               // name of the Talkdesk event
	AgentEmail string   `json:"agent_email" title:"Agent email" default:"{{agent.email}}"`             // email of the Talkdesk agent
	AgentID    string   `json:"agent_id" title:"Agent ID" default:"{{agent_id}}" required:"true"`      // id of the Talkdesk agent
	AgentName  string   `json:"agent_name" title:"Agent name" default:"{{agent.name}}"`                // name of the Talkdesk agent
	AgentTags  []string `json:"agent_tags" title:"Agent ringing groups" default:"{{agent.tags_list}}"` // ringing groups of the Talkdesk agent
}

// CallArrivedPayload is the payload of inboundCallReachesContactCenter:
// an inbound call has reached the contact centre and no agent has it yet.
type CallArrivedPayload struct {
	Event                string `json:"event" title:"Event" default:"{{event}}"`                                                    // name of the Talkdesk event
	CallID               string `json:"call_id" title:"Callid" default:"{{call_id}}"`                                               // id of the Talkdesk call
	InteractionID        string `json:"interaction_id" title:"Interaction id" default:"{{interaction_id}}"`                         // id of the Talkdesk interaction
	ContactID            string `json:"contact_id" title:"Contact id" default:"{{contact.id}}"`                                     // id of the Talkdesk contact
	AccountID            string `json:"account_id" title:"Account id" default:"{{account_id}}" required:"true"`                     // id of the Talkdesk account
	ContactPhoneNumber   string `json:"contact_phone_number" title:"Caller's number" default:"{{contact_phone_number}}"`            // called number of the Talkdesk call
	InteractionContextID string `json:"interaction_context_id" title:"Interaction context ID" default:"{{interaction_context_id}}"` // interaction context id of the Talkdesk call
	TalkdeskPhoneNumber  string `json:"talkdesk_phone_number" title:"Contact Center number" default:"{{talkdesk_phone_number}}"`    // contact center number of the Talkdesk call
	ContactFirstName     string `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`             // first name of the Talkdesk contact
	ContactLastName      string `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`                // last name of the Talkdesk contact
	ContactName          string `json:"contact_name" title:"Contact name" default:"{{contact.name}}"`                               // name of the Talkdesk contact
	ContactEmail         string `json:"contact_email" title:"Contact email" default:"{{contact.email}}"`                            // email of the Talkdesk contact
	ContactPhone         string `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                            // phone of the Talkdesk contact
	ContactCompany       string `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`                      // company of the Talkdesk contact
	ContactTitle         string `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                            // title of the Talkdesk contact
	ContactAddress       string `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`                      // address of the Talkdesk contact
	ContactWebsite       string `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`                      // website of the Talkdesk contact
	PhoneVIP             *bool  `json:"phone_vip" title:"VIP phone number" default:"{{phone.vip}}"`                                 // VIP phone number of the Talkdesk call
	PhoneIVR             *bool  `json:"phone_ivr" title:"Using IVR" default:"{{phone.ivr}}"`                                        // using IVR of the Talkdesk call
	InteractionType      string `json:"interaction_type" title:"Interaction type" default:"{{interaction.type}}"`                   // interaction type of the Talkdesk call
	AccountEmail         string `json:"account_email" title:"Account email" default:"{{account.email}}"`                            // email of the Talkdesk account
	AccountName          string `json:"account_name" title:"Account name" default:"{{account.name}}"`                               // name of the Talkdesk account
}

// CallStartedPayload is the payload of inboundCallStarts: an agent has
// answered an inbound call.
type CallStartedPayload struct {
	Event                string        `json:"event" title:"Event" default:"{{event}}"`                                                    // name of the Talkdesk event
	CallID               string        `json:"call_id" title:"Callid" default:"{{call_id}}"`                                               // id of the Talkdesk call
	InteractionID        string        `json:"interaction_id" title:"Interaction id" default:"{{interaction_id}}"`                         // id of the Talkdesk interaction
	ContactID            string        `json:"contact_id" title:"Contact id" default:"{{contact.id}}"`                                     // id of the Talkdesk contact
	AccountID            string        `json:"account_id" title:"Account id" default:"{{account_id}}" required:"true"`                     // id of the Talkdesk account
	AgentID              string        `json:"agent_id" title:"Agent id" default:"{{agent_id}}"`                                           // id of the Talkdesk agent
	ContactPhoneNumber   string        `json:"contact_phone_number" title:"Called number" default:"{{contact_phone_number}}"`              // called number of the Talkdesk call
	WaitingTime          time.Duration `json:"waiting_time" title:"Waiting time" default:"{{waiting_time}}"`                               // waiting time of the Talkdesk call
	InteractionContextID string        `json:"interaction_context_id" title:"Interaction context ID" default:"{{interaction_context_id}}"` // interaction context id of the Talkdesk call
	ProactiveOutbound    *bool         `json:"proactive_outbound" title:"Launched by Outbound Dialer" default:"{{proactive_outbound}}"`    // launched by outbound dialer of the Talkdesk call
	Tags                 []string      `json:"tags" title:"Call ringing groups" default:"{{tags}}"`                                        // call ringing groups of the Talkdesk call
	TalkdeskPhoneNumber  string        `json:"talkdesk_phone_number" title:"Contact Center number" default:"{{talkdesk_phone_number}}"`    // contact center number of the Talkdesk call
	IsTransfer           *bool         `json:"is_transfer" title:"Is transfer" default:"{{is_transfer}}"`                                  // is transfer of the Talkdesk call
	AgentName            string        `json:"agent_name" title:"Agent name" default:"{{agent.name}}"`                                     // name of the Talkdesk agent
	AgentEmail           string        `json:"agent_email" title:"Agent email" default:"{{agent.email}}"`                                  // email of the Talkdesk agent
	AgentTags            []string      `json:"agent_tags" title:"Agent ringing groups" default:"{{agent.tags_list}}"`                      // ringing groups of the Talkdesk agent
	ContactFirstName     string        `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`             // first name of the Talkdesk contact
	ContactLastName      string        `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`                // last name of the Talkdesk contact
	ContactName          string        `json:"contact_name" title:"Contact name" default:"{{contact.name}}"`                               // name of the Talkdesk contact
	ContactEmail         string        `json:"contact_email" title:"Contact email" default:"{{contact.email}}"`                            // email of the Talkdesk contact
	ContactPhone         string        `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                            // phone of the Talkdesk contact
	ContactCompany       string        `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`                      // company of the Talkdesk contact
	ContactTitle         string        `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                            // title of the Talkdesk contact
	ContactAddress       string        `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`                      // address of the Talkdesk contact
	ContactWebsite       string        `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`                      // website of the Talkdesk contact
	PhoneVIP             *bool         `json:"phone_vip" title:"VIP phone number" default:"{{phone.vip}}"`                                 // VIP phone number of the Talkdesk call
	PhoneIVR             *bool         `json:"phone_ivr" title:"Using IVR" default:"{{phone.ivr}}"`                                        // using IVR of the Talkdesk call
	InteractionType      string        `json:"interaction_type" title:"Interaction type" default:"{{interaction.type}}"`                   // interaction type of the Talkdesk call
	AccountEmail         string        `json:"account_email" title:"Account email" default:"{{account.email}}"`                            // email of the Talkdesk account
	AccountName          string        `json:"account_name" title:"Account name" default:"{{account.name}}"`                               // name of the Talkdesk account
}

// InboundCallEndedPayload is the payload of inboundCallEnds.
type InboundCallEndedPayload struct {
	Event                string        `json:"event" title:"Event" default:"{{event}}"`                                                    // name of the Talkdesk event
	CallID               string        `json:"call_id" title:"Callid" default:"{{call_id}}"`                                               // id of the Talkdesk call
	InteractionID        string        `json:"interaction_id" title:"Interaction id" default:"{{interaction_id}}"`                         // id of the Talkdesk interaction
	ContactID            string        `json:"contact_id" title:"Contact id" default:"{{contact.id}}"`                                     // id of the Talkdesk contact
	AccountID            string        `json:"account_id" title:"Account id" default:"{{account_id}}" required:"true"`                     // id of the Talkdesk account
	AgentID              string        `json:"agent_id" title:"Agent id" default:"{{agent_id}}"`                                           // id of the Talkdesk agent
	ContactPhoneNumber   string        `json:"contact_phone_number" title:"Called number" default:"{{contact_phone_number}}"`              // called number of the Talkdesk call
	TotalDuration        time.Duration `json:"total_duration" title:"Total duration" default:"{{total_duration}}"`                         // total duration of the Talkdesk call
	Duration             time.Duration `json:"duration" title:"Call duration" default:"{{duration}}"`                                      // duration of the Talkdesk call
	WaitingTime          time.Duration `json:"waiting_time" title:"Waiting time" default:"{{waiting_time}}"`                               // waiting time of the Talkdesk call
	HoldTime             time.Duration `json:"hold_time" title:"Hold time" default:"{{hold_time}}"`                                        // holding time of the Talkdesk call
	InBusinessHours      *bool         `json:"in_business_hours" title:"In business hours" default:"{{in_business_hours}}"`                // in business hours of the Talkdesk call
	RecordingURL         string        `json:"recording_url" title:"Recording URL" default:"{{recording_url}}"`                            // recording URL of the Talkdesk call
	Hangup               string        `json:"hangup" title:"Hangup reason" default:"{{hangup}}"`                                          // hang up reason of the Talkdesk call
	StartTime            time.Time     `json:"start_time" title:"Call start time" default:"{{start_time}}"`                                // call start time of the Talkdesk call
	Timestamp            time.Time     `json:"timestamp" title:"Call end time" default:"{{timestamp}}"`                                    // call end time of the Talkdesk call
	InteractionContextID string        `json:"interaction_context_id" title:"Interaction context ID" default:"{{interaction_context_id}}"` // interaction context id of the Talkdesk call
	ProactiveOutbound    *bool         `json:"proactive_outbound" title:"Launched by Outbound Dialer" default:"{{proactive_outbound}}"`    // launched by outbound dialer of the Talkdesk call
	Tags                 []string      `json:"tags" title:"Call ringing groups" default:"{{tags}}"`                                        // call ringing groups of the Talkdesk call
	TalkdeskPhoneNumber  string        `json:"talkdesk_phone_number" title:"Contact Center number" default:"{{talkdesk_phone_number}}"`    // contact center number of the Talkdesk call
	AgentName            string        `json:"agent_name" title:"Agent name" default:"{{agent.name}}"`                                     // name of the Talkdesk agent
	AgentEmail           string        `json:"agent_email" title:"Agent email" default:"{{agent.email}}"`                                  // email of the Talkdesk agent
	AgentTags            []string      `json:"agent_tags" title:"Agent ringing groups" default:"{{agent.tags_list}}"`                      // ringing groups of the Talkdesk agent
	ContactFirstName     string        `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`             // first name of the Talkdesk contact
	ContactLastName      string        `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`                // last name of the Talkdesk contact
	ContactName          string        `json:"contact_name" title:"Contact name" default:"{{contact.name}}"`                               // name of the Talkdesk contact
	ContactEmail         string        `json:"contact_email" title:"Contact email" default:"{{contact.email}}"`                            // email of the Talkdesk contact
	ContactPhone         string        `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                            // phone of the Talkdesk contact
	ContactCompany       string        `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`                      // company of the Talkdesk contact
	ContactTitle         string        `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                            // title of the Talkdesk contact
	ContactAddress       string        `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`                      // address of the Talkdesk contact
	ContactWebsite       string        `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`                      // website of the Talkdesk contact
	PhoneVIP             *bool         `json:"phone_vip" title:"VIP phone number" default:"{{phone.vip}}"`                                 // VIP phone number of the Talkdesk call
	PhoneIVR             *bool         `json:"phone_ivr" title:"Using IVR" default:"{{phone.ivr}}"`                                        // using IVR of the Talkdesk call
	InteractionType      string        `json:"interaction_type" title:"Interaction type" default:"{{interaction.type}}"`                   // interaction type of the Talkdesk call
	AccountEmail         string        `json:"account_email" title:"Account email" default:"{{account.email}}"`                            // email of the Talkdesk account
	AccountName          string        `json:"account_name" title:"Account name" default:"{{account.name}}"`                               // name of the Talkdesk account
}

// OutboundCallEndedPayload is the payload of outboundCallEnds.
type OutboundCallEndedPayload struct {
	Event               string        `json:"event" title:"Event" default:"{{event}}"`                                                 // name of the Talkdesk event
	CallID              string        `json:"call_id" title:"Callid" default:"{{call_id}}"`                                            // id of the Talkdesk call
	InteractionID       string        `json:"interaction_id" title:"Interaction id" default:"{{interaction_id}}"`                      // id of the Talkdesk interaction
	ContactID           string        `json:"contact_id" title:"Contact id" default:"{{contact.id}}"`                                  // id of the Talkdesk contact
	AccountID           string        `json:"account_id" title:"Account id" default:"{{account_id}}" required:"true"`                  // id of the Talkdesk account
	AgentID             string        `json:"agent_id" title:"Agent id" default:"{{agent_id}}"`                                        // id of the Talkdesk agent
	TotalDuration       time.Duration `json:"total_duration" title:"Total duration" default:"{{total_duration}}"`                      // total duration of the Talkdesk call
	Duration            time.Duration `json:"duration" title:"Call duration" default:"{{duration}}"`                                   // duration of the Talkdesk call
	WaitingTime         time.Duration `json:"waiting_time" title:"Waiting time" default:"{{waiting_time}}"`                            // waiting time of the Talkdesk call
	HoldTime            time.Duration `json:"hold_time" title:"Hold time" default:"{{hold_time}}"`                                     // holding time of the Talkdesk call
	Hangup              string        `json:"hangup" title:"Hangup reason" default:"{{hangup}}"`                                       // hang up reason of the Talkdesk call
	ProactiveOutbound   *bool         `json:"proactive_outbound" title:"Launched by Outbound Dialer" default:"{{proactive_outbound}}"` // launched by outbound dialer of the Talkdesk call
	Tags                []string      `json:"tags" title:"Call ringing groups" default:"{{tags}}"`                                     // call ringing groups of the Talkdesk call
	TalkdeskPhoneNumber string        `json:"talkdesk_phone_number" title:"Contact Center number" default:"{{talkdesk_phone_number}}"` // contact center number of the Talkdesk call
	ContactPhoneNumber  string        `json:"contact_phone_number" title:"Called number" default:"{{contact_phone_number}}"`           // called number of the Talkdesk call
	AgentName           string        `json:"agent_name" title:"Agent name" default:"{{agent.name}}"`                                  // name of the Talkdesk agent
	AgentEmail          string        `json:"agent_email" title:"Agent email" default:"{{agent.email}}"`                               // email of the Talkdesk agent
	AgentTags           []string      `json:"agent_tags" title:"Agent ringing groups" default:"{{agent.tags_list}}"`                   // ringing groups of the Talkdesk agent
	ContactFirstName    string        `json:"contact_first_name" title:"Contact first name" default:"{{contact.first_name}}"`          // first name of the Talkdesk contact
	ContactLastName     string        `json:"contact_last_name" title:"Contact last name" default:"{{contact.last_name}}"`             // last name of the Talkdesk contact
	ContactName         string        `json:"contact_name" title:"Contact name" default:"{{contact.name}}"`                            // name of the Talkdesk contact
	ContactEmail        string        `json:"contact_email" title:"Contact email" default:"{{contact.email}}"`                         // email of the Talkdesk contact
	ContactPhone        string        `json:"contact_phone" title:"Contact phone" default:"{{contact.phone}}"`                         // phone of the Talkdesk contact
	ContactCompany      string        `json:"contact_company" title:"Contact company" default:"{{contact.company}}"`                   // company of the Talkdesk contact
	ContactTitle        string        `json:"contact_title" title:"Contact title" default:"{{contact.title}}"`                         // title of the Talkdesk contact
	ContactAddress      string        `json:"contact_address" title:"Contact address" default:"{{contact.address}}"`                   // address of the Talkdesk contact
	ContactWebsite      string        `json:"contact_website" title:"Contact website" default:"{{contact.website}}"`                   // website of the Talkdesk contact
	PhoneVIP            *bool         `json:"phone_vip" title:"VIP phone number" default:"{{phone.vip}}"`                              // VIP phone number of the Talkdesk call
	PhoneIVR            *bool         `json:"phone_ivr" title:"Using IVR" default:"{{phone.ivr}}"`                                     // using IVR of the Talkdesk call
	InteractionType     string        `json:"interaction_type" title:"Interaction type" default:"{{interaction.type}}"`                // interaction type of the Talkdesk call
	AccountEmail        string        `json:"account_email" title:"Account email" default:"{{account.email}}"`                         // email of the Talkdesk account
	AccountName         string        `json:"account_name" title:"Account name" default:"{{account.name}}"`                            // name of the Talkdesk account
}

// ActorType says who caused an event.
type ActorType string

// The kinds of [Actor].
const (
	ActorAgent   ActorType = "agent"   // a Talkdesk user (agent)
	ActorContact ActorType = "contact" // a contact of the account
	ActorSystem  ActorType = "system"  // Talkdesk itself, or nobody the payload names
)

// Actor is who caused an event: the agent for agent events and for call
// events where the payload names an agent, the contact for contact and
// note events, and otherwise the system.
type Actor struct {
	Type  ActorType `json:"type"`
	ID    string    `json:"id,omitempty"`
	Name  string    `json:"name,omitempty"`
	Email string    `json:"email,omitempty"`
}

// Event is one delivery of a trigger, in one schema for every trigger: the
// typed payload, the identities lifted out of it, and the body as
// Talkdesk sent it.
type Event struct {
	// ID identifies the event: a hash of the trigger and the payload's
	// keys and values (whitespace and key order do not matter), so a
	// redelivery of the same payload has the same ID and different payloads
	// have different IDs. Two occurrences whose payloads are identical in
	// every field (an agent logging in twice, say, since agentLogIn carries
	// no time) share an ID too.
	ID   string  `json:"id"`
	Type Trigger `json:"type"`
	// Name is Talkdesk's own event name (the payload's "event"), as sent.
	Name string `json:"event,omitempty"`
	// OccurredAt is the payload's timestamp when it has one, else its
	// start_time, else ReceivedAt. Always UTC.
	OccurredAt time.Time `json:"occurred_at"`
	// ReceivedAt is when the event was parsed, in UTC.
	ReceivedAt    time.Time `json:"received_at"`
	AccountID     string    `json:"account_id,omitempty"`
	InteractionID string    `json:"interaction_id,omitempty"`
	CallID        string    `json:"call_id,omitempty"`
	ContactID     string    `json:"contact_id,omitempty"`
	AgentID       string    `json:"agent_id,omitempty"`
	Actor         Actor     `json:"actor"`
	// Payload is the typed payload: *ContactPayload, *NotePayload,
	// *AgentPayload, *CallArrivedPayload, *CallStartedPayload,
	// *InboundCallEndedPayload or *OutboundCallEndedPayload, per Type.
	Payload any `json:"payload"`
	// Raw is the body as Talkdesk sent it. It keeps every value, including
	// those that could not be typed and fields Talkdesk added after this
	// SDK was written.
	Raw json.RawMessage `json:"raw"`

	// Warnings lists the payload values that were present but could not be
	// read (a hold_time of "soon"): their fields stay zero, their text is in
	// Raw. Empty and unfilled values are not warnings. An EventLog keeps
	// them.
	Warnings []PayloadWarning `json:"-"`
}

// PayloadWarning reports a payload value that [ParseEvent] could not turn
// into its field's Go type. It is not an error: the event is delivered,
// the field is left zero and the value stays in [Event.Raw].
type PayloadWarning struct {
	Field  string `json:"field"`  // the payload key, such as "hold_time"
	Value  string `json:"value"`  // the value as sent, cut to 256 bytes
	Reason string `json:"reason"` // why it was not read
}

// String describes the warning as `hold_time "soon": not a duration`.
func (w PayloadWarning) String() string {
	return w.Field + " " + strconv.Quote(w.Value) + ": " + w.Reason
}

// ParseEvent parses the body of one delivery of trigger t into an Event.
// It is the parse step of [WebhookHandler], usable on its own.
//
// The body must be a JSON object; anything else fails with [ErrInvalid],
// as does an unknown trigger. Keys are matched exactly as Talkdesk spells
// them. Values are read as the payload types describe; values that are
// present but unreadable are reported in [Event.Warnings] and do not make
// ParseEvent fail. ReceivedAt is the current time.
func ParseEvent(t Trigger, body []byte) (*Event, error) {
	return parseEvent(t, body, time.Now())
}

func parseEvent(t Trigger, body []byte, now time.Time) (*Event, error) {
	info, ok := triggerInfos[t]
	if !ok {
		_, err := ParseTrigger(string(t))
		return nil, err
	}
	sc := scanPool.Get().(*objectScanner)
	defer sc.release()
	if err := sc.scan(body); err != nil {
		return nil, fmt.Errorf("talkdesk: %s payload: %w: %w", t, ErrInvalid, err)
	}
	spec := info.spec
	pv := reflect.New(spec.typ)
	v := pv.Elem()
	ev := &Event{Type: t, ReceivedAt: now.UTC(), Payload: pv.Interface()}
	for i := range sc.pairs {
		p := &sc.pairs[i]
		fi, ok := spec.byKey[string(sc.key(p))]
		if !ok {
			continue
		}
		f := &spec.fields[fi]
		val := sc.value(p)
		fv := v.Field(f.index)
		if val.kind != memberNull {
			// Of a key sent twice the last one wins, as with encoding/json
			// (where a null changes nothing): forget what an earlier one set.
			fv.SetZero()
			if len(ev.Warnings) > 0 {
				ev.Warnings = slices.DeleteFunc(ev.Warnings, func(w PayloadWarning) bool { return w.Field == f.key })
			}
		}
		if w, ok := f.set(fv, &val); !ok {
			ev.Warnings = append(ev.Warnings, w)
		}
	}
	ev.ID = sc.id(t)
	ev.Raw = bytes.Clone(body)
	spec.lift(ev, v)
	return ev, nil
}

// lift copies the identities, times and actor of the payload v into ev.
func (s *payloadSpec) lift(ev *Event, v reflect.Value) {
	str := func(i int) string {
		if i < 0 {
			return ""
		}
		return v.Field(i).String()
	}
	ev.Name = str(s.lifted.event)
	ev.AccountID = str(s.lifted.accountID)
	ev.InteractionID = str(s.lifted.interactionID)
	ev.CallID = str(s.lifted.callID)
	ev.ContactID = str(s.lifted.contactID)
	ev.AgentID = str(s.lifted.agentID)
	ev.OccurredAt = ev.ReceivedAt
	for _, i := range []int{s.lifted.timestamp, s.lifted.startTime} {
		if i >= 0 {
			if at := v.Field(i).Interface().(time.Time); !at.IsZero() {
				ev.OccurredAt = at
				break
			}
		}
	}
	switch {
	case s.actor == ActorContact:
		ev.Actor = Actor{Type: ActorContact, ID: ev.ContactID, Name: str(s.lifted.contactName), Email: str(s.lifted.contactEmail)}
	case s.actor == ActorAgent && ev.AgentID != "":
		ev.Actor = Actor{Type: ActorAgent, ID: ev.AgentID, Name: str(s.lifted.agentName), Email: str(s.lifted.agentEmail)}
	default:
		ev.Actor = Actor{Type: ActorSystem}
	}
}

// fieldKind is how a payload field is read.
type fieldKind uint8

const (
	kindString fieldKind = iota
	kindDuration
	kindInstant
	kindFlag
	kindTags
)

// payloadField is one field of a payload type, from its struct tags.
type payloadField struct {
	key      string // JSON key
	title    string // title in the subscription schema
	template string // default template in the subscription schema
	required bool
	kind     fieldKind
	index    int // struct field index
}

// payloadSpec describes a payload type: its fields in order, and where the
// fields that Event lifts out are.
type payloadSpec struct {
	typ    reflect.Type
	fields []payloadField
	byKey  map[string]int
	actor  ActorType // who acts when the payload names them
	lifted struct {
		event, accountID, interactionID, callID, contactID, agentID int
		contactName, contactEmail, agentName, agentEmail            int
		timestamp, startTime                                        int
	}
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
	flagType     = reflect.TypeFor[*bool]()
	tagsType     = reflect.TypeFor[[]string]()
	stringType   = reflect.TypeFor[string]()
)

// newPayloadSpec reads the struct tags of the payload type of zero. A tag
// it cannot read is a programming error in this package, so it panics at
// init.
func newPayloadSpec(zero any) *payloadSpec {
	t := reflect.TypeOf(zero)
	s := &payloadSpec{typ: t, byKey: make(map[string]int)}
	for i := range t.NumField() {
		sf := t.Field(i)
		f := payloadField{
			key:      sf.Tag.Get("json"),
			title:    sf.Tag.Get("title"),
			template: sf.Tag.Get("default"),
			required: sf.Tag.Get("required") == "true",
			index:    i,
		}
		switch sf.Type {
		case stringType:
			f.kind = kindString
		case durationType:
			f.kind = kindDuration
		case timeType:
			f.kind = kindInstant
		case flagType:
			f.kind = kindFlag
		case tagsType:
			f.kind = kindTags
		default:
			panic("talkdesk: payload field " + t.Name() + "." + sf.Name + " has an unsupported type")
		}
		if f.key == "" || f.title == "" || f.template == "" {
			panic("talkdesk: payload field " + t.Name() + "." + sf.Name + " lacks a json, title or default tag")
		}
		s.byKey[f.key] = len(s.fields)
		s.fields = append(s.fields, f)
	}
	idx := func(key string) int {
		if i, ok := s.byKey[key]; ok {
			return s.fields[i].index
		}
		return -1
	}
	l := &s.lifted
	l.event, l.accountID, l.interactionID, l.callID = idx("event"), idx("account_id"), idx("interaction_id"), idx("call_id")
	l.contactID, l.agentID = idx("contact_id"), idx("agent_id")
	l.contactName, l.contactEmail, l.agentName, l.agentEmail = idx("contact_name"), idx("contact_email"), idx("agent_name"), idx("agent_email")
	l.timestamp, l.startTime = idx("timestamp"), idx("start_time")
	switch {
	case t == reflect.TypeFor[ContactPayload]() || t == reflect.TypeFor[NotePayload]():
		s.actor = ActorContact
	case l.agentID >= 0:
		s.actor = ActorAgent
	default:
		s.actor = ActorSystem
	}
	return s
}

// schema returns the draft-07 JSON Schema that tells Talkdesk which fields
// to send and how to fill them, compact, with the keys in the order of the
// connector definition.
func (s *payloadSpec) schema() string {
	var b []byte
	b = append(b, `{"$schema":"http://json-schema.org/draft-07/schema#","title":"Root","type":"object","required":[`...)
	n := 0
	for _, f := range s.fields {
		if f.required {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.key)
			n++
		}
	}
	b = append(b, `],"properties":{`...)
	for i, f := range s.fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.key)
		b = append(b, `:{"title":`...)
		b = appendJSONString(b, f.title)
		b = append(b, `,"type":"string","default":`...)
		b = appendJSONString(b, f.template)
		b = append(b, '}')
	}
	b = append(b, `},"additionalProperties":false}`...)
	return string(b)
}

// maxWarningValue bounds the text a PayloadWarning keeps.
const maxWarningValue = 256

// set stores the value of p into the field fv. It reports false, with a
// warning, when the value is present but cannot be read.
func (f *payloadField) set(fv reflect.Value, p *memberValue) (PayloadWarning, bool) {
	var s string
	switch p.kind {
	case memberString:
		s = p.str()
	case memberLiteral:
		s = string(p.val)
	case memberNull:
		return PayloadWarning{}, true
	case memberComposite:
		if f.kind == kindTags && p.val[0] == '[' {
			tags, err := parseTagArray(p.val)
			if err == nil {
				fv.Set(reflect.ValueOf(tags))
				return PayloadWarning{}, true
			}
		}
		return f.warn(string(p.val[:min(len(p.val), maxWarningValue+1)]), "not a string"), false
	}
	if unset(s) {
		return PayloadWarning{}, true
	}
	switch f.kind {
	case kindString:
		fv.SetString(s)
	case kindDuration:
		d, err := parseDuration(s)
		if err != nil {
			return f.warn(s, err.Error()), false
		}
		fv.SetInt(int64(d))
	case kindInstant:
		t, err := parseInstant(s)
		if err != nil {
			return f.warn(s, err.Error()), false
		}
		fv.Set(reflect.ValueOf(t))
	case kindFlag:
		b, err := parseFlag(s)
		if err != nil {
			return f.warn(s, err.Error()), false
		}
		fv.Set(reflect.ValueOf(&b))
	case kindTags:
		tags, err := parseTags(s)
		if err != nil {
			return f.warn(s, err.Error()), false
		}
		if tags != nil {
			fv.Set(reflect.ValueOf(tags))
		}
	}
	return PayloadWarning{}, true
}

func (f *payloadField) warn(value, reason string) PayloadWarning {
	if len(value) > maxWarningValue {
		value = strings.ToValidUTF8(value[:maxWarningValue], "") + "..."
	}
	return PayloadWarning{Field: f.key, Value: value, Reason: reason}
}

// unset reports whether s is a value Talkdesk did not fill: empty, blank,
// or a template left as it was ("{{agent.name}}").
func unset(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}")
}

var (
	errNotDuration   = errors.New("not a duration (seconds or h:mm:ss)")
	errDurationRange = errors.New("duration out of range (over 292 years)")
	errNotInstant    = errors.New("not a time (RFC 3339, 2006-01-02 15:04:05, or Unix seconds or milliseconds)")
	errInstantRange  = errors.New("time out of range (before 1677-09-21 or after 2262-04-11)")
	errNotFlag       = errors.New("not a flag (true/false, 1/0, yes/no)")
	errNotTags       = errors.New("not a tag list (comma-separated or a JSON array of strings)")
	errTooManyTags   = fmt.Errorf("more than %d tags", maxTags)
)

// parseDuration reads whole or fractional seconds ("93", "93.5") or
// h:mm:ss with an optional fraction ("00:01:33", "1:02:03.5").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, ":") {
		return parseSeconds(s)
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, errNotDuration
	}
	var hm [2]int64
	for i, p := range parts[:2] {
		if p == "" || len(p) > 9 || strings.Trim(p, "0123456789") != "" {
			return 0, errNotDuration
		}
		hm[i], _ = strconv.ParseInt(p, 10, 64)
	}
	if len(parts[1]) != 2 || hm[1] >= 60 || len(parts[2]) < 2 || parts[2][:2] > "59" {
		return 0, errNotDuration
	}
	sec, err := parseSeconds(parts[2])
	if err != nil {
		return 0, errNotDuration
	}
	rest := time.Duration(hm[1])*time.Minute + sec // under an hour
	if hm[0] > int64((math.MaxInt64-rest)/time.Hour) {
		return 0, errDurationRange
	}
	return time.Duration(hm[0])*time.Hour + rest, nil
}

// parseSeconds reads a non-negative decimal number of seconds exactly, to
// the nanosecond: "93", "93.5", "0.000000001". A number beyond the largest
// time.Duration (about 292 years) is out of range, not wrapped around.
func parseSeconds(s string) (time.Duration, error) {
	ns, err := parseNanos(s)
	if err != nil {
		return 0, err
	}
	if ns > math.MaxInt64 {
		return 0, errDurationRange
	}
	return time.Duration(ns), nil
}

// maxWholeSeconds is the whole seconds of the largest time.Duration.
const maxWholeSeconds = math.MaxInt64 / 1_000_000_000 // 9223372036

// parseNanos reads a non-negative decimal number of seconds as
// nanoseconds, up to 1<<63 (the magnitude of the smallest time.Duration).
func parseNanos(s string) (uint64, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && frac == "" || dot && frac == "" || len(whole) > 11 ||
		strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, errNotDuration
	}
	var sec uint64
	for _, c := range []byte(whole) {
		sec = sec*10 + uint64(c-'0') // at most 11 digits: no overflow
	}
	if sec > maxWholeSeconds+1 {
		return 0, errDurationRange
	}
	ns := sec * uint64(time.Second)
	scale := uint64(time.Second)
	for _, c := range []byte(frac) {
		scale /= 10
		ns += uint64(c-'0') * scale // digits past the nanosecond add 0
	}
	if ns > 1<<63 {
		return 0, errDurationRange
	}
	return ns, nil
}

// instantLayouts are the layouts of Talkdesk times that are not Unix
// numbers. Parsing accepts a fraction of seconds after the seconds in each.
var instantLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05 UTC",
}

// The instants an Event holds: those whose Unix time in nanoseconds is an
// int64, which an EventLog indexes (and JSON can encode).
var (
	minInstant = time.Unix(0, math.MinInt64).UTC() // 1677-09-21T00:12:43.145224192Z
	maxInstant = time.Unix(0, math.MaxInt64).UTC() // 2262-04-11T23:47:16.854775807Z
)

// parseInstant reads a time in one of instantLayouts (no zone means UTC),
// or Unix seconds or milliseconds (13 or more digits), and returns it in
// UTC. A time outside [minInstant, maxInstant] is out of range.
func parseInstant(s string) (time.Time, error) {
	t, err := parseAnyInstant(s)
	if err == nil && (t.Before(minInstant) || t.After(maxInstant)) {
		return time.Time{}, errInstantRange
	}
	return t, err
}

func parseAnyInstant(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s != "" && strings.Trim(s, "0123456789.") == "" {
		whole, frac, _ := strings.Cut(s, ".")
		if whole == "" || len(whole) > 16 || strings.Contains(frac, ".") {
			return time.Time{}, errNotInstant
		}
		if len(whole) >= 13 { // milliseconds: 10^12 ms is 2001, 10^12 s the year 33658
			ms, _ := strconv.ParseInt(whole, 10, 64)
			if frac != "" {
				return time.Time{}, errNotInstant
			}
			return time.UnixMilli(ms).UTC(), nil
		}
		d, err := parseSeconds(s)
		if err == errDurationRange {
			return time.Time{}, errInstantRange
		}
		if err != nil {
			return time.Time{}, errNotInstant
		}
		return time.Unix(0, int64(d)).UTC(), nil
	}
	if len(s) < len("2006-01-02T15:04:05") {
		return time.Time{}, errNotInstant
	}
	for _, layout := range instantLayouts {
		if layout[10] != s[10] {
			continue
		}
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errNotInstant
}

// parseFlag reads true/false, 1/0 or yes/no in any case.
func parseFlag(s string) (bool, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "1" || strings.EqualFold(s, "true") || strings.EqualFold(s, "yes"):
		return true, nil
	case s == "0" || strings.EqualFold(s, "false") || strings.EqualFold(s, "no"):
		return false, nil
	}
	return false, errNotFlag
}

// maxTags is the most tags a tag list may hold. A longer one is not read
// (a warning): Talkdesk's ringing groups are a handful, and a body of a
// million one-letter tags would otherwise cost many times its size.
const maxTags = 1024

// parseTags reads a comma-separated list or a JSON array of strings, each
// tag trimmed and empty ones dropped; nil when no tag is left. More than
// maxTags tags are an error.
func parseTags(s string) ([]string, error) {
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		return parseTagArray([]byte(t))
	}
	keep := func(tag string) bool { return tag != "" && !unset(tag) }
	n := 0
	for tag := range strings.SplitSeq(s, ",") {
		if keep(strings.TrimSpace(tag)) {
			if n++; n > maxTags {
				return nil, errTooManyTags
			}
		}
	}
	if n == 0 {
		return nil, nil
	}
	tags := make([]string, 0, n)
	for tag := range strings.SplitSeq(s, ",") {
		if tag = strings.TrimSpace(tag); keep(tag) {
			tags = append(tags, tag)
		}
	}
	return tags, nil
}

// parseTagArray reads a JSON array of strings, one element at a time so
// that a long one fails at maxTags + 1.
func parseTagArray(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errNotTags
	}
	var tags []string
	for dec.More() {
		var tag string
		if err := dec.Decode(&tag); err != nil {
			return nil, errNotTags
		}
		if tag = strings.TrimSpace(tag); tag != "" {
			if len(tags) == maxTags {
				return nil, errTooManyTags
			}
			tags = append(tags, tag)
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, errNotTags
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotTags
	}
	return tags, nil
}

// The JSON encoding of the payload types: the Talkdesk keys, in order,
// with typed values; empty fields are left out.

func (s *payloadSpec) marshal(v reflect.Value) ([]byte, error) {
	b := make([]byte, 0, 512)
	b = append(b, '{')
	for _, f := range s.fields {
		fv := v.Field(f.index)
		if fv.IsZero() {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.key)
		b = append(b, ':')
		switch f.kind {
		case kindString:
			b = appendJSONString(b, fv.String())
		case kindDuration:
			b = appendSeconds(b, time.Duration(fv.Int()))
		case kindInstant:
			b = append(b, '"')
			b = fv.Interface().(time.Time).UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		case kindFlag:
			b = strconv.AppendBool(b, *fv.Interface().(*bool))
		case kindTags:
			b = append(b, '[')
			for i, tag := range fv.Interface().([]string) {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, tag)
			}
			b = append(b, ']')
		}
	}
	return append(b, '}'), nil
}

func (s *payloadSpec) unmarshal(data []byte, v reflect.Value) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	v.SetZero()
	for _, f := range s.fields {
		raw, ok := m[f.key]
		if !ok || string(raw) == "null" {
			continue
		}
		fv := v.Field(f.index)
		var err error
		switch f.kind {
		case kindString:
			var str string
			err = json.Unmarshal(raw, &str)
			fv.SetString(str)
		case kindDuration:
			var d time.Duration
			d, err = parseSignedSeconds(strings.Trim(string(raw), `"`))
			fv.SetInt(int64(d))
		case kindInstant:
			var t time.Time
			err = json.Unmarshal(raw, &t)
			fv.Set(reflect.ValueOf(t.UTC()))
		case kindFlag:
			var b bool
			err = json.Unmarshal(raw, &b)
			fv.Set(reflect.ValueOf(&b))
		case kindTags:
			var tags []string
			err = json.Unmarshal(raw, &tags)
			fv.Set(reflect.ValueOf(tags))
		}
		if err != nil {
			return fmt.Errorf("talkdesk: %s.%s: %w", s.typ.Name(), f.key, err)
		}
	}
	return nil
}

// appendSeconds writes d as an exact decimal number of seconds.
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/uint64(time.Second), 10)
	if frac := u % uint64(time.Second); frac != 0 {
		digits := strconv.AppendUint(nil, frac+uint64(time.Second), 10)[1:] // nine digits, leading zeros kept
		b = append(b, '.')
		b = append(b, bytes.TrimRight(digits, "0")...)
	}
	return b
}

// parseSignedSeconds reads what appendSeconds writes.
func parseSignedSeconds(s string) (time.Duration, error) {
	neg := strings.HasPrefix(s, "-")
	ns, err := parseNanos(strings.TrimPrefix(s, "-"))
	if err == nil && !neg && ns > math.MaxInt64 {
		err = errDurationRange
	}
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	if neg {
		return -time.Duration(ns), nil // 1<<63 gives math.MinInt64
	}
	return time.Duration(ns), nil
}

func marshalPayload[T any](p *T) ([]byte, error) {
	return specOf[T]().marshal(reflect.ValueOf(p).Elem())
}

func unmarshalPayload[T any](p *T, data []byte) error {
	return specOf[T]().unmarshal(data, reflect.ValueOf(p).Elem())
}

var specs sync.Map // reflect.Type -> *payloadSpec

func specOf[T any]() *payloadSpec {
	t := reflect.TypeFor[T]()
	if s, ok := specs.Load(t); ok {
		return s.(*payloadSpec)
	}
	for _, info := range triggerInfos {
		if info.spec.typ == t {
			specs.Store(t, info.spec)
			return info.spec
		}
	}
	panic("talkdesk: no payload spec for " + t.Name())
}

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *ContactPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *ContactPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *NotePayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *NotePayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *AgentPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *AgentPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *CallArrivedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *CallArrivedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *CallStartedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *CallStartedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *InboundCallEndedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *InboundCallEndedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *OutboundCallEndedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes.
func (p *OutboundCallEndedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// UnmarshalJSON decodes an Event as json.Marshal encodes it (or as an
// EventLog stores it, with its warnings), with Payload decoded into the
// payload type of its Type. The payload of an unknown
// type is kept as a json.RawMessage.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var aux struct {
		*plain
		Payload  json.RawMessage  `json:"payload"`
		Warnings []PayloadWarning `json:"warnings"` // in EventLog lines
	}
	*e = Event{}
	aux.plain = (*plain)(e)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	e.Payload, e.Warnings = nil, aux.Warnings
	if string(e.Raw) == "null" {
		e.Raw = nil
	}
	if len(aux.Payload) == 0 || string(aux.Payload) == "null" {
		return nil
	}
	info, ok := triggerInfos[e.Type]
	if !ok {
		e.Payload = aux.Payload
		return nil
	}
	pv := reflect.New(info.spec.typ)
	if err := info.spec.unmarshal(aux.Payload, pv.Elem()); err != nil {
		return err
	}
	e.Payload = pv.Interface()
	return nil
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; <, > and & are not escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
