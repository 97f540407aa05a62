-- A provider's KPIs (DispatchRecords.kpis), refreshed after each decision that changes
-- them, read its answered offers and its arrivals of the last 90 days from these alone:
-- at a million attendances, 118-154 ms per refresh without them, 7-10 ms with them
-- (`python -m bench reports`, kpi_refresh_p50_ms).  Each is partial on exactly what the
-- KPI query asks, so no report query can take it (an index SQLite could skip-scan by
-- provider made its report queries by client or service four times slower).
CREATE INDEX offers_answered ON offers (provider_id, created_ms, state)
    WHERE mode <> 'verbal' AND state IN ('accepted', 'refused', 'expired');
CREATE INDEX attendances_arrived ON attendances (provider_id, arrived_ms, promised_ms)
    WHERE arrived_ms IS NOT NULL AND promised_ms IS NOT NULL;
