package talkdesk

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// The flat JSON objects Talkdesk delivers, a webhook's body and a bridge
// request's auth hash, are read with encoding/json. Nothing here parses
// JSON by hand: it decides which of encoding/json's ways to use, and
// bounds what a hostile object can cost.

// member is one member of a JSON object: its key and its value as sent.
type member struct {
	key string
	raw []byte // one JSON value, valid
}

// isNull reports whether the value is the literal null.
func (m *member) isNull() bool { return len(m.raw) > 0 && m.raw[0] == 'n' }

// str returns a string value unquoted, as encoding/json reads it (invalid
// UTF-8 becomes U+FFFD); a number or a boolean as its JSON text.
func (m *member) str() string {
	if len(m.raw) == 0 || m.raw[0] != '"' {
		return string(m.raw)
	}
	if inner, ok := plainString(m.raw); ok {
		return string(inner)
	}
	return unquote(m.raw)
}

// plainString returns the content of the valid JSON string quoted when it
// reads as it is written (no escapes, valid UTF-8), the common case that
// needs no decoding.
func plainString(quoted []byte) ([]byte, bool) {
	inner := quoted[1 : len(quoted)-1]
	return inner, bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner)
}

// unquote decodes the valid JSON string quoted with encoding/json.
func unquote(quoted []byte) string {
	var s string
	_ = json.Unmarshal(quoted, &s)
	return s
}

// composite reports whether the value is an object or an array.
func (m *member) composite() bool { return len(m.raw) > 0 && (m.raw[0] == '{' || m.raw[0] == '[') }

// maxMembers is the most members, repeated keys counted, an object may
// have: a webhook body of Talkdesk has a few dozen, a bridge's auth hash a
// handful. The bound keeps what a hostile object costs to a few times its
// size.
const maxMembers = 1024

var (
	errNotObject      = errors.New("body is not a JSON object")
	errSyntax         = errors.New("malformed JSON")
	errTooManyMembers = fmt.Errorf("more than %d members", maxMembers)
)

// nullRule says how readMembers treats a null member whose key came
// before: a null that replaces, as in a map (the bridge's auth hash), or
// one that changes nothing, as in a struct (a payload field).
type nullRule bool

const (
	nullReplaces nullRule = false
	nullKeeps    nullRule = true
)

// readMembers reads data, which must be one JSON object and nothing else,
// and returns its members sorted by key, each key once: of a key sent
// twice, the last value wins, except that under nullKeeps a null does not
// replace a value before it. That is how encoding/json reads the object
// into a map (nullReplaces) or into a struct (nullKeeps).
//
// An object with no more colons than maxMembers is read with
// json.Unmarshal into a map; another one, or one whose nulls matter,
// member by member with a json.Decoder, keeping offsets into data rather
// than copies, up to maxMembers members. More is an error.
func readMembers(data []byte, rule nullRule) ([]member, error) {
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] != '{' && json.Valid(data) {
		return nil, errNotObject // null, an array, a string...
	}
	if bytes.Count(data, []byte{':'}) <= maxMembers {
		m := mapPool.Get().(map[string]rawValue)
		defer func() {
			clear(m)
			mapPool.Put(m)
		}()
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, objectError(err)
		}
		// Sorting the keys alone is cheaper than sorting members by key.
		keys := make([]string, 0, len(m))
		nulls := false
		for k, v := range m {
			keys = append(keys, k)
			nulls = nulls || v[0] == 'n'
		}
		if !nulls || rule == nullReplaces {
			slices.Sort(keys)
			members := make([]member, len(keys))
			for i, k := range keys {
				members[i] = member{key: k, raw: m[k]}
			}
			return members, nil
		}
	}
	return walkMembers(data, rule)
}

// readStringMembers reads data into m, which must be empty, when data is a
// JSON object whose values are all strings, as the bodies Talkdesk sends
// are, and reports whether it did; when not (a number, a boolean, a
// composite value, a null, too many members, not an object), readMembers
// reads it. It is the faster way for a reader that needs only the values
// by key: json.Unmarshal into a map of strings reads each value once,
// where readMembers keeps each value as JSON to be unquoted after. Of a
// key sent twice the last value wins, as in readMembers: a body with a
// null anywhere (even inside a string) is left to readMembers, whose
// nullKeeps rule a map of strings cannot follow.
func readStringMembers(data []byte, m map[string]string) bool {
	if bytes.Count(data, []byte{':'}) > maxMembers || bytes.Contains(data, []byte("null")) {
		return false
	}
	if scanStringObject(data, m) {
		return true
	}
	clear(m)
	return json.Unmarshal(data, &m) == nil
}

// withStringMembers calls f with the members of data, read by
// readStringMembers into a pooled map that f must not keep, and reports
// whether it did: not when a member of data is not a string.
func withStringMembers(data []byte, f func(map[string]string)) bool {
	m := stringMapPool.Get().(map[string]string)
	defer func() {
		clear(m)
		stringMapPool.Put(m)
	}()
	if !readStringMembers(data, m) {
		return false
	}
	f(m)
	return true
}

// stringMapPool keeps the maps of withStringMembers.
var stringMapPool = sync.Pool{New: func() any { return make(map[string]string, 64) }}

// mapPool keeps the maps of readMembers, which json.Unmarshal fills
// without growing them when they have held as many keys before.
var mapPool = sync.Pool{New: func() any { return make(map[string]rawValue, 64) }}

// rawValue is json.RawMessage without the copy: what json.Unmarshal
// hands UnmarshalJSON is a part of the data it was given, which the
// members returned point into anyway. (A json.Decoder reuses its buffer;
// rawValue is only for json.Unmarshal.)
type rawValue []byte

func (r *rawValue) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// walkMembers is readMembers for objects with many colons, and for objects
// whose nulls must not replace: it reads the members in order with a
// json.Decoder, then keeps one per key.
func walkMembers(data []byte, rule nullRule) ([]member, error) {
	var members []member
	var err error
	if json.Valid(data) {
		// Checked (nesting depth too): its members are found by their
		// delimiters, with no copy, where a json.Decoder would copy each
		// value into its buffer.
		members, err = splitMembers(data)
	} else {
		members, err = decodeMembers(data) // for encoding/json's error
	}
	if err != nil {
		return nil, err
	}
	// One member per key: the last, or under nullKeeps the last that is
	// not null (the last null when all are).
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Compare(a.key, b.key) })
	out := members[:0]
	for i := 0; i < len(members); {
		j, pick := i, i
		for ; j < len(members) && members[j].key == members[i].key; j++ {
			if rule == nullReplaces || !members[j].isNull() || members[pick].isNull() {
				pick = j
			}
		}
		out = append(out, members[pick])
		i = j
	}
	return out, nil
}

// splitMembers returns the members of data, valid JSON, in order, up to
// maxMembers.
func splitMembers(data []byte) ([]member, error) {
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return nil, errNotObject
	}
	var members []member
	for i = skipSpace(data, i+1); data[i] != '}'; i = skipSpace(data, i) {
		if len(members) == maxMembers {
			return nil, errTooManyMembers
		}
		end := stringEnd(data, i)
		key := data[i:end]
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = valueEnd(data, i)
		m := member{raw: data[i:end]}
		if inner, ok := plainString(key); ok {
			m.key = string(inner)
		} else {
			m.key = unquote(key)
		}
		members = append(members, m)
		if i = skipSpace(data, end); data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return members, nil
}

// stringEnd returns where the string of valid JSON data at i ends, past
// its closing quote.
func stringEnd(data []byte, i int) int {
	for i++; data[i] != '"'; i++ {
		if data[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns where the value of valid JSON data at i ends.
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = stringEnd(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default:
		for i < len(data) && !isDelimiter(data[i]) {
			i++
		}
		return i
	}
}

// decodeMembers is splitMembers for data that is not valid JSON, read with
// a json.Decoder until the error it reports.
func decodeMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return nil, objectError(err)
	} else if tok != json.Delim('{') {
		return nil, errNotObject
	}
	var members []member
	for dec.More() {
		if len(members) == maxMembers {
			return nil, errTooManyMembers
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, objectError(err)
		}
		// The value starts after the colon; skipValue reads it without a
		// copy, and InputOffset tells where it ended.
		start := valueStart(data, int(dec.InputOffset()))
		if err := dec.Decode(&skip); err != nil {
			return nil, objectError(err)
		}
		members = append(members, member{key: tok.(string), raw: data[start:dec.InputOffset()]})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, objectError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errSyntax // something after the object
	}
	return members, nil
}

// valueStart returns where the value after a key ends at i starts: past
// white space, the colon and white space.
func valueStart(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n' || data[i] == ':') {
		i++
	}
	return i
}

// skipValue is a decoding target that keeps nothing: the decoder checks the
// value and moves past it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

var skip skipValue

// objectError turns an error of encoding/json into errNotObject or
// errSyntax, with its text.
func objectError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return errNotObject
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: unexpected end", errSyntax)
	}
	return fmt.Errorf("%w: %v", errSyntax, err)
}

// canonical returns the composite value raw, valid JSON of at most the
// nesting depth encoding/json reads, as json.Marshal writes what
// json.Unmarshal with UseNumber reads from it: object keys sorted, the
// last of a key sent twice kept, strings escaped as encoding/json escapes
// them, numbers as written, no white space. raw was checked by
// encoding/json: canonical walks it, leaving every string with an escape
// or a character encoding/json escapes to encoding/json, without decoding
// it into interfaces, which cost some thirty times the bytes of an array of
// small numbers. Its cost is in proportion to raw's size, whatever raw
// holds (FuzzParseEvent checks it against encoding/json).
func canonical(raw []byte) []byte {
	c := canonicalizer{
		// Room for the form and, while an object is sorted, its members
		// and its form again; a member for each colon: no array grows.
		buf:     make([]byte, 0, 2*len(raw)+16),
		members: make([]canonicalMember, 0, bytes.Count(raw, []byte{':'})),
	}
	c.value(raw, 0)
	return c.buf
}

// canonicalizer writes canonical forms into buf, with members as a stack
// of the members of the objects being read (one inside another).
type canonicalizer struct {
	buf     []byte
	members []canonicalMember
}

// canonicalMember is a member of an object being read: its quoted key is
// buf[start:colon] and its value buf[colon:end].
type canonicalMember struct{ start, colon, end uint32 }

// value appends the canonical form of the value of raw at i to c.buf,
// and returns where the value ends.
func (c *canonicalizer) value(raw []byte, i int) int {
	i = skipSpace(raw, i)
	switch raw[i] {
	case '[':
		c.buf = append(c.buf, '[')
		i = skipSpace(raw, i+1)
		for n := 0; raw[i] != ']'; n++ {
			if n > 0 {
				c.buf = append(c.buf, ',')
			}
			i = c.value(raw, i)
			if i = skipSpace(raw, i); raw[i] == ',' {
				i++
			}
			i = skipSpace(raw, i)
		}
		c.buf = append(c.buf, ']')
		return i + 1
	case '{':
		// The members in canonical form, one after the other, then the
		// object's form after them, sorted by key, the last of a key
		// kept; the form is moved down over the members.
		start, first := len(c.buf), len(c.members)
		i = skipSpace(raw, i+1)
		for raw[i] != '}' {
			key := len(c.buf)
			c.buf, i = appendString(c.buf, raw, i)
			colon := len(c.buf)
			i = skipSpace(raw, i) + 1 // the colon
			i = c.value(raw, i)
			c.members = append(c.members, canonicalMember{uint32(key), uint32(colon), uint32(len(c.buf))})
			if i = skipSpace(raw, i); raw[i] == ',' {
				i++
			}
			i = skipSpace(raw, i)
		}
		members := c.members[first:]
		key := func(m canonicalMember) []byte { return c.buf[m.start:m.colon] }
		slices.SortStableFunc(members, func(a, b canonicalMember) int { return compareKeys(key(a), key(b)) })
		form := len(c.buf)
		c.buf = append(c.buf, '{')
		n := 0
		for k, m := range members {
			if k+1 < len(members) && compareKeys(key(members[k+1]), key(m)) == 0 {
				continue // a later value of the same key wins
			}
			if n > 0 {
				c.buf = append(c.buf, ',')
			}
			n++
			c.buf = append(c.buf, c.buf[m.start:m.colon]...)
			c.buf = append(c.buf, ':')
			c.buf = append(c.buf, c.buf[m.colon:m.end]...)
		}
		c.buf = append(c.buf, '}')
		c.buf = c.buf[:start+copy(c.buf[start:], c.buf[form:])]
		c.members = c.members[:first]
		return i + 1
	case '"':
		var end int
		c.buf, end = appendString(c.buf, raw, i)
		return end
	default: // a number, true, false or null, as written
		j := i
		for j < len(raw) && !isDelimiter(raw[j]) {
			j++
		}
		c.buf = append(c.buf, raw[i:j]...)
		return j
	}
}

// appendString appends the string of raw at i as json.Marshal writes it,
// and returns where it ends.
func appendString(out, raw []byte, i int) ([]byte, int) {
	j, plain := i+1, true
	for raw[j] != '"' {
		switch c := raw[j]; {
		case c == '\\':
			plain = false
			j += 2
			continue
		case c < 0x20 || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf:
			plain = false
		}
		j++
	}
	j++ // past the closing quote
	quoted := raw[i:j]
	if !plain {
		// An escape, or a character encoding/json escapes (HTML's, U+2028,
		// U+2029, invalid UTF-8) or may: as encoding/json reads and writes
		// it.
		if ascii := quoted; utf8.Valid(ascii) && !bytes.ContainsAny(ascii, "\\<>&\u2028\u2029") && noControl(ascii) {
			return append(out, quoted...), j
		}
		b, _ := json.Marshal(unquote(quoted))
		return append(out, b...), j
	}
	return append(out, quoted...), j
}

// compareKeys compares two canonical quoted keys as json.Marshal sorts
// the keys of a map: by their strings.
func compareKeys(a, b []byte) int {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.Compare(a[1:len(a)-1], b[1:len(b)-1]) // as they read
	}
	return strings.Compare(unquote(a), unquote(b))
}

// noControl reports whether b has no control character.
func noControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return false
		}
	}
	return true
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	return i
}

func isDelimiter(c byte) bool {
	return c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\r' || c == '\n'
}
