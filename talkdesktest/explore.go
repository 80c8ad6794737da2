package talkdesktest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// Variants picks, among the forms Talkdesk and its documentation have been
// seen to use for the APIs beyond the connector, those the Server serves,
// so that code can be tested against each. The zero value is the
// documented form of each.
type Variants struct {
	// JobWrapped answers report jobs under "job" (as every public client
	// reads them), rather than flat (as the reference documents).
	JobWrapped bool
	// CreateStatus is the status of a created report job: 200, 201 or 202
	// (0).
	CreateStatus int
	// Completed spells the final status of a report job "completed", as
	// Airbyte reads it, rather than "done".
	Completed bool
	// Ready is how a poll of a ready job says so: ReadyStatus (0) by its
	// status, Ready300, Ready302 or Ready303 by a redirect to its file, or
	// ReadyInline with the report's entries in the answer.
	Ready ReadySignal
	// PendingPolls is how many polls of each job say it is not ready yet
	// (status processing), answered 204 when PendingNoContent.
	PendingPolls     int
	PendingNoContent bool
	// EndStatus, when set (failed, canceled, deleted), ends every job with
	// it at its first poll after the pending ones.
	EndStatus string
	// OldCallFields writes calls reports in the shape before 2026-05-11
	// (interaction_id, start_time, durations as fractions of a day,
	// "TRUE"), rather than the current one.
	OldCallFields bool
	// TooManyRequests answers the next requests for reports 429, with
	// Retry-After: 1.
	TooManyRequests int
	// RecordingDelay is how long after a call ended its recordings answer
	// 404 (Talkdesk's is about 30 s).
	RecordingDelay time.Duration
	// RecordingLinks spells the links of a recording "links" (as the
	// reference does once) rather than "_links"; RecordingWrapped answers
	// GetRecording under "recording".
	RecordingLinks   bool
	RecordingWrapped bool
	// Extension is how users' extensions are written: "string" (""), the
	// connector's form, "number", the Users API's reference form, or
	// "null".
	Extension string
}

// ReadySignal is how the Server's report jobs say they are ready.
type ReadySignal int

// The ready signals of [Variants].
const (
	ReadyStatus ReadySignal = iota
	Ready300
	Ready302
	Ready303
	ReadyInline
)

// SetVariants makes the Server serve v's forms from now on.
func (s *Server) SetVariants(v Variants) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.explore.variants = v
}

// exploreState is the fake's Explore API, recordings and directory.
type exploreState struct {
	variants   Variants
	calls      []talkdesk.CallRecord
	jobs       map[string]*fakeJob
	recordings map[string]*fakeRecording // by ID
	account    talkdesk.Account
	presigned  *httptest.Server
	leaks      []string
}

type fakeJob struct {
	id, name, timezone, format string
	typ                        string
	from, to                   time.Time
	polls                      int
}

type fakeRecording struct {
	rec     talkdesk.Recording
	endedAt time.Time
	audio   []byte
}

// AddReportedCalls adds calls to the account's history, which the calls
// reports of the Server's Explore API give (those whose EndAt is in a
// job's range, in the order added).
func (s *Server) AddReportedCalls(calls ...talkdesk.CallRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.explore.calls = append(s.explore.calls, calls...)
}

// AddRecording adds a recording of the call callID, which ended at
// endedAt (when the recording was made, to the second), with audio as its
// media, and returns it with its ID and media link. Its duration is 30 s.
func (s *Server) AddRecording(callID string, endedAt time.Time, audio []byte) talkdesk.Recording {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := randomHex(12)
	n := 0
	for _, r := range s.explore.recordings {
		if r.rec.CallID == callID {
			n++
		}
	}
	rec := talkdesk.Recording{
		ID: id, CallID: callID, CreatedAt: endedAt.UTC().Truncate(time.Second), Index: n, Duration: 30 * time.Second,
		Type: "conversation", MediaURL: s.URL + "/recordings/" + id + "/media",
		Channels: [][]talkdesk.RecordingParticipant{{{Type: "AGENT", ID: "agent-1"}}, {{Type: "CONTACT", ID: "contact-1"}}},
	}
	s.explore.recordings[id] = &fakeRecording{rec: rec, endedAt: endedAt, audio: slices.Clone(audio)}
	return rec
}

// SetAccount sets what GET /account answers.
func (s *Server) SetAccount(a talkdesk.Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.explore.account = a
}

// PresignedURL is the origin of the Server's second server, the object
// store it redirects report and recording downloads to with presigned
// URLs, as Talkdesk does.
func (s *Server) PresignedURL() string { return s.explore.presigned.URL }

// Leaks returns the requests that reached the presigned host with an
// Authorization header: a bearer token sent where it must never go. The
// host answers each 403, so that the download fails too.
func (s *Server) Leaks() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.explore.leaks)
}

func (s *Server) registerExplore(mux *http.ServeMux) {
	s.explore.jobs = map[string]*fakeJob{}
	s.explore.recordings = map[string]*fakeRecording{}
	s.explore.account = talkdesk.Account{ID: s.actions.accountID, Name: Account, CompanyName: "Talkdesk Test", Timezone: "UTC", CreatedAt: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)}
	routes := map[string]http.HandlerFunc{
		"POST /data/reports/{type}/jobs":     s.throttled(s.handleCreateReport),
		"GET /data/reports/{type}/jobs/{id}": s.throttled(s.handleReportStatus),
		"GET /data/reports/{type}/files/{id}": s.throttled(func(w http.ResponseWriter, r *http.Request) {
			s.redirectToPresigned(w, http.StatusSeeOther, "/reports/"+r.PathValue("id"))
		}),
		"GET /users/{id}":            s.handleGetUser,
		"GET /account":               s.handleGetAccount,
		"GET /calls/{id}/recordings": s.handleCallRecordings,
		"GET /recordings/{id}":       s.handleGetRecording,
		"GET /recordings/{id}/media": s.handleRecordingMedia,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, s.api(h))
	}
	presigned := http.NewServeMux()
	presigned.HandleFunc("GET /reports/{id}", s.handlePresignedReport)
	presigned.HandleFunc("GET /media/{id}", s.handlePresignedMedia)
	s.explore.presigned = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth := r.Header.Get("Authorization"); auth != "" {
			s.mu.Lock()
			s.explore.leaks = append(s.explore.leaks, r.Method+" "+r.URL.Path)
			s.mu.Unlock()
			http.Error(w, "an Authorization header was sent to a presigned URL", http.StatusForbidden)
			return
		}
		if r.URL.Query().Get("X-Amz-Signature") != "fake" {
			http.Error(w, "not signed", http.StatusForbidden)
			return
		}
		presigned.ServeHTTP(w, r)
	}))
}

// throttled answers 429 while Variants.TooManyRequests lasts.
func (s *Server) throttled(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		busy := s.explore.variants.TooManyRequests > 0
		if busy {
			s.explore.variants.TooManyRequests--
		}
		s.mu.Unlock()
		if busy {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "too_many_requests", "Too many requests")
			return
		}
		h(w, r)
	}
}

func (s *Server) redirectToPresigned(w http.ResponseWriter, status int, path string) {
	w.Header().Set("Location", s.explore.presigned.URL+path+"?X-Amz-Signature=fake&X-Amz-Expires=300")
	w.WriteHeader(status)
}

// handleCreateReport is POST /data/reports/{type}/jobs.
func (s *Server) handleCreateReport(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name     string  `json:"name"`
		Timezone string  `json:"timezone"`
		Format   *string `json:"format"`
		Timespan *struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"timespan"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Format == nil || body.Timespan == nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "format and timespan are required")
		return
	}
	from, err1 := time.Parse(time.RFC3339, body.Timespan.From)
	to, err2 := time.Parse(time.RFC3339, body.Timespan.To)
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, "invalid_request", "timespan.from and timespan.to must be RFC 3339")
		return
	case *body.Format != "json" && *body.Format != "csv" && *body.Format != "json_bulk":
		writeError(w, http.StatusBadRequest, "invalid_request", "format must be csv, json or json_bulk")
		return
	case to.Sub(from) > 31*24*time.Hour:
		writeError(w, http.StatusBadRequest, "invalid_request", "up to a month of data per request")
		return
	}
	job := &fakeJob{id: randomHex(16), name: body.Name, timezone: body.Timezone, format: *body.Format, typ: r.PathValue("type"), from: from, to: to}
	s.mu.Lock()
	s.explore.jobs[job.id] = job
	v := s.explore.variants
	s.mu.Unlock()
	status := v.CreateStatus
	if status == 0 {
		status = http.StatusAccepted
	}
	writeJSON(w, status, s.jobBody(job, "created", v))
}

// jobBody is a job as the Server answers it.
func (s *Server) jobBody(job *fakeJob, status string, v Variants) map[string]any {
	j := map[string]any{
		"id": job.id, "name": job.name, "timezone": job.timezone, "status": status, "format": job.format, "type": job.typ,
		"created_at": time.Now().UTC().Format("2006-01-02T15:04:05"),
		"timespan":   map[string]string{"from": job.from.Format(time.RFC3339), "to": job.to.Format(time.RFC3339)},
	}
	links := map[string]any{
		"self":  map[string]string{"href": s.URL + "/data/reports/" + job.typ + "/jobs/" + job.id},
		"files": map[string]string{"href": s.URL + "/data/reports/" + job.typ + "/files/" + job.id},
	}
	if v.JobWrapped {
		return map[string]any{"job": j, "_links": links}
	}
	j["_links"] = links
	return j
}

// handleReportStatus is GET /data/reports/{type}/jobs/{id}.
func (s *Server) handleReportStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	job := s.explore.jobs[r.PathValue("id")]
	v := s.explore.variants
	if job != nil {
		job.polls++
	}
	s.mu.Unlock()
	if job == nil || job.typ != r.PathValue("type") {
		writeError(w, http.StatusNotFound, "not_found", "Report job not found")
		return
	}
	if job.polls <= v.PendingPolls {
		if v.PendingNoContent {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, s.jobBody(job, "processing", v))
		return
	}
	if v.EndStatus != "" {
		writeJSON(w, http.StatusOK, s.jobBody(job, v.EndStatus, v))
		return
	}
	done := "done"
	if v.Completed {
		done = "completed"
	}
	body := s.jobBody(job, done, v)
	files := "/data/reports/" + job.typ + "/files/" + job.id
	switch v.Ready {
	case Ready300, Ready302, Ready303:
		w.Header().Set("Location", files)
		writeJSON(w, map[ReadySignal]int{Ready300: 300, Ready302: 302, Ready303: 303}[v.Ready], body)
	case ReadyInline:
		file, err := s.reportFile(job, "json")
		if err != nil {
			writeError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		var merged map[string]any
		json.Unmarshal(file, &merged)
		for k, v := range body {
			merged[k] = v
		}
		writeJSON(w, http.StatusOK, merged)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// handlePresignedReport serves a report's file at the presigned host.
func (s *Server) handlePresignedReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	job := s.explore.jobs[r.PathValue("id")]
	s.mu.Unlock()
	if job == nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	file, err := s.reportFile(job, job.format)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", map[bool]string{true: "text/csv", false: "application/json"}[job.format == "csv"])
	w.Write(file)
}

// reportFile writes the file of a job: the calls of its range for a calls
// report, no entries for any other.
func (s *Server) reportFile(job *fakeJob, format string) ([]byte, error) {
	s.mu.Lock()
	old := s.explore.variants.OldCallFields
	var calls []talkdesk.CallRecord
	if job.typ == "calls" {
		for _, c := range s.explore.calls {
			if !c.EndAt.Before(job.from) && c.EndAt.Before(job.to) {
				calls = append(calls, c)
			}
		}
	}
	s.mu.Unlock()
	loc := time.UTC
	if job.timezone != "" {
		if l, err := time.LoadLocation(job.timezone); err == nil {
			loc = l
		}
	}
	entries := make([]map[string]any, len(calls))
	for i := range calls {
		entries[i] = callEntry(&calls[i], old, loc)
	}
	if format != "csv" {
		return json.Marshal(map[string]any{"type": job.typ, "version": "v1", "entries": entries, "total": len(entries)})
	}
	keys := newCallKeys
	if old {
		keys = oldCallKeys
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	header := make([]string, len(keys))
	for i, k := range keys {
		header[i] = csvLabel(k)
	}
	cw.Write(header)
	for _, e := range entries {
		row := make([]string, len(keys))
		for i, k := range keys {
			if v, ok := e[k]; ok && v != nil {
				row[i] = fmt.Sprint(v)
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

// The fields of a call, in each shape, in the order of Talkdesk's examples.
var (
	newCallKeys = []string{"call_id", "callsid", "type", "start_at", "end_at", "talkdesk_phone_number", "talkdesk_phone_display_name",
		"contact_phone_number", "user_id", "user_name", "user_email", "total_time", "talk_time", "wait_time", "hold_time", "abandon_time",
		"total_ringing_time", "disposition_code", "notes", "ring_groups", "ivr_options", "is_in_business_hours", "is_callback_from_queue",
		"is_transfer", "handling_user_id", "handling_user_name", "handling_user_email", "recording_url", "is_external_transfer",
		"team_id", "team_name", "agent_disconnected"}
	oldCallKeys = []string{"interaction_id", "call_type", "start_time", "end_time", "talkdesk_phone_number", "customer_phone_number",
		"talk_time", "record", "hangup", "in_business_hours?", "callback_from_queue?", "waiting_time", "agent_speed_to_answer",
		"holding_time", "description", "agent_name", "phone_display_name", "disposition_code", "transfer?", "handling_agent", "tags",
		"ivr_options", "team", "agent_disconnected"}
)

// csvLabel is the human label of a field, as Talkdesk's CSV files have
// them: "Call Id" for call_id.
func csvLabel(key string) string {
	words := strings.Split(key, "_")
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// callEntry writes c as an entry of a calls report of the shape asked for.
func callEntry(c *talkdesk.CallRecord, old bool, loc *time.Location) map[string]any {
	yesNo := func(b *bool, yes, no string) any {
		if b == nil {
			return nil
		}
		if *b {
			return yes
		}
		return no
	}
	if old {
		day := func(d time.Duration) float64 { return d.Seconds() / 86400 }
		at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05") }
		id := c.InteractionID
		if id == "" {
			id = c.CallID
		}
		return map[string]any{
			"interaction_id": id, "call_type": c.Direction, "start_time": at(c.StartAt), "end_time": at(c.EndAt),
			"talkdesk_phone_number": c.TalkdeskPhoneNumber, "customer_phone_number": c.ContactPhoneNumber,
			"talk_time": day(c.TalkTime), "record": c.RecordingURL, "hangup": c.Hangup,
			"in_business_hours?": yesNo(c.InBusinessHours, "TRUE", "FALSE"), "callback_from_queue?": yesNo(c.CallbackFromQueue, "TRUE", "FALSE"),
			"waiting_time": day(c.WaitTime), "agent_speed_to_answer": day(c.SpeedToAnswer), "holding_time": day(c.HoldTime),
			"description": c.Notes, "agent_name": c.UserName, "phone_display_name": c.TalkdeskPhoneDisplayName,
			"disposition_code": c.DispositionCode, "transfer?": yesNo(c.Transfer, "Yes", "No"), "handling_agent": c.HandlingUserName,
			"tags": c.RingGroups, "ivr_options": c.IVROptions, "team": c.TeamName, "agent_disconnected": yesNo(c.AgentDisconnected, "Yes", "No"),
		}
	}
	sec := func(d time.Duration) any { return int(d.Seconds()) }
	boolean := func(b *bool) any {
		if b == nil {
			return nil
		}
		return *b
	}
	notes := any(nil)
	if c.Notes != "" {
		notes = c.Notes
	}
	return map[string]any{
		"call_id": c.CallID, "callsid": c.CallSID, "type": c.Direction,
		"start_at": c.StartAt.UTC().Format(time.RFC3339), "end_at": c.EndAt.UTC().Format(time.RFC3339),
		"talkdesk_phone_number": c.TalkdeskPhoneNumber, "talkdesk_phone_display_name": c.TalkdeskPhoneDisplayName,
		"contact_phone_number": c.ContactPhoneNumber, "user_id": c.UserID, "user_name": c.UserName, "user_email": c.UserEmail,
		"total_time": sec(c.TotalTime), "talk_time": sec(c.TalkTime), "wait_time": sec(c.WaitTime), "hold_time": sec(c.HoldTime),
		"abandon_time": sec(c.AbandonTime), "total_ringing_time": sec(c.RingingTime), "disposition_code": c.DispositionCode,
		"notes": notes, "ring_groups": c.RingGroups, "ivr_options": c.IVROptions,
		"is_in_business_hours": boolean(c.InBusinessHours), "is_callback_from_queue": boolean(c.CallbackFromQueue),
		"is_transfer": boolean(c.Transfer), "handling_user_id": c.HandlingUserID, "handling_user_name": c.HandlingUserName,
		"handling_user_email": c.HandlingUserEmail, "recording_url": c.RecordingURL, "is_external_transfer": boolean(c.ExternalTransfer),
		"team_id": c.TeamID, "team_name": c.TeamName, "agent_disconnected": yesNo(c.AgentDisconnected, "Yes", "No"),
	}
}

// userBody is a user as GET /users and GET /users/{id} answer it.
func (s *Server) userBody(u *fakeUser, v Variants) map[string]any {
	var ext any = u.Extension
	switch v.Extension {
	case "number":
		n, err := strconv.Atoi(u.Extension)
		if err != nil {
			ext = nil
		} else {
			ext = n
		}
	case "null":
		ext = nil
	}
	return map[string]any{
		"id": u.ID, "email": u.Email, "name": u.Name, "active": u.Active, "gender": u.Gender, "extension": ext,
		"external_phone_number": u.ExternalPhoneNumber, "created_at": u.CreatedAt.Format(time.RFC3339Nano),
		"_links": map[string]any{"self": map[string]string{"href": s.URL + "/users/" + u.ID}},
	}
}

// handleListUsers is GET /users with page or per_page (and no email): the
// users, page by page (50 a page by default), with the links of the Users
// API.
func (s *Server) handleListUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	perPage, _ := strconv.Atoi(q.Get("per_page"))
	page, perPage = max(page, 1), max(min(perPage, 100), 0)
	if perPage == 0 {
		perPage = 50
	}
	s.mu.Lock()
	v := s.explore.variants
	total := len(s.actions.users)
	var users []map[string]any
	for i := (page - 1) * perPage; i < min(total, page*perPage); i++ {
		users = append(users, s.userBody(s.actions.users[i], v))
	}
	s.mu.Unlock()
	pages := (total + perPage - 1) / perPage
	link := func(p int) map[string]string {
		return map[string]string{"href": fmt.Sprintf("%s/users?page=%d&per_page=%d", s.URL, p, perPage)}
	}
	links := map[string]any{"self": link(page), "first": link(1), "last": link(max(pages, 1)),
		"show": map[string]any{"templated": true, "href": s.URL + "/users/{id}"}}
	if page < pages {
		links["next"] = link(page + 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"count": len(users), "total": total, "page": page, "per_page": perPage, "total_pages": pages,
		"_embedded": map[string]any{"users": users}, "_links": links,
	})
}

// handleGetUser is GET /users/{id}.
func (s *Server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u := s.userLocked(r.PathValue("id"))
	var body map[string]any
	if u != nil {
		body = s.userBody(u, s.explore.variants)
	}
	s.mu.Unlock()
	if u == nil {
		writeError(w, http.StatusNotFound, "not_found", "User not found")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// handleGetAccount is GET /account.
func (s *Server) handleGetAccount(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.explore.account
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": a.ID, "name": a.Name, "company_name": a.CompanyName, "timezone": a.Timezone,
		"created_at": a.CreatedAt.UTC().Format(time.RFC3339),
		"_links":     map[string]any{"self": map[string]string{"href": s.URL + "/account"}, "users": map[string]string{"href": s.URL + "/users"}},
	})
}

// recordingBody is a recording as the Server answers it.
func (s *Server) recordingBody(f *fakeRecording, v Variants) map[string]any {
	r := f.rec
	channels := map[string]any{}
	for i, ch := range r.Channels {
		var ps []map[string]string
		for _, p := range ch {
			ps = append(ps, map[string]string{"participant_type": p.Type, "participant_id": p.ID})
		}
		channels[fmt.Sprintf("channel_%d", i+1)] = ps
	}
	key := "_links"
	if v.RecordingLinks {
		key = "links"
	}
	return map[string]any{
		"id": r.ID, "call_id": r.CallID, "created_at": r.CreatedAt.Format(time.RFC3339), "index": r.Index,
		"duration": int(r.Duration.Seconds()), "type": r.Type, "agents": channels,
		key: map[string]any{"self": map[string]string{"href": s.URL + "/recordings/" + r.ID}, "media": map[string]string{"href": r.MediaURL}},
	}
}

// readyLocked reports whether a recording is there: RecordingDelay after
// its call ended.
func (s *Server) readyLocked(f *fakeRecording) bool {
	return !time.Now().Before(f.endedAt.Add(s.explore.variants.RecordingDelay))
}

// handleCallRecordings is GET /calls/{id}/recordings.
func (s *Server) handleCallRecordings(w http.ResponseWriter, r *http.Request) {
	callID := r.PathValue("id")
	s.mu.Lock()
	v := s.explore.variants
	var recs []map[string]any
	var found []*fakeRecording
	for _, f := range s.explore.recordings {
		if f.rec.CallID == callID && s.readyLocked(f) {
			found = append(found, f)
		}
	}
	slices.SortFunc(found, func(a, b *fakeRecording) int { return a.rec.Index - b.rec.Index })
	for _, f := range found {
		recs = append(recs, s.recordingBody(f, v))
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "Recordings not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total": len(recs), "count": len(recs), "page": 1, "per_page": 50,
		"_embedded": map[string]any{"recordings": recs},
		"_links":    map[string]any{"self": map[string]string{"href": s.URL + r.URL.RequestURI()}},
	})
}

// handleGetRecording is GET /recordings/{id}.
func (s *Server) handleGetRecording(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.explore.recordings[r.PathValue("id")]
	v := s.explore.variants
	ready := f != nil && s.readyLocked(f)
	var body map[string]any
	if ready {
		body = s.recordingBody(f, v)
	}
	s.mu.Unlock()
	if !ready {
		writeError(w, http.StatusNotFound, "not_found", "Recording not found")
		return
	}
	if v.RecordingWrapped {
		key := "_links"
		if v.RecordingLinks {
			key = "links"
		}
		links := body[key]
		delete(body, key)
		body = map[string]any{"recording": body, key: links}
	}
	writeJSON(w, http.StatusOK, body)
}

// handleRecordingMedia is GET /recordings/{id}/media: a redirect to the
// presigned host.
func (s *Server) handleRecordingMedia(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.explore.recordings[r.PathValue("id")]
	ready := f != nil && s.readyLocked(f)
	s.mu.Unlock()
	if !ready {
		writeError(w, http.StatusNotFound, "not_found", "Recording not found")
		return
	}
	s.redirectToPresigned(w, http.StatusFound, "/media/"+f.rec.ID+".mp3")
}

// handlePresignedMedia serves a recording's audio at the presigned host.
func (s *Server) handlePresignedMedia(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSuffix(r.PathValue("id"), ".mp3")
	s.mu.Lock()
	f := s.explore.recordings[id]
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "NoSuchKey", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	w.Write(f.audio)
}
