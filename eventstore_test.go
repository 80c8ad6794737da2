package talkdesk_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

// The file log keeps every promise of an EventStore, and remembers which
// events the webhook handlers handled.
var (
	_ talkdesk.EventStore    = (*talkdesk.EventLog)(nil)
	_ talkdesk.HandledMarker = (*talkdesk.EventLog)(nil)
)

// TestEventLogConformance runs the EventStore conformance suite against the
// log in a file and in memory.
func TestEventLogConformance(t *testing.T) {
	for name, path := range map[string]func(t *testing.T) string{
		"file":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "events.jsonl") },
		"memory": func(*testing.T) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			eventstoretest.TestStore(t, func(t *testing.T) talkdesk.EventStore {
				l, err := talkdesk.OpenEventLog(path(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return l
			})
		})
	}
}

// TestEventLogHandlerConformance runs the HTTP suite over the log in a file
// and in memory.
func TestEventLogHandlerConformance(t *testing.T) {
	for name, path := range map[string]func(t *testing.T) string{
		"file":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "events.jsonl") },
		"memory": func(*testing.T) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			eventstoretest.TestEventLogHandler(t, func(t *testing.T) talkdesk.EventStore {
				l, err := talkdesk.OpenEventLog(path(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return l
			})
		})
	}
}

// TestHostileBodiesHoldTheFuzzCorpus: the corpus of eventstoretest's
// HostileBodies holds every seed of FuzzParseEvent, byte for byte, so
// that every store is tried with every body the fuzzer starts from.
func TestHostileBodiesHoldTheFuzzCorpus(t *testing.T) {
	seeds, err := filepath.Glob("testdata/fuzz/FuzzParseEvent/*")
	if err != nil || len(seeds) == 0 {
		t.Fatalf("no seeds: %v", err)
	}
	for _, seed := range seeds {
		want, err := os.ReadFile(seed)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("eventstoretest/testdata/bodies", filepath.Base(seed)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("eventstoretest/testdata/bodies lacks the seed %s (copy it there): %v", filepath.Base(seed), err)
		}
	}
}
