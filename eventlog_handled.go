package talkdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// handledPath is the file of the IDs whose handlers succeeded, beside the
// log: one ID a line, as a JSON string (an ID may hold any character, a
// line break too).
func (l *EventLog) handledPath() string { return l.path + ".handled" }

// loadHandled marks the entries named in the handled file. A line cut
// short by a crash names no entry, and is skipped. A line that is not a
// JSON string is an ID as an earlier version wrote it, raw.
func (l *EventLog) loadHandled() error {
	data, err := os.ReadFile(l.handledPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("talkdesk: event log %s: %w", l.path, err)
	}
	for line := range strings.Lines(string(data)) {
		if !strings.HasSuffix(line, "\n") {
			continue // cut short by a crash
		}
		if i, ok := l.byID.get(handledID(line[:len(line)-1]), l.entries); ok {
			l.entries[i].handled = true
		}
	}
	return nil
}

// handledID reads the ID of a line of the handled file.
func handledID(line string) string {
	var id string
	if strings.HasPrefix(line, `"`) && json.Unmarshal([]byte(line), &id) == nil {
		return id
	}
	return line // as written before the lines were encoded
}

// handledLine returns the line of the handled file that names id.
func handledLine(id string) []byte {
	b, _ := json.Marshal(id) // a string always encodes
	return append(b, '\n')
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
		if _, err := l.handledFile.Write(handledLine(id)); err != nil {
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
