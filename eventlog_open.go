package talkdesk

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

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
	for i := range l.byType {
		l.byType[i].trim()
	}
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
