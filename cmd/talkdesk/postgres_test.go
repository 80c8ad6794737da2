package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// testPostgres returns the URL of the tests' PostgreSQL
// (TALKDESK_TEST_POSTGRES_URL, as scripts/postgres sets it) and a fresh
// schema, dropped at the end of t. Without the URL the test skips, but
// not in CI.
func testPostgres(t *testing.T) (url, schema string) {
	t.Helper()
	url = os.Getenv("TALKDESK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TALKDESK_TEST_POSTGRES_URL is not set: in CI every test must run (see .ci/run)")
		}
		t.Skip("TALKDESK_TEST_POSTGRES_URL is not set: run the tests with ../../scripts/postgres go test ./...")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema = "cmd_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return url, schema
}

// TestServePostgres: serve keeps the log in PostgreSQL (its schema
// migrated at start, the URL from --postgres or DATABASE_URL); what it
// stores is read back through it and from the database directly, while it
// runs, and again after a restart.
func TestServePostgres(t *testing.T) {
	url, schema := testPostgres(t)
	srv := serve(t, nil, "", "--postgres", url, "--schema", schema, "--webhook-secret", "S", "--api-key", "K")
	mustRun(t, nil, "trigger", "--all", "--to", srv.url+"/webhooks", "--secret", "S")
	served := jsonLines(t, mustRun(t, nil, "tail", "--server", srv.url, "--api-key", "K", "--json", "--limit", "9").stdout)
	if got := types(served); !slices.Equal(got, allTriggers()) {
		t.Errorf("tail of serve on PostgreSQL: %v", got)
	}
	direct := jsonLines(t, mustRun(t, nil, "export", "--postgres", url, "--schema", schema).stdout)
	if !slices.Equal(ids(direct), ids(served)) {
		t.Errorf("export --postgres while serving: %v, want %v", ids(direct), ids(served))
	}
	if got := srv.metric(t, "talkdesk_events_stored_total"); got != "9" {
		t.Errorf("events stored = %q, want 9", got)
	}
	// The viewer's first screen: the newest events, and the stream starts
	// after the last committed (the store's LastID, through serve's
	// measuring wrapper).
	recent := viewerRecent(t, srv, "K")
	if len(recent.Events) != 9 || recent.After != served[8].ID {
		t.Errorf("/viewer/recent on PostgreSQL: %d events, after %q; want 9, after the last committed %s", len(recent.Events), recent.After, served[8].ID)
	}
	if code := srv.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d\n%s", code, srv.stderr())
	}

	// Again, the URL from DATABASE_URL: the log is there, and grows.
	again := serve(t, []string{"DATABASE_URL=" + url}, "", "--schema", schema, "--webhook-secret", "S", "--api-key", "K")
	mustRun(t, nil, "trigger", "noteCreated", "--to", again.url+"/webhooks", "--secret", "S")
	all := jsonLines(t, mustRun(t, []string{"DATABASE_URL=" + url}, "tail", "--schema", schema, "--json", "--limit", "10").stdout)
	if len(all) != 10 || all[9].Type != "noteCreated" || !slices.Equal(ids(all[:9]), ids(served)) {
		t.Errorf("after a restart: %v", all)
	}
	if code := again.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d\n%s", code, again.stderr())
	}
}

// recentAnswerOf is the answer of GET /viewer/recent.
type recentAnswerOf struct {
	Events []logged `json:"events"`
	After  string   `json:"after"`
}

// viewerRecent reads the viewer's first screen from s with the API key.
func viewerRecent(t *testing.T, s *server, key string) recentAnswerOf {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/viewer/recent", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans recentAnswerOf
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /viewer/recent: %s, %v", resp.Status, err)
	}
	return ans
}
