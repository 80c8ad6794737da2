package talkdesk

import (
	"bytes"
	"hash/maphash"
	"slices"
)

// orderedIndex keeps entry numbers sorted by a comparison of the entries,
// in chunks of at most maxChunk, so that an insert anywhere costs a binary
// search and a move of at most maxChunk numbers, not of the whole index:
// events that do not arrive in time order (64 writers, each with its own
// rising times) no longer make an append or an open quadratic.
type orderedIndex struct {
	chunks [][]uint32 // each sorted and non-empty; together sorted
	n      int
}

// maxChunk bounds a chunk of an orderedIndex; a full chunk splits in two.
const maxChunk = 512

// insert adds entry i, placing it after every entry that is not after it
// (less(a, b) reports whether entry a sorts before entry b).
func (x *orderedIndex) insert(i uint32, less func(a, b uint32) bool) {
	x.n++
	if len(x.chunks) == 0 {
		x.chunks = [][]uint32{{i}}
		return
	}
	// The first chunk whose last entry sorts after i; else the last chunk.
	c := searchCount(len(x.chunks), func(k int) bool { ch := x.chunks[k]; return less(i, ch[len(ch)-1]) })
	if c == len(x.chunks) {
		c--
	}
	ch := x.chunks[c]
	pos := searchCount(len(ch), func(k int) bool { return less(i, ch[k]) })
	ch = append(ch, 0)
	copy(ch[pos+1:], ch[pos:])
	ch[pos] = i
	if len(ch) <= maxChunk {
		x.chunks[c] = ch
		return
	}
	half := len(ch) / 2
	left := append(make([]uint32, 0, maxChunk), ch[:half]...)
	right := append(make([]uint32, 0, maxChunk), ch[half:]...)
	x.chunks[c] = left
	x.chunks = append(x.chunks, nil)
	copy(x.chunks[c+2:], x.chunks[c+1:])
	x.chunks[c+1] = right
}

// trim gives each chunk with more than an eighth of spare room an array
// of its size (an insert into it later grows it again).
func (x *orderedIndex) trim() {
	for c, ch := range x.chunks {
		if cap(ch) > len(ch)+len(ch)/8 {
			x.chunks[c] = slices.Clip(append([]uint32(nil), ch...))
		}
	}
	if cap(x.chunks) > len(x.chunks)+len(x.chunks)/8 {
		x.chunks = slices.Clip(append([][]uint32(nil), x.chunks...))
	}
}

// position is a place in an orderedIndex.
type position struct{ c, k int }

// seek returns the position of the first entry for which after reports
// true; after must be false for a prefix of the index and true for the rest.
func (x *orderedIndex) seek(after func(i uint32) bool) position {
	c := searchCount(len(x.chunks), func(k int) bool { ch := x.chunks[k]; return after(ch[len(ch)-1]) })
	if c == len(x.chunks) {
		return position{c, 0}
	}
	ch := x.chunks[c]
	return position{c, searchCount(len(ch), func(k int) bool { return after(ch[k]) })}
}

// at returns the entry at p and the position after it; ok is false at the
// end.
func (x *orderedIndex) at(p position) (i uint32, next position, ok bool) {
	if p.c >= len(x.chunks) {
		return 0, p, false
	}
	ch := x.chunks[p.c]
	i = ch[p.k]
	if p.k+1 < len(ch) {
		return i, position{p.c, p.k + 1}, true
	}
	return i, position{p.c + 1, 0}, true
}

// searchCount is sort.Search: the smallest k in [0, n) for which f is true,
// or n.
func searchCount(n int, f func(int) bool) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if !f(m) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// hashIndex finds the entry of a key (an event ID, an interaction ID): an
// open-addressing hash table of entry numbers plus one (0 is an empty
// slot), the keys themselves kept only in the entries. Slots are 4 bytes
// and at most half full: 8 to 16 bytes a key, where a map[string]uint32
// took about 50 and a map[string]keyEntries about 60.
type hashIndex struct {
	slots []uint32
	n     int
	seed  maphash.Seed
	key   func(*logEntry) []byte // the key of an entry
}

// get returns the number of the entry whose key is key.
func (x *hashIndex) get(key string, entries []logEntry) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for h := maphash.String(x.seed, key) & mask; ; h = (h + 1) & mask {
		s := x.slots[h]
		if s == 0 {
			return 0, false
		}
		if string(x.key(&entries[s-1])) == key {
			return s - 1, true
		}
	}
}

// put adds entry i, whose key is not in the index yet.
func (x *hashIndex) put(i uint32, entries []logEntry) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(entries)
	}
	x.place(i, entries)
	x.n++
}

func (x *hashIndex) place(i uint32, entries []logEntry) {
	mask := uint64(len(x.slots) - 1)
	for h := maphash.Bytes(x.seed, x.key(&entries[i])) & mask; ; h = (h + 1) & mask {
		if x.slots[h] == 0 {
			x.slots[h] = i + 1
			return
		}
	}
}

// grow doubles the table (1024 slots at first) and places every entry
// again.
func (x *hashIndex) grow(entries []logEntry) {
	if len(x.slots) == 0 {
		x.seed = maphash.MakeSeed()
	}
	old := x.slots
	x.slots = make([]uint32, max(1024, 2*len(old)))
	for _, s := range old {
		if s != 0 {
			x.place(s-1, entries)
		}
	}
}

func (l *EventLog) newLogEntry(f *indexFields, off int64, n int) logEntry {
	return logEntry{
		off: off, n: uint32(n), typ: triggerIndex(f.Type), at: f.OccurredAt.UnixNano(),
		contact: l.keyNum(f.ContactID), agent: l.keyNum(f.AgentID),
	}
}

// keyNum returns the number of a contact or agent ID, numbering it if it
// is new: a contact or an agent has many events, and its ID is kept once.
// mu is held (or the log is being opened).
func (l *EventLog) keyNum(id string) uint32 {
	if id == "" {
		return 0
	}
	if n, ok := l.keyNums[id]; ok {
		return n
	}
	n := uint32(len(l.keyNames))
	l.keyNames = append(l.keyNames, id)
	l.keyNums[id] = n
	return n
}

func triggerIndex(t Trigger) uint8 {
	if i := slices.Index(eventTypes, t); i >= 0 {
		return uint8(i + 1)
	}
	return 0
}

// insert adds e, whose IDs are id and interaction, to the entries and the
// indexes. mu must be held.
func (l *EventLog) insert(e logEntry, id, interaction string) {
	e.key, e.idLen, e.interactionLen = int64(len(l.keys)), uint32(len(id)), uint32(len(interaction))
	l.keys = append(append(l.keys, id...), interaction...)
	i := uint32(len(l.entries))
	l.entries = append(l.entries, e)
	l.byID.put(i, l.entries)
	if base, n, ok := repeatOf(id); ok && n > l.repeats[base] {
		l.repeats[base] = n
	}
	l.byTime.insert(i, l.less)
	if e.typ != 0 {
		l.byType[e.typ].insert(i, l.less)
	}
	if interaction != "" {
		switch first, ok := l.byInteraction.get(interaction, l.entries); {
		case !ok:
			l.byInteraction.put(i, l.entries)
		case l.interactions[first] == nil:
			x := &orderedIndex{}
			x.insert(first, l.less)
			x.insert(i, l.less)
			l.interactions[first] = x
		default:
			l.interactions[first].insert(i, l.less)
		}
	}
	for _, ix := range []struct {
		m   map[uint32]keyEntries
		key uint32
	}{{l.byContact, e.contact}, {l.byAgent, e.agent}} {
		if ix.key == 0 {
			continue
		}
		switch k, ok := ix.m[ix.key]; {
		case !ok:
			ix.m[ix.key] = keyEntries{one: i}
		case k.many == nil:
			x := &orderedIndex{}
			x.insert(k.one, l.less)
			x.insert(i, l.less)
			ix.m[ix.key] = keyEntries{many: x}
		default:
			k.many.insert(i, l.less)
		}
	}
}

// keyEntries are the entries of one interaction, contact or agent. Most
// interactions have one or a few events: a key with one entry has no index
// of its own, which would cost several times the entry.
type keyEntries struct {
	one  uint32        // the entry, while it is the only one
	many *orderedIndex // the entries, once there are two or more
}

// index returns the key's entries as an index.
func (k keyEntries) index() *orderedIndex {
	if k.many != nil {
		return k.many
	}
	return &orderedIndex{chunks: [][]uint32{{k.one}}, n: 1}
}

// entryLess reports whether entry a sorts before entry b, by (OccurredAt,
// ID).
func (l *EventLog) entryLess(a, b uint32) bool {
	ea, eb := &l.entries[a], &l.entries[b]
	return ea.at < eb.at || ea.at == eb.at && bytes.Compare(l.id(ea), l.id(eb)) < 0
}

// before reports whether entry i sorts before the key (at, id).
func (l *EventLog) before(i uint32, at int64, id string) bool {
	e := &l.entries[i]
	return e.at < at || e.at == at && string(l.id(e)) < id
}
