package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// NotificationKind is the kind of a workspace notification: the connector's
// eventID.
type NotificationKind string

// The kinds of workspace notification.
const (
	NotificationEmail NotificationKind = "email"
	NotificationPush  NotificationKind = "push"
)

// CreateWorkspaceNotification sends a workspace notification of the given
// kind (connector operation CreateWorkspaceNotification, POST
// /notifications with the kind in the eventID header). fields are the
// notification's details, sent as the JSON object of the request body;
// [Client.GetNotificationSchema] describes the fields each kind takes.
//
// A kind other than NotificationEmail and NotificationPush, or fields that
// cannot be encoded as JSON, fail with [ErrInvalid] before any request.
//
// Deprecated: Talkdesk deprecated the connector's
// CreateWorkspaceNotification action and names no replacement in the
// connector.
func (c *Client) CreateWorkspaceNotification(ctx context.Context, kind NotificationKind, fields map[string]any) error {
	if err := kind.check(); err != nil {
		return err
	}
	for name := range fields {
		if name == "" {
			return invalid("fields", "names must not be empty")
		}
	}
	body := json.RawMessage("{}")
	if len(fields) > 0 {
		var err error
		if body, err = json.Marshal(fields); err != nil {
			return invalid("fields", "cannot be encoded as JSON: "+err.Error())
		}
	}
	// eventID is sent with the casing the connector uses: Go would
	// canonicalize it to Eventid through Header.Set.
	header := http.Header{"eventID": {string(kind)}}
	_, err := c.do(ctx, &call{method: "POST", path: "/notifications", header: header, in: body})
	return err
}

// GetNotificationSchema returns the JSON schema of the fields a workspace
// notification of the given kind takes, as Talkdesk describes it to the
// connector (operation GetItemSchema, GET /webhooks/schemas/{listID} with
// the kind as listID; the connector reads the schema from the answer's
// "items"). A kind other than NotificationEmail and NotificationPush fails
// with [ErrInvalid] before any request.
//
// Deprecated: Talkdesk deprecated the connector's schema operations along
// with [Client.CreateWorkspaceNotification], which they describe.
func (c *Client) GetNotificationSchema(ctx context.Context, kind NotificationKind) (json.RawMessage, error) {
	if err := kind.check(); err != nil {
		return nil, err
	}
	path, err := buildPath("/webhooks/schemas/{listID}", string(kind))
	if err != nil {
		return nil, err
	}
	var out struct {
		Items json.RawMessage `json:"items"`
	}
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	if len(out.Items) == 0 || bytes.Equal(out.Items, []byte("null")) {
		return nil, &malformedError{method: "GET", path: path, why: "no schema", err: errNoSchema}
	}
	return out.Items, nil
}

// GetListSchema returns the answer of the connector's GetListSchema
// operation (GET /webhooks/schema/{listID}) as Talkdesk sends it: a JSON
// object describing the item listID of one of the connector's dynamic
// lists. The connector defines it beside GetItemSchema, the operation its
// notification action takes its schema from and that
// [Client.GetNotificationSchema] calls; GetListSchema is here so that every
// operation of the connector can be called. An empty or malformed listID
// fails with [ErrInvalid] before any request.
//
// Deprecated: Talkdesk deprecated the connector's GetListSchema operation.
// For the fields of a workspace notification, use
// [Client.GetNotificationSchema].
func (c *Client) GetListSchema(ctx context.Context, listID string) (json.RawMessage, error) {
	path, err := buildPath("/webhooks/schema/{listID}", listID)
	if err != nil {
		return nil, err
	}
	var out json.RawMessage
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	if bytes.Equal(out, []byte("null")) {
		return nil, malformed("GET", path, "the answer is null")
	}
	return out, nil
}

var errNoSchema = errors.New(`the answer has no "items" schema`)
