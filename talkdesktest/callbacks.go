package talkdesktest

import (
	"net/http"

	"github.com/talkdeskgo/talkdesk"
)

// Callbacks returns the callbacks the Server accepted through
// CreateCallback, in the order they arrived.
func (s *Server) Callbacks() []talkdesk.CallbackRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]talkdesk.CallbackRequest, len(s.actions.callbacks))
	for i, c := range s.actions.callbacks {
		c.Fields = append([]talkdesk.ContextField(nil), c.Fields...)
		out[i] = c
	}
	return out
}

// handleCreateCallback is CreateCallback: POST /calls/callback.
func (s *Server) handleCreateCallback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		TalkdeskPhoneNumber string `json:"talkdesk_phone_number"`
		ContactPhoneNumber  string `json:"contact_phone_number"`
		Context             *struct {
			Fields []struct {
				Name        string `json:"name"`
				DisplayName string `json:"display_name"`
				TooltipText string `json:"tooltip_text"`
				DataType    string `json:"data_type"`
				Value       string `json:"value"`
			} `json:"fields"`
		} `json:"context"`
	}
	if bad := decodeJSON(r, &body, false); bad != nil {
		bad.write(w)
		return
	}
	var bad []fieldError
	if why := checkE164(body.TalkdeskPhoneNumber); why != "" {
		bad = append(bad, fieldError{"talkdesk_phone_number", why})
	}
	if why := checkE164(body.ContactPhoneNumber); why != "" {
		bad = append(bad, fieldError{"contact_phone_number", why})
	}
	cb := talkdesk.CallbackRequest{TalkdeskPhoneNumber: body.TalkdeskPhoneNumber, ContactPhoneNumber: body.ContactPhoneNumber}
	if body.Context != nil {
		for i, f := range body.Context.Fields {
			switch talkdesk.FieldDataType(f.DataType) {
			case "", talkdesk.FieldPhone, talkdesk.FieldText, talkdesk.FieldURL:
			default:
				bad = append(bad, fieldError{index("context.fields", i, "data_type"), "must be one of phone, text, url"})
			}
			cb.Fields = append(cb.Fields, talkdesk.ContextField{
				Name: f.Name, DisplayName: f.DisplayName, TooltipText: f.TooltipText,
				DataType: talkdesk.FieldDataType(f.DataType), Value: f.Value,
			})
		}
	}
	if len(bad) > 0 {
		writeFieldErrors(w, bad...)
		return
	}
	s.mu.Lock()
	s.actions.callbacks = append(s.actions.callbacks, cb)
	s.actedLocked(OpCreateCallback)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"code": true})
}
