-- The beneficiary's live page (hub/operations/track_pages.py): one link per attendance,
-- kept as its secret's SHA-256, with what the beneficiary said through it.
CREATE TABLE track_pages (
    attendance_id INTEGER PRIMARY KEY REFERENCES attendances (id),
    secret_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked_ms INTEGER,
    confirmed_lat REAL,
    confirmed_lng REAL,
    confirmed_ms INTEGER,
    confirmed_distance_m REAL,
    accepted_ms INTEGER,
    rating INTEGER,
    comment TEXT NOT NULL DEFAULT '',
    rated_ms INTEGER
);
