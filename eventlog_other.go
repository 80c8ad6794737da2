//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package talkdesk

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// On systems without flock (Windows, Solaris, illumos, AIX, Plan 9, wasm)
// an event log file is locked against other EventLogs of this process
// only: nothing stops another process from opening it. Run one process
// per log file there.
var openLogs sync.Map // absolute path -> struct{}

func lockFile(f *os.File) error {
	p, err := filepath.Abs(f.Name())
	if err != nil {
		p = f.Name()
	}
	if _, taken := openLogs.LoadOrStore(p, struct{}{}); taken {
		return fmt.Errorf("%w: %s", ErrEventLogLocked, f.Name())
	}
	return nil
}

func unlockFile(f *os.File) {
	p, err := filepath.Abs(f.Name())
	if err != nil {
		p = f.Name()
	}
	openLogs.Delete(p)
}

// syncDir is best effort where directories cannot be synced.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
