-- An avulso attendance's price: the assigned provider's standard table for the job.
ALTER TABLE attendances ADD COLUMN price_cents bigint;
