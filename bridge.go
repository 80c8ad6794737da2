package talkdesk

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultActionMaxBodyBytes is the largest request body an [ActionServer]
// reads unless [WithActionMaxBodyBytes] says otherwise: 1 MiB.
const DefaultActionMaxBodyBytes int64 = 1 << 20

// ActionServer is a Talkdesk Action Executor bridge: an http.Handler that
// runs the actions Talkdesk's automations trigger.
//
// Talkdesk calls each action of an integration as its own endpoint,
// POST {prefix}/{action}, with a JSON body of three hashes: auth (the
// credential fields the integration asked for, when it uses custom
// authentication), data (the action's fields) and meta (the contact and
// agent IDs in the external service). The server answers as the contract
// requires:
//
//   - 201 with the [ActionResult] as JSON when the action succeeds;
//   - 400 with {"message": "..."} for every failure of a POST to a known
//     action: a body that is not a JSON object of hashes or is larger than
//     the limit, credentials the [WithActionAuth] check rejects, an error
//     returned by the action, and a panic in the action;
//   - 404 with {"message": "unknown action"} for a name no [ActionServer.Handle]
//     registered;
//   - 405 with Allow: POST for any other method on a known action.
//
// The message of an [*ActionError] is sent to Talkdesk as is, but for the
// values of the request's auth hash, which are masked there as in the
// logs. Any other
// error is logged and answered with a generic message, so that no internal
// detail reaches Talkdesk. A panicking action is recovered and logged with
// its stack, and the server goes on serving.
//
// Handling a request goes verify, parse, dispatch: the body is read up to
// the limit and decoded, the credentials are checked, and the action runs
// with the request's context, which is cancelled when Talkdesk goes away.
//
// An ActionServer is safe for concurrent use, including Handle while it
// serves. Its zero value serves at the root with the defaults of
// [NewActionServer].
type ActionServer struct {
	prefix  string // "" or a path that starts and ends with "/"
	maxBody int64  // 0 means DefaultActionMaxBodyBytes
	logger  *slog.Logger
	auth    func(ctx context.Context, auth map[string]string) error

	mu      sync.RWMutex
	actions map[string]ActionFunc
}

// ActionServerOption configures an [ActionServer] in [NewActionServer].
type ActionServerOption interface {
	applyAction(*ActionServer)
}

type actionOptionFunc func(*ActionServer)

func (f actionOptionFunc) applyAction(s *ActionServer) { f(s) }

// NewActionServer returns an ActionServer with no actions, configured by
// opts. Without options it serves each action at /{action}, reads bodies of
// up to [DefaultActionMaxBodyBytes], checks no credentials and logs to
// slog.Default().
func NewActionServer(opts ...ActionServerOption) *ActionServer {
	s := &ActionServer{}
	for _, opt := range opts {
		if opt != nil {
			opt.applyAction(s)
		}
	}
	return s
}

// WithActionAuth makes the server check the auth hash of every request
// with check before the action runs. A check that returns an error rejects
// the request with 400: the message of an [*ActionError] is sent (with the
// auth values masked), any
// other error is answered with "authentication failed" (and logged, with
// the values of the auth hash masked out).
//
// The auth map is nil when the request had no auth hash. Compare secrets
// with [SecretEqual], never with ==.
func WithActionAuth(check func(ctx context.Context, auth map[string]string) error) ActionServerOption {
	return actionOptionFunc(func(s *ActionServer) { s.auth = check })
}

// WithActionLogger sets where the server logs: one line per request, at
// Debug level for successes, unknown actions and wrong methods, Info for
// actions that failed with an [*ActionError], Warn for malformed requests
// and rejected credentials, and Error for other action errors and panics
// (with the stack). Values of the auth hash are masked out of every line.
// The default is slog.Default(); slog.New(slog.DiscardHandler) silences it.
func WithActionLogger(l *slog.Logger) ActionServerOption {
	return actionOptionFunc(func(s *ActionServer) { s.logger = l })
}

// WithActionMaxBodyBytes sets the largest request body the server reads;
// a larger one is answered with 400 without running the action. n <= 0
// keeps the default, [DefaultActionMaxBodyBytes].
func WithActionMaxBodyBytes(n int64) ActionServerOption {
	return actionOptionFunc(func(s *ActionServer) { s.maxBody = max(n, 0) })
}

// WithActionPrefix serves the actions under prefix: with
// WithActionPrefix("/talkdesk/actions") the action create_case is at
// /talkdesk/actions/create_case, which suits
//
//	http.Handle("/talkdesk/actions/", srv)
//
// Without it actions are at /{action}, as they are after http.StripPrefix.
// A leading and a trailing slash are added when prefix lacks them.
//
// Whatever the prefix, a request routed by an http.ServeMux pattern with an
// {action} wildcard, such as "POST /bridge/{action}", runs the action the
// wildcard names.
func WithActionPrefix(prefix string) ActionServerOption {
	return actionOptionFunc(func(s *ActionServer) {
		prefix = strings.Trim(prefix, "/")
		if prefix == "" {
			s.prefix = ""
			return
		}
		s.prefix = "/" + prefix + "/"
	})
}

// ActionFunc runs one action for Talkdesk. It returns the result to answer
// with (201), or an error (400): an [*ActionError], anywhere in the chain
// of err, gives its message to Talkdesk; any other error is logged and
// answered with a generic message. ctx is the request's context: it is
// cancelled when Talkdesk goes away.
type ActionFunc func(ctx context.Context, req *ActionRequest) (*ActionResult, error)

// ActionRequest is one execution of an action, as Talkdesk sent it.
//
// Formatting an ActionRequest with fmt or logging it with slog shows the
// keys of Auth but never its values.
type ActionRequest struct {
	// Action is the name the action was registered with: the last segment
	// of the path, or the {action} wildcard of a ServeMux pattern.
	Action string
	// Auth holds the credential fields of the integration's custom
	// authentication, by field name. Numbers and booleans are given in their
	// JSON text ("42", "true"); fields that are null are left out. It is nil
	// when the request had no auth hash.
	Auth map[string]string
	// Meta identifies, in the external service, the contact and the agent
	// the action runs for.
	Meta ActionMeta
	// Data is the data hash of the action fields, as sent: a JSON object, or
	// nil when the request had none. Bind decodes it.
	Data json.RawMessage
}

// ActionMeta is the meta hash of an action request: accessory information
// Talkdesk sends so the bridge can link what the action does to the right
// records. Each field is empty when Talkdesk did not send it.
type ActionMeta struct {
	// ContactExternalID is the ID in the external service of the contact the
	// action runs for, when the contact was synchronized through the bridge
	// and the action runs in the scope of a contact.
	ContactExternalID string `json:"contact_external_id,omitempty"`
	// AgentExternalID is the ID in the external service of the agent who ran
	// the action, when that agent was synchronized through the bridge.
	AgentExternalID string `json:"agent_external_id,omitempty"`
}

// ActionResult is what a successful action answers Talkdesk with (201).
// Every field is optional and left out of the JSON when empty.
type ActionResult struct {
	// Message describes the result, such as "Case successfully created".
	Message string `json:"message,omitempty"`
	// ExternalID is the ID in the external service of the resource the
	// action created, for a resource other than a contact.
	ExternalID string `json:"external_id,omitempty"`
	// ContactExternalID is the ID in the external service of the contact the
	// action created.
	ContactExternalID string `json:"contact_external_id,omitempty"`
	// ContactExternalType is the type in the external service of the contact
	// the action created, such as "lead".
	ContactExternalType string `json:"contact_external_type,omitempty"`
	// ContactExternalURL is the address of that contact in the external
	// service.
	ContactExternalURL string `json:"contact_external_url,omitempty"`
}

// ActionError is an action failure whose Message the bridge sends to
// Talkdesk, with status 400. Return one (or wrap one with %w) from an
// [ActionFunc] or a [WithActionAuth] check for failures Talkdesk should
// show, such as "Case creation failed: subject is required"; other errors
// are answered with a generic message. Values of the request's auth hash
// that the message quotes are masked, in the answer and in the logs.
type ActionError struct{ Message string }

// Error returns the message.
func (e *ActionError) Error() string {
	if e.Message == "" {
		return actionFailed
	}
	return e.Message
}

// Messages of the answers the server writes itself.
const (
	actionFailed       = "action failed"
	actionAuthFailed   = "authentication failed"
	actionUnknown      = "unknown action"
	actionNotAllowed   = "method not allowed: actions accept only POST"
	actionBadJSON      = "request body is not valid JSON"
	actionNotObject    = "request body must be a JSON object"
	actionUnreadable   = "request body could not be read"
	actionDataNotAHash = "data must be a JSON object"
)

// Bind decodes the data hash into v, which must be a non-nil pointer, as
// json.Unmarshal does; fields of data that v lacks are ignored. A value of
// the wrong JSON type gives an [*ActionError] that names the field, such as
// `data field "priority": want number, got string`, so that returning
// Bind's error answers Talkdesk with a message it can show. Other decoding
// errors of data (from a type's UnmarshalJSON, say) are an *ActionError
// too; an invalid v is an ordinary error.
func (r *ActionRequest) Bind(v any) error {
	data := []byte(r.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = []byte("{}")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var invalidErr *json.InvalidUnmarshalError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &invalidErr):
		return fmt.Errorf("talkdesk: ActionRequest.Bind: %w", err)
	case errors.As(err, &typeErr):
		field := "data"
		if typeErr.Field != "" {
			field = "data field " + strconv.Quote(typeErr.Field)
		}
		return &ActionError{Message: fmt.Sprintf("%s: want %s, got %s", field, jsonKind(typeErr.Type), typeErr.Value)}
	case errors.As(err, &syntaxErr):
		return &ActionError{Message: "data is not valid JSON"}
	}
	return &ActionError{Message: "invalid data: " + err.Error()}
}

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "string"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "string" // base64
		}
		return "array"
	case reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// Format prints r like %v would, with the values of Auth masked, for every
// verb: no formatting of a request shows the credentials.
func (r ActionRequest) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Action:%s Auth:%s Meta:{ContactExternalID:%s AgentExternalID:%s} Data:%s}",
		r.Action, maskedAuth(r.Auth), r.Meta.ContactExternalID, r.Meta.AgentExternalID, r.Data)
}

// LogValue logs r with the values of Auth masked.
func (r ActionRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("action", r.Action),
		slog.String("auth", maskedAuth(r.Auth)),
		slog.String("contact_external_id", r.Meta.ContactExternalID),
		slog.String("agent_external_id", r.Meta.AgentExternalID),
		slog.String("data", string(r.Data)),
	)
}

// maskedAuth shows the keys of auth, sorted, each with a masked value.
func maskedAuth(auth map[string]string) string {
	if auth == nil {
		return "map[]"
	}
	keys := make([]string, 0, len(auth))
	for k := range auth {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("map[")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteString(":[REDACTED]")
	}
	b.WriteByte(']')
	return b.String()
}

// Handle registers fn as the action named action, served at
// {prefix}/{action}. Like http.ServeMux.Handle, it panics on a programming
// error: an empty name, a name with a slash, a nil fn, or a name already
// registered.
func (s *ActionServer) Handle(action string, fn ActionFunc) {
	switch {
	case action == "":
		panic("talkdesk: ActionServer.Handle: empty action name")
	case strings.Contains(action, "/"):
		panic("talkdesk: ActionServer.Handle: action name " + strconv.Quote(action) + " contains a slash")
	case fn == nil:
		panic("talkdesk: ActionServer.Handle: nil ActionFunc for " + strconv.Quote(action))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.actions[action]; dup {
		panic("talkdesk: ActionServer.Handle: action " + strconv.Quote(action) + " registered twice")
	}
	if s.actions == nil {
		s.actions = make(map[string]ActionFunc)
	}
	s.actions[action] = fn
}

// ServeHTTP answers one request of Talkdesk: it finds the action, reads and
// decodes the body, checks the credentials and runs the action, answering
// with the statuses described on [ActionServer].
func (s *ActionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	name, fn := s.lookup(r)
	if fn == nil {
		writeActionMessage(w, http.StatusNotFound, actionUnknown)
		s.log(ctx, slog.LevelDebug, start, name, http.StatusNotFound, "", nil)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeActionMessage(w, http.StatusMethodNotAllowed, actionNotAllowed)
		s.log(ctx, slog.LevelDebug, start, name, http.StatusMethodNotAllowed, "", nil)
		return
	}

	req, msg := s.parse(w, r, name)
	if req == nil {
		writeActionMessage(w, http.StatusBadRequest, msg)
		s.log(ctx, slog.LevelWarn, start, name, http.StatusBadRequest, msg, nil)
		return
	}

	res, err := s.dispatch(ctx, fn, req)
	if err == nil {
		if res == nil {
			res = &ActionResult{}
		}
		body, _ := json.Marshal(res) // a struct of strings always marshals
		writeActionJSON(w, http.StatusCreated, body)
		s.log(ctx, slog.LevelDebug, start, name, http.StatusCreated, "", nil)
		return
	}

	level, msg := slog.LevelError, actionFailed
	var ae *ActionError
	var af *actionAuthError
	var ap *PanicError
	switch {
	case errors.As(err, &ap):
		// level and message stay: a panic is an internal failure
	case errors.As(err, &af):
		level, msg = slog.LevelWarn, actionAuthFailed
		if errors.As(af.err, &ae) {
			msg = ae.Error()
		}
	case errors.As(err, &ae):
		level, msg = slog.LevelInfo, ae.Error()
	case ctx.Err() != nil:
		level = slog.LevelWarn // Talkdesk went away; the action saw it
	}
	le := &actionLogErr{err: err, auth: req.Auth}
	msg = le.mask(msg) // an ActionError may quote the credentials
	writeActionMessage(w, http.StatusBadRequest, msg)
	s.log(ctx, level, start, name, http.StatusBadRequest, msg, le)
}

// lookup finds the action a request names: the {action} wildcard of the
// ServeMux pattern that routed it, or else the path after the prefix.
func (s *ActionServer) lookup(r *http.Request) (string, ActionFunc) {
	name := r.PathValue("action")
	if name == "" {
		prefix := s.prefix
		if prefix == "" {
			prefix = "/"
		}
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || rest == "" || strings.Contains(rest, "/") {
			return "", nil
		}
		name = rest
	}
	s.mu.RLock()
	fn := s.actions[name]
	s.mu.RUnlock()
	return name, fn
}

// actionWire is the body of an action request.
type actionWire struct {
	Auth actionAuth      `json:"auth"`
	Data json.RawMessage `json:"data"`
	Meta struct {
		ContactExternalID jsonScalar `json:"contact_external_id"`
		AgentExternalID   jsonScalar `json:"agent_external_id"`
	} `json:"meta"`
}

var actionBodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// parse reads and decodes the body of r. It returns the request, or nil and
// the message of the 400 answer.
func (s *ActionServer) parse(w http.ResponseWriter, r *http.Request, name string) (*ActionRequest, string) {
	limit := s.maxBody
	if limit <= 0 {
		limit = DefaultActionMaxBodyBytes
	}
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	buf := actionBodyPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			actionBodyPool.Put(buf)
		}
	}()
	if r.Body != nil {
		// The buffer grows as bytes arrive, never to the Content-Length a
		// caller declares before sending anything, nor before the auth
		// hash is read: headers alone claim no memory.
		if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, tooLarge(limit)
			}
			return nil, actionUnreadable
		}
	}

	var wire actionWire
	if err := json.Unmarshal(buf.Bytes(), &wire); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return nil, actionNotObject
			}
			return nil, typeErr.Field + " must be a JSON object"
		}
		return nil, actionBadJSON
	}
	if b := bytes.TrimLeft(buf.Bytes(), " \t\r\n"); b[0] != '{' { // valid JSON, so not empty
		return nil, actionNotObject // null
	}
	req := &ActionRequest{Action: name, Auth: wire.Auth.m}
	if wire.Auth.tooMany {
		return nil, "auth has more than " + strconv.Itoa(maxMembers) + " fields"
	}
	if wire.Auth.bad != "" {
		return nil, "auth field " + quoteField(wire.Auth.bad) + " must be a string, number or boolean"
	}
	m := &wire.Meta
	if m.ContactExternalID.bad {
		return nil, `meta field "contact_external_id" must be a string`
	}
	if m.AgentExternalID.bad {
		return nil, `meta field "agent_external_id" must be a string`
	}
	req.Meta = ActionMeta{ContactExternalID: m.ContactExternalID.s, AgentExternalID: m.AgentExternalID.s}
	switch {
	case len(wire.Data) == 0 || bytes.Equal(wire.Data, []byte("null")):
	case wire.Data[0] == '{':
		req.Data = wire.Data
	default:
		return nil, actionDataNotAHash
	}
	return req, ""
}

func tooLarge(limit int64) string {
	return "request body is larger than " + strconv.FormatInt(limit, 10) + " bytes"
}

// actionAuth decodes the auth hash into the map of ActionRequest.Auth:
// strings as themselves, numbers and booleans as their JSON text, null
// values left out, the last of duplicate keys kept (as json.Unmarshal into
// a map does). An object or array value is recorded in bad rather than
// failing, so that parse can name the field. A hash of more than
// maxMembers keys is refused (tooMany), and one of many keys is read
// member by member, so that it costs a few times its size.
type actionAuth struct {
	m       map[string]string // nil when the hash is absent or null
	bad     string            // the first field, by key, that is an object or an array
	tooMany bool              // more keys than a hash of credentials can have
}

var mapOfStrings = reflect.TypeFor[map[string]string]()

func (a *actionAuth) UnmarshalJSON(raw []byte) error { // raw is one valid JSON value
	switch raw[0] {
	case 'n':
		return nil
	case '{':
	default:
		return &json.UnmarshalTypeError{Value: "non-object", Type: mapOfStrings} // json adds Field "auth"
	}
	members, err := readMembers(raw, nullReplaces)
	if err != nil { // only errTooManyMembers: json validated raw
		a.tooMany = true
		return nil
	}
	if a.m == nil { // a second auth hash adds to the first, as json does for maps
		a.m = make(map[string]string, len(members))
	}
	for i := range members {
		m := &members[i]
		switch {
		case m.composite():
			if a.bad == "" {
				a.bad = m.key
			}
		case m.isNull():
			delete(a.m, m.key)
		default:
			a.m[m.key] = m.str()
		}
	}
	return nil
}

// jsonScalar decodes a JSON scalar as a string: a string as itself, a
// number or a boolean as its JSON text, null as "". An object or an array
// sets bad rather than failing, so that parse can name the field.
type jsonScalar struct {
	s    string
	null bool
	bad  bool
}

func (v *jsonScalar) UnmarshalJSON(raw []byte) error {
	raw = bytes.TrimSpace(raw) // one valid JSON value
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '{', '[':
		v.bad = true
	case 'n':
		v.null = true
	case '"':
		v.s = (&member{raw: raw}).str()
	default:
		v.s = string(raw) // a number, true or false
	}
	return nil
}

// quoteField quotes a field name from a request for a message, bounded.
func quoteField(k string) string {
	if len(k) > 64 {
		k = strings.ToValidUTF8(k[:64], "") + "..."
	}
	return strconv.Quote(k)
}

// actionAuthError is a rejection by the WithActionAuth check.
type actionAuthError struct{ err error }

func (e *actionAuthError) Error() string { return "auth check: " + e.err.Error() }
func (e *actionAuthError) Unwrap() error { return e.err }

// dispatch checks the credentials and runs the action, turning a panic in
// either into a *PanicError. http.ErrAbortHandler is panicked on, so that
// net/http aborts the response as the handler asked.
func (s *ActionServer) dispatch(ctx context.Context, fn ActionFunc, req *ActionRequest) (res *ActionResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			res, err = nil, &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	if s.auth != nil {
		if err := s.auth(ctx, req.Auth); err != nil {
			return nil, &actionAuthError{err: err}
		}
	}
	return fn(ctx, req)
}

// actionLogErr is the error of a request as it goes in a log line: with
// every auth value of the request masked.
type actionLogErr struct {
	err  error
	auth map[string]string
}

// minMaskedLen is the length from which auth values are masked in logs;
// shorter ones cannot be secrets worth the noise of masking them everywhere.
const minMaskedLen = 4

func (e *actionLogErr) mask(s string) string {
	for _, v := range e.auth {
		if len(v) >= minMaskedLen {
			s = removeAll(s, secretForms(v))
		}
	}
	return s
}

// log writes the line of one request.
func (s *ActionServer) log(ctx context.Context, level slog.Level, start time.Time, action string, status int, msg string, le *actionLogErr) {
	logger := s.logger
	if logger == nil {
		logger = slog.Default()
	}
	if !logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 7)
	attrs = append(attrs,
		slog.String("action", action),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	)
	if msg != "" {
		attrs = append(attrs, slog.String("message", msg))
	}
	if le != nil {
		var ap *PanicError
		if errors.As(le.err, &ap) {
			attrs = append(attrs,
				slog.String("panic", le.mask(fmt.Sprint(ap.Value))),
				slog.String("stack", string(ap.Stack)))
		} else if text := le.err.Error(); text != msg {
			attrs = append(attrs, slog.String("error", le.mask(text)))
		}
	}
	logger.LogAttrs(ctx, level, "talkdesk action", attrs...)
}

// writeActionMessage answers with {"message": msg}.
func writeActionMessage(w http.ResponseWriter, status int, msg string) {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{msg})
	writeActionJSON(w, status, body)
}

func writeActionJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonType // net/http sets Content-Length
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
