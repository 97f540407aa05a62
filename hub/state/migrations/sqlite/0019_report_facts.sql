-- The supervisor's reports (hub/operations/reports.py) read a month of a large centre from
-- indexes alone: each attendance and each offer carries its client (each offer its service,
-- each attendance the beneficiary's rating), and the report indexes cover every column the
-- report queries read.
ALTER TABLE attendances ADD COLUMN client_id INTEGER;
UPDATE attendances SET client_id = (SELECT e.client_id FROM events e WHERE e.id = attendances.event_id);
ALTER TABLE attendances ADD COLUMN rating INTEGER;
ALTER TABLE offers ADD COLUMN client_id INTEGER;
ALTER TABLE offers ADD COLUMN service TEXT;
UPDATE offers SET
    client_id = (SELECT a.client_id FROM attendances a WHERE a.id = offers.attendance_id),
    service = (SELECT a.service FROM attendances a WHERE a.id = offers.attendance_id);
CREATE INDEX attendances_report ON attendances (
    at_ms, client_id, service, kind, provider_id, state, avulso, price_cents, assigned_ms,
    promised_ms, arrived_ms, rating
);
CREATE INDEX offers_report ON offers (created_ms, client_id, service, provider_id, state);
CREATE INDEX events_report ON events (opened_ms, client_id, intake_done_ms);
