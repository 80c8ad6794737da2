package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// firefox is a headless Firefox driven over WebDriver BiDi, the protocol
// Firefox speaks (chromedp speaks Chrome's), with the errors its pages
// logged.
type firefox struct {
	t       *testing.T
	conn    *websocket.Conn
	context string // the browsing context (the tab)

	mu      sync.Mutex
	next    int
	waiting map[int]chan bidiAnswer
	errors  []string
}

type bidiAnswer struct {
	Type    string          `json:"type"`
	ID      int             `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
	Message string          `json:"message"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
}

// newFirefox starts a headless Firefox for t: it fails in CI when there
// is none (.ci/run installs Debian's firefox-esr) and is skipped
// elsewhere.
func newFirefox(t *testing.T) *firefox {
	t.Helper()
	path := ""
	for _, name := range []string{"firefox-esr", "firefox"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Firefox on this machine: in CI every test must run (.ci/run installs Debian's firefox-esr)")
		}
		t.Skip("no Firefox on this machine: install Debian's firefox-esr to run the viewer's Firefox test")
	}
	profile := t.TempDir()
	cmd := exec.Command(path, "--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0", "about:blank")
	cmd.Env = append(os.Environ(), "MOZ_CRASHREPORTER_DISABLE=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		listening := regexp.MustCompile(`WebDriver BiDi listening on (ws://\S+)`)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var ws string
	select {
	case ws = <-found:
	case <-time.After(time.Minute):
		t.Fatal("Firefox did not open WebDriver BiDi in a minute")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, ws+"/session", nil)
	if err != nil {
		t.Fatalf("connecting to Firefox: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	f := &firefox{t: t, conn: conn, waiting: make(map[int]chan bidiAnswer)}
	go f.read()
	t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	f.call("session.new", map[string]any{"capabilities": map[string]any{}})
	f.call("session.subscribe", map[string]any{"events": []string{"log.entryAdded"}})
	var tree struct {
		Contexts []struct{ Context string } `json:"contexts"`
	}
	json.Unmarshal(f.call("browsingContext.getTree", map[string]any{}), &tree)
	if len(tree.Contexts) == 0 {
		t.Fatal("Firefox has no tab")
	}
	f.context = tree.Contexts[0].Context
	return f
}

// read takes Firefox's messages: answers to the calls waiting, and the
// errors pages log.
func (f *firefox) read() {
	for {
		_, data, err := f.conn.Read(context.Background())
		if err != nil {
			return
		}
		var a bidiAnswer
		if json.Unmarshal(data, &a) != nil {
			continue
		}
		if a.Type == "event" && a.Method == "log.entryAdded" {
			var e struct {
				Level string `json:"level"`
				Text  string `json:"text"`
				Type  string `json:"type"`
			}
			json.Unmarshal(a.Params, &e)
			if e.Level == "error" {
				f.mu.Lock()
				f.errors = append(f.errors, e.Type+": "+e.Text)
				f.mu.Unlock()
			}
			continue
		}
		f.mu.Lock()
		ch := f.waiting[a.ID]
		delete(f.waiting, a.ID)
		f.mu.Unlock()
		if ch != nil {
			ch <- a
		}
	}
}

// call sends a BiDi command and returns its result, failing the test on
// an error.
func (f *firefox) call(method string, params any) json.RawMessage {
	f.t.Helper()
	res, err := f.try(method, params)
	if err != nil {
		f.t.Fatalf("%s: %v", method, err)
	}
	return res
}

func (f *firefox) try(method string, params any) (json.RawMessage, error) {
	f.mu.Lock()
	f.next++
	id := f.next
	ch := make(chan bidiAnswer, 1)
	f.waiting[id] = ch
	f.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		if a.Type == "error" {
			return nil, fmt.Errorf("%s: %s", a.Error, a.Message)
		}
		return a.Result, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("no answer in a minute")
	}
}

// navigate loads url and waits for its load event.
func (f *firefox) navigate(url string) {
	f.t.Helper()
	f.call("browsingContext.navigate", map[string]any{"context": f.context, "url": url, "wait": "complete"})
}

// eval returns the value of the expression js (awaited when a promise),
// as JSON; an exception, or a page being replaced, is an error.
func (f *firefox) eval(js string) (json.RawMessage, error) {
	res, err := f.try("script.evaluate", map[string]any{
		"expression": "(async () => JSON.stringify(await (" + js + ")))()", "awaitPromise": true,
		"target": map[string]any{"context": f.context}, "resultOwnership": "none",
	})
	if err != nil {
		return nil, err
	}
	var r struct {
		Type             string `json:"type"`
		Result           struct{ Value string }
		ExceptionDetails struct{ Text string } `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.Type != "success" {
		return nil, fmt.Errorf("exception: %s", r.ExceptionDetails.Text)
	}
	return json.RawMessage(r.Result.Value), nil
}

// value evaluates js and decodes its value into v.
func (f *firefox) value(js string, v any) {
	f.t.Helper()
	raw, err := f.eval(js)
	if err == nil {
		err = json.Unmarshal(raw, v)
	}
	if err != nil {
		f.t.Fatalf("evaluating %s: %v", js, err)
	}
}

// waitFor waits until js is true, for at most d.
func (f *firefox) waitFor(what, js string, d time.Duration) time.Duration {
	f.t.Helper()
	start := time.Now()
	for {
		if raw, err := f.eval(js); err == nil && string(raw) == "true" {
			return time.Since(start)
		}
		if time.Since(start) > d {
			raw, _ := f.eval(`document.body ? document.body.innerText : ""`)
			f.t.Fatalf("%s: not so after %v (%s)\npage: %s", what, d, js, raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestViewerInFirefox: the viewer works in Firefox as in Chromium: log
// in, the events shown, the hostile name as text, an event sent by
// talkdesk trigger shown live, a conversation's timeline, log out; no
// error logged.
func TestViewerInFirefox(t *testing.T) {
	f := newFirefox(t)
	const secret, key = "s3cret", "k3y-firefox"
	s := serve(t, nil, "", "--log", filepath.Join(t.TempDir(), "events.jsonl"), "--webhook-secret", secret, "--api-key", key)
	defer s.stop(os.Interrupt)
	seedConversation(t, s, secret, "int-ff", 0)
	seedHostileContact(t, s, secret)

	f.navigate(s.url + "/")
	f.waitFor("the login form", `!!document.getElementById('api-key')`, 10*time.Second)
	if _, err := f.eval(`(document.getElementById('api-key').value = '` + key + `', document.getElementById('login').requestSubmit(), true)`); err != nil {
		t.Fatalf("logging in: %v", err)
	}
	f.waitFor("the events shown, live", `document.querySelectorAll('#events tbody tr').length === 4 && document.getElementById('status').className === 'live'`, 10*time.Second)

	var cell string
	var imgs int
	f.value(`[...document.querySelectorAll('#events td.contact')].map(td => td.textContent).find(s => s.includes('onerror')) || ''`, &cell)
	f.value(`document.querySelectorAll('main img').length`, &imgs)
	if cell != hostile || imgs != 0 {
		t.Errorf("in Firefox the hostile contact name shows as %q with %d img elements; want the text and none", cell, imgs)
	}

	mustRun(t, nil, "trigger", "noteCreated", "--to", s.url+"/webhooks", "--secret", secret)
	took := f.waitFor("the triggered event shown live", `document.querySelector('#events tbody tr').dataset.type === 'noteCreated'`, 2*time.Second)
	t.Logf("Firefox showed the triggered event %v after talkdesk trigger returned", took.Round(time.Millisecond))

	f.navigate(s.url + "/?conversation=int-ff")
	f.waitFor("the timeline", `document.querySelectorAll('#timeline li[data-type]').length === 3`, 10*time.Second)
	var steps []string
	var phases map[string]string
	f.value(`[...document.querySelectorAll('#timeline li[data-type]')].map(li => li.dataset.type)`, &steps)
	f.value(`Object.fromEntries([...document.querySelectorAll('#phases dd')].map(dd => [dd.dataset.phase, dd.textContent]))`, &phases)
	if want := []string{"inboundCallReachesContactCenter", "inboundCallStarts", "inboundCallEnds"}; !slices.Equal(steps, want) {
		t.Errorf("in Firefox the timeline's steps: %v, want %v", steps, want)
	}
	if phases["talking"] != "2 min 22 s" || phases["on hold"] != "12 s" {
		t.Errorf("in Firefox the conversation's phases: %v", phases)
	}
	var charts int
	f.value(`document.querySelectorAll('#glance svg rect.bar').length`, &charts)
	if charts == 0 {
		t.Error("in Firefox the charts have no bar")
	}

	if _, err := f.eval(`(document.querySelector('#logout').requestSubmit(), true)`); err != nil {
		t.Fatalf("logging out: %v", err)
	}
	f.waitFor("the login form after logout", `!!document.getElementById('api-key')`, 10*time.Second)

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errors) > 0 {
		t.Errorf("Firefox logged:\n%s", strings.Join(f.errors, "\n"))
	}
}
