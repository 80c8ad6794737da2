package talkdesk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"
)

// noSleep makes a Client's backoffs and polls instant.
func noSleep(c *Client) *Client {
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return c
}

// objectStore is a second origin, as Talkdesk's presigned object store:
// it serves files by path and fails the test when a request carries an
// Authorization header.
func objectStore(t *testing.T, files map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("the presigned host got an Authorization header: %q", a)
			http.Error(w, "credentials sent to a presigned URL", http.StatusForbidden)
			return
		}
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	april      = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	reportJob1 = "369f88a5-d5a3-42c6-a135-8aec4215553e"
)

// TestCreateReportOnTheWire: the documented body, name and timezone left
// out when empty, and each of Talkdesk's answers read: 202 flat, 200 and
// 201 under "job", a 429 waited out.
func TestCreateReportOnTheWire(t *testing.T) {
	ctx := context.Background()
	rs := newReplayServer(t, "reports/create_calls_202_flat.json", "reports/create_calls_200_wrapped_no_name.json",
		"reports/create_calls_201.json", "reports/create_calls_429.json", "reports/create_calls_201.json")
	c := noSleep(replayClient(t, rs))
	job, err := c.CreateReport(ctx, &ReportRequest{Type: ReportCalls, From: april, To: april.AddDate(0, 1, 0), Name: "Calls", Timezone: "Europe/Lisbon"})
	if err != nil || job.ID != reportJob1 || job.Status != "created" || job.Format != ReportJSON || job.Timezone != "Europe/Lisbon" {
		t.Fatalf("202 flat: %+v, %v", job, err)
	}
	day := &ReportRequest{Type: ReportCalls, From: april, To: april.AddDate(0, 0, 1), Format: ReportCSV}
	for _, what := range []string{"200 under job", "201", "429 then 201"} {
		job, err := c.CreateReport(ctx, day)
		if err != nil || job.ID != reportJob1 || job.Type != ReportCalls || job.Status != "processing" || !job.CreatedAt.Equal(time.Date(2026, 5, 2, 10, 17, 15, 0, time.UTC)) {
			t.Errorf("%s: %+v, %v", what, job, err)
		}
	}
}

// TestCreateReportRefusesBadRequests: nothing is sent for a request that
// cannot be right.
func TestCreateReportRefusesBadRequests(t *testing.T) {
	rs := newReplayServer(t)
	c := replayClient(t, rs)
	for name, req := range map[string]*ReportRequest{
		"nil":            nil,
		"no type":        {From: april, To: april.Add(time.Hour)},
		"a slash":        {Type: "calls/../x", From: april, To: april.Add(time.Hour)},
		"no times":       {Type: ReportCalls},
		"backwards":      {Type: ReportCalls, From: april, To: april.Add(-time.Hour)},
		"32 days":        {Type: ReportCalls, From: april, To: april.Add(32 * 24 * time.Hour)},
		"xml":            {Type: ReportCalls, From: april, To: april.Add(time.Hour), Format: "xml"},
		"no such zone":   {Type: ReportCalls, From: april, To: april.Add(time.Hour), Timezone: "Mars/Olympus"},
		"31 days and 1s": {Type: ReportCalls, From: april, To: april.Add(MaxReportSpan + time.Second)},
	} {
		if _, err := c.CreateReport(context.Background(), req); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestReportStatusVariants: every way Talkdesk and its clients have seen a
// job be ready, pending or ended is read.
func TestReportStatusVariants(t *testing.T) {
	for _, tt := range []struct {
		fixture  string
		ready    bool
		status   string
		location bool
		inline   bool
		ended    string
	}{
		{"status_processing.json", false, "processing", false, false, ""},
		{"status_204.json", false, "created", false, false, ""},
		{"status_done_flat.json", true, "done", false, false, ""},
		{"status_DONE_upper.json", true, "done", false, false, ""},
		{"status_completed_wrapped.json", true, "completed", false, false, ""},
		{"status_300.json", true, "done", true, false, ""},
		{"status_302.json", true, "created", true, false, ""},
		{"status_303_no_body.json", true, "created", true, false, ""},
		{"status_entries_inline.json", true, "processing", false, true, ""},
		{"status_failed.json", false, "", false, false, "failed"},
		{"status_canceled.json", false, "", false, false, "canceled"},
		{"status_deleted.json", false, "", false, false, "deleted"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			rs := newReplayServer(t, "reports/"+tt.fixture)
			c := replayClient(t, rs)
			job, err := c.ReportStatus(context.Background(), &ReportJob{ID: reportJob1, Type: ReportCalls, Status: "created"})
			if tt.ended != "" {
				var je *ReportJobError
				if !errors.As(err, &je) || je.Status != tt.ended || je.ID != reportJob1 || !errors.Is(err, ErrReportFailed) {
					t.Fatalf("%v, want a ReportJobError %s", err, tt.ended)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if job.Ready != tt.ready || job.Status != tt.status || (job.location != "") != tt.location || (job.inline != nil) != tt.inline {
				t.Errorf("ready %v, status %q, location %q, inline %v; want %v %q %v %v", job.Ready, job.Status, job.location, job.inline != nil, tt.ready, tt.status, tt.location, tt.inline)
			}
		})
	}
}

// TestWaitReportThenDownload: polls until ready (through a 204, a 429 and
// a job still processing), then downloads the file from the presigned
// host without the token.
func TestWaitReportThenDownload(t *testing.T) {
	ctx := context.Background()
	store := objectStore(t, map[string]string{"/td-reports/calls.json": readFile(t, "testdata/reports/calls_new.json")})
	rs := newReplayServer(t, "reports/status_204.json", "reports/status_429.json", "reports/status_processing.json",
		"reports/status_300.json", "reports/files_303_elsewhere.json")
	rs.elsewhere = store.URL
	c := noSleep(replayClient(t, rs))
	job, err := c.WaitReport(ctx, &ReportJob{ID: reportJob1, Type: ReportCalls})
	if err != nil || !job.Ready {
		t.Fatalf("WaitReport: %+v, %v", job, err)
	}
	rep, err := c.OpenReport(ctx, job)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	var ids []string
	for rec, err := range rep.Calls() {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.CallID)
	}
	if !cmp.Equal(ids, []string{"17378a31cf7546d3acb9621f29a4e883"}) {
		t.Errorf("calls %v", ids)
	}
}

// TestOpenReportInline: a report whose entries came with the poll, and
// one the files endpoint answers itself, are read without a presigned
// host.
func TestOpenReportInline(t *testing.T) {
	ctx := context.Background()
	rs := newReplayServer(t, "reports/status_entries_inline.json", "reports/files_200_inline.json")
	c := replayClient(t, rs)
	job, err := c.ReportStatus(ctx, &ReportJob{ID: reportJob1, Type: ReportCalls})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range []*ReportJob{job, {ID: reportJob1, Type: ReportCalls, Ready: true}} {
		rep, err := c.OpenReport(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rec, err := range rep.Calls() {
			if err != nil || rec.UserName != "Jordan Smith" {
				t.Fatalf("%+v, %v", rec, err)
			}
			n++
		}
		rep.Close()
		if n != 1 {
			t.Errorf("%d calls, want 1", n)
		}
	}
}

// TestPresignedMustBeHTTPS: with an https API root, a presigned URL that
// is plain http is refused; the Client never sends it anything.
func TestPresignedMustBeHTTPS(t *testing.T) {
	c, err := NewClient(WithBaseURL("https://api.example.com"), WithTokenSource(staticTokens("t")))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://s3.example.com/calls.json?X-Amz-Signature=s3cr3t")
	if _, err := c.getPresigned(context.Background(), u); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a plain http presigned URL: %v", err)
	}
}

// TestCallRecordShapes: both shapes of the calls report, in JSON and in
// CSV, read into the same typed fields; durations as seconds in the new
// shape and as fractions of a day in the old, decided per report.
func TestCallRecordShapes(t *testing.T) {
	yes, no := true, false
	newCall := &CallRecord{
		CallID: "17378a31cf7546d3acb9621f29a4e883", CallSID: "CA16eb3f3ac603f3856dd91e35c573aab4", Direction: "outbound",
		StartAt: time.Date(2026, 4, 23, 10, 22, 26, 0, time.UTC), EndAt: time.Date(2026, 4, 23, 10, 22, 50, 0, time.UTC),
		TalkdeskPhoneNumber: "+12025550102", ContactPhoneNumber: "+12025550103", UserID: "67b3696b5b004334e155e996",
		TotalTime: 24 * time.Second, TalkTime: 20 * time.Second, InBusinessHours: &yes, Transfer: &no, AgentDisconnected: &no,
		RecordingURL: "https://api.example.com/calls/17378a31cf7546d3acb9621f29a4e883/recordings",
	}
	oldCall := &CallRecord{
		CallID: "74458c259bc04bf1988697e3c5623ae2", InteractionID: "74458c259bc04bf1988697e3c5623ae2", Direction: "inbound",
		StartAt: time.Date(2022, 6, 30, 16, 42, 24, 0, time.UTC), EndAt: time.Date(2022, 6, 30, 16, 42, 38, 0, time.UTC),
		ContactPhoneNumber: "+17753827775", TalkTime: 6 * time.Second, WaitTime: 5 * time.Second, InBusinessHours: &yes, Transfer: &no,
		UserName: "Alice Eve",
	}
	only := cmpopts.IgnoreFields(CallRecord{}, "Fields", "TalkdeskPhoneDisplayName", "UserName", "UserEmail", "HandlingUserID",
		"HandlingUserName", "HandlingUserEmail", "DispositionCode", "RingGroups", "IVROptions", "TeamID", "TeamName", "WaitTime",
		"HoldTime", "AbandonTime", "RingingTime", "CallbackFromQueue", "ExternalTransfer", "SpeedToAnswer", "Hangup", "Notes", "RecordingURL")
	for _, tt := range []struct {
		file   string
		format ReportFormat
		want   *CallRecord
		opts   cmp.Option
	}{
		{"calls_new.json", ReportJSON, newCall, only},
		{"calls_new.csv", ReportCSV, newCall, only},
		{"calls_old.json", ReportJSON, oldCall, cmpopts.IgnoreFields(CallRecord{}, "Fields", "TalkdeskPhoneNumber", "TalkdeskPhoneDisplayName",
			"HandlingUserName", "DispositionCode", "RingGroups", "IVROptions", "TeamName", "HoldTime", "SpeedToAnswer", "Hangup", "Notes",
			"RecordingURL", "CallbackFromQueue", "AgentDisconnected")},
		{"calls_old.csv", ReportCSV, oldCall, cmpopts.IgnoreFields(CallRecord{}, "Fields")},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var got []*CallRecord
			for rec, err := range CallRecords(strings.NewReader(readFile(t, "testdata/reports/"+tt.file)), tt.format, nil) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec)
			}
			if len(got) != 1 {
				t.Fatalf("%d calls, want 1", len(got))
			}
			if diff := cmp.Diff(tt.want, got[0], tt.opts, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(got[0].Warnings) > 0 {
				t.Errorf("warnings: %v", got[0].Warnings)
			}
		})
	}
	// The old shape's durations are read as fractions of a day in every
	// record of the report, a zero among them too.
	rec := firstCall(t, `{"entries":[{"interaction_id":"i","start_time":"2022-06-30 16:42:24","holding_time":0.5}]}`, nil)
	if rec.HoldTime != 12*time.Hour {
		t.Errorf("hold time %v, want half a day", rec.HoldTime)
	}
	// Times without a zone are in the report's time zone.
	lisbon, _ := time.LoadLocation("Europe/Lisbon")
	rec = firstCall(t, `{"entries":[{"interaction_id":"i","start_time":"2022-06-30 16:42:24"}]}`, lisbon)
	if want := time.Date(2022, 6, 30, 15, 42, 24, 0, time.UTC); !rec.StartAt.Equal(want) {
		t.Errorf("start %v, want %v", rec.StartAt, want)
	}
	// A value that does not read is a warning, not an error.
	rec = firstCall(t, `{"entries":[{"call_id":"c","talk_time":"soon","is_transfer":"maybe"}]}`, nil)
	if len(rec.Warnings) != 2 || rec.TalkTime != 0 || rec.Transfer != nil {
		t.Errorf("warnings %v", rec.Warnings)
	}
}

func firstCall(t *testing.T, file string, loc *time.Location) *CallRecord {
	t.Helper()
	for rec, err := range CallRecords(strings.NewReader(file), ReportJSON, loc) {
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	t.Fatal("no call")
	return nil
}

// TestReportRecordsJSONMembersInAnyOrder: entries are found wherever they
// are among the file's members, and the rest is skipped.
func TestReportRecordsJSONMembersInAnyOrder(t *testing.T) {
	file := `{"total": 2, "meta": {"x": [1, {"entries": []}]}, "entries": [{"a": "1", "b": null, "c": 2.5, "d": true}, {"a": "2"}], "type": "calls"}`
	rep := &Report{Format: ReportCSV, body: io.NopCloser(strings.NewReader(file))} // the content says JSON
	var got []ReportRecord
	for rec, err := range rep.Records() {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	want := []ReportRecord{{"a": "1", "c": "2.5", "d": "true"}, {"a": "2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestCallRecordJSONRoundTrip: a record's JSON (the Raw of its event)
// reads back the same.
func TestCallRecordJSONRoundTrip(t *testing.T) {
	rec := firstCall(t, readFile(t, "testdata/reports/calls_new.json"), nil)
	data, err := rec.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back CallRecord
	if err := back.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rec, &back, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRecordingsOnTheWire: two pages of a call's recordings, one
// recording under "recording" with "links", one flat, the media through
// the presigned host without the token, and the 404 of a recording not
// there yet.
func TestRecordingsOnTheWire(t *testing.T) {
	ctx := context.Background()
	store := objectStore(t, map[string]string{"/media/ab12cd34.mp3": "ID3 audio"})
	rs := newReplayServer(t, "recordings/list_page1.json", "recordings/list_page2.json", "recordings/get_wrapped_links.json",
		"recordings/get_flat.json", "recordings/media_302_elsewhere.json", "recordings/list_404.json")
	rs.elsewhere = store.URL
	c := replayClient(t, rs)
	var got []string
	for r, err := range c.CallRecordings(ctx, "17378a31cf7546d3acb9621f29a4e883") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.ID+"/"+r.Type)
		if len(r.Channels) != 2 || r.Channels[0][0].Type != "AGENT" || r.Duration != 20*time.Second || !strings.HasSuffix(r.MediaURL, "/recordings/"+r.ID+"/media") && r.ID == "ab12cd34" {
			t.Errorf("recording %+v", r)
		}
	}
	if !cmp.Equal(got, []string{"ab12cd34/conversation", "ef56/voicemail"}) {
		t.Errorf("recordings %v", got)
	}
	for range 2 {
		r, err := c.GetRecording(ctx, "ab12cd34")
		if err != nil || r.ID != "ab12cd34" || !strings.HasSuffix(r.MediaURL, "/recordings/ab12cd34/media") || r.CallID == "" {
			t.Errorf("GetRecording: %+v, %v", r, err)
		}
	}
	var audio bytes.Buffer
	if n, err := c.DownloadRecording(ctx, "ab12cd34", &audio); err != nil || n != 9 || audio.String() != "ID3 audio" {
		t.Errorf("DownloadRecording: %d %q, %v", n, audio.String(), err)
	}
	for _, err := range c.CallRecordings(ctx, "17378a31cf7546d3acb9621f29a4e883") {
		if !errors.Is(err, ErrRecordingNotReady) || !errors.Is(err, ErrNotFound) {
			t.Errorf("a 404: %v, want ErrRecordingNotReady and ErrNotFound", err)
		}
	}
}

// TestDirectoryOnTheWire: users over pages (an extension as a number, a
// string or null), the dialect whose _embedded is an array, a next link
// to another origin refused, a user and the account.
func TestDirectoryOnTheWire(t *testing.T) {
	ctx := context.Background()
	rs := newReplayServer(t, "directory/users_page1.json", "directory/users_page2.json", "directory/users_array_dialect.json",
		"directory/users_next_elsewhere.json", "directory/get_user.json", "directory/get_account.json")
	c := replayClient(t, rs)
	var exts []string
	for u, err := range c.Users(ctx, 2) {
		if err != nil {
			t.Fatal(err)
		}
		exts = append(exts, u.ID+":"+u.Extension)
	}
	if !cmp.Equal(exts, []string{"u1:101", "u2:102", "u3:"}) {
		t.Errorf("users %v", exts)
	}
	for u, err := range c.Users(ctx, 0) {
		if err != nil || u.ID != "u4" {
			t.Errorf("array dialect: %+v, %v", u, err)
		}
	}
	var last error
	n := 0
	for _, err := range c.Users(ctx, 2) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	if n != 1 || last == nil || !strings.Contains(last.Error(), "https://elsewhere.example.com") || strings.Contains(last.Error(), "page=2") {
		t.Errorf("a next link elsewhere: %d users, then %v", n, last)
	}
	u, err := c.GetUser(ctx, "u1")
	if err != nil || u.Extension != "101" || u.Email != "agent1@example.com" {
		t.Errorf("GetUser: %+v, %v", u, err)
	}
	a, err := c.GetAccount(ctx)
	if err != nil || a.Name != "acme" || a.Timezone != "Europe/Lisbon" || !a.CreatedAt.Equal(time.Date(2019, 3, 11, 9, 21, 44, 0, time.UTC)) {
		t.Errorf("GetAccount: %+v, %v", a, err)
	}
}

// TestClientDoOnTheWire: NewRequest and Do send any endpoint as the
// operations are sent: the query as given, a JSON body, a GET retried
// after a 500 and its answer copied to an io.Writer, a POST not retried.
func TestClientDoOnTheWire(t *testing.T) {
	ctx := context.Background()
	rs := newReplayServer(t, "api/do_get_query.json", "api/do_post_json.json", "api/do_get_500.json", "api/do_get_200.json", "api/do_post_500.json")
	c := noSleep(replayClient(t, rs))
	req, err := c.NewRequest(ctx, "GET", "ring-groups?page=2&q=a+b", nil)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Total int `json:"total"`
	}
	if resp, err := c.Do(req, &page); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %v, %v", resp, err)
	}
	req, _ = c.NewRequest(ctx, "POST", "/cfm/flows/external/results", map[string]any{"score": 5, "comment": "good"})
	var created struct{ ID string }
	if resp, err := c.Do(req, &created); err != nil || resp.StatusCode != 201 || created.ID != "r1" {
		t.Fatalf("POST: %v, %+v, %v", resp, created, err)
	}
	req, _ = c.NewRequest(ctx, "GET", "queues", nil)
	var csv bytes.Buffer
	if _, err := c.Do(req, &csv); err != nil || csv.String() != "a,b\n1,2\n" {
		t.Fatalf("GET after a 500: %q, %v", csv.String(), err)
	}
	req, _ = c.NewRequest(ctx, "POST", "queues", []byte(`{"name":"q"}`))
	var apiErr *APIError
	if _, err := c.Do(req, nil); !errors.As(err, &apiErr) || apiErr.StatusCode != 500 {
		t.Fatalf("POST answered 500: %v, want the APIError, not a retry", err)
	}
}

// TestClientDoRefusesOtherOrigins: a request to another origin, or
// outside the API root, is not sent; NewRequest refuses what would climb
// out of it.
func TestClientDoRefusesOtherOrigins(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer other.Close()
	c, err := NewClient(WithBaseURL("http://127.0.0.1:1/api"), WithTokenSource(staticTokens("secret-token")), WithRateLimit(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{other.URL + "/api/x", "http://127.0.0.1:1/elsewhere", "http://127.0.0.1:1/apix"} {
		req, _ := http.NewRequest("GET", target, nil)
		if _, err := c.Do(req, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Do of %s: %v, want ErrInvalid", target, err)
		}
	}
	for _, path := range []string{"https://evil.example.com/x", "//evil.example.com/x", "../x", "users/../../x", "users#frag"} {
		if _, err := c.NewRequest(context.Background(), "GET", path, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewRequest of %q: %v, want ErrInvalid", path, err)
		}
	}
	if hits != 0 {
		t.Errorf("the other origin got %d requests", hits)
	}
}

// staticTokens is a token source of one access token.
func staticTokens(token string) oauth2.TokenSource {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, TokenType: "Bearer"})
}
