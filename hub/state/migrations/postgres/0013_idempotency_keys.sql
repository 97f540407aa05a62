-- What a request sent with an Idempotency-Key answered (hub/state/idempotency.py).
CREATE TABLE idempotency_keys (
    scope text NOT NULL,  -- whose key: a hash of the request's credentials
    key text NOT NULL,
    fingerprint text NOT NULL,  -- a hash of the request the key was first sent with
    status integer,  -- NULL while that request runs
    content_type text,
    body bytea,
    created_ms bigint NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
