package tdpostgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/talkdeskgo/talkdesk"
)

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
