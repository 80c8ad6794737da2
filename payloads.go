package talkdesk

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

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

// set stores the value of m into the field fv. It reports false, with a
// warning, when the value is present but cannot be read.
func (f *payloadField) set(fv reflect.Value, m *member) (PayloadWarning, bool) {
	switch {
	case m.isNull():
		return PayloadWarning{}, true
	case m.composite():
		if f.kind == kindTags && m.raw[0] == '[' {
			tags, err := parseTagArray(m.raw)
			if err == nil {
				fv.Set(reflect.ValueOf(tags))
				return PayloadWarning{}, true
			}
		}
		return f.warn(string(m.raw[:min(len(m.raw), maxWarningValue+1)]), "not a string"), false
	}
	return f.setString(fv, m.str())
}

// setString is set for a value that is a JSON string (or a number or
// boolean, as its JSON text), unquoted.
func (f *payloadField) setString(fv reflect.Value, s string) (PayloadWarning, bool) {
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

// decode fills the payload v (of s's type) from the members of a body (from
// readMembers with nullKeeps) and returns the warnings of the values it
// could not read, in the order of the payload's fields. It is the one way
// a body becomes a payload: of a webhook, of a stored event, and of the
// payload types' UnmarshalJSON.
func (s *payloadSpec) decode(v reflect.Value, members []member) []PayloadWarning {
	var warnings []PayloadWarning
	for i := range members {
		fi, ok := s.byKey[members[i].key]
		if !ok {
			continue
		}
		f := &s.fields[fi]
		if w, ok := f.set(v.Field(f.index), &members[i]); !ok {
			warnings = append(warnings, w)
		}
	}
	return s.sortWarnings(warnings)
}

// decodeStrings is decode for a body whose values are all strings, read
// into a map by readStringMembers.
func (s *payloadSpec) decodeStrings(v reflect.Value, members map[string]string) []PayloadWarning {
	var warnings []PayloadWarning
	for key, val := range members {
		fi, ok := s.byKey[key]
		if !ok {
			continue
		}
		f := &s.fields[fi]
		if w, ok := f.setString(v.Field(f.index), val); !ok {
			warnings = append(warnings, w)
		}
	}
	return s.sortWarnings(warnings)
}

// sortWarnings puts warnings in the order of the payload's fields.
func (s *payloadSpec) sortWarnings(warnings []PayloadWarning) []PayloadWarning {
	if len(warnings) > 1 {
		slices.SortFunc(warnings, func(a, b PayloadWarning) int { return s.byKey[a.Field] - s.byKey[b.Field] })
	}
	return warnings
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

func marshalPayload[T any](p *T) ([]byte, error) {
	return specOf[T]().marshal(reflect.ValueOf(p).Elem())
}

// unmarshalPayload reads data, a JSON object of Talkdesk's keys, into p
// with the parser of webhook bodies. A value it cannot read is an error.
func unmarshalPayload[T any](p *T, data []byte) error {
	spec := specOf[T]()
	members, err := readMembers(data, nullKeeps)
	if err != nil {
		return fmt.Errorf("talkdesk: %s: %w", spec.typ.Name(), err)
	}
	v := reflect.ValueOf(p).Elem()
	v.SetZero()
	if w := spec.decode(v, members); len(w) > 0 {
		return fmt.Errorf("talkdesk: %s: %s", spec.typ.Name(), w[0])
	}
	return nil
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

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *ContactPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *NotePayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *NotePayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *AgentPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *AgentPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *CallArrivedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *CallArrivedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *CallStartedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *CallStartedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *InboundCallEndedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *InboundCallEndedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

// MarshalJSON encodes p with Talkdesk's keys and typed values.
func (p *OutboundCallEndedPayload) MarshalJSON() ([]byte, error) { return marshalPayload(p) }

// UnmarshalJSON decodes what MarshalJSON encodes, or a body as Talkdesk
// sends it, with the parser of [ParseEvent].
func (p *OutboundCallEndedPayload) UnmarshalJSON(b []byte) error { return unmarshalPayload(p, b) }

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
