package tdpostgres

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

func callEvent(t *testing.T, n int) *talkdesk.Event {
	t.Helper()
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, body(n))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func mustAppend(t *testing.T, s *Store, evs ...*talkdesk.Event) {
	t.Helper()
	for _, ev := range evs {
		if _, err := s.Append(context.Background(), ev); err != nil {
			t.Fatalf("Append %s: %v", ev.ID, err)
		}
	}
}

// TestFollowNeverSkips holds one transaction open, with its row inserted,
// while later appends wait: the held row has the smaller sequence number,
// so a follower reading "after the last sequence number seen" would pass
// it by. Follow waits for it and delivers every event once, in commit
// order.
func TestFollowNeverSkips(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	first := callEvent(t, 0)
	mustAppend(t, s, first)

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	held := callEvent(t, 1)
	r, err := newRow(held)
	if err != nil {
		t.Fatal(err)
	}
	var cols columns
	cols.add(r)
	if _, err := tx.Exec(ctx, s.insertSQL, cols.args(s.channel)...); err != nil {
		t.Fatal(err)
	}

	got := make(chan string, 100)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		for ev, err := range s.Follow(fctx, talkdesk.EventQuery{}, first.ID) {
			if err != nil {
				ended <- err
				return
			}
			got <- ev.ID
		}
	}()
	var later []*talkdesk.Event
	for n := 2; n < 7; n++ {
		later = append(later, callEvent(t, n))
	}
	// Appended while the held transaction is open: they take their
	// places in the log after the held one, once it commits.
	appended := make(chan struct{})
	go func() {
		defer close(appended)
		mustAppend(t, s, later...)
	}()
	// The follower must not pass the held event: it waits.
	time.Sleep(300 * time.Millisecond)
	select {
	case id := <-got:
		t.Fatalf("Follow delivered %s while an older transaction was open", id)
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-appended
	var heldSeq, minLater int64
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT seq FROM {{s}}.events WHERE id = $1`), held.ID).Scan(&heldSeq); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT min(seq) FROM {{s}}.events WHERE id <> $1 AND id <> $2`), first.ID, held.ID).Scan(&minLater); err != nil {
		t.Fatal(err)
	}
	if heldSeq >= minLater {
		t.Fatalf("the held row has sequence number %d, the later ones from %d: the test does not hold what it means to", heldSeq, minLater)
	}
	want := append([]string{held.ID}, idsOf(later)...)
	var order []string
	for range want {
		select {
		case id := <-got:
			order = append(order, id)
		case err := <-ended:
			t.Fatal(err)
		case <-time.After(30 * time.Second):
			t.Fatalf("followed %v, then nothing", order)
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("followed %v, want %v", order, want)
	}
}

// TestFollowAfterAnIDOfAppend: two replicas, each on its own pool. A
// transaction of the second begins first and commits last; the first
// replica's Append returns in between, and a follower resumes after the
// ID it returned (a webhook handler's "last handled"): the late commit
// is delivered, not skipped.
func TestFollowAfterAnIDOfAppend(t *testing.T) {
	ctx := context.Background()
	a := openStore(t)
	b := openOn(t, testPool(t), WithSchema(a.schema))
	mustAppend(t, a, callEvent(t, 0))

	tx, err := b.pool.Begin(ctx) // replica b's transaction: it begins first
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var xid string
	if err := tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid); err != nil {
		t.Fatal(err)
	}
	afterID := callEvent(t, 1)
	mustAppend(t, a, afterID) // commits while b's transaction is open

	late := callEvent(t, 2)
	r, err := newRow(late)
	if err != nil {
		t.Fatal(err)
	}
	var cols columns
	cols.add(r)
	if _, err := tx.Exec(ctx, b.insertSQL, cols.args(b.channel)...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil { // commits after afterID's
		t.Fatal(err)
	}
	var lateTx, afterTx string
	a.pool.QueryRow(ctx, a.sql(`SELECT tx::text FROM {{s}}.events WHERE id = $1`), late.ID).Scan(&lateTx)
	a.pool.QueryRow(ctx, a.sql(`SELECT tx::text FROM {{s}}.events WHERE id = $1`), afterID.ID).Scan(&afterTx)
	if lateTx != xid || !(len(lateTx) < len(afterTx) || len(lateTx) == len(afterTx) && lateTx < afterTx) {
		t.Fatalf("the late row's transaction %s (want %s) is not older than afterID's %s: the test does not hold what it means to", lateTx, xid, afterTx)
	}
	for _, s := range []*Store{a, b} {
		if got := follow(t, s, afterID.ID, 1); !slices.Equal(got, []string{late.ID}) {
			t.Errorf("Follow after the ID Append returned: %v, want the later commit %s", got, late.ID)
		}
	}
}

// TestFollowNotHeldByIdleTransactions: a transaction left open elsewhere
// on the server, idle, holds no follower back.
func TestFollowNotHeldByIdleTransactions(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	other := testPool(t)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil { // it holds the server's xmin horizon
		t.Fatal(err)
	}
	evs := []*talkdesk.Event{callEvent(t, 0), callEvent(t, 1), callEvent(t, 2)}
	mustAppend(t, s, evs...)
	if got := follow(t, s, "", 3); !slices.Equal(got, idsOf(evs)) {
		t.Errorf("followed %v while an idle transaction is open, want %v", got, idsOf(evs))
	}
}

// follow collects n events of s.Follow after afterID, or fails after 10 s.
func follow(t *testing.T, s *Store, afterID string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for ev, err := range s.Follow(ctx, talkdesk.EventQuery{}, afterID) {
		if err != nil {
			t.Errorf("Follow after %q, with %v: %v", afterID, got, err)
			return got
		}
		if got = append(got, ev.ID); len(got) == n {
			break
		}
	}
	return got
}

// TestMigrateFromVersion1: a log of schema version 1 is migrated with its
// rows in the order Follow gave them (transaction, then place), and
// followed after any of them.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := freshSchema(t, pool)
	s, err := Open(ctx, pool, WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v1, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE SCHEMA {{s}}`, `CREATE TABLE {{s}}.schema_version (version int NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
		migrations[0], `INSERT INTO {{s}}.schema_version (version) VALUES (1)`} {
		if _, err := v1.Exec(ctx, s.sql(q)); err != nil {
			t.Fatal(err)
		}
	}
	if err := v1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var evs []*talkdesk.Event
	for n := range 5 { // as version 1 inserted them, each in its transaction
		ev := callEvent(t, n)
		r, err := newRow(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, s.sql(`INSERT INTO {{s}}.events (id, type, occurred_ns, occurred_at, received_at, line) VALUES ($1, $2, $3, $4, $5, $6)`),
			r.id, r.typ, r.occurredNs, r.occurredAt, r.receivedAt, r.line); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	next := callEvent(t, 9)
	mustAppend(t, s, next)
	if got, want := follow(t, s, "", 6), append(idsOf(evs), next.ID); !slices.Equal(got, want) {
		t.Errorf("followed %v after the migration, want %v", got, want)
	}
	if got := follow(t, s, evs[2].ID, 3); !slices.Equal(got, []string{evs[3].ID, evs[4].ID, next.ID}) {
		t.Errorf("followed %v after the third event, want the two after it and the new one", got)
	}
}

func idsOf(evs []*talkdesk.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.ID)
	}
	return out
}

// TestFollowAcrossReplicas: an event appended through one Store reaches a
// follower of another, on its own pool, woken by NOTIFY.
func TestFollowAcrossReplicas(t *testing.T) {
	a := openStore(t)
	b := openOn(t, testPool(t), WithSchema(a.schema))
	b.poll = time.Hour // only NOTIFY can wake it
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 10)
	go func() {
		for ev, err := range b.Follow(ctx, talkdesk.EventQuery{}, "") {
			if err != nil {
				return
			}
			got <- ev.ID
		}
	}()
	time.Sleep(100 * time.Millisecond) // let it catch up and wait
	for n := range 3 {
		ev := callEvent(t, n)
		mustAppend(t, a, ev)
		select {
		case id := <-got:
			if id != ev.ID {
				t.Fatalf("followed %s, want %s", id, ev.ID)
			}
		case <-ctx.Done():
			t.Fatal("an append through one replica did not reach a follower of another")
		}
	}
}

// pgctl runs pg_ctl on the test server (TALKDESK_TEST_POSTGRES_CTL, set by
// scripts/postgres).
func pgctl(t *testing.T, args ...string) {
	t.Helper()
	ctl := strings.Fields(os.Getenv("TALKDESK_TEST_POSTGRES_CTL"))
	out, err := exec.Command(ctl[0], append(ctl[1:], args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_ctl %v: %v\n%s", args, err, out)
	}
}

// TestServerRestart stops PostgreSQL in the middle of a run and starts it
// again: meanwhile Append fails at once (the webhook answers 500 and
// Talkdesk delivers again), Query and Follow return errors; after, the
// same Store appends, queries and follows again, without a restart of the
// process, and a follower that resumes after its last event misses none.
func TestServerRestart(t *testing.T) {
	if os.Getenv("TALKDESK_TEST_POSTGRES_CTL") == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TALKDESK_TEST_POSTGRES_CTL is not set: run the tests with scripts/postgres")
		}
		t.Skip("needs TALKDESK_TEST_POSTGRES_CTL: run the tests with ../scripts/postgres")
	}
	s := openStore(t)
	ctx := context.Background()

	// A follower as a user writes one: on an error, follow again after
	// the last event handled.
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	followed := make(chan string, 1000)
	go func() {
		last := ""
		for fctx.Err() == nil {
			for ev, err := range s.Follow(fctx, talkdesk.EventQuery{}, last) {
				if err != nil {
					time.Sleep(100 * time.Millisecond)
					break
				}
				last = ev.ID
				followed <- ev.ID
			}
		}
	}()

	var want []string
	for n := range 50 {
		ev := callEvent(t, n)
		mustAppend(t, s, ev)
		want = append(want, ev.ID)
	}

	pgctl(t, "-w", "-m", "fast", "stop")
	stopped := true
	t.Cleanup(func() {
		if stopped {
			pgctl(t, "-w", "start")
		}
	})
	down := callEvent(t, 50)
	actx, acancel := context.WithTimeout(ctx, 20*time.Second)
	_, err := s.Append(actx, down)
	acancel()
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Append with the server down: %v, want a database error at once", err)
	}
	if _, err := s.Query(ctx, talkdesk.EventQuery{}); err == nil {
		t.Error("Query with the server down succeeded")
	}
	// A webhook delivery meanwhile is answered 500: Talkdesk delivers again.
	wh := talkdesk.NewWebhookHandler(talkdesk.WithEventLog(s))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/inboundCallEnds", bytes.NewReader(body(50)))
	req.Header.Set("Content-Type", "application/json")
	wh.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError {
		t.Errorf("a delivery with the server down: %d, want 500", rec.Code)
	}
	for ev, err := range s.Follow(ctx, talkdesk.EventQuery{}, "") {
		if err == nil {
			t.Errorf("Follow with the server down yielded %s", ev.ID)
		}
		break
	}
	pgctl(t, "-w", "start")
	stopped = false

	// The same Store, without reopening: the pool connects again.
	var added bool
	for try := 0; ; try++ {
		added, err = s.Append(ctx, down) // Talkdesk delivers again
		if err == nil || try == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !added {
		t.Fatalf("Append after the server came back: %v, %v", added, err)
	}
	want = append(want, down.ID)
	for n := 51; n < 100; n++ {
		ev := callEvent(t, n)
		mustAppend(t, s, ev)
		want = append(want, ev.ID)
	}
	page, err := s.Query(ctx, talkdesk.EventQuery{Limit: 1000})
	if err != nil || len(page.Events) != len(want) {
		t.Fatalf("Query after the server came back: %d events, %v; want %d", len(page.Events), err, len(want))
	}
	var got []string
	for len(got) < len(want) {
		select {
		case id := <-followed:
			got = append(got, id)
		case <-time.After(30 * time.Second):
			t.Fatalf("followed %d of %d events", len(got), len(want))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("the follower missed, repeated or reordered events across the restart")
	}
}

// TestMigrate: replicas that start together migrate once; Migrate again is
// harmless; a schema newer than the code is refused, not touched.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	pool := testPool(t)
	schema := freshSchema(t, pool)
	errs := make(chan error, 6)
	for range 6 {
		go func() {
			s, err := Open(ctx, testPool(t), WithSchema(schema))
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			errs <- s.Migrate(ctx)
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	s := openOn(t, pool, WithSchema(schema)) // and once more
	var versions []int
	rows, _ := pool.Query(ctx, s.sql(`SELECT version FROM {{s}}.schema_version ORDER BY version`))
	for rows.Next() {
		var v int
		rows.Scan(&v)
		versions = append(versions, v)
	}
	var want []int // each version once
	for v := 1; v <= SchemaVersion; v++ {
		want = append(want, v)
	}
	if rows.Err() != nil || !slices.Equal(versions, want) {
		t.Errorf("schema versions %v, %v; want %v", versions, rows.Err(), want)
	}
	mustAppend(t, s, callEvent(t, 1))
	if _, err := pool.Exec(ctx, s.sql(`INSERT INTO {{s}}.schema_version (version) VALUES ($1)`), SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Migrate of a newer schema: %v, want a refusal", err)
	}
	if rows, _ := countRows(t, s); rows != 1 {
		t.Errorf("after a refused Migrate the table holds %d rows, want 1", rows)
	}
}

// TestLastID: following after LastID gives only what is appended next.
func TestLastID(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if id, err := s.LastID(ctx); id != "" || err != nil {
		t.Fatalf("LastID of an empty log: %q, %v", id, err)
	}
	old := []*talkdesk.Event{callEvent(t, 5), callEvent(t, 1)}
	mustAppend(t, s, old...)
	last, err := s.LastID(ctx)
	if err != nil || last != old[1].ID {
		t.Fatalf("LastID = %q, %v; want the last appended, %s", last, err, old[1].ID)
	}
	next := callEvent(t, 3)
	mustAppend(t, s, next)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for ev, err := range s.Follow(fctx, talkdesk.EventQuery{}, last) {
		if err != nil || ev.ID != next.ID {
			t.Errorf("Follow after LastID gave %v, %v; want %s", ev, err, next.ID)
		}
		break
	}
	s.Close()
	if _, err := s.LastID(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("LastID after Close: %v, want ErrClosed", err)
	}
}

// TestFollowRareFilter: a follower whose filter matches few events moves
// past the rows that do not match, so each row is read once however busy
// the log, not again at every wake-up until the next match.
func TestFollowRareFilter(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	places := make(chan int64, 10000)
	s.followed = func(seq int64) { places <- seq }
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan string, 10)
	go func() {
		for ev, err := range s.Follow(fctx, talkdesk.EventQuery{AgentID: "agent-rare"}, "") {
			if err != nil {
				return
			}
			got <- ev.ID
		}
	}()
	for n := range 300 {
		mustAppend(t, s, callEvent(t, n)) // agents 0 to 39: none matches
	}
	var last int64
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT max(seq) FROM {{s}}.events`)).Scan(&last); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for place := int64(0); place < last; {
		select {
		case place = <-places:
		case <-deadline:
			t.Fatalf("the follower is at row %d of %d: it does not move past rows that do not match", place, last)
		}
	}
	rare := callEvent(t, 1000)
	rare.AgentID = "agent-rare"
	mustAppend(t, s, rare)
	select {
	case id := <-got:
		if id != rare.ID {
			t.Errorf("followed %s, want %s", id, rare.ID)
		}
	case <-deadline:
		t.Fatal("the rare event did not reach its follower")
	}
}
