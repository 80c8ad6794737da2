package talkdesk

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strconv"
	"sync"
)

// eventID returns the ID of an event of trigger t whose body has members
// (from readMembers, sorted by key): a hash of a canonical form of them, so
// that two bodies encoding/json reads as the same object (whatever their
// white space, key order or escaping, and whichever of a key sent twice
// wins) get the same ID, and two different objects different IDs.
//
// The form is that of the IDs before: "talkdesk-event-v1", NUL, the
// trigger, then per member a NUL, the key's length and ":" and the key, a
// digit for the value's kind (1 string, 2 number or boolean, 3 null, 4
// object or array), the value's length and ":" and the value: a string
// unquoted, a number or boolean as written, a composite as json.Marshal
// writes what json.Unmarshal (with UseNumber) reads from it, at any size
// (see canonical).
func eventID(t Trigger, members []member) string {
	h := hasherPool.Get().(*idHasher)
	defer hasherPool.Put(h)
	h.start(t)
	for i := range members {
		m := &members[i]
		switch {
		case m.raw[0] == '"':
			if inner, ok := plainString(m.raw); ok {
				writeMember(h, m.key, '1', inner) // as it reads: no copy
			} else {
				writeMember(h, m.key, '1', unquote(m.raw))
			}
		case m.isNull():
			writeMember(h, m.key, '3', m.raw)
		case m.composite():
			writeMember(h, m.key, '4', canonical(m.raw))
		default: // a number, true or false, as written
			writeMember(h, m.key, '2', m.raw)
		}
	}
	return h.sum()
}

// stringsEventID is eventID for a body whose members, all strings, are
// in members, as readStringMembers reads them: the same ID.
func stringsEventID(t Trigger, members map[string]string) string {
	h := hasherPool.Get().(*idHasher)
	defer hasherPool.Put(h)
	h.start(t)
	h.keys = h.keys[:0]
	for k := range members {
		h.keys = append(h.keys, k)
	}
	slices.Sort(h.keys)
	for _, k := range h.keys {
		writeMember(h, k, '1', members[k])
	}
	clear(h.keys) // keep no key alive in the pool
	return h.sum()
}

// idHasher is a SHA-256 with a buffer, pooled.
type idHasher struct {
	hash.Hash
	buf  []byte
	keys []string // stringsEventID's
}

var hasherPool = sync.Pool{New: func() any { return &idHasher{Hash: sha256.New()} }}

// start begins the canonical form of an event of trigger t.
func (h *idHasher) start(t Trigger) {
	h.Reset()
	h.buf = append(h.buf[:0], "talkdesk-event-v1\x00"...)
	h.buf = append(h.buf, t...)
}

// writeMember appends a member: a NUL, the key's length, ":" and the key,
// then the value's kind, length, ":" and the value; a long value goes to
// the hash without a copy.
func writeMember[V string | []byte](h *idHasher, key string, kind byte, val V) {
	h.buf = append(h.buf, 0)
	h.buf = strconv.AppendInt(h.buf, int64(len(key)), 10)
	h.buf = append(h.buf, ':')
	h.buf = append(h.buf, key...)
	h.buf = append(h.buf, kind)
	h.buf = strconv.AppendInt(h.buf, int64(len(val)), 10)
	h.buf = append(h.buf, ':')
	if len(val) > 4<<10 {
		h.Write(h.buf)
		h.buf = h.buf[:0]
		h.Write([]byte(val))
		return
	}
	h.buf = append(h.buf, val...)
}

// sum ends the canonical form and returns the ID: the first 16 bytes of
// its SHA-256, in hex.
func (h *idHasher) sum() string {
	h.Write(h.buf)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}
