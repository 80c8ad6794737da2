package talkdesktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/talkdeskgo/talkdesk"
)

// OpSubscribe is a webhook subscription (Subscribe, POST
// /webhooks/triggers/{trigger}), for [Server.Acted].
const OpSubscribe Operation = "Subscribe"

// triggerState is the fake's webhook subscriptions.
type triggerState struct {
	subs   []*subscription // in the order they were made
	client *http.Client    // delivers events
}

type subscription struct {
	id          string
	trigger     talkdesk.Trigger
	callbackURL string
	title       string
	fields      []schemaField // the properties of the message schema, in order
}

// schemaField is one property of a subscription's JSON Schema.
type schemaField struct {
	key, template string
	parts         []templatePart // template split once, at subscription
}

// templatePart is a literal run of a default template, or one of its
// {{variable}}s: match is the text as written, name the variable.
type templatePart struct {
	literal     string
	match, name string
}

// splitTemplate splits a default template into its literal runs and
// variables.
func splitTemplate(t string) []templatePart {
	var parts []templatePart
	last := 0
	for _, m := range template.FindAllStringSubmatchIndex(t, -1) {
		if m[0] > last {
			parts = append(parts, templatePart{literal: t[last:m[0]]})
		}
		parts = append(parts, templatePart{match: t[m[0]:m[1]], name: t[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(t) {
		parts = append(parts, templatePart{literal: t[last:]})
	}
	return parts
}

// registerTriggers adds the webhook subscription routes.
func (s *Server) registerTriggers(mux *http.ServeMux) {
	s.triggers.client = &http.Client{Timeout: 30 * time.Second}
	mux.Handle("POST /webhooks/triggers/{trigger}", s.api(s.handleSubscribe))
	mux.Handle("DELETE /webhooks/triggers/{trigger}/{id}", s.api(s.handleUnsubscribe))
}

// handleSubscribe stores a subscription as Talkdesk does: the callback URL
// under the field name the connector uses for the trigger, a title, and a
// message holding a JSON Schema whose properties each have a default
// template. It answers 201 with the subscription's URL in Location and its
// id in the body.
func (s *Server) handleSubscribe(w http.ResponseWriter, r *http.Request) {
	t, err := talkdesk.ParseTrigger(r.PathValue("trigger"))
	if err != nil {
		writeError(w, http.StatusNotFound, "trigger_not_found", "Unknown trigger")
		return
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "Body is not a JSON object")
		return
	}
	callbackField := "callbackurl"
	if t == talkdesk.TriggerContactCreated {
		callbackField = "callbackURL"
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	cb, title, message := str(callbackField), str("title"), str("message")
	u, err := url.Parse(cb)
	switch {
	case cb == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		writeError(w, http.StatusBadRequest, "invalid_callback", "Missing or invalid "+callbackField)
		return
	case title == "":
		writeError(w, http.StatusBadRequest, "invalid_title", "Missing title")
		return
	}
	fields, err := parseMessageSchema(message)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_message", "message: "+err.Error())
		return
	}
	sub := &subscription{id: randomHex(12), trigger: t, callbackURL: cb, title: title, fields: fields}
	s.mu.Lock()
	s.triggers.subs = append(s.triggers.subs, sub)
	s.actedLocked(OpSubscribe)
	s.mu.Unlock()
	w.Header().Set("Location", "/webhooks/triggers/"+string(t)+"/"+sub.id)
	writeJSON(w, http.StatusCreated, map[string]string{"id": sub.id})
}

// parseMessageSchema reads the JSON Schema of a subscription: an object
// schema whose properties are strings with a default template, and whose
// required names are properties.
func parseMessageSchema(message string) ([]schemaField, error) {
	if message == "" {
		return nil, errors.New("missing")
	}
	var schema struct {
		Type                 string          `json:"type"`
		Required             []string        `json:"required"`
		Properties           json.RawMessage `json:"properties"`
		AdditionalProperties *bool           `json:"additionalProperties"`
	}
	if err := json.Unmarshal([]byte(message), &schema); err != nil {
		return nil, errors.New("not a JSON Schema document")
	}
	if schema.Type != "object" || len(schema.Properties) == 0 {
		return nil, errors.New("not an object schema with properties")
	}
	// The properties in document order, which is the order of the payload.
	dec := json.NewDecoder(bytes.NewReader(schema.Properties))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("properties is not an object")
	}
	var fields []schemaField
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("properties is not an object")
		}
		var prop struct {
			Type    string `json:"type"`
			Default string `json:"default"`
		}
		if err := dec.Decode(&prop); err != nil || prop.Type != "string" || prop.Default == "" {
			return nil, fmt.Errorf("property %q needs type string and a default template", tok)
		}
		fields = append(fields, schemaField{key: tok.(string), template: prop.Default, parts: splitTemplate(prop.Default)})
	}
	for _, req := range schema.Required {
		if !slices.ContainsFunc(fields, func(f schemaField) bool { return f.key == req }) {
			return nil, fmt.Errorf("required %q is not a property", req)
		}
	}
	return fields, nil
}

func (s *Server) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	t, id := talkdesk.Trigger(r.PathValue("trigger")), r.PathValue("id")
	s.mu.Lock()
	i := slices.IndexFunc(s.triggers.subs, func(sub *subscription) bool { return sub.id == id && sub.trigger == t })
	if i >= 0 {
		s.triggers.subs = slices.Delete(s.triggers.subs, i, i+1)
	}
	s.mu.Unlock()
	if i < 0 {
		writeError(w, http.StatusNotFound, "webhook_not_found", "Webhook not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Webhook unsubscribed"})
}

// Subscriptions returns the current webhook subscriptions, oldest first.
// Their CallbackURL includes any webhook token, as Talkdesk stores it.
func (s *Server) Subscriptions() []talkdesk.Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]talkdesk.Subscription, len(s.triggers.subs))
	for i, sub := range s.triggers.subs {
		out[i] = talkdesk.Subscription{ID: sub.id, Trigger: sub.trigger, CallbackURL: sub.callbackURL}
	}
	return out
}

// template matches one {{variable}} of a default template.
var template = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// Emit delivers an event of trigger t to every subscriber of t, as
// Talkdesk does: for each property of the subscription's schema it fills
// the default template with fields, and POSTs the resulting JSON object
// (every value a string, in the schema's order) to the callback URL.
//
// fields are keyed by template variable ("contact.first_name",
// "agent.tags_list") or, where no variable of that name is given, by the
// payload key ("contact_first_name"). A template whose variable is not in
// fields is sent unfilled, as "{{contact.first_name}}".
//
// Emit returns the delivery errors (a failed request, a non-2xx answer),
// joined, naming the subscription but not its callback URL, which may hold
// a secret; it fails when nobody is subscribed to t.
func (s *Server) Emit(ctx context.Context, t talkdesk.Trigger, fields map[string]string) error {
	s.mu.Lock()
	var subs []*subscription
	for _, sub := range s.triggers.subs {
		if sub.trigger == t {
			subs = append(subs, sub)
		}
	}
	client := s.triggers.client
	s.mu.Unlock()
	if len(subs) == 0 {
		return fmt.Errorf("talkdesktest: Emit %s: no subscription to this trigger", t)
	}
	var errs []error
	for _, sub := range subs {
		if err := deliver(ctx, client, sub, fields); err != nil {
			errs = append(errs, fmt.Errorf("talkdesktest: Emit %s to subscription %s: %w", t, sub.id, err))
		}
	}
	return errors.Join(errs...)
}

// Delivery returns the body Talkdesk would deliver for trigger t, as Emit
// sends it to a subscriber: the trigger's schema (talkdesk.TriggerSchema)
// with its default templates filled with fields, every value a string, in
// the schema's order. It is how a tool sends test deliveries to a
// receiver (talkdesk trigger does).
func Delivery(t talkdesk.Trigger, fields map[string]string) ([]byte, error) {
	if sub, ok := deliverySchemas.Load(t); ok {
		return fill(sub.(*subscription), fields), nil
	}
	schema, err := talkdesk.TriggerSchema(t)
	if err != nil {
		return nil, err
	}
	fs, err := parseMessageSchema(string(schema))
	if err != nil {
		return nil, fmt.Errorf("talkdesktest: the schema of %s: %w", t, err)
	}
	sub, _ := deliverySchemas.LoadOrStore(t, &subscription{trigger: t, fields: fs})
	return fill(sub.(*subscription), fields), nil
}

// deliverySchemas holds the parsed schema of each trigger Delivery was
// asked for: a load test asks for the same few a hundred thousand times.
var deliverySchemas sync.Map // talkdesk.Trigger → *subscription

// fill builds the payload of sub from fields.
func fill(sub *subscription, fields map[string]string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range sub.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		var value strings.Builder
		for _, p := range f.parts {
			switch v, ok := fields[p.name]; {
			case p.match == "":
				value.WriteString(p.literal)
			case ok:
				value.WriteString(v)
			default:
				if v, ok := fields[f.key]; ok {
					value.WriteString(v)
				} else {
					value.WriteString(p.match)
				}
			}
		}
		writeJSONString(&b, f.key)
		b.WriteByte(':')
		writeJSONString(&b, value.String())
	}
	b.WriteByte('}')
	return b.Bytes()
}

// writeJSONString writes s to b as json.Marshal encodes it: as it is
// when nothing in it needs escaping, as most values are.
func writeJSONString(b *bytes.Buffer, s string) {
	plain := utf8.ValidString(s) && !strings.ContainsAny(s, "\"\\<>&\u2028\u2029")
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= 0x20 && s[i] != 0x7f
	}
	if !plain {
		q, _ := json.Marshal(s)
		b.Write(q)
		return
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

func deliver(ctx context.Context, client *http.Client, sub *subscription, fields map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.callbackURL, bytes.NewReader(fill(sub, fields)))
	if err != nil {
		return errors.New("bad callback URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "talkdesktest-webhooks")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL and its token
		}
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}
