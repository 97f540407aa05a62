-- Device keys are kept as their SHA-256 only (hub/operations/providers.py device_key_hash);
-- the keys stored in clear so far are replaced by their hashes.  hub_sha256 is a function
-- the store registers on its connection (SQLite has no SHA-256 of its own).
UPDATE providers SET device_key = 'sha256:' || hub_sha256(device_key)
WHERE device_key NOT LIKE 'sha256:%';
