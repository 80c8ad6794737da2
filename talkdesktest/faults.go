package talkdesktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// Fault makes the Server misbehave on matching requests, as Talkdesk, a
// gateway or the network in between may: answer an error status, answer
// late or never, drop the connection, cut or corrupt the body, or hand out
// a token the API then refuses. Inject it with [Server.InjectFault].
//
// Kind says what goes wrong; Delay makes any Kind slow; AfterAct says
// whether the Server first carries out the request (changing its state, as
// [Server.Acted] counts) or not. A Fault without AfterAct has no effect on
// the Server's state, except [FaultServe], which serves the request.
//
// What a Fault answers, when its Kind answers at all, is "its answer":
// Status (500 when zero) with Header and Body (a Talkdesk JSON error naming
// the status when Body is empty). With AfterAct, every Kind but
// [FaultRespond] damages the route's own answer instead, with Header added.
type Fault struct {
	Method string // method to match; "" matches every method
	// Path is the escaped path to match. "" matches every API route but
	// not the token endpoint; TokenPath matches the token endpoint.
	Path  string
	Count int // how many matching requests it answers; 0 means all of them

	Kind   FaultKind
	Status int         // the status of the Fault's answer; 0 means 500
	Header http.Header // headers to add to the answer, such as Retry-After
	Body   string      // the body of the Fault's answer; "" gives a Talkdesk JSON error for Status

	// Delay is how long the Server waits before anything else (before it
	// serves the request, with AfterAct). A wait ends early, and the
	// connection is closed without an answer, when the client goes away
	// or the Server closes.
	Delay time.Duration

	// AfterAct makes the Server serve the request first, so that it acts
	// on it as on any request, and only then fail as Kind says: answer
	// Status instead of the route's answer (FaultRespond), drop the
	// connection, stall, or cut, truncate or pad the route's answer. It
	// shows what "Talkdesk may have acted" means to a client. It makes no
	// difference to FaultServe and FaultBadToken. Talkdesk refuses a
	// request with 401 or 429 before acting on it: an AfterAct Fault with
	// those statuses shows a server no client can be safe with.
	AfterAct bool
}

// FaultKind says how a [Fault] answers.
type FaultKind int

// The kinds of [Fault].
const (
	// FaultRespond sends the Fault's answer instead of the route's. It is
	// the zero Kind.
	FaultRespond FaultKind = iota
	// FaultServe serves the request as usual, with Header added: together
	// with Delay, a slow Talkdesk.
	FaultServe
	// FaultDrop closes the connection without answering.
	FaultDrop
	// FaultCutBody sends the answer's status and headers, with a
	// Content-Length for the whole body, then at most half of the body,
	// and closes the connection. An answer that has no body, such as a
	// 204, goes out whole before the close: a server closing a kept-alive
	// connection the client may already be reusing.
	FaultCutBody
	// FaultTruncate sends a well-formed answer whose body is the first
	// half of the answer's body: for a JSON answer, JSON that ends too
	// early.
	FaultTruncate
	// FaultOversize sends the answer with more than [OversizeBytes] of
	// JSON whitespace before its body: valid JSON, but larger than the
	// talkdesk Client reads.
	FaultOversize
	// FaultStall answers nothing, and holds the connection open until the
	// client gives up or the Server closes.
	FaultStall
	// FaultBadToken, on the token endpoint, issues a well-formed access
	// token that the API then rejects with 401, as one revoked at once.
	// On an API route it answers 401, as for an expired token, without
	// serving the request.
	FaultBadToken
)

// OversizeBytes is how much padding a [FaultOversize] answer carries: 1 MiB
// more than the 10 MiB a talkdesk Client reads of any answer.
const OversizeBytes = 11 << 20

var faultKindNames = [...]string{"FaultRespond", "FaultServe", "FaultDrop", "FaultCutBody", "FaultTruncate", "FaultOversize", "FaultStall", "FaultBadToken"}

// String returns the constant's name, such as "FaultDrop".
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultKindNames) {
		return faultKindNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

type faultState struct {
	Fault
	left int // requests still to answer; < 0 means unlimited
}

// InjectFault adds f. Faults are tried in the order they were added; the
// first that matches a request answers it, and one that has answered its
// Count of requests is dropped.
func (s *Server) InjectFault(f Fault) {
	left := f.Count
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{Fault: f, left: left})
	s.mu.Unlock()
}

// ClearFaults removes every fault. Requests a fault is delaying or
// stalling are not released.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFault returns a copy of the fault that answers r, if any, and counts
// it down.
func (s *Server) takeFault(r *http.Request) *Fault {
	path := r.URL.EscapedPath()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if f.Path == "" && path == TokenPath || f.Path != "" && f.Path != path {
			continue
		}
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		copied := f.Fault
		return &copied
	}
	return nil
}

// answer is a complete HTTP answer, as a Fault sends or damages it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// faultAnswer is f's own answer.
func faultAnswer(f *Fault) *answer {
	a := &answer{status: f.Status, header: http.Header{}, body: []byte(f.Body)}
	if a.status == 0 {
		a.status = http.StatusInternalServerError
	}
	if f.Body == "" {
		a.header.Set("Content-Type", "application/json")
		a.body, _ = json.Marshal(map[string]string{"code": "injected_fault", "message": http.StatusText(a.status)})
	}
	return a
}

// serveFault answers r as f says, next being the route, and returns the
// status it sent, or 0 when it sent none.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, next http.Handler) int {
	if f.Delay > 0 && !s.hold(r, time.NewTimer(f.Delay)) {
		abort(w)
		return 0
	}
	if f.Kind == FaultServe {
		addHeader(w.Header(), f.Header)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		return sw.status
	}
	if f.Kind == FaultBadToken {
		return s.serveBadToken(w, r, next, f.Header)
	}

	var a *answer
	if f.AfterAct {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		a = &answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
		if f.Kind == FaultRespond {
			a = faultAnswer(f)
		}
	} else {
		a = faultAnswer(f)
	}
	addHeader(a.header, f.Header)

	switch f.Kind {
	case FaultDrop:
		abort(w)
		return 0
	case FaultStall:
		s.hold(r, nil)
		abort(w)
		return 0
	case FaultCutBody:
		a.send(w, nil, a.body[:len(a.body)/2], max(len(a.body), 1))
		_ = http.NewResponseController(w).Flush()
		abort(w)
	case FaultTruncate:
		a.send(w, nil, a.body[:len(a.body)/2], len(a.body)/2)
	case FaultOversize:
		a.send(w, padding, a.body, OversizeBytes+len(a.body))
	default:
		a.send(w, nil, a.body, len(a.body))
	}
	return a.status
}

// serveBadToken answers a token request with a token it has revoked at
// once, and an API request with the 401 of an unknown token.
func (s *Server) serveBadToken(w http.ResponseWriter, r *http.Request, next http.Handler, header http.Header) int {
	if r.URL.EscapedPath() != TokenPath {
		addHeader(w.Header(), header)
		writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid or expired access token")
		return http.StatusUnauthorized
	}
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	var issued struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &issued) == nil && issued.AccessToken != "" {
		s.mu.Lock()
		delete(s.tokens, issued.AccessToken)
		s.mu.Unlock()
	}
	a := &answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	addHeader(a.header, header)
	a.send(w, nil, a.body, len(a.body))
	return a.status
}

// padding is a block of JSON whitespace that FaultOversize repeats.
var padding = bytes.Repeat([]byte(" "), 64<<10)

// send writes a's status and headers with the given Content-Length, then
// pad repeated to OversizeBytes (when pad is set), then body.
func (a *answer) send(w http.ResponseWriter, pad, body []byte, length int) {
	h := w.Header()
	for k, v := range a.header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(length))
	w.WriteHeader(a.status)
	if pad != nil {
		for n := 0; n < OversizeBytes; n += len(pad) {
			if _, err := w.Write(pad[:min(len(pad), OversizeBytes-n)]); err != nil {
				return // the client stopped reading
			}
		}
	}
	_, _ = w.Write(body)
}

// hold waits until t fires (never, when t is nil) and reports whether it
// did; it returns false when the client went away or the Server is
// closing first.
func (s *Server) hold(r *http.Request, t *time.Timer) bool {
	var fired <-chan time.Time
	if t != nil {
		defer t.Stop()
		fired = t.C
	}
	select {
	case <-fired:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// abort closes the connection of w at once, without answering further.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // net/http's way to drop a connection it cannot hand over
	}
	conn.Close()
}

func addHeader(dst, src http.Header) {
	for k, v := range src {
		dst[k] = append([]string(nil), v...)
	}
}
