-- Device keys are kept as their SHA-256 only (hub/operations/providers.py device_key_hash);
-- the keys stored in clear so far are replaced by their hashes.
UPDATE providers SET device_key = 'sha256:' || encode(sha256(convert_to(device_key, 'UTF8')), 'hex')
WHERE device_key NOT LIKE 'sha256:%';
