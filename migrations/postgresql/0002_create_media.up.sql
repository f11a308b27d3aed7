-- Media: photos, videos, audio and documents captured during an event.
CREATE TABLE media (
    id uuid NOT NULL,
    event_id uuid NOT NULL,
    kind text NOT NULL,
    -- Where the bytes are (object storage, a file); the database stores only the reference.
    uri text NOT NULL,
    mime_type text NULL,
    size_bytes bigint NULL,
    checksum text NULL,
    -- The timeline key: when the medium was captured, not when it was stored.
    captured_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT media_pkey PRIMARY KEY (id),
    -- Media belong to their event: deleting the event deletes them.
    CONSTRAINT media_event_id_fkey FOREIGN KEY (event_id)
        REFERENCES events (id) ON DELETE CASCADE,
    CONSTRAINT media_kind_check CHECK (kind IN ('image', 'video', 'audio', 'document')),
    CONSTRAINT media_uri_check CHECK (char_length(uri) BETWEEN 1 AND 2048),
    CONSTRAINT media_size_check CHECK (size_bytes IS NULL OR size_bytes >= 0),
    CONSTRAINT media_status_check
        CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    CONSTRAINT media_metadata_check CHECK (jsonb_typeof(metadata) = 'object')
);

-- An event's timeline: WHERE event_id = :e AND (captured_at, id) > (:t, :id)
-- ORDER BY captured_at, id LIMIT n is one index range scan, already in order. It also serves
-- the foreign key: ON DELETE CASCADE finds an event's media through its leading column.
CREATE INDEX media_event_captured_idx ON media (event_id, captured_at, id);

-- The processing queue: "pending" and "failed" media are few among many "ready" ones.
CREATE INDEX media_status_idx ON media (status);

-- Metadata containment; see events_metadata_idx. PostgreSQL only.
CREATE INDEX media_metadata_idx ON media USING gin (metadata jsonb_path_ops);

-- updated_at is maintained by the database; see evstore_events_touch.
CREATE FUNCTION evstore_media_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER media_touch
    BEFORE UPDATE ON media
    FOR EACH ROW EXECUTE FUNCTION evstore_media_touch();
