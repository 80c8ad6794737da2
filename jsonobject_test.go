package talkdesk

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// referenceID is the Event ID computed the plain way: encoding/json reads
// the top-level members in order and keeps one per key (the last, or the
// last that is not null, as into a struct), and re-encodes each composite
// value by decoding it into an interface (numbers as json.Number) and
// marshalling it. For bodies without a key sent twice it is the ID of
// every earlier version, so IDs stored in event logs stay as they were.
func referenceID(t testing.TB, tr Trigger, body []byte) string {
	t.Helper()
	type member struct {
		key  string
		kind byte
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
			m.kind, m.val = '1', []byte(s)
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
			m.kind, m.val = '4', out
		case 'n':
			m.kind = '3'
		default:
			m.kind = '2'
		}
		if i := slices.IndexFunc(members, func(o member) bool { return o.key == m.key }); i >= 0 {
			if m.kind != '3' || members[i].kind == '3' {
				members[i] = m
			}
			continue
		}
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b member) int { return cmp.Compare(a.key, b.key) })
	b := append([]byte(nil), "talkdesk-event-v1\x00"...)
	b = append(b, tr...)
	for _, m := range members {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(len(m.key)), 10)
		b = append(b, ':')
		b = append(b, m.key...)
		b = append(b, m.kind)
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

// TestEventIDsUnchanged: the IDs of the fixture bodies are those the
// hand-written scanner of earlier versions gave, so a log written before
// still finds its events by ID and stores no redelivery twice.
func TestEventIDsUnchanged(t *testing.T) {
	for _, tt := range []struct{ fixture, id string }{
		{"agentLogIn_complete.json", "8ba2bbc9f6c79760f8ef28628f4950ab"},
		{"agentLogIn_empty.json", "8144da4f76d34f79116267d175b8945b"},
		{"agentLogIn_odd.json", "85d37165a75090f81530e79c2f1d71ac"},
		{"agentLogOut_complete.json", "96e44d2159c90b085c099b1c87bbbe57"},
		{"agentLogOut_empty.json", "c1ef6b294c410529dfb845e949bab2d2"},
		{"agentLogOut_odd.json", "9ea1e5729d1401c064626469821d9350"},
		{"contactCreated_complete.json", "cd0a75ddf4ef4955f3591cd31404117b"},
		{"contactCreated_empty.json", "f43861b4a8e951ee99cff88431dc83ad"},
		{"contactCreated_odd.json", "68d9107b66a197f0778cb047439808f0"},
		{"contactUpdated_complete.json", "f82ba65834a67a05fd19f8cd5e5d1df2"},
		{"contactUpdated_empty.json", "4ee4db6d594b63de44746f730fa9beff"},
		{"contactUpdated_odd.json", "00a610c3b162c8dc13d1bb0b88c14cbb"},
		{"inboundCallEnds_complete.json", "e11d84b2a025179fa089d1ba4276fb30"},
		{"inboundCallEnds_empty.json", "c20976fe5d847dfb0b120526910d481e"},
		{"inboundCallEnds_odd.json", "899e123d0a4156b31a581876c1f27fba"},
		{"inboundCallReachesContactCenter_complete.json", "e70d32b463245dfd860ee4eb30aeb8ff"},
		{"inboundCallReachesContactCenter_empty.json", "322c7f528751505fff82ee0645824718"},
		{"inboundCallReachesContactCenter_odd.json", "1df3c16f50fa0ba5f037e1577c2157b0"},
		{"inboundCallStarts_complete.json", "82d1823f355b489c28a86bfeeb8528c2"},
		{"inboundCallStarts_empty.json", "2b5b79e01751767954e64bffe2cff358"},
		{"inboundCallStarts_odd.json", "a7e928e805a96765609ad459f9e43ca3"},
		{"noteCreated_complete.json", "a82cf0b23f10e6548af732bc4ae43675"},
		{"noteCreated_empty.json", "fe3c40af2296b480fac9a6abe45fddb5"},
		{"noteCreated_odd.json", "7e8c7d67bd475fcb927739b7620d604c"},
		{"outboundCallEnds_complete.json", "b5985a242a45240d0f149cd5abb8d7f0"},
		{"outboundCallEnds_empty.json", "eec42bff7af4f37cca8c30e894a13489"},
		{"outboundCallEnds_odd.json", "3e6787c2f4eeabae8b6750d6125a76a1"},
	} {
		tr := Trigger(strings.SplitN(tt.fixture, "_", 2)[0])
		ev, err := ParseEvent(tr, readEventFixture(t, tt.fixture))
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != tt.id {
			t.Errorf("%s: ID %s, was %s", tt.fixture, ev.ID, tt.id)
		}
	}
}

// TestEventIDOfRepeatedKeys: equal objects, as encoding/json reads them
// into a struct, have equal IDs, whatever keys were sent twice; different
// ones have different IDs.
func TestEventIDOfRepeatedKeys(t *testing.T) {
	id := func(body string) string {
		ev, err := ParseEvent(TriggerAgentLogIn, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	for _, same := range [][2]string{
		{`{"a":"1","a":"2"}`, `{"a":"2"}`},
		{`{"a":"1","b":"x","a":"2"}`, `{"b":"x","a":"2"}`},
		{`{"a":"1","a":null}`, `{"a":"1"}`},
		{`{"a":null,"a":null}`, `{"a":null}`},
		{`{"a":{"k":1,"k":2}}`, `{"a":{"k":2}}`},
	} {
		if id(same[0]) != id(same[1]) {
			t.Errorf("%s and %s have different IDs", same[0], same[1])
		}
	}
	for _, differ := range [][2]string{
		{`{"a":"1","a":"2"}`, `{"a":"1"}`},
		{`{"a":null}`, `{"a":"1"}`},
		{`{"a":"1"}`, `{"a":1}`},
		{`{"a":"null"}`, `{"a":null}`},
	} {
		if id(differ[0]) == id(differ[1]) {
			t.Errorf("%s and %s have the same ID", differ[0], differ[1])
		}
	}
}

// TestEventIDOfLargeComposites: a composite value of any size within a
// body is hashed in its canonical form: white space, key order and
// escaping do not change the ID, content does.
func TestEventIDOfLargeComposites(t *testing.T) {
	const large = 256 << 10 // past the 64 KiB up to which composites were canonical before
	big := func(sep, last string) string {
		return `{"a":[` + strings.Repeat(`1`+sep, large/2) + last + `]}`
	}
	id := func(body string) string {
		ev, err := ParseEvent(TriggerAgentLogIn, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	if id(big(",", "1")) != id(big(" , ", "1")) {
		t.Error("white space changed the ID of a large array")
	}
	if id(big(",", "1")) == id(big(",", "2")) {
		t.Error("two different large arrays have the same ID")
	}
	// The same large object, its keys in another order, escaped otherwise,
	// with a key sent twice.
	var ordered, reversed, escaped strings.Builder
	ordered.WriteString(`{"a":{`)
	reversed.WriteString(`{"a":{"k00000":"stale",`)
	escaped.WriteString(`{"a":{`)
	const keys = large / 24
	for i := range keys {
		if i > 0 {
			ordered.WriteByte(',')
			escaped.WriteByte(',')
		}
		fmt.Fprintf(&ordered, `"k%05d":"v<%d>"`, i, i)
		fmt.Fprintf(&escaped, `"\u006b%05d" : "v\u003c%d\u003e"`, i, i)
		if i > 0 {
			reversed.WriteByte(',')
		}
		fmt.Fprintf(&reversed, `"k%05d":"v<%d>"`, keys-1-i, keys-1-i)
	}
	for _, b := range []*strings.Builder{&ordered, &reversed, &escaped} {
		b.WriteString("}}")
	}
	want := id(ordered.String())
	for name, body := range map[string]string{"keys reversed, one sent twice": reversed.String(), "escaped": escaped.String()} {
		if got := id(body); got != want {
			t.Errorf("a large object, %s: ID %s, want %s", name, got, want)
		}
	}
}

// TestCanonical: the canonical form is what json.Marshal writes of what
// json.Unmarshal with UseNumber reads, the form of the IDs before.
func TestCanonical(t *testing.T) {
	for _, raw := range []string{
		`[]`, `{}`, `[1, 2.50, -3e7, true, false, null, "x"]`,
		`{"b": 1, "a": {"z": [{"y": null, "x": "<&>"}], "a": "\u00e9\ud800"}, "b": 2}`,
		`{"k": "1", "k": null}`, `[[[[]]], {"": ""}]`, `{"\u2028": "\u2029", "\/": "\t"}`,
	} {
		if got, want := string(canonical([]byte(raw))), referenceCanonical(t, []byte(raw)); got != want {
			t.Errorf("canonical(%s) = %s, want %s", raw, got, want)
		}
	}
}

// referenceCanonical is the canonical form by encoding/json alone.
func referenceCanonical(t testing.TB, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestReadMembers: both ways of reading an object give the same members,
// sorted by key, each key once, with the rule for nulls asked for.
func TestReadMembers(t *testing.T) {
	tests := []struct {
		body string
		rule nullRule
		want string // key=value, ...
	}{
		{`{"b":"2","a":1}`, nullKeeps, `a=1,b="2"`},
		{`{"a":"1","a":"2"}`, nullKeeps, `a="2"`},
		{`{"a":"1","a":null}`, nullKeeps, `a="1"`},
		{`{"a":"1","a":null}`, nullReplaces, `a=null`},
		{`{"a":null,"a":null}`, nullKeeps, `a=null`},
		{`{"a":{"x": [1, 2]}, "b" : true}`, nullKeeps, `a={"x": [1, 2]},b=true`},
	}
	for _, tt := range tests {
		for _, walk := range []bool{false, true} {
			var got []member
			var err error
			if walk {
				got, err = walkMembers([]byte(tt.body), tt.rule)
			} else {
				got, err = readMembers([]byte(tt.body), tt.rule)
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.body, err)
			}
			var parts []string
			for _, m := range got {
				parts = append(parts, m.key+"="+string(m.raw))
			}
			if s := strings.Join(parts, ","); s != tt.want {
				t.Errorf("%s (walk %v, rule %v): %s, want %s", tt.body, walk, tt.rule, s, tt.want)
			}
		}
	}
	for _, bad := range []string{`null`, `[]`, `"x"`, `{`, `{}{}`, `{"a":1} x`, "{" + strings.Repeat(`"k":1,`, maxMembers) + `"k":1}`} {
		if _, err := readMembers([]byte(bad), nullKeeps); err == nil {
			t.Errorf("readMembers(%.40q) gave no error", bad)
		}
		if _, err := walkMembers([]byte(bad), nullKeeps); err == nil {
			t.Errorf("walkMembers(%.40q) gave no error", bad)
		}
	}
}

// stringObjectSeeds are bodies at the edges of scanStringObject: what it
// reads itself, and what it leaves to json.Unmarshal.
var stringObjectSeeds = []string{
	`{}`, ` { } `, `{"a":"b"}`, `{"a":"b","a":"c"}`, " {\t\"a\" :\r\n\"b\" } ",
	`{"k":"line\nbreak \"quoted\" back\\slash \/ \b\f\r\t"}`, `{"José":"Simões 🎧"}`,
	`{"a":"\u00e9"}`, `{"a":"\ud83d"}`, "{\"a\":\"\xff\"}", "{\"a\":\"\x01\"}", `{"a":"\x"}`,
	`{"a":1}`, `{"a":true}`, `{"a":["b"]}`, `{"a":{"b":"c"}}`, `{"a":"b",}`, `{"a":"b"} x`,
	`{"a":"b"`, `{"a" "b"}`, `{"a":"b" "c":"d"}`, `["a"]`, `"a"`, ``, `{"a":"b\`, `{"\`,
}

// FuzzScanStringObject checks that whenever scanStringObject reads a body
// it reads what json.Unmarshal reads into a map of strings.
func FuzzScanStringObject(f *testing.F) {
	for _, s := range stringObjectSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string]string{}
		if !scanStringObject(data, got) {
			return
		}
		var want map[string]string
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("scanStringObject read %q, which json.Unmarshal refuses: %v", data, err)
		}
		if want == nil {
			want = map[string]string{}
		}
		if !maps.Equal(got, want) {
			t.Fatalf("%q: scanStringObject read %q, json.Unmarshal %q", data, got, want)
		}
	})
}

// TestScanStringObjectReadsDeliveries checks that the fast path is taken
// where it should be: for the seeds it must read, and for a delivery
// with escapes and names in any script; a change that sent every body to
// json.Unmarshal would pass FuzzScanStringObject.
func TestScanStringObjectReadsDeliveries(t *testing.T) {
	for _, s := range []string{`{}`, `{"a":"b","a":"c"}`, " {\t\"a\" :\r\n\"b\" } ", `{"k":"line\nbreak \"quoted\" back\\slash \/ \b\f\r\t"}`, `{"José":"Simões 🎧"}`} {
		if !scanStringObject([]byte(s), map[string]string{}) {
			t.Errorf("scanStringObject(%q) left it to json.Unmarshal", s)
		}
	}
	for _, s := range []string{`{"a":"\u00e9"}`, "{\"a\":\"\xff\"}", `{"a":1}`, `{"a":"b",}`, `{"a":"b"} x`, `{"a":"b"`} {
		if scanStringObject([]byte(s), map[string]string{}) {
			t.Errorf("scanStringObject(%q) read it; it is json.Unmarshal's to decide", s)
		}
	}
}
