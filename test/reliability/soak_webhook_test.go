package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
)

// The webhook soak: Talkdesk delivers soakEventCount distinct events to a
// WebhookHandler that stores them in a file-backed EventLog, from
// soakSenders concurrent senders. One event in ten is delivered a second
// time, as Talkdesk does when an answer is lost; the handler fails the
// first attempt at one event in twenty, which Talkdesk delivers again
// after the 500. The log must end with exactly the distinct events, each
// once, each as sent.
const soakSenders = 64

// soakEventCount is how many distinct events a soak delivers: 10,000, or
// 2,500 under the race detector, which makes the soaks five times slower
// (same senders, same proportions of redeliveries and failures).
func soakEventCount() int {
	if raceEnabled {
		return 2500
	}
	return 10000
}

// soakEvent is one distinct event of the soak.
type soakEvent struct {
	trigger talkdesk.Trigger
	body    []byte
	want    *talkdesk.Event // ParseEvent of body
	fail    bool            // the handler fails its first attempt at it
	twice   bool            // Talkdesk delivers it a second time
}

// soakEvents builds n distinct events over the nine triggers, from the
// complete fixtures with the identities (and times) of event i. Payloads
// without a time would get the same ID for the same bytes (an agent
// logging in twice), so every event gets identities of its own.
func soakEvents(t testing.TB, n int) []soakEvent {
	t.Helper()
	base := map[talkdesk.Trigger]map[string]string{}
	for _, tr := range talkdesk.Triggers() {
		var m map[string]string
		if err := json.Unmarshal(testkit.EventFixture(t, string(tr)+"_complete.json"), &m); err != nil {
			t.Fatal(err)
		}
		base[tr] = m
	}
	start := time.Date(2024, 5, 6, 8, 0, 0, 0, time.UTC)
	events := make([]soakEvent, n)
	ids := make(map[string]int, n)
	for i := range events {
		tr := talkdesk.Triggers()[i%len(talkdesk.Triggers())]
		m := make(map[string]string, len(base[tr]))
		for k, v := range base[tr] {
			m[k] = v
		}
		for key, prefix := range map[string]string{"call_id": "CA", "interaction_id": "int", "contact_id": "ct", "agent_id": "ag"} {
			if _, ok := m[key]; ok {
				m[key] = fmt.Sprintf("%s-%06d", prefix, i)
			}
		}
		at := start.Add(time.Duration(i) * time.Second)
		if _, ok := m["start_time"]; ok {
			m["start_time"] = at.Format(time.RFC3339)
		}
		if _, ok := m["timestamp"]; ok {
			m["timestamp"] = at.Add(3 * time.Minute).Format(time.RFC3339)
		}
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := talkdesk.ParseEvent(tr, body)
		if err != nil || len(ev.Warnings) > 0 {
			t.Fatalf("event %d: %v %v", i, err, ev.Warnings)
		}
		if j, dup := ids[ev.ID]; dup {
			t.Fatalf("events %d and %d have the same ID", j, i)
		}
		ids[ev.ID] = i
		events[i] = soakEvent{trigger: tr, body: body, want: ev, fail: i%20 == 7, twice: i%10 == 3}
	}
	return events
}

// soakJobs lists the deliveries of events: each once, those marked twice
// again, in a shuffled order, so that a redelivery may come before, during
// or after the first delivery.
func soakJobs(events []soakEvent) []int {
	jobs := make([]int, 0, len(events)*11/10)
	for i, ev := range events {
		jobs = append(jobs, i)
		if ev.twice {
			jobs = append(jobs, i)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	r.Shuffle(len(jobs), func(a, b int) { jobs[a], jobs[b] = jobs[b], jobs[a] })
	return jobs
}

// soakReceiver is the receiving service: a WebhookHandler storing events
// in an EventLog, whose handler fails the first attempt at the events
// marked to fail.
type soakReceiver struct {
	handler  *talkdesk.WebhookHandler
	failOnce map[string]bool
	failed   sync.Map // IDs failed once already
	mu       sync.Mutex
	handled  map[string]int // successful handler runs by ID
	failures atomic.Int64
}

func newSoakReceiver(events []soakEvent, log *talkdesk.EventLog) *soakReceiver {
	r := &soakReceiver{failOnce: map[string]bool{}, handled: map[string]int{}}
	for _, ev := range events {
		if ev.fail {
			r.failOnce[ev.want.ID] = true
		}
	}
	r.handler = talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testkit.WebhookSecret), talkdesk.WithEventLog(log))
	r.handler.HandleAll(func(ctx context.Context, ev *talkdesk.Event) error {
		if r.failOnce[ev.ID] {
			if _, again := r.failed.LoadOrStore(ev.ID, true); !again {
				r.failures.Add(1)
				return errors.New("downstream unavailable")
			}
		}
		r.mu.Lock()
		r.handled[ev.ID]++
		r.mu.Unlock()
		return nil
	})
	return r
}

// soakSender is Talkdesk: it delivers each job until it is answered 200,
// retrying after a 500 or a failed connection, at whatever address the
// receiver has now.
type soakSender struct {
	client   *http.Client
	base     atomic.Pointer[string]
	acked    []atomic.Int32 // 200s by event
	distinct atomic.Int64   // events acknowledged at least once
	onAck    func(distinct int64)

	deliveries, ok, serverErrors, connErrors atomic.Int64
}

func newSoakSender(n int) *soakSender {
	return &soakSender{
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: soakSenders}},
		acked:  make([]atomic.Int32, n),
	}
}

// run delivers jobs from soakSenders goroutines and returns the first
// error (an unexpected status, or ctx's end).
func (s *soakSender) run(ctx context.Context, events []soakEvent, jobs []int) error {
	ch := make(chan int)
	errc := make(chan error, soakSenders)
	var wg sync.WaitGroup
	for range soakSenders {
		wg.Go(func() {
			for i := range ch {
				if err := s.deliver(ctx, i, events[i]); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for _, i := range jobs {
		select {
		case ch <- i:
		case err = <-errc:
			break feed
		}
	}
	close(ch)
	wg.Wait()
	close(errc)
	s.client.CloseIdleConnections()
	return errors.Join(err, <-errc)
}

func (s *soakSender) deliver(ctx context.Context, i int, ev soakEvent) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select { // Talkdesk waits before delivering again
			case <-time.After(min(time.Duration(attempt)*5*time.Millisecond, 100*time.Millisecond)):
			case <-ctx.Done():
				return fmt.Errorf("event %d not acknowledged after %d attempts: %w", i, attempt, ctx.Err())
			}
		}
		url := *s.base.Load() + "/" + string(ev.trigger) + "?token=" + testkit.WebhookSecret
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(ev.body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		s.deliveries.Add(1)
		resp, err := s.client.Do(req)
		if err != nil {
			s.connErrors.Add(1)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			s.ok.Add(1)
			if s.acked[i].Add(1) == 1 && s.onAck != nil {
				s.onAck(s.distinct.Add(1))
			}
			return nil
		case http.StatusInternalServerError:
			s.serverErrors.Add(1)
		default:
			return fmt.Errorf("event %d: status %d", i, resp.StatusCode)
		}
	}
}

// checkSoakLog reads the log file line by line and checks that it holds
// each event exactly once, as sent, and nothing else; then that the file
// opens as an EventLog of that many events.
func checkSoakLog(t *testing.T, path string, events []soakEvent) {
	t.Helper()
	want := make(map[string]*talkdesk.Event, len(events))
	for _, ev := range events {
		want[ev.want.ID] = ev.want
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	seen := make(map[string]int, len(events))
	line := 0
	opts := cmp.Options{
		cmpopts.IgnoreFields(talkdesk.Event{}, "ReceivedAt", "OccurredAt", "Raw"),
		cmpopts.EquateEmpty(),
	}
	for sc.Scan() {
		line++
		var got talkdesk.Event
		if err := json.Unmarshal(sc.Bytes(), &got); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		seen[got.ID]++
		w, ok := want[got.ID]
		switch {
		case !ok:
			t.Errorf("line %d: event %s was never sent", line, got.ID)
			continue
		case seen[got.ID] > 1:
			t.Errorf("line %d: event %s stored %d times", line, got.ID, seen[got.ID])
			continue
		}
		if !sameEvent(w, &got) {
			t.Errorf("line %d: event %s (-sent +stored):\n%s", line, got.ID, cmp.Diff(w, &got, opts))
		}
		var compact bytes.Buffer
		json.Compact(&compact, w.Raw)
		if !bytes.Equal(compact.Bytes(), got.Raw) {
			t.Errorf("line %d: raw %s, want %s", line, got.Raw, compact.Bytes())
		}
		if !w.OccurredAt.Equal(w.ReceivedAt) && !got.OccurredAt.Equal(w.OccurredAt) {
			t.Errorf("line %d: occurred at %s, want %s", line, got.OccurredAt, w.OccurredAt)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	if missing > 0 || line != len(events) {
		t.Errorf("the log has %d lines for %d events, %d missing", line, len(events), missing)
	}
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if st := l.Stats(); st.Events != len(events) {
		t.Errorf("reopened, the log has %d events, want %d", st.Events, len(events))
	}
}

// sameEvent reports whether got has the identities, actor and payload of
// w: cmp.Diff says how they differ, but is too slow for every event under
// the race detector.
func sameEvent(w, got *talkdesk.Event) bool {
	wp, err1 := json.Marshal(w.Payload)
	gp, err2 := json.Marshal(got.Payload)
	return err1 == nil && err2 == nil && bytes.Equal(wp, gp) &&
		fmt.Sprintf("%T", w.Payload) == fmt.Sprintf("%T", got.Payload) &&
		w.ID == got.ID && w.Type == got.Type && w.Name == got.Name && w.AccountID == got.AccountID &&
		w.InteractionID == got.InteractionID && w.CallID == got.CallID && w.ContactID == got.ContactID &&
		w.AgentID == got.AgentID && w.Actor == got.Actor && len(got.Warnings) == 0
}

// TestWebhookSoak: soakEventCount() events from soakSenders senders, with
// redeliveries and failing handlers; the log ends with each event once,
// and the handler ran successfully once for each.
func TestWebhookSoak(t *testing.T) {
	events := soakEvents(t, soakEventCount())
	jobs := soakJobs(events)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	log, err := talkdesk.OpenEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	rcv := newSoakReceiver(events, log)
	srv := httptest.NewServer(rcv.handler)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newSoakSender(len(events))
	s.base.Store(&srv.URL)
	start := time.Now()
	if err := s.run(ctx, events, jobs); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	srv.Close()
	stats := log.Stats()
	if err := log.Close(); err != nil {
		t.Fatal(err)
	}

	wantFailures := 0
	for i, ev := range events {
		if ev.fail {
			wantFailures++
		}
		if n := rcv.handled[ev.want.ID]; n != 1 {
			t.Errorf("event %d was handled successfully %d times", i, n)
		}
		if n, want := s.acked[i].Load(), int32(1)+boolInt(ev.twice); n != want {
			t.Errorf("event %d was acknowledged %d times, want %d", i, n, want)
		}
	}
	if got := rcv.failures.Load(); got != int64(wantFailures) || s.serverErrors.Load() != got {
		t.Errorf("handler failures %d, 500s %d; want %d", got, s.serverErrors.Load(), wantFailures)
	}
	if s.connErrors.Load() > 0 {
		t.Errorf("%d deliveries failed to connect", s.connErrors.Load())
	}
	checkSoakLog(t, path, events)
	t.Logf("%d deliveries (%d events, %d redelivered, %d failed in the handler and delivered again) from %d senders in %s: "+
		"%d answered 200, %d answered 500; the log holds %d events in %d fsyncs",
		s.deliveries.Load(), len(events), len(jobs)-len(events), wantFailures, soakSenders, elapsed.Round(time.Millisecond),
		s.ok.Load(), s.serverErrors.Load(), stats.Events, stats.Syncs)
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// The SIGKILL soak runs the receiver in a child process: this test binary,
// running TestWebhookSoakReceiver with the log's path in soakChildEnv.
const soakChildEnv = "TALKDESK_SOAK_CHILD_LOG"

// TestWebhookSoakReceiver is the receiving process of
// TestWebhookSoakSurvivesSIGKILL: it serves a soakReceiver on a loopback
// port, prints "listening <url>", and serves until its stdin closes.
func TestWebhookSoakReceiver(t *testing.T) {
	path := os.Getenv(soakChildEnv)
	if path == "" {
		t.Skip("run by TestWebhookSoakSurvivesSIGKILL")
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Getenv(soakChildEnv + "_EVENTS"))
	if err != nil {
		fail(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, nil)) // the log's repairs, for the parent to report
	log, err := talkdesk.OpenEventLog(path, talkdesk.WithEventLogLogger(logger))
	if err != nil {
		fail(err)
	}
	fmt.Printf("reopened %d events\n", log.Stats().Events)
	rcv := newSoakReceiver(soakEvents(t, n), log)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	srv := &http.Server{Handler: rcv.handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(ln)
	fmt.Printf("listening http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	if err := srv.Shutdown(context.Background()); err != nil {
		fail(err)
	}
	if err := log.Close(); err != nil {
		fail(err)
	}
	fmt.Println("closed")
	os.Exit(0)
}

// soakChild is one run of the receiving process.
type soakChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	done  chan struct{} // its stdout is drained
	lines []string      // what it printed besides "listening"
}

func startSoakChild(t *testing.T, path string, n int) *soakChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWebhookSoakReceiver$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), soakChildEnv+"="+path, soakChildEnv+"_EVENTS="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &soakChild{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if url, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				urls <- url
				continue
			}
			c.lines = append(c.lines, sc.Text())
		}
	}()
	select {
	case c.url = <-urls:
	case <-c.done:
		cmd.Wait()
		t.Fatalf("the receiver exited before listening: %q", c.lines)
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("the receiver did not start listening within a minute")
	}
	return c
}

// TestWebhookSoakSurvivesSIGKILL is TestWebhookSoak with the receiving
// process killed with SIGKILL once half the events are acknowledged, and
// started again on the same log. Talkdesk (this test) delivers again what
// was not acknowledged, across the restart. The log must end with every
// event, each once: in particular every event acknowledged before the
// kill.
func TestWebhookSoakSurvivesSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs SIGKILL and a child process")
	}
	if testing.Short() {
		t.Skip("short")
	}
	events := soakEvents(t, soakEventCount())
	jobs := soakJobs(events)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	first := startSoakChild(t, path, len(events))
	s := newSoakSender(len(events))
	s.base.Store(&first.url)
	// The sender that gets the answer making half the events acknowledged
	// waits there while the receiver is killed: the kill comes with the
	// other senders' deliveries in flight, and before the last answer.
	half, killed := make(chan struct{}), make(chan struct{})
	s.onAck = func(distinct int64) {
		if distinct == int64(len(events)/2) {
			close(half)
			select {
			case <-killed:
			case <-ctx.Done():
			}
		}
	}
	start := time.Now()
	sent := make(chan error, 1)
	go func() { sent <- s.run(ctx, events, jobs) }()
	select {
	case <-half:
	case err := <-sent:
		t.Fatalf("the deliveries ended before half were acknowledged: %v", err)
	}
	first.cmd.Process.Kill() // SIGKILL
	first.cmd.Wait()
	var ackedBeforeKill []int
	for i := range s.acked {
		if s.acked[i].Load() > 0 {
			ackedBeforeKill = append(ackedBeforeKill, i)
		}
	}
	close(killed)
	<-first.done
	killedAt := time.Since(start)

	second := startSoakChild(t, path, len(events))
	s.base.Store(&second.url)
	err := <-sent
	elapsed := time.Since(start)
	second.stdin.Close()
	if werr := second.cmd.Wait(); werr != nil {
		t.Errorf("the second receiver: %v", werr)
	}
	<-second.done
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range append(first.lines, second.lines...) {
		if strings.HasPrefix(l, "error") {
			t.Errorf("receiver: %s", l)
		}
	}
	for i, ev := range events {
		if n, want := s.acked[i].Load(), 1+boolInt(ev.twice); n != want {
			t.Errorf("event %d was acknowledged %d times, want %d", i, n, want)
		}
	}
	checkSoakLog(t, path, events) // every event once: those acknowledged before the kill among them
	t.Logf("%d deliveries of %d events from %d senders in %s; receiver killed after %s with %d events acknowledged, restarted (%q): "+
		"%d answered 200, %d answered 500, %d failed to connect; the log holds each event once",
		s.deliveries.Load(), len(events), soakSenders, elapsed.Round(time.Millisecond), killedAt.Round(time.Millisecond),
		len(ackedBeforeKill), second.lines, s.ok.Load(), s.serverErrors.Load(), s.connErrors.Load())
}
