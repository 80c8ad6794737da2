// Package tdpostgres keeps the conversation log of
// github.com/talkdeskgo/talkdesk in PostgreSQL: one log shared by every
// replica of a webhook receiver, in a table that BI tools read directly.
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
// Follow delivers events in an order that agrees with commit order (an
// event whose Append returned before another's began comes first) and
// never skips one: it reads only the rows of transactions older than every
// transaction still running, in the order of their transaction IDs (see
// [Store.Follow]).
package tdpostgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/eventcursor"
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
	followed  func(seq int64) // tests: the place of a follower after each read

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
// one stored is a redelivery of it when received within d of it, and a
// genuine repeat, stored under the first's ID with ".2", ".3"... appended,
// when received later. The default is [talkdesk.DefaultRepeatWindow]; d <=
// 0 makes every identical event a redelivery. Every replica sharing a
// schema should use the same window.
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

// listen holds a connection that LISTENs on the store's channel and wakes
// the followers at each notification. When the connection is lost it
// connects again, backing off up to 2 s, and wakes the followers once
// connected (they may have missed a notification meanwhile); followers
// poll every second in any case.
func (s *Store) listen(ctx context.Context) {
	defer s.done.Done()
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, func() { backoff = 50 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		if s.logger != nil {
			s.logger.Warn("tdpostgres: notification connection lost; followers poll until it is back", "err", err, "retry_in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

func (s *Store) listenOnce(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	s.notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.notify()
	}
}

// notify wakes every follower waiting for an append.
func (s *Store) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

// row is an event as the store writes it.
type row struct {
	id, typ, name                        string
	occurredNs                           int64
	occurredAt, receivedAt               time.Time
	account, interaction, call, contact  *string
	agent, actorType, actorID, actorName *string
	actorEmail, payload, raw, warnings   *string
	line                                 []byte
	payloadDoc                           []byte // the payload's JSON, for a repeat's line
	ownTime                              bool
}

// storedLine is the form an event is stored and read back in, the form
// of an EventLog line: the JSON of the Event with its warnings.
type storedLine struct {
	*talkdesk.Event
	Warnings []talkdesk.PayloadWarning `json:"warnings,omitempty"`
}

// newRow checks ev as the file log does ([talkdesk.Event.Validate]) and
// returns its row. The payload is encoded once, for its jsonb column and
// inside the stored line.
func newRow(ev *talkdesk.Event) (*row, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if !storableID(ev.ID) {
		return nil, &talkdesk.ValidationError{Field: "event.ID", Reason: fmt.Sprintf("must be valid UTF-8 without NUL, at most %d bytes, to be a key in PostgreSQL", maxKeyText)}
	}
	payload, err := encodeJSON(ev.Payload)
	if err != nil {
		return nil, &talkdesk.ValidationError{Field: "event.Payload", Reason: err.Error()}
	}
	line, err := encodeLine(ev, payload)
	if err != nil {
		return nil, err
	}
	r := &row{
		id: ev.ID, typ: string(ev.Type), name: deref(text(ev.Name)),
		occurredNs: ev.OccurredAt.UnixNano(), occurredAt: ev.OccurredAt.UTC(), receivedAt: ev.ReceivedAt.UTC(),
		account: text(ev.AccountID), interaction: text(ev.InteractionID), call: text(ev.CallID),
		contact: text(ev.ContactID), agent: text(ev.AgentID),
		actorType: text(string(ev.Actor.Type)), actorID: text(ev.Actor.ID), actorName: text(ev.Actor.Name), actorEmail: text(ev.Actor.Email),
		payload: jsonbText(payload), raw: jsonbText(ev.Raw),
		line: line, payloadDoc: payload,
		ownTime: ev.HasOwnTime(),
	}
	if len(ev.Warnings) > 0 {
		w, err := encodeJSON(ev.Warnings)
		if err != nil {
			return nil, &talkdesk.ValidationError{Field: "event.Warnings", Reason: err.Error()}
		}
		r.warnings = jsonbText(w)
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// encodeJSON is json.Marshal with <, > and & as they are.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeLine returns the stored form of ev, the form of an EventLog line,
// with its times in UTC and payload, its payload's encoding.
func encodeLine(ev *talkdesk.Event, payload []byte) ([]byte, error) {
	utc := *ev
	utc.OccurredAt, utc.ReceivedAt = ev.OccurredAt.UTC(), ev.ReceivedAt.UTC()
	utc.Payload = json.RawMessage(payload)
	line, err := encodeJSON(storedLine{Event: &utc, Warnings: ev.Warnings})
	if err != nil {
		return nil, &talkdesk.ValidationError{Field: "event", Reason: err.Error()}
	}
	return line, nil
}

// text returns s for a nullable text column: NULL for "", else
// columnText(s).
func text(s string) *string {
	if s == "" {
		return nil
	}
	s, _ = columnText(s)
	return &s
}

// jsonbText returns doc for a jsonb column, or nil (NULL) when jsonb
// cannot hold it: not UTF-8, or a string with \u0000. The event is kept
// whole in its line in any case.
func jsonbText(doc []byte) *string {
	if len(doc) == 0 || string(doc) == "null" || !utf8.Valid(doc) || bytes.Contains(doc, []byte(`\u0000`)) {
		return nil
	}
	s := string(doc)
	return &s
}

// maxKeyText bounds a text value the store writes as it is: longer ones,
// which a B-tree index could not take, are written as a stand-in.
const maxKeyText = 1024

// columnText returns s as a text column holds it, and exact == true, when
// PostgreSQL's text and indexes can take s as it is: valid UTF-8, no NUL,
// at most maxKeyText bytes. Otherwise it returns a stand-in (s made valid,
// cut to 256 bytes, then U+FFFD, "#" and 32 hex digits of its SHA-256)
// and exact == false. Queries look a value up by the same stand-in and
// keep only the events whose own value is the one asked for, so a
// hostile interaction ID in a body is stored, found, and never fails the
// group of appends it is committed with. The event itself is kept whole in
// its line.
func columnText(s string) (string, bool) {
	if len(s) <= maxKeyText && utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s, true
	}
	sum := sha256.Sum256([]byte(s))
	clean := strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	if len(clean) > 256 {
		clean = strings.ToValidUTF8(clean[:256], "")
	}
	return clean + "\uFFFD#" + hex.EncodeToString(sum[:16]), false
}

// storableID reports whether id can be a key of the events table as it
// is.
func storableID(id string) bool {
	_, exact := columnText(id)
	return exact
}

// appendReq is one Append waiting for its group.
type appendReq struct {
	row   *row
	added bool
	id    string // the ID stored under, for a repeat
	err   error
	done  chan struct{}
}

// Append stores ev unless an event with its ID is stored (a redelivery),
// as [talkdesk.EventStore] says; of several Stores appending the same
// event at once, exactly one reports added. It returns once the event is
// committed. An event without a time of its own identical to one stored
// more than the repeat window earlier is a genuine repeat: it is stored
// under a derived ID, which Append sets on ev.
//
// Appends that wait at the same moment go to the database together, in
// one statement and one commit (group commit). When PostgreSQL cannot be
// reached Append fails at once; if ctx ends first, Append returns its
// error and the event may or may not be stored (a redelivery tells).
func (s *Store) Append(ctx context.Context, ev *talkdesk.Event) (added bool, err error) {
	r, err := newRow(ev)
	if err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	req := &appendReq{row: r, done: make(chan struct{})}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	s.queue = append(s.queue, req)
	if s.active < s.writers {
		s.active++
		go s.commitLoop()
	}
	s.mu.Unlock()
	select {
	case <-req.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if req.err != nil {
		return false, req.err
	}
	if req.id != "" && req.id != ev.ID {
		ev.ID = req.id
	}
	return req.added, nil
}

// commitLoop commits the queued appends, a group at a time, until none is
// left.
func (s *Store) commitLoop() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			s.active--
			s.drained.Broadcast()
			s.mu.Unlock()
			return
		}
		n := min(len(s.queue), s.maxBatch)
		group := slices.Clone(s.queue[:n])
		s.queue = s.queue[n:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		s.mu.Unlock()
		s.commit(group)
	}
}

const insertSQL = `
WITH ins AS (
	INSERT INTO {{s}}.events (id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload, raw, warnings, line)
	SELECT id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload::jsonb, raw::jsonb, warnings::jsonb, line
	FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
		$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[])
		AS t(id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload, raw, warnings, line)
	ORDER BY id
	ON CONFLICT (id) DO NOTHING
	RETURNING id
), notified AS (
	SELECT pg_notify($20, '')
)
SELECT id FROM ins UNION ALL SELECT NULL FROM notified`

// commit stores a group of appends in one statement, sorted by ID so that
// concurrent groups take their rows' locks in one order, and notifies the
// followers of every replica at its commit. The rows it did not insert
// are stored already: redeliveries, or genuine repeats, which are settled
// one by one.
func (s *Store) commit(group []*appendReq) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()

	// One row per ID; the others share its result.
	first := make(map[string]*appendReq, len(group))
	var rows []*row
	for _, req := range group {
		if _, ok := first[req.row.id]; !ok {
			first[req.row.id] = req
			rows = append(rows, req.row)
		}
	}
	var cols columns
	for _, r := range rows {
		cols.add(r)
	}
	inserted := make(map[string]bool, len(rows))
	err := s.insert(ctx, &cols, inserted)
	var rowErrs map[string]error
	if err != nil && len(rows) > 1 && rowError(err) {
		// One row the database refuses fails the whole statement: store
		// the others one by one, so that it fails alone.
		err, rowErrs = nil, map[string]error{}
		for _, r := range rows {
			var one columns
			one.add(r)
			if e := s.insert(ctx, &one, inserted); e != nil {
				rowErrs[r.id] = fmt.Errorf("tdpostgres: append: %w", e)
			}
		}
	}
	if err != nil {
		err = fmt.Errorf("tdpostgres: append: %w", err)
	}
	for _, r := range rows {
		req := first[r.id]
		switch {
		case err != nil:
			req.err = err
		case rowErrs[r.id] != nil:
			req.err = rowErrs[r.id]
		case inserted[r.id]:
			req.added = true
		case !r.ownTime && s.window > 0:
			req.id, req.added, req.err = s.appendRepeat(ctx, r)
		}
	}
	for _, req := range group {
		if f := first[req.row.id]; f != req {
			req.id, req.err = f.id, f.err
		}
		close(req.done)
	}
}

// insert runs the insert statement for cols and records the IDs it
// inserted.
func (s *Store) insert(ctx context.Context, cols *columns, inserted map[string]bool) error {
	res, err := s.pool.Query(ctx, s.insertSQL, cols.args(s.channel)...)
	if err != nil {
		return err
	}
	defer res.Close()
	for res.Next() {
		var id *string
		if err := res.Scan(&id); err != nil {
			return err
		}
		if id != nil {
			inserted[*id] = true
		}
	}
	return res.Err()
}

// rowError reports whether err is the database refusing a value (a data
// exception, a constraint, a limit such as an index row too large), not a
// failure of the database or the connection.
func rowError(err error) bool {
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || len(pg.Code) < 2 {
		return false
	}
	switch pg.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// appendRepeat settles an event without a time of its own whose ID is
// stored: a redelivery of the last of its repeats when received within
// the window of it, else a genuine repeat, inserted under the next
// derived ID (of several replicas inserting it at once, one adds it).
func (s *Store) appendRepeat(ctx context.Context, r *row) (id string, added bool, err error) {
	// The repeats of id are id.2, id.3...: the IDs from "id." to "id/"
	// in the byte order of the key.
	rows, err := s.pool.Query(ctx, s.sql(`SELECT id, received_at FROM {{s}}.events WHERE id = $1 OR (id > $2 AND id < $3)`),
		r.id, r.id+".", r.id+"/")
	if err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	last, n := r.id, 1
	var lastAt time.Time
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return "", false, fmt.Errorf("tdpostgres: append: %w", err)
		}
		k := 1
		if id != r.id {
			var err error
			if k, err = strconv.Atoi(id[len(r.id)+1:]); err != nil || k < 2 || strconv.Itoa(k) != id[len(r.id)+1:] {
				continue
			}
		}
		if k >= n {
			last, n, lastAt = id, k, at
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	if lastAt.IsZero() || r.receivedAt.Sub(lastAt) <= s.window {
		return last, false, nil // (lastAt zero: the event vanished, which a store never does)
	}
	rep := *r
	rep.id = r.id + "." + strconv.Itoa(n+1)
	ev := new(talkdesk.Event)
	if err := json.Unmarshal(r.line, ev); err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	ev.ID = rep.id
	if rep.line, err = encodeLine(ev, r.payloadDoc); err != nil {
		return "", false, err
	}
	var cols columns
	cols.add(&rep)
	res, err := s.pool.Query(ctx, s.insertSQL, cols.args(s.channel)...)
	if err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id *string
		if err := res.Scan(&id); err != nil {
			return "", false, fmt.Errorf("tdpostgres: append: %w", err)
		}
		added = added || id != nil
	}
	if err := res.Err(); err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	return rep.id, added, nil
}

// columns are the arrays of a group's rows, one per column.
type columns struct {
	id, typ, name                              []string
	occurredNs                                 []int64
	occurredAt, receivedAt                     []time.Time
	account, interaction, call, contact, agent []*string
	actorType, actorID, actorName, actorEmail  []*string
	payload, raw, warnings                     []*string
	line                                       [][]byte
}

func (c *columns) add(r *row) {
	c.id, c.typ, c.name = append(c.id, r.id), append(c.typ, r.typ), append(c.name, r.name)
	c.occurredNs = append(c.occurredNs, r.occurredNs)
	c.occurredAt, c.receivedAt = append(c.occurredAt, r.occurredAt), append(c.receivedAt, r.receivedAt)
	c.account, c.interaction, c.call = append(c.account, r.account), append(c.interaction, r.interaction), append(c.call, r.call)
	c.contact, c.agent = append(c.contact, r.contact), append(c.agent, r.agent)
	c.actorType, c.actorID = append(c.actorType, r.actorType), append(c.actorID, r.actorID)
	c.actorName, c.actorEmail = append(c.actorName, r.actorName), append(c.actorEmail, r.actorEmail)
	c.payload, c.raw, c.warnings = append(c.payload, r.payload), append(c.raw, r.raw), append(c.warnings, r.warnings)
	c.line = append(c.line, r.line)
}

func (c *columns) args(channel string) []any {
	return []any{c.id, c.typ, c.name, c.occurredNs, c.occurredAt, c.receivedAt,
		c.account, c.interaction, c.call, c.contact, c.agent,
		c.actorType, c.actorID, c.actorName, c.actorEmail, c.payload, c.raw, c.warnings, c.line, channel}
}

// Query returns one page of the events matching q, in (OccurredAt, ID)
// order, as [talkdesk.EventLog.Query] does: the same limits, errors and
// cursor rules. A cursor names the last event of its page, not a row, so
// it works on any Store of the same schema and stays valid while appends
// go on.
func (s *Store) Query(ctx context.Context, q talkdesk.EventQuery) (*talkdesk.EventPage, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, &talkdesk.ValidationError{Field: "Limit", Reason: "must not be negative"}
	case limit == 0:
		limit = talkdesk.DefaultEventPageSize
	case limit > talkdesk.MaxEventPageSize:
		limit = talkdesk.MaxEventPageSize
	}
	if !q.Until.IsZero() && !q.Since.IsZero() && !q.Until.After(q.Since) {
		return nil, &talkdesk.ValidationError{Field: "Until", Reason: "must be after Since"}
	}
	var b queryBuilder
	if err := b.filters(q); err != nil {
		return nil, err
	}
	fp := fingerprint(q)
	if q.Cursor != "" {
		at, id, err := decodeCursor(q.Cursor, fp)
		if err != nil {
			return nil, err
		}
		b.where("(occurred_ns, id) > (" + b.arg(at) + ", " + b.arg(id) + ")")
	}
	if !q.Since.IsZero() {
		b.where("occurred_ns >= " + b.arg(eventcursor.Nanos(q.Since)))
	}
	if !q.Until.IsZero() {
		b.where("occurred_ns < " + b.arg(eventcursor.Nanos(q.Until)))
	}
	sql := s.sql("SELECT occurred_ns, id, line FROM {{s}}.events" + b.clause() +
		" ORDER BY occurred_ns, id LIMIT " + strconv.Itoa(limit+1))
	rows, err := s.pool.Query(ctx, sql, b.args...)
	if err != nil {
		return nil, fmt.Errorf("tdpostgres: query: %w", err)
	}
	defer rows.Close()
	page := &talkdesk.EventPage{}
	scanned := 0 // rows read: the events of the page, and any a stand-in matched
	var lastAt int64
	var lastID string
	for rows.Next() {
		var at int64
		var id string
		var line []byte
		if err := rows.Scan(&at, &id, &line); err != nil {
			return nil, fmt.Errorf("tdpostgres: query: %w", err)
		}
		if scanned == limit {
			page.NextCursor = encodeCursor(lastAt, lastID, fp)
			break
		}
		scanned++
		ev, err := decodeLine(id, line)
		if err != nil {
			return nil, err
		}
		lastAt, lastID = at, id
		if matches(&q, ev) {
			page.Events = append(page.Events, ev)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tdpostgres: query: %w", err)
	}
	return page, nil
}

func decodeLine(id string, line []byte) (*talkdesk.Event, error) {
	ev := new(talkdesk.Event)
	if err := json.Unmarshal(line, ev); err != nil {
		return nil, fmt.Errorf("tdpostgres: event %s: %w", id, err)
	}
	return ev, nil
}

// queryBuilder gathers the WHERE conditions of a query and their
// arguments.
type queryBuilder struct {
	conds []string
	args  []any
}

func (b *queryBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *queryBuilder) where(cond string) { b.conds = append(b.conds, cond) }

func (b *queryBuilder) clause() string {
	if len(b.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(b.conds, " AND ")
}

// filters adds q's IDs and triggers, the filters of Query and Follow.
// IDs are looked up as columnText stores them: keep only the events that
// matches reports.
func (b *queryBuilder) filters(q talkdesk.EventQuery) error {
	for _, f := range []struct{ col, v string }{{"interaction_id", q.InteractionID}, {"contact_id", q.ContactID}, {"agent_id", q.AgentID}} {
		if f.v != "" {
			v, _ := columnText(f.v)
			b.where(f.col + " = " + b.arg(v))
		}
	}
	if len(q.Types) > 0 {
		types := make([]string, 0, len(q.Types))
		for _, t := range q.Types {
			if !slices.Contains(talkdesk.Triggers(), t) {
				return &talkdesk.ValidationError{Field: "Types", Reason: fmt.Sprintf("%q is not a trigger", t)}
			}
			types = append(types, string(t))
		}
		b.where("type = ANY(" + b.arg(types) + "::text[])")
	}
	return nil
}

// matches reports whether ev has the IDs q asks for, exactly: a stand-in
// of columnText can match events with another value. An event reads back
// with invalid UTF-8 replaced, as encoding/json does: so are q's IDs here.
func matches(q *talkdesk.EventQuery, ev *talkdesk.Event) bool {
	return (q.InteractionID == "" || ev.InteractionID == asJSON(q.InteractionID)) &&
		(q.ContactID == "" || ev.ContactID == asJSON(q.ContactID)) &&
		(q.AgentID == "" || ev.AgentID == asJSON(q.AgentID))
}

// asJSON returns s as it reads back from JSON: invalid UTF-8 replaced by
// U+FFFD, byte by byte, as encoding/json encodes it.
func asJSON(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b, _ := json.Marshal(s)
	var out string
	json.Unmarshal(b, &out)
	return out
}

// fingerprint identifies the filters of q, so that a cursor is only used
// with the query that made it.
func fingerprint(q talkdesk.EventQuery) [8]byte {
	return eventcursor.Fingerprint(q.InteractionID, q.ContactID, q.AgentID, q.Types, q.Since, q.Until)
}

// cursorVersion marks the cursors of this store (the file log's are 1).
const cursorVersion = 'p'

func encodeCursor(at int64, id string, fp [8]byte) string {
	return eventcursor.Encode(cursorVersion, fp, at, id)
}

func decodeCursor(s string, fp [8]byte) (at int64, id string, err error) {
	at, id, err = eventcursor.Decode(s, cursorVersion, fp)
	if err == nil && !storableID(id) {
		err = eventcursor.ErrNotCursor
	}
	if err != nil {
		return 0, "", &talkdesk.ValidationError{Field: "Cursor", Reason: err.Error()}
	}
	return at, id, nil
}

// followScan is how many rows Follow reads at a time, matching or not.
const followScan = 1024

// Follow yields the events matching q's filters in commit order, as
// [talkdesk.EventStore] says, from every replica sharing the schema.
//
// Sequence numbers and timestamps are not commit order: a transaction may
// take a number and commit after another that took a later one. So Follow
// orders by the ID of the transaction that stored each row, then by its
// place in the transaction, and reads only the rows of transactions older
// than every transaction still running (pg_snapshot_xmin of the current
// snapshot): a transaction that commits later always has a larger ID than
// every row read, so none is skipped, and none is read twice. An event
// whose Append returned before another's began comes first. The cost is
// that a transaction left open on the same server (on any of its
// databases: the snapshot's xmin is the server's) holds followers back,
// not appends, until it ends.
//
// Followers wake on NOTIFY from the Append of any replica, and poll every
// second besides. A database error ends the iteration with the error;
// follow again after the last event handled.
func (s *Store) Follow(ctx context.Context, q talkdesk.EventQuery, afterID string) iter.Seq2[*talkdesk.Event, error] {
	return func(yield func(*talkdesk.Event, error) bool) {
		if err := s.usable(); err != nil {
			yield(nil, err)
			return
		}
		var b queryBuilder
		if err := b.filters(q); err != nil {
			yield(nil, err)
			return
		}
		tx, seq := "0", int64(0)
		if afterID != "" && !storableID(afterID) {
			yield(nil, fmt.Errorf("tdpostgres: follow after %q: %w", afterID, talkdesk.ErrNotFound))
			return
		}
		if afterID != "" {
			err := s.pool.QueryRow(ctx, s.sql(`SELECT tx::text, seq FROM {{s}}.events WHERE id = $1`), afterID).Scan(&tx, &seq)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				yield(nil, fmt.Errorf("tdpostgres: follow after %q: %w", afterID, talkdesk.ErrNotFound))
				return
			case err != nil:
				yield(nil, followError(ctx, err))
				return
			}
		}
		// The filters choose which rows bring their line, not which rows
		// are read: the follower's place moves past the rows that do not
		// match too, so that a follower of a rare agent reads each row of
		// a busy log once, not all those since its last match at every
		// wake-up.
		match := "true"
		if len(b.conds) > 0 {
			match = strings.Join(b.conds, " AND ")
		}
		b.conds = nil
		txArg, seqArg := b.arg(""), b.arg(int64(0))
		b.where("(tx, seq) > (" + txArg + "::text::xid8, " + seqArg + ")")
		b.where("tx < pg_snapshot_xmin(pg_current_snapshot())")
		sql := s.sql("SELECT tx::text, seq, id, CASE WHEN " + match + " THEN line END FROM {{s}}.events" + b.clause() +
			" ORDER BY tx, seq LIMIT " + strconv.Itoa(followScan))
		timer := time.NewTimer(s.poll)
		defer timer.Stop()
		for {
			s.mu.Lock()
			wake, closed := s.wake, s.closed
			s.mu.Unlock()
			if closed {
				yield(nil, ErrClosed)
				return
			}
			b.args[len(b.args)-2], b.args[len(b.args)-1] = tx, seq
			evs, lastTx, lastSeq, n, err := s.followRead(ctx, sql, b.args, &q)
			if err != nil {
				yield(nil, followError(ctx, err))
				return
			}
			for _, ev := range evs {
				if !yield(ev, nil) {
					return
				}
			}
			if n > 0 {
				tx, seq = lastTx, lastSeq
			}
			if s.followed != nil {
				s.followed(seq)
			}
			if n == followScan {
				continue
			}
			timer.Reset(s.poll)
			select {
			case <-wake:
			case <-timer.C:
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
		}
	}
}

// followRead reads the next rows of a follower: the events that match q
// (the rows whose line came), the place of the last row read, and how
// many rows it read.
func (s *Store) followRead(ctx context.Context, sql string, args []any, q *talkdesk.EventQuery) (evs []*talkdesk.Event, tx string, seq int64, n int, err error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, "", 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var line []byte
		if err := rows.Scan(&tx, &seq, &id, &line); err != nil {
			return nil, "", 0, 0, err
		}
		n++
		if line == nil {
			continue // not a match
		}
		ev, err := decodeLine(id, line)
		if err != nil {
			return nil, "", 0, 0, err
		}
		if matches(q, ev) {
			evs = append(evs, ev)
		}
	}
	return evs, tx, seq, n, rows.Err()
}

// followError is ctx's own error when ctx ended the read, else err.
func followError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("tdpostgres: follow: %w", err)
}

// LastID returns the ID of the last event Follow can deliver now, "" when
// there is none: Follow after it yields only the events committed from
// then on, as a dashboard that shows what happens next wants. While a
// transaction older than the last appends is open on the server, it is
// the last event before that transaction, so Follow after it also yields
// the few events committed since: none is missed.
func (s *Store) LastID(ctx context.Context) (string, error) {
	if err := s.usable(); err != nil {
		return "", err
	}
	var id string
	err := s.pool.QueryRow(ctx, s.sql(`SELECT id FROM {{s}}.events WHERE tx < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY tx DESC, seq DESC LIMIT 1`)).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("tdpostgres: last ID: %w", err)
	}
	return id, nil
}

// MarkHandled records that the handlers of the stored event id
// succeeded, for every replica ([talkdesk.HandledMarker]).
func (s *Store) MarkHandled(ctx context.Context, id string) error {
	if err := s.usable(); err != nil {
		return err
	}
	if !storableID(id) {
		return nil // no such event can be stored
	}
	if _, err := s.pool.Exec(ctx, s.sql(`INSERT INTO {{s}}.handled (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`), id); err != nil {
		return fmt.Errorf("tdpostgres: mark handled: %w", err)
	}
	return nil
}

// Handled reports whether MarkHandled was called for id, by any replica.
func (s *Store) Handled(ctx context.Context, id string) (bool, error) {
	if err := s.usable(); err != nil {
		return false, err
	}
	if !storableID(id) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {{s}}.handled WHERE id = $1)`), id).Scan(&ok); err != nil {
		return false, fmt.Errorf("tdpostgres: handled: %w", err)
	}
	return ok, nil
}
