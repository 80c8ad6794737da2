package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ReportType names a report of Talkdesk's Explore API, the history of an
// account for BI tools. Talkdesk has about fifteen; these are the ones its
// documentation and public clients name. Any other name works too.
type ReportType string

// Report types of the Explore API.
const (
	ReportCalls               ReportType = "calls"
	ReportExploreCalls        ReportType = "explore_calls"
	ReportUserStatus          ReportType = "user_status"
	ReportContacts            ReportType = "contacts"
	ReportRingAttempts        ReportType = "ring_attempts"
	ReportStudioFlowExecution ReportType = "studio_flow_execution"
	ReportMessagingContacts   ReportType = "messaging_contacts"
)

// ReportFormat is the file format of a report.
type ReportFormat string

// Report formats.
const (
	ReportJSON ReportFormat = "json"
	ReportCSV  ReportFormat = "csv"
)

// MaxReportSpan is the longest time range one report job may cover:
// Talkdesk's "up to a month of data per request", as 31 days.
const MaxReportSpan = 31 * 24 * time.Hour

// ExploreScopes are the OAuth scopes of the Explore API: data-reports:write
// to create report jobs, data-reports:read to poll and download them.
func ExploreScopes() []string { return []string{"data-reports:read", "data-reports:write"} }

// ReportRequest asks Talkdesk for a report of the events of [From, To).
type ReportRequest struct {
	Type     ReportType
	From, To time.Time    // sent in UTC, RFC 3339; at most MaxReportSpan apart
	Format   ReportFormat // ReportJSON when empty
	Name     string       // optional; left out when empty
	Timezone string       // IANA, such as "Europe/Lisbon"; optional, left out when empty
}

// checkReportType refuses a report type that is not a name: letters,
// digits, underscores and hyphens.
func checkReportType(t ReportType) error {
	if t == "" || len(t) > 64 || strings.TrimFunc(string(t), func(r rune) bool {
		return r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}) != "" {
		return invalid("Type", fmt.Sprintf("%q is not the name of a report type", t))
	}
	return nil
}

// ReportJob is a report Talkdesk is making or has made.
type ReportJob struct {
	ID        string
	Type      ReportType
	Name      string
	Status    string // as Talkdesk spells it: created, processing, uploading, done or completed, failed...
	Format    ReportFormat
	Timezone  string
	From, To  time.Time
	CreatedAt time.Time

	// Ready is true once the report can be downloaded: a status done or
	// completed, a redirect to its file, or its entries in the answer.
	Ready bool

	location string // where the file is, from the redirect that said it is ready
	inline   []byte // the report itself, when the poll's answer held its entries
}

// ErrReportFailed is matched by the error of a report job that Talkdesk
// ended without a file (failed, canceled, deleted).
var ErrReportFailed = errors.New("talkdesk: report job ended without a report")

// ReportJobError is the error of a report job Talkdesk ended without a
// file. It matches [ErrReportFailed].
type ReportJobError struct {
	Type   ReportType
	ID     string
	Status string
}

func (e *ReportJobError) Error() string {
	return fmt.Sprintf("talkdesk: %s report job %s ended %s, without a report", e.Type, e.ID, e.Status)
}

func (e *ReportJobError) Unwrap() error { return ErrReportFailed }

// wireReportJob is a job as Talkdesk sends it: flat, or under "job".
type wireReportJob struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Status    string    `json:"status"`
	Format    string    `json:"format"`
	Timezone  string    `json:"timezone"`
	CreatedAt timestamp `json:"created_at"`
	Timespan  struct {
		From timestamp `json:"from"`
		To   timestamp `json:"to"`
	} `json:"timespan"`
}

// wireReportAnswer is any answer about a job: the job flat or under
// "job", and, when Talkdesk (or a proxy) followed the redirect, the
// report's entries.
type wireReportAnswer struct {
	wireReportJob
	Job     *wireReportJob  `json:"job"`
	Entries json.RawMessage `json:"entries"`
}

func (a *wireReportAnswer) job(t ReportType) *ReportJob {
	w := &a.wireReportJob
	if a.Job != nil {
		w = a.Job
	}
	j := &ReportJob{
		ID: w.ID, Type: t, Name: w.Name, Status: strings.ToLower(w.Status), Format: ReportFormat(strings.ToLower(w.Format)),
		Timezone: w.Timezone, From: w.Timespan.From.Time(), To: w.Timespan.To.Time(), CreatedAt: w.CreatedAt.Time(),
	}
	if w.Type != "" {
		j.Type = ReportType(w.Type)
	}
	return j
}

// ended reports whether the job's status says it ended without a file.
func (j *ReportJob) ended() bool {
	switch j.Status {
	case "failed", "canceled", "cancelled", "deleted", "error":
		return true
	}
	return false
}

// CreateReport asks Talkdesk to make a report (POST
// /data/reports/{type}/jobs, scope data-reports:write) and returns its
// job, which [Client.WaitReport] waits for. Talkdesk answers 200, 201 or
// 202, with the job flat or under "job": each is read. The request is the
// documented one: name, timezone, format and timespan{from, to} in UTC,
// name and timezone left out when empty. A type that is not a path
// segment, a range that is empty or longer than MaxReportSpan, or a format
// other than json and csv fails with [ErrInvalid].
func (c *Client) CreateReport(ctx context.Context, req *ReportRequest) (*ReportJob, error) {
	if req == nil {
		return nil, invalid("req", "must not be nil")
	}
	if err := checkReportType(req.Type); err != nil {
		return nil, err
	}
	path, err := buildPath("/data/reports/{type}/jobs", string(req.Type))
	if err != nil {
		return nil, err
	}
	format := req.Format
	switch {
	case format == "":
		format = ReportJSON
	case format != ReportJSON && format != ReportCSV:
		return nil, invalid("Format", fmt.Sprintf("%q is not json or csv", format))
	}
	switch {
	case req.From.IsZero() || req.To.IsZero():
		return nil, invalid("From", "From and To are required")
	case !req.To.After(req.From):
		return nil, invalid("To", "must be after From")
	case req.To.Sub(req.From) > MaxReportSpan:
		return nil, invalid("To", "a report covers at most 31 days: split the range (Client.Calls does)")
	}
	if req.Timezone != "" {
		if _, err := time.LoadLocation(req.Timezone); err != nil {
			return nil, invalid("Timezone", fmt.Sprintf("%q is not an IANA time zone", req.Timezone))
		}
	}
	body := struct {
		Name     string `json:"name,omitempty"`
		Timezone string `json:"timezone,omitempty"`
		Format   string `json:"format"`
		Timespan struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"timespan"`
	}{Name: req.Name, Timezone: req.Timezone, Format: string(format)}
	body.Timespan.From = req.From.UTC().Format(time.RFC3339)
	body.Timespan.To = req.To.UTC().Format(time.RFC3339)
	var out wireReportAnswer
	if _, err := c.do(ctx, &call{method: "POST", path: path, in: body, out: &out}); err != nil {
		return nil, err
	}
	job := out.job(req.Type)
	if job.ID == "" {
		return nil, malformed("POST", path, "the report job has no id")
	}
	if job.Format == "" {
		job.Format = format
	}
	if job.Timezone == "" {
		job.Timezone = req.Timezone
	}
	if job.From.IsZero() {
		job.From, job.To = req.From.UTC(), req.To.UTC()
	}
	return job, nil
}

// ReportStatus asks Talkdesk once how job is doing (GET
// /data/reports/{type}/jobs/{id}, scope data-reports:read) and returns the
// job as it is now. It is ready (Ready) on any of the signs Talkdesk and
// its clients have been seen to give: a status done or completed, a 300,
// 302 or 303 answer with a Location (a 300 is read here: net/http does not
// follow it), or the report's entries in the answer; a 204 means not yet.
// A job that failed, was canceled or deleted fails with a
// [*ReportJobError].
func (c *Client) ReportStatus(ctx context.Context, job *ReportJob) (*ReportJob, error) {
	if job == nil || job.ID == "" {
		return nil, invalid("job", "must have an ID")
	}
	path, err := buildPath("/data/reports/{type}/jobs/{id}", string(job.Type), job.ID)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	resp, err := c.do(ctx, &call{method: "GET", path: path, out: &raw, redirect: true, mayBeEmpty: true})
	if err != nil {
		return nil, err
	}
	next := *job
	next.Ready = false
	if len(bytes.TrimSpace(raw)) > 0 && json.Valid(raw) {
		var out wireReportAnswer
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, &malformedError{method: "GET", path: path, why: "not a report job", err: err}
		}
		j := out.job(job.Type)
		if j.Status != "" {
			next.Status = j.Status
		}
		if len(bytes.TrimSpace(out.Entries)) > 0 && !bytes.Equal(bytes.TrimSpace(out.Entries), []byte("null")) {
			next.inline, next.Ready = bytes.Clone(raw), true
		}
	}
	switch {
	case next.ended():
		return nil, &ReportJobError{Type: job.Type, ID: job.ID, Status: next.Status}
	case redirectAnswer(resp.StatusCode, resp.Header):
		next.location, next.Ready = resp.Header.Get("Location"), true
	case resp.StatusCode == http.StatusNoContent:
	case next.Status == "done" || next.Status == "completed":
		next.Ready = true
	}
	return &next, nil
}

// WaitReport polls job until it is ready, with a backoff from half a
// second up to ten, and returns it: see [Client.ReportStatus] for what
// ready means. A 429 is waited out as its Retry-After says. ctx bounds the
// wait; a job Talkdesk ends without a file fails with a [*ReportJobError].
func (c *Client) WaitReport(ctx context.Context, job *ReportJob) (*ReportJob, error) {
	wait := 500 * time.Millisecond
	for {
		j, err := c.ReportStatus(ctx, job)
		if err != nil {
			return nil, err
		}
		if j.Ready {
			return j, nil
		}
		job = j
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("talkdesk: waiting for %s report job %s: %w", job.Type, job.ID, err)
		}
		wait = min(wait*3/2, 10*time.Second)
	}
}

// Report is the file of a ready report, read as it downloads.
type Report struct {
	Type     ReportType
	Format   ReportFormat
	Timezone string // the job's, in which times without a zone are read

	body io.ReadCloser
}

// Close closes the download.
func (r *Report) Close() error { return r.body.Close() }

// Read reads the report's file as Talkdesk wrote it.
func (r *Report) Read(p []byte) (int, error) { return r.body.Read(p) }

// OpenReport downloads the file of a ready job (see [Client.WaitReport]),
// as it reads: GET /data/reports/{type}/files/{id} (scope
// data-reports:read) answers with a redirect to a presigned URL of an
// object store, which OpenReport follows itself, without the
// Authorization header: the bearer token never leaves Talkdesk's API. The
// presigned URL must be https (or http when the Client's API root is
// http, as a fake's is); it is the only redirect the Client follows. Close
// the Report when done.
func (c *Client) OpenReport(ctx context.Context, job *ReportJob) (*Report, error) {
	if job == nil || job.ID == "" {
		return nil, invalid("job", "must have an ID")
	}
	rep := &Report{Type: job.Type, Format: job.Format, Timezone: job.Timezone}
	if job.inline != nil {
		rep.body = io.NopCloser(bytes.NewReader(job.inline))
		rep.Format = ReportJSON
		return rep, nil
	}
	filesPath, err := buildPath("/data/reports/{type}/files/{id}", string(job.Type), job.ID)
	if err != nil {
		return nil, err
	}
	target := filesPath
	if job.location != "" {
		target = job.location
	}
	body, err := c.followToFile(ctx, target)
	if err != nil {
		return nil, err
	}
	rep.body = body
	return rep, nil
}

// followToFile gets a file that lives behind loc, a path of the API or a
// URL: on the API's origin with the Client's token, answered by a redirect
// (followed without it) or by the file itself; anywhere else, a presigned
// URL, without credentials.
func (c *Client) followToFile(ctx context.Context, loc string) (io.ReadCloser, error) {
	base, err := url.Parse(c.baseURL + "/")
	if err != nil {
		return nil, err
	}
	u, err := base.Parse(loc)
	if err != nil {
		return nil, malformed("GET", loc, "a Location that is not a URL")
	}
	if u.Scheme == base.Scheme && u.Host == base.Host && strings.HasPrefix(u.EscapedPath(), base.EscapedPath()) {
		path := u.EscapedPath()[len(base.EscapedPath())-1:]
		var file bytes.Buffer
		resp, err := c.do(ctx, &call{method: "GET", path: path, rawQuery: u.RawQuery, out: &file, redirect: true, mayBeEmpty: true})
		if err != nil {
			return nil, err
		}
		if !redirectAnswer(resp.StatusCode, resp.Header) {
			return io.NopCloser(&file), nil // the file itself
		}
		if u, err = u.Parse(resp.Header.Get("Location")); err != nil {
			return nil, malformed("GET", path, "a Location that is not a URL")
		}
	}
	return c.getPresigned(ctx, u)
}

// getPresigned gets u, a presigned URL of an object store, with no
// credentials: not the token, not the Client's throttle (it is not an API
// call). Failures before the answer (a lost connection, a 5xx) are tried
// again as the retry policy says; the body is returned unread.
func (c *Client) getPresigned(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	apiHTTP := strings.HasPrefix(c.baseURL, "http://")
	if u.Scheme != "https" && !(u.Scheme == "http" && apiHTTP) {
		return nil, fmt.Errorf("talkdesk: refused to download from %s: a presigned URL must be https", locationOrigin(u, u.String()))
	}
	origin := u.Scheme + "://" + u.Host
	var lastErr error
	for attempt := 1; attempt <= max(1, c.retry.MaxAttempts); attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", c.userAgent) // and no Authorization
		resp, err := c.hc.Do(req)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = fmt.Errorf("talkdesk: downloading from %s: %w", origin, redactURLError(err))
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return resp.Body, nil
		default:
			io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
			resp.Body.Close()
			lastErr = fmt.Errorf("talkdesk: downloading from %s: %s", origin, resp.Status)
			if resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
				return nil, lastErr // an expired or wrong signature: asking again will not mend it
			}
		}
		if attempt < c.retry.MaxAttempts {
			if err := c.sleep(ctx, c.retry.MinBackoff<<(attempt-1)); err != nil {
				return nil, err
			}
		}
	}
	return nil, lastErr
}

// redactURLError drops the *url.Error around err: its URL holds the
// presigned query, a credential of its own.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// CallsOptions tune [Client.Calls].
type CallsOptions struct {
	Format      ReportFormat // ReportJSON when empty
	Timezone    string       // the jobs' time zone (IANA); UTC when empty
	Concurrency int          // report jobs made at once; 3 when 0
}

// Calls returns the calls of [from, to) from the Explore API's calls
// report, whatever the length of the range: it splits it into report jobs
// of at most 31 days, has Talkdesk make up to opts.Concurrency of them at
// once (3 by default; Talkdesk allows 15 at once per account), and reads
// each file as it downloads, in the order of the range, so that memory
// does not grow with the number of calls. Scopes: data-reports:write and
// data-reports:read. Iteration stops at the first error.
func (c *Client) Calls(ctx context.Context, from, to time.Time, opts *CallsOptions) iter.Seq2[*CallRecord, error] {
	return func(yield func(*CallRecord, error) bool) {
		var o CallsOptions
		if opts != nil {
			o = *opts
		}
		if o.Concurrency <= 0 {
			o.Concurrency = 3
		}
		if !to.After(from) {
			yield(nil, invalid("to", "must be after from"))
			return
		}
		var wg sync.WaitGroup
		defer wg.Wait() // after cancel, below: the jobs under way end
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			job *ReportJob
			err error
		}
		type window struct{ from, to time.Time }
		var spans []window
		for at := from; at.Before(to); at = at.Add(MaxReportSpan) {
			end := at.Add(MaxReportSpan)
			if end.After(to) {
				end = to
			}
			spans = append(spans, window{at, end})
		}
		windows := make([]chan result, len(spans))
		for i := range windows {
			windows[i] = make(chan result, 1)
		}
		sem := make(chan struct{}, o.Concurrency)
		wg.Go(func() {
			for i, w := range spans {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					for _, rest := range windows[i:] {
						rest <- result{err: ctx.Err()}
					}
					return
				}
				wg.Go(func() {
					defer func() { <-sem }()
					job, err := c.CreateReport(ctx, &ReportRequest{Type: ReportCalls, From: w.from, To: w.to, Format: o.Format, Timezone: o.Timezone})
					if err == nil {
						job, err = c.WaitReport(ctx, job)
					}
					windows[i] <- result{job, err}
				})
			}
		})
		for _, ch := range windows {
			r := <-ch
			if r.err != nil {
				yield(nil, r.err)
				return
			}
			rep, err := c.OpenReport(ctx, r.job)
			if err != nil {
				yield(nil, err)
				return
			}
			for rec, err := range rep.Calls() {
				if err != nil {
					rep.Close()
					yield(nil, err)
					return
				}
				if !yield(rec, nil) {
					rep.Close()
					return
				}
			}
			rep.Close()
		}
	}
}
