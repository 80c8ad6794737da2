package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"
)

// benchCallback is the request of BenchmarkCreateCallback: two numbers and
// two context fields, a typical callback from a CRM.
var benchCallback = &CallbackRequest{
	TalkdeskPhoneNumber: "+14155550100",
	ContactPhoneNumber:  "+351912345678",
	Fields: []ContextField{
		{Name: "ticket_id", DisplayName: "Ticket", DataType: FieldText, Value: "48213"},
		{Name: "ticket_url", DisplayName: "Open ticket", DataType: FieldURL, Value: "https://acme.zendesk.com/agent/tickets/48213"},
	},
}

// BenchmarkCreateCallback compares one CreateCallback through the Client
// with the same POST written by hand with net/http and encoding/json,
// against the same in-process server, which reads the body and answers as
// the create_callback_200 fixture does. impl=client has throttling off.
func BenchmarkCreateCallback(b *testing.B) {
	answer := []byte(loadFixture(b, "callbacks/create_callback_200.json").Response.Body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("Authorization") != "Bearer "+testToken || r.Method != "POST" || r.URL.Path != "/calls/callback" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	b.Cleanup(srv.Close)
	ctx := context.Background()

	b.Run("impl=client", func(b *testing.B) {
		c, err := NewClient(
			WithBaseURL(srv.URL),
			WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})),
			WithHTTPClient(&http.Client{Transport: &http.Transport{}}),
			WithRateLimit(0, 0),
		)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := c.CreateCallback(ctx, benchCallback); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=hand-written", func(b *testing.B) {
		hc := &http.Client{Transport: &http.Transport{}}
		b.ReportAllocs()
		for b.Loop() {
			if err := handWrittenCreateCallback(ctx, hc, srv.URL, testToken, benchCallback); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// handWrittenCreateCallback is POST /calls/callback as a careful programmer
// writes it without the SDK: a JSON body from tagged structs, bearer token,
// status check, body drained and closed so the connection is reused.
func handWrittenCreateCallback(ctx context.Context, hc *http.Client, base, token string, cb *CallbackRequest) error {
	type field struct {
		Name        string `json:"name,omitempty"`
		DisplayName string `json:"display_name,omitempty"`
		TooltipText string `json:"tooltip_text,omitempty"`
		DataType    string `json:"data_type,omitempty"`
		Value       string `json:"value,omitempty"`
	}
	type context struct {
		Fields []field `json:"fields"`
	}
	body := struct {
		TalkdeskPhoneNumber string   `json:"talkdesk_phone_number"`
		ContactPhoneNumber  string   `json:"contact_phone_number"`
		Context             *context `json:"context,omitempty"`
	}{TalkdeskPhoneNumber: cb.TalkdeskPhoneNumber, ContactPhoneNumber: cb.ContactPhoneNumber}
	if len(cb.Fields) > 0 {
		body.Context = &context{Fields: make([]field, len(cb.Fields))}
		for i, f := range cb.Fields {
			body.Context.Fields[i] = field{f.Name, f.DisplayName, f.TooltipText, string(f.DataType), f.Value}
		}
	}
	data, err := json.Marshal(&body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/calls/callback", bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
