package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/talkdeskgo/talkdesk"
)

func versionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of talkdesk",
		Example: "  talkdesk version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "talkdesk %s (talkdesk-go SDK %s, %s)\n", talkdesk.Version, talkdesk.Version, runtime.Version())
			return err
		},
	}
}
