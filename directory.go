package talkdesk

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strconv"
	"time"
)

// Users returns every user of the account (GET /users?page=1&per_page=N,
// scope users:read), page after page as Talkdesk serves them, following
// each page's next link. perPage sets the size of the pages asked for (50
// when 0; Talkdesk's largest is undocumented). A user's Extension is read
// whether Talkdesk sends it as a string, a number or null. Iteration stops
// at the first error.
func (c *Client) Users(ctx context.Context, perPage int) iter.Seq2[*User, error] {
	if perPage <= 0 {
		perPage = 50
	}
	q := url.Values{"page": {"1"}, "per_page": {strconv.Itoa(perPage)}}
	return listPages(ctx, c, "/users", q, "users", func(raw json.RawMessage) (*User, error) {
		var w wireUser
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, err
		}
		return w.user(), nil
	})
}

// GetUser fetches the user id (GET /users/{id}, scope users:read). An ID
// no user has fails with [ErrNotFound].
func (c *Client) GetUser(ctx context.Context, id string) (*User, error) {
	path, err := buildPath("/users/{userID}", id)
	if err != nil {
		return nil, err
	}
	var w wireUser
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &w}); err != nil {
		return nil, err
	}
	if w.ID == "" {
		return nil, malformed("GET", path, "the user has no id")
	}
	return w.user(), nil
}

// Account is the Talkdesk account of the Client's connection.
type Account struct {
	ID          string
	Name        string // the unique name of the account, its subdomain
	CompanyName string
	Timezone    string    // IANA, such as "Europe/Lisbon"
	CreatedAt   time.Time // UTC
}

// wireAccount is the account as GET /account sends it.
type wireAccount struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	CompanyName string    `json:"company_name"`
	Timezone    string    `json:"timezone"`
	CreatedAt   timestamp `json:"created_at"`
}

// GetAccount fetches the account of the Client's connection (GET
// /account, scope account:read).
func (c *Client) GetAccount(ctx context.Context) (*Account, error) {
	var w wireAccount
	if _, err := c.do(ctx, &call{method: "GET", path: "/account", out: &w}); err != nil {
		return nil, err
	}
	if w.ID == "" && w.Name == "" {
		return nil, malformed("GET", "/account", "the account has no id and no name")
	}
	return &Account{ID: w.ID, Name: w.Name, CompanyName: w.CompanyName, Timezone: w.Timezone, CreatedAt: w.CreatedAt.Time()}, nil
}

// DirectoryScopes are the OAuth scopes of Users, GetUser and GetAccount:
// users:read and account:read.
func DirectoryScopes() []string { return []string{"users:read", "account:read"} }
