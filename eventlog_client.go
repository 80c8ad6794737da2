package talkdesk

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EventLogClient reads a conversation log served by an [EventLogHandler]
// (talkdesk serve, say), from Go: a page, an export, and the live stream,
// which it follows across dropped connections. It sends its API key to
// the log's origin only, and follows no redirect.
type EventLogClient struct {
	base   *url.URL // where the handler is mounted: base + "/events"
	key    string
	hc     *http.Client
	stream *http.Client // without a timeout: a stream lasts
	retry  time.Duration
}

// NewEventLogClient returns a client of the log served at baseURL (where
// the handler is mounted, such as http://127.0.0.1:8080 or
// https://logs.example.com/log), with apiKey. A nil hc is a client with a
// 60-second timeout for pages and exports.
func NewEventLogClient(baseURL, apiKey string, hc *http.Client) (*EventLogClient, error) {
	u, err := parseHTTPURL("baseURL", baseURL)
	if err != nil {
		return nil, err
	}
	if apiKey == "" {
		return nil, invalid("apiKey", "must not be empty")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	pages, streams := *hc, *hc
	pages.CheckRedirect, streams.CheckRedirect, streams.Timeout = noFollow, noFollow, 0
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &EventLogClient{base: u, key: apiKey, hc: &pages, stream: &streams, retry: time.Second}, nil
}

// String describes the client without its key.
func (c *EventLogClient) String() string { return "talkdesk.EventLogClient{" + c.base.String() + "}" }

// GoString is String.
func (c *EventLogClient) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *EventLogClient) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// queryValues are the parameters of q.
func queryValues(q EventQuery, stream bool) url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"interaction_id": q.InteractionID, "contact_id": q.ContactID, "agent_id": q.AgentID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	for _, t := range q.Types {
		v.Add("type", string(t))
	}
	if stream {
		return v
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// get sends a GET of path with query to the log, with the key.
func (c *EventLogClient) get(ctx context.Context, hc *http.Client, path string, query url.Values, header http.Header) (*http.Response, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: event log %s: %w", c.base.Host, redactURLError(err))
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		json.Unmarshal(body, &e)
		err := fmt.Errorf("talkdesk: event log %s: %s", c.base.Host, resp.Status)
		if e.Error != "" {
			err = fmt.Errorf("%w: %s", err, clip(e.Error))
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			err = fmt.Errorf("%w (%w)", err, ErrUnauthorized)
		case http.StatusNotFound:
			err = fmt.Errorf("%w (%w)", err, ErrNotFound)
		case http.StatusBadRequest:
			err = fmt.Errorf("%w (%w)", err, ErrInvalid)
		}
		return nil, err
	}
	return resp, nil
}

// Query returns one page of the log's events matching q (GET
// {base}/events).
func (c *EventLogClient) Query(ctx context.Context, q EventQuery) (*EventPage, error) {
	resp, err := c.get(ctx, c.hc, "/events", queryValues(q, false), nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var page struct {
		Events     []*Event `json:"events"`
		NextCursor string   `json:"next_cursor"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&page); err != nil {
		return nil, fmt.Errorf("talkdesk: event log %s: a page that does not read: %w", c.base.Host, err)
	}
	return &EventPage{Events: page.Events, NextCursor: page.NextCursor}, nil
}

// Export copies every event matching q to w as JSON Lines, as the log
// streams them (GET {base}/events with Accept: application/x-ndjson). An
// export the server cut short fails.
func (c *EventLogClient) Export(ctx context.Context, w io.Writer, q EventQuery) error {
	resp, err := c.get(ctx, c.stream, "/events", queryValues(q, false), http.Header{"Accept": {"application/x-ndjson"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("talkdesk: event log %s: the export was cut short: %w", c.base.Host, err)
	}
	return nil
}

// Events yields every event of the export of q, decoded, as it streams.
func (c *EventLogClient) Events(ctx context.Context, q EventQuery) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		resp, err := c.get(ctx, c.stream, "/events", queryValues(q, false), http.Header{"Accept": {"application/x-ndjson"}})
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			ev := new(Event)
			if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
				yield(nil, fmt.Errorf("talkdesk: event log %s: a line that does not read: %w", c.base.Host, err))
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(nil, fmt.Errorf("talkdesk: event log %s: the export was cut short: %w", c.base.Host, err))
		}
	}
}

// Follow yields the events matching q's filters as the log commits them
// (GET {base}/events/stream, Server-Sent Events): those after afterID
// ("" for all), then each new one, until ctx is done. A dropped connection
// is resumed after the last event yielded (Last-Event-ID), silently; an
// error the server answers (a wrong key, an unknown afterID) ends it.
func (c *EventLogClient) Follow(ctx context.Context, q EventQuery, afterID string) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		last := afterID
		for {
			var header http.Header
			if last != "" {
				header = http.Header{"Last-Event-ID": {last}}
			}
			resp, err := c.get(ctx, c.stream, "/events/stream", queryValues(q, true), header)
			if err != nil {
				if ctx.Err() != nil {
					yield(nil, ctx.Err())
					return
				}
				// A refusal ends the stream; the server unreachable, down or
				// busy (5xx, 429) does not: it is asked again.
				if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
					yield(nil, err)
					return
				}
			} else {
				stop := false
				last, stop = c.readStream(resp, last, yield)
				resp.Body.Close()
				if stop {
					return
				}
			}
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-time.After(c.retry):
			}
		}
	}
}

// readStream yields the events of one connection of the stream, and
// returns the ID of the last, and whether the iteration must stop.
func (c *EventLogClient) readStream(resp *http.Response, last string, yield func(*Event, error) bool) (string, bool) {
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var id, event string
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		if line != "" {
			name, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch name {
			case "id":
				id = value
			case "event":
				event = value
			case "data":
				data.WriteString(value)
			}
			continue
		}
		switch {
		case data.Len() == 0:
		case event == "error":
			var e struct {
				Error string `json:"error"`
			}
			json.Unmarshal([]byte(data.String()), &e)
			if strings.Contains(e.Error, "reconnect") {
				break // the store failed: resume
			}
			yield(nil, fmt.Errorf("talkdesk: event log %s: %s", c.base.Host, clip(e.Error)))
			return last, true
		default:
			ev := new(Event)
			if err := json.Unmarshal([]byte(data.String()), ev); err != nil {
				yield(nil, fmt.Errorf("talkdesk: event log %s: an event that does not read: %w", c.base.Host, err))
				return last, true
			}
			if id != "" {
				last = id
			} else {
				last = ev.ID
			}
			if !yield(ev, nil) {
				return last, true
			}
		}
		id, event = "", ""
		data.Reset()
	}
	return last, false
}
