package talkdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"strings"
)

// Subscription is a webhook subscription to one trigger: Talkdesk POSTs
// each event of Trigger to CallbackURL until it is removed with
// [Client.Unsubscribe].
//
// CallbackURL may carry a webhook secret in its query (see
// [WebhookHandler.CallbackURL]); String and the fmt verbs show it with the
// query values redacted.
type Subscription struct {
	ID          string
	Trigger     Trigger
	CallbackURL string
}

// String describes s with the query values of CallbackURL redacted.
func (s Subscription) String() string {
	return fmt.Sprintf("talkdesk.Subscription{ID: %q, Trigger: %s, CallbackURL: %q}", s.ID, s.Trigger, redactQuery(s.CallbackURL))
}

// GoString is String, so %#v shows no secret either.
func (s Subscription) GoString() string { return s.String() }

// Format prints String for every verb.
func (s Subscription) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue logs s as its String.
func (s Subscription) LogValue() slog.Value { return slog.StringValue(s.String()) }

// redactQuery replaces every query value of rawURL with REDACTED.
func redactQuery(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.IndexAny(rawURL, "?#"); i >= 0 {
			return rawURL[:i] + "?REDACTED"
		}
		return rawURL
	}
	if u.RawQuery == "" && u.User == nil {
		return u.String()
	}
	q := u.Query()
	for k := range q {
		q[k] = []string{"REDACTED"}
	}
	u.RawQuery = q.Encode()
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	return u.String()
}

// subscribeAnswer is what Talkdesk may answer a subscription with, when
// it answers with a body.
type subscribeAnswer struct {
	ID flexString `json:"id"`
}

// Subscribe subscribes callbackURL to trigger t (the connector's trigger
// operations, such as InboundCallEnds: POST /webhooks/triggers/{trigger}).
// It sends what the connector sends: the callback URL (under the JSON name
// the connector definition gives for t: "callbackURL" for contactCreated,
// "callbackurl" for the others), the connector's default title, and as
// "message" the JSON Schema that tells Talkdesk which payload fields to
// fill and how (the fields of t's payload type).
//
// The returned Subscription carries the ID Talkdesk gave the subscription,
// from the Location header of the answer or from an "id" in its body; keep
// it for [Client.Unsubscribe]. callbackURL must be an absolute http or
// https URL and t one of [Triggers]; otherwise Subscribe fails with
// [ErrInvalid] before any request.
func (c *Client) Subscribe(ctx context.Context, t Trigger, callbackURL string) (*Subscription, error) {
	info, ok := triggerInfos[t]
	if !ok {
		_, err := ParseTrigger(string(t))
		return nil, err
	}
	if err := validateCallbackURL(callbackURL); err != nil {
		return nil, err
	}
	p, err := buildPath("/webhooks/triggers/{trigger}", string(t))
	if err != nil {
		return nil, err
	}
	in := map[string]string{
		info.callbackField: callbackURL,
		"title":            info.title,
		"message":          info.schema,
	}
	var out subscribeAnswer
	resp, err := c.do(ctx, &call{method: "POST", path: p, in: in, out: &out, mayBeEmpty: true, secrets: urlSecrets(callbackURL)})
	if err != nil {
		return nil, err
	}
	id := string(out.ID)
	if id == "" {
		id = idFromLocation(resp.Header.Get("Location"))
	}
	if id == "" {
		return nil, malformed("POST", p, fmt.Sprintf("answer %d carries no subscription id (no Location header, no id in the body)", resp.StatusCode))
	}
	return &Subscription{ID: id, Trigger: t, CallbackURL: callbackURL}, nil
}

// idFromLocation returns the last path segment of a Location header, such
// as "4f1c" of "/webhooks/triggers/inboundCallEnds/4f1c".
func idFromLocation(loc string) string {
	u, err := url.Parse(strings.TrimSpace(loc))
	if err != nil || u.Path == "" {
		return ""
	}
	id := path.Base(strings.TrimRight(u.Path, "/"))
	if id == "." || id == "/" || validatePathParam("id", id) != nil {
		return ""
	}
	return id
}

// Unsubscribe removes the subscription with the given ID from trigger t
// (connector operation UnsubscribeWebhook: DELETE
// /webhooks/triggers/{trigger_name}/{trigger_id}). It fails with
// [ErrNotFound] when Talkdesk has no such subscription, and with
// [ErrInvalid], before any request, when t is not a trigger or the ID is
// empty or cannot be an ID.
func (c *Client) Unsubscribe(ctx context.Context, t Trigger, subscriptionID string) error {
	if _, err := ParseTrigger(string(t)); err != nil {
		return err
	}
	p, err := buildPath("/webhooks/triggers/{trigger}/{subscriptionID}", string(t), subscriptionID)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &call{method: "DELETE", path: p})
	return err
}

// urlSecrets returns what a callback URL may hold that is secret, so that
// an error answer echoing the URL does not repeat it: the webhook token
// (see [WebhookHandler.CallbackURL]), the password of its user info, and
// any other query value long enough to be a credential.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var secrets []string
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw, url.QueryEscape(pw))
	}
	for name, vs := range u.Query() {
		for _, v := range vs {
			if name == WebhookTokenParam || len(v) >= 8 {
				secrets = append(secrets, v, url.QueryEscape(v))
			}
		}
	}
	return secrets
}

// TriggerSchema returns the JSON Schema that [Client.Subscribe] sends as a
// subscription's message, as the connector does: the payload's fields, in
// order, each a string with the default template Talkdesk fills
// ("{{agent.name}}"). Tools that deliver test events as Talkdesk would
// (talkdesktest.Delivery) fill it. An unknown trigger fails with
// [ErrInvalid].
func TriggerSchema(t Trigger) (json.RawMessage, error) {
	info, ok := triggerInfos[t]
	if !ok {
		_, err := ParseTrigger(string(t))
		return nil, err
	}
	return json.RawMessage(info.schema), nil
}
