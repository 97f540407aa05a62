-- Name search by any piece: a trigram FTS5 index over the folded names, kept in step by
-- triggers ("%piece%" with LIKE would read every row).
CREATE VIRTUAL TABLE beneficiary_names USING fts5(
    name_folded, content='beneficiaries', content_rowid='id', tokenize='trigram'
);
INSERT INTO beneficiary_names (rowid, name_folded) SELECT id, name_folded FROM beneficiaries;
CREATE TRIGGER beneficiary_names_insert AFTER INSERT ON beneficiaries BEGIN
    INSERT INTO beneficiary_names (rowid, name_folded) VALUES (new.id, new.name_folded);
END;
CREATE TRIGGER beneficiary_names_delete AFTER DELETE ON beneficiaries BEGIN
    INSERT INTO beneficiary_names (beneficiary_names, rowid, name_folded)
    VALUES ('delete', old.id, old.name_folded);
END;
CREATE TRIGGER beneficiary_names_update AFTER UPDATE OF name_folded ON beneficiaries BEGIN
    INSERT INTO beneficiary_names (beneficiary_names, rowid, name_folded)
    VALUES ('delete', old.id, old.name_folded);
    INSERT INTO beneficiary_names (rowid, name_folded) VALUES (new.id, new.name_folded);
END;

-- Vehicles are read by their beneficiary with every search result.
CREATE INDEX vehicles_by_beneficiary ON vehicles (beneficiary_id);
