package talkdesk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CSVColumns returns the header [ExportCSV] writes: the event's own
// columns (occurred_at, received_at, type, event, id, interaction_id,
// call_id, contact_id, agent_id, actor_type, actor_name), then every
// field of every event type's payload, each once, in the order of the
// types and of their fields.
func CSVColumns() []string {
	cols := slices.Clone(csvEventColumns)
	seen := map[string]bool{}
	for _, c := range cols {
		seen[c] = true
	}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			cols = append(cols, k)
		}
	}
	for _, t := range Triggers() {
		for _, f := range triggerInfos[t].spec.fields {
			add(f.key)
		}
	}
	for _, c := range CallColumns() {
		add(c)
	}
	return cols
}

// CallColumns returns the header [ExportCallsCSV] writes: the JSON name
// of each field of a [CallRecord], in its order, but its Fields and
// Warnings.
func CallColumns() []string {
	var cols []string
	rt := reflect.TypeFor[CallRecord]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && name != "fields" && name != "warnings" {
			cols = append(cols, name)
		}
	}
	return cols
}

// ExportCallsCSV writes the calls of a report, such as those of
// [Client.Calls], as CSV a spreadsheet opens: the header of
// [CallColumns], then a row a call, as its JSON has it (times in RFC 3339
// UTC, durations in seconds, flags true or false), a cell that would read
// as a formula defused as [ExportCSV] does. It stops at the first error.
func ExportCallsCSV(ctx context.Context, w io.Writer, calls iter.Seq2[*CallRecord, error]) error {
	cols := CallColumns()
	index := make(map[string]int, len(cols))
	for i, c := range cols {
		index[c] = i
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(cols); err != nil {
		return err
	}
	row := make([]string, len(cols))
	for c, err := range calls {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		clear(row)
		flat := *c
		flat.Fields, flat.Warnings = nil, nil
		flat.StartAt, flat.EndAt = flat.StartAt.UTC(), flat.EndAt.UTC()
		if err := fillRow(row, index, 0, &flat); err != nil {
			return fmt.Errorf("talkdesk: call %s: %w", c.CallID, err)
		}
		for col, t := range map[string]time.Time{"start_at": c.StartAt, "end_at": c.EndAt} {
			if t.IsZero() {
				row[index[col]] = "" // not known, not year 1
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// fillRow sets the cells of row at or after from that v's JSON object has
// a member of, by the index of their names.
func fillRow(row []string, index map[string]int, from int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return nil
	}
	for k, raw := range fields {
		if i, ok := index[k]; ok && i >= from {
			row[i] = csvSafe(csvValue(raw))
		}
	}
	return nil
}

var csvEventColumns = []string{"occurred_at", "received_at", "type", "event", "id", "interaction_id", "call_id", "contact_id",
	"agent_id", "actor_type", "actor_name"}

// ExportCSV writes events as CSV a spreadsheet opens: the header of
// [CSVColumns], then a row an event, its times in RFC 3339 UTC, its
// payload's fields as the payload's JSON has them (durations in seconds,
// flags true or false, tag lists comma-separated); an empty cell for a
// field an event does not have. It stops at the first error.
func ExportCSV(ctx context.Context, w io.Writer, events iter.Seq2[*Event, error]) error {
	cols := CSVColumns()
	index := make(map[string]int, len(cols))
	for i, c := range cols {
		index[c] = i
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(cols); err != nil {
		return err
	}
	row := make([]string, len(cols))
	for ev, err := range events {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		clear(row)
		for i, v := range []string{ev.OccurredAt.UTC().Format(time.RFC3339Nano), ev.ReceivedAt.UTC().Format(time.RFC3339Nano),
			string(ev.Type), ev.Name, ev.ID, ev.InteractionID, ev.CallID, ev.ContactID, ev.AgentID, string(ev.Actor.Type), ev.Actor.Name} {
			row[i] = csvSafe(v)
		}
		if ev.Payload != nil {
			if err := fillRow(row, index, len(csvEventColumns), ev.Payload); err != nil {
				return fmt.Errorf("talkdesk: event %s: %w", ev.ID, err)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// csvValue is the text of a payload's JSON value in a cell.
func csvValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		json.Unmarshal(raw, &s)
		return s
	case raw[0] == '[':
		var list []any
		if json.Unmarshal(raw, &list) == nil {
			parts := make([]string, len(list))
			for i, v := range list {
				parts[i] = fmt.Sprint(v)
			}
			return strings.Join(parts, ",")
		}
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return string(raw)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: a value
// that starts with =, +, - or @ (a contact named "=HYPERLINK(...)") gets a
// leading quote, as OWASP advises; a phone number's + is kept when the
// rest is digits.
func csvSafe(v string) string {
	if v == "" {
		return v
	}
	switch v[0] {
	case '+':
		if strings.Trim(v[1:], "0123456789 ") == "" {
			return v
		}
		return "'" + v
	case '-':
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v
		}
		return "'" + v
	case '=', '@', '\t', '\r':
		return "'" + v
	}
	return v
}
