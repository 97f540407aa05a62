CREATE TABLE providers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    device_key    TEXT    NOT NULL UNIQUE,
    token_version INTEGER NOT NULL DEFAULT 1,
    created_ms    INTEGER NOT NULL
);

-- GPS history in chunks: one row per provider per commit (see hub/state/records.py).
CREATE TABLE track_chunks (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL,
    t_first_ms  INTEGER NOT NULL,
    t_last_ms   INTEGER NOT NULL,
    points      INTEGER NOT NULL,
    data        BLOB    NOT NULL  -- MessagePack array of [provider_id, t_ms, lat, lng,
                                  -- accuracy, speed, heading, flag, received_ms], by t_ms
);
CREATE INDEX track_chunks_by_provider ON track_chunks (provider_id, t_last_ms);

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
