package talkdesk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/talkdeskgo/talkdesk/internal/eventcursor"
)

// EventLog is a durable, queryable log of trigger events: the conversation
// log of a Talkdesk account, one schema for every event, with UTC times,
// filterable by interaction, contact, agent, trigger and time range, and
// exportable as JSON Lines for BI tools and automations.
//
// On disk it is an append-only JSON Lines file, one Event per line (the
// JSON encoding of [Event], with RFC 3339 UTC times, the typed payload, the
// raw body compacted, and the payload warnings). Indexes by ID,
// interaction, contact, agent and time are kept in memory and rebuilt when
// the file is opened; queries read the matching lines from the file.
//
// An EventLog is safe for concurrent use. One process at a time owns a file
// (see [OpenEventLog]).
type EventLog struct {
	path        string
	f           *os.File // nil for a log in memory
	logger      *slog.Logger
	skipCorrupt bool
	window      time.Duration // see WithRepeatWindow

	mu       sync.RWMutex
	cond     *sync.Cond // on mu's write lock: a batch was committed
	closed   bool
	broken   error  // a failed write or sync: the log accepts no more appends
	mem      []byte // the lines of a log in memory
	size     int64  // bytes committed
	pending  *logBatch
	queued   map[string]*logBatch // IDs in a batch not yet committed
	flushing bool
	wake     chan struct{} // closed, and replaced, at each commit and at Close: followers wait on it

	entries       []logEntry // in file order, which is commit order
	keys          []byte     // the event and interaction IDs of the entries, one after the other
	byID          hashIndex
	keyNames      []string                 // contact and agent IDs by number; 0 is ""
	keyNums       map[string]uint32        // the number of each contact and agent ID
	repeats       map[string]int           // base ID -> the highest n of its repeats base.n
	byTime        orderedIndex             // entry numbers in (OccurredAt, ID) order
	byInteraction hashIndex                // the first entry of each interaction
	interactions  map[uint32]*orderedIndex // by first entry: the interactions of two entries or more
	byContact     map[uint32]keyEntries    // by key number
	byAgent       map[uint32]keyEntries
	less          func(a, b uint32) bool // l.entryLess, made once

	syncs int64 // fsyncs done, for Stats

	handledFile *os.File // the handled file, once MarkHandled wrote to it

	beforeWrite func() // tests: runs before each batch is written
}

// logEntry is what the indexes know of one stored event, in 48 bytes
// with no pointer: its IDs are in EventLog.keys, so that the garbage
// collector has nothing to scan in a million entries.
type logEntry struct {
	off                   int64
	at                    int64  // OccurredAt, Unix nanoseconds
	key                   int64  // where in EventLog.keys the event ID starts, the interaction ID after it
	n                     uint32 // line length without the newline
	idLen, interactionLen uint32
	contact, agent        uint32 // numbers of l.keyNames; 0 for none
	typ                   uint8  // index in Triggers() + 1; 0 for an unknown type
	handled               bool   // the webhook handlers succeeded (see MarkHandled)
}

// id returns the event ID of e, which mu's holder may read.
func (l *EventLog) id(e *logEntry) []byte { return l.keys[e.key : e.key+int64(e.idLen)] }

// interaction returns the interaction ID of e, which mu's holder may read.
func (l *EventLog) interaction(e *logEntry) []byte {
	start := e.key + int64(e.idLen)
	return l.keys[start : start+int64(e.interactionLen)]
}

// logBatch is a group of appends written with one write and one fsync.
type logBatch struct {
	buf     []byte
	entries []batchEntry
	done    bool
	err     error
}

// batchEntry is an event of a batch: its entry, with the offset relative
// to the batch, and the IDs insert puts in the keys.
type batchEntry struct {
	logEntry
	id, interaction string
}

// EventLogOption configures [OpenEventLog].
type EventLogOption interface {
	applyEventLog(*EventLog)
}

type eventLogOptionFunc func(*EventLog)

func (f eventLogOptionFunc) applyEventLog(l *EventLog) { f(l) }

// WithEventLogLogger makes the log report what it repaired or skipped when
// it opened the file: a torn last line it cut off, corrupt lines skipped
// under [WithSkipCorruptLines], duplicate IDs. Events are never logged.
func WithEventLogLogger(l *slog.Logger) EventLogOption {
	return eventLogOptionFunc(func(el *EventLog) { el.logger = l })
}

// WithSkipCorruptLines makes OpenEventLog skip lines in the middle of the
// file that are not events, reporting each through the logger (see
// [WithEventLogLogger]), instead of failing with a [*CorruptLineError].
// The lines stay in the file.
func WithSkipCorruptLines() EventLogOption {
	return eventLogOptionFunc(func(el *EventLog) { el.skipCorrupt = true })
}

// DefaultRepeatWindow is the repeat window of an EventLog without
// [WithRepeatWindow]: 10 minutes. Webhook senders deliver again within
// seconds to minutes when they did not get a 200 (a timeout, a restart of
// the receiver), while an agent who logs in twice, or a contact updated to
// the same values, does so minutes or hours apart.
const DefaultRepeatWindow = 10 * time.Minute

// WithRepeatWindow sets the repeat window W: an event without a time of
// its own (see [Event.HasOwnTime]) whose body is identical to one stored
// is a redelivery of it when received within W of it, and a new event, a
// genuine repeat, when received later. A repeat is stored under the ID of
// the first with ".2", ".3"... appended, and Append sets ev.ID to it (and,
// for a redelivery of a repeat, to the repeat's).
// Events with a time of their own are always redeliveries when identical.
// d <= 0 makes every identical event a redelivery, as before.
func WithRepeatWindow(d time.Duration) EventLogOption {
	return eventLogOptionFunc(func(el *EventLog) { el.window = d })
}

// Errors of an EventLog.
var (
	// ErrEventLogLocked is returned by OpenEventLog when another EventLog
	// (in this process or another) has the file open.
	ErrEventLogLocked = errors.New("talkdesk: event log is open in another EventLog or process")
	// ErrEventLogClosed is returned by calls on a closed EventLog.
	ErrEventLogClosed = errors.New("talkdesk: event log is closed")
)

// CorruptLineError reports a line of an event log file that is not an
// event, found in the middle of the file (a torn last line is cut off
// instead; see [OpenEventLog]).
type CorruptLineError struct {
	Path   string
	Line   int   // 1-based
	Offset int64 // byte offset of the line
	Err    error
}

func (e *CorruptLineError) Error() string {
	return fmt.Sprintf("talkdesk: event log %s: line %d (byte %d) is not an event: %v", e.Path, e.Line, e.Offset, e.Err)
}

func (e *CorruptLineError) Unwrap() error { return e.Err }

// OpenEventLog opens the event log in the file at path, creating it if
// needed, and builds its indexes. path "" gives a log kept only in memory,
// for tests.
//
// The file is locked for this EventLog (an OS lock on Unix systems; see the
// README for others): a second OpenEventLog of the same file, here or in
// another process, fails with [ErrEventLogLocked] until Close.
//
// A process killed while appending leaves at most a torn last line: it is
// cut off and reported through the logger, and every event whose Append
// had returned is still there. A line in the middle of the file that is not
// an event fails the open with a [*CorruptLineError] naming the line,
// unless [WithSkipCorruptLines] is given.
func OpenEventLog(path string, opts ...EventLogOption) (*EventLog, error) {
	l := &EventLog{
		path:         path,
		window:       DefaultRepeatWindow,
		wake:         make(chan struct{}),
		queued:       make(map[string]*logBatch),
		keyNames:     []string{""},
		keyNums:      make(map[string]uint32),
		repeats:      make(map[string]int),
		interactions: make(map[uint32]*orderedIndex),
		byContact:    make(map[uint32]keyEntries),
		byAgent:      make(map[uint32]keyEntries),
	}
	l.less = l.entryLess
	l.byID.key, l.byInteraction.key = l.id, l.interaction
	l.cond = sync.NewCond(&l.mu)
	for _, opt := range opts {
		if opt != nil {
			opt.applyEventLog(l)
		}
	}
	if path == "" {
		return l, nil
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: opening event log: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, err
	}
	l.f = f
	if os.IsNotExist(statErr) {
		if err := syncDir(filepath.Dir(path)); err != nil {
			l.closeFile()
			return nil, fmt.Errorf("talkdesk: event log %s: %w", path, err)
		}
	}
	if err := l.load(); err != nil {
		l.closeFile()
		return nil, err
	}
	l.trim()
	if err := l.loadHandled(); err != nil {
		l.closeFile()
		return nil, err
	}
	return l, nil
}

// load reads the file, indexes its events and cuts off a torn last line.
// Reading the index fields of a line is most of the work: a reader
// goroutine hands the lines in batches to one parser per CPU, and load
// indexes the parsed batches in file order.
func (l *EventLog) load() error {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait() // no goroutine outlives the open
	}()
	ordered := make(chan *lineBatch, 16) // to load, in file order
	work := make(chan *lineBatch, 16)    // to the parsers
	var end loadEnd                      // the reader's last word, read after ordered is closed
	wg.Go(func() { end = l.readLines(ordered, work, stop) })
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for b := range work {
				for i := range b.jobs {
					j := &b.jobs[i]
					j.f, j.err = readIndexFields(j.data)
				}
				close(b.parsed)
			}
		})
	}
	var size int64
	if st, err := l.f.Stat(); err == nil {
		size = st.Size()
	}
	reserved := false
	for b := range ordered {
		<-b.parsed
		if !reserved && len(b.jobs) > 0 {
			// Room for as many entries and keys as the first batch
			// says the file holds, rather than growing them, copy after
			// copy, through a million events.
			reserved = true
			last := b.jobs[len(b.jobs)-1]
			l.reserve(b.jobs, size/(last.off+int64(len(last.data))+1))
		}
		for i := range b.jobs {
			j := &b.jobs[i]
			if j.err == nil && j.f.ID == "" {
				j.err = errors.New("no event id")
			}
			if j.err == nil {
				l.indexParsed(&j.f, j.off, len(j.data))
				continue
			}
			if j.last {
				// The last line, and not an event: what a power loss
				// leaves (a block of NUL bytes, say). Cut it like a torn
				// tail.
				return l.cutTornTail(j.off, append(j.data, '\n'), j.line)
			}
			cerr := &CorruptLineError{Path: l.path, Line: j.line, Offset: j.off, Err: j.err}
			if !l.skipCorrupt {
				return cerr
			}
			l.warn("talkdesk event log: skipped a corrupt line", slog.Int("line", j.line), slog.Int64("offset", j.off), slog.String("error", j.err.Error()))
		}
	}
	wg.Wait() // the reader has said its last word
	switch {
	case end.err != nil:
		return fmt.Errorf("talkdesk: reading event log %s: %w", l.path, end.err)
	case len(end.torn) > 0:
		return l.cutTornTail(end.off, end.torn, end.line)
	}
	l.size = end.off
	return nil
}

// reserve gives the entries and the keys room for times the events and
// IDs of jobs, the first lines of the file, and 2% more.
func (l *EventLog) reserve(jobs []lineJob, times int64) {
	if times <= 1 {
		return
	}
	keys := 0
	for i := range jobs {
		keys += len(jobs[i].f.ID) + len(jobs[i].f.InteractionID)
	}
	n := int(times) * len(jobs) * 102 / 100
	l.entries = slices.Grow(l.entries, n)
	l.keys = slices.Grow(l.keys, int(times)*keys*102/100)
}

// lineJob is one line of the file being opened.
type lineJob struct {
	line int
	off  int64
	data []byte // the line, without its newline
	last bool   // nothing follows it in the file
	f    indexFields
	err  error
}

// lineBatch is a group of lines parsed together; parsed is closed when
// their fields are read.
type lineBatch struct {
	jobs   []lineJob
	parsed chan struct{}
}

// loadEnd is how the file ended: where, with a torn last line, or an error.
type loadEnd struct {
	off  int64
	line int
	torn []byte
	err  error
}

// linesPerBatch is how many lines a parser reads at a time.
const linesPerBatch = 256

// readLines reads the file's lines into batches and sends each to a parser
// and to load, until the end of the file or stop.
func (l *EventLog) readLines(ordered, work chan<- *lineBatch, stop <-chan struct{}) (end loadEnd) {
	defer close(ordered)
	defer close(work)
	r := bufio.NewReaderSize(io.NewSectionReader(l.f, 0, 1<<62), 1<<20)
	b := &lineBatch{parsed: make(chan struct{})}
	send := func() bool {
		for _, ch := range []chan<- *lineBatch{work, ordered} {
			select {
			case ch <- b:
			case <-stop:
				return false
			}
		}
		b = &lineBatch{parsed: make(chan struct{})}
		return true
	}
	var off int64
	for line := 1; ; line++ {
		data, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long := append([]byte(nil), data...)
			for err == bufio.ErrBufferFull {
				data, err = r.ReadSlice('\n')
				long = append(long, data...)
			}
			data = long
		}
		if err == io.EOF {
			if n := len(b.jobs); n > 0 && len(data) == 0 && b.jobs[n-1].line == line-1 {
				b.jobs[n-1].last = true
			}
			if len(b.jobs) == 0 || send() {
				return loadEnd{off: off, line: line, torn: bytes.Clone(data)}
			}
			return loadEnd{off: off}
		}
		if err != nil {
			if len(b.jobs) > 0 {
				send()
			}
			return loadEnd{off: off, err: err}
		}
		if content := data[:len(data)-1]; len(bytes.TrimSpace(content)) > 0 {
			// A full batch goes once the next line comes, so that the
			// last line's batch is still here when the end is known.
			if len(b.jobs) == linesPerBatch && !send() {
				return loadEnd{off: off}
			}
			b.jobs = append(b.jobs, lineJob{line: line, off: off, data: bytes.Clone(content)})
		}
		off += int64(len(data))
	}
}

// handledPath is the file of the IDs whose handlers succeeded, one a line,
// beside the log.
func (l *EventLog) handledPath() string { return l.path + ".handled" }

// loadHandled marks the entries named in the handled file. A line cut
// short by a crash names no entry, and is skipped.
func (l *EventLog) loadHandled() error {
	data, err := os.ReadFile(l.handledPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("talkdesk: event log %s: %w", l.path, err)
	}
	for id := range strings.Lines(string(data)) {
		if i, ok := l.byID.get(strings.TrimSuffix(id, "\n"), l.entries); ok {
			l.entries[i].handled = true
		}
	}
	return nil
}

// MarkHandled records that the webhook handlers of the stored event id
// succeeded: the entry is marked, and id is appended to the file
// path + ".handled" beside the log (not synced: a mark lost in a crash
// only lets the handlers run once more). An id not stored fails with
// [ErrNotFound].
func (l *EventLog) MarkHandled(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrEventLogClosed
	}
	i, ok := l.byID.get(id, l.entries)
	if !ok {
		return fmt.Errorf("talkdesk: event log: event %q: %w", id, ErrNotFound)
	}
	if l.entries[i].handled {
		return nil
	}
	if l.f != nil {
		if l.handledFile == nil {
			f, err := os.OpenFile(l.handledPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return fmt.Errorf("talkdesk: event log %s: %w", l.path, err)
			}
			l.handledFile = f
		}
		if _, err := l.handledFile.WriteString(id + "\n"); err != nil {
			return fmt.Errorf("talkdesk: event log %s: %w", l.path, err)
		}
	}
	l.entries[i].handled = true
	return nil
}

// Handled reports whether MarkHandled was called for id, in this process
// or before the log was last opened.
func (l *EventLog) Handled(ctx context.Context, id string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return false, ErrEventLogClosed
	}
	i, ok := l.byID.get(id, l.entries)
	return ok && l.entries[i].handled, nil
}

// trim gives the entries and the chunks of the indexes, grown by appends
// while the file was read, arrays of about their size: up to half of each
// was spare room. The entries keep 1/64 of room for the appends to come.
func (l *EventLog) trim() {
	if cap(l.entries) > len(l.entries)+len(l.entries)/32 {
		l.entries = append(make([]logEntry, 0, len(l.entries)+len(l.entries)/64), l.entries...)
	}
	if cap(l.keys) > len(l.keys)+len(l.keys)/32 {
		l.keys = append(make([]byte, 0, len(l.keys)+len(l.keys)/64), l.keys...)
	}
	l.byTime.trim()
	for _, m := range []map[uint32]keyEntries{l.byContact, l.byAgent} {
		for _, k := range m {
			if k.many != nil {
				k.many.trim()
			}
		}
	}
	for _, x := range l.interactions {
		x.trim()
	}
}

// cutTornTail truncates the file before the incomplete or unreadable last
// line at off, whose bytes are tail, after appending them to the file
// path + ".broken" beside the log (as etcd's wal keeps what it cuts), so
// that nothing is discarded unseen.
func (l *EventLog) cutTornTail(off int64, tail []byte, line int) error {
	broken := l.path + ".broken"
	if err := appendSynced(broken, tail); err != nil {
		return fmt.Errorf("talkdesk: event log %s: keeping the torn last line in %s: %w", l.path, broken, err)
	}
	if err := l.f.Truncate(off); err != nil {
		return fmt.Errorf("talkdesk: event log %s: cutting the torn last line: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("talkdesk: event log %s: %w", l.path, err)
	}
	l.size = off
	l.warn("talkdesk event log: cut off a torn last line (an append interrupted by a crash), kept in "+broken,
		slog.String("path", l.path), slog.Int("line", line), slog.Int64("offset", off), slog.Int("bytes", len(tail)))
	return nil
}

// appendSynced appends data to the file at path, creating it, and syncs it.
func appendSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (l *EventLog) warn(msg string, attrs ...slog.Attr) {
	if l.logger != nil {
		l.logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
	}
}

// indexFields is the part of a stored line the indexes need.
type indexFields struct {
	ID            string    `json:"id"`
	Type          Trigger   `json:"type"`
	OccurredAt    time.Time `json:"occurred_at"`
	InteractionID string    `json:"interaction_id"`
	ContactID     string    `json:"contact_id"`
	AgentID       string    `json:"agent_id"`
}

// indexParsed indexes the stored line of n bytes at off, whose fields are
// f, unless its ID is indexed already.
func (l *EventLog) indexParsed(f *indexFields, off int64, n int) {
	if _, dup := l.byID.get(f.ID, l.entries); dup {
		l.warn("talkdesk event log: skipped a second line with the same event id", slog.String("id", f.ID), slog.Int64("offset", off))
		return
	}
	l.insert(l.newLogEntry(f, off, n), f.ID, f.InteractionID)
}

// readIndexFields reads the fields the indexes need from a stored line,
// with a json.Decoder, member by member. A line is written with them first
// (the order of Event's fields), so the reading stops at "actor" once it
// has the ID, type and time, without scanning the payload and the raw body,
// the bulk of the line: opening a log of a million events reads a tenth of
// each line. A line written another way is read to its end.
func readIndexFields(line []byte) (indexFields, error) {
	var f indexFields
	if t := bytes.TrimRight(line, " \t\r"); len(t) == 0 || t[len(t)-1] != '}' {
		return f, errors.New("the line does not end an object") // cut short
	}
	// A line as encodeLogLine writes it: the members before "actor" are
	// a small object of their own. (`,"actor":` cannot occur earlier: a
	// quote inside a string is escaped.) One json.Unmarshal of it costs
	// less than the walk below, whose Decoder formats an error at every
	// member it reads.
	if bytes.HasPrefix(line, []byte(`{"id":`)) {
		if i := bytes.Index(line, []byte(`,"actor":`)); i > 0 {
			head := append(make([]byte, 0, i+1), line[:i]...)
			if json.Unmarshal(append(head, '}'), &f) == nil && f.ID != "" && f.Type != "" && !f.OccurredAt.IsZero() {
				return f, nil
			}
			f = indexFields{}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return f, errNotObject
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return f, err
		}
		var dst any = &skip
		switch tok {
		case "id":
			dst = &f.ID
		case "type":
			dst = &f.Type
		case "occurred_at":
			dst = &f.OccurredAt
		case "interaction_id":
			dst = &f.InteractionID
		case "contact_id":
			dst = &f.ContactID
		case "agent_id":
			dst = &f.AgentID
		case "actor":
			if f.ID != "" && f.Type != "" && !f.OccurredAt.IsZero() {
				return f, nil // the rest is the payload and the body
			}
		}
		if err := dec.Decode(dst); err != nil {
			return f, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return f, err
	}
	return f, nil
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
	if i := slices.Index(Triggers(), t); i >= 0 {
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

// Append stores ev and returns once it is on disk (written and synced),
// reporting added == false when an event with the same ID is already
// stored (a redelivery), in which case nothing is written. Concurrent
// appends are committed together: one write and one fsync for all the
// events waiting at that moment.
//
// ev must have an ID and a Type that is one of [Triggers], or Append fails
// with [ErrInvalid]; times are stored in UTC. ctx is checked before the
// event is queued; once queued, Append waits for its batch. After a failed
// write or sync, every further Append fails: reopen the log.
func (l *EventLog) Append(ctx context.Context, ev *Event) (added bool, err error) {
	if ev == nil || ev.ID == "" {
		return false, invalid("event", "must have an ID")
	}
	line, err := checkEvent(ctx, ev)
	if err != nil {
		return false, err
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return false, ErrEventLogClosed
	case l.broken != nil:
		return false, l.broken
	}
	if _, ok := l.byID.get(ev.ID, l.entries); ok {
		id, repeat, err := l.repeatID(ev)
		if err != nil {
			return false, err
		}
		if id != ev.ID {
			ev.ID = id // the repeat it is a redelivery of, or its own as a repeat
		}
		if !repeat {
			return false, nil
		}
		if line, err = encodeLogLine(ev); err != nil {
			return false, err
		}
	}
	if b, ok := l.queued[ev.ID]; ok { // the same event, in a batch on its way
		for !b.done {
			l.cond.Wait()
		}
		return false, b.err
	}
	b := l.pending
	if b == nil {
		b = &logBatch{}
		l.pending = b
	}
	b.entries = append(b.entries, batchEntry{
		logEntry: logEntry{
			off: int64(len(b.buf)), n: uint32(len(line)), typ: triggerIndex(ev.Type), at: ev.OccurredAt.UnixNano(),
			contact: l.keyNum(ev.ContactID), agent: l.keyNum(ev.AgentID),
		},
		id: ev.ID, interaction: ev.InteractionID,
	})
	b.buf = append(b.buf, line...)
	b.buf = append(b.buf, '\n')
	l.queued[ev.ID] = b
	for !b.done {
		if !l.flushing && l.pending == b {
			l.commit(b)
			break
		}
		l.cond.Wait()
	}
	return b.err == nil, b.err
}

// repeatID tells, for ev whose ID is stored, whether it is a genuine
// repeat of the last event stored with the same body (received more than
// the repeat window after it), and returns the ID it is stored under as
// one, or else the ID of the event it is a redelivery of. mu is held.
func (l *EventLog) repeatID(ev *Event) (id string, repeat bool, err error) {
	if l.window <= 0 || ev.HasOwnTime() {
		return ev.ID, false, nil
	}
	last, n := ev.ID, 1
	if k := l.repeats[ev.ID]; k > 1 {
		last, n = ev.ID+"."+strconv.Itoa(k), k
	}
	next := ev.ID + "." + strconv.Itoa(n+1)
	if _, queued := l.queued[next]; queued {
		return next, false, nil // a repeat on its way: this is its redelivery
	}
	li, _ := l.byID.get(last, l.entries)
	line, err := l.readLineLocked(l.entries[li])
	if err != nil {
		return "", false, err
	}
	var stored struct {
		ReceivedAt time.Time `json:"received_at"`
	}
	if err := json.Unmarshal(line, &stored); err != nil {
		return "", false, fmt.Errorf("talkdesk: event log %s: event %s: %w", l.path, last, err)
	}
	if ev.ReceivedAt.Sub(stored.ReceivedAt) <= l.window {
		return last, false, nil
	}
	return next, true, nil
}

// repeatOf splits the ID of a genuine repeat, base + "." + n with n >= 2.
func repeatOf(id string) (base string, n int, ok bool) {
	dot := strings.LastIndexByte(id, '.')
	if dot <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[dot+1:])
	if err != nil || n < 2 {
		return "", 0, false
	}
	return id[:dot], n, true
}

// commit writes and syncs batch b, then indexes its events. mu is held on
// entry and exit, and released while writing.
func (l *EventLog) commit(b *logBatch) {
	l.flushing, l.pending = true, nil
	off := l.size
	l.mu.Unlock()
	err := l.write(b.buf, off)
	l.mu.Lock()
	if err != nil {
		l.broken = fmt.Errorf("talkdesk: event log %s: %w (reopen the log)", l.path, err)
		b.err = l.broken
	} else {
		l.size += int64(len(b.buf))
		for _, e := range b.entries {
			e.off += off
			l.insert(e.logEntry, e.id, e.interaction)
		}
	}
	for _, e := range b.entries {
		delete(l.queued, e.id)
	}
	b.done, b.buf = true, nil
	l.flushing = false
	l.cond.Broadcast()
	if err == nil {
		close(l.wake) // wakes the followers
		l.wake = make(chan struct{})
	}
}

// write puts buf at off and syncs; on a failed write it cuts the file back
// to off. It runs without mu: only the committing goroutine writes.
func (l *EventLog) write(buf []byte, off int64) error {
	if l.beforeWrite != nil {
		l.beforeWrite()
	}
	if l.f == nil {
		l.mu.Lock()
		l.mem = append(l.mem, buf...)
		l.mu.Unlock()
		return nil
	}
	if _, err := l.f.WriteAt(buf, off); err != nil {
		_ = l.f.Truncate(off)
		return err
	}
	if err := syncFile(l.f); err != nil {
		return err
	}
	l.mu.Lock()
	l.syncs++
	l.mu.Unlock()
	return nil
}

// syncFile is syncData; tests replace it to watch the syncs.
var syncFile = syncData

// logLine is the stored form of an Event: its JSON encoding plus the
// payload warnings, which Event.UnmarshalJSON reads back.
type logLine struct {
	*plainEvent
	Warnings []PayloadWarning `json:"warnings,omitempty"`
}

type plainEvent Event

// encodeLogLine returns the stored line of ev, without the newline. <, >
// and & are not escaped, so Raw stays as Talkdesk sent it but compacted.
func encodeLogLine(ev *Event) ([]byte, error) {
	utc := *ev
	utc.OccurredAt, utc.ReceivedAt = ev.OccurredAt.UTC(), ev.ReceivedAt.UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(logLine{plainEvent: (*plainEvent)(&utc), Warnings: ev.Warnings}); err != nil {
		return nil, fmt.Errorf("talkdesk: encoding event %s: %w", ev.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// checkEvent checks ev before it is stored and returns its stored line: an
// ID, a type that is a trigger, times an Event can hold (1677 to 2262),
// and a line that reads back as an event, so that no stored event can make
// a page unreadable.
func checkEvent(ctx context.Context, ev *Event) ([]byte, error) {
	switch {
	case ev == nil || ev.ID == "":
		return nil, invalid("event", "must have an ID")
	case triggerIndex(ev.Type) == 0:
		return nil, invalid("event.Type", fmt.Sprintf("%q is not a trigger", ev.Type))
	case ev.OccurredAt.Before(minInstant) || ev.OccurredAt.After(maxInstant):
		return nil, invalid("event.OccurredAt", "outside the times an event can hold (1677-09-21 to 2262-04-11)")
	case ev.ReceivedAt.Before(minInstant) || ev.ReceivedAt.After(maxInstant):
		return nil, invalid("event.ReceivedAt", "outside the times an event can hold (1677-09-21 to 2262-04-11)")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	line, err := encodeLogLine(ev)
	if err != nil {
		return nil, invalid("event", err.Error())
	}
	// Reading back parses Raw, or without it the payload's JSON: check
	// that this succeeds, at the cost of the part that can fail.
	if ev.Raw != nil {
		_, err = readMembers(ev.Raw, nullKeeps)
	} else {
		err = json.Unmarshal(line, new(Event))
	}
	if err != nil {
		return nil, invalid("event", "does not read back: "+err.Error())
	}
	return line, nil
}

// Validate reports whether a conversation log can hold e and read it back:
// an ID, a Type that is one of [Triggers], OccurredAt and ReceivedAt within
// the times an Event can hold (1677-09-21 to 2262-04-11), and a Raw body
// (or, without one, a payload) that reads back as an event. Otherwise it
// fails with a [*ValidationError], which matches [ErrInvalid]. Every
// [EventStore]'s Append checks this before it stores anything, so that no
// stored event can make a page unreadable; a store of your own should too
// (the package eventstoretest checks that it does).
func (e *Event) Validate() error {
	_, err := checkEvent(context.Background(), e)
	return err
}

// EventLogStats counts what an EventLog holds and has done.
type EventLogStats struct {
	Events int   // events stored
	Bytes  int64 // size of the stored lines
	Syncs  int64 // fsyncs since the log was opened
}

// Stats returns the log's counts.
func (l *EventLog) Stats() EventLogStats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return EventLogStats{Events: len(l.entries), Bytes: l.size, Syncs: l.syncs}
}

// EventQuery selects events of an [EventLog]. Empty fields do not filter.
type EventQuery struct {
	InteractionID, ContactID, AgentID string
	Types                             []Trigger
	Since, Until                      time.Time // Since inclusive, Until exclusive, on OccurredAt
	Cursor                            string    // NextCursor of the previous page
	Limit                             int       // 0 = 100; at most 1000
}

// EventPage is one page of a query's events, in (OccurredAt, ID) order.
type EventPage struct {
	Events     []*Event
	NextCursor string // "" on the last page
}

// Page sizes of Query.
const (
	DefaultEventPageSize = 100
	MaxEventPageSize     = 1000
)

// Query returns the events that match q, in (OccurredAt, ID) order, at most
// q.Limit of them (100 by default; more than 1000 is 1000). Pass the page's
// NextCursor as q.Cursor, with the same filters, for the next page. A
// cursor stays valid while events are appended: a page boundary never
// skips or repeats an event that was stored when the query began; events
// appended later show up on a later page if they sort after the cursor.
//
// A query with InteractionID, ContactID or AgentID reads only that index
// (the smallest one given), so its cost is in proportion to the events of
// that interaction, contact or agent, not to the size of the log. A bad
// cursor, limit, trigger or time range fails with [ErrInvalid].
func (l *EventLog) Query(ctx context.Context, q EventQuery) (*EventPage, error) {
	entries, next, err := l.find(ctx, q)
	if err != nil {
		return nil, err
	}
	evs, err := l.readEvents(entries)
	if err != nil {
		return nil, err
	}
	return &EventPage{Events: evs, NextCursor: next}, nil
}

// readEvents reads and decodes the events of entries, in order. A page of
// many is decoded by as many goroutines as there are CPUs (decoding is
// most of a query's cost), all ended before it returns.
func (l *EventLog) readEvents(entries []logEntry) ([]*Event, error) {
	evs := make([]*Event, len(entries))
	workers := min(runtime.GOMAXPROCS(0), len(entries)/64)
	if workers <= 1 {
		for i, e := range entries {
			ev, err := l.readEvent(e)
			if err != nil {
				return nil, err
			}
			evs[i] = ev
		}
		return evs, nil
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				ev, err := l.readEvent(entries[i])
				if err != nil {
					errs[w] = err
					return
				}
				evs[i] = ev
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return evs, nil
}

// lineBufs keeps the buffers readEvent reads a file's lines into: an
// event decoded keeps no part of its line, so the buffer is used again,
// warm in the cache, where a new one would be garbage to collect.
var lineBufs = sync.Pool{New: func() any { return new([]byte) }}

// readEvent reads and decodes the stored event of e.
func (l *EventLog) readEvent(e logEntry) (*Event, error) {
	var line []byte
	var err error
	if l.f == nil {
		line, err = l.readLine(e)
	} else {
		buf := lineBufs.Get().(*[]byte)
		line, err = l.readLineInto(e, *buf)
		defer func() {
			if cap(line) <= 64<<10 { // a rare long line is not kept
				*buf = line[:0]
				lineBufs.Put(buf)
			}
		}()
	}
	if err != nil {
		return nil, err
	}
	ev, err := decodeStored(line)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: event log %s: the event at byte %d: %w", l.path, e.off, err)
	}
	return ev, nil
}

// decodeStored reads an event back from its stored line, as
// Event.UnmarshalJSON does (which checks the line once, where
// json.Unmarshal would check it twice). UnmarshalJSON reads the payload of
// a trigger's event from Raw: so a line as encodeLogLine writes it, with a
// raw body, is read in two parts, the members before "payload" and those
// from "raw" on, and its stored payload, a third of the line, is not
// scanned at all. Any other line is read by UnmarshalJSON; so is one that
// does not split so (a payload built by hand with a "raw" key of its own
// leaves the second part with members after its end, which fails).
func decodeStored(line []byte) (*Event, error) {
	ev := new(Event)
	if ok, err := ev.decodeStoredParts(line); ok {
		return ev, err
	}
	*ev = Event{}
	return ev, ev.UnmarshalJSON(line)
}

// decodeStoredParts is the two-part read of decodeStored; ok is false when
// the line does not split so.
func (e *Event) decodeStoredParts(line []byte) (ok bool, err error) {
	if !bytes.HasPrefix(line, []byte(`{"id":`)) {
		return false, nil
	}
	p := bytes.Index(line, []byte(`,"payload":`))
	if p < 0 {
		return false, nil
	}
	// The payload, an object, ends where "raw" starts: a `}` is rare in
	// it, where a comma ends every member.
	r := bytes.Index(line[p:], []byte(`},"raw":`))
	if r < 0 {
		return false, nil
	}
	head := line[:p]
	lifted := e.readHeadKeys(head)
	if !lifted && !e.readHead(head) {
		return false, nil
	}
	info, known := triggerInfos[e.Type]
	if !known {
		return false, nil // its payload is kept as stored
	}
	// The rest is the raw body, then the warnings, if any, which
	// UnmarshalJSON would read from Raw again. Raw ends where the last
	// `,"warnings":[` starts, or else before the closing brace: one inside
	// the raw body would leave an object cut short, which the parser of
	// the payload refuses, and the other end is tried. The parser checks
	// Raw; the stored payload and warnings are not read at all.
	start := p + r + len(`},"raw":`)
	ends := []int{len(line) - 1}
	if bytes.HasSuffix(line, []byte("]}")) { // else there are no warnings
		if w := bytes.LastIndex(line[start:], []byte(`,"warnings":[`)); w > 0 {
			ends = []int{start + w, len(line) - 1}
		}
	}
	for _, end := range ends {
		raw := bytes.TrimSpace(line[start:end])
		if len(raw) == 0 || raw[0] != '{' {
			return false, nil // null, or not a body
		}
		e.Raw = json.RawMessage(bytes.Clone(raw))
		if err := e.decodePayload(info, e.Raw); err != nil {
			e.Raw, e.Payload, e.Warnings = nil, nil, nil
			continue
		}
		if lifted && !e.liftHead(info, head) {
			// Not the head ParseEvent gives (an event built by hand, or
			// a string encoding/json escapes): read it as stored.
			payload, raw, warnings := e.Payload, e.Raw, e.Warnings
			*e = Event{}
			if !e.readHead(head) {
				return false, nil
			}
			e.Payload, e.Raw, e.Warnings = payload, raw, warnings
		}
		return true, nil
	}
	return false, nil
}

// readHead reads head, the members of a stored line before "payload",
// into e with encoding/json.
func (e *Event) readHead(head []byte) bool {
	type plain Event
	buf := append(make([]byte, 0, len(head)+1), head...)
	return json.Unmarshal(append(buf, '}'), (*plain)(e)) == nil
}

// readHeadKeys is the quick way to read the head of a line encodeLogLine
// wrote for an event of ParseEvent, whose members but three are lifted
// from its payload: it takes the ID, the type and ReceivedAt from the
// line when they read as written (no escapes), and reports whether it
// did; liftHead, once the payload is read, lifts the rest and checks the
// whole head. Reading the head with encoding/json costs a fifth of
// reading an event back.
func (e *Event) readHeadKeys(head []byte) bool {
	id, rest, ok := plainMember(head, `{"id":"`)
	if !ok {
		return false
	}
	typ, rest, ok := plainMember(rest, `,"type":"`)
	if !ok {
		return false
	}
	i := bytes.Index(rest, []byte(`,"received_at":"`))
	if i < 0 {
		return false
	}
	received, _, ok := plainMember(rest[i:], `,"received_at":"`)
	if !ok {
		return false
	}
	at, err := time.Parse(time.RFC3339Nano, string(received))
	if err != nil {
		return false
	}
	e.ID, e.Type, e.ReceivedAt = string(id), Trigger(typ), at
	return true
}

// plainMember returns the string after prefix at the start of b, up to
// its closing quote, and what follows that quote; ok is false when b does
// not start so or the string has an escape.
func plainMember(b []byte, prefix string) (s, rest []byte, ok bool) {
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return nil, nil, false
	}
	b = b[len(prefix):]
	end := bytes.IndexByte(b, '"')
	if end < 0 || bytes.IndexByte(b[:end], '\\') >= 0 {
		return nil, nil, false
	}
	return b[:end], b[end+1:], true
}

// liftHead lifts e's members from its payload, as ParseEvent does, and
// reports whether they encode to head, byte for byte, as encodeLogLine
// writes them: then they are what encoding/json would read from head.
func (e *Event) liftHead(info *triggerInfo, head []byte) bool {
	info.spec.lift(e, reflect.ValueOf(e.Payload).Elem())
	e.OccurredAt = e.OccurredAt.UTC()
	buf := headBufs.Get().(*[]byte)
	defer headBufs.Put(buf)
	b, ok := appendHead((*buf)[:0], e)
	*buf = b
	return ok && bytes.Equal(b, head)
}

var headBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendHead appends the members of e before "payload" as encodeLogLine
// writes them, and reports false when one of its strings is one that
// encoding/json escapes (a quote, a backslash, a control character,
// invalid UTF-8, U+2028 or U+2029), which appendHead does not write.
func appendHead(b []byte, e *Event) ([]byte, bool) {
	ok := true
	str := func(key, s string, omitEmpty bool) {
		if omitEmpty && s == "" {
			return
		}
		ok = ok && plainJSONString(s)
		b = append(b, key...)
		b = append(b, s...)
		b = append(b, '"')
	}
	at := func(key string, t time.Time) {
		b = append(b, key...)
		b = t.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	str(`{"id":"`, e.ID, false)
	str(`,"type":"`, string(e.Type), false)
	str(`,"event":"`, e.Name, true)
	at(`,"occurred_at":"`, e.OccurredAt)
	at(`,"received_at":"`, e.ReceivedAt)
	str(`,"account_id":"`, e.AccountID, true)
	str(`,"interaction_id":"`, e.InteractionID, true)
	str(`,"call_id":"`, e.CallID, true)
	str(`,"contact_id":"`, e.ContactID, true)
	str(`,"agent_id":"`, e.AgentID, true)
	str(`,"actor":{"type":"`, string(e.Actor.Type), false)
	str(`,"id":"`, e.Actor.ID, true)
	str(`,"name":"`, e.Actor.Name, true)
	str(`,"email":"`, e.Actor.Email, true)
	b = append(b, '}')
	return b, ok
}

// plainJSONString reports whether encoding/json writes s as it is,
// between quotes.
func plainJSONString(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\':
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return ascii || utf8.ValidString(s) && !strings.ContainsRune(s, '\u2028') && !strings.ContainsRune(s, '\u2029')
}

// Events returns the events that match q, in (OccurredAt, ID) order, page
// after page, as Query would give them. Iteration stops at the first
// error, which it yields with a nil event. It is [Events] for this log.
func (l *EventLog) Events(ctx context.Context, q EventQuery) iter.Seq2[*Event, error] {
	return Events(ctx, l, q)
}

// Follow yields the events of the log that match q's filters in commit
// order (the order of the file): those committed after afterID, then each
// new one as its batch is committed, woken by the commit itself, until ctx
// is done, when it yields ctx's error. See [EventStore] for the promises;
// afterID not stored gives an error matching [ErrNotFound], a closed log
// [ErrEventLogClosed]. A follower reads the lines from the file, scanning
// at most 4096 entries (and taking at most 256) at a time under the read
// lock, and spawns no goroutine.
func (l *EventLog) Follow(ctx context.Context, q EventQuery, afterID string) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		f, err := q.filter()
		if err != nil {
			yield(nil, err)
			return
		}
		l.mu.RLock()
		next, closed := 0, l.closed
		if afterID != "" {
			i, ok := l.byID.get(afterID, l.entries)
			if !ok && !closed {
				l.mu.RUnlock()
				yield(nil, fmt.Errorf("talkdesk: event log: event %q: %w", afterID, ErrNotFound))
				return
			}
			next = int(i) + 1
		}
		l.mu.RUnlock()
		var batch []logEntry
		for {
			if closed {
				yield(nil, ErrEventLogClosed)
				return
			}
			l.mu.RLock()
			batch = batch[:0]
			// At most 4096 entries a hold of the read lock, however few
			// match: a follower with a rare filter does not hold up the
			// commits while it scans a large log.
			stop := min(len(l.entries), next+4096)
			if !l.resolve(&f) {
				next = stop // no stored event has its contact or agent yet
			}
			for ; next < stop && len(batch) < 256; next++ {
				if e := &l.entries[next]; l.match(&f, e) {
					batch = append(batch, *e)
				}
			}
			caughtUp, wake := next == len(l.entries), l.wake
			closed = l.closed
			l.mu.RUnlock()
			for _, e := range batch {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
				ev, err := l.readEvent(e)
				if err != nil {
					yield(nil, err)
					return
				}
				if !yield(ev, nil) {
					return
				}
			}
			if !caughtUp || closed {
				continue
			}
			select {
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			case <-wake:
			}
		}
	}
}

// Export writes the events that match q to w as JSON Lines, one event per
// line as stored, in (OccurredAt, ID) order; q.Limit sets the page size of
// the reads, not how many are written: all matching events are.
func (l *EventLog) Export(ctx context.Context, w io.Writer, q EventQuery) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for {
		entries, next, err := l.find(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range entries {
			line, err := l.readLine(e)
			if err != nil {
				return err
			}
			bw.Write(line)
			if err := bw.WriteByte('\n'); err != nil {
				return err
			}
		}
		if next == "" {
			return bw.Flush()
		}
		q.Cursor = next
	}
}

// readLine returns the stored line of e.
func (l *EventLog) readLine(e logEntry) ([]byte, error) {
	if l.f == nil {
		l.mu.RLock()
		defer l.mu.RUnlock()
	}
	return l.readLineLocked(e)
}

// readLineLocked is readLine for a caller that holds mu.
func (l *EventLog) readLineLocked(e logEntry) ([]byte, error) {
	return l.readLineInto(e, nil)
}

// readLineInto is readLine into buf's space, for a file's line; a caller
// of a log in memory holds mu.
func (l *EventLog) readLineInto(e logEntry, buf []byte) ([]byte, error) {
	if l.f == nil {
		return l.mem[e.off : e.off+int64(e.n)], nil
	}
	buf = slices.Grow(buf[:0], int(e.n))[:e.n]
	if _, err := l.f.ReadAt(buf, e.off); err != nil {
		if errors.Is(err, os.ErrClosed) {
			return nil, ErrEventLogClosed
		}
		return nil, fmt.Errorf("talkdesk: reading event log %s: %w", l.path, err)
	}
	return buf, nil
}

// cursorKey is the position after which a page starts.
type cursorKey struct {
	at int64
	id string
}

// find returns the entries of the page q asks for, and the next cursor.
func (l *EventLog) find(ctx context.Context, q EventQuery) ([]logEntry, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, "", invalid("Limit", "must not be negative")
	case limit == 0:
		limit = DefaultEventPageSize
	case limit > MaxEventPageSize:
		limit = MaxEventPageSize
	}
	if !q.Until.IsZero() && !q.Since.IsZero() && !q.Until.After(q.Since) {
		return nil, "", invalid("Until", "must be after Since")
	}
	f, err := q.filter()
	if err != nil {
		return nil, "", err
	}
	fp := q.fingerprint()
	var start *cursorKey
	if q.Cursor != "" {
		at, id, err := eventcursor.Decode(q.Cursor, cursorVersion, fp)
		if err != nil {
			return nil, "", invalid("Cursor", err.Error())
		}
		start = &cursorKey{at, id}
	}

	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil, "", ErrEventLogClosed
	}
	// The smallest index among the IDs given, else the time index.
	idx, indexed := &l.byTime, false
	if q.InteractionID != "" {
		first, ok := l.byInteraction.get(q.InteractionID, l.entries)
		if !ok {
			return nil, "", nil // no event has this ID
		}
		idx, indexed = keyEntries{one: first, many: l.interactions[first]}.index(), true
	}
	if !l.resolve(&f) {
		return nil, "", nil // no event has this contact or agent
	}
	for _, ix := range []struct {
		m   map[uint32]keyEntries
		key uint32
	}{{l.byContact, f.contactNum}, {l.byAgent, f.agentNum}} {
		if ix.key != 0 {
			k, ok := ix.m[ix.key]
			if !ok {
				return nil, "", nil // no event has this ID
			}
			if cand := k.index(); !indexed || cand.n < idx.n {
				idx, indexed = cand, true
			}
		}
	}
	var p position
	switch {
	case start != nil:
		p = idx.seek(func(i uint32) bool { return !l.before(i, start.at, start.id) && !l.is(i, start) })
	case !q.Since.IsZero():
		since := eventcursor.Nanos(q.Since)
		p = idx.seek(func(i uint32) bool { return l.entries[i].at >= since })
	}
	var sinceNs, untilNs int64 = -1 << 63, 1<<63 - 1
	if !q.Since.IsZero() {
		sinceNs = eventcursor.Nanos(q.Since)
	}
	if !q.Until.IsZero() {
		untilNs = eventcursor.Nanos(q.Until)
	}
	var out []logEntry
	for {
		i, next, ok := idx.at(p)
		if !ok {
			break
		}
		p = next
		e := &l.entries[i]
		if e.at >= untilNs {
			break
		}
		if e.at < sinceNs || !l.match(&f, e) {
			continue
		}
		if len(out) == limit {
			last := out[len(out)-1]
			return out, eventcursor.Encode(cursorVersion, fp, last.at, string(l.id(&last))), nil
		}
		out = append(out, *e)
	}
	return out, "", nil
}

// eventFilter is the part of a query every stored event is matched
// against: the IDs and the triggers.
type eventFilter struct {
	interaction, contact, agent string
	contactNum, agentNum        uint32 // the numbers of contact and agent, once resolved
	types                       uint16 // a bit per trigger index; 0: every trigger
}

// resolve gives f the numbers of its contact and agent IDs, and reports
// false while one of them is the ID of no stored event. mu is held.
func (l *EventLog) resolve(f *eventFilter) bool {
	for _, k := range []struct {
		id  string
		num *uint32
	}{{f.contact, &f.contactNum}, {f.agent, &f.agentNum}} {
		if k.id == "" || *k.num != 0 {
			continue
		}
		n, ok := l.keyNums[k.id]
		if !ok {
			return false
		}
		*k.num = n
	}
	return true
}

// filter returns q's filter, or an error for a trigger that is not one.
func (q *EventQuery) filter() (eventFilter, error) {
	f := eventFilter{interaction: q.InteractionID, contact: q.ContactID, agent: q.AgentID}
	for _, t := range q.Types {
		i := triggerIndex(t)
		if i == 0 {
			return f, invalid("Types", fmt.Sprintf("%q is not a trigger", t))
		}
		f.types |= 1 << i
	}
	return f, nil
}

// match reports whether e passes f. mu is held.
func (l *EventLog) match(f *eventFilter, e *logEntry) bool {
	return (f.types == 0 || f.types&(1<<e.typ) != 0) &&
		(f.interaction == "" || string(l.interaction(e)) == f.interaction) &&
		(f.contact == "" || e.contact == f.contactNum) &&
		(f.agent == "" || e.agent == f.agentNum)
}

// is reports whether entry i is the cursor's own event.
func (l *EventLog) is(i uint32, k *cursorKey) bool {
	e := &l.entries[i]
	return e.at == k.at && string(l.id(e)) == k.id
}

// fingerprint identifies the filters of q, so that a cursor is only used
// with the query that made it.
func (q *EventQuery) fingerprint() [8]byte {
	return eventcursor.Fingerprint(q.InteractionID, q.ContactID, q.AgentID, q.Types, q.Since, q.Until)
}

// cursorVersion marks the cursors of an EventLog.
const cursorVersion = 1

// Close waits for the appends under way, then closes the file and releases
// its lock. Calls after Close fail with [ErrEventLogClosed].
func (l *EventLog) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	for l.flushing || l.pending != nil {
		l.cond.Wait()
	}
	l.closed = true
	close(l.wake)
	l.mu.Unlock()
	return l.closeFile()
}

func (l *EventLog) closeFile() error {
	if l.handledFile != nil {
		l.handledFile.Close()
	}
	if l.f == nil {
		return nil
	}
	unlockFile(l.f)
	return l.f.Close()
}
