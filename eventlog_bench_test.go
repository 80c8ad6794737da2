package talkdesk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkEventLogAppend measures durable appends (each returns once its
// event is written and fsynced) from 1, 8 and 64 concurrent writers:
// impl=group-commit is EventLog.Append; impl=fsync-per-event is the
// straightforward design it replaces, a mutex around write+fsync of each
// event, with the same encoding and duplicate check. Reports events/s and
// fsyncs per event.
func BenchmarkEventLogAppend(b *testing.B) {
	base, err := parseEvent(TriggerInboundCallEnds, readEventFixture(b, "inboundCallEnds_complete.json"), received)
	if err != nil {
		b.Fatal(err)
	}
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d/impl=group-commit", writers), func(b *testing.B) {
			l, err := OpenEventLog(filepath.Join(b.TempDir(), "events.jsonl"))
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			runAppends(b, writers, base, func(ev *Event) error { _, err := l.Append(context.Background(), ev); return err },
				func() int64 { return l.Stats().Syncs })
		})
		b.Run(fmt.Sprintf("writers=%d/impl=fsync-per-event", writers), func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "events.jsonl"), os.O_RDWR|os.O_CREATE, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var (
				mu    sync.Mutex
				size  int64
				syncs int64
				seen  = map[string]bool{}
			)
			runAppends(b, writers, base, func(ev *Event) error {
				line, err := encodeLogLine(ev)
				if err != nil {
					return err
				}
				line = append(line, '\n')
				mu.Lock()
				defer mu.Unlock()
				if seen[ev.ID] {
					return nil
				}
				if _, err := f.WriteAt(line, size); err != nil {
					return err
				}
				syncs++
				if err := syncData(f); err != nil {
					return err
				}
				size += int64(len(line))
				seen[ev.ID] = true
				return nil
			}, func() int64 { mu.Lock(); defer mu.Unlock(); return syncs })
		})
	}
}

func runAppends(b *testing.B, writers int, base *Event, appendFn func(*Event) error, syncs func() int64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				ev := *base
				ev.ID = fmt.Sprintf("bench-%012d", i)
				if err := appendFn(&ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(syncs())/float64(b.N), "fsyncs/event")
}

// queryBench is a log file of 100,000 events over 10,000 interactions,
// built once per test binary.
var queryBench struct {
	once sync.Once
	dir  string
	path string
	err  error
}

const (
	queryBenchEvents       = 100_000
	queryBenchInteractions = 10_000
)

func queryBenchLog(b *testing.B) string {
	queryBench.once.Do(func() {
		base, err := parseEvent(TriggerInboundCallEnds, readEventFixture(b, "inboundCallEnds_complete.json"), received)
		if err != nil {
			queryBench.err = err
			return
		}
		queryBench.dir, queryBench.err = os.MkdirTemp("", "talkdesk-eventlog-bench")
		if queryBench.err != nil {
			return
		}
		queryBench.path = filepath.Join(queryBench.dir, "events.jsonl")
		f, err := os.Create(queryBench.path)
		if err != nil {
			queryBench.err = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for i := range queryBenchEvents {
			ev := *base
			ev.ID = fmt.Sprintf("q-%08d", i)
			ev.InteractionID = fmt.Sprintf("int-%05d", (i*7919)%queryBenchInteractions)
			ev.AgentID = fmt.Sprintf("ag-%03d", i%300)
			ev.ContactID = fmt.Sprintf("ct-%04d", i%5000)
			ev.OccurredAt = received.Add(time.Duration(i) * time.Second)
			line, err := encodeLogLine(&ev)
			if err != nil {
				queryBench.err = err
				return
			}
			w.Write(line)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			queryBench.err = err
		}
		queryBench.err = f.Close()
	})
	if queryBench.err != nil {
		b.Fatal(queryBench.err)
	}
	return queryBench.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if queryBench.dir != "" {
		os.RemoveAll(queryBench.dir)
	}
	os.Exit(code)
}

// BenchmarkEventLogQueryByInteraction compares a query by interaction on
// a log of 100,000 events (impl=index) with a full scan of the same file
// that decodes each line's index fields and the matching events
// (impl=full-scan). impl=index also reports the memory of the indexes per
// event, measured when the log is opened.
func BenchmarkEventLogQueryByInteraction(b *testing.B) {
	path := queryBenchLog(b)
	ctx := context.Background()
	b.Run("impl=index", func(b *testing.B) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l, err := OpenEventLog(path)
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		runtime.GC()
		runtime.ReadMemStats(&after)
		indexBytes := float64(after.HeapAlloc-before.HeapAlloc) / queryBenchEvents
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("int-%05d", (i*31)%queryBenchInteractions)
			i++
			page, err := l.Query(ctx, EventQuery{InteractionID: id})
			if err != nil || len(page.Events) != queryBenchEvents/queryBenchInteractions {
				b.Fatalf("%d events, %v", len(page.Events), err)
			}
		}
		b.ReportMetric(indexBytes, "index-B/event") // after the loop: b.Loop resets the metrics
	})
	b.Run("impl=full-scan", func(b *testing.B) {
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("int-%05d", (i*31)%queryBenchInteractions)
			i++
			evs, err := fullScan(path, id)
			if err != nil || len(evs) != queryBenchEvents/queryBenchInteractions {
				b.Fatalf("%d events, %v", len(evs), err)
			}
		}
	})
}

// fullScan is a query by interaction without an index: read every line,
// decode the fields needed to filter, decode the matches, sort them.
func fullScan(path, interactionID string) ([]*Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out []*Event
	for sc.Scan() {
		var fields indexFields
		if err := json.Unmarshal(sc.Bytes(), &fields); err != nil {
			return nil, err
		}
		if fields.InteractionID != interactionID {
			continue
		}
		ev := new(Event)
		if err := json.Unmarshal(sc.Bytes(), ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	slices.SortFunc(out, func(a, b *Event) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, sc.Err()
}

// storedLine is a stored line of the complete inboundCallEnds fixture.
func storedLine(b *testing.B) []byte {
	ev, err := parseEvent(TriggerInboundCallEnds, readEventFixture(b, "inboundCallEnds_complete.json"), time.Now())
	if err != nil {
		b.Fatal(err)
	}
	line, err := encodeLogLine(ev)
	if err != nil {
		b.Fatal(err)
	}
	return line
}

// BenchmarkReadIndexFields compares what opening a log does with each line
// (read the index fields, stopping before the payload) with json.Unmarshal
// of the whole line into them.
func BenchmarkReadIndexFields(b *testing.B) {
	line := storedLine(b)
	b.Run("impl=readIndexFields", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if f, err := readIndexFields(line); err != nil || f.ID == "" {
				b.Fatal(f, err)
			}
		}
	})
	b.Run("impl=json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var f indexFields
			if err := json.Unmarshal(line, &f); err != nil || f.ID == "" {
				b.Fatal(f, err)
			}
		}
	})
}

// BenchmarkReadStoredEvent compares the ways to read a stored line:
// Event.UnmarshalJSON, which checks the line once; json.Unmarshal, which
// checks it and then calls UnmarshalJSON, which checks it again; and
// decodeStored, which a query uses, and which skips the stored payload.
func BenchmarkReadStoredEvent(b *testing.B) {
	line := storedLine(b)
	b.Run("impl=UnmarshalJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev Event
			if err := ev.UnmarshalJSON(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var ev Event
			if err := json.Unmarshal(line, &ev); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=decodeStored", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeStored(line); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEventLogAppendWithRareTypeReaders measures the latency of
// Append (p50, p99, mean) on a log of 200,000 events, in a file and in
// memory, alone and while four clients loop on queries for a type that 10
// of the events have: a query must not make appends wait for its scan of
// the log. readers=4-cpu-only is four goroutines as busy as the readers
// that touch no lock: what sharing the two CPUs costs the appends.
func BenchmarkEventLogAppendWithRareTypeReaders(b *testing.B) {
	for _, store := range []string{"file", "memory"} {
		b.Run("store="+store, func(b *testing.B) { benchAppendWithRareTypeReaders(b, store) })
	}
}

func benchAppendWithRareTypeReaders(b *testing.B, store string) {
	ctx := context.Background()
	event := func(i int, typ Trigger) *Event {
		return &Event{
			ID: fmt.Sprintf("ev-%07d", i), Type: typ,
			OccurredAt: received.Add(time.Duration(i) * time.Second), ReceivedAt: received,
			InteractionID: fmt.Sprintf("int-%d", i), AgentID: fmt.Sprintf("ag-%d", i%50),
			Actor: Actor{Type: ActorSystem}, Raw: json.RawMessage(`{}`),
		}
	}
	const size = 200_000
	typeOf := func(i int) Trigger {
		if i%(size/10) == 0 {
			return TriggerNoteCreated
		}
		return TriggerInboundCallEnds
	}
	var l *EventLog
	var err error
	if store == "memory" {
		if l, err = OpenEventLog(""); err != nil {
			b.Fatal(err)
		}
		for i := range size {
			if _, err := l.Append(ctx, event(i, typeOf(i))); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		// The file written at once, then opened: 200,000 appends one
		// after the other would take an fsync each.
		path := filepath.Join(b.TempDir(), "events.jsonl")
		var buf []byte
		for i := range size {
			line, err := encodeLogLine(event(i, typeOf(i)))
			if err != nil {
				b.Fatal(err)
			}
			buf = append(append(buf, line...), '\n')
		}
		if err := os.WriteFile(path, buf, 0o600); err != nil {
			b.Fatal(err)
		}
		if l, err = OpenEventLog(path); err != nil {
			b.Fatal(err)
		}
	}
	defer l.Close()
	next := size
	// readers=4-cpu-only: four goroutines as busy as the readers, that
	// touch no lock: what the CPUs shared with them cost the appends.
	for _, readers := range []int{0, 4, -4} {
		name := fmt.Sprintf("readers=%d", readers)
		if readers < 0 {
			name = fmt.Sprintf("readers=%d-cpu-only", -readers)
		}
		b.Run(name, func(b *testing.B) {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var queries atomic.Int64
			for range -readers {
				wg.Go(func() {
					sum := sha256.Sum256(nil)
					for {
						select {
						case <-stop:
							return
						default:
						}
						for range 100 {
							sum = sha256.Sum256(sum[:])
						}
						queries.Add(1)
					}
				})
			}
			for range readers {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						page, err := l.Query(ctx, EventQuery{Types: []Trigger{TriggerNoteCreated}})
						if err != nil || len(page.Events) < 10 {
							b.Errorf("query: %v", err)
							return
						}
						queries.Add(1)
					}
				})
			}
			var lat []time.Duration
			for b.Loop() {
				ev := event(next, TriggerInboundCallEnds)
				next++
				start := time.Now()
				if _, err := l.Append(ctx, ev); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			close(stop)
			wg.Wait()
			var sum time.Duration
			for _, d := range lat {
				sum += d
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
			b.ReportMetric(float64(sum.Nanoseconds())/float64(len(lat))/1e3, "mean-µs")
			b.ReportMetric(float64(queries.Load())/b.Elapsed().Seconds(), "queries/s")
		})
	}
}
