package talkdesktest

import (
	"net/http"
	"slices"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// BrokerURL is the presence broker SubscribePresence names. The fake runs
// no broker: the .invalid domain never resolves.
const BrokerURL = "mqtts://presence-broker.talkdesktest.invalid:8883"

// StatusAvailable is the one status besides the account's custom statuses
// that UpdateUserStatus accepts, as the connector's definition says.
const StatusAvailable = "available"

// AddCustomStatus adds a custom status to the account, one that
// ListCustomStatuses lists and UpdateUserStatus accepts by its ID; a
// status with the same ID is replaced.
func (s *Server) AddCustomStatus(cs talkdesk.CustomStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.customStatuses = slices.DeleteFunc(s.actions.customStatuses, func(c talkdesk.CustomStatus) bool { return c.ID == cs.ID })
	s.actions.customStatuses = append(s.actions.customStatuses, cs)
}

// customStatusLocked returns the custom status with this ID.
func (s *Server) customStatusLocked(id string) (talkdesk.CustomStatus, bool) {
	for _, cs := range s.actions.customStatuses {
		if cs.ID == id {
			return cs, true
		}
	}
	return talkdesk.CustomStatus{}, false
}

// writeDescribedError answers with Talkdesk's error body with a
// description, as the presence operations send it.
func writeDescribedError(w http.ResponseWriter, status int, code, message, description string) {
	writeJSON(w, status, map[string]string{"code": code, "message": message, "description": description})
}

// handleUpdateUserStatus is UpdateUserStatus: PUT /ccaas/users/{id}/status.
// It needs a presence subscription first, as the connector says.
func (s *Server) handleUpdateUserStatus(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CurrentStatus *string `json:"current_status"`
		NewStatus     string  `json:"new_status"`
	}
	if bad := decodeJSON(r, &body, false); bad != nil {
		bad.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(r.PathValue("id"))
	_, custom := s.customStatusLocked(body.NewStatus)
	switch {
	case !s.actions.subscribed:
		writeDescribedError(w, http.StatusForbidden, "forbidden", "Forbidden.", "Subscribe to presence (POST /presence) first.")
	case u == nil:
		writeDescribedError(w, http.StatusNotFound, "user_not_found", "User not found.", "No user with this id in the account.")
	case body.NewStatus != StatusAvailable && !custom:
		writeDescribedError(w, http.StatusBadRequest, "invalid_status", "Bad Request.", "new_status must be available or a custom status id.")
	case body.CurrentStatus != nil && *body.CurrentStatus != u.status:
		writeDescribedError(w, http.StatusBadRequest, "status_mismatch", "Bad Request.", "current_status does not match the user's status.")
	default:
		u.status, u.statusUpdatedAt, u.statusUpdatedBy = body.NewStatus, now(), "api"
		s.actedLocked(OpUpdateUserStatus)
		w.WriteHeader(http.StatusNoContent)
	}
}

// handleGetUserStatuses is GetUserStatus: POST /ccaas/users/status. Unknown
// IDs are left out of the answer.
func (s *Server) handleGetUserStatuses(w http.ResponseWriter, r *http.Request) {
	var body struct {
		UserIDs []string `json:"user_ids"`
	}
	if bad := decodeJSON(r, &body, false); bad != nil {
		bad.write(w)
		return
	}
	if len(body.UserIDs) == 0 {
		writeDescribedError(w, http.StatusBadRequest, "invalid_request", "Bad Request.", "user_ids must not be empty.")
		return
	}
	s.mu.Lock()
	out := []map[string]string{}
	for _, id := range body.UserIDs {
		if u := s.userLocked(id); u != nil {
			out = append(out, map[string]string{"id": u.ID, "status": u.status})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleListCustomStatuses is GetAccountStatusList: GET /account/custom-status.
func (s *Server) handleListCustomStatuses(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	list := make([]map[string]string, len(s.actions.customStatuses))
	for i, cs := range s.actions.customStatuses {
		list[i] = map[string]string{"id": cs.ID, "display_name": cs.DisplayName}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"custom_status": list})
}

// handleGetUserPresence is GetUserPresence: GET /users/{id}/presence. The
// fake's users have no devices or interactions.
func (s *Server) handleGetUserPresence(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.userLocked(r.PathValue("id"))
	if u == nil {
		writeDescribedError(w, http.StatusNotFound, "user_not_found", "User not found.", "No user with this id in the account.")
		return
	}
	p := map[string]any{
		"id":           randomHex(16),
		"account_id":   s.actions.accountID,
		"user_id":      u.ID,
		"status":       u.status,
		"occupancy":    0,
		"channels":     []any{},
		"devices":      []any{},
		"interactions": []any{},
		"updated_by":   u.statusUpdatedBy,
		"updated_at":   u.statusUpdatedAt.Format(time.RFC3339Nano),
	}
	if cs, ok := s.customStatusLocked(u.status); ok {
		p["status"], p["custom_status"], p["custom_status_id"] = "busy", cs.DisplayName, cs.ID
	}
	writeJSON(w, http.StatusOK, p)
}

// handleSubscribePresence is SubscribePresenceForAllUsers: POST /presence.
// Each call gives new broker credentials.
func (s *Server) handleSubscribePresence(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.actions.subscribed = true
	s.actedLocked(OpSubscribePresence)
	account := s.actions.accountID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"url":       BrokerURL,
		"username":  "acct-" + account,
		"password":  randomHex(16),
		"client_id": "talkdesktest-" + randomHex(4),
		"topic":     "presence/accounts/" + account + "/users/+",
	})
}
