-- What an attendance log entry is about, as JSON (offer, provider, mode, reason, ETA...), so
-- a client words the history in its own language; detail keeps the English line.
ALTER TABLE attendance_log ADD COLUMN facts TEXT NOT NULL DEFAULT '{}';
