package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
	tdpostgres "github.com/talkdeskgo/talkdesk/postgres"
)

// source is a conversation log to read: a server's, over HTTP, or a store
// read directly (a file, PostgreSQL).
type source struct {
	client *talkdesk.EventLogClient // or
	store  talkdesk.EventStore
	close  func()
}

// sourceFlags adds the flags that name a log to read.
func sourceFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("server", "", "the URL of a log served over HTTP, such as http://127.0.0.1:8080 (or $TALKDESK_SERVER)")
	f.String("api-key", "", "the API key of --server (or $TALKDESK_EVENTLOG_API_KEY)")
	f.String("log", "", "a log file to read directly (not one a running serve holds)")
	f.String("postgres", "", "a PostgreSQL URL to read the log from (or $DATABASE_URL)")
	schemaFlag(cmd)
}

// schemaFlag adds --schema, the PostgreSQL schema of a log.
func schemaFlag(cmd *cobra.Command) {
	cmd.Flags().String("schema", "talkdesk", "the PostgreSQL schema of the log's tables: logs in different schemas are different logs")
}

// filterFlags adds the flags of a query's filters.
func filterFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.String("interaction", "", "only the events of this interaction ID")
	f.String("contact", "", "only the events of this contact ID")
	f.String("agent", "", "only the events of this agent ID")
	f.StringSlice("type", nil, "only events of this type (a trigger such as inboundCallEnds, or reportedCall); repeat or comma-separate")
}

// query reads the filter flags.
func query(cmd *cobra.Command) (talkdesk.EventQuery, error) {
	f := cmd.Flags()
	var q talkdesk.EventQuery
	q.InteractionID, _ = f.GetString("interaction")
	q.ContactID, _ = f.GetString("contact")
	q.AgentID, _ = f.GetString("agent")
	types, _ := f.GetStringSlice("type")
	for _, t := range types {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		tr := talkdesk.Trigger(t)
		if !isEventType(tr) {
			return q, usagef("--type: %q is not an event type (one of %s)", t, eventTypeList())
		}
		q.Types = append(q.Types, tr)
	}
	return q, nil
}

func isEventType(t talkdesk.Trigger) bool {
	for _, e := range talkdesk.EventTypes() {
		if e == t {
			return true
		}
	}
	return false
}

func eventTypeList() string {
	var names []string
	for _, t := range talkdesk.EventTypes() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// openSource opens the log the flags name: exactly one of --server,
// --log and --postgres (when none is given, $TALKDESK_SERVER, then
// $DATABASE_URL).
func (e *env) openSource(ctx context.Context, cmd *cobra.Command) (*source, error) {
	f := cmd.Flags()
	server, _ := f.GetString("server")
	path, _ := f.GetString("log")
	pg, _ := f.GetString("postgres")
	given := 0
	for _, v := range []string{server, path, pg} {
		if v != "" {
			given++
		}
	}
	switch {
	case given > 1:
		return nil, usagef("give one of --server, --log and --postgres")
	case given == 0 && e.getenv("TALKDESK_SERVER") != "":
		server = e.getenv("TALKDESK_SERVER")
	case given == 0 && e.getenv("DATABASE_URL") != "":
		pg = e.getenv("DATABASE_URL")
	case given == 0:
		return nil, usagef("name a log: --server URL (with --api-key), --log PATH or --postgres URL")
	}
	switch {
	case server != "":
		key := e.value(cmd, "api-key", "TALKDESK_EVENTLOG_API_KEY")
		if key == "" {
			return nil, usagef("--server needs --api-key (or $TALKDESK_EVENTLOG_API_KEY)")
		}
		c, err := talkdesk.NewEventLogClient(server, key, nil)
		if err != nil {
			return nil, usagef("--server: %v", err)
		}
		return &source{client: c, close: func() {}}, nil
	case path != "":
		l, err := openLogFile(path)
		if err != nil {
			return nil, err
		}
		return &source{store: l, close: func() { l.Close() }}, nil
	default:
		store, closeStore, err := openPostgres(ctx, pg, schemaOf(cmd), false)
		if err != nil {
			return nil, err
		}
		return &source{store: store, close: closeStore}, nil
	}
}

// openLogFile opens the log file at path, saying what to do when a
// running serve holds it.
func openLogFile(path string) (*talkdesk.EventLog, error) {
	l, err := talkdesk.OpenEventLog(path)
	if errors.Is(err, talkdesk.ErrEventLogLocked) {
		return nil, fmt.Errorf("%s is held by another process (a running serve?): stop it, or read the log through its server with --server", path)
	}
	return l, err
}

// openPostgres opens the log in schema of the PostgreSQL of url,
// migrating its tables when migrate.
func openPostgres(ctx context.Context, url, schema string, migrate bool) (*tdpostgres.Store, func(), error) {
	if schema == "" {
		return nil, nil, usagef("--schema must not be empty")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	pool, err := pgxpool.New(cctx, url)
	if err != nil {
		return nil, nil, fmt.Errorf("--postgres: %w", err)
	}
	store, err := tdpostgres.Open(cctx, pool, tdpostgres.WithSchema(schema))
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	if migrate {
		if err := store.Migrate(cctx); err != nil {
			store.Close()
			pool.Close()
			return nil, nil, err
		}
	}
	return store, func() { store.Close(); pool.Close() }, nil
}

// follow follows the log.
func (s *source) follow(ctx context.Context, q talkdesk.EventQuery, after string) iter.Seq2[*talkdesk.Event, error] {
	if s.client != nil {
		return s.client.Follow(ctx, q, after)
	}
	return s.store.Follow(ctx, q, after)
}

// events iterates the events of q in time order.
func (s *source) events(ctx context.Context, q talkdesk.EventQuery) iter.Seq2[*talkdesk.Event, error] {
	if s.client != nil {
		return s.client.Events(ctx, q)
	}
	return talkdesk.Events(ctx, s.store, q)
}

// exportJSONL writes the events of q as JSON Lines, as stored.
func (s *source) exportJSONL(ctx context.Context, w io.Writer, q talkdesk.EventQuery) error {
	if s.client != nil {
		return s.client.Export(ctx, w, q)
	}
	return talkdesk.Export(ctx, s.store, w, q)
}

// schemaOf returns the --schema of cmd.
func schemaOf(cmd *cobra.Command) string {
	s, _ := cmd.Flags().GetString("schema")
	return s
}
