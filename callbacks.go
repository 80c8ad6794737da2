package talkdesk

import (
	"context"
	"fmt"
	"strconv"
)

// CallbackRequest asks Talkdesk to call a contact back: Talkdesk queues a
// call between the contact and the agents behind one of the account's
// numbers.
type CallbackRequest struct {
	// TalkdeskPhoneNumber is the account's number that will receive the
	// call, in E.164 form such as "+14155550100". Required.
	TalkdeskPhoneNumber string
	// ContactPhoneNumber is the number of the contact who asked to be
	// called back, in E.164 form. Required.
	ContactPhoneNumber string
	// Fields are shown to the agent who takes the call (the callback's
	// context). Optional.
	Fields []ContextField
}

// ContextField is one piece of context shown to the agent who takes a
// callback.
type ContextField struct {
	Name        string        // identifier of the field, unique in the context
	DisplayName string        // the field's name as the agent sees it
	TooltipText string        // a tooltip shown to the agent
	DataType    FieldDataType // how Talkdesk validates and shows Value; "" leaves it out
	Value       string
}

// FieldDataType is the type of a [ContextField]. Talkdesk validates the
// field's value by it and drops fields whose value does not fit.
type FieldDataType string

// The data types a [ContextField] may have.
const (
	FieldPhone FieldDataType = "phone"
	FieldText  FieldDataType = "text"
	FieldURL   FieldDataType = "url"
)

// wireCallback is the body of POST /calls/callback.
type wireCallback struct {
	TalkdeskPhoneNumber string           `json:"talkdesk_phone_number"`
	ContactPhoneNumber  string           `json:"contact_phone_number"`
	Context             *wireCallbackCtx `json:"context,omitempty"`
}

type wireCallbackCtx struct {
	Fields []wireContextField `json:"fields"`
}

type wireContextField struct {
	Name        string `json:"name,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	TooltipText string `json:"tooltip_text,omitempty"`
	DataType    string `json:"data_type,omitempty"`
	Value       string `json:"value,omitempty"`
}

// wire validates r and returns its wire form.
func (r *CallbackRequest) wire() (*wireCallback, error) {
	if r == nil {
		return nil, invalid("req", "must not be nil")
	}
	if err := checkE164("TalkdeskPhoneNumber", r.TalkdeskPhoneNumber); err != nil {
		return nil, err
	}
	if err := checkE164("ContactPhoneNumber", r.ContactPhoneNumber); err != nil {
		return nil, err
	}
	w := &wireCallback{TalkdeskPhoneNumber: r.TalkdeskPhoneNumber, ContactPhoneNumber: r.ContactPhoneNumber}
	if len(r.Fields) == 0 {
		return w, nil
	}
	w.Context = &wireCallbackCtx{Fields: make([]wireContextField, len(r.Fields))}
	for i, f := range r.Fields {
		switch f.DataType {
		case "", FieldPhone, FieldText, FieldURL:
		default:
			return nil, invalid("Fields["+strconv.Itoa(i)+"].DataType",
				fmt.Sprintf("%q is not one of %q, %q, %q", string(f.DataType), FieldPhone, FieldText, FieldURL))
		}
		w.Context.Fields[i] = wireContextField{
			Name:        f.Name,
			DisplayName: f.DisplayName,
			TooltipText: f.TooltipText,
			DataType:    string(f.DataType),
			Value:       f.Value,
		}
	}
	return w, nil
}

// CreateCallback asks Talkdesk to call req.ContactPhoneNumber back through
// req.TalkdeskPhoneNumber (connector operation CreateCallback, POST
// /calls/callback). Talkdesk queues the callback; a nil error means it
// accepted it.
//
// Both numbers must be E.164 and every field's DataType one of FieldPhone,
// FieldText and FieldURL (or empty), else CreateCallback fails with
// [ErrInvalid] before any request. Talkdesk's own rejections are
// [*APIError] values: 400 and 422 (a number it does not accept) match
// ErrInvalid, 404 ErrNotFound, 429 ErrRateLimited once the retries ran
// out. A callback is never sent twice: after a 5xx answer or a connection
// lost mid-request the call is not retried, since Talkdesk may have queued it.
func (c *Client) CreateCallback(ctx context.Context, req *CallbackRequest) error {
	body, err := req.wire()
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &call{method: "POST", path: "/calls/callback", in: body})
	return err
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
