-- The beneficiary's live page (hub/operations/track_pages.py): one link per attendance,
-- kept as its secret's SHA-256, with what the beneficiary said through it.
CREATE TABLE track_pages (
    attendance_id BIGINT PRIMARY KEY REFERENCES attendances (id),
    secret_hash TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT,
    confirmed_lat DOUBLE PRECISION,
    confirmed_lng DOUBLE PRECISION,
    confirmed_ms BIGINT,
    confirmed_distance_m DOUBLE PRECISION,
    accepted_ms BIGINT,
    rating INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    rated_ms BIGINT
);
