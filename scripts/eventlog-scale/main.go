// Command eventlog-scale measures the file event log at the sizes a busy
// contact centre reaches: appends of inboundCallEnds events (about 3 KB a
// line) from 64 writers, each with its own rising range of times (64
// interleaved time fronts) or all in time order; the open of the file; the
// heap it then holds per event; iterating events by time range; and the
// delay from an append to its delivery to a follower.
//
//	go run ./scripts/eventlog-scale -n 1000000 -dir /var/tmp
//
// It is not part of go test: a million events make a 3 GB file.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

func main() {
	n := flag.Int("n", 100_000, "events to append")
	logPath := flag.String("log", "", "measure the open and the iteration of this log, which is kept, rather than of a new one")
	keep := flag.Bool("keep", false, "keep the new log (its path is printed) for runs with -log")
	writers := flag.Int("writers", 64, "concurrent writers")
	inOrder := flag.Bool("in-order", false, "append in time order instead of in 64 interleaved fronts")
	dir := flag.String("dir", os.TempDir(), "where the new log goes (removed at the end, unless -keep)")
	iterate := flag.Int("iterate", 100_000, "events to iterate by time range")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the open to this file, one of the iteration to this file with .iterate added, and the heap after the open to it with .heap added")
	flag.Parse()

	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	span := 30 * 24 * time.Hour // a month of events
	path := *logPath
	if path == "" {
		path = filepath.Join(*dir, fmt.Sprintf("eventlog-scale-%d.jsonl", os.Getpid()))
		if !*keep {
			defer os.Remove(path)
		}
		appendAll(path, *n, *writers, *inOrder, base, span)
		if *keep {
			fmt.Printf("kept: %s\n", path)
		}
	}
	readAll(path, *iterate, *profile, base, span)
}

// appendAll appends n events to a new log at path from writers goroutines,
// then measures Follow's delay on it.
func appendAll(path string, n, writers int, inOrder bool, base time.Time, span time.Duration) {
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		log.Fatal(err)
	}
	at := func(i int) time.Time {
		if inOrder {
			return base.Add(span / time.Duration(n) * time.Duration(i))
		}
		// Writer w appends its own rising range: the w-th slice of the
		// month. (Divide before multiplying: a month in nanoseconds times
		// a million overflows.)
		w, k := i%writers, i/writers
		slice := span / time.Duration(writers)
		return base.Add(time.Duration(w)*slice + time.Duration(k)*(slice/time.Duration(n/writers+1)))
	}

	fmt.Printf("appending %d inboundCallEnds events from %d writers (%s)\n", n, writers, map[bool]string{true: "in time order", false: "64 interleaved fronts"}[inOrder])
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	tenth := n / 10
	var marks sync.Map
	for range writers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				ev := event(i, at(i))
				if _, err := l.Append(context.Background(), ev); err != nil {
					log.Fatal(err)
				}
				if tenth > 0 && (i+1)%tenth == 0 {
					marks.Store((i+1)/tenth, time.Since(start))
				}
			}
		})
	}
	wg.Wait()
	total := time.Since(start)
	var prev time.Duration
	for d := 1; d <= 10; d++ {
		v, ok := marks.Load(d)
		if !ok {
			continue
		}
		el := v.(time.Duration)
		fmt.Printf("  %3d%%: %7.0f events/s over the last tenth\n", d*10, float64(tenth)/(el-prev).Seconds())
		prev = el
	}
	fmt.Printf("append: %d events in %v, %.0f events/s\n", n, total.Round(time.Millisecond), float64(n)/total.Seconds())

	// Follow: delay from Append's return to delivery, on a log of this size.
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan time.Time, 1)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		for _, err := range l.Follow(ctx, talkdesk.EventQuery{InteractionID: "follow-probe"}, "") {
			if err != nil {
				return
			}
			got <- time.Now()
		}
	}()
	time.Sleep(100 * time.Millisecond) // the follower is waiting
	var delays []time.Duration
	for k := range 200 {
		ev := event(n+k, base.Add(span))
		ev.InteractionID = "follow-probe"
		if _, err := l.Append(context.Background(), ev); err != nil {
			log.Fatal(err)
		}
		done := time.Now()
		delays = append(delays, (<-got).Sub(done))
	}
	cancel()
	<-followed
	slices.Sort(delays)
	fmt.Printf("follow: append to delivery p50 %v, p99 %v (200 events)\n", delays[len(delays)/2], delays[len(delays)*99/100])
	if err := l.Close(); err != nil {
		log.Fatal(err)
	}
}

// readAll measures the open of the log at path, the heap it holds, and the
// iteration of iterate events by time range.
func readAll(path string, iterate int, profile string, base time.Time, span time.Duration) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	if profile != "" {
		if err := pprof.StartCPUProfile(create(profile)); err != nil {
			log.Fatal(err)
		}
	}
	start := time.Now()
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		log.Fatal(err)
	}
	open := time.Since(start)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if profile != "" {
		f := create(profile + ".heap")
		if err := pprof.WriteHeapProfile(f); err != nil {
			log.Fatal(err)
		}
		f.Close()
	}
	st := l.Stats()
	fmt.Printf("open: %d events, %.2f GB, in %v; heap after open %.0f B/event\n", st.Events, float64(st.Bytes)/1e9, open.Round(time.Millisecond),
		(float64(after.HeapAlloc)-float64(before.HeapAlloc))/float64(st.Events))

	// Iterate a time range of the middle of the month.
	if profile != "" {
		if err := pprof.StartCPUProfile(create(profile + ".iterate")); err != nil {
			log.Fatal(err)
		}
	}
	q := talkdesk.EventQuery{Since: base.Add(span / 3), Limit: talkdesk.MaxEventPageSize}
	start = time.Now()
	count := 0
	for _, err := range l.Events(context.Background(), q) {
		if err != nil {
			log.Fatal(err)
		}
		if count++; count == iterate {
			break
		}
	}
	el := time.Since(start)
	if profile != "" {
		pprof.StopCPUProfile()
	}
	fmt.Printf("iterate: %d events by time range in %v (%.1f us each)\n", count, el.Round(time.Millisecond), float64(el.Microseconds())/float64(max(count, 1)))
	l.Close()
}

// create creates the file at path, or exits.
func create(path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	return f
}

func event(i int, at time.Time) *talkdesk.Event {
	ev, err := eventstoretest.CallEnded(i, at)
	if err != nil {
		log.Fatal(err)
	}
	return ev
}
