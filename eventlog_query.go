package talkdesk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/talkdeskgo/talkdesk/eventcursor"
)

// EventQuery selects events of an [EventLog]. Empty fields do not filter.
type EventQuery struct {
	InteractionID, ContactID, AgentID string
	Types                             []Trigger
	Since, Until                      time.Time // Since inclusive, Until exclusive, on OccurredAt
	Cursor                            string    // NextCursor of the previous page
	Limit                             int       // 0 = 100; at most 1000
}

// EventPage is one page of a query's events, in (OccurredAt, ID) order.
type EventPage struct {
	Events     []*Event
	NextCursor string // "" on the last page
}

// Page sizes of Query.
const (
	DefaultEventPageSize = 100
	MaxEventPageSize     = 1000
)

// Query returns the events that match q, in (OccurredAt, ID) order, at most
// q.Limit of them (100 by default; more than 1000 is 1000). Pass the page's
// NextCursor as q.Cursor, with the same filters, for the next page. A
// cursor stays valid while events are appended: a page boundary never
// skips or repeats an event that was stored when the query began; events
// appended later show up on a later page if they sort after the cursor.
//
// A query with InteractionID, ContactID or AgentID reads only that index
// (the smallest one given), so its cost is in proportion to the events of
// that interaction, contact or agent, not to the size of the log. A bad
// cursor, limit, trigger or time range fails with [ErrInvalid].
func (l *EventLog) Query(ctx context.Context, q EventQuery) (*EventPage, error) {
	entries, next, err := l.find(ctx, q)
	if err != nil {
		return nil, err
	}
	evs, err := l.readEvents(entries)
	if err != nil {
		return nil, err
	}
	return &EventPage{Events: evs, NextCursor: next}, nil
}

// Events returns the events that match q, in (OccurredAt, ID) order, page
// after page, as Query would give them. Iteration stops at the first
// error, which it yields with a nil event. It is [Events] for this log.
func (l *EventLog) Events(ctx context.Context, q EventQuery) iter.Seq2[*Event, error] {
	return Events(ctx, l, q)
}

// Export writes the events that match q to w as JSON Lines, one event per
// line as stored, in (OccurredAt, ID) order; q.Limit sets the page size of
// the reads, not how many are written: all matching events are.
func (l *EventLog) Export(ctx context.Context, w io.Writer, q EventQuery) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		entries, next, err := l.find(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range entries {
			line, err := l.readLine(e)
			if err != nil {
				return err
			}
			bw.Write(line)
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		if next == "" {
			return bw.Flush()
		}
		q.Cursor = next
	}
}

// readLine returns the stored line of e.
func (l *EventLog) readLine(e logEntry) ([]byte, error) {
	if l.f == nil {
		l.mu.RLock()
		line, err := l.readLineLocked(e)
		l.mu.RUnlock()
		l.yieldToAppends()
		return line, err
	}
	return l.readLineLocked(e)
}

// readLineLocked is readLine for a caller that holds mu.
func (l *EventLog) readLineLocked(e logEntry) ([]byte, error) {
	return l.readLineInto(e, nil)
}

// readLineInto is readLine into buf's space, for a file's line; a caller
// of a log in memory holds mu.
func (l *EventLog) readLineInto(e logEntry, buf []byte) ([]byte, error) {
	if l.f == nil {
		return l.mem[e.off : e.off+int64(e.n)], nil
	}
	buf = slices.Grow(buf[:0], int(e.n))[:e.n]
	if _, err := l.f.ReadAt(buf, e.off); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil, ErrEventLogClosed
		}
		return nil, fmt.Errorf("talkdesk: reading event log %s: %w", l.path, err)
	}
	return buf, nil
}

// cursorKey is the position after which a page starts.
type cursorKey struct {
	at int64
	id string
}

// findScan is how many entries find reads under one hold of the read
// lock: an append waits for at most that much of a query's scan, however
// much of the log the query reads.
var findScan = 4096 // a variable for the tests

// find returns the entries of the page q asks for, and the next cursor.
// It walks the smallest index that holds every match, findScan entries
// at a time under the read lock, and finds its place again by the last
// entry it read when it takes the lock back.
func (l *EventLog) find(ctx context.Context, q EventQuery) ([]logEntry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, "", invalid("Limit", "must not be negative")
	case limit == 0:
		limit = DefaultEventPageSize
	case limit > MaxEventPageSize:
		limit = MaxEventPageSize
	}
	if !q.Until.IsZero() && !q.Since.IsZero() && !q.Until.After(q.Since) {
		return nil, "", invalid("Until", "must be after Since")
	}
	f, err := q.filter()
	if err != nil {
		return nil, "", err
	}
	fp := q.fingerprint()
	var after *cursorKey // the last entry read: the walk goes on after it
	if q.Cursor != "" {
		at, id, err := eventcursor.Decode(q.Cursor, cursorVersion, fp)
		if err != nil {
			return nil, "", invalid("Cursor", err.Error())
		}
		after = &cursorKey{at, id}
	}
	var sinceNs, untilNs int64 = -1 << 63, 1<<63 - 1
	if !q.Since.IsZero() {
		sinceNs = eventcursor.Nanos(q.Since)
	}
	if !q.Until.IsZero() {
		untilNs = eventcursor.Nanos(q.Until)
	}
	var out []logEntry
	for {
		page, next, done, err := l.findSome(&q, &f, &after, sinceNs, untilNs, limit, out, fp)
		l.yieldToAppends()
		if done || err != nil {
			return page, next, err
		}
		out = page
		if err := ctx.Err(); err != nil {
			return nil, "", err
		}
	}
}

// findSome goes on with find's walk under the read lock, for at most
// findScan entries after *after, adding the matches to out. done is true
// when the page is complete, with next its cursor; otherwise *after is
// the last entry read.
func (l *EventLog) findSome(q *EventQuery, f *eventFilter, after **cursorKey, sinceNs, untilNs int64, limit int, out []logEntry, fp [8]byte) (page []logEntry, next string, done bool, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, "", true, ErrEventLogClosed
	}
	w, ok := l.walk(q, f)
	if !ok {
		return out, "", true, nil // no event has this ID
	}
	if k := *after; k != nil {
		w.seek(func(i uint32) bool { return !l.before(i, k.at, k.id) && !l.is(i, k) })
	} else if sinceNs > -1<<63 {
		w.seek(func(i uint32) bool { return l.entries[i].at >= sinceNs })
	}
	var last *logEntry
	for range findScan {
		i, ok := w.next()
		if !ok {
			return out, "", true, nil
		}
		e := &l.entries[i]
		if e.at >= untilNs {
			return out, "", true, nil
		}
		last = e
		if e.at < sinceNs || !l.match(f, e) {
			continue
		}
		if len(out) == limit {
			end := out[len(out)-1]
			return out, eventcursor.Encode(cursorVersion, fp, end.at, string(l.id(&end))), true, nil
		}
		out = append(out, *e)
	}
	*after = &cursorKey{last.at, string(l.id(last))}
	return out, "", false, nil
}

// entryWalk walks entries in (OccurredAt, ID) order: those of one index,
// or of several merged (the types of a query).
type entryWalk struct {
	l   *EventLog
	idx []*orderedIndex
	pos []position
}

// walk returns the walk of the smallest index that holds every event
// matching q: of its interaction, contact or agent, of its types, or of
// the whole log; ok is false when no stored event has q's interaction,
// contact or agent. mu is held.
func (l *EventLog) walk(q *EventQuery, f *eventFilter) (w entryWalk, ok bool) {
	w = entryWalk{l: l, idx: []*orderedIndex{&l.byTime}}
	indexed := false
	if q.InteractionID != "" {
		first, ok := l.byInteraction.get(q.InteractionID, l.entries)
		if !ok {
			return w, false
		}
		w.idx, indexed = []*orderedIndex{keyEntries{one: first, many: l.interactions[first]}.index()}, true
	}
	if !l.resolve(f) {
		return w, false
	}
	for _, ix := range []struct {
		m   map[uint32]keyEntries
		key uint32
	}{{l.byContact, f.contactNum}, {l.byAgent, f.agentNum}} {
		if ix.key != 0 {
			k, ok := ix.m[ix.key]
			if !ok {
				return w, false
			}
			if cand := k.index(); !indexed || cand.n < w.idx[0].n {
				w.idx, indexed = []*orderedIndex{cand}, true
			}
		}
	}
	if f.types != 0 {
		var byType []*orderedIndex
		n := 0
		for t := range l.byType {
			if f.types&(1<<t) != 0 {
				byType = append(byType, &l.byType[t])
				n += l.byType[t].n
			}
		}
		if n < w.idx[0].n {
			w.idx = byType
		}
	}
	w.pos = make([]position, len(w.idx))
	return w, true
}

// seek moves the walk to the first entry for which after is true (see
// orderedIndex.seek).
func (w *entryWalk) seek(after func(i uint32) bool) {
	for k, x := range w.idx {
		w.pos[k] = x.seek(after)
	}
}

// next returns the entry at the walk's place and moves past it; ok is
// false at the end.
func (w *entryWalk) next() (i uint32, ok bool) {
	best := -1
	for k, x := range w.idx {
		if j, _, ok := x.at(w.pos[k]); ok && (best < 0 || w.l.less(j, i)) {
			best, i = k, j
		}
	}
	if best < 0 {
		return 0, false
	}
	_, w.pos[best], _ = w.idx[best].at(w.pos[best])
	return i, true
}

// eventFilter is the part of a query every stored event is matched
// against: the IDs and the triggers.
type eventFilter struct {
	interaction, contact, agent string
	contactNum, agentNum        uint32 // the numbers of contact and agent, once resolved
	types                       uint16 // a bit per trigger index; 0: every trigger
}

// resolve gives f the numbers of its contact and agent IDs, and reports
// false while one of them is the ID of no stored event. mu is held.
func (l *EventLog) resolve(f *eventFilter) bool {
	for _, k := range []struct {
		id  string
		num *uint32
	}{{f.contact, &f.contactNum}, {f.agent, &f.agentNum}} {
		if k.id == "" || *k.num != 0 {
			continue
		}
		n, ok := l.keyNums[k.id]
		if !ok {
			return false
		}
		*k.num = n
	}
	return true
}

// filter returns q's filter, or an error for a trigger that is not one.
func (q *EventQuery) filter() (eventFilter, error) {
	f := eventFilter{interaction: q.InteractionID, contact: q.ContactID, agent: q.AgentID}
	for _, t := range q.Types {
		i := triggerIndex(t)
		if i == 0 {
			return f, invalid("Types", fmt.Sprintf("%q is not a trigger nor EventReportedCall", t))
		}
		f.types |= 1 << i
	}
	return f, nil
}

// match reports whether e passes f. mu is held.
func (l *EventLog) match(f *eventFilter, e *logEntry) bool {
	return (f.types == 0 || f.types&(1<<e.typ) != 0) &&
		(f.interaction == "" || string(l.interaction(e)) == f.interaction) &&
		(f.contact == "" || e.contact == f.contactNum) &&
		(f.agent == "" || e.agent == f.agentNum)
}

// is reports whether entry i is the cursor's own event.
func (l *EventLog) is(i uint32, k *cursorKey) bool {
	e := &l.entries[i]
	return e.at == k.at && string(l.id(e)) == k.id
}

// fingerprint identifies the filters of q, so that a cursor is only used
// with the query that made it.
func (q *EventQuery) fingerprint() [8]byte {
	return eventcursor.Fingerprint(q.InteractionID, q.ContactID, q.AgentID, q.Types, q.Since, q.Until)
}

// cursorVersion marks the cursors of an EventLog.
const cursorVersion = 1
