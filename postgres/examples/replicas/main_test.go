package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestRun(t *testing.T) {
	url := os.Getenv("TALKDESK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TALKDESK_TEST_POSTGRES_URL is not set: in CI every test must run")
		}
		t.Skip("TALKDESK_TEST_POSTGRES_URL is not set: run the tests with ../scripts/postgres go test ./...")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "example_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err == nil {
			conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(context.Background())
		}
	})
	for i, want := range []struct{ live int }{{4}, {0}} { // the second run stores nothing new
		var out bytes.Buffer
		if err := run(context.Background(), []string{"-db", url, "-schema", schema}, &out); err != nil {
			t.Fatalf("run %d: %v\n%s", i+1, err, out.String())
		}
		if n := strings.Count(out.String(), "live:"); n != want.live {
			t.Errorf("run %d: the follower printed %d events, want %d:\n%s", i+1, n, want.live, out.String())
		}
		for _, line := range []string{"2026-03-02  ag-miguel  Miguel Santos  2", "2026-03-02  ag-rita    Rita Lopes     1"} {
			if !strings.Contains(out.String(), line) {
				t.Errorf("run %d: no line %q in:\n%s", i+1, line, out.String())
			}
		}
	}
}
