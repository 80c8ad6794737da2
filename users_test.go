package talkdesk

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

func TestGetUserByEmail(t *testing.T) {
	rs := newReplayServer(t, "users/get_user_by_email_200.json")
	got, err := replayClient(t, rs).GetUserByEmail(context.Background(), "ana.sousa+support@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// The list holds two users; the one whose address matches (in any
	// case) is returned, with its time in UTC.
	want := &User{
		ID:                  "60c72b2f9b1e8a3d4c5f6a7b",
		Email:               "Ana.Sousa+Support@example.com",
		Name:                "Ana Sousa (support)",
		Active:              false,
		Extension:           "2102",
		ExternalPhoneNumber: "+351210000002",
		CreatedAt:           time.Date(2024, 5, 17, 7, 41, 12, 345e6, time.UTC),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetUserByEmail (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
	}
}

func TestGetUserByEmailEmptyListIsNotFound(t *testing.T) {
	rs := newReplayServer(t, "users/get_user_by_email_empty.json")
	_, err := replayClient(t, rs).GetUserByEmail(context.Background(), "ana.sousa+support@example.com")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("error = %v, want ErrNotFound", err)
	}
	if strings.Contains(err.Error(), "ana.sousa") {
		t.Errorf("error repeats the address: %v", err)
	}
}

func TestGetUserByEmailBadTime(t *testing.T) {
	rs := newReplayServer(t, "users/get_user_by_email_bad_time.json")
	_, err := replayClient(t, rs).GetUserByEmail(context.Background(), "ana.sousa+support@example.com")
	if err == nil || !strings.Contains(err.Error(), "decoding response") || !strings.Contains(err.Error(), "last tuesday") {
		t.Fatalf("error = %v, want a decoding error naming the time", err)
	}
}

func TestGetUserByEmailErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"users/get_user_by_email_400.json", APIError{StatusCode: 400, Code: "0400002", Message: "Invalid email query parameter."}, ErrInvalid},
		{"users/get_user_by_email_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized."}, ErrUnauthorized},
		{"users/get_user_by_email_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden.",
			Description: "The access token lacks the users:read scope."}, ErrForbidden},
		{"users/get_user_by_email_404.json", APIError{StatusCode: 404, Code: "0404001", Message: "Resource Not Found."}, ErrNotFound},
		{"users/get_user_by_email_406.json", APIError{StatusCode: 406, Code: "0406001", Message: "Accept format mime type not supported."}, nil},
	}, func(c *Client) error {
		_, err := c.GetUserByEmail(context.Background(), "ana.sousa+support@example.com")
		return err
	})
}

func TestGetUserByEmailValidation(t *testing.T) {
	for _, email := range []string{"", "ana", "@example.com", "ana@", "ana @example.com", "ana@example.com\r\nX-Evil: 1", strings.Repeat("a", 250) + "@b.cd"} {
		_, err := replayClient(t, newReplayServer(t)).GetUserByEmail(context.Background(), email)
		wantInvalid(t, err, "email")
	}
}

func TestCreateUser(t *testing.T) {
	tests := []struct {
		fixture string
		in      *NewUser
		want    *SCIMUser
	}{
		{
			fixture: "users/create_user_200.json",
			in: &NewUser{UserName: "rui.almeida@example.com", GivenName: "Rui", FamilyName: "Almeida", ExternalID: "crm-00042",
				Active: true, Roles: []string{"Agent", "Supervisor"}, Teams: []string{"Lisbon", "Claims"}},
			want: &SCIMUser{
				ID: "7c1d2e3f4a5b6c7d8e9f0a1b", UserName: "rui.almeida@example.com", GivenName: "Rui", FamilyName: "Almeida",
				ExternalID: "crm-00042", Active: true, Roles: []string{"Agent", "Supervisor"}, Teams: []string{"Lisbon", "Claims"},
				Schemas: []string{SCIMUserSchema, SCIMTalkdeskSchema},
				Meta: SCIMMeta{
					Created:      time.Date(2024, 6, 3, 14, 2, 11, 123e6, time.UTC),
					LastModified: time.Date(2024, 6, 3, 14, 2, 11, 123e6, time.UTC),
					Location:     "https://api.talkdeskapp.com/scim/v2/Users/7c1d2e3f4a5b6c7d8e9f0a1b",
					ResourceType: "User",
					Version:      `W/"1"`,
				},
			},
		},
		{
			// Active false is sent (it is required); no roles or teams
			// leave the extension object out; offsets become UTC.
			fixture: "users/create_user_201_minimal.json",
			in:      &NewUser{UserName: "ines.costa@example.com", GivenName: "Inês", FamilyName: "Costa"},
			want: &SCIMUser{
				ID: "8d2e3f4a5b6c7d8e9f0a1b2c", UserName: "ines.costa@example.com", GivenName: "Inês", FamilyName: "Costa",
				Schemas: []string{SCIMUserSchema, SCIMTalkdeskSchema},
				Meta: SCIMMeta{
					Created:      time.Date(2024, 6, 3, 15, 0, 0, 0, time.UTC),
					LastModified: time.Date(2024, 6, 4, 8, 30, 0, 0, time.UTC),
					Location:     "https://api.talkdeskapp.com/scim/v2/Users/8d2e3f4a5b6c7d8e9f0a1b2c",
					ResourceType: "User",
					Version:      `W/"2"`,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, tt.fixture)
			got, err := replayClient(t, rs).CreateUser(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CreateUser (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCreateUserErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"users/create_user_400.json", APIError{StatusCode: 400, Code: "invalidValue", Message: "Attribute 'name.familyName' is required."}, ErrInvalid},
		{"users/create_user_401.json", APIError{StatusCode: 401, Message: "Missing or invalid Authorization."}, ErrUnauthorized},
		{"users/create_user_403.json", APIError{StatusCode: 403, Message: "The access token lacks the scim scope."}, ErrForbidden},
		{"users/create_user_409.json", APIError{StatusCode: 409, Code: "uniqueness", Message: "User with userName 'ines.costa@example.com' already exists."}, ErrConflict},
	}, func(c *Client) error {
		_, err := c.CreateUser(context.Background(), &NewUser{UserName: "ines.costa@example.com", GivenName: "Inês", FamilyName: "Costa"})
		return err
	})
}

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(u *NewUser)
		field  string
	}{
		{"no user name", func(u *NewUser) { u.UserName = "" }, "UserName"},
		{"user name not an address", func(u *NewUser) { u.UserName = "rui" }, "UserName"},
		{"no given name", func(u *NewUser) { u.GivenName = "" }, "GivenName"},
		{"blank given name", func(u *NewUser) { u.GivenName = "  " }, "GivenName"},
		{"no family name", func(u *NewUser) { u.FamilyName = "" }, "FamilyName"},
		{"control in family name", func(u *NewUser) { u.FamilyName = "Al\nmeida" }, "FamilyName"},
		{"empty role", func(u *NewUser) { u.Roles = []string{"Agent", ""} }, "Roles[1]"},
		{"role with separator", func(u *NewUser) { u.Roles = []string{"Agent;Admin"} }, "Roles[0]"},
		{"team with separator", func(u *NewUser) { u.Teams = []string{"a", "b", "c;d"} }, "Teams[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &NewUser{UserName: "rui.almeida@example.com", GivenName: "Rui", FamilyName: "Almeida"}
			tt.mutate(u)
			_, err := replayClient(t, newReplayServer(t)).CreateUser(context.Background(), u)
			wantInvalid(t, err, tt.field)
		})
	}
	t.Run("nil", func(t *testing.T) {
		_, err := replayClient(t, newReplayServer(t)).CreateUser(context.Background(), nil)
		wantInvalid(t, err, "u")
	})
}

func TestCreateAgents(t *testing.T) {
	rs := newReplayServer(t, "users/create_agents_200_partial.json")
	got, err := replayClient(t, rs).CreateAgents(context.Background(),
		NewAgent{
			Email: "marta.silva@example.com", FullName: "Marta Silva", Role: RoleAgent,
			Active: Ptr(true), ExtensionNumber: "2203", PhoneNumber: "+351210000003", OutboundCallerID: "+351210000099",
			OutboundCallerIDSelectionEnabled: Ptr(false), AgentIVREnabled: Ptr(false), MoodEnabled: Ptr(false),
			AfterCallBehavior: AfterCallBehavior{
				AfterCallWork: Ptr(true), AfterCallWorkTimeout: 45 * time.Second,
				ShowInboundDispositionCodes: Ptr(false), ShowOutboundDispositionCodes: Ptr(true),
			},
		},
		NewAgent{Email: "joao.pereira@example.com", FullName: "João Pereira", Role: RoleSupervisor},
		NewAgent{Email: "ana.sousa@example.com", FullName: "Ana Sousa", Role: RoleAdministrator,
			AfterCallBehavior: AfterCallBehavior{AfterCallWork: Ptr(false)}},
	)
	if err != nil {
		t.Fatalf("a partial success is not an error: %v", err)
	}
	want := &CreateAgentsResult{
		Created: []CreatedAgent{{"5b6c7d8e9f0a1b2c3d4e5f60", "marta.silva@example.com"}, {"6c7d8e9f0a1b2c3d4e5f6071", "joao.pereira@example.com"}},
		Failed:  []FailedAgent{{"ana.sousa@example.com", "Email has already been taken"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateAgents (-want +got):\n%s", diff)
	}
}

func TestCreateAgentsErrors(t *testing.T) {
	testErrorFixtures(t, []errorCase{
		{"users/create_agents_400.json", APIError{StatusCode: 400, Code: "0400001", Message: "Invalid request.", Fields: []FieldError{
			{"agents[0].extension_number", `must match /\A\d+\z/`}}}, ErrInvalid},
		{"users/create_agents_401.json", APIError{StatusCode: 401, Code: "0401001", Message: "Unauthorized."}, ErrUnauthorized},
		{"users/create_agents_403.json", APIError{StatusCode: 403, Code: "0403001", Message: "Forbidden."}, ErrForbidden},
	}, func(c *Client) error {
		_, err := c.CreateAgents(context.Background(), NewAgent{Email: "marta.silva@example.com", FullName: "Marta Silva", Role: RoleAgent})
		return err
	})
}

func TestCreateAgentsValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *NewAgent)
		field  string
	}{
		{"no email", func(a *NewAgent) { a.Email = "" }, "agents[1].Email"},
		{"bad email", func(a *NewAgent) { a.Email = "marta" }, "agents[1].Email"},
		{"no full name", func(a *NewAgent) { a.FullName = "" }, "agents[1].FullName"},
		{"no role", func(a *NewAgent) { a.Role = "" }, "agents[1].Role"},
		{"unknown role", func(a *NewAgent) { a.Role = "Owner" }, "agents[1].Role"},
		{"role casing", func(a *NewAgent) { a.Role = "agent" }, "agents[1].Role"},
		{"extension with letters", func(a *NewAgent) { a.ExtensionNumber = "22a" }, "agents[1].ExtensionNumber"},
		{"extension with sign", func(a *NewAgent) { a.ExtensionNumber = "+22" }, "agents[1].ExtensionNumber"},
		{"extension unicode digits", func(a *NewAgent) { a.ExtensionNumber = "٢٢" }, "agents[1].ExtensionNumber"},
		{"short phone", func(a *NewAgent) { a.PhoneNumber = "1234" }, "agents[1].PhoneNumber"},
		{"long phone", func(a *NewAgent) { a.PhoneNumber = strings.Repeat("1", 41) }, "agents[1].PhoneNumber"},
		{"short caller id", func(a *NewAgent) { a.OutboundCallerID = "+123" }, "agents[1].OutboundCallerID"},
		{"long caller id", func(a *NewAgent) { a.OutboundCallerID = strings.Repeat("é", 41) }, "agents[1].OutboundCallerID"},
		{"fractional timeout", func(a *NewAgent) { a.AfterCallBehavior.AfterCallWorkTimeout = 1500 * time.Millisecond },
			"agents[1].AfterCallBehavior.AfterCallWorkTimeout"},
		{"negative timeout", func(a *NewAgent) { a.AfterCallBehavior.AfterCallWorkTimeout = -time.Second },
			"agents[1].AfterCallBehavior.AfterCallWorkTimeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := NewAgent{Email: "marta.silva@example.com", FullName: "Marta Silva", Role: RoleAgent}
			bad := NewAgent{Email: "joao.pereira@example.com", FullName: "João Pereira", Role: RoleSupervisor,
				PhoneNumber: "12345", OutboundCallerID: strings.Repeat("é", 40), ExtensionNumber: "0"}
			tt.mutate(&bad)
			_, err := replayClient(t, newReplayServer(t)).CreateAgents(context.Background(), ok, bad)
			wantInvalid(t, err, tt.field)
		})
	}
	t.Run("no agents", func(t *testing.T) {
		_, err := replayClient(t, newReplayServer(t)).CreateAgents(context.Background())
		wantInvalid(t, err, "agents")
	})
}

// TestGetUserByEmailFoldsASCIIOnly: an address that only Unicode case
// folding makes equal (ſ for s, the Kelvin sign for k) is another address.
func TestGetUserByEmailFoldsASCIIOnly(t *testing.T) {
	users := `{"_embedded":{"users":[` +
		`{"id":"u-long-s","email":"ſam@example.com"},{"id":"u-kelvin","email":"\u212aim@example.com"},` +
		`{"id":"u-sam","email":"Sam@Example.COM"}]}}`
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, users)
	}))
	defer api.Close()
	c, err := NewClient(WithBaseURL(api.URL), WithRateLimit(0, 0), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})))
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.GetUserByEmail(context.Background(), "sam@example.com")
	if err != nil || u.ID != "u-sam" {
		t.Errorf("GetUserByEmail(sam@example.com) = %+v, %v; want u-sam", u, err)
	}
	if u, err := c.GetUserByEmail(context.Background(), "kim@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetUserByEmail(kim@example.com) = %+v, %v; want ErrNotFound (only the Kelvin sign look-alike is listed)", u, err)
	}
}
