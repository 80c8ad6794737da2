package talkdesk

import "context"

// Contact is a Talkdesk contact.
type Contact struct {
	ID      string
	Name    string
	Company string
	Phones  []Phone
}

// Phone is one phone number of a contact.
type Phone struct {
	Label  string // such as "mobile" or "work"
	Number string // E.164, such as "+14155550123"
}

// wireContact is a contact as GET /contacts/{contact_id} sends it.
type wireContact struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Company string `json:"company"`
	Phones  []struct {
		Label  string `json:"label"`
		Number string `json:"number"`
	} `json:"phones"`
}

func (w *wireContact) contact() *Contact {
	c := &Contact{ID: w.ID, Name: w.Name, Company: w.Company}
	if len(w.Phones) > 0 {
		c.Phones = make([]Phone, len(w.Phones))
		for i, p := range w.Phones {
			c.Phones[i] = Phone(p)
		}
	}
	return c
}

// GetContact fetches the contact with the given ID (connector operation
// GetContactByID, GET /contacts/{contact_id}). It fails with [ErrNotFound]
// when Talkdesk has no such contact, and with [ErrInvalid], before any
// request, when contactID is empty or cannot be an ID.
func (c *Client) GetContact(ctx context.Context, contactID string) (*Contact, error) {
	path, err := buildPath("/contacts/{contactID}", contactID)
	if err != nil {
		return nil, err
	}
	var out struct {
		Contact wireContact `json:"contact"`
	}
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	if out.Contact.ID == "" {
		return nil, malformed("GET", path, "the answer holds no contact with an id")
	}
	return out.Contact.contact(), nil
}
