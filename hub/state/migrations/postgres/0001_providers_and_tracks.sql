CREATE TABLE providers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    phone         text        NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    device_key    text        NOT NULL UNIQUE,
    token_version integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL
);

-- GPS history in chunks: one row per provider per commit (see hub/state/records.py).
-- No foreign key: this is the hottest insert path, and providers are never deleted.
CREATE TABLE track_chunks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider_id bigint      NOT NULL,
    t_first     timestamptz NOT NULL,
    t_last      timestamptz NOT NULL,
    points      integer     NOT NULL,
    data        bytea       NOT NULL  -- MessagePack array of [provider_id, t_ms, lat, lng,
                                      -- accuracy, speed, heading, flag, received_ms], by t_ms
);
CREATE INDEX track_chunks_by_provider ON track_chunks (provider_id, t_last);

CREATE TABLE secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
