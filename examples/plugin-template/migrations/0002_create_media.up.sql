-- templatedb's media table: every media item belongs to an event and goes with it.
CREATE TABLE media (
    id TEXT NOT NULL PRIMARY KEY,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    uri TEXT NOT NULL,
    mime_type TEXT NULL,
    size_bytes INTEGER NULL,
    checksum TEXT NULL,
    captured_at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    metadata TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
    updated_at INTEGER NOT NULL
        DEFAULT (CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000),
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

CREATE INDEX media_event_captured_idx ON media (event_id, captured_at, id);

CREATE INDEX media_status_idx ON media (status);

CREATE TRIGGER media_touch
    AFTER UPDATE ON media
    FOR EACH ROW
BEGIN
    UPDATE media
       SET updated_at = CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000
     WHERE id = NEW.id;
END;
