-- The after-commit journal (hub/dispatch/after_commit.py): what committed decisions still
-- have to tell while a store is down, by the node keeping it, so another node can tell it
-- if that node dies.  Empty but during an outage.
CREATE TABLE after_commit (
    id BIGSERIAL PRIMARY KEY,
    node TEXT NOT NULL,
    lane TEXT NOT NULL,
    body BYTEA NOT NULL,
    kept_ms BIGINT NOT NULL
);
CREATE INDEX after_commit_node ON after_commit (node);
