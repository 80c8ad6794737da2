package talkdesk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// readmeBlock returns the code block of lang in the guide to the log over
// HTTP.
func readmeBlock(t *testing.T, lang string) string {
	t.Helper()
	b, err := os.ReadFile("docs/log-over-http.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("docs/log-over-http.md has no %s block", lang)
	}
	return m[1]
}

// TestReadmeStreamClients runs the README's Python and JavaScript stream
// readers against the handler while events are appended, cuts their
// connections mid-stream, and checks that each printed every call ending
// once, in order.
func TestReadmeStreamClients(t *testing.T) {
	for _, c := range []struct {
		lang, interpreter string
		args              []string
	}{
		{"python", "python3", []string{"-u", "-c"}},
		{"js", "node", []string{"--input-type=module", "-e"}},
	} {
		t.Run(c.lang, func(t *testing.T) {
			bin, err := exec.LookPath(c.interpreter)
			if err != nil {
				t.Skipf("%s is not installed", c.interpreter)
			}
			log, err := talkdesk.OpenEventLog("")
			if err != nil {
				t.Fatal(err)
			}
			defer log.Close()
			h, err := talkdesk.NewEventLogHandler(log, talkdesk.WithAPIKeys("readme-key"))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			defer srv.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append(c.args, readmeBlock(t, c.lang))...)
			cmd.Env = append(os.Environ(), "TALKDESK_LOG_URL="+srv.URL, "TALKDESK_EVENTLOG_API_KEY=readme-key")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cancel(); cmd.Wait() }()
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()

			var want []string
			add := func(n int) {
				at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
				b, _ := json.Marshal(map[string]string{"interaction_id": fmt.Sprint("int-", n), "agent_id": fmt.Sprint("agent-", n%3),
					"timestamp": at.Format(time.RFC3339), "duration": fmt.Sprint(60 + n)})
				ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, b)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := log.Append(ctx, ev); err != nil {
					t.Fatal(err)
				}
				logIn, _ := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, []byte(fmt.Sprintf(`{"agent_id":"agent-%d"}`, n)))
				log.Append(ctx, logIn) // not a call ending: filtered out
				want = append(want, fmt.Sprintf("%s agent-%d %d", at.Format(time.RFC3339), n%3, 60+n))
			}
			var got []string
			read := func(n int) {
				t.Helper()
				for len(got) < n {
					select {
					case l, ok := <-lines:
						if !ok {
							t.Fatalf("the %s client ended; it printed:\n%s", c.lang, strings.Join(got, "\n"))
						}
						if strings.HasPrefix(l, "stream dropped") {
							continue
						}
						got = append(got, l)
					case <-ctx.Done():
						t.Fatalf("the %s client printed %d lines of %d:\n%s", c.lang, len(got), n, strings.Join(got, "\n"))
					}
				}
			}
			for n := range 5 {
				add(n)
			}
			read(5)
			srv.CloseClientConnections() // the connection drops mid-stream
			for n := 5; n < 10; n++ {
				add(n) // while the client is away
			}
			read(10)
			if !slices.Equal(got, want) {
				t.Errorf("the %s client printed\n%s\nwant\n%s", c.lang, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
