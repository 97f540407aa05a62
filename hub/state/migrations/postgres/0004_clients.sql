-- Insurers and associations; their dispatch rules as JSON (hub/operations/clients.py).
CREATE TABLE clients (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL,
    script     text        NOT NULL DEFAULT '',
    rules      jsonb       NOT NULL DEFAULT '{}',
    active     boolean     NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);
