package talkdesktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/talkdeskgo/talkdesk"
)

// maxActionResponse bounds the answer ExecuteAction reads from a bridge.
const maxActionResponse = 1 << 20

// ExecuteAction calls the action at url the way Talkdesk's automations call
// an Action Executor bridge, so that a test exercises a bridge (such as a
// [talkdesk.ActionServer]) exactly as Talkdesk will: a POST with
// Content-Type application/json and the body
//
//	{"auth": {...}, "meta": {"contact_external_id": "...", "agent_external_id": "..."}, "data": {...}}
//
// auth is left out when nil (an integration without custom authentication);
// meta fields are left out when empty. data is encoded with encoding/json
// (pass a json.RawMessage to send exact JSON) and must encode to a JSON
// object; nil sends {}.
//
// It returns the status of the answer and its body decoded as an
// [talkdesk.ActionResult]: on 201 the result, on 400 and other failures
// the {"message"} the bridge answered with, in Message. The error is
// non-nil when data is not a JSON object, when the request fails, or when
// the answer is not a JSON object (the status is then still returned). The
// request uses http.DefaultClient and ctx.
func ExecuteAction(ctx context.Context, url string, auth map[string]string, data any, meta talkdesk.ActionMeta) (int, *talkdesk.ActionResult, error) {
	body, err := actionRequestBody(auth, data, meta)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("talkdesktest: ExecuteAction: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("talkdesktest: ExecuteAction: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxActionResponse+1))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("talkdesktest: ExecuteAction: reading the answer: %w", err)
	}
	if len(answer) > maxActionResponse {
		return resp.StatusCode, nil, fmt.Errorf("talkdesktest: ExecuteAction: answer larger than %d bytes", maxActionResponse)
	}
	var res talkdesk.ActionResult
	if !isObject(answer) || json.Unmarshal(answer, &res) != nil {
		return resp.StatusCode, nil, fmt.Errorf("talkdesktest: ExecuteAction: status %d: answer is not a JSON object: %.200q", resp.StatusCode, answer)
	}
	return resp.StatusCode, &res, nil
}

// actionRequestBody encodes the body Talkdesk sends to a bridge, with the
// hashes in the order of Talkdesk's sample request.
func actionRequestBody(auth map[string]string, data any, meta talkdesk.ActionMeta) ([]byte, error) {
	rawData := json.RawMessage("{}")
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("talkdesktest: ExecuteAction: encoding data: %w", err)
		}
		if !isObject(b) {
			return nil, errors.New("talkdesktest: ExecuteAction: data must encode to a JSON object")
		}
		rawData = b
	}
	var authHash any // nil is left out; an empty map is sent as {}
	if auth != nil {
		authHash = auth
	}
	return json.Marshal(struct {
		Auth any                 `json:"auth,omitempty"`
		Meta talkdesk.ActionMeta `json:"meta"`
		Data json.RawMessage     `json:"data"`
	}{authHash, meta, rawData})
}

// isObject reports whether b is a JSON object (or starts like one).
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
