// Package deliveries makes the deliveries talkdesk trigger sends, and
// that serveload measures serve with.
package deliveries

import (
	"fmt"
	"strings"
	"time"

	"github.com/talkdeskgo/talkdesk"
	"github.com/talkdeskgo/talkdesk/talkdesktest"
)

// Body is the body of delivery i of t in run, made at now: the fields a
// busy contact centre's deliveries carry, in the form Talkdesk sends them
// (talkdesktest.Delivery), each delivery its own interaction, so that no
// delivery is another's repeat.
func Body(run string, t talkdesk.Trigger, i int, now time.Time) []byte {
	now = now.UTC().Truncate(time.Second)
	agents := []struct{ id, name, email string }{
		{"ag-miguel", "Miguel Santos", "miguel.santos@acme.example"},
		{"ag-rita", "Rita Lopes", "rita.lopes@acme.example"},
		{"ag-ana", "Ana Costa", "ana.costa@acme.example"},
	}
	contacts := []struct{ id, name, phone string }{
		{"ct-joana", "Joana Ferreira", "+351912345678"},
		{"ct-jose", "José Simões", "+351913456789"},
		{"ct-ada", "Ada Lovelace", "+442071234567"},
		{"ct-rui", "Rui Almeida", "+351914567890"},
	}
	a, c := agents[i%len(agents)], contacts[i%len(contacts)]
	interaction := fmt.Sprintf("int-%s-%06d", run, i)
	fields := map[string]string{
		"account_id": "acme-5d1c", "interaction_id": interaction, "call_id": fmt.Sprintf("CA%s%026d", run, i),
		"agent_id": a.id, "agent.name": a.name, "agent.email": a.email, "agent.tags_list": "support, tier2",
		"contact.id": c.id, "contact_id": c.id, "contact.name": c.name, "contact.first_name": strings.Fields(c.name)[0],
		"contact.phone": c.phone, "contact_phone_number": c.phone, "talkdesk_phone_number": "+14155550100",
		"interaction.type": "inbound", "tags": "support, vip", "waiting_time": "21", "in_business_hours": "true",
		"start_time": now.Add(-154 * time.Second).Format(time.RFC3339), "timestamp": now.Format(time.RFC3339),
		"total_duration": "175", "duration": "154", "hold_time": "12", "hangup": "agent",
		"title": fmt.Sprintf("Follow-up %s-%d", run, i), "content": "Call back after 17:00.",
	}
	switch t {
	case talkdesk.TriggerContactCreated, talkdesk.TriggerContactUpdated:
		fields["event"] = map[talkdesk.Trigger]string{talkdesk.TriggerContactCreated: "contact_created", talkdesk.TriggerContactUpdated: "contact_updated"}[t]
		fields["contact.id"] = fmt.Sprintf("ct-%s-%06d", run, i)
		fields["contact_id"] = fields["contact.id"]
	case talkdesk.TriggerNoteCreated:
		fields["event"] = "note_created"
	case talkdesk.TriggerAgentLogIn, talkdesk.TriggerAgentLogOut:
		fields["event"] = map[talkdesk.Trigger]string{talkdesk.TriggerAgentLogIn: "agent_login", talkdesk.TriggerAgentLogOut: "agent_logout"}[t]
		fields["agent_id"] = fmt.Sprintf("ag-%s-%06d", run, i) // each its own agent: no delivery is another's repeat
	case talkdesk.TriggerInboundCallReachesContactCenter:
		fields["event"] = "call_reaches_contact_center"
	case talkdesk.TriggerInboundCallStarts:
		fields["event"] = "call_started"
	default:
		fields["event"] = "call_finished"
	}
	body, err := talkdesktest.Delivery(t, fields)
	if err != nil {
		panic(err) // t is a trigger
	}
	return body
}
