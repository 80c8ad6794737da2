package talkdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// benchServer answers every request with the body of the GetContact fixture.
func benchServer(b *testing.B) *httptest.Server {
	body := []byte(loadFixture(b, "contacts/get_contact_200.json").Response.Body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(srv.Close)
	return srv
}

const benchContactID = "5f3e1c0a9b8d7e6f5a4b3c2d"

// BenchmarkGetContact compares one GetContact through the Client with the
// same GET written by hand with net/http and encoding/json, against the
// same in-process server. impl=client has throttling off; impl=client-throttled
// passes every call through a WindowLimiter whose limit is never reached.
func BenchmarkGetContact(b *testing.B) {
	srv := benchServer(b)
	ctx := context.Background()
	newClient := func(b *testing.B, opts ...Option) *Client {
		c, err := NewClient(append([]Option{
			WithBaseURL(srv.URL),
			WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})),
			WithHTTPClient(&http.Client{Transport: &http.Transport{}}),
		}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	run := func(b *testing.B, c *Client) {
		b.ReportAllocs()
		for b.Loop() {
			ct, err := c.GetContact(ctx, benchContactID)
			if err != nil || ct.ID != benchContactID {
				b.Fatal(ct, err)
			}
		}
	}
	b.Run("impl=client", func(b *testing.B) { run(b, newClient(b, WithRateLimit(0, 0))) })
	b.Run("impl=client-throttled", func(b *testing.B) { run(b, newClient(b, WithRateLimit(1<<30, time.Hour))) })
	b.Run("impl=hand-written", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{}}
		b.ReportAllocs()
		for b.Loop() {
			ct, err := handWrittenGetContact(ctx, hc, srv.URL, testToken, benchContactID)
			if err != nil || ct.ID != benchContactID {
				b.Fatal(ct, err)
			}
		}
	})
}

// handWrittenGetContact is GET /contacts/{id} as a careful programmer
// writes it without the SDK: escaped path, bearer token, status check,
// JSON decode, body drained and closed so the connection is reused.
func handWrittenGetContact(ctx context.Context, hc *http.Client, base, token, id string) (*Contact, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/contacts/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var out struct {
		Contact struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Company string `json:"company"`
			Phones  []struct {
				Label  string `json:"label"`
				Number string `json:"number"`
			} `json:"phones"`
		} `json:"contact"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	c := &Contact{ID: out.Contact.ID, Name: out.Contact.Name, Company: out.Contact.Company}
	for _, p := range out.Contact.Phones {
		c.Phones = append(c.Phones, Phone(p))
	}
	return c, nil
}
