package tdpostgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/talkdeskgo/talkdesk"
)

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

// insertSQL inserts a group of rows in one statement. It first takes the
// group's positions in the log, which keeps log_position's row locked
// until the statement's transaction ends: positions are given in commit
// order (see Store.Follow).
const insertSQL = `
WITH taken AS (
	UPDATE {{s}}.log_position SET n = n + $21 RETURNING n - $21 AS base
), ins AS (
	INSERT INTO {{s}}.events (id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload, raw, warnings, line, pos)
	SELECT id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload::jsonb, raw::jsonb, warnings::jsonb, line,
		(SELECT base FROM taken) + t.ord
	FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[], $6::timestamptz[],
		$7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
		$12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::bytea[])
		WITH ORDINALITY AS t(id, type, event_name, occurred_ns, occurred_at, received_at,
		account_id, interaction_id, call_id, contact_id, agent_id,
		actor_type, actor_id, actor_name, actor_email, payload, raw, warnings, line, ord)
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
	if err != nil && rowError(err) {
		// One row the database refuses fails the whole statement: store
		// the others one by one, so that it fails alone.
		err, rowErrs = nil, map[string]error{}
		for _, r := range rows {
			if e := s.insertAlone(ctx, r, inserted); e != nil {
				rowErrs[r.id] = e
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

// insertAlone stores r in a statement of its own. A value of its jsonb
// columns the database refuses (a data exception jsonbHolds did not
// foresee) is left out, as for a body jsonb cannot hold: the event is
// whole in its line. Any other refusal fails the row, with an error that
// names the event.
func (s *Store) insertAlone(ctx context.Context, r *row, inserted map[string]bool) error {
	var one columns
	one.add(r)
	err := s.insert(ctx, &one, inserted)
	var pg *pgconn.PgError
	if err != nil && errors.As(err, &pg) && strings.HasPrefix(pg.Code, "22") && (r.payload != nil || r.raw != nil || r.warnings != nil) {
		bare := *r
		bare.payload, bare.raw, bare.warnings = nil, nil, nil
		one = columns{}
		one.add(&bare)
		err = s.insert(ctx, &one, inserted)
	}
	if err != nil {
		return fmt.Errorf("tdpostgres: append: event %s refused by the database: %w", r.id, err)
	}
	return nil
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
// stored: a redelivery of the last of its repeats while that one is not
// handled (however late it comes) or when received within the window of
// it, else a genuine repeat, inserted under the next derived ID (of
// several replicas inserting it at once, one adds it).
func (s *Store) appendRepeat(ctx context.Context, r *row) (id string, added bool, err error) {
	// The repeats of id are id.2, id.3...: the IDs from "id." to "id/"
	// in the byte order of the key.
	rows, err := s.pool.Query(ctx, s.sql(`SELECT e.id, e.received_at, h.id IS NOT NULL FROM {{s}}.events e
		LEFT JOIN {{s}}.handled h ON h.id = e.id WHERE e.id = $1 OR (e.id > $2 AND e.id < $3)`),
		r.id, r.id+".", r.id+"/")
	if err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	last, n := r.id, 1
	var lastAt time.Time
	var lastHandled bool
	for rows.Next() {
		var id string
		var at time.Time
		var handled bool
		if err := rows.Scan(&id, &at, &handled); err != nil {
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
			last, n, lastAt, lastHandled = id, k, at, handled
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("tdpostgres: append: %w", err)
	}
	if !lastHandled || lastAt.IsZero() || r.receivedAt.Sub(lastAt) <= s.window {
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
		c.actorType, c.actorID, c.actorName, c.actorEmail, c.payload, c.raw, c.warnings, c.line, channel, int64(len(c.id))}
}
