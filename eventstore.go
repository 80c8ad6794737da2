package talkdesk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
)

// EventStore keeps the conversation log: every event of the account, in one
// schema, queryable by interaction, contact, agent, trigger and time, and
// followed in real time. [*EventLog] keeps it in a file on this machine (or
// in memory); the module github.com/talkdeskgo/talkdesk/postgres keeps it
// in PostgreSQL, shared by replicas. The package eventstoretest checks that
// a store keeps every promise below.
//
// Append stores ev and reports added == false when an event with its ID is
// already stored (a redelivery); it returns once the event is committed.
// Of identical events without a time of their own (see
// [Event.HasOwnTime]), one is a redelivery of the last stored while that
// one was not handled ([HandledMarker]), however late it comes; once it
// was handled, one received more than the store's repeat window after it
// is a genuine repeat: added, under the first's ID with ".2", ".3"...
// appended, which Append sets on ev (see [WithRepeatWindow]). A store that
// is not a HandledMarker treats every such event as a redelivery.
// An event a store cannot hold or read back fails with [ErrInvalid].
// Query returns one page of the events matching q, in (OccurredAt, ID)
// order, with a cursor for the next that stays valid while appends go on.
//
// Follow yields the events matching q's filters (InteractionID, ContactID,
// AgentID, Types; Since, Until, Cursor and Limit are ignored) in commit
// order: first those committed after the event afterID (all of them when
// afterID is ""; an error matching [ErrNotFound] when afterID is not
// stored), then each new one as it is committed, until ctx is done, when
// it yields ctx's error and ends. A follower that resumes after the last
// event it handled misses none and repeats none. A slow follower reads from
// the store: it never holds up appends and never loses events.
type EventStore interface {
	Append(ctx context.Context, ev *Event) (added bool, err error)
	Query(ctx context.Context, q EventQuery) (*EventPage, error)
	Follow(ctx context.Context, q EventQuery, afterID string) iter.Seq2[*Event, error]
}

// HandledMarker is implemented by event stores that remember which events
// the handlers of a [WebhookHandler] have handled, so that a redelivery
// runs them again only while they have not succeeded: across restarts of
// the process, and for a store shared by replicas, across replicas.
// [*EventLog] implements it.
type HandledMarker interface {
	// MarkHandled records that the handlers of the stored event id
	// succeeded.
	MarkHandled(ctx context.Context, id string) error
	// Handled reports whether MarkHandled was called for id.
	Handled(ctx context.Context, id string) (bool, error)
}

// unwrapStore returns the store s wraps, through every Unwrap() EventStore,
// at most 100 deep (so that a wrapper unwrapping to itself ends).
func unwrapStore(s EventStore) EventStore {
	for range 100 {
		u, ok := s.(interface{ Unwrap() EventStore })
		if !ok {
			return s
		}
		inner := u.Unwrap()
		if inner == nil {
			return s
		}
		s = inner
	}
	return s
}

// LastEventID returns the ID of the last event committed to s, "" when it
// holds none: following s after it yields only the events committed from
// then on, as a dashboard that shows what happens next wants. It asks the
// store s is, or wraps through Unwrap() EventStore (as [Export] looks for
// an [*EventLog]): [EventLog.LastID], or the PostgreSQL store's LastID. A
// store without LastID gives an error matching [errors.ErrUnsupported].
func LastEventID(ctx context.Context, s EventStore) (string, error) {
	inner := unwrapStore(s)
	if l, ok := inner.(interface {
		LastID(context.Context) (string, error)
	}); ok {
		return l.LastID(ctx)
	}
	return "", fmt.Errorf("talkdesk: the store %T has no LastID: %w", inner, errors.ErrUnsupported)
}

// Events returns the events of s that match q, in (OccurredAt, ID) order,
// page after page, as Query gives them. Iteration stops at the first error,
// which it yields with a nil event.
func Events(ctx context.Context, s EventStore, q EventQuery) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for {
			page, err := s.Query(ctx, q)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, ev := range page.Events {
				if !yield(ev, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			q.Cursor = page.NextCursor
		}
	}
}

// Export writes the events of s that match q to w as JSON Lines, in
// (OccurredAt, ID) order, one event per line in the form an [EventLog]
// stores it (the JSON encoding of [Event] with its payload warnings). q.Limit
// sets the page size of the reads, not how many are written: all matching
// events are, with memory that does not grow with their number.
//
// From an [EventLog], or a store that wraps one and reads exactly its
// events (one that measures or traces its calls) and says so with a method
// Unwrap() EventStore, the stored lines are written as they are, without
// decoding them; from any other store, each event is read and encoded. A
// wrapper that filters or changes what it reads must not have Unwrap.
func Export(ctx context.Context, s EventStore, w io.Writer, q EventQuery) error {
	if l, ok := unwrapStore(s).(*EventLog); ok {
		return l.Export(ctx, w, q) // the stored lines as they are
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	for ev, err := range Events(ctx, s, q) {
		if err != nil {
			return err
		}
		line, err := encodeLogLine(ev)
		if err != nil {
			return err
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}
