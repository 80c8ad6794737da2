package tdpostgres_test

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
	tdpostgres "github.com/talkdeskgo/talkdesk/postgres"
)

// A webhook receiver that runs as several replicas: each opens the store
// on the same database, migrates (safe when all start at once), stores
// every event there before its handlers run, and serves the log over HTTP.
func ExampleOpen() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := tdpostgres.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}

	webhooks := talkdesk.NewWebhookHandler(
		talkdesk.WithWebhookSecret(os.Getenv("TALKDESK_WEBHOOK_SECRET")),
		talkdesk.WithEventLog(store), // stored and committed before the 200
	)
	webhooks.Handle(talkdesk.TriggerInboundCallEnds, func(ctx context.Context, ev *talkdesk.Event) error {
		p := ev.Payload.(*talkdesk.InboundCallEndedPayload)
		log.Printf("call %s ended after %s", p.CallID, p.Duration)
		return nil
	})
	logAPI, err := talkdesk.NewEventLogHandler(store, talkdesk.WithAPIKeys(os.Getenv("EVENTLOG_API_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/talkdesk/", webhooks)
	mux.Handle("/log/", logAPI)
	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}

// A dashboard's feed: every call ending committed by any replica, from
// now on, resumed after the last one shown when the connection drops.
func ExampleStore_Follow() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	store, err := tdpostgres.Open(ctx, pool)
	if err != nil {
		log.Fatal(err)
	}
	last, err := store.LastID(ctx) // from now on
	if err != nil {
		log.Fatal(err)
	}
	q := talkdesk.EventQuery{Types: []talkdesk.Trigger{talkdesk.TriggerInboundCallEnds}}
	for {
		for ev, err := range store.Follow(ctx, q, last) {
			if err != nil {
				log.Print(err) // the database is restarting, say: follow again
				break
			}
			log.Printf("%s %s", ev.OccurredAt.Format(time.Kitchen), ev.AgentID)
			last = ev.ID
		}
		time.Sleep(time.Second)
	}
}
