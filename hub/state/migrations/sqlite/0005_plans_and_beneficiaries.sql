CREATE TABLE plans (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients (id),
    name      TEXT    NOT NULL,
    coverage  TEXT    NOT NULL  -- JSON: service -> Limit (hub/operations/beneficiaries.py)
);
CREATE INDEX plans_by_client ON plans (client_id);

CREATE TABLE beneficiaries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id       INTEGER NOT NULL REFERENCES clients (id),
    plan_id         INTEGER NOT NULL REFERENCES plans (id),
    name            TEXT    NOT NULL,
    name_folded     TEXT    NOT NULL,  -- lower case, no accents: what name searches match
    cpf             TEXT    NOT NULL,  -- 11 digits
    phones          TEXT    NOT NULL,  -- JSON list
    address         TEXT    NOT NULL,  -- JSON Address
    active_from_ms  INTEGER,
    active_until_ms INTEGER,
    UNIQUE (client_id, cpf)
);
CREATE INDEX beneficiaries_by_cpf ON beneficiaries (cpf);

CREATE TABLE vehicles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    plate          TEXT    NOT NULL,  -- canonical: ABC1234 or ABC1D23
    plate_twin     TEXT    NOT NULL,  -- the same plate in the other format
    model          TEXT    NOT NULL,
    year           INTEGER,
    colour         TEXT    NOT NULL
);
CREATE INDEX vehicles_by_plate ON vehicles (plate);
CREATE INDEX vehicles_by_twin ON vehicles (plate_twin);
