package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// logBatch is a group of appends written with one write and one fsync.
type logBatch struct {
	buf     []byte
	entries []batchEntry
	done    bool
	err     error
}

// batchEntry is an event of a batch: its entry, with the offset relative
// to the batch, and the IDs insert puts in the keys.
type batchEntry struct {
	logEntry
	id, interaction string
}

// Append stores ev and returns once it is on disk (written and synced),
// reporting added == false when an event with the same ID is already
// stored (a redelivery), in which case nothing is written. Concurrent
// appends are committed together: one write and one fsync for all the
// events waiting at that moment.
//
// ev must have an ID and a Type that is one of [Triggers], or Append fails
// with [ErrInvalid]; times are stored in UTC. ctx is checked before the
// event is queued; once queued, Append waits for its batch. After a failed
// write or sync, every further Append fails: reopen the log.
func (l *EventLog) Append(ctx context.Context, ev *Event) (added bool, err error) {
	if ev == nil || ev.ID == "" {
		return false, invalid("event", "must have an ID")
	}
	line, err := checkEvent(ctx, ev)
	if err != nil {
		return false, err
	}

	l.lockForAppend()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return false, ErrEventLogClosed
	case l.broken != nil:
		return false, l.broken
	}
	stored := false // ev is a redelivery of an event stored or on its way
	if _, ok := l.byID.get(ev.ID, l.entries); ok {
		id, repeat, err := l.repeatID(ev)
		if err != nil {
			return false, err
		}
		if id != ev.ID {
			ev.ID = id // the repeat it is a redelivery of, or its own as a repeat
		}
		if stored = !repeat; repeat {
			if line, err = encodeLogLine(ev); err != nil {
				return false, err
			}
		}
	}
	// The event ev names may be in a batch on its way: "already stored"
	// only once it is, whichever way ev was found to name it.
	if b, ok := l.queued[ev.ID]; ok {
		for !b.done {
			l.cond.Wait()
		}
		return false, b.err
	}
	if stored {
		return false, nil
	}
	b := l.pending
	if b == nil {
		b = &logBatch{}
		l.pending = b
	}
	b.entries = append(b.entries, batchEntry{
		logEntry: logEntry{
			off: int64(len(b.buf)), n: uint32(len(line)), typ: triggerIndex(ev.Type), at: ev.OccurredAt.UnixNano(),
			contact: l.keyNum(ev.ContactID), agent: l.keyNum(ev.AgentID),
		},
		id: ev.ID, interaction: ev.InteractionID,
	})
	b.buf = append(b.buf, line...)
	b.buf = append(b.buf, '\n')
	l.queued[ev.ID] = b
	for !b.done {
		if !l.flushing && l.pending == b {
			l.commit(b)
			break
		}
		l.cond.Wait()
	}
	return b.err == nil, b.err
}

// repeatID tells, for ev whose ID is stored, whether it is a genuine
// repeat of the last event stored with the same body, and returns the ID
// it is stored under as one, or else the ID of the event it is a
// redelivery of. It is a genuine repeat only when that event was handled
// (see [EventLog.MarkHandled]) and ev was received more than the repeat
// window after it: a copy never handled is redelivered until it is,
// however late. mu is held.
func (l *EventLog) repeatID(ev *Event) (id string, repeat bool, err error) {
	if l.window <= 0 || ev.HasOwnTime() {
		return ev.ID, false, nil
	}
	last, n := ev.ID, 1
	if k := l.repeats[ev.ID]; k > 1 {
		last, n = ev.ID+"."+strconv.Itoa(k), k
	}
	next := ev.ID + "." + strconv.Itoa(n+1)
	if _, queued := l.queued[next]; queued {
		return next, false, nil // a repeat on its way, not handled yet: this is its redelivery
	}
	li, _ := l.byID.get(last, l.entries)
	if !l.entries[li].handled {
		return last, false, nil
	}
	line, err := l.readLineLocked(l.entries[li])
	if err != nil {
		return "", false, err
	}
	var stored struct {
		ReceivedAt time.Time `json:"received_at"`
	}
	if err := json.Unmarshal(line, &stored); err != nil {
		return "", false, fmt.Errorf("talkdesk: event log %s: event %s: %w", l.path, last, err)
	}
	if ev.ReceivedAt.Sub(stored.ReceivedAt) <= l.window {
		return last, false, nil
	}
	return next, true, nil
}

// repeatOf splits the ID of a genuine repeat, base + "." + n with n >= 2.
func repeatOf(id string) (base string, n int, ok bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[dot+1:])
	if err != nil || n < 2 {
		return "", 0, false
	}
	return id[:dot], n, true
}

// commit writes and syncs batch b, then indexes its events. mu is held on
// entry and exit, and released while writing.
func (l *EventLog) commit(b *logBatch) {
	l.flushing, l.pending = true, nil
	off := l.size
	var err error
	if l.f == nil {
		// In memory: nothing to wait for, so the lock is kept, rather
		// than taken back once more past the queries waiting for it.
		l.mem = append(l.mem, b.buf...)
	} else {
		l.mu.Unlock()
		err = l.write(b.buf, off)
		l.lockForAppend()
	}
	if err != nil {
		l.broken = fmt.Errorf("talkdesk: event log %s: %w (reopen the log)", l.path, err)
		b.err = l.broken
	} else {
		l.size += int64(len(b.buf))
		for _, e := range b.entries {
			e.off += off
			l.insert(e.logEntry, e.id, e.interaction)
		}
	}
	for _, e := range b.entries {
		delete(l.queued, e.id)
	}
	b.done, b.buf = true, nil
	l.flushing = false
	l.cond.Broadcast()
	if err == nil {
		close(l.wake) // wakes the followers
		l.wake = make(chan struct{})
	}
}

// write puts buf at off in the file and syncs; on a failed write it cuts
// the file back to off. It runs without mu: only the committing goroutine
// writes.
func (l *EventLog) write(buf []byte, off int64) error {
	if l.beforeWrite != nil {
		l.beforeWrite()
	}
	if _, err := l.f.WriteAt(buf, off); err != nil {
		_ = l.f.Truncate(off)
		return err
	}
	if err := syncFile(l.f); err != nil {
		return err
	}
	l.syncs.Add(1)
	return nil
}

// syncFile is syncData; tests replace it to watch the syncs.
var syncFile = syncData

// logLine is the stored form of an Event: its JSON encoding plus the
// payload warnings, which Event.UnmarshalJSON reads back.
type logLine struct {
	*plainEvent
	Warnings []PayloadWarning `json:"warnings,omitempty"`
}

type plainEvent Event

// encodeLogLine returns the stored line of ev, without the newline: the
// JSON of its logLine as a json.Encoder with SetEscapeHTML(false) writes
// it (<, > and & are not escaped, so Raw stays as Talkdesk sent it but
// compacted), written field by field rather than by reflection.
// TestEncodeLogLineAsJSON and FuzzEncodeLogLine check that the two are the
// same, byte for byte.
func encodeLogLine(ev *Event) ([]byte, error) {
	b := make([]byte, 0, 512+2*len(ev.Raw))
	b = append(b, `{"id":`...)
	b = appendEncodedString(b, ev.ID)
	b = append(b, `,"type":`...)
	b = appendEncodedString(b, string(ev.Type))
	b = appendOptional(b, `,"event":`, ev.Name)
	for _, at := range []struct {
		key string
		t   time.Time
	}{{`,"occurred_at":`, ev.OccurredAt}, {`,"received_at":`, ev.ReceivedAt}} {
		t, err := at.t.UTC().MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("talkdesk: encoding event %s: %w", ev.ID, err)
		}
		b = append(append(b, at.key...), t...)
	}
	b = appendOptional(b, `,"account_id":`, ev.AccountID)
	b = appendOptional(b, `,"interaction_id":`, ev.InteractionID)
	b = appendOptional(b, `,"call_id":`, ev.CallID)
	b = appendOptional(b, `,"contact_id":`, ev.ContactID)
	b = appendOptional(b, `,"agent_id":`, ev.AgentID)
	b = append(b, `,"actor":{"type":`...)
	b = appendEncodedString(b, string(ev.Actor.Type))
	b = appendOptional(b, `,"id":`, ev.Actor.ID)
	b = appendOptional(b, `,"name":`, ev.Actor.Name)
	b = appendOptional(b, `,"email":`, ev.Actor.Email)
	b = append(b, `},"payload":`...)
	var err error
	if b, err = appendJSONValue(b, ev.Payload); err != nil {
		return nil, fmt.Errorf("talkdesk: encoding event %s: %w", ev.ID, err)
	}
	b = append(b, `,"raw":`...)
	switch ok, compact := stringObjectShape(ev.Raw); {
	case ev.Raw == nil:
		b = append(b, "null"...)
	case ok && compact:
		b = append(b, ev.Raw...)
	default:
		buf := bytes.NewBuffer(b)
		if err := json.Compact(buf, ev.Raw); err != nil {
			return nil, fmt.Errorf("talkdesk: encoding event %s: json: error calling MarshalJSON for type json.RawMessage: %w", ev.ID, err)
		}
		b = buf.Bytes()
	}
	if len(ev.Warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, w := range ev.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"field":`...)
			b = appendEncodedString(b, w.Field)
			b = append(b, `,"value":`...)
			b = appendEncodedString(b, w.Value)
			b = append(b, `,"reason":`...)
			b = appendEncodedString(b, w.Reason)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendOptional appends key and s, unless s is empty (omitempty).
func appendOptional(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendEncodedString(append(b, key...), s)
}

// appendEncodedString appends s as a JSON string as a json.Encoder with
// SetEscapeHTML(false) writes it: as it is when nothing in it needs
// escaping, as most values are. (payloads.go's appendJSONString writes
// the payloads' own form, which escapes fewer characters.)
func appendEncodedString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return encodedString(b, s)
		}
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\u2028\u2029") {
		return encodedString(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// encodedString appends s as encoding/json escapes it.
func encodedString(b []byte, s string) []byte {
	v, _ := appendJSONValue(b, s) // a string always encodes
	return v
}

// appendJSONValue appends v as a json.Encoder with SetEscapeHTML(false)
// writes it, without the newline.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	e := encoderPool.Get().(*pooledEncoder)
	defer encoderPool.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return b, err
	}
	return append(b, bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))...), nil
}

// pooledEncoder is a json.Encoder that escapes no HTML, and its buffer.
type pooledEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoderPool = sync.Pool{New: func() any {
	e := new(pooledEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// checkEvent checks ev before it is stored and returns its stored line: an
// ID, a type that is a trigger, times an Event can hold (1677 to 2262),
// and a line that reads back as an event, so that no stored event can make
// a page unreadable.
func checkEvent(ctx context.Context, ev *Event) ([]byte, error) {
	switch {
	case ev == nil || ev.ID == "":
		return nil, invalid("event", "must have an ID")
	case triggerIndex(ev.Type) == 0:
		return nil, invalid("event.Type", fmt.Sprintf("%q is not a trigger nor EventReportedCall", ev.Type))
	case ev.OccurredAt.Before(minInstant) || ev.OccurredAt.After(maxInstant):
		return nil, invalid("event.OccurredAt", "outside the times an event can hold (1677-09-21 to 2262-04-11)")
	case ev.ReceivedAt.Before(minInstant) || ev.ReceivedAt.After(maxInstant):
		return nil, invalid("event.ReceivedAt", "outside the times an event can hold (1677-09-21 to 2262-04-11)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	line, err := encodeLogLine(ev)
	if err != nil {
		return nil, invalid("event", err.Error())
	}
	// Reading back parses Raw, or without it the payload's JSON: check
	// that this succeeds, at the cost of the part that can fail. An
	// object of plain strings, as Talkdesk's bodies are, reads back.
	if ev.Raw != nil {
		if ok, _ := stringObjectShape(ev.Raw); !ok {
			_, err = readMembers(ev.Raw, nullKeeps)
		}
	} else {
		err = json.Unmarshal(line, new(Event))
	}
	if err != nil {
		return nil, invalid("event", "does not read back: "+err.Error())
	}
	return line, nil
}

// Validate reports whether a conversation log can hold e and read it back:
// an ID, a Type that is one of [Triggers], OccurredAt and ReceivedAt within
// the times an Event can hold (1677-09-21 to 2262-04-11), and a Raw body
// (or, without one, a payload) that reads back as an event. Otherwise it
// fails with a [*ValidationError], which matches [ErrInvalid]. Every
// [EventStore]'s Append checks this before it stores anything, so that no
// stored event can make a page unreadable; a store of your own should too
// (the package eventstoretest checks that it does).
func (e *Event) Validate() error {
	_, err := checkEvent(context.Background(), e)
	return err
}

// lockForAppend takes mu for an append, saying so to the queries (see
// yieldToAppends) while it waits.
func (l *EventLog) lockForAppend() {
	l.appending.Add(1)
	l.mu.Lock()
	l.appending.Add(-1)
}

// yieldToAppends lets an append waiting for mu run now, on this CPU,
// rather than once the query that released mu blocks: a query that reads
// and decodes for a long time between two holds of the read lock would
// otherwise keep, on a busy machine, the append it woke from running.
// Queries call it after releasing the read lock.
func (l *EventLog) yieldToAppends() {
	if l.appending.Load() > 0 {
		runtime.Gosched()
	}
}
