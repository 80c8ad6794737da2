package talkdesk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
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

// EventReportedCall is the type of the conversation log's events made
// from the Explore API's calls report ([CallRecord.Event], [ImportCalls]):
// not one of Talkdesk's triggers (Subscribe and ParseTrigger refuse it),
// so that a BI tool tells a report's row from a webhook's event. Its
// payload is a *CallRecord.
const EventReportedCall Trigger = "reportedCall"

// EventTypes returns the types of the conversation log's events: the nine
// triggers of [Triggers], then [EventReportedCall].
func EventTypes() []Trigger { return append(Triggers(), EventReportedCall) }

// eventTypes is EventTypes, made once.
var eventTypes = EventTypes()

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
// The body must be a JSON object of at most 1,024 members (a key sent
// twice counts twice; Talkdesk sends a few dozen); anything else
// fails with [ErrInvalid], as does an unknown trigger. It is read with
// encoding/json, as into a struct: keys are matched exactly as Talkdesk
// spells them, of a key sent twice the last wins, and a null changes
// nothing. ReceivedAt is the current time. [Event.ID] is a hash of the
// object as encoding/json reads it, so a redelivery with other white
// space, key order or escaping has the same ID.
//
// Talkdesk fills every field of a trigger's payload from a template (the
// default of each field in the subscription's JSON Schema, shown in the
// field's default tag) and sends it as a JSON string. ParseEvent turns
// those strings into Go values:
//
//   - durations (total_duration, duration, waiting_time, hold_time): whole
//     or fractional seconds ("93", "93.5"; digits past the nanosecond are
//     dropped) or h:mm:ss ("00:01:33", "1:02:03.5"), up to the largest
//     time.Duration (about 292 years);
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
// leaves its field at the zero value. A value that is present but
// unreadable leaves it zero too, and is reported in [Event.Warnings], in
// the order of the payload's fields; it does not make ParseEvent fail.
//
// The JSON encoding of the payload types (their MarshalJSON) uses the same
// keys with typed values: durations as seconds, instants as RFC 3339 in
// UTC, flags as booleans, tags as arrays, empty fields left out.
func ParseEvent(t Trigger, body []byte) (*Event, error) {
	return parseEvent(t, body, time.Now())
}

func parseEvent(t Trigger, body []byte, now time.Time) (*Event, error) {
	info, ok := triggerInfos[t]
	if !ok {
		_, err := ParseTrigger(string(t))
		return nil, err
	}
	spec := info.spec
	pv := reflect.New(spec.typ)
	v := pv.Elem()
	ev := &Event{Type: t, ReceivedAt: now.UTC(), Payload: pv.Interface()}
	if !withStringMembers(body, func(m map[string]string) {
		ev.Warnings = spec.decodeStrings(v, m)
		ev.ID = stringsEventID(t, m)
	}) {
		members, err := readMembers(body, nullKeeps)
		if err != nil {
			return nil, fmt.Errorf("talkdesk: %s payload: %w: %w", t, ErrInvalid, err)
		}
		ev.Warnings = spec.decode(v, members)
		ev.ID = eventID(t, members)
	}
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

// UnmarshalJSON decodes an Event as json.Marshal encodes it (or as an
// EventLog stores it, with its warnings). Its Payload is read from Raw,
// the body Talkdesk sent, by the parser of [ParseEvent], which gives the
// warnings again too; an event without Raw (one built by hand) has its
// payload read from the JSON of its payload, by the same parser. The
// payload of an unknown type is kept as a json.RawMessage.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var aux struct {
		*plain
		Payload  rawValue         `json:"payload"`  // part of b: read at once, or copied
		Warnings []PayloadWarning `json:"warnings"` // in EventLog lines
	}
	*e = Event{}
	aux.plain = (*plain)(e)
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	e.Payload, e.Warnings = nil, aux.Warnings
	if isJSONNull(e.Raw) {
		e.Raw = nil
	}
	info, ok := triggerInfos[e.Type]
	if e.Type == EventReportedCall {
		// The payload is the call record, which Raw holds.
		src := e.Raw
		if src == nil {
			src = json.RawMessage(aux.Payload)
		}
		if isJSONNull(src) {
			return nil
		}
		rec := new(CallRecord)
		if err := json.Unmarshal(src, rec); err != nil {
			return fmt.Errorf("talkdesk: event %s: payload: %w", e.ID, err)
		}
		e.Payload = rec
		return nil
	}
	if !ok {
		if !isJSONNull(aux.Payload) {
			e.Payload = json.RawMessage(bytes.Clone(aux.Payload))
		}
		return nil
	}
	src := e.Raw
	if src == nil {
		if isJSONNull(aux.Payload) {
			return nil
		}
		src = json.RawMessage(aux.Payload)
	}
	return e.decodePayload(info, src)
}

// decodePayload sets e's typed payload from src, the body as Talkdesk sent
// it (or, for an event without Raw, the JSON of its payload), with the
// parser of ParseEvent; with Raw, the warnings are the parser's.
func (e *Event) decodePayload(info *triggerInfo, src []byte) error {
	pv := reflect.New(info.spec.typ)
	var warnings []PayloadWarning
	if !withStringMembers(src, func(m map[string]string) { warnings = info.spec.decodeStrings(pv.Elem(), m) }) {
		members, err := readMembers(src, nullKeeps)
		if err != nil {
			return fmt.Errorf("talkdesk: event %s: payload: %w", e.ID, err)
		}
		warnings = info.spec.decode(pv.Elem(), members)
	}
	if e.Raw != nil {
		e.Warnings = warnings
	}
	e.Payload = pv.Interface()
	return nil
}

// HasOwnTime reports whether the event's payload carries a time of its own
// (a timestamp or a start_time, as call endings do). Events without one
// (agent log in and out, contact and note events) take their OccurredAt
// from when they were received, so two identical ones are told apart only
// by when they came: see [WithRepeatWindow].
func (e *Event) HasOwnTime() bool {
	if rec, ok := e.Payload.(*CallRecord); ok && e.Type == EventReportedCall {
		return rec != nil && !(rec.EndAt.IsZero() && rec.StartAt.IsZero())
	}
	info, ok := triggerInfos[e.Type]
	if !ok || e.Payload == nil {
		return false
	}
	v := reflect.ValueOf(e.Payload)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Type() != info.spec.typ {
		return false
	}
	for _, i := range []int{info.spec.lifted.timestamp, info.spec.lifted.startTime} {
		if i >= 0 && !v.Elem().Field(i).Interface().(time.Time).IsZero() {
			return true
		}
	}
	return false
}

// isJSONNull reports whether raw is absent or the literal null.
func isJSONNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }
