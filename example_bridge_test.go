package talkdesk_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// A bridge with one action, create_case, that Talkdesk's automations run
// with the integration's username and password in the auth hash. Here
// talkdesktest.ExecuteAction plays Talkdesk.
func ExampleNewActionServer() {
	srv := talkdesk.NewActionServer(
		talkdesk.WithActionAuth(func(ctx context.Context, auth map[string]string) error {
			if !talkdesk.SecretEqual(auth["api_token"], "tok-3f9a") {
				return errors.New("bad api_token") // Talkdesk gets "authentication failed"
			}
			return nil
		}),
	)
	srv.Handle("create_case", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in struct {
			Subject string `json:"subject"`
		}
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		// ... create the case in the external service, linked to
		// req.Meta.ContactExternalID ...
		return &talkdesk.ActionResult{Message: "Case successfully created", ExternalID: "case-1"}, nil
	})
	ts := httptest.NewServer(srv) // in production: an http.Server with timeouts (see the README)
	defer ts.Close()

	ctx := context.Background()
	status, res, err := talkdesktest.ExecuteAction(ctx, ts.URL+"/create_case",
		map[string]string{"api_token": "tok-3f9a"},
		map[string]string{"subject": "Call missed in Talkdesk"},
		talkdesk.ActionMeta{ContactExternalID: "1"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, res.Message, res.ExternalID)

	status, res, err = talkdesktest.ExecuteAction(ctx, ts.URL+"/create_case",
		map[string]string{"api_token": "wrong"}, nil, talkdesk.ActionMeta{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, res.Message)
	// Output:
	// 201 Case successfully created case-1
	// 400 authentication failed
}

// An action fails with an *ActionError to tell Talkdesk why; any other
// error is logged and answered with "action failed".
func ExampleActionServer_Handle() {
	srv := talkdesk.NewActionServer(talkdesk.WithActionLogger(slog.New(slog.DiscardHandler)))
	srv.Handle("close_case", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		var in struct {
			CaseID string `json:"case_id"`
		}
		if err := req.Bind(&in); err != nil {
			return nil, err
		}
		switch in.CaseID {
		case "":
			return nil, &talkdesk.ActionError{Message: "Case closing failed: case_id is required"}
		case "case-1":
			return &talkdesk.ActionResult{Message: "Case closed", ExternalID: in.CaseID}, nil
		}
		return nil, fmt.Errorf("crm at 10.0.0.7: connection refused") // logged, never sent
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for _, data := range []map[string]string{{"case_id": "case-1"}, {}, {"case_id": "case-2"}} {
		status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/close_case", nil, data, talkdesk.ActionMeta{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(status, res.Message)
	}
	// Output:
	// 201 Case closed
	// 400 Case closing failed: case_id is required
	// 400 action failed
}

// Bind decodes the data hash into a struct. A field of the wrong type is
// an *ActionError naming the field, ready to be returned to Talkdesk.
func ExampleActionRequest_Bind() {
	req := &talkdesk.ActionRequest{Data: []byte(`{"subject": "Call missed", "priority": "high"}`)}
	var in struct {
		Subject  string `json:"subject"`
		Priority int    `json:"priority"`
	}
	err := req.Bind(&in)
	var ae *talkdesk.ActionError
	fmt.Println(errors.As(err, &ae), err)
	// Output: true data field "priority": want integer, got string
}

// SecretEqual compares a credential from the auth hash with the expected
// one without leaking, through timing, how much of it matched.
func ExampleSecretEqual() {
	expected := os.Getenv("CRM_API_TOKEN") // unset here: nothing matches
	check := func(ctx context.Context, auth map[string]string) error {
		if !talkdesk.SecretEqual(auth["api_token"], expected) {
			return &talkdesk.ActionError{Message: "invalid API token"}
		}
		return nil
	}
	fmt.Println(check(context.Background(), map[string]string{"api_token": ""}))
	// Output: invalid API token
}

// Mounted under a prefix in a larger server, next to other routes.
func ExampleWithActionPrefix() {
	srv := talkdesk.NewActionServer(talkdesk.WithActionPrefix("/talkdesk/actions"))
	srv.Handle("create_case", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return &talkdesk.ActionResult{ExternalID: "case-1"}, nil
	})
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/actions/", srv)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/talkdesk/actions/create_case", nil, nil, talkdesk.ActionMeta{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, res.ExternalID)
	// Output: 201 case-1
}
