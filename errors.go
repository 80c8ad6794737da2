package talkdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors, matched with errors.Is. An [*APIError] matches the one
// for its status code; validation done before any request matches
// ErrInvalid.
var (
	ErrNotFound     = errors.New("talkdesk: not found")        // 404
	ErrUnauthorized = errors.New("talkdesk: unauthorized")     // 401, or credentials the token endpoint refused
	ErrForbidden    = errors.New("talkdesk: forbidden")        // 403
	ErrConflict     = errors.New("talkdesk: conflict")         // 409
	ErrRateLimited  = errors.New("talkdesk: rate limited")     // 429, after the retries ran out
	ErrInvalid      = errors.New("talkdesk: invalid argument") // 400, 415, 422, and validation before any request

	// ErrMalformedResponse is matched by the error of a call whose success
	// answer does not decode, or lacks what the operation returns (a
	// contact without ID, a created user without ID, a body of {} or
	// null): Talkdesk answered, but not with what the call must give.
	ErrMalformedResponse = errors.New("talkdesk: malformed response")

	// ErrResponseTooLarge is the error of a call whose success answer has
	// a body over the 10 MiB a Client reads. The call is not retried,
	// since Talkdesk acted and would answer the same again.
	ErrResponseTooLarge = errors.New("talkdesk: response body larger than 10 MiB")
)

// APIError is an error answer from the Talkdesk API. Its fields come from
// Talkdesk's error body (code, message, description and fields) when the
// body has them; a body that is not JSON still gives an APIError with the
// status code and its standard text as Message.
type APIError struct {
	StatusCode  int           // HTTP status code
	Code        string        // Talkdesk's error code, or the SCIM error type
	Message     string        // Talkdesk's message, or the SCIM detail
	Description string        // a longer description, where Talkdesk gives one
	Fields      []FieldError  // the fields Talkdesk rejected, on 400
	RetryAfter  time.Duration // from the Retry-After header, on 429 and 503
	Method      string        // method of the request
	Path        string        // escaped path of the request, without the query
}

// FieldError names one field of a request that Talkdesk rejected.
type FieldError struct{ Name, Description string }

// Error describes the failure as
// "talkdesk: POST /calls/callback: 400 Bad Request: code 1234: message (description) [field: why]".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("talkdesk: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Code != "" {
		b.WriteString(": code ")
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Description != "" && e.Description != e.Message {
		b.WriteString(" (")
		b.WriteString(e.Description)
		b.WriteByte(')')
	}
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(" [")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Name)
		if f.Description != "" {
			b.WriteString(": ")
			b.WriteString(f.Description)
		}
		if i == len(e.Fields)-1 {
			b.WriteByte(']')
		}
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	return b.String()
}

// Is reports whether the sentinel target stands for e's status code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrInvalid:
		switch e.StatusCode {
		case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
			return true
		}
	}
	return false
}

// wireError is every error body Talkdesk sends: its own
// {code, message, description, fields} and the SCIM
// {schemas, detail, status, scimType} of /scim/v2.
type wireError struct {
	Code        flexString `json:"code"`
	Message     string     `json:"message"`
	Description string     `json:"description"`
	Fields      []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"fields"`
	Detail   string `json:"detail"`
	ScimType string `json:"scimType"`
}

// flexString decodes a JSON string, number or null as a string, so an
// error code that arrives as 1001 or "1001" reads the same, and so does a
// user's extension (a string in the connector, an integer in the Users
// API's reference, null in examples); null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		err := json.Unmarshal(b, &v)
		*s = flexString(v)
		return err
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = flexString(n)
	return nil
}

// maxErrorText bounds each text field copied from an error body, so a
// hostile or broken server cannot make error strings arbitrarily large.
const maxErrorText = 1024

// newAPIError builds the APIError for a non-2xx answer. Bodies that are not
// a JSON object (an HTML page from a gateway, an empty body) leave the
// Talkdesk fields empty and use the status text as Message. Every redact
// string is removed from every text field: the bearer token the request
// carried, and secrets the request sent (a webhook secret in a callback
// URL), which a server might echo.
func newAPIError(method, path string, status int, header http.Header, body []byte, red *redactor, redact ...string) *APIError {
	e := &APIError{StatusCode: status, Method: method, Path: path}
	var w wireError
	if isJSONObject(body) && json.Unmarshal(body, &w) == nil {
		e.Code = red.clean(string(w.Code), redact...)
		e.Message = red.clean(w.Message, redact...)
		if e.Message == "" {
			e.Message = red.clean(w.Detail, redact...)
		}
		if e.Code == "" {
			e.Code = red.clean(w.ScimType, redact...)
		}
		e.Description = red.clean(w.Description, redact...)
		if len(w.Fields) > 0 {
			e.Fields = make([]FieldError, 0, min(len(w.Fields), 100))
			for _, f := range w.Fields[:min(len(w.Fields), 100)] {
				e.Fields = append(e.Fields, FieldError{Name: red.clean(f.Name, redact...), Description: red.clean(f.Description, redact...)})
			}
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter, _ = parseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}

// isJSONObject reports whether body looks like a JSON object, whatever the
// Content-Type claims (gateways send HTML as application/json and JSON as
// text/plain).
func isJSONObject(body []byte) bool {
	body = bytes.TrimLeft(body, " \t\r\n")
	return len(body) > 0 && body[0] == '{'
}

// clean bounds s and strips control characters. Secrets are the redactor's
// to remove (see redactor.clean), before clean.
func clean(s string) string {
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "..."
	}
	if strings.ContainsFunc(s, isControl) {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// parseRetryAfter reads a Retry-After value: delay seconds (a decimal
// fraction is accepted) or an HTTP date. A wait longer than a Duration
// holds is the longest Duration. It reports false when v is empty or
// unreadable.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if isDecimal(v) {
		secs, err := strconv.ParseFloat(v, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
		if secs >= float64(math.MaxInt64)/float64(time.Second) {
			return math.MaxInt64, true // longer than any wait: the policy refuses it
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// isDecimal reports whether v is digits with at most one decimal point
// inside them: delay-seconds as RFC 9110 writes them, or with a fraction.
func isDecimal(v string) bool {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(v)-1:
			dot = true
		default:
			return false
		}
	}
	return v != ""
}

// ValidationError reports an argument rejected before any request was sent.
// It matches [ErrInvalid].
type ValidationError struct {
	Field  string // the argument or field, as its Go name
	Reason string
}

func (e *ValidationError) Error() string {
	return "talkdesk: invalid " + e.Field + ": " + e.Reason
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, reason string) error { return &ValidationError{Field: field, Reason: reason} }

// TokenError reports that no access token could be obtained: the token
// endpoint refused the credentials or failed, or the token source given to
// [WithTokenSource] returned an error. When the endpoint refused the
// credentials (a 400 or 401 answer) it matches [ErrUnauthorized].
//
// Its text carries the OAuth error code and description, never the response
// body or the credentials.
type TokenError struct {
	StatusCode  int    // status of the token endpoint's answer; 0 if there was none
	Code        string // OAuth error code, such as "invalid_client"
	Description string // OAuth error_description
	err         error  // the transport or context error, if any; never an oauth2.RetrieveError
	transient   bool   // asking again may give a token
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("talkdesk: fetching access token")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Unwrap returns the transport or context error behind e, if any.
func (e *TokenError) Unwrap() error { return e.err }

// Is reports whether target is ErrUnauthorized and the token endpoint
// refused the credentials.
func (e *TokenError) Is(target error) bool {
	return target == ErrUnauthorized && e.refused()
}

// refused reports whether the endpoint rejected the credentials, which no
// retry can fix.
func (e *TokenError) refused() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && e.StatusCode != http.StatusTooManyRequests && e.StatusCode != http.StatusRequestTimeout
}

// malformedError is the error of a success answer that is not what the
// operation returns. It matches ErrMalformedResponse and wraps the decoding
// error, if any.
type malformedError struct {
	method, path, why string
	err               error
}

// malformed returns the error of a success answer to method path that
// lacks what the call must return: why says what.
func malformed(method, path, why string) error {
	return &malformedError{method: method, path: path, why: why}
}

func (e *malformedError) Error() string {
	s := "talkdesk: " + e.method + " " + e.path + ": decoding response: " + e.why
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

func (e *malformedError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrMalformedResponse}
	}
	return []error{ErrMalformedResponse, e.err}
}
