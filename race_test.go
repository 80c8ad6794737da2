//go:build race

package talkdesk_test

// raceEnabled says the tests run under the race detector, which makes
// them several times slower: the longest scale their counts down.
const raceEnabled = true
