-- Insurers and associations; their dispatch rules as JSON (hub/operations/clients.py).
CREATE TABLE clients (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    script     TEXT    NOT NULL DEFAULT '',
    rules      TEXT    NOT NULL DEFAULT '{}',
    active     INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL
);
