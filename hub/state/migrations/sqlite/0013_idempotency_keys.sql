-- What a request sent with an Idempotency-Key answered (hub/state/idempotency.py).
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,  -- whose key: a hash of the request's credentials
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,  -- a hash of the request the key was first sent with
    status INTEGER,  -- NULL while that request runs
    content_type TEXT,
    body BLOB,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
