package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// browser is a headless Chromium driven by chromedp, with what its pages
// printed as errors.
type browser struct {
	t        *testing.T
	ctx      context.Context
	shots    string // the directory of the screenshots
	mu       sync.Mutex
	problems []string // console errors, exceptions, failed loads, dialogs
}

// chromium is the path of a Chromium or Chrome on this machine, "" when
// there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium for t, which fails in CI when
// there is none (.ci/run installs Debian's chromium) and is skipped
// elsewhere.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Chromium on this machine: in CI every test must run (.ci/run installs Debian's chromium)")
		}
		t.Skip("no Chromium on this machine: install Debian's chromium to run the viewer's browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// $TALKDESK_SCREENSHOTS keeps the screenshots to look at; a temporary
	// directory holds them otherwise.
	shots := os.Getenv("TALKDESK_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, shots: shots}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.problem("console." + string(e.Type) + ": " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			b.problem("exception: " + (&chromedp.ExceptionError{ExceptionDetails: e.ExceptionDetails}).Error())
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError {
				b.problem("log: " + e.Entry.Text + " " + e.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A dialog (alert) is a failure, and is closed so the page goes on.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.problem("a dialog opened: " + ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *browser) problem(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// run runs actions, failing the test on an error; each has a minute.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// evaluate returns the value of the expression js in b's page.
func evaluate[T any](b *browser, js string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitFor waits until the expression js is true in the page, for at most
// d, and reports how long it took.
func (b *browser) waitFor(what, js string, d time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	for {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return time.Since(start)
		}
		if time.Since(start) > d {
			text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			b.t.Fatalf("%s: not so after %v (%s)\npage:\n%s", what, d, js, text)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot saves the viewport as name.png in the screenshots'
// directory and fails the test when it is blank (nearly all of one
// colour).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if share := mostCommonColour(img); share > 0.995 {
		b.t.Errorf("screenshot %s (%s) is blank: %.1f%% of it one colour", name, path, share*100)
	}
}

// mostCommonColour is the share of img's pixels that have its most common
// colour.
func mostCommonColour(img image.Image) float64 {
	counts := map[[4]uint32]int{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			counts[[4]uint32{r, g, bl, a}]++
		}
	}
	most := 0
	for _, n := range counts {
		most = max(most, n)
	}
	return float64(most) / float64(bounds.Dx()*bounds.Dy())
}

// a11yCheck lists what in the page fails the basic checks of WCAG 2.2
// AA that a script can make: a form field without a label, a link or
// button without a name, an image without alt text, text whose contrast
// with its background is under 4.5:1 (3:1 when large), no lang.
const a11yCheck = `(() => {
  const problems = [];
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  for (const f of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!f.labels || f.labels.length === 0) problems.push('a field without a label: ' + (f.name || f.id));
  }
  for (const e of document.querySelectorAll('a[href], button')) {
    if (visible(e) && !(e.textContent.trim() || e.getAttribute('aria-label') || e.title)) problems.push('a control without a name: ' + e.outerHTML.slice(0, 80));
  }
  for (const e of document.querySelectorAll('img')) if (!e.hasAttribute('alt')) problems.push('an image without alt');
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (e) => {
    for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3); }
    return [255, 255, 255];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || seen.has(e) || !visible(e) || e.closest('svg, .skip')) continue;
    seen.add(e);
    const st = getComputedStyle(e);
    const fg = lum(rgb(st.color)), bg = lum(background(e));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push('contrast ' + ratio.toFixed(2) + ' under ' + need + ': ' + n.textContent.trim().slice(0, 40));
  }
  return problems;
})()`

// accessible fails the test with what a11yCheck finds in the page.
func (b *browser) accessible(view string) {
	b.t.Helper()
	if problems := evaluate[[]string](b, a11yCheck); len(problems) > 0 {
		b.t.Errorf("the %s view fails accessibility checks:\n%s", view, strings.Join(problems, "\n"))
	}
}

// deliverFields posts Talkdesk's delivery of t with fields to the server's
// webhooks.
func deliverFields(t *testing.T, s *server, secret string, tr talkdesk.Trigger, fields map[string]string) {
	t.Helper()
	body, err := talkdesktest.Delivery(tr, fields)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.url+"/webhooks/"+string(tr)+"?token="+secret, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("delivering %s: %s", tr, resp.Status)
	}
}

// callFields are the fields of a call's deliveries.
func callFields(event, interaction, agentID, agentName, contactID, contactName string, at time.Time) map[string]string {
	return map[string]string{
		"event": event, "account_id": "acme-5d1c", "interaction_id": interaction, "call_id": "CA" + interaction,
		"agent_id": agentID, "agent.name": agentName, "agent.email": agentID + "@acme.example",
		"contact.id": contactID, "contact_id": contactID, "contact.name": contactName,
		"contact_phone_number": "+351912345678", "talkdesk_phone_number": "+14155550100",
		"interaction.type": "inbound", "waiting_time": "21", "total_duration": "175", "duration": "154",
		"hold_time": "12", "hangup": "agent",
		"start_time": at.Add(-154 * time.Second).Format(time.RFC3339), "timestamp": at.Format(time.RFC3339),
	}
}

// seedConversation delivers the three steps of an inbound call of
// interaction: it reaches the contact centre, gap later Ana Costa
// answers, and it ends (its reported time 3 s after the start): 21 s
// waiting, 154 s talking of which 12 s on hold, 175 s in all.
func seedConversation(t *testing.T, s *server, secret, interaction string, gap time.Duration) {
	t.Helper()
	now := time.Now().UTC()
	deliverFields(t, s, secret, talkdesk.TriggerInboundCallReachesContactCenter, callFields("call_reaches_contact_center", interaction, "", "", "ct-joana", "Joana Ferreira", now))
	time.Sleep(gap)
	deliverFields(t, s, secret, talkdesk.TriggerInboundCallStarts, callFields("call_started", interaction, "ag-ana", "Ana Costa", "ct-joana", "Joana Ferreira", now))
	deliverFields(t, s, secret, talkdesk.TriggerInboundCallEnds, callFields("call_finished", interaction, "ag-ana", "Ana Costa", "ct-joana", "Joana Ferreira", now.Add(3*time.Second)))
}

// hostile is a contact's name that would run a script if a page took it
// for markup.
const hostile = `<img src=x onerror=alert(1)>`

// seedHostileContact delivers the creation of a contact named hostile.
func seedHostileContact(t *testing.T, s *server, secret string) {
	t.Helper()
	deliverFields(t, s, secret, talkdesk.TriggerContactCreated, map[string]string{
		"event": "contact_created", "account_id": "acme-5d1c", "contact.id": "ct-hostile", "contact_id": "ct-hostile", "contact.name": hostile,
	})
}

// storedEvents reads the events of the server that match query, with the
// API key.
func storedEvents(t *testing.T, s *server, key, query string) []logged {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/events?limit=1000&"+query, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Events []logged }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /events?%s: %s, %v", query, resp.Status, err)
	}
	return page.Events
}

// gapText is how the viewer writes the time between two steps: rounded to
// the second, as "+2 min 34 s".
func gapText(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	var parts []string
	if h := s / 3600; h > 0 {
		parts = append(parts, fmt.Sprintf("%d h", h))
	}
	if m := s % 3600 / 60; m > 0 {
		parts = append(parts, fmt.Sprintf("%d min", m))
	}
	if s%60 > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d s", s%60))
	}
	return "+" + strings.Join(parts, " ")
}

// TestViewerInBrowser drives the viewer of talkdesk serve in a real
// headless Chromium: log in (a wrong key first), see an event sent by
// talkdesk trigger appear live, the hostile contact name as text, filter
// by agent, open a conversation by keyboard and read its timeline, then
// log out; at a phone's width too; no console error, no dialog, and no
// blank screenshot.
func TestViewerInBrowser(t *testing.T) {
	b := newBrowser(t)
	const secret, key = "s3cret", "k3y-browser"
	s := serve(t, nil, "", "--log", filepath.Join(t.TempDir(), "events.jsonl"), "--webhook-secret", secret, "--api-key", key)
	defer s.stop(os.Interrupt)

	// The log before the browser comes: a conversation in three steps, a
	// second apart, calls of two agents, and a contact with a hostile name.
	now := time.Now().UTC()
	seedConversation(t, s, secret, "int-conv", 1100*time.Millisecond)
	for i := range 3 {
		deliverFields(t, s, secret, talkdesk.TriggerInboundCallEnds, callFields("call_finished", fmt.Sprintf("int-m%d", i), "ag-miguel", "Miguel Santos", "ct-ada", "Ada Lovelace", now.Add(-time.Duration(i)*time.Minute)))
	}
	seedHostileContact(t, s, secret)

	// The login form, a wrong key, the right one.
	b.run("opening the viewer", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#api-key`)))
	b.screenshot("login")
	b.accessible("login")
	b.run("a wrong key", chromedp.SendKeys(chromedp.CSS(`#api-key`), "wrong"), chromedp.Submit(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	b.run("the right key", chromedp.SendKeys(chromedp.CSS(`#api-key`), key), chromedp.Submit(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#events`)))
	b.waitFor("the events shown", `document.querySelectorAll('#events tbody tr').length === 7`, 10*time.Second)
	b.waitFor("the stream open", `document.getElementById('status').className === 'live'`, 10*time.Second)
	loggedOut := evaluate[bool](b, `document.getElementById('logout').hidden`)
	if loggedOut {
		t.Error("the logout button is hidden in a session")
	}

	// The hostile name is text, and made no element.
	cell := evaluate[string](b, `[...document.querySelectorAll('#events td.contact')].map(td => td.textContent).find(s => s.includes('onerror')) || ''`)
	imgs := evaluate[int](b, `document.querySelectorAll('main img').length`)
	if cell != hostile || imgs != 0 {
		t.Errorf("the hostile contact name shows as %q with %d img elements; want the text %q and none", cell, imgs, hostile)
	}
	b.screenshot("live")
	b.accessible("live")

	// An event sent by talkdesk trigger appears within 2 s.
	before := evaluate[int](b, `document.querySelectorAll('#events tbody tr[data-type=inboundCallReachesContactCenter]').length`)
	mustRun(t, nil, "trigger", "inboundCallReachesContactCenter", "--to", s.url+"/webhooks", "--secret", secret)
	took := b.waitFor("the triggered event shown live",
		fmt.Sprintf(`document.querySelectorAll('#events tbody tr[data-type=inboundCallReachesContactCenter]').length === %d && document.querySelector('#events tbody tr').dataset.type === 'inboundCallReachesContactCenter'`, before+1),
		2*time.Second)
	t.Logf("the triggered event was shown %v after talkdesk trigger returned", took.Round(time.Millisecond))

	// Filter by agent: the filter is in the URL, and only Miguel's calls show.
	b.run("filtering by agent", chromedp.SendKeys(chromedp.CSS(`#f-agent`), "ag-miguel"), chromedp.Click(chromedp.CSS(`#filters button[type=submit]`)))
	b.waitFor("the filtered view", `location.search === '?agent_id=ag-miguel' && document.documentElement.dataset.loaded === '1'`, 10*time.Second)
	agents := evaluate[[]string](b, `[...document.querySelectorAll('#events tbody tr')].map(tr => tr.dataset.agent)`)
	if !slices.Equal(agents, []string{"ag-miguel", "ag-miguel", "ag-miguel"}) {
		t.Errorf("filtered by agent ag-miguel, the rows are of %v; want Miguel's three calls", agents)
	}
	field := evaluate[string](b, `document.getElementById('f-agent').value`)
	if field != "ag-miguel" {
		t.Errorf("the agent filter's field says %q after the filter", field)
	}
	b.screenshot("filtered")

	// Open the conversation by keyboard from the unfiltered view.
	b.run("back to every event", chromedp.Navigate(s.url+"/"))
	b.waitFor("every event", `document.documentElement.dataset.loaded === '1'`, 10*time.Second)
	b.run("opening the conversation by keyboard",
		chromedp.Focus(chromedp.CSS(`#events tr[data-type=inboundCallEnds] a.interaction[href$="conversation=int-conv"]`)),
		chromedp.KeyEvent("\r"))
	b.waitFor("the timeline", `document.querySelectorAll('#timeline li[data-type]').length === 3`, 10*time.Second)
	steps := evaluate[[]string](b, `[...document.querySelectorAll('#timeline li[data-type]')].map(li => li.dataset.type)`)
	gaps := evaluate[[]string](b, `[...document.querySelectorAll('#timeline .gap')].map(p => p.textContent)`)
	want := []string{"inboundCallReachesContactCenter", "inboundCallStarts", "inboundCallEnds"}
	if !slices.Equal(steps, want) {
		t.Errorf("the timeline's steps: %v, want %v", steps, want)
	}
	conv := storedEvents(t, s, key, "interaction_id=int-conv")
	if len(conv) != 3 {
		t.Fatalf("the log holds %d events of int-conv, want 3", len(conv))
	}
	wantGaps := []string{
		gapText(conv[1].OccurredAt.Sub(conv[0].OccurredAt)) + " waiting",
		gapText(conv[2].OccurredAt.Sub(conv[1].OccurredAt)) + " talking",
	}
	if !slices.Equal(gaps, wantGaps) {
		t.Errorf("the timeline's gaps: %q, want %q", gaps, wantGaps)
	}
	if wantGaps[0] == "+0 s waiting" {
		t.Errorf("the steps of the conversation were delivered a second apart, but the first gap is %q", wantGaps[0])
	}
	phases := evaluate[map[string]string](b, `Object.fromEntries([...document.querySelectorAll('#phases dd')].map(dd => [dd.dataset.phase, dd.textContent]))`)
	wantPhases := map[string]string{"waiting": "21 s", "talking": "2 min 22 s", "on hold": "12 s", "total": "2 min 55 s"}
	if fmt.Sprint(phases) != fmt.Sprint(wantPhases) {
		t.Errorf("the conversation's phases: %v, want %v", phases, wantPhases)
	}
	b.run("expanding the first step",
		chromedp.Click(chromedp.CSS(`#timeline li[data-type] details summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline li[data-type] details pre.raw`)))
	raw := evaluate[string](b, `document.querySelector('#timeline li[data-type] details pre.raw').textContent`)
	if !strings.Contains(raw, `"event": "call_reaches_contact_center"`) || !strings.Contains(raw, `"contact_phone_number": "+351912345678"`) {
		t.Errorf("the first step's raw body:\n%s\nwant the body Talkdesk sent, its values strings", raw)
	}
	b.screenshot("conversation")
	b.accessible("conversation")

	// A phone's width: nothing wider than the screen.
	b.run("a phone's width", chromedp.EmulateViewport(390, 844))
	overflow := evaluate[bool](b, `document.documentElement.scrollWidth > window.innerWidth`)
	if overflow {
		t.Error("at a phone's width (390 px) the page is wider than the screen")
	}
	b.screenshot("phone")
	b.accessible("phone")
	b.run("back to a desktop's width", chromedp.EmulateViewport(1280, 900))

	// Log out: the form again, and the session's cookie no longer reads the log.
	b.run("logging out", chromedp.Click(chromedp.CSS(`#logout button`)), chromedp.WaitVisible(chromedp.CSS(`#api-key`)))
	status := evaluate[int](b, `fetch('/events').then(r => r.status)`, chromedp.EvalAwaitPromise)
	if status != http.StatusUnauthorized {
		t.Errorf("GET /events after logout: %d, want 401", status)
	}
	b.screenshot("logged-out")

	b.noProblems(
		"status of 403 (Forbidden) "+s.url+"/login",
		"status of 401 (Unauthorized) "+s.url+"/events")
}

// noProblems fails the test if the browser reported an error but those
// that end with one of expected, the failures the test asked for.
func (b *browser) noProblems(expected ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var problems []string
	for _, p := range b.problems {
		if !slices.ContainsFunc(expected, func(e string) bool { return strings.HasSuffix(p, e) }) {
			problems = append(problems, p)
		} else {
			b.t.Logf("expected: %s", p)
		}
	}
	if len(problems) > 0 {
		b.t.Errorf("the browser reported:\n%s", strings.Join(problems, "\n"))
	}
	b.t.Logf("screenshots in %s", b.shots)
}

// TestViewerResumesAfterACut: serve stops under a logged-in page, events
// are stored while it is down, and it starts again on the same address
// and log: the page goes on with the same session, showing every event
// stored during the cut and after it, once each.
func TestViewerResumesAfterACut(t *testing.T) {
	b := newBrowser(t)
	const secret, key = "s3cret", "k3y-cut"
	addr, path := freeAddr(t), filepath.Join(t.TempDir(), "events.jsonl")
	args := []string{"--log", path, "--webhook-secret", secret, "--api-key", key}
	s := serve(t, nil, addr, args...)
	note := func(i int) map[string]string {
		return map[string]string{"event": "note_created", "account_id": "acme-5d1c", "contact.id": "ct-joana", "contact_id": "ct-joana",
			"contact.name": "Joana Ferreira", "title": fmt.Sprintf("note %d", i), "content": "Call back after 17:00."}
	}
	deliverFields(t, s, secret, talkdesk.TriggerNoteCreated, note(1))
	deliverFields(t, s, secret, talkdesk.TriggerNoteCreated, note(2))

	b.run("logging in", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS(`#api-key`)),
		chromedp.SendKeys(chromedp.CSS(`#api-key`), key), chromedp.Submit(chromedp.CSS(`#login`)),
		chromedp.WaitVisible(chromedp.CSS(`#events`)))
	b.waitFor("two events, live", `document.querySelectorAll('#events tbody tr').length === 2 && document.getElementById('status').className === 'live'`, 10*time.Second)

	if code := s.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, s.stderr())
	}
	b.waitFor("the page knows the stream is cut", `document.getElementById('status').className === 'warn'`, 10*time.Second)

	// Stored while serve is down (another writer of the log: an import).
	l, err := talkdesk.OpenEventLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 3; i <= 4; i++ {
		body, err := talkdesktest.Delivery(talkdesk.TriggerNoteCreated, note(i))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := talkdesk.ParseEvent(talkdesk.TriggerNoteCreated, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()

	again := serve(t, nil, addr, args...)
	defer again.stop(os.Interrupt)
	deliverFields(t, again, secret, talkdesk.TriggerNoteCreated, note(5))
	b.waitFor("every event once, live again",
		`document.querySelectorAll('#events tbody tr').length === 5 && document.getElementById('status').className === 'live'`, 20*time.Second)
	titles := evaluate[[]string](b, `[...document.querySelectorAll('#events tbody tr td.summary summary')].map(s => s.textContent)`)
	want := []string{"note: note 5: Call back after 17:00.", "note: note 4: Call back after 17:00.", "note: note 3: Call back after 17:00.",
		"note: note 2: Call back after 17:00.", "note: note 1: Call back after 17:00."}
	if !slices.Equal(titles, want) {
		t.Errorf("after the cut the page shows %q, want %q", titles, want)
	}
	b.screenshot("after-the-cut")
	// A cut makes the browser report the stream's failures to connect;
	// nothing else may fail.
	b.noProblems("/events/stream?after="+eventIDs(t, again, key)[1], "/viewer/recent?", "ERR_CONNECTION_REFUSED")
}

// eventIDs returns the IDs of the events of s, in their order.
func eventIDs(t *testing.T, s *server, key string) []string {
	var out []string
	for _, ev := range storedEvents(t, s, key, "") {
		out = append(out, ev.ID)
	}
	return out
}
