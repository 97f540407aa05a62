-- Names that start with the typed piece come first, in order, straight from this index.
CREATE INDEX beneficiaries_by_name ON beneficiaries (name_folded, id);
