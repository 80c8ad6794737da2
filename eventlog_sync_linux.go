package talkdesk

import (
	"os"
	"syscall"
)

// syncData flushes f's data and the metadata needed to read it back
// (fdatasync): enough for an append-only file, cheaper than fsync.
func syncData(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
