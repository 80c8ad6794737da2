package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
)

// DefaultLog is the log file serve keeps when it is given no store.
const DefaultLog = "./talkdesk-events.jsonl"

func serveCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a conversation-log service: webhooks in, the log over HTTP out",
		Long: `serve runs a conversation-log service on one port:

  POST /webhooks/{trigger}?token=S   Talkdesk's deliveries, stored before the 200
  GET  /events, /events/stream        the log over HTTP, with an API key
  GET  /                              the web viewer: log in with an API key, watch
                                      events live, filter, read one conversation
  GET  /healthz                       the process is up
  GET  /readyz                        the store answers
  GET  /metrics                       Prometheus metrics: deliveries, appends, streams, follower lag

The log is a file (--log, ` + DefaultLog + ` by default) or PostgreSQL
(--postgres or $DATABASE_URL; its schema is migrated). serve refuses to start
without a webhook secret and an API key unless told --insecure-dev. SIGINT or
SIGTERM stops it: new requests are refused, streams and exports end, appends
under way finish, the store is closed.

With Talkdesk credentials ($TALKDESK_ACCOUNT, $TALKDESK_CLIENT_ID,
$TALKDESK_CLIENT_SECRET) and --public-url, --subscribe subscribes every
trigger to this server, and unsubscribes them on exit unless
--keep-subscriptions.`,
		Example: `  talkdesk serve --webhook-secret "$TALKDESK_WEBHOOK_SECRET" --api-key "$TALKDESK_EVENTLOG_API_KEY"
  talkdesk serve --postgres postgres://talkdesk@db/talkdesk --addr 0.0.0.0:8080 --webhook-secret S --api-key K
  talkdesk serve --insecure-dev`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.String("addr", "127.0.0.1:8080", "the address to listen on")
	f.String("log", "", "the log file (default "+DefaultLog+" when no --postgres)")
	f.String("postgres", "", "a PostgreSQL URL to keep the log in (or $DATABASE_URL)")
	schemaFlag(cmd)
	f.String("webhook-secret", "", "the token Talkdesk's deliveries must carry (or $TALKDESK_WEBHOOK_SECRET)")
	f.StringArray("api-key", nil, "an API key of the log over HTTP; repeat for several (or $TALKDESK_EVENTLOG_API_KEY)")
	f.Bool("insecure-dev", false, "start without a webhook secret or an API key: anyone may deliver and read (development only)")
	f.String("public-url", "", "the URL Talkdesk reaches this server at, for --subscribe (https://hooks.example.com)")
	f.Bool("subscribe", false, "subscribe every trigger to this server at start (needs $TALKDESK_* credentials and --public-url)")
	f.Bool("keep-subscriptions", false, "with --subscribe, leave the subscriptions in place on exit")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return e.serve(cmd) }
	return cmd
}

func (e *env) serve(cmd *cobra.Command) error {
	ctx := cmd.Context()
	f := cmd.Flags()
	log := e.logger()
	addr, _ := f.GetString("addr")
	path, _ := f.GetString("log")
	pg := e.value(cmd, "postgres", "DATABASE_URL")
	secret := e.value(cmd, "webhook-secret", "TALKDESK_WEBHOOK_SECRET")
	keys, _ := f.GetStringArray("api-key")
	if len(keys) == 0 && e.getenv("TALKDESK_EVENTLOG_API_KEY") != "" {
		keys = []string{e.getenv("TALKDESK_EVENTLOG_API_KEY")}
	}
	insecure, _ := f.GetBool("insecure-dev")
	publicURL, _ := f.GetString("public-url")
	subscribe, _ := f.GetBool("subscribe")
	keep, _ := f.GetBool("keep-subscriptions")
	switch {
	case path != "" && f.Changed("postgres"):
		return usagef("give --log or --postgres, not both")
	case !insecure && secret == "":
		return usagef("serve needs --webhook-secret (or $TALKDESK_WEBHOOK_SECRET), or --insecure-dev")
	case !insecure && len(keys) == 0:
		return usagef("serve needs --api-key (or $TALKDESK_EVENTLOG_API_KEY), or --insecure-dev")
	case subscribe && publicURL == "":
		return usagef("--subscribe needs --public-url, the URL Talkdesk reaches this server at")
	case keep && !subscribe:
		return usagef("--keep-subscriptions goes with --subscribe")
	}
	for _, k := range keys {
		if k == "" {
			return usagef("--api-key: a key must not be empty")
		}
	}
	if insecure {
		log.Warn("talkdesk serve: --insecure-dev: anyone who reaches this server may deliver events and read the log")
	}

	// The store.
	var store talkdesk.EventStore
	var marks talkdesk.HandledMarker
	var closeStore func()
	if pg != "" && path == "" {
		s, closeFn, err := openPostgres(ctx, pg, schemaOf(cmd), true)
		if err != nil {
			return err
		}
		store, marks, closeStore = s, s, closeFn
	} else {
		if path == "" {
			path = DefaultLog
		}
		l, err := talkdesk.OpenEventLog(path, talkdesk.WithEventLogLogger(log))
		if err != nil {
			return err
		}
		store, marks, closeStore = l, l, func() { l.Close() }
	}
	defer closeStore()
	m := newMetrics()
	measured := &measuredStore{EventStore: store, marks: marks, m: m}

	// The routes.
	hooks := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(secret), talkdesk.WithEventLog(measured), talkdesk.WithWebhookLogger(log))
	page, err := newViewer(measured, keys, log)
	if err != nil {
		return err
	}
	opts := []talkdesk.EventLogHandlerOption{talkdesk.WithEventLogHandlerLogger(log)}
	if len(keys) > 0 {
		opts = append(opts, talkdesk.WithAPIKeys(keys...), talkdesk.WithEventLogAuth(page.auth))
	} else {
		opts = append(opts, talkdesk.WithEventLogAuth(func(*http.Request) (string, error) { return "insecure-dev", nil }))
	}
	logAPI, err := talkdesk.NewEventLogHandler(measured, opts...)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", m.webhooks(hooks))
	mux.Handle("/events", m.logAPI(logAPI))
	mux.Handle("/events/", m.logAPI(logAPI))
	page.register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := store.Query(rctx, talkdesk.EventQuery{Limit: 1}); err != nil {
			log.Warn("talkdesk serve: the store does not answer", "error", err.Error())
			http.Error(w, "the store does not answer", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(func() { logAPI.Close() })
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	where := "the file " + path
	if path == "" {
		where = "PostgreSQL"
	}
	log.Info("talkdesk serve: listening", "addr", ln.Addr().String(), "log", where, "version", talkdesk.Version)

	var unsubscribe func()
	if subscribe {
		if unsubscribe, err = e.subscribeAll(ctx, log, hooks, publicURL); err != nil {
			srv.Close()
			return err
		}
	}

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("talkdesk serve: stopping")
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("talkdesk serve: requests cut at shutdown", "error", err.Error())
		srv.Close()
	}
	if unsubscribe != nil && !keep {
		unsubscribe()
	}
	log.Info("talkdesk serve: stopped")
	return nil
}

// subscribeAll subscribes every trigger to the webhooks of publicURL, and
// returns the function that unsubscribes them.
func (e *env) subscribeAll(ctx context.Context, log *slog.Logger, hooks *talkdesk.WebhookHandler, publicURL string) (func(), error) {
	opts, err := talkdesk.OptionsFromEnv(e.getenv)
	if errors.Is(err, talkdesk.ErrNoCredentials) {
		return nil, usagef("--subscribe needs $TALKDESK_ACCOUNT, $TALKDESK_CLIENT_ID and $TALKDESK_CLIENT_SECRET")
	}
	if err != nil {
		return nil, err
	}
	client, err := talkdesk.NewClient(append(opts, talkdesk.WithLogger(log))...)
	if err != nil {
		return nil, err
	}
	var subs []*talkdesk.Subscription
	undo := func() {
		uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range subs {
			if err := client.Unsubscribe(uctx, s.Trigger, s.ID); err != nil {
				log.Warn("talkdesk serve: unsubscribing", "trigger", string(s.Trigger), "error", err.Error())
			}
		}
		log.Info("talkdesk serve: unsubscribed", "triggers", len(subs))
	}
	base := strings.TrimSuffix(publicURL, "/") + "/webhooks"
	for _, t := range talkdesk.Triggers() {
		cb, err := hooks.CallbackURL(base, t)
		if err != nil {
			undo()
			return nil, usagef("--public-url: %v", err)
		}
		s, err := client.Subscribe(ctx, t, cb)
		if err != nil {
			undo()
			return nil, fmt.Errorf("subscribing %s: %w", t, err)
		}
		subs = append(subs, s)
	}
	log.Info("talkdesk serve: subscribed every trigger", "triggers", len(subs), "to", base)
	return undo, nil
}
