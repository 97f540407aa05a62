CREATE TABLE providers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    phone         text        NOT NULL,
    active        boolean     NOT NULL DEFAULT true,
    device_key    text        NOT NULL UNIQUE,
    token_version integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL
);

-- GPS history: one row per device fix; (provider, device time) makes resends idempotent.
-- No foreign key: this is the hottest insert path, and providers are never deleted.
CREATE TABLE track_points (
    provider_id bigint           NOT NULL,
    t           timestamptz      NOT NULL,
    lat         double precision NOT NULL,
    lng         double precision NOT NULL,
    accuracy    real,
    speed       real,
    heading     real,
    flag        smallint         NOT NULL,  -- 0 live, 1 late, 2 jump
    received_at timestamptz      NOT NULL,
    PRIMARY KEY (provider_id, t)
);

CREATE TABLE secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);
