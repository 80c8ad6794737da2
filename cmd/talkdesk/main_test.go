package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the talkdesk command the tests run, built once by TestMain
// (with the race detector when the tests have it).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "talkdesk-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "talkdesk")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building talkdesk: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// environ is the environment of a run: the PATH and HOME of the tests,
// and vars; nothing else of the tests' own (no TALKDESK_*, no
// DATABASE_URL).
func environ(vars ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}, vars...)
}

// result is what a run of the command did.
type result struct {
	stdout, stderr string
	code           int
}

// runCmd runs the command with args to its end, in the environment of
// vars, and returns what it did; it fails t if it runs a minute.
func runCmd(t *testing.T, vars []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ(vars...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("talkdesk %s: still running after a minute\nstderr: %s", strings.Join(args, " "), stderr.String())
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("talkdesk %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// mustRun runs the command and fails t unless it exits 0.
func mustRun(t *testing.T, vars []string, args ...string) result {
	t.Helper()
	r := runCmd(t, vars, args...)
	if r.code != 0 {
		t.Fatalf("talkdesk %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// process is a command running in the background, its output collected.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    bytes.Buffer // stdout
	err    bytes.Buffer // stderr
	lines  chan string  // stdout, a line at a time
	done   chan struct{}
	code   int
	waited time.Duration // from the signal to the exit
}

// start starts the command with args in the background; it is killed at
// the end of t if it is still running.
func start(t *testing.T, vars []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = environ(vars...)
	return startCmd(t, cmd)
}

// startCmd starts cmd, its Env and Dir set, as start does.
func startCmd(t *testing.T, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{t: t, cmd: cmd, lines: make(chan string, 1<<16), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.err}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.lines)
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stderr returns what the process wrote to stderr so far.
func (p *process) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err.String()
}

// line returns the next line of stdout, failing the test after 30 s.
func (p *process) line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("%s ended (exit %d) before printing a line\nstderr: %s", p.cmd.Args[1], p.code, p.stderr())
		}
		return l
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%s printed no line in 30 s\nstderr: %s", p.cmd.Args[1], p.stderr())
	}
	return ""
}

// stop sends sig and waits for the process to end, failing the test if it
// runs 10 s more (the command promises 2 s; the margin is for a loaded
// machine, and the tests check the logs for a cut shutdown instead).
func (p *process) stop(sig os.Signal) int {
	p.t.Helper()
	begin := time.Now()
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		p.waited = time.Since(begin)
		return p.code
	case <-time.After(10 * time.Second):
		p.t.Fatalf("%s still running 10 s after %v\nstderr: %s", p.cmd.Args[1], sig, p.stderr())
	}
	return 0
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// server is a running talkdesk serve.
type server struct {
	*process
	url string // http://127.0.0.1:port
}

// serve starts talkdesk serve with args on addr (127.0.0.1:0 when empty)
// and waits until it listens.
func serve(t *testing.T, vars []string, addr string, args ...string) *server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	p := start(t, vars, append([]string{"serve", "--addr", addr}, args...)...)
	return &server{process: p, url: "http://" + listeningAddr(t, p)}
}

// listeningAddr waits until the serve of p says it listens, and returns
// the address.
func listeningAddr(t *testing.T, p *process) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.stderr(), "\n") {
			var entry struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "talkdesk serve: listening" {
				return entry.Addr
			}
		}
		select {
		case <-p.done:
			t.Fatalf("serve ended (exit %d) before listening\nstderr: %s", p.code, p.stderr())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not listen in 30 s\nstderr: %s", p.stderr())
	return ""
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get returns the status and body of GET url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// metric returns the value of the sample named (with its labels, as
// Prometheus' text format writes them) in the metrics of s, or "" when
// absent.
func (s *server) metric(t *testing.T, sample string) string {
	t.Helper()
	status, body := get(t, s.url+"/metrics")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	return ""
}
