CREATE TABLE attendances (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    beneficiary_id  INTEGER NOT NULL REFERENCES beneficiaries (id),
    kind            TEXT NOT NULL,
    service         TEXT,
    avulso          INTEGER NOT NULL,
    avulso_reason   TEXT NOT NULL,
    requester_name  TEXT NOT NULL,
    requester_phone TEXT NOT NULL,
    notes           TEXT NOT NULL,
    at_ms           INTEGER NOT NULL,
    scheduled_ms    INTEGER,
    origin          TEXT,  -- Place (hub/operations/attendances.py)
    destination     TEXT,
    police_report   TEXT NOT NULL,
    last_seen       TEXT,
    state           TEXT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX attendances_by_event ON attendances (event_id, id);
CREATE INDEX attendances_by_use ON attendances (beneficiary_id, service, at_ms);

-- Every change of an attendance, appended, never updated: what the live panels replay.
CREATE TABLE attendance_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    attendance_id INTEGER NOT NULL REFERENCES attendances (id),
    at_ms         INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX attendance_log_by_attendance ON attendance_log (attendance_id, id);
