package talkdesk

import (
	"bytes"
	"unicode/utf8"
)

// scanStringObject reads data into m as json.Unmarshal does when data is
// an object of strings whose strings are valid UTF-8 and escape nothing
// but the two-character escapes (\n, \", ...): what Talkdesk's
// deliveries are. Of anything else (a \u escape, a byte json.Unmarshal
// would replace, a value that is not a string, a syntax error) it
// reports false, having filled m partly, and json.Unmarshal decides.
// FuzzScanStringObject checks that the two agree.
func scanStringObject(data []byte, m map[string]string) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return skipSpace(data, i+1) == len(data)
	}
	var buf []byte
	for {
		var k, v string
		var ok bool
		if k, i, buf, ok = scanString(data, i, buf); !ok {
			return false
		}
		if i = skipSpace(data, i); i >= len(data) || data[i] != ':' {
			return false
		}
		if v, i, buf, ok = scanString(data, skipSpace(data, i+1), buf); !ok {
			return false
		}
		m[k] = v
		if i = skipSpace(data, i); i >= len(data) {
			return false
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return skipSpace(data, i+1) == len(data)
		default:
			return false
		}
	}
}

// stringObjectShape reports whether data is an object of strings that
// scanStringObject reads (so json.Unmarshal and readMembers read it too)
// with at most maxMembers colons, and whether it is compact, with no space
// outside its strings (so json.Compact leaves it as it is), reading it
// once and keeping nothing. FuzzStringObjectShape checks both.
func stringObjectShape(data []byte) (ok, compact bool) {
	compact = true
	space := func(i int) int {
		j := skipSpace(data, i)
		compact = compact && j == i
		return j
	}
	if bytes.Count(data, []byte{':'}) > maxMembers {
		return false, false
	}
	i := space(0)
	if i >= len(data) || data[i] != '{' {
		return false, false
	}
	if i = space(i + 1); i < len(data) && data[i] == '}' {
		return space(i+1) == len(data), compact
	}
	for {
		var ok bool
		if i, ok = scanStringSpan(data, i); !ok {
			return false, false
		}
		if i = space(i); i >= len(data) || data[i] != ':' {
			return false, false
		}
		if i, ok = scanStringSpan(data, space(i+1)); !ok {
			return false, false
		}
		if i = space(i); i >= len(data) {
			return false, false
		}
		switch data[i] {
		case ',':
			i = space(i + 1)
		case '}':
			return space(i+1) == len(data), compact
		default:
			return false, false
		}
	}
}

// scanStringSpan is scanString without the string: the index after the
// JSON string at data[i], and whether scanString would read it.
func scanStringSpan(data []byte, i int) (next int, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false
	}
	start := i + 1
	for i = start; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			// The escapes allowed are ASCII on both sides: the raw bytes
			// are valid UTF-8 when the string is.
			return i + 1, utf8.Valid(data[start:i])
		case c < 0x20:
			return 0, false
		case c == '\\':
			if i+1 >= len(data) {
				return 0, false
			}
			i++
			switch data[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			default: // \u, or not an escape
				return 0, false
			}
		}
	}
	return 0, false
}

// scanString reads the JSON string at data[i], using buf for its
// unescaped bytes, and returns it and the index after it; ok is false
// where scanStringObject leaves the object to json.Unmarshal.
func scanString(data []byte, i int, buf []byte) (s string, next int, _ []byte, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return "", 0, buf, false
	}
	i++
	start, escaped := i, false
	buf = buf[:0]
	for ; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '"':
			raw := data[start:i]
			if escaped {
				raw = buf
			}
			if !utf8.Valid(raw) {
				return "", 0, buf, false
			}
			return string(raw), i + 1, buf, true
		case c < 0x20:
			return "", 0, buf, false
		case c == '\\':
			if !escaped {
				buf, escaped = append(buf, data[start:i]...), true
			}
			if i+1 >= len(data) {
				return "", 0, buf, false
			}
			i++
			switch data[i] {
			case '"', '\\', '/':
				buf = append(buf, data[i])
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			default: // \u, or not an escape
				return "", 0, buf, false
			}
		case escaped:
			buf = append(buf, c)
		}
	}
	return "", 0, buf, false
}
