package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// readEvents reads and decodes the events of entries, in order. A page of
// many is decoded by as many goroutines as there are CPUs (decoding is
// most of a query's cost), all ended before it returns.
func (l *EventLog) readEvents(entries []logEntry) ([]*Event, error) {
	evs := make([]*Event, len(entries))
	workers := min(runtime.GOMAXPROCS(0), len(entries)/64)
	if workers <= 1 {
		for i, e := range entries {
			ev, err := l.readEvent(e)
			if err != nil {
				return nil, err
			}
			evs[i] = ev
		}
		return evs, nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				ev, err := l.readEvent(entries[i])
				if err != nil {
					errs[w] = err
					return
				}
				evs[i] = ev
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return evs, nil
}

// lineBufs keeps the buffers readEvent reads a file's lines into: an
// event decoded keeps no part of its line, so the buffer is used again,
// warm in the cache, where a new one would be garbage to collect.
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

// readEvent reads and decodes the stored event of e.
func (l *EventLog) readEvent(e logEntry) (*Event, error) {
	var line []byte
	var err error
	if l.f == nil {
		line, err = l.readLine(e)
	} else {
		buf := lineBufs.Get().(*[]byte)
		line, err = l.readLineInto(e, *buf)
		defer func() {
			if cap(line) <= 64<<10 { // a rare long line is not kept
				*buf = line[:0]
				lineBufs.Put(buf)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	ev, err := decodeStored(line)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: event log %s: the event at byte %d: %w", l.path, e.off, err)
	}
	return ev, nil
}

// decodeStored reads an event back from its stored line, as
// Event.UnmarshalJSON does (which checks the line once, where
// json.Unmarshal would check it twice). UnmarshalJSON reads the payload of
// a trigger's event from Raw: so a line as encodeLogLine writes it, with a
// raw body, is read in two parts, the members before "payload" and those
// from "raw" on, and its stored payload, a third of the line, is not
// scanned at all. Any other line is read by UnmarshalJSON; so is one that
// does not split so (a payload built by hand with a "raw" key of its own
// leaves the second part with members after its end, which fails).
func decodeStored(line []byte) (*Event, error) {
	ev := new(Event)
	if ok, err := ev.decodeStoredParts(line); ok {
		return ev, err
	}
	*ev = Event{}
	return ev, ev.UnmarshalJSON(line)
}

// decodeStoredParts is the two-part read of decodeStored; ok is false when
// the line does not split so.
func (e *Event) decodeStoredParts(line []byte) (ok bool, err error) {
	if !bytes.HasPrefix(line, []byte(`{"id":`)) {
		return false, nil
	}
	p := bytes.Index(line, []byte(`,"payload":`))
	if p < 0 {
		return false, nil
	}
	// The payload, an object, ends where "raw" starts: a `}` is rare in
	// it, where a comma ends every member.
	r := bytes.Index(line[p:], []byte(`},"raw":`))
	if r < 0 {
		return false, nil
	}
	head := line[:p]
	lifted := e.readHeadKeys(head)
	if !lifted && !e.readHead(head) {
		return false, nil
	}
	info, known := triggerInfos[e.Type]
	if !known {
		return false, nil // its payload is kept as stored
	}
	// The rest is the raw body, then the warnings, if any, which
	// UnmarshalJSON would read from Raw again. Raw ends where the last
	// `,"warnings":[` starts, or else before the closing brace: one inside
	// the raw body would leave an object cut short, which the parser of
	// the payload refuses, and the other end is tried. The parser checks
	// Raw; the stored payload and warnings are not read at all.
	start := p + r + len(`},"raw":`)
	ends := []int{len(line) - 1}
	if bytes.HasSuffix(line, []byte("]}")) { // else there are no warnings
		if w := bytes.LastIndex(line[start:], []byte(`,"warnings":[`)); w > 0 {
			ends = []int{start + w, len(line) - 1}
		}
	}
	for _, end := range ends {
		raw := bytes.TrimSpace(line[start:end])
		if len(raw) == 0 || raw[0] != '{' {
			return false, nil // null, or not a body
		}
		e.Raw = json.RawMessage(bytes.Clone(raw))
		if err := e.decodePayload(info, e.Raw); err != nil {
			e.Raw, e.Payload, e.Warnings = nil, nil, nil
			continue
		}
		if lifted && !e.liftHead(info, head) {
			// Not the head ParseEvent gives (an event built by hand, or
			// a string encoding/json escapes): read it as stored.
			payload, raw, warnings := e.Payload, e.Raw, e.Warnings
			*e = Event{}
			if !e.readHead(head) {
				return false, nil
			}
			e.Payload, e.Raw, e.Warnings = payload, raw, warnings
		}
		return true, nil
	}
	return false, nil
}

// readHead reads head, the members of a stored line before "payload",
// into e with encoding/json.
func (e *Event) readHead(head []byte) bool {
	type plain Event
	buf := append(make([]byte, 0, len(head)+1), head...)
	return json.Unmarshal(append(buf, '}'), (*plain)(e)) == nil
}

// readHeadKeys is the quick way to read the head of a line encodeLogLine
// wrote for an event of ParseEvent, whose members but three are lifted
// from its payload: it takes the ID, the type and ReceivedAt from the
// line when they read as written (no escapes), and reports whether it
// did; liftHead, once the payload is read, lifts the rest and checks the
// whole head. Reading the head with encoding/json costs a fifth of
// reading an event back.
func (e *Event) readHeadKeys(head []byte) bool {
	id, rest, ok := plainMember(head, `{"id":"`)
	if !ok {
		return false
	}
	typ, rest, ok := plainMember(rest, `,"type":"`)
	if !ok {
		return false
	}
	i := bytes.Index(rest, []byte(`,"received_at":"`))
	if i < 0 {
		return false
	}
	received, _, ok := plainMember(rest[i:], `,"received_at":"`)
	if !ok {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, string(received))
	if err != nil {
		return false
	}
	e.ID, e.Type, e.ReceivedAt = string(id), Trigger(typ), at
	return true
}

// plainMember returns the string after prefix at the start of b, up to
// its closing quote, and what follows that quote; ok is false when b does
// not start so or the string has an escape.
func plainMember(b []byte, prefix string) (s, rest []byte, ok bool) {
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return nil, nil, false
	}
	b = b[len(prefix):]
	end := bytes.IndexByte(b, '"')
	if end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:end], b[end+1:], true
}

// liftHead lifts e's members from its payload, as ParseEvent does, and
// reports whether they encode to head, byte for byte, as encodeLogLine
// writes them: then they are what encoding/json would read from head.
func (e *Event) liftHead(info *triggerInfo, head []byte) bool {
	info.spec.lift(e, reflect.ValueOf(e.Payload).Elem())
	e.OccurredAt = e.OccurredAt.UTC()
	buf := headBufs.Get().(*[]byte)
	defer headBufs.Put(buf)
	b, ok := appendHead((*buf)[:0], e)
	*buf = b
	return ok && bytes.Equal(b, head)
}

var headBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendHead appends the members of e before "payload" as encodeLogLine
// writes them, and reports false when one of its strings is one that
// encoding/json escapes (a quote, a backslash, a control character,
// invalid UTF-8, U+2028 or U+2029), which appendHead does not write.
func appendHead(b []byte, e *Event) ([]byte, bool) {
	ok := true
	str := func(key, s string, omitEmpty bool) {
		if omitEmpty && s == "" {
			return
		}
		ok = ok && plainJSONString(s)
		b = append(b, key...)
		b = append(b, s...)
		b = append(b, '"')
	}
	at := func(key string, t time.Time) {
		b = append(b, key...)
		b = t.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	str(`{"id":"`, e.ID, false)
	str(`,"type":"`, string(e.Type), false)
	str(`,"event":"`, e.Name, true)
	at(`,"occurred_at":"`, e.OccurredAt)
	at(`,"received_at":"`, e.ReceivedAt)
	str(`,"account_id":"`, e.AccountID, true)
	str(`,"interaction_id":"`, e.InteractionID, true)
	str(`,"call_id":"`, e.CallID, true)
	str(`,"contact_id":"`, e.ContactID, true)
	str(`,"agent_id":"`, e.AgentID, true)
	str(`,"actor":{"type":"`, string(e.Actor.Type), false)
	str(`,"id":"`, e.Actor.ID, true)
	str(`,"name":"`, e.Actor.Name, true)
	str(`,"email":"`, e.Actor.Email, true)
	b = append(b, '}')
	return b, ok
}

// plainJSONString reports whether encoding/json writes s as it is,
// between quotes.
func plainJSONString(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.ContainsRune(s, '\u2028') && !strings.ContainsRune(s, '\u2029')
}
