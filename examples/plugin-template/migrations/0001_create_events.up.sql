-- templatedb's events table: the evstore data model (docs/schema.md) in SQLite's types.
-- Timestamps are INTEGER microseconds since the epoch (the dialect's timestamp_from_micros
-- and micros_from_timestamp are then the identity), UUIDs and JSON are TEXT.
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
    version INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT events_title_check CHECK (length(title) BETWEEN 1 AND 500),
    CONSTRAINT events_status_check
        CHECK (status IN ('draft', 'scheduled', 'live', 'completed', 'cancelled')),
    CONSTRAINT events_time_range_check CHECK (end_time IS NULL OR end_time >= start_time),
    CONSTRAINT events_latitude_check CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT events_longitude_check CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT events_coordinates_check CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CONSTRAINT events_metadata_check
        CHECK (json_valid(metadata) AND json_type(metadata) = 'object')
) STRICT;

CREATE INDEX events_status_idx ON events (status);

CREATE INDEX events_start_time_idx ON events (start_time, id);

CREATE INDEX events_location_idx ON events (latitude, longitude) WHERE latitude IS NOT NULL;

CREATE TRIGGER events_touch
    AFTER UPDATE ON events
    FOR EACH ROW
BEGIN
    UPDATE events
       SET updated_at = CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000,
           version = OLD.version + 1
     WHERE id = NEW.id;
END;
