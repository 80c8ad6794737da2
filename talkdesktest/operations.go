package talkdesktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// Operation names a connector operation that changes the fake's state, for
// [Server.Acted].
type Operation string

// The operations whose effects [Server.Acted] counts.
const (
	OpCreateCallback              Operation = "CreateCallback"
	OpCreateUser                  Operation = "CreateUser"
	OpCreateAgent                 Operation = "CreateAgent"
	OpUpdateUserStatus            Operation = "UpdateUserStatus"
	OpSubscribePresence           Operation = "SubscribePresenceForAllUsers"
	OpCreateWorkspaceNotification Operation = "CreateWorkspaceNotification"
)

// actionState is what the connector's actions (beyond GetContactByID) read
// and change. The Server's mu guards it.
type actionState struct {
	accountID      string
	users          []*fakeUser // in creation order
	customStatuses []talkdesk.CustomStatus
	callbacks      []talkdesk.CallbackRequest
	notifications  []Notification
	subscribed     bool // SubscribePresenceForAllUsers was called
	acted          map[Operation]int
}

// registerActions sets up the state of the connector's actions and their
// routes.
func (s *Server) registerActions(mux *http.ServeMux) {
	s.actions = actionState{accountID: randomHex(12), acted: make(map[Operation]int)}
	routes := map[string]http.HandlerFunc{
		"POST /calls/callback":           s.handleCreateCallback,
		"GET /users":                     s.handleGetUsers,
		"POST /scim/v2/Users":            s.handleCreateUser,
		"POST /agents/bulk":              s.handleCreateAgents,
		"PUT /ccaas/users/{id}/status":   s.handleUpdateUserStatus,
		"POST /ccaas/users/status":       s.handleGetUserStatuses,
		"GET /account/custom-status":     s.handleListCustomStatuses,
		"GET /users/{id}/presence":       s.handleGetUserPresence,
		"POST /presence":                 s.handleSubscribePresence,
		"POST /notifications":            s.handleCreateNotification,
		"GET /webhooks/schemas/{listID}": s.handleGetNotificationSchema,
		"GET /webhooks/schema/{listID}":  s.handleGetNotificationSchema,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, s.api(acceptJSON(h)))
	}
}

// Acted returns how many requests for op the Server carried out: changed
// its state for, as it does before answering with success. Requests it
// rejected (a bad body, an unknown ID, a conflict) or that an injected
// [Fault] answered in its place do not count; those a Fault with AfterAct
// failed after the Server acted do. So Acted tells how often a call had an
// effect, however many times the client sent it and whatever answer it
// got. A CreateAgent request counts once, whatever share of its agents
// were created.
func (s *Server) Acted(op Operation) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.actions.acted[op]
}

// actedLocked counts one success of op.
func (s *Server) actedLocked(op Operation) { s.actions.acted[op]++ }

// now is the time the fake stamps on what it creates, in UTC to the
// millisecond as Talkdesk sends it.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// acceptJSON answers 406, as Talkdesk does, when the request's Accept
// header leaves out JSON.
func acceptJSON(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if accept := r.Header.Values("Accept"); len(accept) > 0 && !acceptsJSON(accept) {
			writeError(w, http.StatusNotAcceptable, "not_acceptable", "Accept format mime type not supported.")
			return
		}
		h(w, r)
	}
}

func acceptsJSON(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "application/json", "application/scim+json", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// fieldError is one entry of the fields of Talkdesk's 400 answers.
type fieldError struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// writeFieldErrors answers 400 with the fields that were rejected.
func writeFieldErrors(w http.ResponseWriter, fields ...fieldError) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"code": "invalid_request", "message": "Invalid request.", "fields": fields})
}

// badRequest is why a request body was refused.
type badRequest struct {
	status      int // 400 or 415
	field       string
	description string
}

// write answers with Talkdesk's error body for b.
func (b *badRequest) write(w http.ResponseWriter) {
	if b.status == http.StatusUnsupportedMediaType {
		writeError(w, b.status, "unsupported_media_type", "Unsupported Media Type.")
		return
	}
	writeFieldErrors(w, fieldError{b.field, b.description})
}

// decodeJSON reads r's JSON body into v as Talkdesk does. It refuses with
// 415 a body not declared as JSON (with scim, application/scim+json is JSON
// too), and with 400, naming the field, a body that is not valid JSON, has
// a field of the wrong type or one the operation does not know.
func decodeJSON(r *http.Request, v any, scim bool) *badRequest {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && !(scim && mt == "application/scim+json") {
		return &badRequest{status: http.StatusUnsupportedMediaType}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err = dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return &badRequest{http.StatusBadRequest, typeErr.Field, "must be a JSON " + jsonKind(typeErr)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &badRequest{http.StatusBadRequest, strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a field of this operation"}
	case errors.Is(err, io.EOF):
		return &badRequest{http.StatusBadRequest, "body", "is required"}
	default:
		return &badRequest{http.StatusBadRequest, "body", "is not valid JSON"}
	}
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(e *json.UnmarshalTypeError) string {
	switch e.Type.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonKind(&json.UnmarshalTypeError{Type: e.Type.Elem()})
	}
	return "number"
}

// checkE164 describes why v is not an E.164 number, or returns "".
func checkE164(v string) string {
	if v == "" {
		return "is required"
	}
	if len(v) < 3 || len(v) > 16 || v[0] != '+' || v[1] == '0' || !allDigits(v[1:]) {
		return "must be an E.164 phone number"
	}
	return ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// index names the i-th element of a list field, as Talkdesk's errors do.
func index(list string, i int, field string) string { return fmt.Sprintf("%s[%d].%s", list, i, field) }

// jsonEncode writes v as JSON, for answers whose headers are already set.
func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }
