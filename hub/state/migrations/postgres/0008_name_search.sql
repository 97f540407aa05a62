-- Name search by any piece: a trigram GIN index serves LIKE '%piece%'.  pg_trgm ships with
-- PostgreSQL; creating it needs a role allowed to (the superuser, once per database).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX beneficiaries_name_trgm ON beneficiaries USING gin (name_folded public.gin_trgm_ops);

-- Vehicles are read by their beneficiary with every search result.
CREATE INDEX vehicles_by_beneficiary ON vehicles (beneficiary_id);
