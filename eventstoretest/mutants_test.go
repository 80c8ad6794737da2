package eventstoretest_test

import (
	"context"
	"errors"
	"iter"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

// The suite's own tests: stores broken on purpose, each in one way, that
// the suite must fail (as mutation testing checks a test suite), and the
// unbroken wrapper, which it must pass.

// store wraps a log in memory; its mutant, if any, breaks it.
type store struct {
	*talkdesk.EventLog
	mutant string
}

func (s *store) Append(ctx context.Context, ev *talkdesk.Event) (bool, error) {
	if ev == nil {
		return s.EventLog.Append(ctx, ev)
	}
	switch s.mutant {
	case "refuses-surrogates":
		raw := strings.ToLower(string(ev.Raw))
		if strings.Contains(raw, `\ud8`) || strings.Contains(raw, `\udc`) {
			return false, errors.New("invalid input syntax for type json (SQLSTATE 22P02)")
		}
	case "repeats-ignore-handled":
		// The rule before: a time-less body identical to one stored more
		// than the window ago is a new event, as if every stored copy
		// had been handled.
		if !ev.HasOwnTime() {
			s.EventLog.MarkHandled(ctx, ev.ID)
		}
	}
	return s.EventLog.Append(ctx, ev)
}

func (s *store) Follow(ctx context.Context, q talkdesk.EventQuery, afterID string) iter.Seq2[*talkdesk.Event, error] {
	switch {
	case s.mutant == "drops-filters-on-resume" && afterID != "":
		return s.EventLog.Follow(ctx, talkdesk.EventQuery{}, afterID)
	case s.mutant == "resumes-in-time-order" && afterID != "":
		return func(yield func(*talkdesk.Event, error) bool) {
			var after *talkdesk.Event
			for ev, err := range talkdesk.Events(ctx, s.EventLog, q) {
				if err != nil {
					yield(nil, err)
					return
				}
				if ev.ID == afterID {
					after = ev
				}
			}
			if after == nil {
				yield(nil, talkdesk.ErrNotFound)
				return
			}
			for ev, err := range s.EventLog.Follow(ctx, q, "") {
				if err != nil {
					yield(nil, err)
					return
				}
				if ev.OccurredAt.After(after.OccurredAt) || ev.OccurredAt.Equal(after.OccurredAt) && ev.ID > after.ID {
					if !yield(ev, nil) {
						return
					}
				}
			}
		}
	}
	return s.EventLog.Follow(ctx, q, afterID)
}

func open(mutant string) func(t *testing.T) talkdesk.EventStore {
	return func(t *testing.T) talkdesk.EventStore {
		l, err := talkdesk.OpenEventLog("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return &store{EventLog: l, mutant: mutant}
	}
}

// TestMutant runs the suites on the mutant EVENTSTORETEST_MUTANT names, in
// the child process TestSuitesFailMutants starts.
func TestMutant(t *testing.T) {
	mutant := os.Getenv("EVENTSTORETEST_MUTANT")
	if mutant == "" {
		t.Skip("run by TestSuitesFailMutants in a process of its own")
	}
	eventstoretest.TestStore(t, open(mutant))
	eventstoretest.TestEventLogHandler(t, open(mutant))
}

// TestSuitesFailMutants: each mutant fails the suites, in the parts
// named (those of TestStore and of TestEventLogHandler).
func TestSuitesFailMutants(t *testing.T) {
	for mutant, parts := range map[string][]string{
		"drops-filters-on-resume": {"FollowResumeFiltered", "StreamResume"},
		"resumes-in-time-order":   {"FollowResumeCommitOrder", "StreamResume"},
		"refuses-surrogates":      {"HostileBodies"},
		"repeats-ignore-handled":  {"GenuineRepeats"},
	} {
		t.Run(mutant, func(t *testing.T) {
			t.Parallel()
			out, err := runMutant(t, mutant)
			if err == nil {
				t.Fatalf("the suites pass the mutant %s:\n%s", mutant, out)
			}
			for _, part := range parts {
				if !strings.Contains(out, "--- FAIL: TestMutant/"+part+" ") {
					t.Errorf("the mutant %s does not fail %s:\n%s", mutant, part, out)
				}
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		if out, err := runMutant(t, "none"); err != nil {
			t.Errorf("the suites fail the wrapper without a mutant: %v\n%s", err, out)
		}
	})
}

func runMutant(t *testing.T, mutant string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMutant$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "EVENTSTORETEST_MUTANT="+mutant)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
