package tdpostgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are the versions of the schema, in order: the SQL of version
// i+1 is migrations[i]. A version once released is never edited: a change
// is a new version. {{s}} is the store's schema, quoted.
var migrations = []string{
	// 1: the events, what the handlers handled, and the view of ended calls.
	`
CREATE TABLE {{s}}.events (
	-- Commit order: the transaction that stored the row, then the row's
	-- place in it. Follow reads in this order (see Store.Follow).
	tx             xid8        NOT NULL DEFAULT pg_current_xact_id(),
	seq            bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
	id             text        COLLATE "C" NOT NULL PRIMARY KEY,
	type           text        NOT NULL,
	event_name     text,
	-- occurred_ns orders and filters (nanoseconds, as Go's time.Time);
	-- occurred_at and received_at are for people and BI tools.
	occurred_ns    bigint      NOT NULL,
	occurred_at    timestamptz NOT NULL,
	received_at    timestamptz NOT NULL,
	account_id     text,
	interaction_id text,
	call_id        text,
	contact_id     text,
	agent_id       text,
	actor_type     text,
	actor_id       text,
	actor_name     text,
	actor_email    text,
	-- The typed payload and the body as Talkdesk sent it, for SQL; NULL
	-- for the rare body jsonb cannot hold (a \u0000 in a string).
	payload        jsonb,
	raw            jsonb,
	warnings       jsonb,
	-- The event exactly as the store reads it back: an EventLog line.
	line           bytea       NOT NULL
);
-- lz4 compresses the large values for a fraction of the CPU of the
-- default pglz, where the server has it (PostgreSQL 14 and later, built
-- with lz4, as Debian's and most are).
DO $$
BEGIN
	ALTER TABLE {{s}}.events ALTER COLUMN line SET COMPRESSION lz4,
		ALTER COLUMN payload SET COMPRESSION lz4, ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
	NULL;
END
$$;
CREATE INDEX events_time ON {{s}}.events (occurred_ns, id);
CREATE INDEX events_interaction ON {{s}}.events (interaction_id, occurred_ns, id) WHERE interaction_id IS NOT NULL;
CREATE INDEX events_contact ON {{s}}.events (contact_id, occurred_ns, id) WHERE contact_id IS NOT NULL;
CREATE INDEX events_agent ON {{s}}.events (agent_id, occurred_ns, id) WHERE agent_id IS NOT NULL;
CREATE INDEX events_commit ON {{s}}.events (tx, seq);

CREATE TABLE {{s}}.handled (
	id         text        COLLATE "C" PRIMARY KEY,
	handled_at timestamptz NOT NULL DEFAULT now()
);

-- One row per ended call, inbound or outbound, without JSON: times in
-- UTC, durations in seconds, ring groups as text arrays.
CREATE VIEW {{s}}.calls_ended AS
SELECT
	e.id,
	CASE e.type WHEN 'inboundCallEnds' THEN 'inbound' ELSE 'outbound' END AS direction,
	e.account_id,
	e.interaction_id,
	e.call_id,
	e.agent_id,
	e.payload ->> 'agent_name'                          AS agent_name,
	e.contact_id,
	e.payload ->> 'contact_name'                        AS contact_name,
	e.payload ->> 'contact_phone_number'                AS contact_phone_number,
	e.payload ->> 'talkdesk_phone_number'               AS talkdesk_phone_number,
	(e.payload ->> 'start_time')::timestamptz           AS started_at,
	e.occurred_at                                       AS ended_at,
	(e.payload ->> 'total_duration')::double precision  AS total_duration_s,
	(e.payload ->> 'duration')::double precision        AS duration_s,
	(e.payload ->> 'waiting_time')::double precision    AS waiting_time_s,
	(e.payload ->> 'hold_time')::double precision       AS hold_time_s,
	(e.payload ->> 'in_business_hours')::boolean        AS in_business_hours,
	e.payload ->> 'hangup'                              AS hangup,
	ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(e.payload -> 'tags') WHEN 'array' THEN e.payload -> 'tags' ELSE '[]' END))
	                                                    AS ring_groups,
	ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(e.payload -> 'agent_tags') WHEN 'array' THEN e.payload -> 'agent_tags' ELSE '[]' END))
	                                                    AS agent_ring_groups
FROM {{s}}.events e
WHERE e.type IN ('inboundCallEnds', 'outboundCallEnds');
`,
	// 2: the log's order is commit order. Each append statement takes the
	// next positions from log_position, whose row it keeps locked until it
	// commits: the next append waits, so positions are given in the order
	// of the commits, and a reader that sees a position sees every one
	// before it (see Store.Follow). The rows of version 1 get positions in
	// the order Follow gave them, by transaction then place.
	`
CREATE TABLE {{s}}.log_position (n bigint NOT NULL);
ALTER TABLE {{s}}.events ADD COLUMN pos bigint;
UPDATE {{s}}.events e SET pos = o.n
	FROM (SELECT id, row_number() OVER (ORDER BY tx, seq) AS n FROM {{s}}.events) o WHERE e.id = o.id;
INSERT INTO {{s}}.log_position SELECT coalesce(max(pos), 0) FROM {{s}}.events;
ALTER TABLE {{s}}.events ALTER COLUMN pos SET NOT NULL;
CREATE UNIQUE INDEX events_position ON {{s}}.events (pos);
DROP INDEX {{s}}.events_commit;
`,
}

// SchemaVersion is the version of the schema this package reads and
// writes; Migrate brings a schema to it.
const SchemaVersion = 2

// Migrate creates the store's schema, or brings it to [SchemaVersion]. It
// is idempotent and safe when several replicas call it at once (they take
// turns on an advisory lock, in one transaction each), and it never drops
// data. A schema newer than this package is an error: deploy the newer
// code everywhere first.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("tdpostgres: migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('talkdesk-go migrate ' || $1, 0))`, s.schema); err != nil {
		return fmt.Errorf("tdpostgres: migrate: %w", err)
	}
	stmts := []string{
		`CREATE SCHEMA IF NOT EXISTS {{s}}`,
		`CREATE TABLE IF NOT EXISTS {{s}}.schema_version (version int NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, s.sql(q)); err != nil {
			return fmt.Errorf("tdpostgres: migrate: %w", err)
		}
	}
	var have int
	if err := tx.QueryRow(ctx, s.sql(`SELECT coalesce(max(version), 0) FROM {{s}}.schema_version`)).Scan(&have); err != nil {
		return fmt.Errorf("tdpostgres: migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("tdpostgres: migrate: schema %s is at version %d, newer than this package's %d", s.schema, have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, s.sql(migrations[v-1])); err != nil {
			return fmt.Errorf("tdpostgres: migrate to version %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, s.sql(`INSERT INTO {{s}}.schema_version (version) VALUES ($1)`), v); err != nil {
			return fmt.Errorf("tdpostgres: migrate to version %d: %w", v, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("tdpostgres: migrate: %w", err)
	}
	return nil
}

// sql puts the store's quoted schema into q.
func (s *Store) sql(q string) string {
	return strings.ReplaceAll(q, "{{s}}", pgx.Identifier{s.schema}.Sanitize())
}
