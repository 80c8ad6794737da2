package talkdesk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/internal/testkit"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// reportedCalls are calls of April 2026, one an hour from the 1st.
func reportedCalls(n int) []talkdesk.CallRecord {
	yes, no := true, false
	var out []talkdesk.CallRecord
	for i := range n {
		start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
		out = append(out, talkdesk.CallRecord{
			CallID: fmt.Sprintf("call%030d", i), CallSID: fmt.Sprintf("CA%030d", i), Direction: "inbound",
			StartAt: start, EndAt: start.Add(154 * time.Second), ContactPhoneNumber: "+351912345678", TalkdeskPhoneNumber: "+14155550100",
			UserID: fmt.Sprintf("agent-%d", i%3), UserName: "Agent", TalkTime: 154 * time.Second, WaitTime: 21 * time.Second,
			HoldTime: 12 * time.Second, InBusinessHours: &yes, Transfer: &no, RecordingURL: "https://api.example.com/calls/x/recordings",
		})
	}
	return out
}

// TestReportsEveryVariant: the Client reads each form of the Explore API
// the fake serves (the job flat or under "job", done or completed, ready
// by status, by 300, 302 or 303, or with its entries inline, JSON or CSV,
// the calls report before or after the 2026-05-11 change), and downloads
// without sending the token to the presigned host.
func TestReportsEveryVariant(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	srv.AddReportedCalls(reportedCalls(5)...)
	client := testkit.FakeClient(t, srv)
	from, to := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
	want := reportedCalls(5)
	n := 0
	for _, wrapped := range []bool{false, true} {
		for _, completed := range []bool{false, true} {
			for _, ready := range []talkdesktest.ReadySignal{talkdesktest.ReadyStatus, talkdesktest.Ready300, talkdesktest.Ready302, talkdesktest.Ready303, talkdesktest.ReadyInline} {
				for _, format := range []talkdesk.ReportFormat{talkdesk.ReportJSON, talkdesk.ReportCSV} {
					for _, old := range []bool{false, true} {
						name := fmt.Sprintf("wrapped=%v/completed=%v/ready=%d/%s/old=%v", wrapped, completed, ready, format, old)
						srv.SetVariants(talkdesktest.Variants{JobWrapped: wrapped, Completed: completed, Ready: ready, OldCallFields: old,
							CreateStatus: []int{200, 201, 202}[n%3]})
						n++
						var got []*talkdesk.CallRecord
						for rec, err := range client.Calls(context.Background(), from, to, &talkdesk.CallsOptions{Format: format}) {
							if err != nil {
								t.Fatalf("%s: %v", name, err)
							}
							got = append(got, rec)
						}
						if len(got) != len(want) {
							t.Fatalf("%s: %d calls, want %d", name, len(got), len(want))
						}
						for i, rec := range got {
							w := want[i]
							id := w.CallID
							if old {
								w.CallSID = "" // the old shape has none
							}
							if rec.CallID != id || !rec.StartAt.Equal(w.StartAt) || !rec.EndAt.Equal(w.EndAt) || rec.TalkTime != w.TalkTime ||
								rec.WaitTime != w.WaitTime || rec.HoldTime != w.HoldTime || rec.InBusinessHours == nil || !*rec.InBusinessHours ||
								rec.Transfer == nil || *rec.Transfer || rec.ContactPhoneNumber != w.ContactPhoneNumber || rec.CallSID != w.CallSID || len(rec.Warnings) > 0 {
								t.Errorf("%s: call %d read as %+v, want %+v", name, i, rec, w)
							}
						}
					}
				}
			}
		}
	}
	if leaks := srv.Leaks(); len(leaks) > 0 {
		t.Errorf("the presigned host got credentials: %v", leaks)
	}
}

// TestReportsPendingThrottledAndEnded: a job that answers 204 and then
// "processing" is waited for; a burst of 429s is waited out; a job
// Talkdesk ends fails with a ReportJobError.
func TestReportsPendingThrottledAndEnded(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	srv.AddReportedCalls(reportedCalls(2)...)
	client := testkit.FakeClient(t, srv)
	ctx := context.Background()
	from, to := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)
	srv.SetVariants(talkdesktest.Variants{PendingPolls: 2, PendingNoContent: true, TooManyRequests: 1})
	n := 0
	for _, err := range client.Calls(ctx, from, to, nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
	for _, end := range []string{"failed", "canceled", "deleted"} {
		srv.SetVariants(talkdesktest.Variants{EndStatus: end})
		for _, err := range client.Calls(ctx, from, to, nil) {
			var je *talkdesk.ReportJobError
			if !errors.As(err, &je) || je.Status != end || !errors.Is(err, talkdesk.ErrReportFailed) {
				t.Errorf("a job %s: %v", end, err)
			}
			break
		}
	}
}

// TestCallsOverMonths: a range of 100 days is split into jobs of at most
// 31 days, made three at a time, and read in order.
func TestCallsOverMonths(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	var calls []talkdesk.CallRecord
	for i := range 100 {
		c := reportedCalls(1)[0]
		c.CallID = fmt.Sprintf("day-%03d", i)
		c.StartAt = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		c.EndAt = c.StartAt.Add(time.Minute)
		calls = append(calls, c)
	}
	srv.AddReportedCalls(calls...)
	client := testkit.FakeClient(t, srv)
	var got []string
	for rec, err := range client.Calls(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), &talkdesk.CallsOptions{Concurrency: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.CallID)
	}
	var want []string
	for _, c := range calls {
		want = append(want, c.CallID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read %d calls, want the 100 in order:\n%v", len(got), got)
	}
	if jobs := srv.Count("POST", "/data/reports/calls/jobs"); jobs != 4 {
		t.Errorf("%d report jobs for 100 days, want 4", jobs)
	}
}

// TestNoTokenAtThePresignedHost: neither the default HTTP client nor one
// given by WithHTTPClient sends the bearer token to the presigned host,
// for reports and for recordings.
func TestNoTokenAtThePresignedHost(t *testing.T) {
	for name, opts := range map[string][]talkdesk.Option{
		"default":        nil,
		"WithHTTPClient": {talkdesk.WithHTTPClient(&http.Client{Timeout: 10 * time.Second})},
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := testkit.NewFake(t)
			srv.AddReportedCalls(reportedCalls(1)...)
			rec := srv.AddRecording("call-1", time.Now().Add(-time.Minute), []byte("ID3 audio"))
			client := testkit.FakeClient(t, srv, opts...)
			ctx := context.Background()
			for _, err := range client.Calls(ctx, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC), nil) {
				if err != nil {
					t.Fatal(err)
				}
			}
			var audio bytes.Buffer
			if _, err := client.DownloadRecording(ctx, rec.ID, &audio); err != nil || audio.String() != "ID3 audio" {
				t.Fatalf("DownloadRecording: %q, %v", audio.String(), err)
			}
			if leaks := srv.Leaks(); len(leaks) > 0 {
				t.Errorf("the presigned host got credentials: %v", leaks)
			}
		})
	}
}

// TestRecordingsVariantsAndLateness: recordings under links or _links,
// flat or wrapped; a call's recordings are not there for a while after it
// ends, and AwaitCallRecordings waits for them.
func TestRecordingsVariantsAndLateness(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	client := testkit.FakeClient(t, srv)
	ctx := context.Background()
	rec := srv.AddRecording("call-2", time.Now().Add(-time.Hour), []byte("audio"))
	for _, v := range []talkdesktest.Variants{{}, {RecordingLinks: true}, {RecordingWrapped: true}, {RecordingLinks: true, RecordingWrapped: true}} {
		srv.SetVariants(v)
		got, err := client.GetRecording(ctx, rec.ID)
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		if diff := cmp.Diff(rec, *got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", v, diff)
		}
	}
	srv.SetVariants(talkdesktest.Variants{RecordingDelay: 1500 * time.Millisecond})
	ended := time.Now()
	late := srv.AddRecording("call-3", ended, []byte("late audio"))
	for _, err := range client.CallRecordings(ctx, "call-3") {
		if !errors.Is(err, talkdesk.ErrRecordingNotReady) {
			t.Fatalf("right after the call: %v, want ErrRecordingNotReady", err)
		}
	}
	recs, err := client.AwaitCallRecordings(ctx, "call-3", ended, 30*time.Second)
	if err != nil || len(recs) != 1 || recs[0].ID != late.ID {
		t.Fatalf("AwaitCallRecordings: %v, %v", recs, err)
	}
}

// TestUsersAndAccountVariants: every user over pages, each form of the
// extension, and the account.
func TestUsersAndAccountVariants(t *testing.T) {
	srv, _ := testkit.NewFake(t)
	for i := range 7 {
		srv.AddUser(talkdesk.User{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("a%d@example.com", i), Extension: fmt.Sprint(100 + i)})
	}
	client := testkit.FakeClient(t, srv)
	ctx := context.Background()
	for form, want := range map[string]string{"": "103", "string": "103", "number": "103", "null": ""} {
		srv.SetVariants(talkdesktest.Variants{Extension: form})
		var ids []string
		for u, err := range client.Users(ctx, 3) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
			if u.ID == "u3" && u.Extension != want {
				t.Errorf("extension as %q: read %q, want %q", form, u.Extension, want)
			}
		}
		if len(ids) != 7 {
			t.Errorf("extension as %q: %d users, want 7", form, len(ids))
		}
		u, err := client.GetUser(ctx, "u3")
		if err != nil || u.Extension != want {
			t.Errorf("GetUser with the extension as %q: %+v, %v", form, u, err)
		}
	}
	if _, err := client.GetUser(ctx, "nobody"); !errors.Is(err, talkdesk.ErrNotFound) {
		t.Errorf("GetUser of nobody: %v", err)
	}
	srv.SetAccount(talkdesk.Account{ID: "acc-1", Name: "acme", CompanyName: "Acme", Timezone: "Europe/Lisbon", CreatedAt: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	a, err := client.GetAccount(ctx)
	if err != nil || a.Name != "acme" || a.Timezone != "Europe/Lisbon" {
		t.Errorf("GetAccount: %+v, %v", a, err)
	}
}
