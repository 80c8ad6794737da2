package talkdesk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// The log over HTTP: mount the handler under a prefix of your choice, with
// an API key. A page, then the same events as JSON Lines.
func ExampleNewEventLogHandler() {
	l, _ := talkdesk.OpenEventLog("") // or a file, or the PostgreSQL store
	defer l.Close()
	for _, ev := range exampleEvents() {
		l.Append(context.Background(), ev)
	}
	api, err := talkdesk.NewEventLogHandler(l, talkdesk.WithAPIKeys("secret-key"))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/log/", api) // GET /log/events, GET /log/events/stream
	srv := httptest.NewServer(mux)
	defer srv.Close()

	get := func(path, accept string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret-key")
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		return resp
	}

	resp := get("/log/events?type=inboundCallEnds&limit=1", "application/json")
	var page struct {
		Events []struct {
			ID      string `json:"id"`
			AgentID string `json:"agent_id"`
		} `json:"events"`
		NextCursor string `json:"next_cursor"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	fmt.Println(resp.Status, len(page.Events), "event of", page.Events[0].AgentID, "and a next page:", page.NextCursor != "")
	fmt.Println("Link:", strings.HasSuffix(resp.Header.Get("Link"), `rel="next"`))

	resp = get("/log/events?since=2024-05-06T11:00:00Z&until=2024-05-07T00:00:00Z", "application/x-ndjson")
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev talkdesk.Event
		json.Unmarshal(sc.Bytes(), &ev)
		fmt.Println(ev.OccurredAt.Format("15:04:05"), ev.Type, ev.AgentID+ev.ContactID)
	}

	resp = get("/log/events?limit=5000", "")
	var e struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	fmt.Println(resp.Status, e.Error)
	// Output:
	// 200 OK 1 event of ag-1 and a next page: true
	// Link: true
	// 11:00:01 inboundCallEnds ag-2
	// 400 Bad Request limit: 5000 is not between 1 and 1000
}

// A server's shutdown ends the streams of the log: wire Close to it, or
// Shutdown waits for clients that never leave.
func ExampleEventLogHandler_Close() {
	l, _ := talkdesk.OpenEventLog("")
	defer l.Close()
	api, err := talkdesk.NewEventLogHandler(l, talkdesk.WithAPIKeys("secret-key"), talkdesk.WithStallTimeout(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(api)
	srv.Config.RegisterOnShutdown(func() { api.Close() })
	srv.Start()
	req, _ := http.NewRequest("GET", srv.URL+"/events/stream", nil)
	req.Header.Set("Authorization", "Bearer secret-key")
	resp, err := http.DefaultClient.Do(req) // a stream, open until the server stops
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(resp.StatusCode, srv.Config.Shutdown(ctx))
	// Output:
	// 200 <nil>
}
