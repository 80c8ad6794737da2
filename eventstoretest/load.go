package eventstoretest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/talkdeskgo/talkdesk"
)

// body is a complete inboundCallEnds body, as Talkdesk fills the
// connector's template, but for the fields CallEnded gives each event.
var body = map[string]string{
	"event": "call_finished", "account_id": "5d1c8e2f3a4b5c6d7e8f9a0b", "contact_phone_number": "+351912345678",
	"total_duration": "187", "duration": "154", "waiting_time": "21", "hold_time": "12", "in_business_hours": "true",
	"recording_url": "https://recordings.talkdeskapp.com/r/9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d.mp3", "hangup": "agent",
	"talkdesk_phone_number": "+14155550100", "talkdesk_phone_display_name": "Support line",
	"contact_name": "Ada Lovelace", "contact_email": "ada@example.com", "agent_name": "Ana Sousa", "agent_email": "ana@example.com",
	"ring_groups": "support,sales", "tags": "vip, returning, billing", "agent_tags": "tier2", "phone_vip": "no",
	"disposition_code": "resolved",
}

// CallEnded returns inboundCallEnds event i of a measurement at volume,
// which ends at at: a call of its own interaction, of contact i%50,000
// and agent i%300, with 900 bytes of notes, about 2.9 KB as a stored line.
// The file log's scale script and the PostgreSQL store's benchmarks
// append these events, so that their figures compare; so can a store of
// your own.
func CallEnded(i int, at time.Time) (*talkdesk.Event, error) {
	m := maps.Clone(body)
	m["call_id"] = fmt.Sprintf("CA%030d", i)
	m["interaction_id"] = fmt.Sprintf("int-%012d", i)
	m["contact_id"] = fmt.Sprintf("contact-%06d", i%50_000)
	m["agent_id"] = fmt.Sprintf("agent-%03d", i%300)
	m["start_time"] = at.Add(-3 * time.Minute).Format(time.RFC3339)
	m["timestamp"] = at.Format(time.RFC3339)
	m["notes"] = fmt.Sprintf("%0900d", i)
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, b)
}

// CallsReport returns a reader of a calls report of the Explore API, in
// JSON, of n calls ending one a second from start, in the shape Talkdesk
// serves since 2026-05-11, written as it is read: a report of a million
// calls costs no memory to make. Call i is of agent i%300, with its own
// call and interaction ID.
func CallsReport(n int, start time.Time) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 64<<10)
		bw.WriteString(`{"type":"calls","version":"v1","entries":[`)
		for i := range n {
			if i > 0 {
				bw.WriteByte(',')
			}
			end := start.Add(time.Duration(i) * time.Second)
			fmt.Fprintf(bw, `{"call_id":"%032x","callsid":"CA%032x","type":"inbound","start_at":%q,"end_at":%q,`+
				`"talkdesk_phone_number":"+14155550100","talkdesk_phone_display_name":"Support line","contact_phone_number":"+351912345678",`+
				`"user_id":"agent-%03d","user_name":"Ana Sousa","user_email":"ana@example.com","total_time":187,"talk_time":154,"wait_time":21,`+
				`"hold_time":12,"abandon_time":0,"total_ringing_time":8,"disposition_code":"resolved","notes":null,"user_voice_rating":0,`+
				`"ring_groups":"support","ivr_options":"1","is_in_business_hours":true,"is_callback_from_queue":false,"is_transfer":false,`+
				`"recording_url":"https://api.talkdeskapp.com/calls/%032x/recordings","team_id":"t-1","team_name":"Support","agent_disconnected":"No"}`,
				i, i, end.Add(-187*time.Second).UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), i%300, i)
		}
		fmt.Fprintf(bw, `],"total":%d}`, n)
		pw.CloseWithError(bw.Flush())
	}()
	return pr
}

// ReportedCall returns call i of the report CallsReport makes, as
// talkdesk.CallRecords reads it.
func ReportedCall(i int, start time.Time) *talkdesk.CallRecord {
	end := start.Add(time.Duration(i) * time.Second)
	yes, no := true, false
	return &talkdesk.CallRecord{
		CallID: fmt.Sprintf("%032x", i), CallSID: fmt.Sprintf("CA%032x", i), Direction: "inbound", StartAt: end.Add(-187 * time.Second), EndAt: end,
		TalkdeskPhoneNumber: "+14155550100", TalkdeskPhoneDisplayName: "Support line", ContactPhoneNumber: "+351912345678",
		UserID: fmt.Sprintf("agent-%03d", i%300), UserName: "Ana Sousa", UserEmail: "ana@example.com", TotalTime: 187 * time.Second,
		TalkTime: 154 * time.Second, WaitTime: 21 * time.Second, HoldTime: 12 * time.Second, RingingTime: 8 * time.Second,
		DispositionCode: "resolved", RingGroups: "support", IVROptions: "1", InBusinessHours: &yes, CallbackFromQueue: &no, Transfer: &no,
		RecordingURL: fmt.Sprintf("https://api.talkdeskapp.com/calls/%032x/recordings", i), TeamID: "t-1", TeamName: "Support", AgentDisconnected: &no,
	}
}
