package talkdesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// WebhookHandler receives Talkdesk's trigger deliveries. It is an
// http.Handler to mount at a path prefix: trigger t is received on
// {prefix}/{t}, the URL that [WebhookHandler.CallbackURL] builds and
// [Client.Subscribe] registers.
//
// Each request goes through three steps, each usable on its own:
// [WebhookHandler.Verify] checks the webhook token, [ParseEvent] parses the
// body, and [WebhookHandler.Dispatch] records and hands the event to the
// handlers. ServeHTTP answers:
//
//   - 404 when the last path segment is not a trigger;
//   - 405, with Allow: POST, for any method but POST;
//   - 401 when a secret is set and the token is missing or wrong;
//   - 415 when the Content-Type is not JSON (application/json or +json);
//   - 413 when the body is larger than the limit (1 MiB by default);
//   - 400 when the body is not a JSON object, or one of more than 1024
//     members;
//   - 500 when a handler returned an error or panicked, or the event could
//     not be stored in the event log ([WithEventLog]), so that Talkdesk
//     delivers the event again;
//   - 200 once every handler returned nil, or when the event's ID was
//     already handled successfully (a redelivery).
//
// The checks run in that order, and nothing is dispatched unless all pass.
// The secret never appears in logs, errors or the formatted handler.
type WebhookHandler struct {
	secret  string
	maxBody int64
	logger  *slog.Logger
	now     func() time.Time
	log     EventStore

	mu       sync.RWMutex
	handlers []webhookFunc

	seen *deliveries
}

type webhookFunc struct {
	trigger Trigger // "" for every trigger
	fn      func(context.Context, *Event) error
}

// WebhookOption configures a [WebhookHandler].
type WebhookOption interface {
	applyWebhook(*WebhookHandler)
}

type webhookOptionFunc func(*WebhookHandler)

func (f webhookOptionFunc) applyWebhook(h *WebhookHandler) { f(h) }

// DefaultMaxBodyBytes is the largest body a WebhookHandler reads unless
// [WithMaxBodyBytes] says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// WebhookTokenParam is the query parameter that carries the webhook secret
// in callback URLs.
const WebhookTokenParam = "token"

// WithWebhookSecret makes the handler accept only requests whose query
// parameter token equals secret, compared in constant time. Put the secret
// in the callback URLs with [WebhookHandler.CallbackURL]. An empty secret
// turns the check off.
func WithWebhookSecret(secret string) WebhookOption {
	return webhookOptionFunc(func(h *WebhookHandler) {
		h.secret = secret
	})
}

// WithMaxBodyBytes sets the largest body the handler reads; larger ones
// get 413. n <= 0 keeps the default, [DefaultMaxBodyBytes].
func WithMaxBodyBytes(n int64) WebhookOption {
	return webhookOptionFunc(func(h *WebhookHandler) {
		if n > 0 {
			h.maxBody = n
		}
	})
}

// WithWebhookLogger makes the handler log rejected requests (Warn), failed
// handlers (Error) and accepted events (Debug): the trigger, the status,
// the event ID and the reason. Query strings, tokens and bodies are never
// logged.
func WithWebhookLogger(l *slog.Logger) WebhookOption {
	return webhookOptionFunc(func(h *WebhookHandler) { h.logger = l })
}

// WithWebhookClock makes the handler take the time events are received
// (Event.ReceivedAt, and the OccurredAt of an event without a time of its
// own) from now rather than from time.Now: for tests, and for demos and
// replays that must give the same events every run.
func WithWebhookClock(now func() time.Time) WebhookOption {
	return webhookOptionFunc(func(h *WebhookHandler) {
		if now != nil {
			h.now = now
		}
	})
}

// WithEventLog makes the handler append every event to s (an [*EventLog],
// a PostgreSQL store, any [EventStore]) before any handler runs, so the
// log is complete even when a handler fails, and answer 200 only after
// the append returned (the event is stored). A redelivered event is not
// stored twice. When the append fails the handler answers 500 and runs no
// handler, so Talkdesk delivers again.
func WithEventLog(s EventStore) WebhookOption {
	return webhookOptionFunc(func(h *WebhookHandler) {
		if l, ok := s.(*EventLog); ok && l == nil {
			s = nil // a nil *EventLog is no log, as nil is
		}
		h.log = s
	})
}

// NewWebhookHandler returns a handler configured by opts, with no event
// handlers yet: register them with Handle and HandleAll.
func NewWebhookHandler(opts ...WebhookOption) *WebhookHandler {
	h := &WebhookHandler{maxBody: DefaultMaxBodyBytes, now: time.Now, seen: newDeliveries(maxRemembered)}
	for _, opt := range opts {
		if opt != nil {
			opt.applyWebhook(h)
		}
	}
	return h
}

// Handle registers fn for the events of trigger t. Handlers run in the
// order they were registered, one after the other, and stop at the first
// that fails. A nil fn is ignored.
func (h *WebhookHandler) Handle(t Trigger, fn func(context.Context, *Event) error) {
	if fn == nil {
		return
	}
	h.mu.Lock()
	h.handlers = append(h.handlers, webhookFunc{trigger: t, fn: fn})
	h.mu.Unlock()
}

// HandleAll registers fn for the events of every trigger, in order with
// the handlers of Handle.
func (h *WebhookHandler) HandleAll(fn func(context.Context, *Event) error) {
	h.Handle("", fn)
}

// CallbackURL returns the URL on which the handler receives trigger t
// when it is mounted at baseURL: baseURL + "/" + t, with the webhook
// secret as query parameter token when one is set. Pass it to
// [Client.Subscribe]. baseURL must be an absolute http or https URL
// without query or fragment, such as "https://hooks.example.com/talkdesk";
// otherwise, or for an unknown trigger, CallbackURL fails with [ErrInvalid].
func (h *WebhookHandler) CallbackURL(baseURL string, t Trigger) (string, error) {
	if _, err := ParseTrigger(string(t)); err != nil {
		return "", err
	}
	u, err := parseHTTPURL("baseURL", baseURL)
	if err != nil {
		return "", err
	}
	u = u.JoinPath(string(t))
	if h.secret != "" {
		u.RawQuery = url.Values{WebhookTokenParam: {h.secret}}.Encode()
	}
	return u.String(), nil
}

// ErrWebhookToken is the error of [WebhookHandler.Verify] for a request
// whose webhook token is missing or wrong. It matches [ErrUnauthorized].
var ErrWebhookToken = fmt.Errorf("talkdesk: webhook token missing or wrong: %w", ErrUnauthorized)

// Verify checks the webhook token of r against the handler's secret in
// constant time; it fails with [ErrWebhookToken] when the token is
// missing, repeated or wrong. Without a secret every request passes.
func (h *WebhookHandler) Verify(r *http.Request) error {
	if h.secret == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	tokens := q[WebhookTokenParam]
	if err != nil || len(tokens) != 1 {
		return ErrWebhookToken
	}
	if !SecretEqual(tokens[0], h.secret) {
		return ErrWebhookToken
	}
	return nil
}

// Dispatch appends ev to the event log, if the handler has one (see
// [WithEventLog]), then hands it to the handlers registered for its
// trigger, in order, and returns the first error; a handler that panics is recovered and its
// panic returned as an error. It is the dispatch step of ServeHTTP, usable
// on its own.
//
// Dispatch remembers the IDs of the events it handled successfully (the
// last 16384): an event whose ID it has handled before returns nil at once
// without running the handlers again, and one that arrives while the same
// ID is being handled waits for that attempt. An event whose handlers
// failed is not remembered, so its redelivery runs them again.
//
// With an event log that is a [HandledMarker] (an [*EventLog] is), the log
// remembers too, for every stored event and across restarts: the handlers
// of a stored event run until they succeed once, and not after (a crash
// between their success and the mark can run them once more). So a handler
// can rely on this: it runs at least once for every event Talkdesk got a
// 200 for, and again only after it failed or the process crashed. With a
// store shared by replicas, two replicas given the same redelivery at the
// same moment may both run it; make handlers idempotent by event ID where
// that matters.
func (h *WebhookHandler) Dispatch(ctx context.Context, ev *Event) error {
	if ev == nil {
		return invalid("event", "must not be nil")
	}
	marker, _ := h.log.(HandledMarker)
	if h.log != nil {
		added, err := h.log.Append(ctx, ev)
		if err != nil {
			return fmt.Errorf("talkdesk: storing event %s: %w", ev.ID, err)
		}
		if !added && marker != nil {
			// A redelivery: the store knows whether its handlers succeeded,
			// before a restart too.
			if done, err := marker.Handled(ctx, ev.ID); err != nil || done {
				return err
			}
		}
	}
	first, release, err := h.seen.begin(ctx, ev.ID)
	if err != nil || !first {
		return err
	}
	err = h.runHandlers(ctx, ev)
	if err == nil && marker != nil {
		if merr := marker.MarkHandled(ctx, ev.ID); merr != nil && h.logger != nil {
			// The handlers succeeded; only a later redelivery may run
			// them again.
			h.logger.LogAttrs(ctx, slog.LevelWarn, "talkdesk webhook: could not mark the event handled",
				slog.String("event", ev.ID), slog.String("error", merr.Error()))
		}
	}
	release(err == nil)
	return err
}

// PanicError is the error of a function of yours that panicked: a webhook
// handler, an action of the bridge or its auth check. The server recovers,
// answers as for any other failure and goes on serving.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("talkdesk: handler panicked: %v", e.Value)
}

func (h *WebhookHandler) runHandlers(ctx context.Context, ev *Event) error {
	h.mu.RLock()
	handlers := h.handlers
	h.mu.RUnlock()
	for _, wf := range handlers {
		if wf.trigger != "" && wf.trigger != ev.Type {
			continue
		}
		if err := callHandler(ctx, wf.fn, ev); err != nil {
			return err
		}
	}
	return nil
}

func callHandler(ctx context.Context, fn func(context.Context, *Event) error, ev *Event) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn(ctx, ev)
}

// ServeHTTP receives one delivery: it checks the request, verifies the
// token, parses the body and dispatches the event, answering with the
// statuses listed on [WebhookHandler].
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	t, err := ParseTrigger(name)
	if err != nil {
		h.reject(w, r, "", http.StatusNotFound, "no such trigger")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(w, r, t, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if err := h.Verify(r); err != nil {
		h.reject(w, r, t, http.StatusUnauthorized, "webhook token missing or wrong")
		return
	}
	if !isJSONContentType(r.Header.Get("Content-Type")) {
		h.reject(w, r, t, http.StatusUnsupportedMediaType, "content type must be application/json")
		return
	}
	if r.ContentLength > h.maxBody {
		h.reject(w, r, t, http.StatusRequestEntityTooLarge, "body too large")
		return
	}
	var body bytes.Buffer
	if r.ContentLength > 0 { // read a body of known length into one buffer of that size
		body.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err = body.ReadFrom(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.reject(w, r, t, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			h.reject(w, r, t, http.StatusBadRequest, "body could not be read")
		}
		return
	}
	ev, err := parseEvent(t, body.Bytes(), h.now())
	if err != nil {
		msg := "body is not a JSON object"
		if errors.Is(err, errTooManyMembers) {
			msg = "body has " + errTooManyMembers.Error()
		}
		h.reject(w, r, t, http.StatusBadRequest, msg)
		return
	}
	if err := h.Dispatch(r.Context(), ev); err != nil {
		if h.logger != nil {
			h.logger.LogAttrs(r.Context(), slog.LevelError, "talkdesk webhook handler failed",
				slog.String("trigger", string(t)), slog.String("event_id", ev.ID), slog.String("error", err.Error()))
		}
		http.Error(w, "event not handled; deliver it again", http.StatusInternalServerError)
		return
	}
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelDebug, "talkdesk webhook event",
			slog.String("trigger", string(t)), slog.String("event_id", ev.ID), slog.Int("warnings", len(ev.Warnings)))
	}
	w.WriteHeader(http.StatusOK)
}

// reject answers with status and a short text, and logs it.
func (h *WebhookHandler) reject(w http.ResponseWriter, r *http.Request, t Trigger, status int, reason string) {
	if h.logger != nil {
		h.logger.LogAttrs(r.Context(), slog.LevelWarn, "talkdesk webhook rejected",
			slog.String("method", r.Method), slog.String("path", r.URL.EscapedPath()),
			slog.String("trigger", string(t)), slog.Int("status", status), slog.String("reason", reason))
	}
	http.Error(w, reason, status)
}

// isJSONContentType accepts application/json and any application/*+json,
// with parameters such as charset.
func isJSONContentType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// String describes the handler without its secret.
func (h *WebhookHandler) String() string {
	h.mu.RLock()
	n := len(h.handlers)
	h.mu.RUnlock()
	secret := "none"
	if h.secret != "" {
		secret = "set"
	}
	return fmt.Sprintf("talkdesk.WebhookHandler{secret: %s, maxBody: %d, handlers: %d}", secret, h.maxBody, n)
}

// GoString is String, so %#v shows no secret either.
func (h *WebhookHandler) GoString() string { return h.String() }

// Format prints String for every verb.
func (h *WebhookHandler) Format(f fmt.State, _ rune) { io.WriteString(f, h.String()) }

// maxRemembered is how many successfully handled event IDs a handler keeps.
const maxRemembered = 16384

// deliveries remembers the IDs of events handled successfully (the last n)
// and those being handled now.
type deliveries struct {
	mu       sync.Mutex
	n        int
	done     map[string]struct{}
	ring     []string
	next     int
	inFlight map[string]chan struct{}
}

func newDeliveries(n int) *deliveries {
	return &deliveries{n: n, done: make(map[string]struct{}), inFlight: make(map[string]chan struct{})}
}

// begin reports whether the caller must handle id (first) and gives the
// function to call with the outcome. It waits while another goroutine
// handles the same id; an id already handled gives first == false.
func (d *deliveries) begin(ctx context.Context, id string) (first bool, release func(ok bool), err error) {
	for {
		d.mu.Lock()
		if _, ok := d.done[id]; ok {
			d.mu.Unlock()
			return false, nil, nil
		}
		wait, busy := d.inFlight[id]
		if !busy {
			ch := make(chan struct{})
			d.inFlight[id] = ch
			d.mu.Unlock()
			return true, func(ok bool) { d.end(id, ch, ok) }, nil
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, nil, ctx.Err()
		}
	}
}

func (d *deliveries) end(id string, ch chan struct{}, ok bool) {
	d.mu.Lock()
	delete(d.inFlight, id)
	if ok {
		if len(d.ring) < d.n {
			d.ring = append(d.ring, id)
		} else {
			delete(d.done, d.ring[d.next])
			d.ring[d.next] = id
			d.next = (d.next + 1) % d.n
		}
		d.done[id] = struct{}{}
	}
	d.mu.Unlock()
	close(ch)
}
