package talkdesktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// fakeUser is a user of the fake account, however it was created.
type fakeUser struct {
	talkdesk.User
	givenName, familyName string
	externalID            string
	roles, teams          []string
	lastModified          time.Time
	status                string // "offline" until UpdateUserStatus changes it
	statusUpdatedAt       time.Time
	statusUpdatedBy       string
}

// AddUser stores a user that GetUserByEmail then finds, giving it an ID and
// a creation time when it has none, and returns it. Its status starts as
// "offline".
func (s *Server) AddUser(u talkdesk.User) talkdesk.User {
	if u.ID == "" {
		u.ID = randomHex(12)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = u.CreatedAt.UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.users = slices.DeleteFunc(s.actions.users, func(f *fakeUser) bool { return f.ID == u.ID })
	s.addUserLocked(&fakeUser{User: u})
	return u
}

// Users returns every user of the fake account, seeded or created through
// CreateUser or CreateAgents, in the order they were added.
func (s *Server) Users() []talkdesk.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]talkdesk.User, len(s.actions.users))
	for i, u := range s.actions.users {
		out[i] = u.User
	}
	return out
}

func (s *Server) addUserLocked(u *fakeUser) {
	if u.lastModified.IsZero() {
		u.lastModified = u.CreatedAt
	}
	u.status, u.statusUpdatedAt, u.statusUpdatedBy = "offline", u.CreatedAt, "system"
	s.actions.users = append(s.actions.users, u)
}

// userLocked returns the user with this ID, or nil.
func (s *Server) userLocked(id string) *fakeUser {
	for _, u := range s.actions.users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// emailTakenLocked reports whether a user has this address, in any case.
func (s *Server) emailTakenLocked(email string) bool {
	for _, u := range s.actions.users {
		if strings.EqualFold(u.Email, email) {
			return true
		}
	}
	return false
}

// handleGetUsers is GetUserByEmail: GET /users?email=.
func (s *Server) handleGetUsers(w http.ResponseWriter, r *http.Request) {
	email := r.URL.Query().Get("email")
	if q := r.URL.Query(); !q.Has("email") && (q.Has("page") || q.Has("per_page")) {
		s.handleListUsers(w, r)
		return
	}
	if email == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "The email query parameter is required.")
		return
	}
	s.mu.Lock()
	users := []map[string]any{}
	for _, u := range s.actions.users {
		if strings.EqualFold(u.Email, email) {
			users = append(users, map[string]any{
				"id":                    u.ID,
				"email":                 u.Email,
				"name":                  u.Name,
				"active":                u.Active,
				"gender":                u.Gender,
				"extension":             u.Extension,
				"external_phone_number": u.ExternalPhoneNumber,
				"created_at":            u.CreatedAt.Format(time.RFC3339Nano),
				"_links":                map[string]any{"self": map[string]string{"href": s.URL + "/users/" + u.ID}},
			})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"total":     len(users),
		"count":     len(users),
		"page":      1,
		"per_page":  50,
		"_embedded": map[string]any{"users": users},
		"_links":    map[string]any{"self": map[string]string{"href": s.URL + r.URL.RequestURI()}},
	})
}

// scimUser is the body of POST /scim/v2/Users; pointers tell missing
// required attributes from empty ones.
type scimUser struct {
	Schemas  []string `json:"schemas"`
	UserName *string  `json:"userName"`
	Name     *struct {
		GivenName  *string `json:"givenName"`
		FamilyName *string `json:"familyName"`
	} `json:"name"`
	ExternalID string `json:"externalId"`
	Active     *bool  `json:"active"`
	Talkdesk   *struct {
		RolesString string `json:"rolesString"`
		TeamsString string `json:"teamsString"`
	} `json:"urn:ietf:params:scim:schemas:extension:talkdesk:2.0:User"`
}

// check describes the first required attribute body lacks, or returns "".
func (b *scimUser) check() string {
	switch {
	case !slices.Contains(b.Schemas, talkdesk.SCIMUserSchema):
		return "Attribute 'schemas' must contain " + talkdesk.SCIMUserSchema + "."
	case b.UserName == nil || strings.TrimSpace(*b.UserName) == "":
		return "Attribute 'userName' is required."
	case b.Name == nil || b.Name.GivenName == nil || strings.TrimSpace(*b.Name.GivenName) == "":
		return "Attribute 'name.givenName' is required."
	case b.Name.FamilyName == nil || strings.TrimSpace(*b.Name.FamilyName) == "":
		return "Attribute 'name.familyName' is required."
	case b.Active == nil:
		return "Attribute 'active' is required."
	}
	for _, schema := range b.Schemas {
		if schema != talkdesk.SCIMUserSchema && schema != talkdesk.SCIMTalkdeskSchema {
			return "Unknown schema " + strconv.Quote(schema) + "."
		}
	}
	return ""
}

// handleCreateUser is CreateUser: POST /scim/v2/Users. It answers in SCIM's
// format, errors included.
func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var body scimUser
	if bad := decodeJSON(r, &body, true); bad != nil {
		if bad.status == http.StatusUnsupportedMediaType {
			bad.write(w)
		} else {
			writeSCIMError(w, http.StatusBadRequest, "invalidSyntax", "Attribute '"+bad.field+"' "+bad.description+".")
		}
		return
	}
	if msg := body.check(); msg != "" {
		writeSCIMError(w, http.StatusBadRequest, "invalidValue", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.emailTakenLocked(*body.UserName) {
		writeSCIMError(w, http.StatusConflict, "uniqueness", "User with userName '"+*body.UserName+"' already exists.")
		return
	}
	u := &fakeUser{
		User: talkdesk.User{
			ID:        randomHex(12),
			Email:     *body.UserName,
			Name:      *body.Name.GivenName + " " + *body.Name.FamilyName,
			Active:    *body.Active,
			CreatedAt: now(),
		},
		givenName:  *body.Name.GivenName,
		familyName: *body.Name.FamilyName,
		externalID: body.ExternalID,
	}
	if body.Talkdesk != nil {
		u.roles = splitList(body.Talkdesk.RolesString)
		u.teams = splitList(body.Talkdesk.TeamsString)
	}
	s.addUserLocked(u)
	s.actedLocked(OpCreateUser)
	resp := map[string]any{
		"schemas":  []string{talkdesk.SCIMUserSchema, talkdesk.SCIMTalkdeskSchema},
		"id":       u.ID,
		"userName": u.Email,
		"name":     map[string]string{"givenName": u.givenName, "familyName": u.familyName, "formatted": u.Name},
		"active":   u.Active,
		"emails":   []map[string]any{{"value": u.Email, "primary": true}},
		talkdesk.SCIMTalkdeskSchema: map[string]string{
			"rolesString": strings.Join(u.roles, ";"),
			"teamsString": strings.Join(u.teams, ";"),
		},
		"meta": map[string]string{
			"resourceType": "User",
			"created":      u.CreatedAt.Format(time.RFC3339Nano),
			"lastModified": u.lastModified.Format(time.RFC3339Nano),
			"location":     s.URL + "/scim/v2/Users/" + u.ID,
			"version":      `W/"1"`,
		},
	}
	if u.externalID != "" {
		resp["externalId"] = u.externalID
	}
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(http.StatusOK)
	_ = jsonEncode(w, resp)
}

// writeSCIMError answers with SCIM's error body.
func writeSCIMError(w http.ResponseWriter, status int, scimType, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
		"detail":  detail,
		"status":  strconv.Itoa(status),
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	_ = jsonEncode(w, body)
}

// splitList splits a ";"-separated list, dropping blank items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// wireAgent is one agent of POST /agents/bulk, as the connector defines it.
type wireAgent struct {
	Active            *bool `json:"active"`
	AfterCallBehavior *struct {
		AfterCallWork *struct {
			Active  *bool  `json:"active"`
			Timeout string `json:"timeout"`
		} `json:"after_call_work"`
		InboundDispositionCodes *struct {
			Show *bool `json:"show"`
		} `json:"inbound_disposition_codes"`
		OutboundDispositionCodes *struct {
			Show *bool `json:"show"`
		} `json:"outbound_disposition_codes"`
	} `json:"after_call_behavior"`
	AgentIVREnabled *bool  `json:"agent_ivr_enabled"`
	Email           string `json:"email"`
	ExtensionNumber string `json:"extension_number"`
	FullName        string `json:"full_name"`
	MoodSettings    *struct {
		Enabled *bool `json:"enabled"`
	} `json:"mood_settings"`
	OutboundCallerID                 string `json:"outbound_caller_id"`
	OutboundCallerIDSelectionEnabled *bool  `json:"outbound_caller_id_selection_enabled"`
	PhoneNumber                      string `json:"phone_number"`
	RoleName                         string `json:"role_name"`
}

// check returns the fields of agent i that the connector's definition
// rejects.
func (a *wireAgent) check(i int) []fieldError {
	var bad []fieldError
	add := func(field, why string) { bad = append(bad, fieldError{index("agents", i, field), why}) }
	if a.Email == "" || !strings.Contains(a.Email, "@") {
		add("email", "must be an e-mail address")
	}
	if strings.TrimSpace(a.FullName) == "" {
		add("full_name", "is required")
	}
	switch talkdesk.AgentRole(a.RoleName) {
	case talkdesk.RoleAdministrator, talkdesk.RoleAgent, talkdesk.RoleSupervisor:
	default:
		add("role_name", "must be one of Administrator, Agent, Supervisor")
	}
	if a.ExtensionNumber != "" && !allDigits(a.ExtensionNumber) {
		add("extension_number", `must match /\A\d+\z/`)
	}
	if n := len([]rune(a.PhoneNumber)); a.PhoneNumber != "" && (n < 5 || n > 40) {
		add("phone_number", "must have 5 to 40 characters")
	}
	if n := len([]rune(a.OutboundCallerID)); a.OutboundCallerID != "" && (n < 5 || n > 40) {
		add("outbound_caller_id", "must have 5 to 40 characters")
	}
	if acb := a.AfterCallBehavior; acb != nil && acb.AfterCallWork != nil && acb.AfterCallWork.Timeout != "" {
		if n, err := strconv.Atoi(acb.AfterCallWork.Timeout); err != nil || n <= 0 {
			add("after_call_behavior.after_call_work.timeout", "must be a number of seconds")
		}
	}
	return bad
}

// handleCreateAgents is CreateAgent: POST /agents/bulk. A body the
// definition rejects gets 400 and creates nothing; otherwise each agent
// whose e-mail is free is created and the others are reported as failed.
func (s *Server) handleCreateAgents(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Agents []wireAgent `json:"agents"`
	}
	if bad := decodeJSON(r, &body, false); bad != nil {
		bad.write(w)
		return
	}
	if len(body.Agents) == 0 {
		writeFieldErrors(w, fieldError{"agents", "must list at least one agent"})
		return
	}
	var bad []fieldError
	for i := range body.Agents {
		bad = append(bad, body.Agents[i].check(i)...)
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad...)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	success, failure := []map[string]string{}, []map[string]string{}
	for _, a := range body.Agents {
		if s.emailTakenLocked(a.Email) {
			failure = append(failure, map[string]string{"email": a.Email, "message": "Email has already been taken"})
			continue
		}
		u := &fakeUser{User: talkdesk.User{
			ID:                  randomHex(12),
			Email:               a.Email,
			Name:                a.FullName,
			Active:              a.Active != nil && *a.Active,
			Extension:           a.ExtensionNumber,
			ExternalPhoneNumber: a.PhoneNumber,
			CreatedAt:           now(),
		}, roles: []string{a.RoleName}}
		s.addUserLocked(u)
		success = append(success, map[string]string{"id": u.ID, "email": u.Email})
	}
	s.actedLocked(OpCreateAgent)
	writeJSON(w, http.StatusOK, map[string]any{"success": success, "failure": failure})
}
