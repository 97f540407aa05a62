-- A provider's mean rating (its KPIs, refreshed after each decision and rating) read from
-- the rated attendances alone.
CREATE INDEX attendances_rated ON attendances (provider_id, at_ms) WHERE rating IS NOT NULL;
