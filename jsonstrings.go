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
	ok, _ := walkStringObject(data, m)
	return ok
}

// stringObjectShape reports whether data is an object of strings that
// scanStringObject reads (so json.Unmarshal and readMembers read it too)
// with at most maxMembers colons, and whether it is compact, with no space
// outside its strings (so json.Compact leaves it as it is), reading it
// once and keeping nothing. FuzzStringObjectShape checks both.
func stringObjectShape(data []byte) (ok, compact bool) {
	if bytes.Count(data, []byte{':'}) > maxMembers {
		return false, false
	}
	return walkStringObject(data, nil)
}

// walkStringObject reads data as scanStringObject says, into m unless m
// is nil (then it only reads), and reports whether data is compact.
func walkStringObject(data []byte, m map[string]string) (ok, compact bool) {
	compact = true
	space := func(i int) int {
		j := skipSpace(data, i)
		compact = compact && j == i
		return j
	}
	i := space(0)
	if i >= len(data) || data[i] != '{' {
		return false, false
	}
	if i = space(i + 1); i < len(data) && data[i] == '}' {
		return space(i+1) == len(data), compact
	}
	keep := m != nil
	var buf []byte
	for {
		var k, v string
		if k, i, buf, ok = scanString(data, i, buf, keep); !ok {
			return false, false
		}
		if i = space(i); i >= len(data) || data[i] != ':' {
			return false, false
		}
		if v, i, buf, ok = scanString(data, space(i+1), buf, keep); !ok {
			return false, false
		}
		if keep {
			m[k] = v
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

// scanString reads the JSON string at data[i], using buf for its
// unescaped bytes, and returns it (when keep; "" otherwise) and the index
// after it; ok is false where scanStringObject leaves the object to
// json.Unmarshal.
func scanString(data []byte, i int, buf []byte, keep bool) (s string, next int, _ []byte, ok bool) {
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
			// The escapes allowed are ASCII on both sides: the raw bytes
			// are valid UTF-8 when the string is.
			raw := data[start:i]
			if !utf8.Valid(raw) {
				return "", 0, buf, false
			}
			if !keep {
				return "", i + 1, buf, true
			}
			if escaped {
				raw = buf
			}
			return string(raw), i + 1, buf, true
		case c < 0x20:
			return "", 0, buf, false
		case c == '\\':
			if keep && !escaped {
				buf = append(buf, data[start:i]...)
			}
			escaped = true
			if i+1 >= len(data) {
				return "", 0, buf, false
			}
			i++
			var e byte
			switch data[i] {
			case '"', '\\', '/':
				e = data[i]
			case 'b':
				e = '\b'
			case 'f':
				e = '\f'
			case 'n':
				e = '\n'
			case 'r':
				e = '\r'
			case 't':
				e = '\t'
			default: // \u, or not an escape
				return "", 0, buf, false
			}
			if keep {
				buf = append(buf, e)
			}
		case escaped && keep:
			buf = append(buf, c)
		}
	}
	return "", 0, buf, false
}
