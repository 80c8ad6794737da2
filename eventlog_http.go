package talkdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EventLogHandler serves a conversation log ([EventStore]) over HTTP,
// read-only, to BI tools, notebooks, dashboards and automations in any
// language. Mount it under a prefix of your choice; it answers:
//
//   - GET {prefix}/events: one page of events as JSON,
//     {"events": [...], "next_cursor": "..."} ("" on the last page), with a
//     Link: <...>; rel="next" header while there is a next page. Query
//     parameters: interaction_id, contact_id, agent_id, type (repeated or
//     comma-separated), since and until (RFC 3339; since inclusive, until
//     exclusive, on occurred_at), cursor (next_cursor of the page before,
//     with the same filters) and limit (1 to 1000; 100 by default).
//   - the same with Accept: application/x-ndjson: every matching event as
//     JSON Lines, written as it is read, in memory that does not grow with
//     the export (limit is then the size of each read, not a cap).
//   - GET {prefix}/events/stream: Server-Sent Events over
//     [EventStore.Follow], one message per event in commit order, its id:
//     the event ID and its data: the event as one JSON line. Parameters:
//     interaction_id, contact_id, agent_id, type, and after (an event ID to
//     start after; the Last-Event-ID header, which EventSource sends when
//     it reconnects, takes precedence), so a client resumes after a dropped
//     connection without missing or repeating an event. A comment line
//     every 15 s (see [WithHeartbeat]) keeps proxies from closing a quiet
//     stream; a stream ends when its client goes away.
//
// Each event is the JSON of [Event] with its payload warnings, as an
// [EventLog] stores it and [Export] writes it. Every request must carry a
// credential ([WithAPIKeys] or [WithEventLogAuth]): 401 without one. Any
// method but GET and HEAD gets 405. A bad parameter gets a 400 whose JSON
// body, {"error": "..."}, names it; an error of the store a 500 (logged,
// not shown). Streams and exports are limited per client
// ([WithStreamLimit]): 429 beyond. A stream or export whose client reads
// nothing for a while is ended ([WithStallTimeout]), and [EventLogHandler.Close]
// ends them all, for a server's shutdown.
type EventLogHandler struct {
	store       EventStore
	auth        func(*http.Request) (string, error)
	keys        [][sha256.Size]byte
	streamLimit int
	heartbeat   time.Duration
	stall       time.Duration
	followGrace time.Duration // see followGrace
	logger      *slog.Logger

	// done ends every stream and export when the handler is closed.
	done  context.Context
	close context.CancelFunc

	mu      sync.Mutex
	streams map[string]int // open streams and exports per client
}

// EventLogHandlerOption configures an [EventLogHandler].
type EventLogHandlerOption interface {
	applyEventLogHandler(*EventLogHandler)
}

type eventLogHandlerOptionFunc func(*EventLogHandler)

func (f eventLogHandlerOptionFunc) applyEventLogHandler(h *EventLogHandler) { f(h) }

// WithAPIKeys lets in the requests that carry one of keys as
// "Authorization: Bearer KEY", compared in constant time (every key is
// compared, whatever matches). A key never appears in logs or errors.
// Empty keys are refused by NewEventLogHandler.
func WithAPIKeys(keys ...string) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) {
		for _, k := range keys {
			if k == "" {
				h.keys = append(h.keys, [sha256.Size]byte{}) // refused in NewEventLogHandler
				continue
			}
			h.keys = append(h.keys, sha256.Sum256([]byte(k)))
		}
	})
}

// WithEventLogAuth lets in the requests for which check returns a nil
// error, with your own credentials (a session cookie, mTLS, a gateway's
// header). client names the caller, for the limit on its streams (see
// [WithStreamLimit]). An error is answered 401; its text is not shown.
// With [WithAPIKeys] too, a request is let in when either lets it in.
func WithEventLogAuth(check func(r *http.Request) (client string, err error)) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) { h.auth = check })
}

// DefaultStreamLimit is how many streams and exports a client may hold
// open at once unless [WithStreamLimit] says otherwise.
const DefaultStreamLimit = 8

// WithStreamLimit sets how many streams (GET {prefix}/events/stream) and
// JSON Lines exports, together, one client (one API key, or one client
// name of [WithEventLogAuth]) may hold open at once: [DefaultStreamLimit]
// by default. One more is answered 429.
func WithStreamLimit(n int) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) { h.streamLimit = n })
}

// DefaultHeartbeat is how often a quiet stream gets a comment line unless
// [WithHeartbeat] says otherwise.
const DefaultHeartbeat = 15 * time.Second

// WithHeartbeat sets how often a stream without events gets a comment
// line, so that proxies and load balancers do not close it as idle:
// [DefaultHeartbeat] by default.
func WithHeartbeat(d time.Duration) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) { h.heartbeat = d })
}

// DefaultStallTimeout is how long a stream or an export waits for its
// client to take what it writes unless [WithStallTimeout] says otherwise.
const DefaultStallTimeout = 30 * time.Second

// WithStallTimeout sets how long a stream or an export may wait for its
// client to take what it writes: a client that reads nothing for d (its
// connection's buffers full) is cut off, and its place under
// [WithStreamLimit] freed. [DefaultStallTimeout] by default. A stream's
// heartbeat ([WithHeartbeat]) keeps a quiet stream from looking stalled.
func WithStallTimeout(d time.Duration) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) { h.stall = d })
}

// WithEventLogHandlerLogger makes the handler log refused requests and the
// store's errors. Credentials and events are never logged.
func WithEventLogHandlerLogger(l *slog.Logger) EventLogHandlerOption {
	return eventLogHandlerOptionFunc(func(h *EventLogHandler) { h.logger = l })
}

// NewEventLogHandler returns a handler that serves s. It fails without an
// authenticator ([WithAPIKeys] or [WithEventLogAuth]): the log holds
// callers' names, numbers and notes, and is never served open.
func NewEventLogHandler(s EventStore, opts ...EventLogHandlerOption) (*EventLogHandler, error) {
	if s == nil {
		return nil, invalid("store", "must not be nil")
	}
	h := &EventLogHandler{store: s, streamLimit: DefaultStreamLimit, heartbeat: DefaultHeartbeat, stall: DefaultStallTimeout, followGrace: followGrace, streams: map[string]int{}}
	for _, o := range opts {
		if o != nil {
			o.applyEventLogHandler(h)
		}
	}
	switch {
	case len(h.keys) == 0 && h.auth == nil:
		return nil, invalid("options", "an EventLogHandler needs WithAPIKeys or WithEventLogAuth: the log is never served open")
	case h.streamLimit < 1:
		return nil, invalid("WithStreamLimit", "must be at least 1")
	case h.heartbeat <= 0:
		return nil, invalid("WithHeartbeat", "must be positive")
	case h.stall <= 0:
		return nil, invalid("WithStallTimeout", "must be positive")
	}
	for _, k := range h.keys {
		if k == ([sha256.Size]byte{}) {
			return nil, invalid("WithAPIKeys", "a key must not be empty")
		}
	}
	h.done, h.close = context.WithCancel(context.Background())
	return h, nil
}

// Close ends every stream and export the handler is serving (a stream's
// client sees its answer end, and reconnects to another server with
// Last-Event-ID; an export is cut short) and answers 503 to every request
// after it. Call it when the server shuts down, since
// http.Server.Shutdown waits for them otherwise:
//
//	srv.RegisterOnShutdown(func() { h.Close() })
//
// Close does not wait for the streams to end: Shutdown does.
func (h *EventLogHandler) Close() error {
	h.close()
	return nil
}

// String describes the handler without its keys.
func (h *EventLogHandler) String() string {
	return fmt.Sprintf("talkdesk.EventLogHandler{keys: %d, auth func: %t, streams per client: %d}", len(h.keys), h.auth != nil, h.streamLimit)
}

// GoString is String, so that %#v shows no digest of a key either.
func (h *EventLogHandler) GoString() string { return h.String() }

// Format prints String for every verb, so that no verb (%d, %x...) shows
// the digests of the keys.
func (h *EventLogHandler) Format(f fmt.State, _ rune) { io.WriteString(f, h.String()) }

// ServeHTTP answers a request as [EventLogHandler] says.
func (h *EventLogHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.done.Err() != nil {
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "the event log server is shutting down; try again")
		return
	}
	client, ok := h.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="talkdesk event log"`)
		h.fail(w, r, http.StatusUnauthorized, "missing or wrong credentials: send Authorization: Bearer KEY")
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	var stream bool
	switch {
	case strings.HasSuffix(path, "/events/stream") || path == "events/stream":
		stream = true
	case strings.HasSuffix(path, "/events") || path == "events":
	default:
		h.fail(w, r, http.StatusNotFound, "no such resource: GET .../events or .../events/stream")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.fail(w, r, http.StatusMethodNotAllowed, "the event log is read-only: GET or HEAD")
		return
	}
	if stream {
		h.serveStream(w, r, client)
		return
	}
	q, err := parseEventQuery(r.URL.Query(), false)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if acceptsNDJSON(r.Header.Values("Accept")) {
		h.serveExport(w, r, q, client)
		return
	}
	h.servePage(w, r, q)
}

// authenticate returns the client of r, or false.
func (h *EventLogHandler) authenticate(r *http.Request) (string, bool) {
	if len(h.keys) > 0 {
		if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && token != "" {
			given := sha256.Sum256([]byte(strings.TrimSpace(token)))
			match := -1
			for i := range h.keys {
				if subtle.ConstantTimeCompare(given[:], h.keys[i][:]) == 1 {
					match = i
				}
			}
			if match >= 0 {
				return "key-" + strconv.Itoa(match), true
			}
		}
	}
	if h.auth != nil {
		if client, err := h.auth(r); err == nil {
			return "auth-" + client, true
		}
	}
	return "", false
}

// servePage writes one page as JSON, built from the events' stored form.
func (h *EventLogHandler) servePage(w http.ResponseWriter, r *http.Request, q EventQuery) {
	page, err := h.store.Query(r.Context(), q)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	buf := bytes.NewBuffer(make([]byte, 0, 64+len(page.Events)*1024))
	buf.WriteString(`{"events":[`)
	for i, ev := range page.Events {
		line, err := encodeLogLine(ev)
		if err != nil {
			h.storeError(w, r, err)
			return
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(line)
	}
	buf.WriteString(`],"next_cursor":`)
	cursor, _ := json.Marshal(page.NextCursor)
	buf.Write(cursor)
	buf.WriteString("}\n")
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	if page.NextCursor != "" {
		// A reference of only a query: it resolves against the URL the
		// client asked for, wherever the handler is mounted (under
		// http.StripPrefix, behind a proxy that rewrites the path).
		next := r.URL.Query()
		next.Set("cursor", page.NextCursor)
		hdr.Set("Link", fmt.Sprintf(`<?%s>; rel="next"`, next.Encode()))
	}
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

// serveExport writes every matching event as JSON Lines, as it reads
// them. Once the first byte is out, an error can only cut the answer
// short: the connection is aborted, so the client sees an incomplete
// answer, not a complete one. An export holds one of its client's places
// under the stream limit, and ends when its client stalls or the handler
// is closed.
func (h *EventLogHandler) serveExport(w http.ResponseWriter, r *http.Request, q EventQuery, client string) {
	if !h.openStream(client) {
		h.tooMany(w, r)
		return
	}
	defer h.closeStream(client)
	ctx, end := h.requestContext(w, r)
	defer end()
	if q.Limit == 0 {
		q.Limit = MaxEventPageSize
	}
	// The first page before any byte, so that a bad cursor or a store
	// that is down gets its status.
	page, err := h.store.Query(ctx, q)
	if err != nil {
		h.storeError(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/x-ndjson")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	sw := h.stallWriter(ctx, w)
	ew := &exportWriter{w: sw}
	for _, ev := range page.Events {
		if err := ew.event(ev); err != nil {
			h.abort(r, err)
		}
	}
	if page.NextCursor == "" {
		return
	}
	q.Cursor = page.NextCursor
	if err := Export(ctx, h.store, sw, q); err != nil {
		h.abort(r, err)
	}
}

// requestContext returns the context of a stream or an export: r's,
// ended too when the handler is closed. Once it ends, the connection's
// write deadline is set to now, so that a write blocked on a client that
// reads nothing fails at once. end must be called when the answer
// is done; a second call does nothing.
func (h *EventLogHandler) requestContext(w http.ResponseWriter, r *http.Request) (ctx context.Context, end func()) {
	ctx, cancel := context.WithCancel(r.Context())
	stopClose := context.AfterFunc(h.done, cancel)
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	answering := true
	stopCut := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if answering { // not once ServeHTTP returned: the connection may serve another request
			rc.SetWriteDeadline(time.Now())
		}
	})
	return ctx, sync.OnceFunc(func() {
		stopCut()
		mu.Lock()
		answering = false
		mu.Unlock()
		if ctx.Err() != nil {
			// Cut off, by the client or by Close: what is left in the
			// connection's buffer is not waited for.
			rc.SetWriteDeadline(time.Now())
		}
		stopClose()
		cancel()
	})
}

// stallWriter returns w with a write deadline, stall ahead, set before
// each write: a client that takes nothing for that long fails the write.
// Once ctx (see requestContext) ends, every write fails.
func (h *EventLogHandler) stallWriter(ctx context.Context, w http.ResponseWriter) *deadlineWriter {
	return &deadlineWriter{ctx: ctx, w: w, rc: http.NewResponseController(w), stall: h.stall}
}

// deadlineWriter is the writer of stallWriter.
type deadlineWriter struct {
	ctx   context.Context
	w     io.Writer
	rc    *http.ResponseController
	stall time.Duration
}

// extend moves the write deadline stall ahead, unless ctx ended: then the
// deadline requestContext set stays, and the write is not tried.
func (d *deadlineWriter) extend() error {
	if err := d.ctx.Err(); err != nil {
		return err
	}
	d.rc.SetWriteDeadline(time.Now().Add(d.stall)) // (not supported by every ResponseWriter: then no deadline)
	if err := d.ctx.Err(); err != nil {
		// It ended meanwhile, and requestContext's deadline may have been
		// set before this one.
		d.rc.SetWriteDeadline(time.Now())
		return err
	}
	return nil
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if err := d.extend(); err != nil {
		return 0, err
	}
	return d.w.Write(p)
}

// flush sends what is buffered, with the same deadline.
func (d *deadlineWriter) flush() error {
	if err := d.extend(); err != nil {
		return err
	}
	return d.rc.Flush()
}

// exportWriter writes events as JSON Lines.
type exportWriter struct {
	w   io.Writer
	buf []byte
}

func (e *exportWriter) event(ev *Event) error {
	line, err := encodeLogLine(ev)
	if err != nil {
		return err
	}
	e.buf = append(append(e.buf[:0], line...), '\n')
	_, err = e.w.Write(e.buf)
	return err
}

// abort ends an answer whose status is out: net/http closes the
// connection without ending the chunked body, so the client knows it is
// incomplete.
func (h *EventLogHandler) abort(r *http.Request, err error) {
	if h.logger != nil && r.Context().Err() == nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "talkdesk event log: export cut short",
			slog.String("path", r.URL.EscapedPath()), slog.String("error", err.Error()))
	}
	panic(http.ErrAbortHandler)
}

// streamGrace is how long a stream waits for Follow's first answer before
// it sends its headers: an unknown Last-Event-ID or a store that is down
// is answered with a status within it; later, with an error event.
const streamGrace = 250 * time.Millisecond

// followGrace is how long a stream waits, once it ends, for the store's
// Follow to return before it logs that the store did not: its client's
// place is freed at once in any case.
const followGrace = 5 * time.Second

// serveStream follows the store as Server-Sent Events.
func (h *EventLogHandler) serveStream(w http.ResponseWriter, r *http.Request, client string) {
	values := r.URL.Query()
	after := values.Get("after")
	values.Del("after")
	if len(r.URL.Query()["after"]) > 1 {
		h.fail(w, r, http.StatusBadRequest, "after: given more than once")
		return
	}
	q, err := parseEventQuery(values, true)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after = id
	}
	if !h.openStream(client) {
		h.tooMany(w, r)
		return
	}
	defer h.closeStream(client)
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}

	ctx, end := h.requestContext(w, r)
	defer end()
	type item struct {
		ev  *Event
		err error
	}
	items := make(chan item, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range h.store.Follow(ctx, q, after) {
			select {
			case items <- item{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		end()
		// The store's Follow ends once it sees ctx ended; one that does
		// not must not keep the client's place: it is freed now, and the
		// store's failure logged.
		select {
		case <-done:
		default:
			go h.awaitFollow(r, done)
		}
	}()

	sw := h.stallWriter(ctx, w)
	started := false
	start := func() bool {
		started = true
		hdr := w.Header()
		hdr.Set("Content-Type", "text/event-stream")
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		w.WriteHeader(http.StatusOK)
		if _, err := io.WriteString(sw, "retry: 2000\n\n"); err != nil {
			return false
		}
		return sw.flush() == nil
	}
	grace := time.NewTimer(streamGrace)
	defer grace.Stop()
	heartbeat := time.NewTicker(h.heartbeat)
	defer heartbeat.Stop()
	var buf []byte
	for {
		select {
		case it := <-items:
			if it.err != nil {
				if errors.Is(it.err, context.Canceled) && ctx.Err() != nil {
					return // the client went away, or the handler was closed
				}
				if !started {
					h.streamError(w, r, it.err)
					return
				}
				msg := "the event store failed; reconnect to resume"
				if errors.Is(it.err, ErrNotFound) || errors.Is(it.err, ErrInvalid) {
					msg = publicError(it.err)
				}
				h.logStoreError(r, it.err)
				b, _ := json.Marshal(map[string]string{"error": msg})
				fmt.Fprintf(sw, "event: error\ndata: %s\n\n", b)
				sw.flush()
				return
			}
			if !started && !start() {
				return
			}
			line, err := encodeLogLine(it.ev)
			if err != nil {
				h.logStoreError(r, err)
				return
			}
			buf = buf[:0]
			if safeEventID(it.ev.ID) {
				buf = append(append(append(buf, "id: "...), it.ev.ID...), '\n')
			}
			buf = append(append(append(buf, "data: "...), line...), "\n\n"...)
			if _, err := sw.Write(buf); err != nil {
				return
			}
			if len(items) == 0 {
				if err := sw.flush(); err != nil {
					return
				}
			}
		case <-grace.C:
			if !started && !start() {
				return
			}
		case <-heartbeat.C:
			if !started && !start() {
				return
			}
			if _, err := fmt.Fprintf(sw, ": heartbeat %s\n\n", time.Now().UTC().Format(time.RFC3339)); err != nil {
				return
			}
			if err := sw.flush(); err != nil {
				return
			}
		case <-ctx.Done():
			return
		}
	}
}

// awaitFollow waits for the Follow of a stream that ended, logging once
// if the store does not return within followGrace of its context ending.
func (h *EventLogHandler) awaitFollow(r *http.Request, done <-chan struct{}) {
	t := time.NewTimer(h.followGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	if h.logger != nil {
		h.logger.LogAttrs(context.Background(), slog.LevelError, "talkdesk event log: the store's Follow did not return after its context ended; the stream's place is freed, its goroutine waits for the store",
			slog.String("path", r.URL.EscapedPath()), slog.Duration("waited", h.followGrace))
	}
	<-done
}

// safeEventID reports whether id can be an SSE id: field (no line break,
// no NUL). The IDs of parsed events always can; an event given another ID
// by hand is sent without one.
func safeEventID(id string) bool { return !strings.ContainsAny(id, "\r\n\x00") }

// tooMany answers a stream or export beyond the client's limit.
func (h *EventLogHandler) tooMany(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "10")
	h.fail(w, r, http.StatusTooManyRequests, fmt.Sprintf("this client has %d streams and exports open, the most it may", h.streamLimit))
}

func (h *EventLogHandler) openStream(client string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams[client] >= h.streamLimit {
		return false
	}
	h.streams[client]++
	return true
}

func (h *EventLogHandler) closeStream(client string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.streams[client]--; h.streams[client] <= 0 {
		delete(h.streams, client)
	}
}

// streamError answers a stream that failed before it started.
func (h *EventLogHandler) streamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrNotFound) {
		h.fail(w, r, http.StatusNotFound, "after / Last-Event-ID: no event with this ID is stored")
		return
	}
	h.storeError(w, r, err)
}

// storeError answers an error of the store: 400 for the caller's
// mistake, 500 (the error logged, not shown) for the store's.
func (h *EventLogHandler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrInvalid) {
		h.fail(w, r, http.StatusBadRequest, publicError(err))
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	h.logStoreError(r, err)
	h.fail(w, r, http.StatusInternalServerError, "the event store failed; try again")
}

func (h *EventLogHandler) logStoreError(r *http.Request, err error) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelError, "talkdesk event log: store error",
			slog.String("path", r.URL.EscapedPath()), slog.String("error", err.Error()))
	}
}

// publicError is the text of a caller's mistake, with the query
// parameter it is about.
func publicError(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		if p, ok := fieldParams[ve.Field]; ok {
			return p + ": " + ve.Reason
		}
		return ve.Error()
	}
	if errors.Is(err, ErrNotFound) {
		return "after / Last-Event-ID: no event with this ID is stored"
	}
	return "invalid request"
}

// fieldParams names the query parameter of each field of EventQuery.
var fieldParams = map[string]string{
	"Cursor": "cursor", "Limit": "limit", "Types": "type", "Since": "since", "Until": "until",
	"InteractionID": "interaction_id", "ContactID": "contact_id", "AgentID": "agent_id",
}

// fail answers status with a JSON error naming what is wrong.
func (h *EventLogHandler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if h.logger != nil && status != http.StatusInternalServerError {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "talkdesk event log: request refused",
			slog.String("method", r.Method), slog.String("path", r.URL.EscapedPath()),
			slog.Int("status", status), slog.String("reason", msg))
	}
	b, _ := json.Marshal(map[string]string{"error": msg})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(append(b, '\n'))
	}
}

// acceptsNDJSON reports whether the Accept header prefers JSON Lines
// (application/x-ndjson, or application/jsonl) to JSON, as RFC 9110 reads
// it: each type takes the quality of the most specific range that names
// it (a type over type/*, over */*), q=0 (or 0.0, 0.000) means "not
// acceptable", and JSON Lines must be named itself and have a quality
// above zero and at least that of JSON. No Accept, or one that names
// neither, is JSON.
func acceptsNDJSON(accept []string) bool {
	type quality struct {
		rank int // 2 the type itself, 1 application/*, 0 */*, -1 not named
		q    float64
	}
	ndjson, json := quality{-1, 0}, quality{-1, 0}
	consider := func(b *quality, rank int, q float64) {
		if rank > b.rank || rank == b.rank && q > b.q {
			*b = quality{rank, q}
		}
	}
	for _, a := range accept {
		for _, part := range strings.Split(a, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q, ok := qValue(params["q"])
			if !ok {
				continue
			}
			switch mt {
			case "application/x-ndjson", "application/jsonl":
				consider(&ndjson, 2, q)
			case "application/json":
				consider(&json, 2, q)
			case "application/*":
				consider(&ndjson, 1, q)
				consider(&json, 1, q)
			case "*/*":
				consider(&ndjson, 0, q)
				consider(&json, 0, q)
			}
		}
	}
	return ndjson.rank == 2 && ndjson.q > 0 && ndjson.q >= json.q
}

// qValue reads a quality value of RFC 9110 (0 to 1, at most three
// decimals); "" is 1.
func qValue(s string) (float64, bool) {
	if s == "" {
		return 1, true
	}
	if len(s) > 5 || (s[0] != '0' && s[0] != '1') || len(s) > 1 && s[1] != '.' {
		return 0, false
	}
	q, err := strconv.ParseFloat(s, 64)
	if err != nil || q < 0 || q > 1 {
		return 0, false
	}
	return q, true
}

// parseEventQuery reads the query parameters of a page, an export or (with
// stream) a stream, naming the parameter in any error.
func parseEventQuery(v url.Values, stream bool) (EventQuery, error) {
	var q EventQuery
	allowed := map[string]bool{"interaction_id": true, "contact_id": true, "agent_id": true, "type": true}
	if !stream {
		for _, p := range []string{"since", "until", "cursor", "limit"} {
			allowed[p] = true
		}
	}
	for name, vals := range v {
		if !allowed[name] {
			if stream && (name == "since" || name == "until" || name == "cursor" || name == "limit") {
				return q, fmt.Errorf("%s: not a parameter of the stream, which follows events as they are committed (use after or Last-Event-ID to resume)", name)
			}
			return q, fmt.Errorf("%s: unknown parameter", clip(name))
		}
		if name != "type" && len(vals) > 1 {
			return q, fmt.Errorf("%s: given more than once", name)
		}
	}
	q.InteractionID, q.ContactID, q.AgentID = v.Get("interaction_id"), v.Get("contact_id"), v.Get("agent_id")
	for _, val := range v["type"] {
		for _, t := range strings.Split(val, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			tr, err := ParseTrigger(t)
			if Trigger(t) == EventReportedCall {
				tr, err = EventReportedCall, nil
			}
			if err != nil {
				return q, fmt.Errorf("type: %q is not a trigger (one of %s)", clip(t), triggerList())
			}
			q.Types = append(q.Types, tr)
		}
	}
	for _, tp := range []struct {
		name string
		dst  *time.Time
	}{{"since", &q.Since}, {"until", &q.Until}} {
		s := v.Get(tp.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-03-02T09:00:00Z", tp.name, clip(s))
		}
		*tp.dst = t
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return q, errors.New("since: must be before until")
	}
	q.Cursor = v.Get("cursor")
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return q, fmt.Errorf("limit: %q is not a number", clip(s))
		case n < 1 || n > MaxEventPageSize:
			return q, fmt.Errorf("limit: %d is not between 1 and %d", n, MaxEventPageSize)
		}
		q.Limit = n
	}
	return q, nil
}

// clip cuts a value quoted in an error to 64 bytes.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func triggerList() string {
	var names []string
	for _, t := range Triggers() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}
