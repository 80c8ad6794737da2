package tdpostgres

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/talkdeskgo/talkdesk"
)

// readmeQueries returns the SQL blocks of README.md, by their first line.
func readmeQueries(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		title, _, _ := strings.Cut(m[1], "\n")
		out[strings.TrimPrefix(title, "-- ")] = m[1]
	}
	return out
}

// TestReadmeQueries runs the README's two questions against events
// appended through the store, in a schema of the test's own.
func TestReadmeQueries(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ended := func(trigger talkdesk.Trigger, n int, agent, name string, at time.Time, hold int, groups string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{
			"interaction_id": fmt.Sprint("int-", n), "agent_id": agent, "agent_name": name,
			"timestamp": at.Format(time.RFC3339), "hold_time": fmt.Sprint(hold), "tags": groups,
		})
		ev, err := talkdesk.ParseEvent(trigger, b)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.HasOwnTime() { // an outbound call ending: it ended when received
			ev.OccurredAt, ev.ReceivedAt = at, at
		}
		mustAppend(t, s, ev)
	}
	day1 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	ended(talkdesk.TriggerInboundCallEnds, 1, "agent-a", "Ana", day1, 5, "sales")
	ended(talkdesk.TriggerInboundCallEnds, 2, "agent-a", "Ana", day1.Add(time.Hour), 5, "sales")
	ended(talkdesk.TriggerInboundCallEnds, 3, "agent-a", "Ana", day1.Add(2*time.Hour), 5, "")
	ended(talkdesk.TriggerInboundCallEnds, 4, "agent-b", "Bo", day1.Add(3*time.Hour), 5, "support")
	ended(talkdesk.TriggerInboundCallEnds, 5, "agent-b", "Bo", day1.Add(4*time.Hour), 5, "support")
	ended(talkdesk.TriggerInboundCallEnds, 6, "agent-a", "Ana", day2, 100, "sales")
	// This week, as the queries will see it: they run in one transaction,
	// whose now() is its start, so the week cannot turn between the events
	// and the queries, on any day at any hour.
	qtx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer qtx.Rollback(ctx)
	if _, err := qtx.Exec(ctx, "SET LOCAL TimeZone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	var week time.Time
	if err := qtx.QueryRow(ctx, "SELECT date_trunc('week', now())").Scan(&week); err != nil {
		t.Fatal(err)
	}
	now := week.UTC().Add(time.Hour)
	ended(talkdesk.TriggerInboundCallEnds, 7, "agent-c", "Cy", now, 10, "sales, vip")
	ended(talkdesk.TriggerInboundCallEnds, 8, "agent-c", "Cy", now, 20, "sales")
	ended(talkdesk.TriggerInboundCallEnds, 9, "agent-d", "Di", now, 30, "support")
	ended(talkdesk.TriggerOutboundCallEnds, 10, "agent-d", "Di", now, 0, "")
	// Not a call ending: not in the view.
	login, _ := talkdesk.ParseEvent(talkdesk.TriggerAgentLogIn, []byte(`{"agent_id":"agent-a"}`))
	mustAppend(t, s, login)

	run := func(title string) [][]string {
		t.Helper()
		q, ok := readmeQueries(t)[title]
		if !ok {
			t.Fatalf("README.md has no query %q", title)
		}
		rows, err := qtx.Query(ctx, strings.ReplaceAll(q, "talkdesk.", s.schema+"."))
		if err != nil {
			t.Fatalf("%s: %v", title, err)
		}
		defer rows.Close()
		var out [][]string
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			var rec []string
			for _, v := range vals {
				switch x := v.(type) {
				case time.Time:
					v = x.Format(time.DateOnly)
				case pgtype.Numeric:
					f, _ := x.Float64Value()
					v = f.Float64
				}
				rec = append(rec, fmt.Sprint(v))
			}
			out = append(out, rec)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	perDay := run("Calls per agent per day")
	today := now.Format(time.DateOnly)
	want := [][]string{
		{"agent-a", "Ana", "2026-01-05", "3"},
		{"agent-b", "Bo", "2026-01-05", "2"},
		{"agent-a", "Ana", "2026-01-06", "1"},
		{"agent-c", "Cy", today, "2"},
		{"agent-d", "Di", today, "2"},
	}
	if !slices.EqualFunc(perDay, want, slices.Equal) {
		t.Errorf("calls per agent per day:\n got %v\nwant %v", perDay, want)
	}
	hold := run("Average hold time per ring group this week")
	want = [][]string{{"sales", "15", "2"}, {"support", "30", "1"}, {"vip", "10", "1"}}
	if !slices.EqualFunc(hold, want, slices.Equal) {
		t.Errorf("average hold time per ring group this week:\n got %v\nwant %v", hold, want)
	}
}

// TestCallsEndedView reads one ended call back from the view: every
// column typed, nothing left in JSON.
func TestCallsEndedView(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	ev, err := talkdesk.ParseEvent(talkdesk.TriggerInboundCallEnds, []byte(`{"interaction_id":"i-1","call_id":"c-1",
		"agent_id":"a-1","agent_name":"Ana","contact_id":"k-1","contact_name":"Zé","start_time":"2026-01-05T09:00:00Z",
		"timestamp":"2026-01-05T09:02:30Z","duration":"120","total_duration":"150","waiting_time":"00:00:30",
		"hold_time":"12.5","in_business_hours":"true","hangup":"agent","tags":"sales, vip","agent_tags":["t1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, ev)
	var (
		direction, agent, name, contact, cname, hangup string
		started, endedAt                               time.Time
		dur, total, wait, hold                         float64
		business                                       bool
		groups, agentGroups                            []string
	)
	err = s.pool.QueryRow(ctx, s.sql(`SELECT direction, agent_id, agent_name, contact_id, contact_name, hangup,
		started_at, ended_at, duration_s, total_duration_s, waiting_time_s, hold_time_s, in_business_hours,
		ring_groups, agent_ring_groups FROM {{s}}.calls_ended`)).Scan(&direction, &agent, &name, &contact, &cname, &hangup,
		&started, &endedAt, &dur, &total, &wait, &hold, &business, &groups, &agentGroups)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(direction, agent, name, contact, cname, hangup, started.UTC().Format(time.RFC3339), endedAt.UTC().Format(time.RFC3339),
		dur, total, wait, hold, business, groups, agentGroups)
	want := fmt.Sprint("inbound", "a-1", "Ana", "k-1", "Zé", "agent", "2026-01-05T09:00:00Z", "2026-01-05T09:02:30Z",
		120.0, 150.0, 30.0, 12.5, true, []string{"sales", "vip"}, []string{"t1"})
	if got != want {
		t.Errorf("calls_ended row:\n got %s\nwant %s", got, want)
	}
}
