// Command explore-scale measures the Explore API's calls report at volume,
// on this machine:
//
//	go run ./scripts/explore-scale -n 1000000 -dir /var/tmp
//
// It decodes a calls report of n calls as it streams (made on the fly by
// eventstoretest.CallsReport: no network, no memory to make it) and
// reports the calls a second and the most the heap grew; then, into two
// new event logs in dir, it measures the log's own rate of concurrent
// appends (64 writers appending the events of the same calls) and that of
// talkdesk.ImportCalls reading the report, in the same run, and reports
// their ratio, and how much the heap grew in each: the log's index of the
// events in both, so that the import's own memory is the difference.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

func main() {
	n := flag.Int("n", 100_000, "calls in the report")
	dir := flag.String("dir", os.TempDir(), "where the logs go (removed at the end)")
	writers := flag.Int("writers", 64, "concurrent appends")
	flag.Parse()
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

	// 1. Decode as it streams.
	peak := watchHeap()
	t0 := time.Now()
	count := 0
	for rec, err := range talkdesk.CallRecords(eventstoretest.CallsReport(*n, start), talkdesk.ReportJSON, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if rec.CallID == "" {
			log.Fatal("a call without ID")
		}
		count++
	}
	d := time.Since(t0)
	grew := peak()
	fmt.Printf("decode: %d calls in %s, %.0f calls/s; heap grew by at most %.1f MiB\n", count, d.Round(time.Millisecond), float64(count)/d.Seconds(), float64(grew)/(1<<20))

	// 2. The log's own concurrent appends of the same calls' events.
	ctx := context.Background()
	base := open(*dir, "baseline")
	peak = watchHeap()
	t0 = time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range *writers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(*n); i = next.Add(1) - 1 {
				rec := eventstoretest.ReportedCall(int(i), start)
				ev, err := rec.Event(time.Now())
				if err != nil {
					log.Fatal(err)
				}
				if _, err := base.Append(ctx, ev); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	appendRate := float64(*n) / time.Since(t0).Seconds()
	fmt.Printf("append: %d events from %d writers, %.0f events/s; heap grew by at most %.1f MiB (the log's index of them)\n",
		*n, *writers, appendRate, float64(peak())/(1<<20))
	base.remove() // its index goes before the import's is measured

	// 3. The import, reading the report as it streams.
	imp := open(*dir, "import")
	defer imp.remove()
	peak = watchHeap()
	t0 = time.Now()
	res, err := talkdesk.ImportCalls(ctx, imp.EventLog, talkdesk.CallRecords(eventstoretest.CallsReport(*n, start), talkdesk.ReportJSON, nil), *writers)
	if err != nil {
		log.Fatal(err)
	}
	importRate := float64(res.Added) / time.Since(t0).Seconds()
	fmt.Printf("import: %d calls read, %d added, %.0f events/s (%.0f%% of the appends'); heap grew by at most %.1f MiB (with the log's index)\n",
		res.Read, res.Added, importRate, 100*importRate/appendRate, float64(peak())/(1<<20))
}

type eventLog struct {
	*talkdesk.EventLog
	path string
}

func open(dir, name string) eventLog {
	path := filepath.Join(dir, fmt.Sprintf("explore-scale-%d-%s.jsonl", os.Getpid(), name))
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		log.Fatal(err)
	}
	return eventLog{l, path}
}

func (l eventLog) remove() {
	l.Close()
	os.Remove(l.path)
	os.Remove(l.path + ".handled")
}

// watchHeap samples the heap every 50 ms from now on; the function it
// returns stops and gives the most it grew over its start.
func watchHeap() func() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var most atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base && m.HeapAlloc-base > most.Load() {
					most.Store(m.HeapAlloc - base)
				}
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return most.Load()
	}
}
