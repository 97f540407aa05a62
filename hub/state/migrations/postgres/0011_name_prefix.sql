-- Names that start with the typed piece come first, in order, straight from this index
-- (byte order: folded names are lower-case letters without accents).
CREATE INDEX beneficiaries_by_name ON beneficiaries ((name_folded COLLATE "C"), id);
