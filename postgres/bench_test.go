package tdpostgres

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

// benchEvent returns a complete inboundCallEnds event of about 2.9 KB
// stored, as scripts/eventlog-scale makes them.
func benchEvent(tb testing.TB, i int) *talkdesk.Event {
	ev, err := eventstoretest.CallEnded(i, time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// naiveSQL stores one event per statement, each its own transaction,
// taking its position in the log as Append does: the way to beat.
const naiveSQL = `WITH taken AS (UPDATE {{s}}.log_position SET n = n + 1 RETURNING n)
INSERT INTO {{s}}.events (id, type, event_name, occurred_ns, occurred_at, received_at,
	account_id, interaction_id, call_id, contact_id, agent_id,
	actor_type, actor_id, actor_name, actor_email, payload, raw, warnings, line, pos)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb, $18::jsonb, $19, (SELECT n FROM taken))
ON CONFLICT (id) DO NOTHING`

// serverCPU returns the CPU time used so far by the PostgreSQL server:
// its postmaster and every process it started (backends, WAL writer,
// checkpointer...), from /proc.
func serverCPU(tb testing.TB, pool *pgxpool.Pool) time.Duration {
	var backend int
	if err := pool.QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		tb.Fatal(err)
	}
	postmaster := procField(backend, 4) // ppid
	if postmaster == 0 {
		tb.Skip("no /proc view of the server: it runs elsewhere")
	}
	ticks := 0
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if pid == postmaster || procField(pid, 4) == postmaster {
			ticks += procField(pid, 14) + procField(pid, 15) // utime + stime
		}
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// procField returns field i of /proc/pid/stat, numbered as in proc(5):
// 3 is the state, 4 the parent, 14 and 15 the user and system time.
func procField(pid, i int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if i < 3 || i-3 >= len(fields) {
		return 0
	}
	n, _ := strconv.Atoi(fields[i-3])
	return n
}

// BenchmarkAppend appends b.N events of 2.9 KB from 64 writers, one
// INSERT per event in its own transaction (naive) against the Store's
// group commit, and reports events/s, the p99 latency of an append and
// the server's CPU per event.
//
//	scripts/postgres bash -c 'cd postgres && go test -run - -bench Append -benchtime 20000x'
func BenchmarkAppend(b *testing.B) {
	const writers = 64
	for _, mode := range []string{"naive", "group"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			cfg, err := pgxpool.ParseConfig(testURL(b))
			if err != nil {
				b.Fatal(err)
			}
			if mode == "naive" {
				cfg.MaxConns = writers
			}
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(pool.Close)
			s := openOn(b, pool, WithSchema(freshSchema(b, pool)))
			evs := make([]*talkdesk.Event, b.N)
			rows := make([]*row, b.N)
			for i := range evs {
				evs[i] = benchEvent(b, i)
				if mode == "naive" { // the Store does this in Append
					if rows[i], err = newRow(evs[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			naive := s.sql(naiveSQL)
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			cpu0 := serverCPU(b, pool)
			b.ResetTimer()
			start := time.Now()
			for range writers {
				wg.Go(func() {
					for {
						i := int(next.Add(1) - 1)
						if i >= b.N {
							return
						}
						t0 := time.Now()
						if mode == "naive" {
							r := rows[i]
							_, err = pool.Exec(ctx, naive, r.id, r.typ, r.name, r.occurredNs, r.occurredAt, r.receivedAt,
								r.account, r.interaction, r.call, r.contact, r.agent,
								r.actorType, r.actorID, r.actorName, r.actorEmail, r.payload, r.raw, r.warnings, r.line)
						} else {
							_, err = s.Append(ctx, evs[i])
						}
						if err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			cpu := serverCPU(b, pool) - cpu0
			if n, _ := countRows(b, s); n != b.N {
				b.Fatalf("stored %d events of %d", n, b.N)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/el.Seconds(), "events/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-us/event")
		})
	}
}

// BenchmarkImportCalls measures, in one run, the store's own rate of
// concurrent appends (64 writers appending the events of b.N reported
// calls) and that of talkdesk.ImportCalls reading a calls report of b.N
// calls as it streams, into fresh schemas:
//
//	scripts/postgres bash -c 'cd postgres && go test -run - -bench ImportCalls -benchtime 100000x'
func BenchmarkImportCalls(b *testing.B) {
	const writers = 64
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, mode := range []string{"append", "import"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := openStore(b)
			b.ResetTimer()
			t0 := time.Now()
			if mode == "append" {
				var next atomic.Int64
				var wg sync.WaitGroup
				for range writers {
					wg.Go(func() {
						for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
							ev, err := eventstoretest.ReportedCall(i, start).Event(time.Now())
							if err == nil {
								_, err = s.Append(ctx, ev)
							}
							if err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			} else {
				res, err := talkdesk.ImportCalls(ctx, s, talkdesk.CallRecords(eventstoretest.CallsReport(b.N, start), talkdesk.ReportJSON, nil), writers)
				if err != nil || res.Added != b.N {
					b.Fatalf("%+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "events/s")
		})
	}
}
