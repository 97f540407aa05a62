-- A client's partner establishments (garages, dealers): where a tow can take the car.
CREATE TABLE partners (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id bigint NOT NULL REFERENCES clients (id),
    name      text NOT NULL,
    address   jsonb NOT NULL,  -- Address (hub/operations/beneficiaries.py)
    lat       double precision NOT NULL,
    lng       double precision NOT NULL
);
CREATE INDEX partners_by_client ON partners (client_id, name);
