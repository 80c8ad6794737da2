package tdpostgres

import (
	"context"
	"fmt"
)

// MarkHandled records that the handlers of the stored event id
// succeeded, for every replica ([talkdesk.HandledMarker]).
func (s *Store) MarkHandled(ctx context.Context, id string) error {
	if err := s.usable(); err != nil {
		return err
	}
	if !storableID(id) {
		return nil // no such event can be stored
	}
	if _, err := s.pool.Exec(ctx, s.sql(`INSERT INTO {{s}}.handled (id) VALUES ($1) ON CONFLICT (id) DO NOTHING`), id); err != nil {
		return fmt.Errorf("tdpostgres: mark handled: %w", err)
	}
	return nil
}

// Handled reports whether MarkHandled was called for id, by any replica.
func (s *Store) Handled(ctx context.Context, id string) (bool, error) {
	if err := s.usable(); err != nil {
		return false, err
	}
	if !storableID(id) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT EXISTS (SELECT 1 FROM {{s}}.handled WHERE id = $1)`), id).Scan(&ok); err != nil {
		return false, fmt.Errorf("tdpostgres: handled: %w", err)
	}
	return ok, nil
}
