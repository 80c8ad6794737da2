// Command talkdesk runs a conversation log of Talkdesk's events and works
// with Talkdesk from a shell: serve the log (webhooks in, the log over HTTP
// out, metrics), send test deliveries to a receiver, tail a log live,
// export it as JSON Lines or CSV, and download the call history of the
// Explore API.
//
//	go install github.com/talkdeskgo/talkdesk/cmd/talkdesk@latest
//
//	talkdesk serve --webhook-secret S --api-key K
//	talkdesk trigger --all --to http://127.0.0.1:8080/webhooks --secret S
//	talkdesk tail --server http://127.0.0.1:8080 --api-key K
//
// Run talkdesk help, or talkdesk COMMAND --help, for every command and
// flag. A flag wins over its environment variable. Exit status: 0 on
// success, 1 on failure, 2 on a usage error.
//
// This is an unofficial tool, not made or endorsed by Talkdesk.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// env is what a command reads of its environment and standard streams.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

// terminal reports whether w is a terminal.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// logger logs to stderr: text on a terminal, JSON otherwise.
func (e *env) logger() *slog.Logger {
	if terminal(e.stderr) {
		return slog.New(slog.NewTextHandler(e.stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, nil))
}

// value returns the flag's value, or the environment variable's when the
// flag was not given: a flag wins over its variable.
func (e *env) value(cmd *cobra.Command, flag, variable string) string {
	v, _ := cmd.Flags().GetString(flag)
	if !cmd.Flags().Changed(flag) && variable != "" {
		if ev := e.getenv(variable); ev != "" {
			return ev
		}
	}
	return v
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: getenv}
	root := &cobra.Command{
		Use:   "talkdesk",
		Short: "Run a conversation log of Talkdesk's events, and work with Talkdesk from a shell (unofficial)",
		Long: "talkdesk runs a conversation log of Talkdesk's events and works with Talkdesk from a shell.\n" +
			"It is an unofficial tool of the talkdesk-go SDK, not made or endorsed by Talkdesk.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q", args[0])
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(serveCommand(e), triggerCommand(e), tailCommand(e), exportCommand(e), reportsCommand(e), versionCommand(e))
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case isUsage(err):
		fmt.Fprintf(stderr, "talkdesk: %v\nRun 'talkdesk --help' for usage.\n", err)
		return 2
	default:
		// The SDK's errors begin with the package's name: said once.
		fmt.Fprintf(stderr, "talkdesk: %s\n", strings.TrimPrefix(oneLine(err.Error()), "talkdesk: "))
		return 1
	}
}

// isUsage reports whether err is a mistake in the command line, as
// cobra's own errors of unknown commands and arguments are.
func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.HasPrefix(s, "unknown flag") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "required flag")
}

// oneLine keeps an error to one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
