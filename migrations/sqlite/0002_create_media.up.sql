-- Media: photos, videos, audio and documents captured during an event. Types as in
-- 0001_create_events: STRICT, UUID text, INTEGER microseconds (UTC), JSON text.
CREATE TABLE media (
    id TEXT NOT NULL PRIMARY KEY,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- Where the bytes are (object storage, a file); the database stores only the reference.
    uri TEXT NOT NULL,
    mime_type TEXT NULL,
    size_bytes INTEGER NULL,
    checksum TEXT NULL,
    -- The timeline key: when the medium was captured, not when it was stored.
    captured_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
    updated_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
    -- Media belong to their event: deleting the event deletes them. Enforced only on
    -- connections with PRAGMA foreign_keys = ON, which the evstore plugin sets on every one.
    CONSTRAINT media_event_id_fkey FOREIGN KEY (event_id)
        REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT media_kind_check CHECK (kind IN ('image', 'video', 'audio', 'document')),
    CONSTRAINT media_uri_check CHECK (length(uri) BETWEEN 1 AND 2048),
    CONSTRAINT media_size_check CHECK (size_bytes IS NULL OR size_bytes >= 0),
    CONSTRAINT media_status_check
        CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    CONSTRAINT media_metadata_check
        CHECK (json_valid(metadata) AND json_type(metadata) = 'object')
) STRICT;

-- An event's timeline: WHERE event_id = :e AND (captured_at, id) > (:t, :id)
-- ORDER BY captured_at, id LIMIT n is one index range scan, already in order. It also serves
-- the foreign key: ON DELETE CASCADE finds an event's media through its leading column.
CREATE INDEX media_event_captured_idx ON media (event_id, captured_at, id);

-- The processing queue: "pending" and "failed" media are few among many "ready" ones.
CREATE INDEX media_status_idx ON media (status);

-- updated_at is maintained by the database; see events_touch in 0001_create_events.
CREATE TRIGGER media_touch
    AFTER UPDATE ON media
    FOR EACH ROW
BEGIN
    UPDATE media
       SET updated_at = CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000
     WHERE id = NEW.id;
END;
