package talkdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// RecordingScopes are the OAuth scopes of recordings: recordings:read.
func RecordingScopes() []string { return []string{"recordings:read"} }

// ErrRecordingNotReady is matched, with [ErrNotFound], by the error of a
// recording Talkdesk does not have yet: for about 30 seconds after a call
// ends, its recordings answer 404. Talkdesk's answer is the same for a call
// that has none, so wait and ask again for a while after the call ended
// (see [Client.AwaitCallRecordings]), not for ever.
var ErrRecordingNotReady = errors.New("talkdesk: recording not there yet (Talkdesk answers 404 for about 30 s after a call ends)")

// notReady makes a 404 of a recordings endpoint match ErrRecordingNotReady
// too.
func notReady(err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrRecordingNotReady, err)
	}
	return err
}

// Recording is one recording of a call.
type Recording struct {
	ID        string
	CallID    string
	CreatedAt time.Time // UTC
	Index     int       // its place among the call's recordings
	Duration  time.Duration
	Type      string // conversation or voicemail
	// Channels are the participants of each audio channel, in order.
	Channels [][]RecordingParticipant
	// MediaURL is the link to its audio (GET it with
	// [Client.DownloadRecording]).
	MediaURL string
}

// RecordingParticipant is who speaks on a channel of a recording.
type RecordingParticipant struct {
	Type string // AGENT, CONTACT or EXTERNAL_NUM
	ID   string
}

// wireRecording is a recording as Talkdesk sends it: its links under
// _links or links (the reference says links once), alone or under
// "recording".
type wireRecording struct {
	ID        string    `json:"id"`
	CallID    string    `json:"call_id"`
	CreatedAt timestamp `json:"created_at"`
	Index     int       `json:"index"`
	Duration  float64   `json:"duration"`
	Type      string    `json:"type"`
	Agents    map[string][]struct {
		Type string `json:"participant_type"`
		ID   string `json:"participant_id"`
	} `json:"agents"`
	Links      wireRecordingLinks `json:"_links"`
	PlainLinks wireRecordingLinks `json:"links"`
	Recording  *wireRecording     `json:"recording"`
}

type wireRecordingLinks struct {
	Media struct {
		Href string `json:"href"`
	} `json:"media"`
}

func (w *wireRecording) recording() *Recording {
	if w.Recording != nil && w.ID == "" {
		inner := *w.Recording
		if inner.Links.Media.Href == "" && inner.PlainLinks.Media.Href == "" {
			inner.Links = w.Links // the links beside "recording"
			inner.PlainLinks = w.PlainLinks
		}
		return inner.recording()
	}
	r := &Recording{
		ID: w.ID, CallID: w.CallID, CreatedAt: w.CreatedAt.Time(), Index: w.Index,
		Duration: time.Duration(w.Duration * float64(time.Second)), Type: w.Type, MediaURL: w.Links.Media.Href,
	}
	if r.MediaURL == "" {
		r.MediaURL = w.PlainLinks.Media.Href
	}
	for i := 1; ; i++ {
		ch, ok := w.Agents[fmt.Sprintf("channel_%d", i)]
		if !ok {
			break
		}
		var ps []RecordingParticipant
		for _, p := range ch {
			ps = append(ps, RecordingParticipant{Type: p.Type, ID: p.ID})
		}
		r.Channels = append(r.Channels, ps)
	}
	return r
}

// CallRecordings returns the recordings of the call callID (GET
// /calls/{id}/recordings, scope recordings:read), page after page. The
// call ID is the Explore calls report's call_id (a CallRecord's CallID),
// or an interaction ID. A call whose recordings are not there yet fails
// with an error matching [ErrRecordingNotReady] and [ErrNotFound].
func (c *Client) CallRecordings(ctx context.Context, callID string) iter.Seq2[*Recording, error] {
	path, err := buildPath("/calls/{callID}/recordings", callID)
	if err != nil {
		return func(yield func(*Recording, error) bool) { yield(nil, err) }
	}
	return func(yield func(*Recording, error) bool) {
		for r, err := range listPages(ctx, c, path, nil, "recordings", func(raw json.RawMessage) (*Recording, error) {
			var w wireRecording
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, err
			}
			return w.recording(), nil
		}) {
			if !yield(r, notReady(err)) || err != nil {
				return
			}
		}
	}
}

// AwaitCallRecordings returns the recordings of the call callID, asking
// again while Talkdesk says they are not there yet, until wait after
// endedAt, the time the call ended (wait 0 is two minutes): Talkdesk has
// them about 30 s after the call. Past that it fails as
// [Client.CallRecordings] does.
func (c *Client) AwaitCallRecordings(ctx context.Context, callID string, endedAt time.Time, wait time.Duration) ([]*Recording, error) {
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	deadline := endedAt.Add(wait)
	pause := time.Second
	for {
		var recs []*Recording
		var err error
		for r, e := range c.CallRecordings(ctx, callID) {
			if e != nil {
				err = e
				break
			}
			recs = append(recs, r)
		}
		if err == nil || !errors.Is(err, ErrRecordingNotReady) || !time.Now().Before(deadline) {
			return recs, err
		}
		if err := c.sleep(ctx, min(pause, time.Until(deadline))); err != nil {
			return nil, err
		}
		pause = min(2*pause, 10*time.Second)
	}
}

// GetRecording fetches the recording id (GET /recordings/{id}, scope
// recordings:read), whether Talkdesk sends it flat or under "recording",
// its links under _links or links.
func (c *Client) GetRecording(ctx context.Context, id string) (*Recording, error) {
	path, err := buildPath("/recordings/{recordingID}", id)
	if err != nil {
		return nil, err
	}
	var w wireRecording
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &w}); err != nil {
		return nil, notReady(err)
	}
	r := w.recording()
	if r.ID == "" {
		return nil, malformed("GET", path, "the recording has no id")
	}
	return r, nil
}

// DownloadRecording copies the audio of the recording id to w, as it
// downloads, and returns how many bytes it copied (GET
// /recordings/{id}/media, scope recordings:read). Talkdesk answers with a
// redirect to a presigned URL of its CDN (MP3 whatever Accept says), which
// DownloadRecording follows itself without the Authorization header: the
// bearer token never leaves Talkdesk's API. A recording not there yet
// fails with an error matching [ErrRecordingNotReady].
func (c *Client) DownloadRecording(ctx context.Context, id string, w io.Writer) (int64, error) {
	path, err := buildPath("/recordings/{recordingID}/media", id)
	if err != nil {
		return 0, err
	}
	body, err := c.followToFile(ctx, path)
	if err != nil {
		return 0, notReady(err)
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("talkdesk: downloading recording %s: %w", id, err)
	}
	return n, nil
}
