// Package tdpostgres keeps the conversation log of
// github.com/talkdeskgo/talkdesk in PostgreSQL: one log shared by every
// replica of a webhook receiver, in a table that BI tools read directly.
//
// Its import path is github.com/talkdeskgo/talkdesk/postgres, a module of
// its own so that the SDK gains no database driver; its name is
// tdpostgres, not postgres, so that it does not clash with the packages of
// drivers and tools a program imports beside it (many are named postgres
// or pg).
//
// A [*Store] implements [talkdesk.EventStore] (and [talkdesk.HandledMarker])
// with the same semantics as the file log, [talkdesk.EventLog]: appends
// idempotent by event ID across replicas, the same filters, order and
// cursors (a cursor from one replica works on another), genuine repeats
// told from redeliveries, and Follow in real time across replicas.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	store, err := tdpostgres.Open(ctx, pool)
//	...
//	if err := store.Migrate(ctx); err != nil { ... }
//	wh := talkdesk.NewWebhookHandler(talkdesk.WithEventLog(store), ...)
//
// # Schema
//
// [Store.Migrate] creates, in the schema "talkdesk" (see [WithSchema]):
// the table events, one row per event with typed columns (id, type,
// occurred_at, received_at, account_id, interaction_id, call_id,
// contact_id, agent_id, actor_*), the typed payload and the raw body as
// jsonb and the warnings; the table handled; and the view calls_ended,
// one row per ended call with its durations in seconds, hold and waiting
// time, agent, contact and ring groups.
//
// # Commit order
//
// Follow delivers events in commit order and never skips one, whatever
// event it resumes after: every row takes a position in the log when it is
// inserted, from a counter each append statement keeps locked until it
// commits, so positions follow the commits (see [Store.Follow]). A
// transaction left open elsewhere on the server holds no follower back.
package tdpostgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("tdpostgres: store is closed")

// Store is the conversation log in PostgreSQL. It is safe for concurrent
// use, and any number of Stores (in one process or in many) may share one
// schema of one database.
type Store struct {
	pool      *pgxpool.Pool
	schema    string
	channel   string // of LISTEN/NOTIFY
	window    time.Duration
	timeout   time.Duration
	maxBatch  int
	writers   int
	poll      time.Duration
	logger    *slog.Logger
	insertSQL string
	followed  func(pos int64) // tests: the place of a follower after each read

	mu      sync.Mutex
	queue   []*appendReq
	active  int // committing goroutines
	closed  bool
	wake    chan struct{} // closed and replaced on every notification
	stop    context.CancelFunc
	done    sync.WaitGroup
	drained *sync.Cond
}

// Option configures a Store.
type Option func(*Store)

// WithSchema sets the PostgreSQL schema of the store's tables: "talkdesk"
// by default. Stores with different schemas are different logs.
func WithSchema(name string) Option { return func(s *Store) { s.schema = name } }

// WithRepeatWindow sets the repeat window, as [talkdesk.WithRepeatWindow]
// does for the file log: an event without a time of its own identical to
// one stored is a redelivery of it while it is not handled (see
// [Store.MarkHandled]), however late it comes, and once it is, when
// received within d of it; received later than that, it is a genuine
// repeat, stored under the first's ID with ".2", ".3"... appended. The
// default is [talkdesk.DefaultRepeatWindow]; d <= 0 makes every identical
// event a redelivery. Every replica sharing a schema should use the same
// window.
func WithRepeatWindow(d time.Duration) Option { return func(s *Store) { s.window = d } }

// WithAppendTimeout bounds how long one group of appends may take in the
// database, including waiting for a connection: 10 s by default. When
// PostgreSQL is down the pool fails at once; the timeout is for a server
// that takes connections but does not answer.
func WithAppendTimeout(d time.Duration) Option { return func(s *Store) { s.timeout = d } }

// WithLogger makes the store report the loss and return of its
// notification connection. Events are never logged.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// Open returns a Store of the log in pool's database. It checks that the
// database answers; call [Store.Migrate] to create the schema (once per
// deployment is enough, at every start is harmless). The pool stays the
// caller's: Close does not close it. The store holds one connection of its
// own, outside the pool, to LISTEN for the appends of every replica.
func Open(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, &talkdesk.ValidationError{Field: "pool", Reason: "must not be nil"}
	}
	s := &Store{
		pool:    pool,
		schema:  "talkdesk",
		window:  talkdesk.DefaultRepeatWindow,
		timeout: 10 * time.Second,
		// One group in the database at a time, of up to 256 events: with
		// 64 writers on 2 cores it stored more events a second than 2, 3
		// or 4 groups at once, with less server CPU per event and a lower
		// p99 (concurrent inserts into the same index pages cost more than
		// they win).
		maxBatch: 256,
		writers:  1,
		poll:     time.Second,
		wake:     make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	switch {
	case s.schema == "" || len(s.schema) > 40 || strings.ContainsRune(s.schema, 0):
		return nil, &talkdesk.ValidationError{Field: "schema", Reason: "must be 1 to 40 bytes, without NUL"}
	case s.timeout <= 0:
		return nil, &talkdesk.ValidationError{Field: "append timeout", Reason: "must be positive"}
	case s.writers < 1 || s.maxBatch < 1:
		return nil, &talkdesk.ValidationError{Field: "group commit", Reason: "must be positive"}
	}
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("tdpostgres: %w", err)
	}
	s.channel = "talkdesk-go " + s.schema
	s.insertSQL = s.sql(insertSQL)
	s.drained = sync.NewCond(&s.mu)
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.done.Add(1)
	go s.listen(lctx)
	return s, nil
}

// Close stops the store: it waits for the appends under way, ends every
// Follow with [ErrClosed] and closes the store's notification connection.
// Calls after Close fail with ErrClosed; a second Close does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.active > 0 {
		s.drained.Wait()
	}
	close(s.wake)
	s.mu.Unlock()
	s.stop()
	s.done.Wait()
	return nil
}

func (s *Store) usable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}
