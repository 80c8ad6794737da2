package tdpostgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventcursor"
)

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
			if !slices.Contains(talkdesk.EventTypes(), t) {
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
