-- Events: the things that happen, and that media are captured during.
--
-- The same logical schema as migrations/postgresql (tests/postgresql/schema_parity_test.cpp
-- compares them), in SQLite's types:
-- - STRICT: every value must have its column's type, as in PostgreSQL; without it SQLite
--   would store 'abc' in an INTEGER column.
-- - id: the UUID as canonical lower-case text (36 characters), as the framework writes it;
--   it sorts as PostgreSQL's uuid does, so keyset pagination orders rows alike.
-- - timestamps: INTEGER microseconds since 1970-01-01 00:00:00 UTC. The framework binds
--   integers (SOCI's std::tm would drop the fraction); integers compare and index in time
--   order.
-- - "now" in defaults and triggers: SQLite's clock has millisecond resolution, so the
--   database's own timestamps are whole milliseconds (they end in 000); values the framework
--   writes keep full microseconds. julianday('now') is a double whose rounding error is tens
--   of microseconds, so it is rounded to the millisecond it came from before scaling: without
--   round() the values would carry spurious microsecond digits.
-- - metadata: JSON text, validated and queried with the built-in JSON1 functions.
-- Constraint names are those of the PostgreSQL schema.
CREATE TABLE events (
    id TEXT NOT NULL PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    start_time INTEGER NOT NULL,
    end_time INTEGER NULL,
    location_name TEXT NULL,
    latitude REAL NULL,
    longitude REAL NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
    updated_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
    -- Optimistic concurrency: writers compare it, the events_touch trigger increments it.
    version INTEGER NOT NULL DEFAULT 1,
    -- length() of TEXT counts characters, as PostgreSQL's char_length does.
    CONSTRAINT events_title_check CHECK (length(title) BETWEEN 1 AND 500),
    CONSTRAINT events_status_check
        CHECK (status IN ('draft', 'scheduled', 'live', 'completed', 'cancelled')),
    CONSTRAINT events_time_range_check CHECK (end_time IS NULL OR end_time >= start_time),
    CONSTRAINT events_latitude_check CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT events_longitude_check CHECK (longitude BETWEEN -180 AND 180),
    -- A location is a point or nothing: half a coordinate would silently fall out of every
    -- bounding-box query.
    CONSTRAINT events_coordinates_check CHECK ((latitude IS NULL) = (longitude IS NULL)),
    -- json_valid first: json_type raises an error, not false, on malformed JSON.
    CONSTRAINT events_metadata_check
        CHECK (json_valid(metadata) AND json_type(metadata) = 'object')
) STRICT;

-- "Events that are live now", "drafts to review": equality on a few values, some rare.
CREATE INDEX events_status_idx ON events (status);

-- The calendar: ranges of start_time, ordered. id breaks ties so that keyset pagination
-- (WHERE (start_time, id) > (:t, :id) ORDER BY start_time, id) is an index range scan.
CREATE INDEX events_start_time_idx ON events (start_time, id);

-- Bounding-box queries: the latitude band is an index range, longitude is filtered inside the
-- index. The same B-tree as on PostgreSQL; docs/schema.md says when an R*Tree would be better.
-- Partial: events without a location are never in a box. SQLite uses a partial index only
-- when the query implies its WHERE; any comparison on latitude implies latitude IS NOT NULL.
CREATE INDEX events_location_idx ON events (latitude, longitude) WHERE latitude IS NOT NULL;

-- No index on metadata: SQLite has no index for JSON containment (PostgreSQL has a GIN one).

-- updated_at and version are maintained by the database, so that every writer gets them.
-- SQLite cannot assign to NEW, so the trigger runs after the update and updates the row once
-- more. That inner UPDATE does not fire the trigger again because recursive_triggers is off
-- (SQLite's default; evstore never turns it on). It sets version from OLD, so a writer that
-- increments version itself still gets exactly one increment, as on PostgreSQL.
CREATE TRIGGER events_touch
    AFTER UPDATE ON events
    FOR EACH ROW
BEGIN
    UPDATE events
       SET updated_at = CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000,
           version = OLD.version + 1
     WHERE id = NEW.id;
END;
