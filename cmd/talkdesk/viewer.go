package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	endian "encoding/binary"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"golang.org/x/time/rate"
)

// The viewer's files: the page, its script, its style and its icon, served
// from the binary.
//
//go:embed viewer
var viewerFiles embed.FS

// viewerCSP is the Content-Security-Policy of every answer of the viewer:
// its own script, style and images only, nothing inline, no frame.
const viewerCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Sessions of the viewer.
const (
	sessionCookie = "talkdesk_session"
	sessionTTL    = 12 * time.Hour
	maxRevoked    = 100000 // sessions logged out and not yet expired, remembered
	maxFailures   = 10000  // client addresses whose wrong keys are counted
)

// Wrong API keys at the login form, per client address: a burst of
// loginBurst, then one every loginEvery.
const (
	loginBurst = 5
	loginEvery = 10 * time.Second
)

// viewer is serve's web page: GET / (the log, or the login form), its
// files under /viewer/, POST /login and /logout, and GET /viewer/recent,
// the newest events and where the live stream starts. With API keys, a
// browser logs in with one and is given a session cookie, which the log's
// handler accepts through [viewer.auth]; without keys (--insecure-dev)
// there is no login.
//
// A session is a signed token (see [viewer.mint]), not a row of a table:
// it outlives a restart of serve, any replica with the same keys accepts
// it, and it ends when it expires, when its key is removed from serve, or
// when it is logged out (remembered by the process that logged it out).
type viewer struct {
	store  talkdesk.EventStore
	keys   [][sha256.Size]byte // the API keys' digests, for the Authorization header
	macs   [][]byte            // per API key, the key that signs its sessions
	log    *slog.Logger
	now    func() time.Time
	static http.Handler
	login  *template.Template

	mu       sync.Mutex
	revoked  map[[sessionNonce]byte]time.Time // sessions logged out: their expiry
	failures map[string]*rate.Limiter         // per client address: wrong keys at the login form
}

func newViewer(store talkdesk.EventStore, keys []string, log *slog.Logger) (*viewer, error) {
	files, err := fs.Sub(viewerFiles, "viewer")
	if err != nil {
		return nil, err
	}
	login, err := template.ParseFS(files, "login.html")
	if err != nil {
		return nil, err
	}
	v := &viewer{
		store:    store,
		log:      log,
		now:      time.Now,
		static:   http.StripPrefix("/viewer/", http.FileServerFS(files)),
		login:    login,
		revoked:  make(map[[sessionNonce]byte]time.Time),
		failures: make(map[string]*rate.Limiter),
	}
	for _, k := range keys {
		v.keys = append(v.keys, sha256.Sum256([]byte(k)))
		m := hmac.New(sha256.New, []byte(k))
		m.Write([]byte("talkdesk serve: the viewer's sessions"))
		v.macs = append(v.macs, m.Sum(nil))
	}
	return v, nil
}

// register adds the viewer's routes to mux.
func (v *viewer) register(mux *http.ServeMux) {
	csrf := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /{$}", v.page)
	mux.Handle("POST /login", csrf.Handler(http.HandlerFunc(v.serveLogin)))
	mux.Handle("POST /logout", csrf.Handler(http.HandlerFunc(v.serveLogout)))
	mux.HandleFunc("GET /viewer/recent", v.serveRecent)
	mux.HandleFunc("GET /viewer/", v.file)
}

// secure sets the headers every answer of the viewer carries.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", viewerCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// page answers GET /: the viewer to a logged-in browser, the login form
// to another.
func (v *viewer) page(w http.ResponseWriter, r *http.Request) {
	secure(w)
	w.Header().Set("Cache-Control", "no-store")
	if _, ok := v.client(r); !ok {
		v.loginForm(w, r, http.StatusOK, "")
		return
	}
	http.ServeFileFS(w, r, viewerFiles, "viewer/index.html")
}

// file answers GET /viewer/...: the page's script, style and icon.
func (v *viewer) file(w http.ResponseWriter, r *http.Request) {
	secure(w)
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Path == "/viewer/" || strings.HasSuffix(r.URL.Path, ".html") {
		http.NotFound(w, r)
		return
	}
	v.static.ServeHTTP(w, r)
}

// loginForm writes the login form with status and message; next is the
// query of the view asked for, where a login goes on to.
func (v *viewer) loginForm(w http.ResponseWriter, r *http.Request, status int, message string) {
	next := r.URL.RawQuery
	if r.Method == http.MethodPost {
		next = r.PostFormValue("next")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	err := v.login.Execute(w, struct{ Message, Next string }{message, next})
	if err != nil {
		v.log.Warn("talkdesk serve: writing the login form", "error", err.Error())
	}
}

// serveLogin answers POST /login: a right API key gets a session cookie
// and a redirect to the view asked for; a wrong one the form again, 403,
// and the client's address a failure, 429 beyond loginBurst.
func (v *viewer) serveLogin(w http.ResponseWriter, r *http.Request) {
	secure(w)
	w.Header().Set("Cache-Control", "no-store")
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if len(v.keys) == 0 {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	addr := clientAddr(r)
	if wait := v.loginWait(addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds()+1)))
		v.loginForm(w, r, http.StatusTooManyRequests, "Too many wrong keys from this address: try again in a few seconds.")
		return
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			v.loginForm(w, r, http.StatusRequestEntityTooLarge, "The form is too large.")
			return
		}
		v.loginForm(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	match := v.keyIndex(strings.TrimSpace(r.PostFormValue("api_key")))
	if match < 0 {
		v.loginFailed(addr)
		v.log.Warn("talkdesk serve: a wrong API key at the viewer's login", "client", addr)
		v.loginForm(w, r, http.StatusForbidden, "That is not an API key of this server.")
		return
	}
	token, expires := v.mint(match)
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(sessionTTL.Seconds()),
		HttpOnly: true,
		Secure:   overTLS(r),
		SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/"+viewQuery(r.PostFormValue("next")), http.StatusSeeOther)
}

// viewQuery returns the query of the viewer's view in next ("?" and its
// filters and conversation, encoded again), or "": a login never sends the
// browser anywhere but this page.
func viewQuery(next string) string {
	vals, err := url.ParseQuery(next)
	if err != nil {
		return ""
	}
	view := url.Values{}
	for _, name := range []string{"agent_id", "contact_id", "interaction_id", "type", "conversation"} {
		if vs, ok := vals[name]; ok {
			view[name] = vs
		}
	}
	if len(view) == 0 {
		return ""
	}
	return "?" + view.Encode()
}

// overTLS reports whether the browser reached r over TLS, here or at a
// proxy in front (which says so in X-Forwarded-Proto): the cookie is then
// Secure.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// serveLogout answers POST /logout: the session ends and its cookie is
// cleared.
func (v *viewer) serveLogout(w http.ResponseWriter, r *http.Request) {
	secure(w)
	w.Header().Set("Cache-Control", "no-store")
	if c, err := r.Cookie(sessionCookie); err == nil {
		if nonce, exp, ok := v.verify(c.Value); ok {
			v.revoke(nonce, exp)
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: overTLS(r), SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// keyIndex returns the index of key among the API keys, or -1; every key
// is compared, in constant time.
func (v *viewer) keyIndex(key string) int {
	given := sha256.Sum256([]byte(key))
	match := -1
	for i := range v.keys {
		if subtle.ConstantTimeCompare(given[:], v.keys[i][:]) == 1 {
			match = i
		}
	}
	return match
}

// A session token: its expiry (Unix seconds, 8 bytes), a random nonce, and
// the HMAC-SHA256 of both with the signing key of the API key logged in
// with, in unpadded base64url.
const (
	sessionNonce = 16
	sessionLen   = 8 + sessionNonce + sha256.Size
)

// mint returns a new session's token, signed for API key i, and its
// expiry.
func (v *viewer) mint(i int) (token string, expires time.Time) {
	expires = v.now().Add(sessionTTL).Truncate(time.Second)
	b := make([]byte, 8+sessionNonce, sessionLen)
	endian.BigEndian.PutUint64(b, uint64(expires.Unix()))
	rand.Read(b[8:])
	m := hmac.New(sha256.New, v.macs[i])
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b)), expires
}

// verify checks a session token: signed with the key of one of the API
// keys, not expired, not logged out.
func (v *viewer) verify(token string) (nonce [sessionNonce]byte, expires time.Time, ok bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != sessionLen {
		return nonce, expires, false
	}
	signed := false
	for _, key := range v.macs {
		m := hmac.New(sha256.New, key)
		m.Write(b[:8+sessionNonce])
		if hmac.Equal(m.Sum(nil), b[8+sessionNonce:]) {
			signed = true
		}
	}
	expires = time.Unix(int64(endian.BigEndian.Uint64(b)), 0)
	copy(nonce[:], b[8:])
	if !signed || !expires.After(v.now()) {
		return nonce, expires, false
	}
	v.mu.Lock()
	_, out := v.revoked[nonce]
	v.mu.Unlock()
	return nonce, expires, !out
}

// revoke remembers that the session of nonce was logged out, until it
// expires. Beyond maxRevoked, the expired are forgotten, then those that
// expire first.
func (v *viewer) revoke(nonce [sessionNonce]byte, expires time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.revoked) >= maxRevoked {
		now := v.now()
		for n, exp := range v.revoked {
			if !exp.After(now) || len(v.revoked) >= maxRevoked && exp.Before(now.Add(sessionTTL/2)) {
				delete(v.revoked, n)
			}
		}
	}
	v.revoked[nonce] = expires
}

// client names the caller of r for the log handler's limit on streams:
// its session, or its API key (for scripts), or reports false. Without
// API keys every request is let in.
func (v *viewer) client(r *http.Request) (string, bool) {
	if len(v.keys) == 0 {
		return "insecure-dev", true
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		if i := v.keyIndex(strings.TrimSpace(token)); i >= 0 {
			return "key-" + strconv.Itoa(i), true
		}
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	nonce, _, ok := v.verify(c.Value)
	if !ok {
		return "", false
	}
	return "session-" + hex.EncodeToString(nonce[:6]), true
}

// auth is client for WithEventLogAuth.
func (v *viewer) auth(r *http.Request) (string, error) {
	if c, ok := v.client(r); ok {
		return c, nil
	}
	return "", errors.New("no session")
}

// clientAddr is the address r came from, without its port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginWait is how long addr must wait before its next login, 0 when it
// may try now.
func (v *viewer) loginWait(addr string) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	l, ok := v.failures[addr]
	if !ok {
		return 0
	}
	if t := l.TokensAt(v.now()); t < 1 {
		return time.Duration((1 - t) * float64(loginEvery))
	}
	return 0
}

// loginFailed counts a wrong key from addr. The table of addresses is
// kept small: limiters back to full are forgotten when it grows.
func (v *viewer) loginFailed(addr string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	if len(v.failures) >= maxFailures {
		for a, l := range v.failures {
			if l.TokensAt(now) >= loginBurst {
				delete(v.failures, a)
			}
		}
	}
	l, ok := v.failures[addr]
	if !ok {
		l = rate.NewLimiter(rate.Every(loginEvery), loginBurst)
		v.failures[addr] = l
	}
	l.AllowN(now, 1)
}
