package talkdesk

import (
	"context"
	"fmt"
	"iter"
)

// Follow yields the events of the log that match q's filters in commit
// order (the order of the file): those committed after afterID, then each
// new one as its batch is committed, woken by the commit itself, until ctx
// is done, when it yields ctx's error. See [EventStore] for the promises;
// afterID not stored gives an error matching [ErrNotFound], a closed log
// [ErrEventLogClosed]. A follower reads the lines from the file, scanning
// at most 4096 entries (and taking at most 256) at a time under the read
// lock, and spawns no goroutine.
func (l *EventLog) Follow(ctx context.Context, q EventQuery, afterID string) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		f, err := q.filter()
		if err != nil {
			yield(nil, err)
			return
		}
		l.mu.RLock()
		next, closed := 0, l.closed
		if afterID != "" {
			i, ok := l.byID.get(afterID, l.entries)
			if !ok && !closed {
				l.mu.RUnlock()
				yield(nil, fmt.Errorf("talkdesk: event log: event %q: %w", afterID, ErrNotFound))
				return
			}
			next = int(i) + 1
		}
		l.mu.RUnlock()
		var batch []logEntry
		for {
			if closed {
				yield(nil, ErrEventLogClosed)
				return
			}
			l.mu.RLock()
			batch = batch[:0]
			// At most 4096 entries a hold of the read lock, however few
			// match: a follower with a rare filter does not hold up the
			// commits while it scans a large log.
			stop := min(len(l.entries), next+4096)
			if !l.resolve(&f) {
				next = stop // no stored event has its contact or agent yet
			}
			for ; next < stop && len(batch) < 256; next++ {
				if e := &l.entries[next]; l.match(&f, e) {
					batch = append(batch, *e)
				}
			}
			caughtUp, wake := next == len(l.entries), l.wake
			closed = l.closed
			l.mu.RUnlock()
			l.yieldToAppends()
			for _, e := range batch {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				ev, err := l.readEvent(e)
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield(ev, nil) {
					return
				}
			}
			if !caughtUp || closed {
				continue
			}
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-wake:
			}
		}
	}
}
