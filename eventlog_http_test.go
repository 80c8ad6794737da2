package talkdesk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// writeLog writes a log file of n inboundCallEnds events of about 1.5 KB
// each, without parsing n events, and opens it.
func writeLog(tb testing.TB, n int) (*talkdesk.EventLog, int64) {
	tb.Helper()
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, []byte(`{"interaction_id":"INTERACTION","agent_id":"agent-1",
		"contact_id":"contact-1","timestamp":"2026-03-02T09:00:00Z","hold_time":"12","duration":"95","tags":"sales, vip",
		"notes":"`+strings.Repeat("x", 900)+`"}`))
	if err != nil {
		tb.Fatal(err)
	}
	ev.ID = "ID"
	template, err := json.Marshal(ev)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "events.jsonl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		id := fmt.Sprintf("%08d", i)
		line := bytes.Replace(template, []byte(`"id":"ID"`), []byte(`"id":"ev-`+id+`"`), 1)
		line = bytes.ReplaceAll(line, []byte("INTERACTION"), []byte("int-"+id))
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l, st.Size()
}

// TestEventLogHandlerExportMemory exports 100,000 events (150 MB) over
// HTTP and samples the heap meanwhile: it must not grow with the export.
func TestEventLogHandlerExportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 150 MB")
	}
	const n = 100_000
	l, size := writeLog(t, n)
	h, err := talkdesk.NewEventLogHandler(l, talkdesk.WithAPIKeys("key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	// Garbage waits for the collector; with GOGC at 10 the heap holds
	// little more than what is live, so its growth is what the export
	// keeps.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set("Authorization", "Bearer key")
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	lines, bytesRead := 0, int64(0)
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		bytesRead += int64(len(line))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lines++
	}
	resp.Body.Close()
	close(stop)
	<-sampled
	growth := int64(peak.Load()) - int64(before)
	t.Logf("exported %d events, %d MB (log file %d MB); heap grew by at most %.1f MB", lines, bytesRead>>20, size>>20, float64(growth)/(1<<20))
	if lines != n {
		t.Fatalf("exported %d events, want %d", lines, n)
	}
	if growth > 16<<20 {
		t.Errorf("the heap grew by %d MB during an export of %d MB: it should not grow with the export", growth>>20, bytesRead>>20)
	}
}

// BenchmarkEventLogHandlerPage serves a page of 100 events through the
// handler, against Query called directly plus json.Marshal of the page
// (the goal: within 1.3x).
func BenchmarkEventLogHandlerPage(b *testing.B) {
	l, _ := writeLog(b, 10_000)
	ctx := context.Background()
	q := talkdesk.EventQuery{Limit: 100, Since: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	b.Run("handler", func(b *testing.B) {
		h, err := talkdesk.NewEventLogHandler(l, talkdesk.WithAPIKeys("key"))
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/events?limit=100&since=2026-03-02T00:00:00Z", nil)
		req.Header.Set("Authorization", "Bearer key")
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatal(w.Code, w.Body.String())
			}
		}
	})
	b.Run("query+marshal", func(b *testing.B) {
		for b.Loop() {
			page, err := l.Query(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(page); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEventLogHandlerExport exports 10,000 events as JSON Lines over
// HTTP: events/s and MB/s.
func BenchmarkEventLogHandlerExport(b *testing.B) {
	const n = 10_000
	l, size := writeLog(b, n)
	h, err := talkdesk.NewEventLogHandler(l, talkdesk.WithAPIKeys("key"))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	b.SetBytes(size)
	start := time.Now()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
		req.Header.Set("Authorization", "Bearer key")
		req.Header.Set("Accept", "application/x-ndjson")
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if got != size {
			b.Fatalf("exported %d bytes of %d", got, size)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "events/s")
}

// failingStore is a log whose Query fails from the nth call on, as a
// database that goes away mid-export.
type failingStore struct {
	*talkdesk.EventLog
	calls, failFrom int
}

var errStoreDown = errors.New("store down: connection to 10.0.0.7:5432 refused")

func (s *failingStore) Query(ctx context.Context, q talkdesk.EventQuery) (*talkdesk.EventPage, error) {
	if s.calls++; s.calls >= s.failFrom {
		return nil, errStoreDown
	}
	return s.EventLog.Query(ctx, q)
}

// TestEventLogHandlerStoreErrors: an error of the store is a 500 whose text
// is logged, not shown; one in the middle of an export cuts the answer
// short, so the client cannot take it for complete.
func TestEventLogHandlerStoreErrors(t *testing.T) {
	l, _ := writeLog(t, 2500)
	var logs bytes.Buffer
	for _, tc := range []struct {
		name     string
		failFrom int
		accept   string
	}{
		{"page", 1, ""},
		{"export, at once", 1, "application/x-ndjson"},
		{"export, after its first page", 2, "application/x-ndjson"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			store := &failingStore{EventLog: l, failFrom: tc.failFrom}
			h, err := talkdesk.NewEventLogHandler(store, talkdesk.WithAPIKeys("key"),
				talkdesk.WithEventLogHandlerLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
			req.Header.Set("Authorization", "Bearer key")
			req.Header.Set("Accept", tc.accept)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.failFrom == 1 {
				if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "10.0.0.7") {
					t.Errorf("%d %s; want a 500 that does not show the store's error", resp.StatusCode, body)
				}
			} else {
				if resp.StatusCode != http.StatusOK || readErr == nil {
					t.Errorf("%d, %d bytes, read error %v; want the export cut short with an error", resp.StatusCode, len(body), readErr)
				}
				if n := bytes.Count(body, []byte("\n")); n < 500 || n >= 2500 {
					t.Errorf("%d lines before the cut, want (most of) the first page's 1000", n)
				}
			}
			if !strings.Contains(logs.String(), "10.0.0.7") {
				t.Errorf("the store's error is not logged:\n%s", logs.String())
			}
		})
	}
}
