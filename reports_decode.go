package talkdesk

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ReportRecord is one entry of a report, as Talkdesk wrote it: its fields
// by name (a JSON key as it is; a CSV column's label in lower case with
// spaces as underscores, so that "Call Id" is call_id), each as text (a
// JSON string unquoted, a number or boolean as written; null and empty
// fields are left out).
type ReportRecord map[string]string

// Records reads the report's entries one at a time, as the file downloads:
// the entries of a JSON file ({"type", "version", "entries": [...],
// "total"}, members in any order) or the rows of a CSV file under its
// header. Memory does not grow with the report. Iteration stops at the
// first error.
func (r *Report) Records() iter.Seq2[ReportRecord, error] {
	return func(yield func(ReportRecord, error) bool) {
		br := bufio.NewReaderSize(r.body, 64<<10)
		format := r.Format
		if first, err := peekNonSpace(br); err == nil {
			switch {
			case first == '{':
				format = ReportJSON
			case format == ReportJSON:
				format = ReportCSV // a CSV file whatever the job said
			}
		} else if err == io.EOF {
			return // an empty file: no entries
		}
		if format == ReportCSV {
			csvRecords(br, yield)
			return
		}
		jsonRecords(br, yield)
	}
}

// peekNonSpace returns the first byte of br that is not white space or a
// byte order mark, without consuming it.
func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			br.ReadByte()
		case 0xEF:
			if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
				br.Discard(3)
				continue
			}
			return b[0], nil
		default:
			return b[0], nil
		}
	}
}

// jsonRecords yields the entries of a JSON report, read member by member
// with a json.Decoder: each entry is decoded, yielded and dropped.
func jsonRecords(r io.Reader, yield func(ReportRecord, error) bool) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	fail := func(err error) { yield(nil, fmt.Errorf("talkdesk: reading a report: %w", err)) }
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		fail(errors.New("the file is not a JSON object"))
		return
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			fail(err)
			return
		}
		if tok != "entries" {
			if err := dec.Decode(&skip); err != nil {
				fail(err)
				return
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			if tok == nil && err == nil {
				continue // "entries": null
			}
			fail(errors.New("entries is not an array"))
			return
		}
		// Each entry is checked by the decoder, then split by its
		// delimiters; the names of the fields, the same in every entry,
		// are kept once.
		var raw rawValue
		names := map[string]string{}
		for dec.More() {
			if err := dec.Decode(&raw); err != nil {
				fail(fmt.Errorf("an entry: %w", err))
				return
			}
			rec, err := recordOf(raw, names)
			if err != nil {
				fail(err)
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
		if _, err := dec.Token(); err != nil {
			fail(err)
			return
		}
	}
}

// recordOf reads an entry, one valid JSON value, into a record: its
// members' values as text, the last of a name sent twice kept. names keeps
// the fields' names, which every entry repeats.
func recordOf(raw []byte, names map[string]string) (ReportRecord, error) {
	members, err := splitMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: reading a report: an entry: %w", err)
	}
	rec := make(ReportRecord, len(members))
	for _, m := range members {
		k, ok := names[m.key]
		if !ok && len(names) < 4096 {
			k = m.key
			names[k] = k
		} else if !ok {
			k = m.key
		}
		v := m.raw
		switch {
		case len(v) == 0 || string(v) == "null" || string(v) == `""`:
			delete(rec, k)
		case v[0] == '"':
			if inner, ok := plainString(v); ok {
				rec[k] = string(inner)
			} else if s := unquote(v); s != "" {
				rec[k] = s
			} else {
				delete(rec, k)
			}
		default:
			rec[k] = string(v)
		}
	}
	return rec, nil
}

// csvRecords yields the rows of a CSV report by its header's labels.
func csvRecords(r io.Reader, yield func(ReportRecord, error) bool) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return
	}
	if err != nil {
		yield(nil, fmt.Errorf("talkdesk: reading a report's CSV header: %w", err))
		return
	}
	keys := make([]string, len(header))
	for i, label := range header {
		keys[i] = csvKey(label)
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			yield(nil, fmt.Errorf("talkdesk: reading a report's CSV: %w", err))
			return
		}
		rec := make(ReportRecord, len(row))
		for i, v := range row {
			if i < len(keys) && v != "" {
				rec[keys[i]] = v
			}
		}
		if !yield(rec, nil) {
			return
		}
	}
}

// csvKey turns a CSV column's label into the name of its field: lower
// case, runs of spaces and hyphens as one underscore ("Call Id" is
// call_id, "In Business Hours?" in_business_hours?).
func csvKey(label string) string {
	label = strings.TrimPrefix(strings.TrimSpace(label), "\uFEFF")
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(label) {
		if unicode.IsSpace(r) || r == '-' {
			if !under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = true
			continue
		}
		under = false
		b.WriteRune(r)
	}
	return strings.TrimSuffix(b.String(), "_")
}

// CallRecord is one call of the Explore API's calls report, typed. It
// reads both shapes Talkdesk has served: the one effective from
// 2026-05-11 (call_id, start_at, talk_time in seconds, is_in_business_hours
// as a boolean) and the one before it (interaction_id, start_time,
// talk_time as a fraction of a day, "in_business_hours?" as "TRUE").
// Which one a report has is decided once per report, from its first
// record's fields, never value by value: durations are seconds in the new
// shape and fractions of a day in the old. Booleans read true, "TRUE",
// "Yes", 1 and their opposites. Every field as Talkdesk sent it is in
// Fields; a value that could not be read leaves its field zero and is
// listed in Warnings.
type CallRecord struct {
	CallID        string `json:"call_id,omitempty"`
	CallSID       string `json:"callsid,omitempty"`
	InteractionID string `json:"interaction_id,omitempty"`
	// Direction is the call's type: inbound, outbound, missed, abandoned,
	// voicemail...
	Direction                string    `json:"type,omitempty"`
	StartAt                  time.Time `json:"start_at"`
	EndAt                    time.Time `json:"end_at"`
	TalkdeskPhoneNumber      string    `json:"talkdesk_phone_number,omitempty"`
	TalkdeskPhoneDisplayName string    `json:"talkdesk_phone_display_name,omitempty"`
	ContactPhoneNumber       string    `json:"contact_phone_number,omitempty"`

	UserID    string `json:"user_id,omitempty"`
	UserName  string `json:"user_name,omitempty"`
	UserEmail string `json:"user_email,omitempty"`

	HandlingUserID    string `json:"handling_user_id,omitempty"`
	HandlingUserName  string `json:"handling_user_name,omitempty"`
	HandlingUserEmail string `json:"handling_user_email,omitempty"`

	TotalTime     time.Duration `json:"total_time,omitempty"`
	TalkTime      time.Duration `json:"talk_time,omitempty"`
	WaitTime      time.Duration `json:"wait_time,omitempty"`
	HoldTime      time.Duration `json:"hold_time,omitempty"`
	AbandonTime   time.Duration `json:"abandon_time,omitempty"`
	RingingTime   time.Duration `json:"total_ringing_time,omitempty"`
	SpeedToAnswer time.Duration `json:"agent_speed_to_answer,omitempty"`

	InBusinessHours   *bool `json:"is_in_business_hours,omitempty"`
	CallbackFromQueue *bool `json:"is_callback_from_queue,omitempty"`
	Transfer          *bool `json:"is_transfer,omitempty"`
	ExternalTransfer  *bool `json:"is_external_transfer,omitempty"`
	AgentDisconnected *bool `json:"agent_disconnected,omitempty"`

	DispositionCode string `json:"disposition_code,omitempty"`
	Notes           string `json:"notes,omitempty"`
	RingGroups      string `json:"ring_groups,omitempty"`
	IVROptions      string `json:"ivr_options,omitempty"`
	Hangup          string `json:"hangup,omitempty"`
	RecordingURL    string `json:"recording_url,omitempty"`
	TeamID          string `json:"team_id,omitempty"`
	TeamName        string `json:"team_name,omitempty"`

	// Fields holds every field of the record as Talkdesk sent it.
	Fields ReportRecord `json:"fields,omitempty"`
	// Warnings lists the values present that could not be read.
	Warnings []PayloadWarning `json:"warnings,omitempty"`
}

// MarshalJSON writes the record with its durations in seconds.
func (r *CallRecord) MarshalJSON() ([]byte, error) {
	type plain CallRecord
	aux := struct {
		*plain
		TotalTime     float64 `json:"total_time,omitempty"`
		TalkTime      float64 `json:"talk_time,omitempty"`
		WaitTime      float64 `json:"wait_time,omitempty"`
		HoldTime      float64 `json:"hold_time,omitempty"`
		AbandonTime   float64 `json:"abandon_time,omitempty"`
		RingingTime   float64 `json:"total_ringing_time,omitempty"`
		SpeedToAnswer float64 `json:"agent_speed_to_answer,omitempty"`
	}{(*plain)(r), r.TotalTime.Seconds(), r.TalkTime.Seconds(), r.WaitTime.Seconds(), r.HoldTime.Seconds(),
		r.AbandonTime.Seconds(), r.RingingTime.Seconds(), r.SpeedToAnswer.Seconds()}
	return json.Marshal(aux)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *CallRecord) UnmarshalJSON(b []byte) error {
	type plain CallRecord
	aux := struct {
		*plain
		TotalTime     float64 `json:"total_time"`
		TalkTime      float64 `json:"talk_time"`
		WaitTime      float64 `json:"wait_time"`
		HoldTime      float64 `json:"hold_time"`
		AbandonTime   float64 `json:"abandon_time"`
		RingingTime   float64 `json:"total_ringing_time"`
		SpeedToAnswer float64 `json:"agent_speed_to_answer"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	sec := func(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }
	r.TotalTime, r.TalkTime, r.WaitTime, r.HoldTime = sec(aux.TotalTime), sec(aux.TalkTime), sec(aux.WaitTime), sec(aux.HoldTime)
	r.AbandonTime, r.RingingTime, r.SpeedToAnswer = sec(aux.AbandonTime), sec(aux.RingingTime), sec(aux.SpeedToAnswer)
	return nil
}

// callShape is how a calls report writes its records.
type callShape struct {
	old bool           // the shape before 2026-05-11: fractions of a day, zone-less times
	loc *time.Location // where times without a zone are
}

// oldCallKeys are fields only the shape before 2026-05-11 has.
var oldCallKeys = []string{"start_time", "end_time", "call_type", "waiting_time", "holding_time", "customer_phone_number",
	"in_business_hours?", "callback_from_queue?", "transfer?", "handling_agent", "agent_speed_to_answer", "record"}

// shapeOf decides the shape of a report from its first record.
func shapeOf(rec ReportRecord, loc *time.Location) callShape {
	s := callShape{loc: loc}
	if _, isNew := rec["call_id"]; !isNew {
		for _, k := range oldCallKeys {
			if _, ok := rec[k]; ok {
				s.old = true
				break
			}
		}
	}
	return s
}

// Calls reads the report's entries as calls (see [CallRecord]), one at a
// time as the file downloads.
func (r *Report) Calls() iter.Seq2[*CallRecord, error] {
	return func(yield func(*CallRecord, error) bool) {
		loc := time.UTC
		if r.Timezone != "" {
			if l, err := time.LoadLocation(r.Timezone); err == nil {
				loc = l
			}
		}
		var shape *callShape
		for rec, err := range r.Records() {
			if err != nil {
				yield(nil, err)
				return
			}
			if shape == nil {
				s := shapeOf(rec, loc)
				shape = &s
			}
			if !yield(shape.call(rec), nil) {
				return
			}
		}
	}
}

// CallRecords reads calls from a calls report's file: r a JSON or CSV file
// (format says which; a file that starts with "{" is JSON whatever it
// says), times without a zone in loc (UTC when nil). It is what
// [Report.Calls] does, for a file you have.
func CallRecords(r io.Reader, format ReportFormat, loc *time.Location) iter.Seq2[*CallRecord, error] {
	rep := &Report{Type: ReportCalls, Format: format, body: io.NopCloser(r)}
	if loc != nil {
		rep.Timezone = loc.String()
	}
	return rep.Calls()
}

// call reads rec as a call of the report's shape.
func (s callShape) call(rec ReportRecord) *CallRecord {
	c := &CallRecord{Fields: rec}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v := rec[k]; v != "" {
				return v
			}
		}
		return ""
	}
	warn := func(key, reason string) {
		v := rec[key]
		if len(v) > 256 {
			v = v[:256]
		}
		c.Warnings = append(c.Warnings, PayloadWarning{Field: key, Value: v, Reason: reason})
	}
	when := func(dst *time.Time, keys ...string) {
		for _, k := range keys {
			if v := rec[k]; v != "" {
				t, err := s.instant(v)
				if err != nil {
					warn(k, "not a time")
					return
				}
				*dst = t
				return
			}
		}
	}
	dur := func(dst *time.Duration, keys ...string) {
		for _, k := range keys {
			if v := rec[k]; v != "" {
				d, err := s.duration(v)
				if err != nil {
					warn(k, "not a duration")
					return
				}
				*dst = d
				return
			}
		}
	}
	flag := func(dst **bool, keys ...string) {
		for _, k := range keys {
			if v := rec[k]; v != "" {
				b, ok := reportBool(v)
				if !ok {
					warn(k, "not a yes or no")
					return
				}
				*dst = &b
				return
			}
		}
	}
	c.CallID = str("call_id")
	c.CallSID = str("callsid", "call_sid")
	c.InteractionID = str("interaction_id")
	if c.CallID == "" && s.old {
		c.CallID = c.InteractionID // the old shape names the call by its interaction
	}
	c.Direction = str("type", "call_type")
	when(&c.StartAt, "start_at", "start_time")
	when(&c.EndAt, "end_at", "end_time")
	c.TalkdeskPhoneNumber = str("talkdesk_phone_number")
	c.TalkdeskPhoneDisplayName = str("talkdesk_phone_display_name", "phone_display_name")
	c.ContactPhoneNumber = str("contact_phone_number", "customer_phone_number")
	c.UserID, c.UserName, c.UserEmail = str("user_id"), str("user_name", "agent_name"), str("user_email", "agent_email")
	c.HandlingUserID = str("handling_user_id")
	c.HandlingUserName = str("handling_user_name", "handling_agent")
	c.HandlingUserEmail = str("handling_user_email")
	dur(&c.TotalTime, "total_time")
	dur(&c.TalkTime, "talk_time")
	dur(&c.WaitTime, "wait_time", "waiting_time")
	dur(&c.HoldTime, "hold_time", "holding_time")
	dur(&c.AbandonTime, "abandon_time")
	dur(&c.RingingTime, "total_ringing_time")
	dur(&c.SpeedToAnswer, "agent_speed_to_answer", "agent_speed_to_answer_time")
	flag(&c.InBusinessHours, "is_in_business_hours", "in_business_hours?", "in_business_hours")
	flag(&c.CallbackFromQueue, "is_callback_from_queue", "callback_from_queue?")
	flag(&c.Transfer, "is_transfer", "transfer?")
	flag(&c.ExternalTransfer, "is_external_transfer")
	flag(&c.AgentDisconnected, "agent_disconnected")
	c.DispositionCode = str("disposition_code")
	c.Notes = str("notes", "description")
	c.RingGroups = str("ring_groups", "tags")
	c.IVROptions = str("ivr_options")
	c.Hangup = str("hangup")
	c.RecordingURL = str("recording_url", "record")
	c.TeamID, c.TeamName = str("team_id"), str("team_name", "team")
	return c
}

// instant reads a time of the report: RFC 3339, or a time without a zone
// (2022-06-30 16:42:24) in the report's time zone.
func (s callShape) instant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return t.UTC(), nil
		}
	}
	return parseInstant(v)
}

// duration reads a duration of the report: seconds in the shape from
// 2026-05-11, a fraction of a day in the one before (to the millisecond);
// h:mm:ss in either.
func (s callShape) duration(v string) (time.Duration, error) {
	if strings.Contains(v, ":") {
		return parseDuration(v)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, errors.New("not a duration")
	}
	if f > float64(math.MaxInt64)/float64(time.Second)/86400 {
		return 0, errors.New("too long")
	}
	if s.old {
		// A fraction of a day, written with some nine digits: to the
		// millisecond, which they hold (0.000069444446 is 6 s, not
		// 6.000000134 s).
		return time.Duration(math.Round(f*86400*1000)) * time.Millisecond, nil
	}
	return time.Duration(math.Round(f * float64(time.Second))), nil
}

// reportBool reads a report's yes or no.
func reportBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}
