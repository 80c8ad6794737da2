package talkdesktest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func newServer(t *testing.T) *talkdesktest.Server {
	srv := talkdesktest.NewServer()
	t.Cleanup(srv.Close)
	return srv
}

// post sends a token request with the given Basic auth and form.
func post(t *testing.T, srv *talkdesktest.Server, id, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+talkdesktest.TokenPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, data)
	}
	return resp.StatusCode, body
}

// accessToken gets a token from srv with the client-credentials grant.
func accessToken(t *testing.T, srv *talkdesktest.Server) string {
	t.Helper()
	id, secret := srv.Credentials()
	status, body := post(t, srv, id, secret, url.Values{"grant_type": {"client_credentials"}})
	token, ok := body["access_token"].(string)
	if status != 200 || !ok {
		t.Fatalf("token request: %d %v", status, body)
	}
	return token
}

func get(t *testing.T, srv *talkdesktest.Server, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(t, req)
}

func TestTokenEndpoint(t *testing.T) {
	srv := newServer(t)
	id, secret := srv.Credentials()
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"contacts:read"}}

	status, body := post(t, srv, id, secret, cc)
	if status != 200 || body["access_token"] == "" || body["token_type"] != "Bearer" || body["expires_in"] != 600.0 || body["scope"] != "contacts:read" {
		t.Errorf("good credentials: %d %v", status, body)
	}
	for name, tt := range map[string]struct {
		id, secret string
		form       url.Values
		status     int
		code       string
	}{
		"wrong secret":    {id, "nope", cc, 401, "invalid_client"},
		"wrong id":        {"nope", secret, cc, 401, "invalid_client"},
		"no basic auth":   {"", "", cc, 401, "invalid_client"},
		"no grant type":   {id, secret, url.Values{}, 400, "unsupported_grant_type"},
		"unknown grant":   {id, secret, url.Values{"grant_type": {"password"}}, 400, "unsupported_grant_type"},
		"unknown refresh": {id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-x"}}, 400, "invalid_grant"},
	} {
		status, body := post(t, srv, tt.id, tt.secret, tt.form)
		if status != tt.status || body["error"] != tt.code {
			t.Errorf("%s: %d %v, want %d %s", name, status, body, tt.status, tt.code)
		}
	}
}

func TestRefreshTokenRotates(t *testing.T) {
	srv := newServer(t)
	id, secret := srv.Credentials()
	tok := srv.UserToken()
	if status, _ := get(t, srv, "/contacts/none", tok.AccessToken); status != 404 {
		t.Errorf("user token: status %d, want 404 (accepted, no such contact)", status)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	status, body := post(t, srv, id, secret, form)
	if status != 200 || body["refresh_token"] == tok.RefreshToken || body["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v, want a new pair", status, body)
	}
	if status, _ := post(t, srv, id, secret, form); status != 400 {
		t.Errorf("reusing a refresh token: %d, want 400", status)
	}
}

func TestAPIChecksTheBearerToken(t *testing.T) {
	srv := newServer(t)
	c := srv.AddContact(talkdesk.Contact{Name: "Ada"})
	token := accessToken(t, srv)

	if status, _ := get(t, srv, "/contacts/"+c.ID, ""); status != 401 {
		t.Errorf("no token: %d, want 401", status)
	}
	if status, _ := get(t, srv, "/contacts/"+c.ID, "made-up"); status != 401 {
		t.Errorf("unknown token: %d, want 401", status)
	}
	if status, _ := get(t, srv, "/contacts/"+c.ID, token); status != 200 {
		t.Errorf("good token: %d, want 200", status)
	}
	srv.RevokeTokens()
	if status, _ := get(t, srv, "/contacts/"+c.ID, token); status != 401 {
		t.Errorf("revoked token: %d, want 401", status)
	}

	srv.SetTokenTTL(time.Millisecond)
	id, secret := srv.Credentials()
	_, body := post(t, srv, id, secret, url.Values{"grant_type": {"client_credentials"}})
	if body["expires_in"] != 1.0 {
		t.Errorf("expires_in %v for a 1ms token, want 1 (whole seconds, at least 1)", body["expires_in"])
	}
	time.Sleep(5 * time.Millisecond)
	if status, _ := get(t, srv, "/contacts/"+c.ID, body["access_token"].(string)); status != 401 {
		t.Errorf("expired token: %d, want 401", status)
	}
}

func TestContacts(t *testing.T) {
	srv := newServer(t)
	c := srv.AddContact(talkdesk.Contact{Name: "Ada", Company: "Analytical Engines", Phones: []talkdesk.Phone{{Label: "mobile", Number: "+442071234567"}}})
	if len(c.ID) != 24 {
		t.Errorf("generated ID %q, want 24 hex digits like Talkdesk's", c.ID)
	}
	client, err := talkdesk.NewClient(srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetContact(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&c, got); diff != "" {
		t.Errorf("contact (-want +got):\n%s", diff)
	}
	_, err = client.GetContact(context.Background(), "a/b")
	if !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("unknown contact: %v, want ErrNotFound", err)
	}
	if n := srv.Count("GET", "/contacts/a%2Fb"); n != 1 {
		t.Errorf("Count of the escaped path: %d, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	srv := newServer(t)
	c := srv.AddContact(talkdesk.Contact{Name: "Ada"})
	token := accessToken(t, srv)
	path := "/contacts/" + c.ID

	srv.InjectFault(talkdesktest.Fault{Method: "GET", Path: path, Status: 503, Count: 2, Header: http.Header{"Retry-After": {"1"}}})
	srv.InjectFault(talkdesktest.Fault{Path: "/elsewhere", Status: 500})
	var statuses []int
	for range 3 {
		status, _ := get(t, srv, path, token)
		statuses = append(statuses, status)
	}
	if diff := cmp.Diff([]int{503, 503, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// A fault without a path hits every API route but not the token endpoint.
	srv.InjectFault(talkdesktest.Fault{Status: 429, Body: "slow down"})
	accessToken(t, srv) // the token endpoint still answers 200
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || string(data) != "slow down" {
		t.Errorf("API under a fault with a body: %d %q", resp.StatusCode, data)
	}
	srv.ClearFaults()
	if status, _ := get(t, srv, path, token); status != 200 {
		t.Errorf("after ClearFaults: %d, want 200", status)
	}

	// Requests are recorded with what they were answered.
	reqs := srv.Requests()
	first := reqs[2]
	if first.Method != "GET" || first.Path != path || first.Status != 503 || first.Time.IsZero() {
		t.Errorf("recorded request %+v", first)
	}
	if got := srv.Count("GET", path); got != 5 {
		t.Errorf("Count = %d, want 5", got)
	}
}

func TestUnknownRoute(t *testing.T) {
	srv := newServer(t)
	status, body := get(t, srv, "/no/such/route", accessToken(t, srv))
	if status != 404 || body["code"] == nil || body["message"] == nil {
		t.Errorf("unknown route: %d %v, want a Talkdesk 404 body", status, body)
	}
}
