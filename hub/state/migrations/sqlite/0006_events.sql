CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id      INTEGER NOT NULL REFERENCES clients (id),
    beneficiary_id INTEGER NOT NULL REFERENCES beneficiaries (id),
    vehicle_id     INTEGER REFERENCES vehicles (id),
    type           TEXT    NOT NULL,
    notes          TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    opened_ms      INTEGER NOT NULL,
    intake_done_ms INTEGER,
    opened_by      TEXT    NOT NULL
);
CREATE INDEX events_by_beneficiary ON events (beneficiary_id, opened_ms);

-- Every change of an event: appended, never updated.
CREATE TABLE event_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events (id),
    at_ms    INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    reason   TEXT    NOT NULL
);
CREATE INDEX event_log_by_event ON event_log (event_id, id);
