-- Dispatch: who has the job, the promise and the arrival, and when the cascade looks again.
ALTER TABLE attendances ADD COLUMN provider_id INTEGER REFERENCES providers (id);
ALTER TABLE attendances ADD COLUMN assigned_ms INTEGER;
ALTER TABLE attendances ADD COLUMN promised_ms INTEGER;  -- assigned + the provider's ETA
ALTER TABLE attendances ADD COLUMN arrived_ms INTEGER;
ALTER TABLE attendances ADD COLUMN finished_ms INTEGER;
ALTER TABLE attendances ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;  -- a cascade runs
ALTER TABLE attendances ADD COLUMN due_ms INTEGER;  -- dispatch looks at it again then
ALTER TABLE attendances ADD COLUMN dispatch_note TEXT NOT NULL DEFAULT '';
CREATE INDEX attendances_due ON attendances (due_ms) WHERE due_ms IS NOT NULL;
CREATE INDEX attendances_engaged ON attendances (provider_id)
    WHERE state IN ('assigned', 'en_route', 'on_site', 'in_service');

-- Deadlines are rows: whoever is alive fires them (hub/dispatch/service.py).
CREATE TABLE offers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    attendance_id INTEGER NOT NULL REFERENCES attendances (id),
    provider_id   INTEGER NOT NULL REFERENCES providers (id),
    mode          TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    deadline_ms   INTEGER NOT NULL,
    decided_ms    INTEGER,
    eta_min       INTEGER,
    reason        TEXT NOT NULL DEFAULT '',
    radius_km     REAL NOT NULL,
    link_hash     TEXT UNIQUE,  -- SHA-256 of the link secret (link mode only)
    created_by    TEXT NOT NULL,
    decided_by    TEXT NOT NULL DEFAULT ''
);
-- Exactly one winner: at most one accepted offer per attendance.
CREATE UNIQUE INDEX offers_one_winner ON offers (attendance_id) WHERE state = 'accepted';
CREATE INDEX offers_by_attendance ON offers (attendance_id, id);
CREATE INDEX offers_by_provider ON offers (provider_id, id);

-- What the notifiers sent (SMS, e-mail), and everything the development outbox holds.
CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    channel   TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL,
    offer_id  INTEGER REFERENCES offers (id),
    outcome   TEXT NOT NULL
);
