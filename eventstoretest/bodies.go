package eventstoretest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// bodies holds deliveries that are valid but hostile to a store: a UTF-16
// surrogate escape cut in half, numbers PostgreSQL's numeric cannot hold,
// \u0000, invalid UTF-8, composite values of every size, duplicate keys,
// and the seed corpus of talkdesk's FuzzParseEvent. Each file is in the
// format of Go's fuzzing corpus: the trigger's index in
// talkdesk.Triggers() as a uint8, then the body as a []byte.
//
//go:embed testdata/bodies
var bodies embed.FS

// Body is one delivery of the suite's corpus of hostile bodies.
type Body struct {
	Name    string
	Trigger talkdesk.Trigger
	Data    []byte
}

// HostileBodies returns the suite's corpus of hostile but valid
// deliveries (see TestStore's HostileBodies part), and some that
// talkdesk.ParseEvent refuses.
func HostileBodies() ([]Body, error) {
	var out []Body
	err := fs.WalkDir(bodies, "testdata/bodies", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := bodies.ReadFile(path)
		if err != nil {
			return err
		}
		b, err := parseCorpusFile(data)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b.Name = d.Name()
		out = append(out, b)
		return nil
	})
	return out, err
}

// parseCorpusFile reads a file of Go's fuzzing corpus with a uint8 (or a
// byte) and a []byte.
func parseCorpusFile(data []byte) (Body, error) {
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 3)
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		return Body{}, fmt.Errorf("not a corpus file of a uint8 and a []byte")
	}
	var which uint64
	switch arg := lines[1]; {
	case strings.HasPrefix(arg, "uint8(") && strings.HasSuffix(arg, ")"):
		n, err := strconv.ParseUint(arg[len("uint8("):len(arg)-1], 0, 8)
		if err != nil {
			return Body{}, err
		}
		which = n
	case strings.HasPrefix(arg, "byte(") && strings.HasSuffix(arg, ")"):
		r, _, _, err := strconv.UnquoteChar(strings.Trim(arg[len("byte("):len(arg)-1], "'"), '\'')
		if err != nil {
			return Body{}, err
		}
		which = uint64(r)
	default:
		return Body{}, fmt.Errorf("first argument %q is not a uint8", arg)
	}
	arg := lines[2]
	if !strings.HasPrefix(arg, "[]byte(") || !strings.HasSuffix(arg, ")") {
		return Body{}, fmt.Errorf("second argument is not a []byte")
	}
	body, err := strconv.Unquote(arg[len("[]byte(") : len(arg)-1])
	if err != nil {
		return Body{}, err
	}
	triggers := talkdesk.Triggers()
	return Body{Trigger: triggers[int(which)%len(triggers)], Data: []byte(body)}, nil
}

// testHostileBodies: every body ParseEvent accepts is stored and reads
// back as parsed, by Query and by Follow, whatever a store's own
// encoding (a database's JSON type, say) can hold; a body that is the
// same as another but for white space is a redelivery of it.
func testHostileBodies(t *testing.T, s talkdesk.EventStore) {
	corpus, err := HostileBodies()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var want []*talkdesk.Event
	seen := map[string]string{}
	for _, b := range corpus {
		ev, err := talkdesk.ParseEvent(b.Trigger, b.Data)
		if err != nil {
			continue // not a delivery: the webhook answers 400
		}
		id := ev.ID
		added, err := s.Append(ctx, ev)
		if err != nil {
			t.Errorf("Append of %s (%s, %d bytes): %v", b.Name, b.Trigger, len(b.Data), err)
			continue
		}
		if first, ok := seen[id]; ok {
			if added {
				t.Errorf("%s has the ID of %s, and was added again", b.Name, first)
			}
			continue
		}
		if !added {
			t.Errorf("%s was not added", b.Name)
		}
		seen[id] = b.Name
		want = append(want, ev)
	}
	if len(want) < 40 {
		t.Fatalf("only %d bodies of the corpus parse", len(want))
	}
	if seen[idOf(t, corpus, "large_composite")] != "large_composite" || idOf(t, corpus, "large_composite_spaced") != idOf(t, corpus, "large_composite") {
		t.Error("a large composite value with other white space got another ID")
	}
	check := func(how string, got map[string]*talkdesk.Event) {
		t.Helper()
		for _, w := range want {
			g, ok := got[w.ID]
			if !ok {
				t.Errorf("%s: %s is not read back", how, seen[w.ID])
				continue
			}
			if diff := sameEvent(g, w); diff != "" {
				t.Errorf("%s: %s read back: %s", how, seen[w.ID], diff)
			}
		}
	}
	byQuery := map[string]*talkdesk.Event{}
	for ev, err := range talkdesk.Events(ctx, s, talkdesk.EventQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		byQuery[ev.ID] = ev
	}
	check("Query", byQuery)
	byFollow := map[string]*talkdesk.Event{}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for ev, err := range s.Follow(fctx, talkdesk.EventQuery{}, "") {
		if err != nil {
			t.Fatal(err)
		}
		if byFollow[ev.ID] = ev; len(byFollow) == len(want) {
			break
		}
	}
	check("Follow", byFollow)
}

// idOf returns the ID ParseEvent gives the body called name.
func idOf(t *testing.T, corpus []Body, name string) string {
	for _, b := range corpus {
		if b.Name == name {
			ev, err := talkdesk.ParseEvent(b.Trigger, b.Data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return ev.ID
		}
	}
	t.Fatalf("no body %s in the corpus", name)
	return ""
}
