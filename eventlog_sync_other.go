//go:build !linux

package talkdesk

import "os"

// syncData flushes f to stable storage (F_FULLFSYNC on macOS).
func syncData(f *os.File) error { return f.Sync() }
