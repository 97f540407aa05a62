CREATE TABLE attendances (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES events (id),
    beneficiary_id  bigint NOT NULL REFERENCES beneficiaries (id),
    kind            text NOT NULL,
    service         text,
    avulso          boolean NOT NULL,
    avulso_reason   text NOT NULL,
    requester_name  text NOT NULL,
    requester_phone text NOT NULL,
    notes           text NOT NULL,
    at_ms           bigint NOT NULL,
    scheduled_ms    bigint,
    origin          jsonb,  -- Place (hub/operations/attendances.py)
    destination     jsonb,
    police_report   text NOT NULL,
    last_seen       jsonb,
    state           text NOT NULL,
    created_by      text NOT NULL
);
CREATE INDEX attendances_by_event ON attendances (event_id, id);
CREATE INDEX attendances_by_use ON attendances (beneficiary_id, service, at_ms);

-- Every change of an attendance, appended, never updated: what the live panels replay.
CREATE TABLE attendance_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attendance_id bigint NOT NULL REFERENCES attendances (id),
    at_ms         bigint NOT NULL,
    actor         text NOT NULL,
    action        text NOT NULL,
    detail        text NOT NULL
);
CREATE INDEX attendance_log_by_attendance ON attendance_log (attendance_id, id);
