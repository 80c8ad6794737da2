package talkdesk

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// RetryPolicy says how often and how patiently a Client retries.
//
// A 429 answer is retried after its Retry-After header (seconds or an HTTP
// date), or else after a backoff. A 5xx answer (but 501 and 505) and a
// transport error are retried only for idempotent methods (GET, PUT, DELETE,
// HEAD). A POST is retried only when Talkdesk cannot have acted on it: after
// a 429, when the connection could not be made, or when the request met a
// kept-alive connection the server had already closed. A 401
// is not a retry: the Client fetches a new token and tries once more,
// whatever MaxAttempts says.
//
// Backoffs grow exponentially with full jitter: before retry n the Client
// waits a random time between MinBackoff and min(MaxBackoff,
// MinBackoff·2^(n-1)). A Retry-After longer than MaxBackoff is not waited
// for, and neither is any wait that would end after the context's
// deadline: the last error is returned at once (for a 429, an [*APIError]
// matching [ErrRateLimited] whose RetryAfter says how long Talkdesk asked
// to wait).
type RetryPolicy struct {
	MaxAttempts int           // total tries, including the first; 1 = no retry; 0 = 4
	MinBackoff  time.Duration // 0 = 500ms
	MaxBackoff  time.Duration // 0 = 30s
}

// DefaultRetryPolicy is the policy of a Client without [WithRetryPolicy].
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, MinBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}

// outcome is what one attempt of a call came to.
type outcome struct {
	kind       outcomeKind
	status     int           // the answer's status, when there was an answer
	retryAfter time.Duration // the answer's Retry-After, on 429 and 503
	err        error         // the error the call returns if this attempt is its last
	resp       *response     // the answer, when kind is succeeded
	tok        *oauth2.Token // the token the request carried
}

type outcomeKind int

const (
	succeeded outcomeKind = iota // a 2xx answer, read whole and decoded
	final                        // an error no retry can mend: a redirect refused, an answer too large or undecodable, credentials refused, the context done
	noToken                      // no token this time: the token endpoint failed or could not be reached
	unsent                       // the request failed where the server cannot have read it: no connection, or a kept-alive one the server had closed
	lost                         // the request went out and no whole answer came back
	answered                     // an answer with a status other than 2xx
)

// mayHaveActed reports whether Talkdesk may have carried out the request
// although the attempt failed: the request went out and the answer was
// lost, or was a server error.
func (o *outcome) mayHaveActed() bool {
	return o.kind == lost || o.kind == answered && o.status >= 500
}

// decision is what the Client does after an attempt that failed.
type decision struct {
	retry bool
	renew bool          // drop the token first (the API rejected it): the attempt is made again, which is no retry
	wait  time.Duration // before the retry
}

// decide says, from the outcome of attempt number n of a call (1 for the
// first; an attempt made again with a renewed token keeps its number),
// whether to try again and after how long. idempotent says the request may
// be carried out twice (GET, PUT, DELETE, and reads sent as POST); renewed
// that a 401 already renewed the token in this call; left is the time
// until the caller's deadline. draw returns the jittered backoff between
// lo and hi. decide depends on nothing else.
//
// A 401 renews the token once, whatever the attempt. A 429, a token
// endpoint that failed and a request that cannot have reached Talkdesk are
// retried for any method; a 5xx (but 501 and 505) and a request lost after
// it went out only when idempotent. A retry waits the answer's
// Retry-After, or else the backoff; a wait past the policy's MaxBackoff or
// the deadline is not started, and the attempt's error is the call's.
func (p RetryPolicy) decide(o *outcome, idempotent bool, n int, renewed bool, left time.Duration, draw func(lo, hi time.Duration) time.Duration) decision {
	switch o.kind {
	case answered:
		if o.status == http.StatusUnauthorized {
			return decision{retry: !renewed, renew: !renewed}
		}
		if o.status != http.StatusTooManyRequests && !(idempotent && retryableStatus(o.status)) {
			return decision{}
		}
	case noToken, unsent:
	case lost:
		if !idempotent {
			return decision{}
		}
	default:
		return decision{}
	}
	if n >= p.MaxAttempts {
		return decision{}
	}
	wait := o.retryAfter
	if wait > 0 {
		if wait > p.MaxBackoff {
			return decision{}
		}
	} else {
		wait = draw(p.MinBackoff, p.ceiling(n))
	}
	if wait > left {
		return decision{}
	}
	return decision{retry: true, wait: wait}
}

// ceiling returns the longest backoff before retry n (1 for the first):
// min(MaxBackoff, MinBackoff·2^(n-1)).
func (p RetryPolicy) ceiling(n int) time.Duration {
	if shift := n - 1; shift < 32 && p.MinBackoff<<shift < p.MaxBackoff && p.MinBackoff<<shift > 0 {
		return p.MinBackoff << shift
	}
	return p.MaxBackoff
}

// drawBackoff returns a uniformly random wait in [lo, hi]: full jitter.
func drawBackoff(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + rand.N(hi-lo+1)
}

// timeLeft returns the time until ctx's deadline, or the longest
// duration when it has none.
func timeLeft(ctx context.Context) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return time.Until(deadline)
	}
	return math.MaxInt64
}

// isIdempotent reports whether a request with this method may be sent
// twice without a different effect.
func isIdempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// retryableStatus reports whether a 5xx status may pass if tried again.
func retryableStatus(status int) bool {
	return status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported
}

// notSent reports whether err shows that the server cannot have read the
// request, let alone acted on it: the connection could not be made, or
// the server had closed the kept-alive connection before the request
// went out on it.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || isServerClosedIdle(err)
}

// serverClosedIdle is the text of net/http's error for a request that met
// a kept-alive connection the server had closed while it was idle: the
// Transport saw the server's FIN before it took the request, so the server
// never read it (https://go.dev/issue/19943). The Transport sends a GET
// again by itself then, but not a POST. The error is unexported, so its
// text is all there is to recognise it by.
const serverClosedIdle = "http: server closed idle connection"

func isServerClosedIdle(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == serverClosedIdle {
			return true
		}
	}
	return false
}
