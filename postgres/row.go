package tdpostgres

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
// cannot hold it: not UTF-8, or a string with \u0000. The event is kept
// whole in its line in any case.
func jsonbText(doc []byte) *string {
	if len(doc) == 0 || string(doc) == "null" || !utf8.Valid(doc) || bytes.Contains(doc, []byte(`\u0000`)) {
		return nil
	}
	s := string(doc)
	return &s
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
