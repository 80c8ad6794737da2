package talkdesk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strings"
)

// halPage is one page of a list of Talkdesk's API, in any of its four
// dialects: counters at the top (some of count, total, page, per_page,
// total_pages), the items under _embedded (an object holding one array,
// or the array itself), and _links with next (and prev or previous).
type halPage struct {
	Total    *int            `json:"total"`
	Embedded json.RawMessage `json:"_embedded"`
	Links    struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

// items returns the raw items of the page: the array under key of
// _embedded, or the only array it holds, or _embedded itself when it is
// an array.
func (p *halPage) items(key string) ([]json.RawMessage, error) {
	raw := bytes.TrimSpace(p.Embedded)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil // an empty list may leave _embedded out
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		err := json.Unmarshal(raw, &items)
		return items, err
	}
	var byKey map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byKey); err != nil {
		return nil, err
	}
	list, ok := byKey[key]
	if !ok && len(byKey) == 1 {
		for _, v := range byKey {
			list = v
		}
	}
	if len(bytes.TrimSpace(list)) == 0 || bytes.Equal(bytes.TrimSpace(list), []byte("null")) {
		return nil, nil
	}
	err := json.Unmarshal(list, &items)
	return items, err
}

// maxPages bounds a listing, against a server whose next link never ends.
const maxPages = 100_000

// listPages yields the items of a HAL list, page after page, from path
// (relative to the API root, with its query), each decoded by decode. It
// follows _links.next.href, resolved against the page's URL, only while it
// stays on the Client's origin and API root: a next link elsewhere ends
// the listing with an error, and the token never goes there. It never
// computes page numbers. Iteration stops at the first error.
func listPages[T any](ctx context.Context, c *Client, path string, query url.Values, key string, decode func(json.RawMessage) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		base, err := url.Parse(c.baseURL + "/")
		if err != nil {
			yield(zero, fmt.Errorf("talkdesk: the API root: %w", err))
			return
		}
		r := &call{method: "GET", path: path, query: query}
		for n := 0; ; n++ {
			if n == maxPages {
				yield(zero, fmt.Errorf("talkdesk: GET %s: more than %d pages", path, maxPages))
				return
			}
			var page halPage
			r.out = &page
			if _, err := c.do(ctx, r); err != nil {
				yield(zero, err)
				return
			}
			items, err := page.items(key)
			if err != nil {
				yield(zero, &malformedError{method: r.method, path: r.path, why: "not a page of " + key, err: err})
				return
			}
			for _, raw := range items {
				v, err := decode(raw)
				if err != nil {
					yield(zero, &malformedError{method: r.method, path: r.path, why: "an item of " + key + " that does not read", err: err})
					return
				}
				if !yield(v, nil) {
					return
				}
			}
			if page.Links.Next == nil || page.Links.Next.Href == "" || len(items) == 0 {
				return
			}
			next, err := sameOrigin(base, c.baseURL+r.path, page.Links.Next.Href)
			if err != nil {
				yield(zero, fmt.Errorf("talkdesk: GET %s: %w", r.path, err))
				return
			}
			r = &call{method: "GET", path: next.EscapedPath()[len(base.EscapedPath())-1:], rawQuery: next.RawQuery}
		}
	}
}

// sameOrigin resolves the link href against the URL of the page it came
// from, and returns it if it is under the API root base (its scheme, host
// and path); otherwise an error that names no more than its origin.
func sameOrigin(base *url.URL, from, href string) (*url.URL, error) {
	page, err := url.Parse(from)
	if err != nil {
		return nil, err
	}
	u, err := page.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("a next link that is not a URL")
	}
	if u.Scheme != base.Scheme || u.Host != base.Host || !strings.HasPrefix(u.EscapedPath(), base.EscapedPath()) {
		return nil, fmt.Errorf("refused a next link to %s: the Client sends requests only to the origin it was configured with", locationOrigin(page, href))
	}
	return u, nil
}
