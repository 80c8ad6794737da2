package talkdesktest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzWriteJSONString checks that a delivery's strings are encoded as
// json.Marshal encodes them, escapes included.
func FuzzWriteJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "José 🎧", "a\"b", `back\slash`, "<&>", "\u2028", "\x7f", "\x01", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeJSONString(&b, s)
		want, _ := json.Marshal(s)
		if !bytes.Equal(b.Bytes(), want) {
			t.Fatalf("%q: %s, json.Marshal %s", s, b.Bytes(), want)
		}
	})
}
