package talkdesktest_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// A test of a bridge calls it as Talkdesk would: here with the seed's
// sample request.
func ExampleExecuteAction() {
	srv := talkdesk.NewActionServer()
	srv.Handle("new_action", func(ctx context.Context, req *talkdesk.ActionRequest) (*talkdesk.ActionResult, error) {
		return &talkdesk.ActionResult{
			Message:           "Case successfully created",
			ContactExternalID: req.Meta.ContactExternalID,
		}, nil
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	status, res, err := talkdesktest.ExecuteAction(context.Background(), ts.URL+"/new_action",
		map[string]string{"username": "agent@example.com", "password": "605b32dd"},
		map[string]string{"subject": "Call missed in Talkdesk", "description": "A call from Jane Doe was missed."},
		talkdesk.ActionMeta{ContactExternalID: "1", AgentExternalID: "2"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status, res.Message, res.ContactExternalID)
	// Output: 201 Case successfully created 1
}
