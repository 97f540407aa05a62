-- Optimistic dispatch decisions (hub/dispatch/service.py): every decision's commit bumps
-- the attendance's version, on condition that it is still the version the decision read.
ALTER TABLE attendances ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
