package main

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
)

func exportCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a range of a conversation log as JSON Lines or CSV",
		Long: `export writes the events of a conversation log in a time range (on their
occurred_at; --since inclusive, --until exclusive), in time order, as JSON
Lines (each event as the log stores it) or as CSV a spreadsheet opens (time,
type, interaction, contact, agent, then every payload field), from a server,
a log file or PostgreSQL. A progress counter shows on a terminal.`,
		Example: `  talkdesk export --server http://127.0.0.1:8080 --api-key K --since 2026-03-02T00:00:00Z --until 2026-03-03T00:00:00Z > day.jsonl
  talkdesk export --log talkdesk-events.jsonl --format csv --output calls.csv --type inboundCallEnds,outboundCallEnds
  talkdesk export --postgres "$DATABASE_URL" --since 2026-03-01T00:00:00Z --format csv`,
		Args: cobra.NoArgs,
	}
	sourceFlags(cmd)
	filterFlags(cmd)
	f := cmd.Flags()
	f.String("since", "", "the first instant, RFC 3339 (inclusive)")
	f.String("until", "", "the end, RFC 3339 (exclusive)")
	f.String("format", "jsonl", "jsonl or csv")
	f.String("output", "", "the file to write (default: standard output)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return e.export(cmd) }
	return cmd
}

// timeFlag reads an RFC 3339 flag.
func timeFlag(cmd *cobra.Command, name string) (time.Time, error) {
	s, _ := cmd.Flags().GetString(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, usagef("--%s: %q is not an RFC 3339 time such as 2026-03-02T09:00:00Z", name, s)
	}
	return t, nil
}

func (e *env) export(cmd *cobra.Command) error {
	ctx := cmd.Context()
	q, err := query(cmd)
	if err != nil {
		return err
	}
	if q.Since, err = timeFlag(cmd, "since"); err != nil {
		return err
	}
	if q.Until, err = timeFlag(cmd, "until"); err != nil {
		return err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return usagef("--until must be after --since")
	}
	format, _ := cmd.Flags().GetString("format")
	if format != "jsonl" && format != "csv" {
		return usagef("--format: %q is not jsonl or csv", format)
	}
	src, err := e.openSource(ctx, cmd)
	if err != nil {
		return err
	}
	defer src.close()
	out, finish, err := e.output(cmd)
	if err != nil {
		return err
	}
	bar := e.progress("exporting")
	cw := &countingWriter{w: out, bar: bar, csv: format == "csv"}
	if format == "csv" {
		err = talkdesk.ExportCSV(ctx, cw, counted(src.events(ctx, q), bar))
	} else {
		err = src.exportJSONL(ctx, cw, q)
	}
	bar.Finish()
	if ferr := finish(err); err == nil {
		err = ferr
	}
	return err
}

// output opens --output (or standard output) and returns the function
// that closes it; a file is removed when the export failed.
func (e *env) output(cmd *cobra.Command) (io.Writer, func(error) error, error) {
	path, _ := cmd.Flags().GetString("output")
	if path == "" {
		bw := bufio.NewWriterSize(e.stdout, 64<<10)
		return bw, func(error) error { return bw.Flush() }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--output: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	return bw, func(failed error) error {
		err := bw.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if failed != nil {
			os.Remove(path)
		}
		return err
	}, nil
}

// progress is a counter on stderr when it is a terminal, and nothing
// otherwise.
func (e *env) progress(what string) *progressbar.ProgressBar {
	if !terminal(e.stderr) {
		return progressbar.DefaultSilent(-1, what)
	}
	return progressbar.NewOptions64(-1, progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

// countingWriter counts the lines written, on the bar (JSON Lines: one an
// event).
type countingWriter struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	csv bool
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if !c.csv {
		lines := 0
		for _, b := range p[:n] {
			if b == '\n' {
				lines++
			}
		}
		c.bar.Add(lines)
	}
	return n, err
}

// counted counts the items of seq on the bar.
func counted[T any](seq iter.Seq2[*T, error], bar *progressbar.ProgressBar) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for v, err := range seq {
			if v != nil {
				bar.Add(1)
			}
			if !yield(v, err) {
				return
			}
		}
	}
}
