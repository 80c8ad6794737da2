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
// Sequence numbers, transaction IDs and timestamps are not commit order: a
// transaction may take one and commit after another that took a later
// one. So every row has a position in the log, taken by the statement
// that inserts it from a counter whose row that statement keeps locked
// until its transaction ends: the next append waits for the commit, so
// positions are given in commit order, and a reader that sees a position
// sees every position before it. Follow reads by position, after afterID's
// (whoever handed afterID out: Append, Query, an export, Follow itself),
// so it never skips an event committed after afterID's, and never repeats
// one. No other transaction on the server holds a follower back.
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
		pos := int64(0)
		if afterID != "" && !storableID(afterID) {
			yield(nil, fmt.Errorf("tdpostgres: follow after %q: %w", afterID, talkdesk.ErrNotFound))
			return
		}
		if afterID != "" {
			err := s.pool.QueryRow(ctx, s.sql(`SELECT pos FROM {{s}}.events WHERE id = $1`), afterID).Scan(&pos)
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
		b.where("pos > " + b.arg(int64(0)))
		sql := s.sql("SELECT pos, id, CASE WHEN " + match + " THEN line END FROM {{s}}.events" + b.clause() +
			" ORDER BY pos LIMIT " + strconv.Itoa(followScan))
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
			b.args[len(b.args)-1] = pos
			evs, last, n, err := s.followRead(ctx, sql, b.args, &q)
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
				pos = last
			}
			if s.followed != nil {
				s.followed(pos)
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
// (the rows whose line came), the position of the last row read, and how
// many rows it read.
func (s *Store) followRead(ctx context.Context, sql string, args []any, q *talkdesk.EventQuery) (evs []*talkdesk.Event, pos int64, n int, err error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var line []byte
		if err := rows.Scan(&pos, &id, &line); err != nil {
			return nil, 0, 0, err
		}
		n++
		if line == nil {
			continue // not a match
		}
		ev, err := decodeLine(id, line)
		if err != nil {
			return nil, 0, 0, err
		}
		if matches(q, ev) {
			evs = append(evs, ev)
		}
	}
	return evs, pos, n, rows.Err()
}

// followError is ctx's own error when ctx ended the read, else err.
func followError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("tdpostgres: follow: %w", err)
}

// LastID returns the ID of the last event committed, "" when there is
// none: Follow after it yields only the events committed from then on, as
// a dashboard that shows what happens next wants.
func (s *Store) LastID(ctx context.Context) (string, error) {
	if err := s.usable(); err != nil {
		return "", err
	}
	var id string
	err := s.pool.QueryRow(ctx, s.sql(`SELECT id FROM {{s}}.events ORDER BY pos DESC LIMIT 1`)).Scan(&id)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("tdpostgres: last ID: %w", err)
	}
	return id, nil
}
