// Package eventcursor is what the stores of the conversation log share
// about a query: the range of instants an index in Unix nanoseconds holds,
// the fingerprint of a query's filters, and page cursors bound to it. The
// file log (package talkdesk) and the PostgreSQL store (package
// tdpostgres, a module of its own) both use it, so that a cursor means the
// same in each; a talkdesk.EventStore of your own may use it too. A cursor
// is opaque to the users of a store: its form is this package's, and may
// change between minor versions before 1.0.
package eventcursor

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// The instants an event holds: those whose Unix time in nanoseconds is an
// int64 (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z).
var (
	MinInstant = time.Unix(0, math.MinInt64).UTC()
	MaxInstant = time.Unix(0, math.MaxInt64).UTC()
)

// Nanos returns t in Unix nanoseconds, with the times before and after the
// ones an event can hold held at the ends: a query from the year 1000 or
// until 9999 means every event, where UnixNano would wrap around.
func Nanos(t time.Time) int64 {
	switch {
	case t.Before(MinInstant):
		return math.MinInt64
	case t.After(MaxInstant):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// Fingerprint identifies the filters of a query (its interaction, contact
// and agent IDs, types and time range), so that a cursor is only used with
// the query that made it. The order and repeats of the types do not count.
func Fingerprint[T ~string](interaction, contact, agent string, types []T, since, until time.Time) [8]byte {
	h := sha256.New()
	for _, s := range []string{interaction, contact, agent} {
		fmt.Fprintf(h, "%d:%s,", len(s), s)
	}
	types = slices.Clone(types)
	slices.Sort(types)
	for _, t := range slices.Compact(types) {
		fmt.Fprintf(h, "%s,", t)
	}
	fmt.Fprintf(h, "%s,%s", since.UTC().Format(time.RFC3339Nano), until.UTC().Format(time.RFC3339Nano))
	var fp [8]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

// The reasons Decode refuses a cursor.
var (
	ErrNotCursor  = errors.New("not a cursor of this log")
	ErrOtherQuery = errors.New("made by a query with other filters")
)

// Encode returns the cursor of the position (at, id) for the query of
// fingerprint fp, marked with the version byte of its store.
func Encode(version byte, fp [8]byte, at int64, id string) string {
	b := make([]byte, 0, 17+len(id))
	b = append(b, version)
	b = append(b, fp[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the position of cursor s, which must carry version and
// fp, or ErrNotCursor or ErrOtherQuery.
func Decode(s string, version byte, fp [8]byte) (at int64, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 18 || b[0] != version {
		return 0, "", ErrNotCursor
	}
	if !bytes.Equal(b[1:9], fp[:]) {
		return 0, "", ErrOtherQuery
	}
	return int64(binary.BigEndian.Uint64(b[9:17])), string(b[17:]), nil
}
