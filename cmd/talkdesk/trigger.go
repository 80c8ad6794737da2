package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/cmd/talkdesk/internal/deliveries"
)

func triggerCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trigger [TRIGGER...] [--all] --to URL --secret S",
		Short: "Send realistic deliveries of Talkdesk's triggers to a receiver",
		Long: `trigger sends deliveries of one, several or all nine of Talkdesk's triggers to
a receiver, as Talkdesk sends them: POST {to}/{trigger}?token={secret}, a
JSON object of strings in the order and casing of the connector's templates.
Each delivery is a new event (its own interaction, call and times). It prints
each answer's status, or with --count above 1 a summary of the statuses and
latencies; it exits 1 if any delivery was not answered 2xx.

Triggers: ` + triggerList(),
		Example: `  talkdesk trigger --all --to http://127.0.0.1:8080/webhooks --secret "$TALKDESK_WEBHOOK_SECRET"
  talkdesk trigger inboundCallEnds noteCreated --to https://hooks.example.com/talkdesk --secret S
  talkdesk trigger --all --count 1000 --concurrency 64 --to http://127.0.0.1:8080/webhooks --secret S`,
	}
	f := cmd.Flags()
	f.Bool("all", false, "every trigger")
	f.String("to", "", "the receiver's base URL: trigger t goes to {to}/{t}")
	f.String("secret", "", "the receiver's webhook secret, sent as ?token= (or $TALKDESK_WEBHOOK_SECRET)")
	f.Int("count", 1, "deliveries of each trigger")
	f.Int("concurrency", 1, "deliveries under way at once")
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return e.trigger(cmd, args) }
	return cmd
}

func triggerList() string {
	var names []string
	for _, t := range talkdesk.Triggers() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

func (e *env) trigger(cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	all, _ := f.GetBool("all")
	to, _ := f.GetString("to")
	secret := e.value(cmd, "secret", "TALKDESK_WEBHOOK_SECRET")
	count, _ := f.GetInt("count")
	concurrency, _ := f.GetInt("concurrency")
	var triggers []talkdesk.Trigger
	for _, a := range args {
		t, err := talkdesk.ParseTrigger(a)
		if err != nil {
			return usagef("%q is not a trigger (one of %s)", a, triggerList())
		}
		triggers = append(triggers, t)
	}
	switch {
	case all && len(triggers) > 0:
		return usagef("give triggers or --all, not both")
	case all:
		triggers = talkdesk.Triggers()
	case len(triggers) == 0:
		return usagef("name triggers, or --all")
	}
	switch {
	case to == "":
		return usagef("--to is required: the receiver's base URL, such as http://127.0.0.1:8080/webhooks")
	case count < 1:
		return usagef("--count must be at least 1")
	case concurrency < 1:
		return usagef("--concurrency must be at least 1")
	}
	base, err := url.Parse(strings.TrimSuffix(to, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usagef("--to: %q is not an http or https URL", to)
	}

	type job struct {
		t talkdesk.Trigger
		i int
	}
	jobs := make(chan job)
	run := make([]byte, 4)
	rand.Read(run)
	runID := hex.EncodeToString(run)
	hc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency},
		// A redirect is the receiver's answer, as for Talkdesk: following
		// it would send the body elsewhere, and the URL with its token in
		// the Referer header.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var (
		mu       sync.Mutex
		statuses = map[string]int{}
		lat      []time.Duration
		bad      atomic.Int64
	)
	ctx := cmd.Context()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for j := range jobs {
				status, d, err := deliver(ctx, hc, base, secret, j.t, deliveries.Body(runID, j.t, j.i, time.Now()))
				label := strconv.Itoa(status) + " " + http.StatusText(status)
				if err != nil {
					label = "error: " + oneLine(err.Error())
				}
				if status < 200 || status > 299 {
					bad.Add(1)
				}
				mu.Lock()
				statuses[string(j.t)+" "+label]++
				lat = append(lat, d)
				if count == 1 {
					fmt.Fprintf(e.stdout, "%-32s %s\n", j.t, label)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
feed:
	for i := range count {
		for _, t := range triggers {
			select {
			case jobs <- job{t, i}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	if count > 1 {
		slices.Sort(lat)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range statuses {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "%-48s %d\n", k, statuses[k])
		}
		fmt.Fprintf(e.stdout, "deliveries: %d in %s, %.0f/s; latency p50 %s, p99 %s\n", len(lat), elapsed.Round(time.Millisecond),
			float64(len(lat))/elapsed.Seconds(), lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := bad.Load(); n > 0 {
		return fmt.Errorf("%d of %d deliveries were not accepted", n, len(lat))
	}
	return nil
}

// deliver posts one delivery of t and returns the answer's status and
// how long it took.
func deliver(ctx context.Context, hc *http.Client, base *url.URL, secret string, t talkdesk.Trigger, body []byte) (int, time.Duration, error) {
	u := *base
	u.Path += "/" + string(t)
	if secret != "" {
		u.RawQuery = url.Values{talkdesk.WebhookTokenParam: {secret}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "talkdesk-trigger/"+talkdesk.Version)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err // without the URL and its token
		}
		return 0, time.Since(start), err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), nil
}
