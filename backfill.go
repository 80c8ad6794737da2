package talkdesk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"iter"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Event returns the conversation-log event of the reported call r, of
// type [EventReportedCall], received at receivedAt: its ID is made from
// the call's ID alone, so importing the same call twice stores it once;
// it occurs when the call ended; its InteractionID and CallID are those
// the webhook events of the same call carry (the report's interaction_id,
// or its call_id, which is the interaction's ID for a voice call; its
// callsid, or call_id), so a query by interaction gives the call's
// webhook events and its report row together. Its payload is r and its
// Raw the JSON of r. A record with no call ID fails with [ErrInvalid].
func (r *CallRecord) Event(receivedAt time.Time) (*Event, error) {
	key := r.CallID
	if key == "" {
		key = r.InteractionID
	}
	if key == "" {
		key = r.CallSID
	}
	if key == "" {
		return nil, invalid("CallRecord", "has no call_id, interaction_id or callsid")
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, invalid("CallRecord", err.Error())
	}
	id := "reported-call-" + key
	if len(id) > 200 || !utf8.ValidString(id) || !plainJSONString(id) {
		sum := sha256.Sum256([]byte(key))
		id = "reported-call-" + hex.EncodeToString(sum[:16])
	}
	ev := &Event{
		ID: id, Type: EventReportedCall, ReceivedAt: receivedAt.UTC(), OccurredAt: r.EndAt,
		InteractionID: r.InteractionID, CallID: r.CallSID, AgentID: r.UserID,
		Actor: Actor{Type: ActorSystem}, Payload: r, Raw: raw,
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = r.StartAt
	}
	if ev.OccurredAt.IsZero() {
		ev.OccurredAt = ev.ReceivedAt
	}
	if ev.InteractionID == "" {
		ev.InteractionID = r.CallID
	}
	if ev.CallID == "" {
		ev.CallID = r.CallID
	}
	if r.UserID != "" {
		ev.Actor = Actor{Type: ActorAgent, ID: r.UserID, Name: r.UserName, Email: r.UserEmail}
	}
	return ev, nil
}

// ImportResult counts what [ImportCalls] did.
type ImportResult struct {
	Read    int // records read
	Added   int // events stored
	Present int // events already stored: imported before
}

// ImportCalls stores in s an event of type [EventReportedCall] for each
// call of records ([CallRecord.Event]), by workers appends at once (64
// when workers is 0), so that a store's group commit takes them in groups;
// memory does not grow with the records. Importing the same calls again
// adds nothing. It stops at the first error, of the records or of the
// store, and returns what it did until then.
func ImportCalls(ctx context.Context, s EventStore, records iter.Seq2[*CallRecord, error], workers int) (ImportResult, error) {
	if s == nil {
		return ImportResult{}, invalid("store", "must not be nil")
	}
	if workers <= 0 {
		workers = 64
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var read, added, present atomic.Int64
	// The reading of the records is one goroutine's; making the events
	// (encoding each record) and appending them, the workers'.
	events := make(chan *CallRecord, workers)
	now := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for rec := range events {
				ev, err := rec.Event(now)
				if err != nil {
					cancel(err)
					continue // drain
				}
				ok, err := s.Append(ctx, ev)
				if err != nil {
					cancel(err)
					continue // drain
				}
				if ok {
					added.Add(1)
				} else {
					present.Add(1)
				}
			}
		})
	}
	var readErr error
	for rec, err := range records {
		if err != nil {
			readErr = err
			break
		}
		read.Add(1)
		select {
		case events <- rec:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(events)
	wg.Wait()
	res := ImportResult{Read: int(read.Load()), Added: int(added.Load()), Present: int(present.Load())}
	if readErr != nil {
		return res, readErr
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return res, err
	}
	return res, ctx.Err()
}

// CallReconciliation is what [ReconcileCalls] found.
type CallReconciliation struct {
	// Missing are the calls of the report that the log has no webhook
	// event of (the feed lost them: the receiver was down, or not yet
	// subscribed) and that were not imported yet. Import them with
	// ImportCalls.
	Missing []*CallRecord
	// Imported counts the calls of the report the log has only as
	// imported events.
	Imported int
	// Matched counts the calls of the report the log has a webhook event
	// of.
	Matched int
	// Unreported are the call endings of the log (inboundCallEnds and
	// outboundCallEnds) in the range that no call of the report matches.
	Unreported []*Event
}

// ReconcileCalls compares the calls of a report (records, such as
// [Client.Calls] gives for [from, to)) with the call endings the log s
// holds for [from, to): a call matches an event when its call_id,
// interaction_id or callsid is the event's InteractionID or CallID. The
// log's events of the range are held in memory while the records stream.
func ReconcileCalls(ctx context.Context, s EventStore, records iter.Seq2[*CallRecord, error], from, to time.Time) (*CallReconciliation, error) {
	if s == nil {
		return nil, invalid("store", "must not be nil")
	}
	type logged struct {
		ev      *Event
		matched bool
	}
	byKey := map[string]*logged{}
	imported := map[string]bool{}
	var ends []*logged
	q := EventQuery{Types: []Trigger{TriggerInboundCallEnds, TriggerOutboundCallEnds, EventReportedCall}, Since: from, Until: to, Limit: MaxEventPageSize}
	for ev, err := range Events(ctx, s, q) {
		if err != nil {
			return nil, err
		}
		if ev.Type == EventReportedCall {
			for _, k := range []string{ev.InteractionID, ev.CallID} {
				if k != "" {
					imported[k] = true
				}
			}
			continue
		}
		l := &logged{ev: ev}
		ends = append(ends, l)
		for _, k := range []string{ev.InteractionID, ev.CallID} {
			if k != "" {
				byKey[k] = l
			}
		}
	}
	out := &CallReconciliation{}
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		keys := []string{rec.CallID, rec.InteractionID, rec.CallSID}
		var hit *logged
		wasImported := false
		for _, k := range keys {
			if k == "" {
				continue
			}
			if l := byKey[k]; l != nil && hit == nil {
				hit = l
			}
			wasImported = wasImported || imported[k]
		}
		switch {
		case hit != nil:
			hit.matched = true
			out.Matched++
		case wasImported:
			out.Imported++
		default:
			out.Missing = append(out.Missing, rec)
		}
	}
	for _, l := range ends {
		if !l.matched {
			out.Unreported = append(out.Unreported, l.ev)
		}
	}
	return out, nil
}
