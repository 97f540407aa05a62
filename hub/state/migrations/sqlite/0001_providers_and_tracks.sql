CREATE TABLE providers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    phone         TEXT    NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    device_key    TEXT    NOT NULL UNIQUE,
    token_version INTEGER NOT NULL DEFAULT 1,
    created_ms    INTEGER NOT NULL
);

-- GPS history: one row per device fix; (provider, device time) makes resends idempotent.
CREATE TABLE track_points (
    provider_id INTEGER NOT NULL,
    t_ms        INTEGER NOT NULL,
    lat         REAL    NOT NULL,
    lng         REAL    NOT NULL,
    accuracy    REAL,
    speed       REAL,
    heading     REAL,
    flag        INTEGER NOT NULL,  -- 0 live, 1 late, 2 jump
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (provider_id, t_ms)
) WITHOUT ROWID;

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
