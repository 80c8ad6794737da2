package talkdesk

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"math"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// A small JSON reader for the flat objects Talkdesk delivers. It does what
// json.Unmarshal into a map[string]string would, without the reflection
// and the map, and it remembers the kind of each value so that an Event ID
// can be hashed from a canonical form of the body. It accepts exactly the
// JSON that encoding/json accepts, except that it rejects nesting deeper
// than maxDepth.

// memberKind is the kind of a top-level value.
type memberKind uint8

const (
	memberString    memberKind = iota + 1 // val is the raw content between the quotes
	memberLiteral                         // a number, true or false: val is its text
	memberNull                            // null
	memberComposite                       // an object or array: val is its raw text
)

// objectMember is one member of the object: where its key and value are
// in the scanned body. Offsets rather than slices keep a body of many
// small members from costing many times its size.
type objectMember struct {
	k0, k1 uint32 // the key: data[k0:k1], or keys[k0:k1] when keyEsc
	v0, v1 uint32 // the value's text: the raw content between the quotes for a string
	kind   memberKind
	esc    bool // the value is a string with escapes or bytes that are not UTF-8
	keyEsc bool // so was the key: it is unescaped in the scanner's keys
}

// memberValue is the value of one member.
type memberValue struct {
	val  []byte
	kind memberKind
	esc  bool // val is a string with escapes or bytes that are not UTF-8
}

// str returns the value of a string member, unescaped as encoding/json
// does (invalid UTF-8 becomes U+FFFD).
func (v *memberValue) str() string {
	if !v.esc {
		return string(v.val)
	}
	return unquote(v.val)
}

// unquote decodes the content of a JSON string through encoding/json, the
// slow path for strings with escapes.
func unquote(content []byte) string {
	q := make([]byte, 0, len(content)+2)
	q = append(q, '"')
	q = append(q, content...)
	q = append(q, '"')
	var s string
	_ = json.Unmarshal(q, &s) // content was validated by the scanner
	return s
}

// maxDepth bounds the nesting of values the scanner accepts.
const maxDepth = 512

type objectScanner struct {
	data  []byte
	i     int
	pairs []objectMember
	keys  []byte   // the unescaped keys of pairs that had escapes
	order []uint32 // indexes of pairs sorted by key, for id
	h     hash.Hash
	buf   []byte // what id has not yet written to h

	// The objects inside composite values being canonicalised, for id.
	nested     []nestedMember
	nestedKeys []byte
}

var scanPool = sync.Pool{New: func() any { return &objectScanner{h: sha256.New()} }}

var (
	errNotObject = errors.New("body is not a JSON object")
	errSyntax    = errors.New("malformed JSON")
	errTooDeep   = errors.New("JSON nested too deeply")
	errTooLong   = errors.New("body longer than 4 GiB")
)

// key returns the unescaped key of p.
func (s *objectScanner) key(p *objectMember) []byte {
	if p.keyEsc {
		return s.keys[p.k0:p.k1]
	}
	return s.data[p.k0:p.k1]
}

// value returns the value of p.
func (s *objectScanner) value(p *objectMember) memberValue {
	return memberValue{val: s.data[p.v0:p.v1], kind: p.kind, esc: p.esc}
}

// scan reads data, which must be one JSON object and nothing else.
func (s *objectScanner) scan(data []byte) error {
	s.data, s.i, s.pairs, s.keys = data, 0, s.pairs[:0], s.keys[:0]
	if len(data) > math.MaxUint32 {
		return errTooLong
	}
	s.skipSpace()
	if s.i >= len(data) || data[s.i] != '{' {
		if s.i < len(data) && s.skipValue(0) == nil && s.atEnd() {
			return errNotObject
		}
		if s.i >= len(data) {
			return errNotObject
		}
		return errSyntax
	}
	s.i++
	s.skipSpace()
	if s.i < len(data) && data[s.i] == '}' {
		s.i++
		return s.end()
	}
	for {
		s.skipSpace()
		if s.i >= len(data) || data[s.i] != '"' {
			return errSyntax
		}
		var p objectMember
		key, esc, err := s.readString()
		if err != nil {
			return err
		}
		if esc {
			p.keyEsc = true
			p.k0 = uint32(len(s.keys))
			s.keys = append(s.keys, unquote(key)...)
			p.k1 = uint32(len(s.keys))
		} else {
			p.k0 = uint32(s.i - 1 - len(key))
			p.k1 = uint32(s.i - 1)
		}
		s.skipSpace()
		if s.i >= len(data) || data[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.skipSpace()
		if s.i >= len(data) {
			return errSyntax
		}
		start := s.i
		switch c := data[s.i]; {
		case c == '"':
			p.kind = memberString
			p.v0 = uint32(start + 1)
			_, p.esc, err = s.readString()
			p.v1 = uint32(s.i - 1)
		case c == '{' || c == '[':
			p.kind = memberComposite
			err = s.skipValue(1)
			p.v0, p.v1 = uint32(start), uint32(s.i)
		default:
			err = s.skipValue(1)
			p.v0, p.v1 = uint32(start), uint32(s.i)
			p.kind = memberLiteral
			if string(data[start:s.i]) == "null" {
				p.kind = memberNull
			}
		}
		if err != nil {
			return err
		}
		if len(s.pairs) == cap(s.pairs) { // grow by doubling: a body of many members allocates twice their size, not five times
			s.pairs = slices.Grow(s.pairs, max(len(s.pairs), 16))
		}
		s.pairs = append(s.pairs, p)
		s.skipSpace()
		if s.i >= len(data) {
			return errSyntax
		}
		switch data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return s.end()
		default:
			return errSyntax
		}
	}
}

// release drops the references to the last body and returns s to the pool.
func (s *objectScanner) release() {
	s.data = nil
	if cap(s.pairs) > maxPooledMembers || cap(s.order) > maxPooledMembers || cap(s.keys) > maxPooledBytes || cap(s.nested) > maxPooledMembers || cap(s.nestedKeys) > maxPooledBytes {
		return // keep no hostile body's worth of memory in the pool
	}
	scanPool.Put(s)
}

func (s *objectScanner) end() error {
	if !s.atEnd() {
		return errSyntax
	}
	return nil
}

func (s *objectScanner) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.data)
}

func (s *objectScanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// readString reads the string starting at the quote at s.i and returns its
// raw content. esc reports escapes or bytes that are not valid UTF-8.
func (s *objectScanner) readString() (content []byte, esc bool, err error) {
	data := s.data
	start := s.i + 1
	ascii := true
	for i := start; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			s.i = i + 1
			content = data[start:i]
			if !ascii && !utf8.Valid(content) {
				esc = true
			}
			return content, esc, nil
		case c == '\\':
			esc = true
			i++
			if i >= len(data) {
				return nil, false, errSyntax
			}
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(data) {
					return nil, false, errSyntax
				}
				for _, h := range data[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, errSyntax
					}
				}
				i += 4
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, errSyntax
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipValue reads one value of any kind at s.i, depth levels deep.
func (s *objectScanner) skipValue(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	data := s.data
	if s.i >= len(data) {
		return errSyntax
	}
	switch c := data[s.i]; {
	case c == '"':
		_, _, err := s.readString()
		return err
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		s.skipSpace()
		if s.i < len(data) && data[s.i] == closer {
			s.i++
			return nil
		}
		for {
			s.skipSpace()
			if c == '{' {
				if s.i >= len(data) || data[s.i] != '"' {
					return errSyntax
				}
				if _, _, err := s.readString(); err != nil {
					return err
				}
				s.skipSpace()
				if s.i >= len(data) || data[s.i] != ':' {
					return errSyntax
				}
				s.i++
				s.skipSpace()
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipSpace()
			if s.i >= len(data) {
				return errSyntax
			}
			switch data[s.i] {
			case ',':
				s.i++
			case closer:
				s.i++
				return nil
			default:
				return errSyntax
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *objectScanner) literal(lit string) error {
	if len(s.data)-s.i < len(lit) || string(s.data[s.i:s.i+len(lit)]) != lit {
		return errSyntax
	}
	s.i += len(lit)
	return nil
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *objectScanner) number() error {
	data, i := s.data, s.i
	digits := func() int {
		n := 0
		for i < len(data) && '0' <= data[i] && data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case digits() == 0:
		return errSyntax
	}
	if i < len(data) && data[i] == '.' {
		i++
		if digits() == 0 {
			return errSyntax
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return errSyntax
		}
	}
	s.i = i
	return nil
}

// Bounds of the buffers a pooled objectScanner keeps.
const (
	maxPooledMembers = 1024
	maxPooledBytes   = 64 << 10
)

// id hashes trigger t and the scanned members in a canonical form: sorted
// by key, each value with its kind, strings unescaped, composites
// re-encoded as json.Marshal would encode what json.Unmarshal reads from
// them (object keys sorted, the last of duplicate keys kept, strings
// escaped as encoding/json does). Two bodies that json.Unmarshal reads as
// the same object (whatever their whitespace, key order or escaping) get
// the same ID.
//
// The canonical form goes into the hash as it is made, through a small
// buffer: a body of a megabyte is hashed without a copy of that size.
func (s *objectScanner) id(t Trigger) string {
	s.sortByKey()
	s.h.Reset()
	w := idWriter{h: s.h, buf: s.buf[:0]}
	w.writeString("talkdesk-event-v1\x00")
	w.writeString(string(t))
	for _, i := range s.order {
		p := &s.pairs[i]
		key := s.key(p)
		w.writeByte(0)
		w.writeInt(len(key))
		w.writeByte(':')
		w.write(key)
		w.writeByte(byte('0' + p.kind))
		v := s.value(p)
		switch {
		case p.kind == memberString && p.esc:
			val := v.str()
			w.writeInt(len(val))
			w.writeByte(':')
			w.writeString(val)
		case p.kind == memberComposite:
			// The canonical form's length comes first: count it, then write it.
			counter := idWriter{count: true}
			s.i = int(p.v0)
			s.canonical(&counter)
			w.writeInt(counter.n)
			w.writeByte(':')
			s.i = int(p.v0)
			s.canonical(&w)
		default:
			w.writeInt(len(v.val))
			w.writeByte(':')
			w.write(v.val)
		}
	}
	w.flush()
	if cap(w.buf) <= maxPooledBytes {
		s.buf = w.buf
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(s.h.Sum(sum[:0])[:16])
}

// sortByKey sets order to the indexes of pairs sorted by key, pairs with
// the same key in the order they came.
func (s *objectScanner) sortByKey() {
	s.order = slices.Grow(s.order[:0], len(s.pairs))
	for i := range s.pairs {
		s.order = append(s.order, uint32(i))
	}
	slices.SortStableFunc(s.order, func(a, b uint32) int {
		return bytes.Compare(s.key(&s.pairs[a]), s.key(&s.pairs[b]))
	})
}

// distinctKeys returns how many different keys the pairs have.
func (s *objectScanner) distinctKeys() int {
	s.sortByKey()
	n := 0
	for j, i := range s.order {
		if j == 0 || !bytes.Equal(s.key(&s.pairs[i]), s.key(&s.pairs[s.order[j-1]])) {
			n++
		}
	}
	return n
}

// idWriter writes to a hash through a buffer, or only counts the bytes.
type idWriter struct {
	h     hash.Hash
	buf   []byte
	count bool
	n     int // bytes written
}

// idBufferSize is how much idWriter buffers before it writes to the hash.
const idBufferSize = 8 << 10

func (w *idWriter) write(b []byte) {
	w.n += len(b)
	if w.count {
		return
	}
	if len(w.buf)+len(b) > idBufferSize {
		w.flush()
		if len(b) > idBufferSize {
			w.h.Write(b)
			return
		}
	}
	w.buf = append(w.buf, b...)
}

func (w *idWriter) writeString(s string) {
	w.n += len(s)
	if w.count {
		return
	}
	if len(w.buf)+len(s) > idBufferSize {
		w.flush()
		if len(s) > idBufferSize {
			io.WriteString(w.h, s)
			return
		}
	}
	w.buf = append(w.buf, s...)
}

func (w *idWriter) writeByte(c byte) {
	w.n++
	if w.count {
		return
	}
	if len(w.buf) >= idBufferSize {
		w.flush()
	}
	w.buf = append(w.buf, c)
}

// writeInt writes n >= 0 in decimal.
func (w *idWriter) writeInt(n int) {
	if w.count {
		for w.n++; n >= 10; n /= 10 {
			w.n++
		}
		return
	}
	if len(w.buf)+20 > idBufferSize {
		w.flush()
	}
	before := len(w.buf)
	w.buf = strconv.AppendInt(w.buf, int64(n), 10)
	w.n += len(w.buf) - before
}

func (w *idWriter) flush() {
	if len(w.buf) > 0 && !w.count {
		w.h.Write(w.buf)
	}
	w.buf = w.buf[:0]
}

// nestedMember is a member of an object inside a composite value.
type nestedMember struct {
	k0, k1 uint32 // the unescaped key: data[k0:k1], or nestedKeys[k0:k1] when keyEsc
	v      uint32 // where the value starts in data
	keyEsc bool
}

func (s *objectScanner) nestedKey(m *nestedMember) []byte {
	if m.keyEsc {
		return s.nestedKeys[m.k0:m.k1]
	}
	return s.data[m.k0:m.k1]
}

// canonical writes to w the value at s.i, which the scanner has validated,
// as json.Marshal writes what json.Unmarshal (with UseNumber) reads from
// it: no whitespace, numbers as written, strings escaped as encoding/json
// escapes them (HTML characters included), object keys sorted and only
// the last of duplicate keys kept, as in a map. It leaves s.i after the
// value.
func (s *objectScanner) canonical(w *idWriter) {
	data := s.data
	s.skipSpace()
	start := s.i
	switch c := data[s.i]; c {
	case '"':
		content, esc, _ := s.readString()
		if esc {
			writeJSONString(w, []byte(unquote(content)))
		} else {
			writeJSONString(w, content)
		}
	case '[':
		w.writeByte('[')
		s.i++
		s.skipSpace()
		for n := 0; data[s.i] != ']'; n++ {
			if n > 0 {
				w.writeByte(',')
				s.i++ // the comma
			}
			s.canonical(w)
			s.skipSpace()
		}
		s.i++
		w.writeByte(']')
	case '{':
		s.canonicalObject(w)
	default: // a number, true, false or null, as written
		_ = s.skipValue(0)
		w.write(data[start:s.i])
	}
}

// canonicalObject writes the object at s.i with its keys sorted.
func (s *objectScanner) canonicalObject(w *idWriter) {
	data := s.data
	base, keyBase := len(s.nested), len(s.nestedKeys)
	s.i++ // {
	for {
		s.skipSpace()
		if data[s.i] == '}' {
			break
		}
		if data[s.i] == ',' {
			s.i++
			s.skipSpace()
		}
		key, esc, _ := s.readString()
		m := nestedMember{k0: uint32(s.i - 1 - len(key)), k1: uint32(s.i - 1)}
		if esc {
			m.keyEsc, m.k0 = true, uint32(len(s.nestedKeys))
			s.nestedKeys = append(s.nestedKeys, unquote(key)...)
			m.k1 = uint32(len(s.nestedKeys))
		}
		s.skipSpace()
		s.i++ // :
		s.skipSpace()
		m.v = uint32(s.i)
		_ = s.skipValue(0)
		if len(s.nested) == cap(s.nested) {
			s.nested = slices.Grow(s.nested, max(len(s.nested), 16))
		}
		s.nested = append(s.nested, m)
	}
	end := s.i + 1
	members := s.nested[base:]
	slices.SortStableFunc(members, func(a, b nestedMember) int {
		return bytes.Compare(s.nestedKey(&a), s.nestedKey(&b))
	})
	w.writeByte('{')
	first := true
	for j := range members {
		m := &members[j]
		if j+1 < len(members) && bytes.Equal(s.nestedKey(m), s.nestedKey(&members[j+1])) {
			continue // a later member has the same key, and wins
		}
		if !first {
			w.writeByte(',')
		}
		first = false
		writeJSONString(w, s.nestedKey(m))
		w.writeByte(':')
		s.i = int(m.v)
		s.canonical(w) // appends after members and truncates back: members stay put
	}
	w.writeByte('}')
	s.nested, s.nestedKeys = s.nested[:base], s.nestedKeys[:keyBase]
	s.i = end
}

// writeJSONString writes src as encoding/json writes a string with HTML
// escaping on (json.Marshal's default): ", \ and control characters
// escaped, <, > and & as \u003c, \u003e and \u0026, U+2028 and U+2029
// escaped, invalid UTF-8 as \ufffd.
func writeJSONString(w *idWriter, src []byte) {
	const hex = "0123456789abcdef"
	w.writeByte('"')
	start := 0
	for i := 0; i < len(src); {
		if b := src[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			w.write(src[start:i])
			w.writeByte('\\')
			switch b {
			case '\\', '"':
				w.writeByte(b)
			case '\b':
				w.writeByte('b')
			case '\f':
				w.writeByte('f')
			case '\n':
				w.writeByte('n')
			case '\r':
				w.writeByte('r')
			case '\t':
				w.writeByte('t')
			default:
				w.writeString("u00")
				w.writeByte(hex[b>>4])
				w.writeByte(hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRune(src[i:])
		if c == utf8.RuneError && size == 1 {
			w.write(src[start:i])
			w.writeString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			w.write(src[start:i])
			w.writeString(`\u202`)
			w.writeByte(hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	w.write(src[start:])
	w.writeByte('"')
}
