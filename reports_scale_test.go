package talkdesk_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/eventstoretest"
)

// TestCallsReportStreamsInFlatMemory: a calls report is decoded as it
// downloads: the heap after 100,000 calls is no larger than after 10,000
// (scripts/explore-scale measures a million).
func TestCallsReportStreamsInFlatMemory(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	var at10k uint64
	n := 0
	for rec, err := range talkdesk.CallRecords(eventstoretest.CallsReport(100_000, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)), talkdesk.ReportJSON, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.TalkTime != 154*time.Second {
			t.Fatalf("call %d: %+v", n, rec)
		}
		if n++; n == 10_000 {
			at10k = heap()
		}
	}
	end := heap()
	if n != 100_000 {
		t.Fatalf("%d calls, want 100,000", n)
	}
	grew := int64(end) - int64(at10k)
	t.Logf("heap: %d KiB before, %d KiB after 10,000 calls, %d KiB after 100,000", base>>10, at10k>>10, end>>10)
	if grew > 8<<20 {
		t.Errorf("the heap grew by %d KiB from 10,000 to 100,000 calls: the decoder holds what it read", grew>>10)
	}
}

// TestCallsReportReadsAsReportedCall: the report eventstoretest.CallsReport
// makes reads as eventstoretest.ReportedCall says, so that the
// measurements that use both compare.
func TestCallsReportReadsAsReportedCall(t *testing.T) {
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for rec, err := range talkdesk.CallRecords(eventstoretest.CallsReport(3, start), talkdesk.ReportJSON, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(eventstoretest.ReportedCall(i, start), rec, cmpopts.IgnoreFields(talkdesk.CallRecord{}, "Fields")); diff != "" {
			t.Errorf("call %d (-want +got):\n%s", i, diff)
		}
		i++
	}
}
