package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// NewRequest builds a request for any endpoint of Talkdesk's API: path is
// relative to the API root (such as "users?page=2" or
// "data/reports/calls/jobs"), and body is sent as JSON unless it is nil, an
// io.Reader or a []byte, which are sent as they are. Send it with
// [Client.Do], which gives it the Client's token, throttle, retries and
// redaction. An absolute URL, a path that climbs out of the API root, or a
// body that does not encode fails with [ErrInvalid].
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	if method == "" || strings.ContainsAny(method, " \t\r\n") {
		return nil, invalid("method", fmt.Sprintf("%q is not an HTTP method", method))
	}
	ref, err := url.Parse(path)
	switch {
	case err != nil:
		return nil, invalid("path", err.Error())
	case ref.Scheme != "" || ref.Host != "" || ref.User != nil:
		return nil, invalid("path", "must be relative to the API root, not a URL: the Client sends requests only to the origin it was configured with")
	case ref.Fragment != "":
		return nil, invalid("path", "must not have a fragment")
	}
	for _, seg := range strings.Split(ref.Path, "/") {
		if seg == ".." || seg == "." {
			return nil, invalid("path", "must not hold . or .. segments")
		}
	}
	target := c.baseURL + "/" + strings.TrimPrefix(ref.EscapedPath(), "/")
	if ref.RawQuery != "" {
		target += "?" + ref.RawQuery
	}
	var data []byte
	isJSON := false
	switch b := body.(type) {
	case nil:
	case []byte:
		data = b
	case io.Reader:
		if data, err = io.ReadAll(b); err != nil {
			return nil, fmt.Errorf("talkdesk: reading the request body: %w", err)
		}
	default:
		if data, err = json.Marshal(body); err != nil {
			return nil, invalid("body", "does not encode as JSON: "+err.Error())
		}
		isJSON = true
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		return nil, invalid("request", err.Error())
	}
	if isJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// Do sends req, made by [Client.NewRequest] (or any request to the
// Client's API root), as the connector's operations are sent: with the
// Client's token, throttle, retry rules by method (a GET, PUT or DELETE is
// sent again after a 5xx or a lost connection; a POST or PATCH is not once
// it may have reached Talkdesk), redirect refusal and redaction. A
// successful answer's JSON is decoded into v; with v nil its body is
// discarded, and with v an io.Writer it is copied there, up to the 10 MiB
// the Client reads of any answer. The *http.Response has the status and
// headers; its body is already read.
//
// A request to another origin, or outside the API root's path, fails with
// [ErrInvalid] and is not sent: the bearer token goes nowhere else. A
// non-2xx answer is an [*APIError].
func (c *Client) Do(req *http.Request, v any) (*http.Response, error) {
	if req == nil || req.URL == nil {
		return nil, invalid("req", "must not be nil")
	}
	base, err := url.Parse(c.baseURL)
	if err != nil {
		return nil, fmt.Errorf("talkdesk: the API root: %w", err)
	}
	path := req.URL.EscapedPath()
	if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host || !strings.HasPrefix(path, base.EscapedPath()+"/") {
		return nil, invalid("req.URL", "must be under the Client's API root "+base.Scheme+"://"+base.Host+base.EscapedPath()+": the Client sends requests only there")
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("talkdesk: reading the request body: %w", err)
		}
	}
	header := req.Header.Clone()
	header.Del("Authorization") // the Client's token, and no other
	r := &call{
		method:   req.Method,
		path:     strings.TrimPrefix(path, base.EscapedPath()),
		rawQuery: req.URL.RawQuery,
		header:   header,
		body:     body,
		out:      v,
	}
	if r.method == "" {
		r.method = http.MethodGet
	}
	ctx := req.Context()
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode)), StatusCode: resp.StatusCode,
		Header: resp.Header, Body: http.NoBody, Request: req,
	}, nil
}
