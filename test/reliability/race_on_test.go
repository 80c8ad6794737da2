//go:build race

package reliability_test

// raceEnabled reports whether the tests run under the race detector,
// which slows everything down and makes sync.Pool drop some of what it is
// given (so encoding/json regrows buffers it would reuse).
const raceEnabled = true
