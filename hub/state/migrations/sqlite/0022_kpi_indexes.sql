-- A provider's KPIs (DispatchRecords.kpis), refreshed after each decision that changes
-- them, read its answered offers and its arrivals of the last 90 days from these alone:
-- at a million attendances, 118-154 ms per refresh without them, 6-11 ms with them
-- (`python -m bench reports`' data; the session note of 2026-12-07).
CREATE INDEX offers_answered ON offers (provider_id, created_ms, state, mode);
CREATE INDEX attendances_arrived ON attendances (provider_id, arrived_ms, promised_ms)
    WHERE arrived_ms IS NOT NULL;
