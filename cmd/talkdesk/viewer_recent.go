package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// recentEvents is how many events the viewer's first screen shows, and
// recentProbe the page size of each look for them (see recent).
const (
	recentEvents = 100
	recentProbe  = 4 * recentEvents
)

// recentAnswer is the JSON of GET /viewer/recent.
type recentAnswer struct {
	Events  []loggedEvent `json:"events"`  // the newest, in (occurred_at, id) order
	After   string        `json:"after"`   // where the live stream starts: the last event committed
	Session bool          `json:"session"` // the caller is a browser logged in (it may log out), not a key
}

// loggedEvent is an event as /events and /events/stream write it: with
// its payload warnings, which the JSON of an Event leaves out.
type loggedEvent struct {
	*talkdesk.Event
	Warnings []talkdesk.PayloadWarning `json:"warnings,omitempty"`
}

// serveRecent answers GET /viewer/recent with the filters of
// /events/stream: the newest recentEvents events that match, and the ID
// to follow the log after, taken before them so that no event falls
// between the two (one may be in both).
func (v *viewer) serveRecent(w http.ResponseWriter, r *http.Request) {
	secure(w)
	w.Header().Set("Cache-Control", "no-store")
	client, ok := v.client(r)
	if !ok {
		writeJSONError(w, http.StatusUnauthorized, "log in first")
		return
	}
	q, err := viewerQuery(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	var ans recentAnswer
	ans.Session = strings.HasPrefix(client, "session-")
	// A store that cannot tell its last event starts the stream after
	// the newest event shown (the page's fallback).
	if ans.After, err = talkdesk.LastEventID(ctx, v.store); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		v.log.Warn("talkdesk serve: the viewer's last event", "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "the store did not answer")
		return
	}
	evs, err := recent(ctx, v.store, q, v.now(), recentEvents)
	if err != nil {
		v.log.Warn("talkdesk serve: the viewer's newest events", "error", err.Error())
		writeJSONError(w, http.StatusInternalServerError, "the store did not answer")
		return
	}
	ans.Events = make([]loggedEvent, len(evs))
	for i, ev := range evs {
		ans.Events[i] = loggedEvent{ev, ev.Warnings}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// viewerQuery reads the filters of the viewer: agent_id, contact_id,
// interaction_id and type (repeated or comma-separated).
func viewerQuery(vals url.Values) (talkdesk.EventQuery, error) {
	var q talkdesk.EventQuery
	for name, vs := range vals {
		switch name {
		case "agent_id", "contact_id", "interaction_id", "type":
		default:
			return q, errors.New(clipName(name) + ": unknown parameter")
		}
		if name != "type" && len(vs) > 1 {
			return q, errors.New(name + ": given more than once")
		}
	}
	q.AgentID, q.ContactID, q.InteractionID = vals.Get("agent_id"), vals.Get("contact_id"), vals.Get("interaction_id")
	for _, v := range vals["type"] {
		for t := range strings.SplitSeq(v, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			tr := talkdesk.Trigger(t)
			if tr != talkdesk.EventReportedCall {
				var err error
				if tr, err = talkdesk.ParseTrigger(t); err != nil {
					return q, errors.New("type: " + strconv.Quote(clipName(t)) + " is not a trigger")
				}
			}
			q.Types = append(q.Types, tr)
		}
	}
	return q, nil
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// recentSpans are the spans before now in which recent looks for the
// newest events, shortest first: a busy log answers from the first, a
// quiet one from a later one, each with one page.
var recentSpans = func() []time.Duration {
	spans := []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 31 * 24 * time.Hour}
	for year := time.Duration(1); year <= 256; year *= 2 {
		spans = append(spans, year*366*24*time.Hour)
	}
	return spans
}()

// recent returns the newest n events of s that match q, in (OccurredAt,
// ID) order, reading a few pages, not the log: a store's Query reads
// forward from a time (Since) at the cost of one page, so recent looks for
// a time after which between n and recentProbe events match, in ever
// longer spans before now, then by halving the span that held too many.
func recent(ctx context.Context, s talkdesk.EventStore, q talkdesk.EventQuery, now time.Time, n int) ([]*talkdesk.Event, error) {
	q.Limit = max(recentProbe, n)
	probe := func(since time.Time) ([]*talkdesk.Event, bool, error) {
		q.Since, q.Cursor = since, ""
		page, err := s.Query(ctx, q)
		if err != nil {
			return nil, false, err
		}
		return page.Events, page.NextCursor != "", nil
	}
	last := func(evs []*talkdesk.Event) []*talkdesk.Event { return evs[max(0, len(evs)-n):] }

	// few: a time after which fewer than n match (the far future, at
	// first); many: one after which more than a page match, when found.
	few, many := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}
	for _, span := range append([]time.Duration{0}, append(recentSpans, -1)...) {
		since := now.Add(-span) // span 0: the future; -1: the whole log
		if span < 0 {
			since = time.Time{}
		}
		evs, more, err := probe(since)
		if err != nil {
			return nil, err
		}
		if !more && (len(evs) >= n || span < 0) {
			return last(evs), nil
		}
		if more {
			many = since
			break
		}
		few = since
	}
	if many.IsZero() {
		many = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC) // the earliest an event can hold
	}
	// Halve [many, few) down to a millisecond: events closer together than
	// that are read in the end.
	for range 64 {
		if few.Sub(many) <= time.Millisecond {
			break
		}
		mid := many.Add(few.Sub(many) / 2)
		evs, more, err := probe(mid)
		if err != nil {
			return nil, err
		}
		switch {
		case more:
			many = mid
		case len(evs) >= n:
			return last(evs), nil
		default:
			few = mid
		}
	}
	// More than a page within a millisecond: read on from there, keeping
	// the last n.
	q.Since, q.Cursor = many, ""
	var keep []*talkdesk.Event
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		keep = last(append(keep, page.Events...))
		if page.NextCursor == "" {
			return keep, nil
		}
		q.Cursor = page.NextCursor
	}
}
