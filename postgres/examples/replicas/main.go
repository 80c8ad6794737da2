// Command replicas runs two webhook receivers that share one conversation
// log in PostgreSQL, as two replicas behind a load balancer do, with a
// follower printing every event live as either replica stores it, and then
// asks the log a BI question in SQL.
//
//	go run ./examples/replicas -db postgres://user@host/db
//
// The database comes from -db, else TALKDESK_TEST_POSTGRES_URL; from the
// repository root, scripts/postgres go run ./postgres/examples/replicas
// starts a throwaway PostgreSQL for the run. The log goes to a schema of
// its own (-schema, "talkdesk_example" by default), which the example
// leaves in place: run it twice and the second run finds the first's
// events and stores no duplicate.
//
// An embedded fake Talkdesk (package talkdesktest) delivers three calls,
// one call's end twice (the second time to the other replica, as after a
// lost answer) and a note.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
	tdpostgres "github.com/talkdeskgo/talkdesk/postgres"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("replicas", flag.ContinueOnError)
	flags.SetOutput(out)
	db := flags.String("db", os.Getenv("TALKDESK_TEST_POSTGRES_URL"), "the PostgreSQL URL")
	schema := flags.String("schema", "talkdesk_example", "the schema of the log")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *db == "" {
		return errors.New("no database: give -db postgres://... (or run it under scripts/postgres)")
	}

	// Two replicas, each with its own pool and Store, as two processes
	// would have.
	var replicas []http.Handler
	var stores []*tdpostgres.Store
	for range 2 {
		pool, err := pgxpool.New(ctx, *db)
		if err != nil {
			return err
		}
		defer pool.Close()
		store, err := tdpostgres.Open(ctx, pool, tdpostgres.WithSchema(*schema))
		if err != nil {
			return err
		}
		defer store.Close()
		if err := store.Migrate(ctx); err != nil { // both at once is safe
			return err
		}
		wh := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret("example-secret"), talkdesk.WithEventLog(store))
		replicas = append(replicas, wh)
		stores = append(stores, store)
	}

	// A follower, as a dashboard would run it: every event as it is
	// committed, by either replica. It starts from the end of the log.
	last, err := stores[0].LastID(ctx)
	if err != nil {
		return err
	}
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	followed := make(chan string)
	go func() {
		defer close(followed)
		for ev, err := range stores[1].Follow(followCtx, talkdesk.EventQuery{}, last) {
			if err != nil {
				return
			}
			fmt.Fprintf(out, "  live: %-34s %s %s\n", ev.Type, ev.InteractionID+ev.ContactID, ev.ID[:8])
			followed <- ev.ID
		}
	}()

	// The load balancer: deliveries alternate between the replicas.
	var turn atomic.Uint32
	lb := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		replicas[turn.Add(1)%2].ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: lb, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go server.Serve(ln)
	defer server.Shutdown(context.Background())

	fake := talkdesktest.NewServer()
	defer fake.Close()
	client, err := talkdesk.NewClient(fake.ClientOptions()...)
	if err != nil {
		return err
	}
	wh := replicas[0].(*talkdesk.WebhookHandler)
	for _, t := range []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds, talkdesk.TriggerNoteCreated} {
		cb, err := wh.CallbackURL("http://"+ln.Addr().String(), t)
		if err != nil {
			return err
		}
		if _, err := client.Subscribe(ctx, t, cb); err != nil {
			return err
		}
	}

	before, err := demoEvents(ctx, stores[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "Deliveries, alternating between two replicas:")
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	calls := []struct{ interaction, agent, name, groups string }{
		{"int-1001", "ag-miguel", "Miguel Santos", "sales"},
		{"int-1002", "ag-rita", "Rita Lopes", "support"},
		{"int-1003", "ag-miguel", "Miguel Santos", "sales, vip"},
	}
	for i, c := range append(calls, calls[0]) { // the first call's end twice
		at := day.Add(time.Duration(i%3) * time.Hour)
		if err := fake.Emit(ctx, talkdesk.TriggerInboundCallEnds, map[string]string{
			"event": "call_finished", "interaction_id": c.interaction, "agent_id": c.agent, "agent.name": c.name,
			"start_time": at.Add(-3 * time.Minute).Format(time.RFC3339), "timestamp": at.Format(time.RFC3339),
			"duration": "180", "hold_time": fmt.Sprint(10 * (i%3 + 1)), "tags": c.groups,
		}); err != nil {
			return err
		}
	}
	if err := fake.Emit(ctx, talkdesk.TriggerNoteCreated, map[string]string{
		"event": "note_created", "contact_id": "ct-joana", "title": "Claim 4471", "content": "Call back after 17:00.",
	}); err != nil {
		return err
	}
	// Wait for the follower to print the events this run stored (none
	// when an earlier run stored them).
	after, err := demoEvents(ctx, stores[0])
	if err != nil {
		return err
	}
	for id := range before {
		delete(after, id)
	}
	timeout := time.After(30 * time.Second)
	for len(after) > 0 {
		select {
		case id, ok := <-followed:
			if !ok {
				return errors.New("the follower stopped before the last event")
			}
			delete(after, id)
		case <-timeout:
			return errors.New("the follower did not get every event")
		}
	}
	stopFollowing()
	for range followed {
	}

	// A BI question, in SQL, on the view of ended calls.
	fmt.Fprintln(out, "\nCalls per agent per day (SQL on the calls_ended view):")
	pool, err := pgxpool.New(ctx, *db)
	if err != nil {
		return err
	}
	defer pool.Close()
	rows, err := pool.Query(ctx, `SELECT agent_id, agent_name, ended_at::date AS day, count(*) AS calls
		FROM `+pgx.Identifier{*schema}.Sanitize()+`.calls_ended
		GROUP BY agent_id, agent_name, day ORDER BY day, agent_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var agent, name string
		var d time.Time
		var n int
		if err := rows.Scan(&agent, &name, &d, &n); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s  %-10s %-14s %d\n", d.Format(time.DateOnly), agent, name, n)
	}
	return rows.Err()
}

// demoEvents returns the IDs of the demo's events that are stored.
func demoEvents(ctx context.Context, s *tdpostgres.Store) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, q := range []talkdesk.EventQuery{
		{InteractionID: "int-1001"}, {InteractionID: "int-1002"}, {InteractionID: "int-1003"}, {ContactID: "ct-joana"},
	} {
		for ev, err := range talkdesk.Events(ctx, s, q) {
			if err != nil {
				return nil, err
			}
			ids[ev.ID] = true
		}
	}
	return ids, nil
}
