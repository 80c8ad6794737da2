package talkdesk

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampDecoding(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{`"2024-03-11T09:21:44Z"`, time.Date(2024, 3, 11, 9, 21, 44, 0, time.UTC), true},
		{`"2024-03-11T09:21:44.125Z"`, time.Date(2024, 3, 11, 9, 21, 44, 125e6, time.UTC), true},
		{`"2024-03-11T10:21:44+01:00"`, time.Date(2024, 3, 11, 9, 21, 44, 0, time.UTC), true},
		{`"2024-03-11T10:21:44.5+0100"`, time.Date(2024, 3, 11, 9, 21, 44, 5e8, time.UTC), true},
		{`"2024-03-11 09:21:44"`, time.Date(2024, 3, 11, 9, 21, 44, 0, time.UTC), true},
		{`null`, time.Time{}, true},
		{`""`, time.Time{}, true},
		{`"last tuesday"`, time.Time{}, false},
		{`"9999-12-31T23:59:59Z"`, time.Time{}, false}, // past what an int64 of nanoseconds holds
		{`42`, time.Time{}, false},
	}
	for _, tt := range tests {
		var ts timestamp
		err := json.Unmarshal([]byte(tt.in), &ts)
		if (err == nil) != tt.ok || !ts.Time().Equal(tt.want) || ts.Time().Location() != time.UTC {
			t.Errorf("decode %s = %v, %v; want %v (UTC), ok %v", tt.in, ts.Time(), err, tt.want, tt.ok)
		}
	}
}
