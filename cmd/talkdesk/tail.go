package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
)

func tailCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Follow a conversation log live",
		Long: `tail prints the events of a conversation log as they are committed: from a
server (talkdesk serve) over Server-Sent Events, resuming after a cut
connection without missing or repeating an event, or from a log file or
PostgreSQL directly. One line per event, coloured on a terminal; --json
prints each event as one JSON object per line. It runs until interrupted, or
until --limit events.`,
		Example: `  talkdesk tail --server http://127.0.0.1:8080 --api-key "$TALKDESK_EVENTLOG_API_KEY"
  talkdesk tail --server http://127.0.0.1:8080 --api-key K --type inboundCallEnds --agent ag-miguel --json
  talkdesk tail --postgres "$DATABASE_URL" --interaction int-7a41c9e0`,
		Args: cobra.NoArgs,
	}
	sourceFlags(cmd)
	filterFlags(cmd)
	f := cmd.Flags()
	f.String("after", "", "start after this event ID (default: every event, from the first)")
	f.Bool("json", false, "one JSON object per line")
	f.Int("limit", 0, "stop after this many events (0: run until interrupted)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return e.tail(cmd) }
	return cmd
}

func (e *env) tail(cmd *cobra.Command) error {
	ctx := cmd.Context()
	q, err := query(cmd)
	if err != nil {
		return err
	}
	f := cmd.Flags()
	after, _ := f.GetString("after")
	asJSON, _ := f.GetBool("json")
	limit, _ := f.GetInt("limit")
	if limit < 0 {
		return usagef("--limit must not be negative")
	}
	src, err := e.openSource(ctx, cmd)
	if err != nil {
		return err
	}
	defer src.close()
	if src.client != nil {
		// The server is asked once before it is followed: unreachable, or
		// refusing the key, is an error now, not a silent wait; once
		// followed, a cut connection is resumed.
		if _, err := src.client.Query(ctx, talkdesk.EventQuery{Limit: 1}); err != nil {
			return err
		}
	}
	color := !asJSON && terminal(e.stdout)
	n := 0
	for ev, err := range src.follow(ctx, q, after) {
		if err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil // interrupted: a clean end
			}
			return err
		}
		if asJSON {
			line, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(e.stdout, "%s\n", line); err != nil {
				return err
			}
		} else if err := printEvent(e.stdout, ev, color); err != nil {
			return err
		}
		if n++; limit > 0 && n == limit {
			return nil
		}
	}
	return nil
}

// printEvent writes ev as one line a person reads: its time (local), its
// type, who and what, and a summary.
func printEvent(w io.Writer, ev *talkdesk.Event, color bool) error {
	paint := func(code, s string) string {
		s = clean(s)
		if !color || s == "" || code == "" {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	who := ev.Actor.Name
	if who == "" {
		who = ev.AgentID
	}
	var b strings.Builder
	b.WriteString(paint("2", ev.OccurredAt.Local().Format("2006-01-02 15:04:05")))
	b.WriteString("  ")
	b.WriteString(paint("1;36", fmt.Sprintf("%-32s", ev.Type)))
	if ev.InteractionID != "" {
		b.WriteString(" " + paint("33", ev.InteractionID))
	}
	if who != "" {
		b.WriteString(" " + paint("32", who))
	}
	if ev.ContactID != "" {
		b.WriteString(" contact " + paint("", ev.ContactID))
	}
	if s := summary(ev); s != "" {
		b.WriteString("  " + paint("", s))
	}
	_, err := fmt.Fprintln(w, b.String())
	return err
}

// clean drops from s what printable drops.
func clean(s string) string { return strings.Map(printable, s) }

// printable drops the control characters a hostile event could hold to
// move the cursor or recolour a terminal.
func printable(r rune) rune {
	if r < 0x20 || r >= 0x7f && r < 0xa0 {
		return -1
	}
	return r
}

// summary says what an event is about in a few words.
func summary(ev *talkdesk.Event) string {
	switch p := ev.Payload.(type) {
	case *talkdesk.InboundCallEndedPayload:
		return fmt.Sprintf("inbound call of %s, on hold %s, hung up by %s", p.Duration, p.HoldTime, orDash(p.Hangup))
	case *talkdesk.OutboundCallEndedPayload:
		return fmt.Sprintf("outbound call of %s", p.Duration)
	case *talkdesk.CallStartedPayload:
		return fmt.Sprintf("answered after %s", p.WaitingTime)
	case *talkdesk.CallArrivedPayload:
		return "call from " + orDash(p.ContactPhoneNumber)
	case *talkdesk.NotePayload:
		return "note: " + clip(p.Title+" "+p.Content, 80)
	case *talkdesk.CallRecord:
		return fmt.Sprintf("reported %s call of %s", orDash(p.Direction), p.TalkTime)
	}
	switch ev.Type {
	case talkdesk.TriggerAgentLogIn:
		return "logged in"
	case talkdesk.TriggerAgentLogOut:
		return "logged out"
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len([]rune(s)) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}
