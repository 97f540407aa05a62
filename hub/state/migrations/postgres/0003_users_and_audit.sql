CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text        NOT NULL UNIQUE,
    name          text        NOT NULL,
    role          text        NOT NULL,
    password_hash text        NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    token_version integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL
);

-- Who did what: appended, never updated.
CREATE TABLE audit_log (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL,
    actor  text        NOT NULL,
    action text        NOT NULL,
    target text        NOT NULL,
    detail text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log (at);
