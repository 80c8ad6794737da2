package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
)

func reportsCommand(e *env) *cobra.Command {
	reports := &cobra.Command{
		Use:   "reports",
		Short: "Download reports of Talkdesk's Explore API",
		Args:  cobra.NoArgs,
	}
	cmd := &cobra.Command{
		Use:   "calls --from RFC3339 --to RFC3339",
		Short: "Download the calls of a range, import them into a log, or find what the webhooks missed",
		Long: `reports calls downloads the calls of [--from, --to) from the Explore API's
calls report (in jobs of at most 31 days), as JSON Lines (one call a line) or
CSV, with a progress counter on a terminal. With --import it stores them in a
conversation log instead (--log or --postgres), as events of type
reportedCall, once however often it runs. With --reconcile it prints the calls
of the report the log has no webhook event of, and the log's call endings the
report lacks.

It needs Talkdesk credentials: $TALKDESK_ACCOUNT, $TALKDESK_CLIENT_ID,
$TALKDESK_CLIENT_SECRET ($TALKDESK_REGION for eu or ca), with the scopes
data-reports:read and data-reports:write.`,
		Example: `  talkdesk reports calls --from 2026-04-01T00:00:00Z --to 2026-05-01T00:00:00Z --format csv --output april.csv
  talkdesk reports calls --from 2026-04-01T00:00:00Z --to 2026-04-02T00:00:00Z --reconcile --log talkdesk-events.jsonl
  talkdesk reports calls --from 2026-04-01T00:00:00Z --to 2026-04-02T00:00:00Z --import --postgres "$DATABASE_URL"`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.String("from", "", "the first instant, RFC 3339 (required)")
	f.String("to", "", "the end, RFC 3339, exclusive (required)")
	f.String("format", "jsonl", "jsonl or csv, for a download")
	f.String("output", "", "the file to write (default: standard output)")
	f.Bool("import", false, "store the calls in the log of --log or --postgres")
	f.Bool("reconcile", false, "print what the webhook feed missed, against the log of --log or --postgres")
	f.String("log", "", "the log file of --import or --reconcile")
	f.String("postgres", "", "the PostgreSQL URL of the log of --import or --reconcile (or $DATABASE_URL)")
	schemaFlag(cmd)
	f.String("timezone", "", "the report's time zone (IANA); UTC by default")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return e.reportCalls(cmd) }
	reports.AddCommand(cmd)
	return reports
}

func (e *env) reportCalls(cmd *cobra.Command) error {
	ctx := cmd.Context()
	f := cmd.Flags()
	from, err := timeFlag(cmd, "from")
	if err != nil {
		return err
	}
	to, err := timeFlag(cmd, "to")
	if err != nil {
		return err
	}
	format, _ := f.GetString("format")
	doImport, _ := f.GetBool("import")
	reconcile, _ := f.GetBool("reconcile")
	path, _ := f.GetString("log")
	pg := e.value(cmd, "postgres", "DATABASE_URL")
	tz, _ := f.GetString("timezone")
	switch {
	case from.IsZero() || to.IsZero():
		return usagef("--from and --to are required")
	case !to.After(from):
		return usagef("--to must be after --from")
	case format != "jsonl" && format != "csv":
		return usagef("--format: %q is not jsonl or csv", format)
	case doImport && reconcile:
		return usagef("give --import or --reconcile, not both")
	case (doImport || reconcile) && path == "" && pg == "":
		return usagef("--import and --reconcile need a log: --log PATH or --postgres URL")
	case path != "" && f.Changed("postgres"):
		return usagef("give --log or --postgres, not both")
	}
	opts, err := talkdesk.OptionsFromEnv(e.getenv, talkdesk.ExploreScopes()...)
	if errors.Is(err, talkdesk.ErrNoCredentials) {
		return usagef("reports needs $TALKDESK_ACCOUNT, $TALKDESK_CLIENT_ID and $TALKDESK_CLIENT_SECRET")
	}
	if err != nil {
		return err
	}
	client, err := talkdesk.NewClient(opts...)
	if err != nil {
		return err
	}
	bar := e.progress("calls")
	defer bar.Finish()
	calls := counted(client.Calls(ctx, from, to, &talkdesk.CallsOptions{Timezone: tz}), bar)

	if doImport || reconcile {
		var store talkdesk.EventStore
		if path != "" {
			l, err := openLogFile(path)
			if err != nil {
				return err
			}
			defer l.Close()
			store = l
		} else {
			s, closeStore, err := openPostgres(ctx, pg, schemaOf(cmd), true)
			if err != nil {
				return err
			}
			defer closeStore()
			store = s
		}
		if doImport {
			res, err := talkdesk.ImportCalls(ctx, store, calls, 0)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "read %d calls: %d imported, %d already in the log\n", res.Read, res.Added, res.Present)
			return nil
		}
		rec, err := talkdesk.ReconcileCalls(ctx, store, calls, from, to)
		if err != nil {
			return err
		}
		for _, c := range rec.Missing {
			fmt.Fprintf(e.stdout, "missing     %s  %s  %s  %s\n", c.EndAt.UTC().Format(time.RFC3339), clean(c.CallID), orDash(clean(c.Direction)), orDash(clean(c.UserName)))
		}
		for _, ev := range rec.Unreported {
			fmt.Fprintf(e.stdout, "unreported  %s  %s  %s\n", ev.OccurredAt.UTC().Format(time.RFC3339), clean(ev.InteractionID), ev.Type)
		}
		fmt.Fprintf(e.stdout, "%d calls matched, %d imported before, %d missing from the webhook feed (import them with --import), %d logged calls not in the report\n",
			rec.Matched, rec.Imported, len(rec.Missing), len(rec.Unreported))
		return nil
	}

	out, finish, err := e.output(cmd)
	if err != nil {
		return err
	}
	if format == "csv" {
		err = talkdesk.ExportCallsCSV(ctx, out, calls)
	} else {
		for c, cerr := range calls {
			if cerr != nil {
				err = cerr
				break
			}
			line, merr := json.Marshal(c)
			if merr != nil {
				err = merr
				break
			}
			if _, werr := fmt.Fprintf(out, "%s\n", line); werr != nil {
				err = werr
				break
			}
		}
	}
	if ferr := finish(err); err == nil {
		err = ferr
	}
	return err
}
