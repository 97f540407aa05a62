-- The dispatch profile (hub/operations/providers.py DispatchProfile) as JSON: matching loads
-- every profile into memory, so the store only keeps and returns it whole.
ALTER TABLE providers ADD COLUMN profile TEXT NOT NULL DEFAULT '{}';
