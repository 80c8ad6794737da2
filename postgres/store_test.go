package tdpostgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

// The PostgreSQL store keeps every promise of an EventStore, and
// remembers which events the webhook handlers handled.
var (
	_ talkdesk.EventStore    = (*Store)(nil)
	_ talkdesk.HandledMarker = (*Store)(nil)
)

// testURL returns the database of the tests: TALKDESK_TEST_POSTGRES_URL,
// which .ci/run and scripts/postgres set. Without it the tests skip, but
// not in CI.
func testURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TALKDESK_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TALKDESK_TEST_POSTGRES_URL is not set: in CI every test must run (see .ci/run)")
		}
		t.Skip("TALKDESK_TEST_POSTGRES_URL is not set: run the tests with ../scripts/postgres go test ./...")
	}
	return url
}

// testPool returns a pool of the test database, closed at the end of t.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// freshSchema returns the name of a schema no test has used, dropped at
// the end of t.
func freshSchema(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+name+" CASCADE")
		if err != nil {
			t.Errorf("dropping schema %s: %v", name, err)
		}
	})
	return name
}

// openStore returns a migrated store on a fresh schema of its own pool,
// closed at the end of t.
func openStore(t testing.TB, opts ...Option) *Store {
	t.Helper()
	pool := testPool(t)
	schema := freshSchema(t, pool)
	return openOn(t, pool, append([]Option{WithSchema(schema)}, opts...)...)
}

// openOn opens and migrates a store on pool, closed at the end of t.
func openOn(t testing.TB, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), pool, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	eventstoretest.TestStore(t, func(t *testing.T) talkdesk.EventStore { return openStore(t) })
}

// TestEventLogHandler serves the PostgreSQL store over HTTP, through the
// SDK's handler: the same suite as the file log's.
func TestEventLogHandler(t *testing.T) {
	eventstoretest.TestEventLogHandler(t, func(t *testing.T) talkdesk.EventStore { return openStore(t) })
}
