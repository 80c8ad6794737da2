package talkdesk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
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
	byType        [11]orderedIndex         // the same, of each event type, by triggerIndex
	byInteraction hashIndex                // the first entry of each interaction
	interactions  map[uint32]*orderedIndex // by first entry: the interactions of two entries or more
	byContact     map[uint32]keyEntries    // by key number
	byAgent       map[uint32]keyEntries
	less          func(a, b uint32) bool // l.entryLess, made once

	syncs     atomic.Int64 // fsyncs done, for Stats
	appending atomic.Int32 // appends waiting for mu: see yieldToAppends

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

// WithRepeatWindow sets the repeat window W. An event without a time of
// its own (see [Event.HasOwnTime]) whose body is identical to one stored
// is a redelivery of that one while it has not been handled (see
// [EventLog.MarkHandled], which a [WebhookHandler] calls once its handlers
// succeed), however late it comes: Talkdesk delivers an event again until
// it gets a 200. Once the stored one was handled, an identical event
// received within W of it is still a redelivery (a 200 lost on its way),
// and one received later is a new event, a genuine repeat (an agent who
// logs in again). A repeat is stored under the ID of the first with ".2",
// ".3"... appended, and Append sets ev.ID to it (and, for a redelivery of
// a repeat, to the repeat's).
// Events with a time of their own are always redeliveries when identical.
// d <= 0 makes every identical event a redelivery.
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

func (l *EventLog) warn(msg string, attrs ...slog.Attr) {
	if l.logger != nil {
		l.logger.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
	}
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
	return EventLogStats{Events: len(l.entries), Bytes: l.size, Syncs: l.syncs.Load()}
}

// LastID returns the ID of the last event committed to the log, "" when
// it has none: [EventLog.Follow] after it yields only the events committed
// from then on, as a dashboard that shows what happens next wants (the
// PostgreSQL store has the same method). A closed log gives
// [ErrEventLogClosed].
func (l *EventLog) LastID(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return "", ErrEventLogClosed
	}
	if len(l.entries) == 0 {
		return "", nil
	}
	return string(l.id(&l.entries[len(l.entries)-1])), nil
}

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
