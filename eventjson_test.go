package talkdesk

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceID is the Event ID as first specified, computed the plain way:
// encoding/json reads the top-level members (all of them, duplicates
// included) and re-encodes each composite value by decoding it into an
// interface (numbers as json.Number) and marshalling it. The scanner must
// give the same IDs without that cost, or IDs stored in event logs would
// change.
func referenceID(t testing.TB, tr Trigger, body []byte) string {
	t.Helper()
	type member struct {
		key  string
		kind memberKind
		val  []byte
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("reference: %q is not an object: %v", body, err)
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		m := member{key: tok.(string), val: raw}
		switch raw[0] {
		case '"':
			var s string
			json.Unmarshal(raw, &s)
			m.kind, m.val = memberString, []byte(s)
		case '{', '[':
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var v any
			if err := d.Decode(&v); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			m.kind, m.val = memberComposite, out
		case 'n':
			m.kind = memberNull
		default:
			m.kind = memberLiteral
		}
		members = append(members, m)
	}
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Compare(a.key, b.key) })
	b := append([]byte(nil), "talkdesk-event-v1\x00"...)
	b = append(b, tr...)
	for _, m := range members {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(len(m.key)), 10)
		b = append(b, ':')
		b = append(b, m.key...)
		b = append(b, byte('0'+m.kind))
		b = strconv.AppendInt(b, int64(len(m.val)), 10)
		b = append(b, ':')
		b = append(b, m.val...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// TestEventIDMatchesReference compares the scanner's IDs with referenceID
// on tricky bodies, the fuzz corpus and random objects with nested values.
func TestEventIDMatchesReference(t *testing.T) {
	bodies := []string{
		`{}`,
		`{"a":[]}`,
		`{"a":{}}`,
		`{"a":[1,"x",true,false,null,{},[]]}`,
		`{"a":{"b":1,"a":2}}`,
		`{"a":{"k":1,"k":2}}`,
		`{"a":{"k":{"x":1},"k":[2]}}`,
		`{"a":{"\u006b":1,"k":2}}`,
		`{"a":{"k":1,"\u006b":2}}`,
		`{"a":["<>&","\u003c","\"\\\/","\b\f\n\r\t","\u0001\u001f\u007f"]}`,
		`{"a":["\u2028\u2029","` + "\u2028" + `","\ud83d\ude00","\ud800","\udc00x","\ud800\ud800"]}`,
		"{\"a\":[\"\xff\",\"a\xc3\",\"\xed\xa0\x80\",\"\xf4\x90\x80\x80\"]}",
		"{\"a\":{\"\xff\":1,\"\uFFFD\":2}}",
		`{"a":[-0,1e400,-1.5E+10,0.000001,123456789012345678901234567890]}`,
		`{"a" : [ 1 , { "b" : [ ] , "c" : { } } ] , "b" : "x" }`,
		`{"z":"1","a":"2","z":"3"}`,
		`{"a":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, 400) + "1" + strings.Repeat("}", 400) + `}`,
		`{"a":["` + strings.Repeat("<", 20000) + `"]}`,
	}
	files, _ := filepath.Glob("testdata/fuzz/FuzzParseEvent/*")
	for _, f := range files {
		if body, ok := fuzzCorpusBody(t, f); ok {
			bodies = append(bodies, string(body))
		}
	}
	r := rand.New(rand.NewPCG(8, 8))
	for range 3000 {
		var b strings.Builder
		randomObject(r, &b, 0)
		bodies = append(bodies, b.String())
	}
	checked := 0
	for _, body := range bodies {
		ev, err := ParseEvent(TriggerInboundCallEnds, []byte(body))
		if err != nil {
			continue // not an object: no ID
		}
		checked++
		if want := referenceID(t, TriggerInboundCallEnds, []byte(body)); ev.ID != want {
			t.Errorf("ID of %.200q = %s, reference %s", body, ev.ID, want)
		}
	}
	if checked < 3000 {
		t.Fatalf("only %d bodies were objects", checked)
	}
}

// fuzzCorpusBody reads the body of a FuzzParseEvent corpus file.
func fuzzCorpusBody(t *testing.T, path string) ([]byte, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if q, ok := strings.CutPrefix(strings.TrimSpace(line), "[]byte("); ok {
			s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return []byte(s), true
		}
	}
	return nil, false
}

var randomKeys = []string{`"a"`, `"\u0061"`, `"b"`, `"<"`, `"\u003c"`, `"k\n"`, `"é"`, `"\u00e9"`, "\"\xff\"", `"\ufffd"`, `""`}

var randomStrings = []string{
	`"x"`, `""`, `"<a href=\"x\">&amp;</a>"`, `"\u003c\u003e\u0026"`, `"tab\there"`, `"\u0000\u001f\u007f"`,
	"\"\u2028\u2029\"", `"\u2028"`, `"\ud83d\ude00"`, `"😀"`, `"\ud800"`, "\"\xff\xfe\"", "\"a\xc3\"", `"\/\\\""`,
	`"é"`, `"\u00E9"`, `"\b\f\n\r"`,
}

var randomLiterals = []string{`0`, `-0`, `1.5`, `-2E-3`, `1e400`, `123456789012345678901234567890`, `true`, `false`, `null`}

// randomObject writes a random JSON object with values of every kind.
func randomObject(r *rand.Rand, b *strings.Builder, depth int) {
	b.WriteString(pick(r, []string{"{", "{ ", "{\n"}))
	for i := range r.IntN(5) {
		if i > 0 {
			b.WriteString(pick(r, []string{",", " , "}))
		}
		b.WriteString(pick(r, randomKeys))
		b.WriteString(pick(r, []string{":", " : "}))
		randomValue(r, b, depth+1)
	}
	b.WriteString("}")
}

func randomValue(r *rand.Rand, b *strings.Builder, depth int) {
	switch n := r.IntN(10); {
	case n < 3 && depth < 6:
		randomObject(r, b, depth)
	case n < 5 && depth < 6:
		b.WriteString("[")
		for i := range r.IntN(4) {
			if i > 0 {
				b.WriteString(",")
			}
			randomValue(r, b, depth+1)
		}
		b.WriteString("]")
	case n < 8:
		b.WriteString(pick(r, randomStrings))
	default:
		b.WriteString(pick(r, randomLiterals))
	}
}

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

// TestIDWriterCounts: the counting pass measures exactly what the writing
// pass writes, whatever the buffer boundaries.
func TestIDWriterCounts(t *testing.T) {
	for _, body := range []string{
		`{"a":["` + strings.Repeat("<é\u2028\\n", 5000) + `"]}`,
		`{"a":{"` + strings.Repeat("k", idBufferSize+3) + `":[` + strings.Repeat(`"x",`, 5000) + `1]}}`,
	} {
		s := &objectScanner{}
		if err := s.scan([]byte(body)); err != nil {
			t.Fatal(err)
		}
		var counter idWriter
		counter.count = true
		s.i = int(s.pairs[0].v0)
		s.canonical(&counter)
		var out bytes.Buffer
		w := idWriter{h: nopHash{&out}}
		s.i = int(s.pairs[0].v0)
		s.canonical(&w)
		w.flush()
		if counter.n != out.Len() || w.n != out.Len() {
			t.Errorf("counted %d, wrote %d (writer says %d)", counter.n, out.Len(), w.n)
		}
		if !json.Valid(out.Bytes()) {
			t.Errorf("canonical form is not JSON: %.100q", out.Bytes())
		}
	}
}

// nopHash is a hash.Hash that only collects what is written.
type nopHash struct{ io.Writer }

func (nopHash) Sum(b []byte) []byte { return b }
func (nopHash) Reset()              {}
func (nopHash) Size() int           { return 0 }
func (nopHash) BlockSize() int      { return 1 }
