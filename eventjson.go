package talkdesk

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
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

// objectMember is one member of the object.
type objectMember struct {
	key  []byte // unescaped
	val  []byte
	kind memberKind
	esc  bool // val is a string with escapes or bytes that are not UTF-8
}

// str returns the value of a string member, unescaped as encoding/json
// does (invalid UTF-8 becomes U+FFFD).
func (p *objectMember) str() string {
	if !p.esc {
		return string(p.val)
	}
	return unquote(p.val)
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
	order []int     // indexes of pairs sorted by key, for id
	h     hash.Hash // sha256, for id
	buf   []byte
}

var scanPool = sync.Pool{New: func() any { return &objectScanner{h: sha256.New()} }}

var (
	errNotObject = errors.New("body is not a JSON object")
	errSyntax    = errors.New("malformed JSON")
	errTooDeep   = errors.New("JSON nested too deeply")
)

// scan reads data, which must be one JSON object and nothing else.
func (s *objectScanner) scan(data []byte) error {
	s.data, s.i, s.pairs = data, 0, s.pairs[:0]
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
		key, esc, err := s.readString()
		if err != nil {
			return err
		}
		if esc {
			key = []byte(unquote(key))
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
		p := objectMember{key: key}
		start := s.i
		switch c := data[s.i]; {
		case c == '"':
			p.kind = memberString
			p.val, p.esc, err = s.readString()
		case c == '{' || c == '[':
			p.kind = memberComposite
			err = s.skipValue(1)
			p.val = data[start:s.i]
		default:
			err = s.skipValue(1)
			p.val = data[start:s.i]
			p.kind = memberLiteral
			if string(p.val) == "null" {
				p.kind = memberNull
			}
		}
		if err != nil {
			return err
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
	clear(s.pairs)
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

// id hashes trigger t and the scanned members in a canonical form: sorted
// by key, each value with its kind, strings unescaped, composites
// compacted. Two bodies that json.Unmarshal reads as the same object
// (whatever their whitespace, key order or escaping) get the same ID.
func (s *objectScanner) id(t Trigger) string {
	s.order = s.order[:0]
	for i := range s.pairs {
		s.order = append(s.order, i)
	}
	slices.SortStableFunc(s.order, func(a, b int) int {
		return cmp.Compare(string(s.pairs[a].key), string(s.pairs[b].key))
	})
	b := append(s.buf[:0], "talkdesk-event-v1\x00"...)
	b = append(b, t...)
	for _, i := range s.order {
		p := &s.pairs[i]
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(len(p.key)), 10)
		b = append(b, ':')
		b = append(b, p.key...)
		b = append(b, byte('0'+p.kind))
		val := p.val
		switch {
		case p.kind == memberString && p.esc:
			val = []byte(p.str())
		case p.kind == memberComposite:
			val = canonicalComposite(val)
		}
		b = strconv.AppendInt(b, int64(len(val)), 10)
		b = append(b, ':')
		b = append(b, val...)
	}
	s.buf = b
	s.h.Reset()
	s.h.Write(b)
	var sum [sha256.Size]byte
	return hex.EncodeToString(s.h.Sum(sum[:0])[:16])
}

// canonicalComposite re-encodes a nested value through encoding/json, which
// sorts object keys and normalises strings; numbers keep their text.
func canonicalComposite(raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}
