package talkdesktest

import (
	"net/http"
	"slices"

	"github.com/talkdeskgo/talkdesk"
)

// Notification is a workspace notification the Server accepted.
type Notification struct {
	Kind   talkdesk.NotificationKind
	Fields map[string]any // the request body, decoded
}

// Notifications returns the workspace notifications the Server accepted,
// in the order they arrived.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.actions.notifications)
}

// notificationSchemas are the fake's own schemas of notification fields,
// served by GetNotificationSchema and enforced by CreateWorkspaceNotification.
// Real Talkdesk defines its own; fetch them with GetNotificationSchema.
var notificationSchemas = map[talkdesk.NotificationKind]map[string]any{
	talkdesk.NotificationEmail: {
		"type":     "object",
		"required": []string{"to", "subject"},
		"properties": map[string]any{
			"to":      map[string]string{"type": "string", "title": "To"},
			"subject": map[string]string{"type": "string", "title": "Subject"},
			"body":    map[string]string{"type": "string", "title": "Body"},
		},
	},
	talkdesk.NotificationPush: {
		"type":     "object",
		"required": []string{"user_id", "message"},
		"properties": map[string]any{
			"user_id": map[string]string{"type": "string", "title": "User id"},
			"title":   map[string]string{"type": "string", "title": "Title"},
			"message": map[string]string{"type": "string", "title": "Message"},
		},
	},
}

// handleCreateNotification is CreateWorkspaceNotification: POST
// /notifications with the kind in the eventID header. The body must hold
// the required fields of the kind's schema, as strings.
func (s *Server) handleCreateNotification(w http.ResponseWriter, r *http.Request) {
	kind := talkdesk.NotificationKind(r.Header.Get("eventID"))
	schema, ok := notificationSchemas[kind]
	if !ok {
		writeFieldErrors(w, fieldError{"eventID", "must be email or push"})
		return
	}
	var fields map[string]any
	if bad := decodeJSON(r, &fields, false); bad != nil {
		bad.write(w)
		return
	}
	var bad []fieldError
	for _, name := range schema["required"].([]string) {
		if v, ok := fields[name].(string); !ok || v == "" {
			bad = append(bad, fieldError{name, "is required and must be a string"})
		}
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad...)
		return
	}
	s.mu.Lock()
	s.actions.notifications = append(s.actions.notifications, Notification{Kind: kind, Fields: fields})
	s.actedLocked(OpCreateWorkspaceNotification)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": map[string]string{"id": randomHex(8), "status": "queued"}})
}

// handleGetNotificationSchema is GetItemSchema (GET
// /webhooks/schemas/{listID}) and GetListSchema (GET
// /webhooks/schema/{listID}), which the fake answers alike.
func (s *Server) handleGetNotificationSchema(w http.ResponseWriter, r *http.Request) {
	schema, ok := notificationSchemas[talkdesk.NotificationKind(r.PathValue("listID"))]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "No schema for this list.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": schema})
}
