// Package talkdesk is a Go client for Talkdesk: it performs the actions of
// the official Talkdesk connector (contacts, callbacks, users, presence,
// notifications), subscribes to its triggers and receives them as typed
// events, and serves Talkdesk automations as an Action Executor bridge.
//
// # Quick start
//
// Create one [Client] per Talkdesk connection and share it between
// goroutines. With client credentials from a Talkdesk OAuth client:
//
//	client, err := talkdesk.NewClient(
//		talkdesk.WithClientCredentials("acme", clientID, clientSecret, "contacts:read"),
//	)
//	if err != nil {
//		return err
//	}
//	contact, err := client.GetContact(ctx, "5f3e1c0a9b8d7e6f5a4b3c2d")
//	if errors.Is(err, talkdesk.ErrNotFound) {
//		return nil // no such contact
//	}
//	if err != nil {
//		return err
//	}
//	fmt.Println(contact.Name)
//
// The package talkdesktest runs a fake Talkdesk in process for tests; the
// runnable examples of this package use it.
//
// # Authentication
//
// [WithClientCredentials] fetches tokens from the account's OAuth token
// endpoint (https://{account}.talkdeskid.com/oauth/token in the US region),
// caches them until shortly before they expire and refreshes them when the
// API answers 401. [WithTokenSource] takes any
// oauth2.TokenSource instead, such as one built from [AuthCodeConfig] for the
// authorization-code flow the Talkdesk connector uses.
//
// # Throttling, retries and errors
//
// The connector allows 100 API calls per 60 seconds per connection. A Client
// never starts more than 100 requests in any 60-second window unless told
// otherwise with [WithRateLimit] or [WithLimiter]. Requests that fail with
// 429, with a 5xx status or in transport are retried per [RetryPolicy], but a
// request that may have created something (a POST) is only retried when
// Talkdesk cannot have acted on it. Failures from the API are [*APIError]
// values that match the sentinel errors ([ErrNotFound], [ErrUnauthorized],
// [ErrRateLimited] and so on) with errors.Is. Arguments that are invalid
// fail with [ErrInvalid] before any request is sent.
//
// The Client follows no redirect: requests, tokens and credentials go only to
// the configured origin. Client secrets and tokens never appear in errors, in
// log lines or in the formatted value of a Client, in any encoding, even when
// a server echoes them.
package talkdesk

import "fmt"

// Version is the version of this SDK. It is sent in the User-Agent header.
const Version = "0.2.0"

// Region selects the Talkdesk data centre an account lives in. It decides
// the API root and the host of the account's OAuth endpoints.
type Region string

// The Talkdesk regions. The zero Region means RegionUS.
const (
	RegionUS Region = "us" // api.talkdeskapp.com, {account}.talkdeskid.com
	RegionEU Region = "eu" // api.talkdeskapp.eu,  {account}.talkdeskid.eu
	RegionCA Region = "ca" // api.talkdeskappca.com, {account}.talkdeskidca.com
)

// regionHosts holds, per region, the API host and the domain under which
// each account has its identity (OAuth) host.
var regionHosts = map[Region]struct{ api, identity string }{
	RegionUS: {"api.talkdeskapp.com", "talkdeskid.com"},
	RegionEU: {"api.talkdeskapp.eu", "talkdeskid.eu"},
	RegionCA: {"api.talkdeskappca.com", "talkdeskidca.com"},
}

// hosts returns the API host and the identity domain of r.
func (r Region) hosts() (api, identity string, err error) {
	if r == "" {
		r = RegionUS
	}
	h, ok := regionHosts[r]
	if !ok {
		return "", "", invalid("region", fmt.Sprintf("unknown region %q (want %q, %q or %q)", string(r), RegionUS, RegionEU, RegionCA))
	}
	return h.api, h.identity, nil
}

// Ptr returns a pointer to v. It fills optional fields where the zero value
// and "not set" mean different things:
//
//	agent.AfterCallBehavior.AfterCallWork = talkdesk.Ptr(false)
func Ptr[T any](v T) *T { return &v }
