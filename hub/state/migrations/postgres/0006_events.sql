CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id      bigint NOT NULL REFERENCES clients (id),
    beneficiary_id bigint NOT NULL REFERENCES beneficiaries (id),
    vehicle_id     bigint REFERENCES vehicles (id),
    type           text   NOT NULL,
    notes          text   NOT NULL,
    state          text   NOT NULL,
    opened_ms      bigint NOT NULL,
    intake_done_ms bigint,
    opened_by      text   NOT NULL
);
CREATE INDEX events_by_beneficiary ON events (beneficiary_id, opened_ms);

-- Every change of an event: appended, never updated.
CREATE TABLE event_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id bigint NOT NULL REFERENCES events (id),
    at_ms    bigint NOT NULL,
    actor    text   NOT NULL,
    action   text   NOT NULL,
    reason   text   NOT NULL
);
CREATE INDEX event_log_by_event ON event_log (event_id, id);
