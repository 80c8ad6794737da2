package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// TestReadmeSession runs the three-line session of the README as a user
// types it, and checks that tail prints the nine events, one per trigger.
func TestReadmeSession(t *testing.T) {
	s := newSession(t)
	var tail []string
	for _, c := range docCommands(t, "../../README.md", "TestReadmeSession") {
		if out := s.run(c); strings.HasPrefix(c, "talkdesk tail") {
			tail = strings.Split(strings.TrimSpace(out), "\n")
		}
	}
	if len(tail) != 9 {
		t.Fatalf("tail printed %d lines, want the 9 events:\n%s", len(tail), strings.Join(tail, "\n"))
	}
	for _, tr := range talkdesk.Triggers() {
		if !slices.ContainsFunc(tail, func(l string) bool { return strings.Contains(l, "  "+string(tr)+" ") }) {
			t.Errorf("tail printed no %s event:\n%s", tr, strings.Join(tail, "\n"))
		}
	}
	s.end()
}

// TestCommandGuide runs every block of docs/command.md marked for it, in
// order, in one session, and checks what its commands wrote.
func TestCommandGuide(t *testing.T) {
	s := newSession(t)
	out := map[string]string{}
	for _, c := range docCommands(t, "../../docs/command.md", "TestCommandGuide") {
		out[c] = s.run(c)
	}
	for c, o := range out {
		if strings.HasPrefix(c, "talkdesk tail") && strings.Contains(c, "--agent ag-miguel --limit 2") {
			lines := strings.Split(strings.TrimSpace(o), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], "inboundCallEnds") || !strings.Contains(lines[1], "outboundCallEnds") {
				t.Errorf("%s printed\n%s\nwant the inbound then the outbound call of ag-miguel", c, o)
			}
		}
	}
	// 9 deliveries of --all, then 50 of inboundCallEnds and 50 of
	// noteCreated; the refused one is not stored.
	events := jsonLines(t, readFile(t, filepath.Join(s.dir, "events.jsonl")))
	if len(events) != 109 {
		t.Errorf("events.jsonl: %d events, want 109", len(events))
	}
	notes := jsonLines(t, readFile(t, filepath.Join(s.dir, "notes.jsonl")))
	if len(notes) != 3 || slices.ContainsFunc(notes, func(ev logged) bool { return ev.Type != talkdesk.TriggerNoteCreated }) {
		t.Errorf("notes.jsonl: %d events, want 3 noteCreated", len(notes))
	}
	calls := readCSV(t, filepath.Join(s.dir, "calls.csv"))
	if len(calls) != 1+1+1+50 {
		t.Errorf("calls.csv: %d rows, want a header and the 52 calls", len(calls))
	}
	rita := readCSV(t, filepath.Join(s.dir, "rita.csv"))
	agent := slices.Index(rita[0], "agent_id")
	if len(rita) < 2 || agent < 0 {
		t.Fatalf("rita.csv: %d rows, columns %q", len(rita), rita[0])
	}
	for _, row := range rita[1:] {
		if row[agent] != "ag-rita" {
			t.Errorf("rita.csv has an event of %q", row[agent])
		}
	}
	s.end()
}

// docCommands returns the commands of the shell blocks of file marked
// <!-- test: name -->, one a line, in order.
func docCommands(t *testing.T, file, name string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	blocks := regexp.MustCompile("(?s)<!-- test: "+name+" -->\n```sh\n(.*?)```").FindAllStringSubmatch(string(data), -1)
	for _, b := range blocks {
		for _, line := range strings.Split(b[1], "\n") {
			if line = strings.TrimSpace(line); line != "" {
				cmds = append(cmds, line)
			}
		}
	}
	if len(cmds) == 0 {
		t.Fatalf("%s has no block marked <!-- test: %s -->", file, name)
	}
	return cmds
}

// session runs commands as a user types them in a shell: in a directory
// of its own, with the talkdesk the tests built first in PATH, so that
// the commands of the docs run as they are written. Where they differ
// from a terminal, it says so:
//
//   - 127.0.0.1:8080, the address of the docs (serve's default), is a free
//     address of this machine, given to a serve without --addr;
//   - export NAME=VALUE... sets variables of the later commands;
//   - a command ending in & runs in the background (a serve, until it
//     listens), and kill %N stops the Nth with SIGTERM, which must end it
//     with exit 0 within the 10 s of process.stop;
//   - a tail without --limit runs until it has printed as many events as
//     the last serve stored, and is then interrupted, as a user would;
//   - a command must exit 0, or the code of its "# exits N" comment.
type session struct {
	t    *testing.T
	dir  string
	addr string
	vars []string
	jobs []*process
	url  string // of the last serve started
}

func newSession(t *testing.T) *session {
	return &session{t: t, dir: t.TempDir(), addr: freeAddr(t)}
}

var exitsComment = regexp.MustCompile(`#\s*exits (\d+)`)

// run runs a command and returns its output.
func (s *session) run(line string) string {
	t := s.t
	t.Helper()
	want := 0
	if m := exitsComment.FindStringSubmatch(line); m != nil {
		want, _ = strconv.Atoi(m[1])
	}
	if i := strings.Index(line, " #"); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	line = strings.ReplaceAll(line, "127.0.0.1:8080", s.addr)
	switch f := strings.Fields(line); {
	case f[0] == "export":
		s.vars = append(s.vars, f[1:]...)
		return ""
	case f[0] == "kill" && len(f) == 2 && strings.HasPrefix(f[1], "%"):
		n, err := strconv.Atoi(f[1][1:])
		if err != nil || n < 1 || n > len(s.jobs) {
			t.Fatalf("%s: no such job", line)
		}
		if code := s.jobs[n-1].stop(syscall.SIGTERM); code != 0 {
			t.Fatalf("%s: the job exited %d\nstderr: %s", line, code, s.jobs[n-1].stderr())
		}
		return ""
	case strings.HasSuffix(line, "&"):
		line = strings.TrimSpace(strings.TrimSuffix(line, "&"))
		isServe := strings.HasPrefix(line, "talkdesk serve")
		if isServe && !strings.Contains(line, "--addr") {
			line += " --addr " + s.addr
		}
		p := startCmd(t, s.shell(context.Background(), line))
		s.jobs = append(s.jobs, p)
		if isServe {
			s.url = "http://" + listeningAddr(t, p)
		}
		return ""
	case strings.HasPrefix(line, "talkdesk tail") && !strings.Contains(line, "--limit"):
		if s.url == "" {
			t.Fatalf("%s: no serve to count the events of", line)
		}
		stored, _ := strconv.Atoi((&server{url: s.url}).metric(t, "talkdesk_events_stored_total"))
		p := startCmd(t, s.shell(context.Background(), line))
		var lines []string
		for len(lines) < stored {
			lines = append(lines, p.line())
		}
		if code := p.stop(syscall.SIGINT); code != 0 {
			t.Fatalf("%s: exit %d when interrupted\nstderr: %s", line, code, p.stderr())
		}
		return strings.Join(lines, "\n") + "\n"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := s.shell(ctx, line)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", line, code, want, out, stderr.String())
	}
	return string(out)
}

// shell is a bash that runs line in the session's directory and
// environment, exec'ing the last command so that signals reach it.
func (s *session) shell(ctx context.Context, line string) *exec.Cmd {
	script := "exec " + line
	if strings.ContainsAny(line, "|;&") {
		script = line
	}
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = s.dir, s.env()
	return cmd
}

func (s *session) env() []string {
	env := environ(s.vars...)
	env[0] = "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")
	return env
}

// end stops the jobs still running, each of which must exit 0.
func (s *session) end() {
	for i, p := range s.jobs {
		select {
		case <-p.done:
			continue
		default:
		}
		if code := p.stop(syscall.SIGTERM); code != 0 {
			s.t.Errorf("job %d exited %d at the end of the session\nstderr: %s", i+1, code, p.stderr())
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
