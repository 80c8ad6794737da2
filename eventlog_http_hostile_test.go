package talkdesk

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawGet sends a GET of path to srv on a connection of its own and reads
// nothing back: a client that stalls. Its receive buffer is small, so
// that the server's writes block soon.
func rawGet(t *testing.T, srv *httptest.Server, path string, header ...string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).SetReadBuffer(4096)
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: log\r\nAuthorization: Bearer key\r\n%s\r\n", path, strings.Join(header, ""))
	return c
}

// statusOf opens path with the key and returns the status, closing the
// answer at once.
func statusOf(t *testing.T, srv *httptest.Server, path string, header ...string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer key")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// eventually polls cond until it holds, for at most 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %s", what)
		}
	}
}

// bigLog is a log in memory of n events of about 3 KB.
func bigLog(t *testing.T, n int) *EventLog {
	t.Helper()
	l := openLog(t, "")
	base := fixtureEvents(t)[21] // inboundCallEnds, complete
	for i := range n {
		ev := *base
		ev.ID = fmt.Sprintf("ev-%06d", i)
		if _, err := l.Append(context.Background(), &ev); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// TestEventLogHandlerExportsLimitedAndStalled: exports count against
// their client's limit with the streams, and an export whose client
// reads nothing ends after the stall timeout, freeing its place.
func TestEventLogHandlerExportsLimitedAndStalled(t *testing.T) {
	l := bigLog(t, 5000) // 15 MB: more than the connection's buffers
	h, err := NewEventLogHandler(l, WithAPIKeys("key"), WithStreamLimit(2), WithStallTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, path := range []string{"/events", "/events/stream"} {
		c := rawGet(t, srv, path, "Accept: application/x-ndjson\r\n")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("%s: %q, %v", path, line, err)
		}
	}
	if got := statusOf(t, srv, "/events", "Accept", "application/x-ndjson"); got != http.StatusTooManyRequests {
		t.Errorf("a third stream or export: %d, want 429", got)
	}
	// The export stalls and ends; its place is free again (the stream
	// holds the other).
	eventually(t, "the stalled export's place is freed", func() bool {
		return statusOf(t, srv, "/events?limit=1", "Accept", "application/x-ndjson") == http.StatusOK
	})
}

// hungStore's Follow never returns until released, whatever its context.
type hungStore struct {
	EventStore
	release chan struct{}
}

func (s hungStore) Follow(context.Context, EventQuery, string) iter.Seq2[*Event, error] {
	return func(func(*Event, error) bool) { <-s.release }
}

// TestEventLogHandlerHungStore: a store whose Follow ignores its context
// does not keep a stream's place once its client leaves, and the handler
// says so in its log.
func TestEventLogHandlerHungStore(t *testing.T) {
	store := hungStore{EventStore: openLog(t, ""), release: make(chan struct{})}
	defer close(store.release)
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	h, err := NewEventLogHandler(store, WithAPIKeys("key"), WithStreamLimit(1), WithEventLogHandlerLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	h.followGrace = 50 * time.Millisecond
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := rawGet(t, srv, "/events/stream")
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("the first stream: %q, %v", line, err)
	}
	if got := statusOf(t, srv, "/events/stream"); got != http.StatusTooManyRequests {
		t.Fatalf("a second stream while the first is open: %d, want 429", got)
	}
	c.Close() // the client leaves; the store's Follow does not return
	eventually(t, "the stream's place is freed", func() bool {
		return statusOf(t, srv, "/events/stream?type=noteCreated", "Accept", "text/event-stream") != http.StatusTooManyRequests
	})
	eventually(t, "the log says the store did not return", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(logs.String(), "did not return")
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestEventLogHandlerClose: http.Server.Shutdown returns within a second
// with ten streams and an export open, once the handler's Close is wired
// to it; requests after Close get 503.
func TestEventLogHandlerClose(t *testing.T) {
	l := bigLog(t, 5000)
	h, err := NewEventLogHandler(l, WithAPIKeys("key"), WithStreamLimit(20))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.RegisterOnShutdown(func() { h.Close() })
	var mu sync.Mutex
	closed := 0
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			mu.Lock()
			closed++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	for range 10 {
		c := rawGet(t, srv, "/events/stream")
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("a stream: %q, %v", line, err)
		}
	}
	export := rawGet(t, srv, "/events", "Accept: application/x-ndjson\r\n")
	if line, err := bufio.NewReader(export).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("the export: %q, %v", line, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with ten streams and an export open: %v", err)
	}
	eventually(t, "the server closes the eleven connections", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return closed == 11
	})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/events", nil)
	req.Header.Set("Authorization", "Bearer key")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a request after Close: %d, want 503", rec.Code)
	}
}

// TestAcceptsNDJSON: the export is chosen as RFC 9110 reads Accept.
func TestAcceptsNDJSON(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                              false,
		"application/x-ndjson":          true,
		"application/jsonl":             true,
		"application/x-ndjson;q=0.0":    false,
		"application/x-ndjson;q=0":      false,
		"application/x-ndjson; q=0.000": false,
		"application/x-ndjson;q=0.001":  true,
		"application/x-ndjson;q=0.5, application/json":       false,
		"application/json;q=0.4, application/x-ndjson;q=0.5": true,
		"application/json, application/x-ndjson":             true,
		"*/*":                                                false,
		"application/*":                                      false,
		"application/x-ndjson, */*;q=0.1":                    true,
		"application/x-ndjson;q=1.5":                         false, // not a quality: ignored
		"text/html, application/x-ndjson;q=0.9":              true,
		"application/x-ndjson;q=0, application/jsonl;q=0":    false,
	} {
		if got := acceptsNDJSON([]string{accept}); got != want {
			t.Errorf("Accept: %q: JSON Lines %v, want %v", accept, got, want)
		}
	}
}

// TestEventLogHandlerLinkUnderAPrefix: the Link to the next page works
// however the handler is mounted.
func TestEventLogHandlerLinkUnderAPrefix(t *testing.T) {
	l := bigLog(t, 5)
	h, err := NewEventLogHandler(l, WithAPIKeys("key"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/log/", http.StripPrefix("/log", h))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	next := srv.URL + "/log/events?limit=2"
	pages := 0
	for next != "" {
		req, _ := http.NewRequest("GET", next, nil)
		req.Header.Set("Authorization", "Bearer key")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", next, resp.StatusCode)
		}
		pages++
		next = ""
		if link := resp.Header.Get("Link"); link != "" {
			ref, _, _ := strings.Cut(strings.TrimPrefix(link, "<"), ">")
			u, err := resp.Request.URL.Parse(ref) // as RFC 8288 resolves it
			if err != nil {
				t.Fatal(err)
			}
			next = u.String()
		}
	}
	if pages != 3 {
		t.Errorf("followed %d pages of 2 of 5 events, want 3", pages)
	}
}

// TestHandlersFormatEveryVerb: whatever the verb, a handler prints its
// String, which holds no secret: neither a key nor its digest shows.
func TestHandlersFormatEveryVerb(t *testing.T) {
	const key = "the-api-key-0123456789"
	logHandler, err := NewEventLogHandler(openLog(t, ""), WithAPIKeys(key))
	if err != nil {
		t.Fatal(err)
	}
	webhook := NewWebhookHandler(WithWebhookSecret(key))
	sum := sha256.Sum256([]byte(key))
	forms := []string{key, hex.EncodeToString(sum[:]), strings.ToUpper(hex.EncodeToString(sum[:])), fmt.Sprint(sum[0], " ", sum[1]), url.QueryEscape(key)}
	for _, v := range []fmt.Stringer{logHandler, webhook} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%o", "%O", "%b", "%t", "%e", "%E", "%f", "%g", "%c", "%U", "%p", "%T", "%8.3v", "%-x"} {
			if verb == "%T" || verb == "%p" {
				continue // the type's name, the pointer: not the value
			}
			out := fmt.Sprintf(verb, v)
			if out != v.String() {
				t.Errorf("%s of %T prints %q, want its String %q", verb, v, out, v.String())
			}
			for _, f := range forms {
				if strings.Contains(out, f) {
					t.Errorf("%s of %T shows a secret: %q", verb, v, out)
				}
			}
		}
	}
}
