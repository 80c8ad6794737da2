package tdpostgres

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

const testSecret = "replica-secret-5d1e"

// body returns the body of an inboundCallEnds delivery of interaction n.
func body(n int) []byte {
	at := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	b, _ := json.Marshal(map[string]string{
		"event": "call_finished", "interaction_id": fmt.Sprintf("int-%d", n), "call_id": fmt.Sprintf("call-%d", n),
		"agent_id": fmt.Sprintf("agent-%d", n%40), "contact_id": fmt.Sprintf("contact-%d", n%700),
		"account_id": "acc-1", "hold_time": "12", "duration": "95", "tags": "sales, vip",
		"start_time": at.Add(-95 * time.Second).Format(time.RFC3339), "timestamp": at.Format(time.RFC3339),
	})
	return b
}

// deliver posts body to a replica as Talkdesk does, and returns the status
// (0 when the connection failed).
func deliver(client *http.Client, base string, b []byte) int {
	req, _ := http.NewRequest(http.MethodPost, base+"/inboundCallEnds?token="+testSecret, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// countRows returns the rows of the events table and how many distinct IDs.
func countRows(t testing.TB, s *Store) (rows, ids int) {
	t.Helper()
	err := s.pool.QueryRow(context.Background(), s.sql(`SELECT count(*), count(DISTINCT id) FROM {{s}}.events`)).Scan(&rows, &ids)
	if err != nil {
		t.Fatal(err)
	}
	return rows, ids
}

// TestReplicas: four webhook receivers, each with its own pool and Store on
// one schema, get 10,000 events, 10% of them delivered a second time to
// another replica. Each event is stored once and handled once.
func TestReplicas(t *testing.T) {
	const replicas, events = 4, 10000
	pool := testPool(t)
	schema := freshSchema(t, pool)
	var handled sync.Map // id -> *atomic.Int32
	var urls []string
	for range replicas {
		s := openOn(t, testPool(t), WithSchema(schema))
		wh := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testSecret), talkdesk.WithEventLog(s))
		wh.HandleAll(func(_ context.Context, ev *talkdesk.Event) error {
			n, _ := handled.LoadOrStore(ev.ID, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			return nil
		})
		srv := httptest.NewServer(wh)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	work := make(chan int)
	var failed atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for n := range work {
				first := n % replicas
				if code := deliver(client, urls[first], body(n)); code != http.StatusOK {
					failed.Add(1)
				}
				if n%10 == 3 { // delivered again, to another replica
					if code := deliver(client, urls[(first+1+n%3)%replicas], body(n)); code != http.StatusOK {
						failed.Add(1)
					}
				}
			}
		})
	}
	for n := range events {
		work <- n
	}
	close(work)
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d deliveries were not answered 200", n)
	}
	s := openOn(t, pool, WithSchema(schema))
	if rows, ids := countRows(t, s); rows != events || ids != events {
		t.Errorf("the table holds %d rows of %d IDs, want %d once each", rows, ids, events)
	}
	times := 0
	handled.Range(func(_, n any) bool {
		times++
		if k := n.(*atomic.Int32).Load(); k != 1 {
			t.Errorf("an event was handled %d times across replicas, want once", k)
			return false
		}
		return true
	})
	if times != events {
		t.Errorf("%d events handled, want %d", times, events)
	}
}

// replicaEnv makes this test binary a replica: TestReplicaChild serves a
// webhook receiver on the store of that schema and prints its address.
const replicaEnv = "TDPOSTGRES_TEST_REPLICA_SCHEMA"

// TestReplicaChild is a replica process of TestReplicaKilled.
func TestReplicaChild(t *testing.T) {
	schema := os.Getenv(replicaEnv)
	if schema == "" {
		t.Skip("run by TestReplicaKilled")
	}
	s, err := Open(context.Background(), testPool(t), WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	wh := talkdesk.NewWebhookHandler(talkdesk.WithWebhookSecret(testSecret), talkdesk.WithEventLog(s))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening http://%s\n", ln.Addr())
	http.Serve(ln, wh) // until killed
}

// TestReplicaKilled: four replicas (processes) receive 10,000 events; one
// is killed with SIGKILL mid-run. Talkdesk delivers an event again, to
// another replica, until it gets a 200; every event acknowledged with a 200
// is stored exactly once.
func TestReplicaKilled(t *testing.T) {
	const replicas, events = 4, 10000
	pool := testPool(t)
	schema := freshSchema(t, pool)
	s := openOn(t, pool, WithSchema(schema))
	var urls []string
	var victim *exec.Cmd
	for i := range replicas {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1", "-test.v=true")
		cmd.Env = append(os.Environ(), replicaEnv+"="+schema)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		sc := bufio.NewScanner(out)
		var url string
		for sc.Scan() {
			if _, err := fmt.Sscanf(sc.Text(), "listening %s", &url); err == nil {
				break
			}
		}
		if url == "" {
			t.Fatalf("replica %d did not start", i)
		}
		go io.Copy(io.Discard, out)
		urls = append(urls, url)
		if i == 0 {
			victim = cmd
		}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var acked [events]atomic.Bool
	var sent atomic.Int32
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for n := range work {
				r := rand.IntN(replicas)
				for try := 0; ; try++ {
					if deliver(client, urls[(r+try)%replicas], body(n)) == http.StatusOK {
						acked[n].Store(true)
						break
					}
					if try > 20 {
						t.Errorf("event %d: no replica answered 200", n)
						break
					}
				}
				if sent.Add(1) == events/3 {
					victim.Process.Kill() // SIGKILL, in the middle of appends
				}
			}
		})
	}
	for n := range events {
		work <- n
	}
	close(work)
	wg.Wait()
	if err := victim.Wait(); err == nil {
		t.Fatal("the killed replica exited cleanly")
	}
	if rows, ids := countRows(t, s); rows != ids || rows != events {
		t.Errorf("the table holds %d rows of %d IDs, want %d once each", rows, ids, events)
	}
	var stored []string
	rows, err := s.pool.Query(context.Background(), s.sql(`SELECT interaction_id FROM {{s}}.events`))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		stored = append(stored, id)
	}
	slices.Sort(stored)
	for n := range events {
		if _, found := slices.BinarySearch(stored, fmt.Sprintf("int-%d", n)); acked[n].Load() && !found {
			t.Errorf("event %d was acknowledged but is not stored", n)
		}
	}
}
