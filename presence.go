package talkdesk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

// UserStatus is the status of one user, as [Client.GetUserStatuses]
// returns it.
type UserStatus struct {
	ID     string // the user's ID
	Status string // such as "available", "busy" or "offline"
}

// CustomStatus is a status the account defined for its agents, such as
// "Lunch" or "Training".
type CustomStatus struct {
	ID          string
	DisplayName string
}

// Presence is a user's presence: status, occupancy, channels, devices and
// ongoing interactions.
type Presence struct {
	ID             string // ID of the presence event
	AccountID      string
	UserID         string
	Status         string
	CustomStatus   string // name of the custom status, if any
	CustomStatusID string
	Occupancy      int // the user's occupancy level
	Channels       []PresenceChannel
	Devices        []PresenceDevice
	Interactions   []PresenceInteraction // ongoing interactions
	UpdatedBy      string                // what made the last update
	UpdatedAt      time.Time             // when the status last changed, UTC
}

// PresenceChannel is a channel a user is available on.
type PresenceChannel struct {
	Name      string
	Occupancy int
	Devices   []string
}

// PresenceDevice is a device a user is available on.
type PresenceDevice struct {
	ID string
}

// PresenceInteraction is an interaction a user is handling.
type PresenceInteraction struct {
	ID          string
	DeviceID    string
	ChannelName string
	Cost        int // the share of the user's capacity it takes
}

// wirePresence is the answer of GET /users/{id}/presence.
type wirePresence struct {
	ID             string `json:"id"`
	AccountID      string `json:"account_id"`
	UserID         string `json:"user_id"`
	Status         string `json:"status"`
	CustomStatus   string `json:"custom_status"`
	CustomStatusID string `json:"custom_status_id"`
	Occupancy      int    `json:"occupancy"`
	Channels       []struct {
		Name      string   `json:"name"`
		Occupancy int      `json:"occupancy"`
		Devices   []string `json:"devices"`
	} `json:"channels"`
	Devices []struct {
		ID string `json:"id"`
	} `json:"devices"`
	Interactions []struct {
		ID          string `json:"id"`
		DeviceID    string `json:"device_id"`
		ChannelName string `json:"channel_name"`
		Cost        int    `json:"cost"`
	} `json:"interactions"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt timestamp `json:"updated_at"`
}

func (w *wirePresence) presence() *Presence {
	p := &Presence{
		ID:             w.ID,
		AccountID:      w.AccountID,
		UserID:         w.UserID,
		Status:         w.Status,
		CustomStatus:   w.CustomStatus,
		CustomStatusID: w.CustomStatusID,
		Occupancy:      w.Occupancy,
		UpdatedBy:      w.UpdatedBy,
		UpdatedAt:      w.UpdatedAt.Time(),
	}
	for _, c := range w.Channels {
		p.Channels = append(p.Channels, PresenceChannel(c))
	}
	for _, d := range w.Devices {
		p.Devices = append(p.Devices, PresenceDevice(d))
	}
	for _, i := range w.Interactions {
		p.Interactions = append(p.Interactions, PresenceInteraction(i))
	}
	return p
}

// UpdateUserStatus changes the status of the user userID to newStatus
// (connector operation UpdateUserStatus, PUT /ccaas/users/{id}/status).
// currentStatus is the status the caller believes the user has, which
// Talkdesk checks; "" leaves it out. The connector allows only Available
// or a custom busy status as either value. Subscribe with
// [Client.SubscribePresence] before updating statuses.
//
// An empty userID or newStatus fails with [ErrInvalid] before any request;
// an unknown user gives an [*APIError] matching [ErrNotFound], and a
// currentStatus that is not the user's one matching [ErrInvalid] (400).
//
// With a currentStatus the update is a compare-and-set, which Talkdesk
// refuses with 400 once it is applied, so it is never sent twice blindly:
// after an attempt Talkdesk may have carried out without saying so (a 5xx
// answer, or a connection lost after sending), the Client reads the user's
// status with [Client.GetUserStatuses]. newStatus means the update is in
// place, and UpdateUserStatus returns nil; currentStatus, that it was not
// applied, and it is sent again (within the retry policy); any other
// status, that someone else changed it, and the error matches
// [ErrConflict]. Without a currentStatus the update is a plain PUT,
// retried like any other.
//
// Deprecated: Talkdesk deprecated the connector's UpdateUserStatus action
// and names no replacement in the connector.
func (c *Client) UpdateUserStatus(ctx context.Context, userID, currentStatus, newStatus string) error {
	path, err := buildPath("/ccaas/users/{userID}/status", userID)
	if err != nil {
		return err
	}
	if err := checkName("newStatus", newStatus); err != nil {
		return err
	}
	if err := checkOptional("currentStatus", currentStatus); err != nil {
		return err
	}
	body := struct {
		CurrentStatus string `json:"current_status,omitempty"`
		NewStatus     string `json:"new_status"`
	}{currentStatus, newStatus}
	r := &call{method: "PUT", path: path, in: &body}
	if currentStatus != "" {
		// A compare-and-set: once applied, the same request again gets
		// 400. So after an attempt Talkdesk may have carried out, the
		// Client reads the status before it decides.
		r.verify = func(ctx context.Context) (bool, error) {
			return c.statusSet(ctx, userID, currentStatus, newStatus)
		}
	}
	_, err = c.do(ctx, r)
	return err
}

// statusSet reports whether the compare-and-set of userID's status from
// current to next is in place (the status is next), or may be tried again
// (it is still current). Any other status is an error matching
// [ErrConflict]: someone else changed it.
func (c *Client) statusSet(ctx context.Context, userID, current, next string) (bool, error) {
	statuses, err := c.GetUserStatuses(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, s := range statuses {
		if s.ID != userID {
			continue
		}
		switch s.Status {
		case next:
			return true, nil
		case current:
			return false, nil
		}
		return false, fmt.Errorf("talkdesk: the user's status is now %q, neither the current nor the new one: %w", clean(s.Status), ErrConflict)
	}
	return false, errors.New("talkdesk: Talkdesk did not list the user's status")
}

// GetUserStatuses returns the current status of each of the given users
// (connector operation GetUserStatus, POST /ccaas/users/status), in the
// order Talkdesk lists them. It only reads, so although it is a POST it
// is retried after a 5xx answer or a lost connection, like a GET.
//
// No IDs, or an empty ID, fail with [ErrInvalid] before any request.
//
// Deprecated: Talkdesk deprecated the connector's GetUserStatus action. For
// one user, [Client.GetUserPresence] gives the status too, but is
// deprecated as well.
func (c *Client) GetUserStatuses(ctx context.Context, userIDs ...string) ([]UserStatus, error) {
	if len(userIDs) == 0 {
		return nil, invalid("userIDs", "at least one user ID is required")
	}
	for i, id := range userIDs {
		if err := validatePathParam("userIDs["+strconv.Itoa(i)+"]", id); err != nil {
			return nil, err
		}
	}
	body := struct {
		UserIDs []string `json:"user_ids"`
	}{userIDs}
	var out []UserStatus
	var wire []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if _, err := c.do(ctx, &call{method: "POST", path: "/ccaas/users/status", in: &body, out: &wire, readOnly: true}); err != nil {
		return nil, err
	}
	for _, s := range wire {
		out = append(out, UserStatus(s))
	}
	return out, nil
}

// ListCustomStatuses returns the custom statuses the account defined for
// its agents (connector operation GetAccountStatusList, GET
// /account/custom-status).
//
// Deprecated: Talkdesk deprecated the connector's GetAccountStatusList
// action and names no replacement in the connector.
func (c *Client) ListCustomStatuses(ctx context.Context) ([]CustomStatus, error) {
	var out struct {
		CustomStatus []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"custom_status"`
	}
	if _, err := c.do(ctx, &call{method: "GET", path: "/account/custom-status", out: &out}); err != nil {
		return nil, err
	}
	var list []CustomStatus
	for _, s := range out.CustomStatus {
		list = append(list, CustomStatus(s))
	}
	return list, nil
}

// GetUserPresence returns the presence of the user userID (connector
// operation GetUserPresence, GET /users/{id}/presence). An unknown user
// gives an [*APIError] matching [ErrNotFound]; an empty userID fails with
// [ErrInvalid] before any request.
//
// Deprecated: Talkdesk deprecated the connector's GetUserPresence action
// and names no replacement in the connector.
func (c *Client) GetUserPresence(ctx context.Context, userID string) (*Presence, error) {
	path, err := buildPath("/users/{userID}/presence", userID)
	if err != nil {
		return nil, err
	}
	var out wirePresence
	if _, err := c.do(ctx, &call{method: "GET", path: path, out: &out}); err != nil {
		return nil, err
	}
	if out.Status == "" {
		return nil, malformed("GET", path, "the answer holds no status")
	}
	return out.presence(), nil
}

// PresenceSubscription is what a client needs to receive the presence of
// every user of the account from Talkdesk's message broker: where it is,
// the credentials, and the topic to subscribe to.
//
// Its String, Format, GoString and LogValue never show Password, so a
// subscription can be printed and logged. encoding/json does include it,
// so that a subscription can be stored; treat that output as a secret.
type PresenceSubscription struct {
	URL      string // the broker's URL
	Username string
	Password string // a secret
	ClientID string // the client identification to give the broker
	Topic    string
}

// String describes s with its password redacted.
func (s PresenceSubscription) String() string {
	pw := ""
	if s.Password != "" {
		pw = "[REDACTED]"
	}
	return fmt.Sprintf("talkdesk.PresenceSubscription{URL: %q, Username: %q, Password: %q, ClientID: %q, Topic: %q}",
		s.URL, s.Username, pw, s.ClientID, s.Topic)
}

// GoString is String, so %#v hides the password too.
func (s PresenceSubscription) GoString() string { return s.String() }

// Format prints String for every verb.
func (s PresenceSubscription) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue logs s without its password.
func (s PresenceSubscription) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", s.URL),
		slog.String("username", s.Username),
		slog.String("client_id", s.ClientID),
		slog.String("topic", s.Topic),
	)
}

// SubscribePresence subscribes to the presence of every user of the
// account (connector operation SubscribePresenceForAllUsers, POST
// /presence) and returns the broker and credentials that receive it.
// Talkdesk requires it before [Client.UpdateUserStatus].
//
// Deprecated: Talkdesk deprecated the connector's
// SubscribePresenceForAllUsers action and names no replacement in the
// connector.
func (c *Client) SubscribePresence(ctx context.Context) (*PresenceSubscription, error) {
	var out struct {
		URL      string `json:"url"`
		Username string `json:"username"`
		Password string `json:"password"`
		ClientID string `json:"client_id"`
		Topic    string `json:"topic"`
	}
	if _, err := c.do(ctx, &call{method: "POST", path: "/presence", out: &out}); err != nil {
		return nil, err
	}
	if out.URL == "" {
		return nil, malformed("POST", "/presence", "the answer holds no broker url")
	}
	s := PresenceSubscription(out)
	return &s, nil
}
