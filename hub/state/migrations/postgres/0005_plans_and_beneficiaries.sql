CREATE TABLE plans (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES clients (id),
    name      text   NOT NULL,
    coverage  jsonb  NOT NULL  -- service -> Limit (hub/operations/beneficiaries.py)
);
CREATE INDEX plans_by_client ON plans (client_id);

CREATE TABLE beneficiaries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id       bigint NOT NULL REFERENCES clients (id),
    plan_id         bigint NOT NULL REFERENCES plans (id),
    name            text   NOT NULL,
    name_folded     text   NOT NULL,  -- lower case, no accents: what name searches match
    cpf             text   NOT NULL,  -- 11 digits
    phones          jsonb  NOT NULL,
    address         jsonb  NOT NULL,
    active_from_ms  bigint,
    active_until_ms bigint,
    UNIQUE (client_id, cpf)
);
CREATE INDEX beneficiaries_by_cpf ON beneficiaries (cpf);

CREATE TABLE vehicles (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    beneficiary_id bigint NOT NULL REFERENCES beneficiaries (id),
    plate          text   NOT NULL,  -- canonical: ABC1234 or ABC1D23
    plate_twin     text   NOT NULL,  -- the same plate in the other format
    model          text   NOT NULL,
    year           integer,
    colour         text   NOT NULL
);
CREATE INDEX vehicles_by_plate ON vehicles (plate);
CREATE INDEX vehicles_by_twin ON vehicles (plate_twin);
