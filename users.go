package talkdesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// User is a Talkdesk user (an agent, supervisor or administrator) as the
// users API describes it.
type User struct {
	ID                  string
	Email               string
	Name                string
	Active              bool
	Gender              string
	Extension           string // the user's phone extension
	ExternalPhoneNumber string
	CreatedAt           time.Time // UTC
}

// wireUser is a user as GET /users sends it.
type wireUser struct {
	ID                  string     `json:"id"`
	Email               string     `json:"email"`
	Name                string     `json:"name"`
	Active              bool       `json:"active"`
	Gender              string     `json:"gender"`
	Extension           flexString `json:"extension"`
	ExternalPhoneNumber string     `json:"external_phone_number"`
	CreatedAt           timestamp  `json:"created_at"`
}

func (w *wireUser) user() *User {
	return &User{
		ID:                  w.ID,
		Email:               w.Email,
		Name:                w.Name,
		Active:              w.Active,
		Gender:              w.Gender,
		Extension:           string(w.Extension),
		ExternalPhoneNumber: w.ExternalPhoneNumber,
		CreatedAt:           w.CreatedAt.Time(),
	}
}

// GetUserByEmail fetches the Talkdesk user whose e-mail address is email
// (connector operation GetUserByEmail, GET /users?email=). Addresses are
// compared without regard to case.
//
// When no user has the address it fails with an error matching
// [ErrNotFound]: Talkdesk's 404 [*APIError], or a plain error when Talkdesk
// answers with a list that holds no such user. An empty or malformed
// address fails with [ErrInvalid] before any request.
func (c *Client) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	if err := checkEmail("email", email); err != nil {
		return nil, err
	}
	var out struct {
		Embedded struct {
			Users []wireUser `json:"users"`
		} `json:"_embedded"`
	}
	if _, err := c.do(ctx, &call{method: "GET", path: "/users", query: url.Values{"email": {email}}, out: &out}); err != nil {
		return nil, err
	}
	for i := range out.Embedded.Users {
		if u := &out.Embedded.Users[i]; asciiEqualFold(u.Email, email) {
			if u.ID == "" {
				return nil, malformed("GET", "/users", "the user with this e-mail address has no id")
			}
			return u.user(), nil
		}
	}
	return nil, fmt.Errorf("talkdesk: GET /users: no user has this e-mail address: %w", ErrNotFound)
}

// The SCIM schemas of a Talkdesk user.
const (
	SCIMUserSchema     = "urn:ietf:params:scim:schemas:core:2.0:User"
	SCIMTalkdeskSchema = "urn:ietf:params:scim:schemas:extension:talkdesk:2.0:User"
)

// NewUser is a user to create with [Client.CreateUser], through Talkdesk's
// SCIM 2.0 API.
type NewUser struct {
	UserName   string   // the user's e-mail address; required
	GivenName  string   // required
	FamilyName string   // required
	ExternalID string   // the user's ID in your system; optional
	Active     bool     // whether the user can log in; always sent
	Roles      []string // Talkdesk role names, such as "Agent"; sent as rolesString, ";"-joined
	Teams      []string // team names; sent as teamsString, ";"-joined
}

// SCIMUser is a user as Talkdesk's SCIM API returns it.
type SCIMUser struct {
	ID         string
	UserName   string
	GivenName  string
	FamilyName string
	ExternalID string
	Active     bool
	Roles      []string // from the Talkdesk extension's rolesString
	Teams      []string // from the Talkdesk extension's teamsString
	Schemas    []string
	Meta       SCIMMeta
}

// SCIMMeta is the metadata SCIM keeps of a resource.
type SCIMMeta struct {
	Created      time.Time // UTC
	LastModified time.Time // UTC
	Location     string    // the resource's URI
	ResourceType string    // "User"
	Version      string    // the resource's version (an ETag)
}

// wireSCIMUser is the body of POST /scim/v2/Users and of its answer.
type wireSCIMUser struct {
	Schemas    []string          `json:"schemas"`
	ID         string            `json:"id,omitempty"`
	UserName   string            `json:"userName"`
	Name       wireSCIMName      `json:"name"`
	ExternalID string            `json:"externalId,omitempty"`
	Active     bool              `json:"active"`
	Talkdesk   *wireSCIMTalkdesk `json:"urn:ietf:params:scim:schemas:extension:talkdesk:2.0:User,omitempty"`
	Meta       *wireSCIMMeta     `json:"meta,omitempty"`
}

type wireSCIMName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type wireSCIMTalkdesk struct {
	RolesString string `json:"rolesString,omitempty"`
	TeamsString string `json:"teamsString,omitempty"`
}

type wireSCIMMeta struct {
	Created      timestamp `json:"created"`
	LastModified timestamp `json:"lastModified"`
	Location     string    `json:"location"`
	ResourceType string    `json:"resourceType"`
	Version      string    `json:"version"`
}

// wire validates u and returns its wire form.
func (u *NewUser) wire() (*wireSCIMUser, error) {
	if u == nil {
		return nil, invalid("u", "must not be nil")
	}
	if err := checkEmail("UserName", u.UserName); err != nil {
		return nil, err
	}
	if err := checkName("GivenName", u.GivenName); err != nil {
		return nil, err
	}
	if err := checkName("FamilyName", u.FamilyName); err != nil {
		return nil, err
	}
	roles, err := joinList("Roles", u.Roles)
	if err != nil {
		return nil, err
	}
	teams, err := joinList("Teams", u.Teams)
	if err != nil {
		return nil, err
	}
	w := &wireSCIMUser{
		Schemas:    []string{SCIMUserSchema, SCIMTalkdeskSchema},
		UserName:   u.UserName,
		Name:       wireSCIMName{GivenName: u.GivenName, FamilyName: u.FamilyName},
		ExternalID: u.ExternalID,
		Active:     u.Active,
	}
	if roles != "" || teams != "" {
		w.Talkdesk = &wireSCIMTalkdesk{RolesString: roles, TeamsString: teams}
	}
	return w, nil
}

func (w *wireSCIMUser) user() *SCIMUser {
	u := &SCIMUser{
		ID:         w.ID,
		UserName:   w.UserName,
		GivenName:  w.Name.GivenName,
		FamilyName: w.Name.FamilyName,
		ExternalID: w.ExternalID,
		Active:     w.Active,
		Schemas:    w.Schemas,
	}
	if w.Talkdesk != nil {
		u.Roles = splitList(w.Talkdesk.RolesString)
		u.Teams = splitList(w.Talkdesk.TeamsString)
	}
	if m := w.Meta; m != nil {
		u.Meta = SCIMMeta{
			Created:      m.Created.Time(),
			LastModified: m.LastModified.Time(),
			Location:     m.Location,
			ResourceType: m.ResourceType,
			Version:      m.Version,
		}
	}
	return u
}

// CreateUser creates a Talkdesk user through SCIM (connector operation
// CreateUser, POST /scim/v2/Users) and returns it as Talkdesk stored it.
// The request names the SCIM core User schema and the Talkdesk extension,
// which carries Roles and Teams.
//
// UserName (an e-mail address), GivenName and FamilyName are required, and
// Roles and Teams items must be non-empty and free of ";": otherwise
// CreateUser fails with [ErrInvalid] before any request. When a user with
// that UserName exists, Talkdesk answers 409 and the [*APIError] matches
// [ErrConflict]; its Code is the SCIM error type, such as "uniqueness".
func (c *Client) CreateUser(ctx context.Context, u *NewUser) (*SCIMUser, error) {
	body, err := u.wire()
	if err != nil {
		return nil, err
	}
	var out wireSCIMUser
	if _, err := c.do(ctx, &call{method: "POST", path: "/scim/v2/Users", in: body, out: &out}); err != nil {
		return nil, err
	}
	if out.ID == "" {
		return nil, malformed("POST", "/scim/v2/Users", "the answer holds no user id")
	}
	return out.user(), nil
}

// AgentRole is the role of an agent created with [Client.CreateAgents].
type AgentRole string

// The roles [Client.CreateAgents] can give.
const (
	RoleAdministrator AgentRole = "Administrator"
	RoleAgent         AgentRole = "Agent"
	RoleSupervisor    AgentRole = "Supervisor"
)

// NewAgent is an agent to create with [Client.CreateAgents]. Email,
// FullName and Role are required. Every other field is optional and left
// out of the request when unset, so Talkdesk applies its default (given
// with each field); the flags are pointers so that false can be asked for.
type NewAgent struct {
	Email    string
	FullName string
	Role     AgentRole

	Active                           *bool  // whether the agent is active; Talkdesk's default: false
	ExtensionNumber                  string // digits only
	PhoneNumber                      string // the agent's phone number; 5 to 40 characters
	OutboundCallerID                 string // 5 to 40 characters
	OutboundCallerIDSelectionEnabled *bool  // default false
	AgentIVREnabled                  *bool  // default false
	MoodEnabled                      *bool  // mood_settings.enabled; default false

	AfterCallBehavior AfterCallBehavior
}

// AfterCallBehavior is what Talkdesk asks of an agent when a call ends.
type AfterCallBehavior struct {
	AfterCallWork                *bool         // after-call work on or off; default false
	AfterCallWorkTimeout         time.Duration // length of after-call work, in whole seconds; 0 leaves it unset
	ShowInboundDispositionCodes  *bool         // default true
	ShowOutboundDispositionCodes *bool         // default true
}

// CreateAgentsResult reports, agent by agent, what [Client.CreateAgents]
// did.
type CreateAgentsResult struct {
	Created []CreatedAgent
	Failed  []FailedAgent
}

// CreatedAgent is an agent Talkdesk created.
type CreatedAgent struct{ ID, Email string }

// FailedAgent is an agent Talkdesk did not create, with its reason.
type FailedAgent struct{ Email, Message string }

// wireAgent is one agent in the body of POST /agents/bulk.
type wireAgent struct {
	Active                           *bool              `json:"active,omitempty"`
	AfterCallBehavior                *wireAfterCallBhvr `json:"after_call_behavior,omitempty"`
	AgentIVREnabled                  *bool              `json:"agent_ivr_enabled,omitempty"`
	Email                            string             `json:"email"`
	ExtensionNumber                  string             `json:"extension_number,omitempty"`
	FullName                         string             `json:"full_name"`
	MoodSettings                     *wireEnabled       `json:"mood_settings,omitempty"`
	OutboundCallerID                 string             `json:"outbound_caller_id,omitempty"`
	OutboundCallerIDSelectionEnabled *bool              `json:"outbound_caller_id_selection_enabled,omitempty"`
	PhoneNumber                      string             `json:"phone_number,omitempty"`
	RoleName                         string             `json:"role_name"`
}

type wireAfterCallBhvr struct {
	AfterCallWork            *wireAfterCallWork `json:"after_call_work,omitempty"`
	InboundDispositionCodes  *wireShow          `json:"inbound_disposition_codes,omitempty"`
	OutboundDispositionCodes *wireShow          `json:"outbound_disposition_codes,omitempty"`
}

type wireAfterCallWork struct {
	Active  *bool  `json:"active,omitempty"`
	Timeout string `json:"timeout,omitempty"` // seconds
}

type wireShow struct {
	Show bool `json:"show"`
}

type wireEnabled struct {
	Enabled bool `json:"enabled"`
}

// wire validates a, the agent at index i, and returns its wire form.
func (a *NewAgent) wire(i int) (wireAgent, error) {
	field := func(name string) string { return "agents[" + strconv.Itoa(i) + "]." + name }
	if err := checkEmail(field("Email"), a.Email); err != nil {
		return wireAgent{}, err
	}
	if err := checkName(field("FullName"), a.FullName); err != nil {
		return wireAgent{}, err
	}
	switch a.Role {
	case RoleAdministrator, RoleAgent, RoleSupervisor:
	default:
		return wireAgent{}, invalid(field("Role"), fmt.Sprintf("%q is not one of %q, %q, %q", string(a.Role), RoleAdministrator, RoleAgent, RoleSupervisor))
	}
	if a.ExtensionNumber != "" && !allDigits(a.ExtensionNumber) {
		return wireAgent{}, invalid(field("ExtensionNumber"), "must be digits only")
	}
	if err := checkLength(field("PhoneNumber"), a.PhoneNumber, 5, 40); err != nil {
		return wireAgent{}, err
	}
	if err := checkLength(field("OutboundCallerID"), a.OutboundCallerID, 5, 40); err != nil {
		return wireAgent{}, err
	}
	w := wireAgent{
		Active:                           a.Active,
		AgentIVREnabled:                  a.AgentIVREnabled,
		Email:                            a.Email,
		ExtensionNumber:                  a.ExtensionNumber,
		FullName:                         a.FullName,
		OutboundCallerID:                 a.OutboundCallerID,
		OutboundCallerIDSelectionEnabled: a.OutboundCallerIDSelectionEnabled,
		PhoneNumber:                      a.PhoneNumber,
		RoleName:                         string(a.Role),
	}
	if a.MoodEnabled != nil {
		w.MoodSettings = &wireEnabled{Enabled: *a.MoodEnabled}
	}
	b := &a.AfterCallBehavior
	var acb wireAfterCallBhvr
	if b.AfterCallWork != nil || b.AfterCallWorkTimeout != 0 {
		t := b.AfterCallWorkTimeout
		if t < 0 || t%time.Second != 0 {
			return wireAgent{}, invalid(field("AfterCallBehavior.AfterCallWorkTimeout"), "must be a positive whole number of seconds")
		}
		acb.AfterCallWork = &wireAfterCallWork{Active: b.AfterCallWork}
		if t > 0 {
			acb.AfterCallWork.Timeout = strconv.FormatInt(int64(t/time.Second), 10)
		}
	}
	if b.ShowInboundDispositionCodes != nil {
		acb.InboundDispositionCodes = &wireShow{Show: *b.ShowInboundDispositionCodes}
	}
	if b.ShowOutboundDispositionCodes != nil {
		acb.OutboundDispositionCodes = &wireShow{Show: *b.ShowOutboundDispositionCodes}
	}
	if acb != (wireAfterCallBhvr{}) {
		w.AfterCallBehavior = &acb
	}
	return w, nil
}

// CreateAgents creates agents in one request (connector operation
// CreateAgent, POST /agents/bulk). Talkdesk creates each agent it can and
// reports the others: the result lists both, and a partial success is not
// an error. An error means the call as a whole failed: [ErrInvalid] before
// any request when no agent is given or an agent lacks Email, FullName or a
// valid Role, has an ExtensionNumber that is not all digits, or a
// PhoneNumber or OutboundCallerID outside 5 to 40 characters; otherwise an
// [*APIError] from Talkdesk.
//
// Deprecated: Talkdesk deprecated the connector's CreateAgent action. Use
// [Client.CreateUser], which creates users through Talkdesk's SCIM API.
func (c *Client) CreateAgents(ctx context.Context, agents ...NewAgent) (*CreateAgentsResult, error) {
	if len(agents) == 0 {
		return nil, invalid("agents", "at least one agent is required")
	}
	body := struct {
		Agents []wireAgent `json:"agents"`
	}{Agents: make([]wireAgent, len(agents))}
	for i := range agents {
		w, err := agents[i].wire(i)
		if err != nil {
			return nil, err
		}
		body.Agents[i] = w
	}
	var out struct {
		Success []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"success"`
		Failure []struct {
			Email   string `json:"email"`
			Message string `json:"message"`
		} `json:"failure"`
	}
	if _, err := c.do(ctx, &call{method: "POST", path: "/agents/bulk", in: &body, out: &out}); err != nil {
		return nil, err
	}
	res := &CreateAgentsResult{}
	for _, s := range out.Success {
		res.Created = append(res.Created, CreatedAgent(s))
	}
	for _, f := range out.Failure {
		res.Failed = append(res.Failed, FailedAgent(f))
	}
	return res, nil
}

// asciiEqualFold reports whether a and b are equal when ASCII letters are
// folded to lower case, and only those: strings.EqualFold's Unicode folding
// would take a look-alike address (ſ for s, the Kelvin sign for k) for
// another.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
