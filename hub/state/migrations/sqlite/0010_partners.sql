-- A client's partner establishments (garages, dealers): where a tow can take the car.
CREATE TABLE partners (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients (id),
    name      TEXT NOT NULL,
    address   TEXT NOT NULL,  -- Address (hub/operations/beneficiaries.py), JSON
    lat       REAL NOT NULL,
    lng       REAL NOT NULL
);
CREATE INDEX partners_by_client ON partners (client_id, name);
