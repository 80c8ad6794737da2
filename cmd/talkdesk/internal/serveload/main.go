// Command serveload measures talkdesk serve on the file log against the
// log itself, in one run: first EventLog.Append called directly by
// -concurrency goroutines with -count events, then the same number of
// deliveries sent over HTTP by talkdesk trigger --concurrency to a
// talkdesk serve, sampling the server's heap as it goes; -rounds times,
// each phase on a new log. It prints both rates, their ratio, the
// latencies, and the heap of each round.
//
//	cd cmd/talkdesk && go run ./internal/serveload
//	cd cmd/talkdesk && go run ./internal/serveload -count 100000 -concurrency 64
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/cmd/talkdesk/internal/deliveries"
)

func main() {
	count := flag.Int("count", 100000, "events of each phase")
	concurrency := flag.Int("concurrency", 64, "appends, or deliveries, under way at once")
	trigger := flag.String("trigger", string(talkdesk.TriggerInboundCallEnds), "the trigger of the deliveries")
	rounds := flag.Int("rounds", 3, "rounds of both phases, one after the other: the machine's noise shows")
	flag.Parse()
	if err := run(*count, *concurrency, *rounds, talkdesk.Trigger(*trigger)); err != nil {
		fmt.Fprintln(os.Stderr, "serveload:", err)
		os.Exit(1)
	}
}

func run(count, concurrency, rounds int, t talkdesk.Trigger) error {
	dir, err := os.MkdirTemp("", "serveload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "talkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("building talkdesk (run serveload from cmd/talkdesk): %v\n%s", err, out)
	}
	fmt.Printf("serveload: %d events of %s, %d at once, a file log in %s\n", count, t, concurrency, dir)

	for round := 1; round <= rounds; round++ {
		name := func(phase string) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", phase, round)) }
		direct, err := appendDirectly(name("direct"), count, concurrency, t)
		if err != nil {
			return err
		}
		served, heap, err := throughServe(bin, name("served"), count, concurrency, t)
		if err != nil {
			return err
		}
		fmt.Printf("round %d\n", round)
		fmt.Printf("  direct  EventLog.Append:        %7.0f events/s  p50 %8s  p99 %8s\n", direct.rate, direct.p50, direct.p99)
		fmt.Printf("  serve   talkdesk trigger:       %7.0f events/s  p50 %8s  p99 %8s\n", served.rate, served.p50, served.p99)
		fmt.Printf("  ratio   serve / direct:         %7.0f%%\n", 100*served.rate/direct.rate)
		fmt.Printf("  heap    the log's own index:    %.1f MiB for %d events, %.0f B/event (live after GC)\n", float64(direct.index)/(1<<20), count, float64(direct.index)/float64(count))
		fmt.Printf("  heap    serve's live heap:      %s\n", heap)
		os.Remove(name("direct"))
		os.Remove(name("served"))
	}
	return nil
}

// measured is a phase's rate and latencies.
type measured struct {
	rate     float64
	p50, p99 time.Duration
	index    uint64 // the heap the log's index holds at the end
}

// appendDirectly appends count events to a new file log at path from
// concurrency goroutines.
func appendDirectly(path string, count, concurrency int, t talkdesk.Trigger) (measured, error) {
	log, err := talkdesk.OpenEventLog(path)
	if err != nil {
		return measured{}, err
	}
	defer log.Close()
	now := time.Now()
	events := make([]*talkdesk.Event, count)
	for i := range events {
		if events[i], err = talkdesk.ParseEvent(t, deliveries.Body("direct", t, i, now)); err != nil {
			return measured{}, err
		}
	}
	lat := make([]time.Duration, count)
	before := liveHeap()
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				begin := time.Now()
				if _, err := log.Append(context.Background(), events[i]); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(begin)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		return measured{}, err
	}
	index := liveHeap() - before
	runtime.KeepAlive(events)
	slices.Sort(lat)
	return measured{float64(count) / elapsed.Seconds(), lat[count/2].Round(time.Microsecond), lat[count*99/100].Round(time.Microsecond), index}, nil
}

// liveHeap collects garbage and returns the heap that is left.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// summary is talkdesk trigger's last line.
var summary = regexp.MustCompile(`deliveries: (\d+) in \S+, (\d+)/s; latency p50 (\S+), p99 (\S+)`)

// throughServe starts talkdesk serve on a new file log at path, sends it
// count deliveries with talkdesk trigger, and samples its heap.
func throughServe(bin, path string, count, concurrency int, t talkdesk.Trigger) (measured, string, error) {
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--log", path, "--webhook-secret", "S", "--api-key", "K")
	stderr, err := serve.StderrPipe()
	if err != nil {
		return measured{}, "", err
	}
	if err := serve.Start(); err != nil {
		return measured{}, "", err
	}
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
	}()
	addr, err := listening(stderr)
	if err != nil {
		return measured{}, "", err
	}
	go io.Copy(io.Discard, stderr)
	base := "http://" + addr

	stop := make(chan struct{})
	samples := make(chan string, 1)
	go func() { samples <- sampleHeap(base, stop) }()
	out, err := exec.Command(bin, "trigger", string(t), "--count", strconv.Itoa(count), "--concurrency", strconv.Itoa(concurrency),
		"--to", base+"/webhooks", "--secret", "S").CombinedOutput()
	close(stop)
	heap := <-samples
	if err != nil {
		return measured{}, "", fmt.Errorf("talkdesk trigger: %v\n%s", err, out)
	}
	m := summary.FindStringSubmatch(string(out))
	if m == nil {
		return measured{}, "", fmt.Errorf("talkdesk trigger printed no summary:\n%s", out)
	}
	rate, _ := strconv.ParseFloat(m[2], 64)
	p50, _ := time.ParseDuration(m[3])
	p99, _ := time.ParseDuration(m[4])
	return measured{rate: rate, p50: p50, p99: p99}, heap, nil
}

// listening reads serve's log until it says where it listens.
func listening(stderr io.Reader) (string, error) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) == nil && entry.Msg == "talkdesk serve: listening" {
			return entry.Addr, nil
		}
	}
	return "", fmt.Errorf("serve ended before listening")
}

// sampleHeap reads the server's live heap (after its last collection)
// and its events stored from /metrics every second until stop, and says
// how the heap went along the events.
func sampleHeap(base string, stop <-chan struct{}) string {
	var points []string
	var peak float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			var shown []string
			for i := range 10 {
				if j := i * len(points) / 10; j < len(points) && (len(shown) == 0 || shown[len(shown)-1] != points[j]) {
					shown = append(shown, points[j])
				}
			}
			if len(points) > 0 {
				shown = append(shown, points[len(points)-1])
			}
			return fmt.Sprintf("peak %.1f MiB; by events stored: %s", peak/(1<<20), strings.Join(shown, ", "))
		case <-tick.C:
		}
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		heap, stored := sample(string(body), "go_gc_heap_live_bytes"), sample(string(body), "talkdesk_events_stored_total")
		peak = max(peak, heap)
		points = append(points, fmt.Sprintf("%.0fk %.1f MiB", stored/1000, heap/(1<<20)))
	}
}

// sample returns the value of the metric named in Prometheus' text.
func sample(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}
