// Command viewerload measures how soon talkdesk serve's web viewer shows
// its first event, in a real headless Chromium, on a small log and on a
// large one in the same run: it writes a log of -small and one of -large
// events spread over the last -days (as a contact centre's month), starts
// talkdesk serve --insecure-dev on each, and loads the page -loads times,
// reading the page's own mark of its first rendered event (milliseconds
// after the navigation began, performance.now()), on every event and on
// views filtered by an agent and by a type. It also times /viewer/recent,
// the one request the first screen waits for.
//
//	cd cmd/talkdesk && go run ./internal/viewerload
//	cd cmd/talkdesk && go run ./internal/viewerload -large 100000 -loads 10
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/cmd/talkdesk/internal/deliveries"
)

func main() {
	small := flag.Int("small", 1000, "events of the small log")
	large := flag.Int("large", 1000000, "events of the large log")
	days := flag.Int("days", 30, "the days before now the events are spread over")
	loads := flag.Int("loads", 7, "page loads on each log")
	flag.Parse()
	if err := run(*small, *large, *days, *loads); err != nil {
		fmt.Fprintln(os.Stderr, "viewerload:", err)
		os.Exit(1)
	}
}

func run(small, large, days, loads int) error {
	dir, err := os.MkdirTemp("", "viewerload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "talkdesk")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("building talkdesk (run viewerload from cmd/talkdesk): %v\n%s", err, out)
	}
	browser, cancel, err := startBrowser()
	if err != nil {
		return err
	}
	defer cancel()
	fmt.Printf("viewerload: logs of %d and %d events over %d days, %d page loads each\n\n", small, large, days, loads)
	fmt.Printf("%10s  %12s  %-22s  %24s  %22s\n", "events", "serve opens", "view", "first event shown (ms)", "/viewer/recent (ms)")
	fmt.Printf("%10s  %12s  %-22s  %24s  %22s\n", "", "", "", "median / max", "median / max")
	for _, n := range []int{small, large} {
		path := filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", n))
		if err := writeLog(path, n, time.Duration(days)*24*time.Hour); err != nil {
			return err
		}
		if err := measure(browser, bin, path, n, loads); err != nil {
			return err
		}
		os.Remove(path)
	}
	return nil
}

// writeLog writes a log of n events of every trigger, one every span/n,
// ending now.
func writeLog(path string, n int, span time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	triggers := talkdesk.Triggers()
	now := time.Now().UTC()
	step := span / time.Duration(n)
	for i := range n {
		at := now.Add(-span + time.Duration(i)*step)
		t := triggers[i%len(triggers)]
		ev, err := talkdesk.ParseEvent(t, deliveries.Body("load", t, i, at))
		if err != nil {
			return err
		}
		ev.OccurredAt, ev.ReceivedAt = at, at
		line, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func startBrowser() (context.Context, context.CancelFunc, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		return nil, nil, fmt.Errorf("starting Chromium: %w", err)
	}
	return ctx, func() { cancelCtx(); cancelAlloc() }, nil
}

// measure starts serve on the log at path and loads the viewer loads
// times.
func measure(browser context.Context, bin, path string, n, loads int) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve", "--insecure-dev", "--log", path, "--addr", addr)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	base := "http://" + addr
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 5*time.Minute {
			return errors.New("serve was not ready in 5 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	opened := time.Since(start)

	for i, view := range views {
		shown, recent, err := load(browser, base, view, loads)
		if err != nil {
			return err
		}
		label, secs := "", ""
		if i == 0 {
			label, secs = strconv.Itoa(n), fmt.Sprintf("%.1fs", opened.Seconds())
		}
		fmt.Printf("%10s  %12s  %-22s  %24s  %22s\n", label, secs, "/"+view, medianMax(shown), medianMax(recent))
	}
	return nil
}

// views are the queries of the pages loaded: every event, one agent's (a
// third of the calls), one type (a ninth of the events).
var views = []string{"", "?agent_id=ag-rita", "?type=noteCreated"}

// load loads the viewer's page of view loads times, and returns when its
// first event showed and how long /viewer/recent took, in milliseconds.
func load(browser context.Context, base, view string, loads int) (shown, recent []float64, err error) {
	for range loads {
		t0 := time.Now()
		resp, err := http.Get(base + "/viewer/recent" + view)
		if err != nil {
			return nil, nil, err
		}
		var ans struct{ Events []json.RawMessage }
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || len(ans.Events) == 0 {
			return nil, nil, fmt.Errorf("/viewer/recent%s: %v, %d events", view, err, len(ans.Events))
		}
		recent = append(recent, float64(time.Since(t0).Microseconds())/1000)

		ctx, cancel := context.WithTimeout(browser, time.Minute)
		err = chromedp.Do(ctx, chromedp.Navigate(base+"/"+view))
		var ms string
		for err == nil && ms == "" {
			ms, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.dataset.firstEventMs || ""`))
			if ms == "" {
				time.Sleep(5 * time.Millisecond)
			}
		}
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("loading the viewer: %w", err)
		}
		v, err := strconv.ParseFloat(ms, 64)
		if err != nil {
			return nil, nil, err
		}
		shown = append(shown, v)
	}
	return shown, recent, nil
}

func medianMax(v []float64) string {
	slices.Sort(v)
	return strings.TrimSpace(fmt.Sprintf("%.0f / %.0f", v[len(v)/2], v[len(v)-1]))
}
