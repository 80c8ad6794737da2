package tdpostgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/talkdeskgo/talkdesk"
)

// row is an event as the store writes it.
type row struct {
	id, typ, name                        string
	occurredNs                           int64
	occurredAt, receivedAt               time.Time
	account, interaction, call, contact  *string
	agent, actorType, actorID, actorName *string
	actorEmail, payload, raw, warnings   *string
	line                                 []byte
	payloadDoc                           []byte // the payload's JSON, for a repeat's line
	ownTime                              bool
}

// storedLine is the form an event is stored and read back in, the form
// of an EventLog line: the JSON of the Event with its warnings.
type storedLine struct {
	*talkdesk.Event
	Warnings []talkdesk.PayloadWarning `json:"warnings,omitempty"`
}

// newRow checks ev as the file log does ([talkdesk.Event.Validate]) and
// returns its row. The payload is encoded once, for its jsonb column and
// inside the stored line.
func newRow(ev *talkdesk.Event) (*row, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if !storableID(ev.ID) {
		return nil, &talkdesk.ValidationError{Field: "event.ID", Reason: fmt.Sprintf("must be valid UTF-8 without NUL, at most %d bytes, to be a key in PostgreSQL", maxKeyText)}
	}
	payload, err := encodeJSON(ev.Payload)
	if err != nil {
		return nil, &talkdesk.ValidationError{Field: "event.Payload", Reason: err.Error()}
	}
	line, err := encodeLine(ev, payload)
	if err != nil {
		return nil, err
	}
	r := &row{
		id: ev.ID, typ: string(ev.Type), name: deref(text(ev.Name)),
		occurredNs: ev.OccurredAt.UnixNano(), occurredAt: ev.OccurredAt.UTC(), receivedAt: ev.ReceivedAt.UTC(),
		account: text(ev.AccountID), interaction: text(ev.InteractionID), call: text(ev.CallID),
		contact: text(ev.ContactID), agent: text(ev.AgentID),
		actorType: text(string(ev.Actor.Type)), actorID: text(ev.Actor.ID), actorName: text(ev.Actor.Name), actorEmail: text(ev.Actor.Email),
		payload: jsonbText(payload), raw: jsonbText(ev.Raw),
		line: line, payloadDoc: payload,
		ownTime: ev.HasOwnTime(),
	}
	if len(ev.Warnings) > 0 {
		w, err := encodeJSON(ev.Warnings)
		if err != nil {
			return nil, &talkdesk.ValidationError{Field: "event.Warnings", Reason: err.Error()}
		}
		r.warnings = jsonbText(w)
	}
	return r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// encodeJSON is json.Marshal with <, > and & as they are.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeLine returns the stored form of ev, the form of an EventLog line,
// with its times in UTC and payload, its payload's encoding.
func encodeLine(ev *talkdesk.Event, payload []byte) ([]byte, error) {
	utc := *ev
	utc.OccurredAt, utc.ReceivedAt = ev.OccurredAt.UTC(), ev.ReceivedAt.UTC()
	utc.Payload = json.RawMessage(payload)
	line, err := encodeJSON(storedLine{Event: &utc, Warnings: ev.Warnings})
	if err != nil {
		return nil, &talkdesk.ValidationError{Field: "event", Reason: err.Error()}
	}
	return line, nil
}

// text returns s for a nullable text column: NULL for "", else
// columnText(s).
func text(s string) *string {
	if s == "" {
		return nil
	}
	s, _ = columnText(s)
	return &s
}

// jsonbText returns doc for a jsonb column, or nil (NULL) when jsonb
// cannot hold it (see jsonbHolds). The event is kept whole in its line in
// any case.
func jsonbText(doc []byte) *string {
	if len(doc) == 0 || string(doc) == "null" || !jsonbHolds(doc) {
		return nil
	}
	s := string(doc)
	return &s
}

// jsonbHolds reports whether PostgreSQL's jsonb takes doc, valid JSON, as
// it is. It does not take invalid UTF-8, a \u0000 in a string, a UTF-16
// surrogate escape that is not half of a pair (an emoji cut in half,
// "\ud83d"), nor a number numeric cannot hold: more than 131,072 digits
// before the point, or more than 16,383 after it (1e200000, 1e-20000).
// What it misses, the database refuses, and the row is stored without its
// jsonb columns (see Store.commit).
func jsonbHolds(doc []byte) bool {
	if !utf8.Valid(doc) {
		return false
	}
	for i := 0; i < len(doc); {
		switch c := doc[i]; {
		case c == '"':
			end, ok := jsonbString(doc, i)
			if !ok {
				return false
			}
			i = end
		case c == '-' || c >= '0' && c <= '9':
			end := i
			for end < len(doc) && strings.IndexByte(",]} \t\r\n", doc[end]) < 0 {
				end++
			}
			if !numericHolds(doc[i:end]) {
				return false
			}
			i = end
		default:
			i++
		}
	}
	return true
}

// jsonbString checks the string of doc at i and returns where it ends: ok
// is false for a \u0000 or a surrogate escape not in a pair.
func jsonbString(doc []byte, i int) (end int, ok bool) {
	for i++; doc[i] != '"'; {
		if doc[i] != '\\' {
			i++
			continue
		}
		if doc[i+1] != 'u' {
			i += 2
			continue
		}
		r, _ := strconv.ParseUint(string(doc[i+2:i+6]), 16, 32)
		switch {
		case r == 0, r >= 0xDC00 && r <= 0xDFFF:
			return 0, false
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(doc) || doc[i+6] != '\\' || doc[i+7] != 'u' {
				return 0, false
			}
			lo, _ := strconv.ParseUint(string(doc[i+8:i+12]), 16, 32)
			if lo < 0xDC00 || lo > 0xDFFF {
				return 0, false
			}
			i += 12
		default:
			i += 6
		}
	}
	return i + 1, true
}

// numericHolds reports whether PostgreSQL's numeric holds the JSON number
// num: at most 131,072 digits before the decimal point and 16,383 after
// it, trailing zeros and the exponent counted.
func numericHolds(num []byte) bool {
	mant, exp, _ := bytes.Cut(bytes.ToLower(num), []byte("e"))
	mant = bytes.TrimPrefix(mant, []byte("-"))
	intPart, frac, _ := bytes.Cut(mant, []byte("."))
	e := int64(0)
	if len(exp) > 0 {
		digits := bytes.TrimLeft(bytes.TrimLeft(exp, "+-"), "0")
		if len(digits) > 9 {
			e = 1 << 40 // beyond any limit
		} else if len(digits) > 0 {
			e, _ = strconv.ParseInt(string(digits), 10, 64)
		}
		if exp[0] == '-' {
			e = -e
		}
	}
	if int64(len(frac))-e > 16383 {
		return false // digits after the point, zeros too
	}
	// The digits before the point: those of a number that is not zero,
	// from its first significant digit.
	if sig := bytes.TrimLeft(intPart, "0"); len(sig) > 0 {
		return int64(len(sig))+e <= 131072
	}
	if k := bytes.IndexFunc(frac, func(r rune) bool { return r != '0' }); k >= 0 {
		return e-int64(k) <= 131072
	}
	return true // zero
}

// maxKeyText bounds a text value the store writes as it is: longer ones,
// which a B-tree index could not take, are written as a stand-in.
const maxKeyText = 1024

// columnText returns s as a text column holds it, and exact == true, when
// PostgreSQL's text and indexes can take s as it is: valid UTF-8, no NUL,
// at most maxKeyText bytes. Otherwise it returns a stand-in (s made valid,
// cut to 256 bytes, then U+FFFD, "#" and 32 hex digits of its SHA-256)
// and exact == false. Queries look a value up by the same stand-in and
// keep only the events whose own value is the one asked for, so a
// hostile interaction ID in a body is stored, found, and never fails the
// group of appends it is committed with. The event itself is kept whole in
// its line.
func columnText(s string) (string, bool) {
	if len(s) <= maxKeyText && utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s, true
	}
	sum := sha256.Sum256([]byte(s))
	clean := strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", "\uFFFD"), "\uFFFD")
	if len(clean) > 256 {
		clean = strings.ToValidUTF8(clean[:256], "")
	}
	return clean + "\uFFFD#" + hex.EncodeToString(sum[:16]), false
}

// storableID reports whether id can be a key of the events table as it
// is.
func storableID(id string) bool {
	_, exact := columnText(id)
	return exact
}
