-- Dispatch: who has the job, the promise and the arrival, and when the cascade looks again.
ALTER TABLE attendances
    ADD COLUMN provider_id bigint REFERENCES providers (id),
    ADD COLUMN assigned_ms bigint,
    ADD COLUMN promised_ms bigint,  -- assigned + the provider's ETA
    ADD COLUMN arrived_ms bigint,
    ADD COLUMN finished_ms bigint,
    ADD COLUMN automatic boolean NOT NULL DEFAULT false,  -- a cascade runs
    ADD COLUMN due_ms bigint,  -- dispatch looks at it again then
    ADD COLUMN dispatch_note text NOT NULL DEFAULT '';
CREATE INDEX attendances_due ON attendances (due_ms) WHERE due_ms IS NOT NULL;
CREATE INDEX attendances_engaged ON attendances (provider_id)
    WHERE state IN ('assigned', 'en_route', 'on_site', 'in_service');

-- Deadlines are rows: whoever is alive fires them (hub/dispatch/service.py).
CREATE TABLE offers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attendance_id bigint NOT NULL REFERENCES attendances (id),
    provider_id   bigint NOT NULL REFERENCES providers (id),
    mode          text NOT NULL,
    state         text NOT NULL,
    created_ms    bigint NOT NULL,
    deadline_ms   bigint NOT NULL,
    decided_ms    bigint,
    eta_min       integer,
    reason        text NOT NULL DEFAULT '',
    radius_km     double precision NOT NULL,
    link_hash     text UNIQUE,  -- SHA-256 of the link secret (link mode only)
    created_by    text NOT NULL,
    decided_by    text NOT NULL DEFAULT ''
);
-- Exactly one winner: at most one accepted offer per attendance.
CREATE UNIQUE INDEX offers_one_winner ON offers (attendance_id) WHERE state = 'accepted';
CREATE INDEX offers_by_attendance ON offers (attendance_id, id);
CREATE INDEX offers_by_provider ON offers (provider_id, id);

-- What the notifiers sent (SMS, e-mail), and everything the development outbox holds.
CREATE TABLE notifications (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms     bigint NOT NULL,
    channel   text NOT NULL,
    recipient text NOT NULL,
    subject   text NOT NULL,
    body      text NOT NULL,
    offer_id  bigint REFERENCES offers (id),
    outcome   text NOT NULL
);
