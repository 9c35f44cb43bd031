-- A registry's items are stored in the order of their key (registry, application), as a
-- table without row ids (SQLite): the rowid table kept each item twice, once in the table
-- and once in the index behind its primary key, so forming a registry of 300 applications
-- wrote 900 entries and every item read went through both. PostgreSQL keeps its own
-- primary key index; nothing changes there.
-- @sqlite
CREATE TABLE registry_items_v16 (
    registry_id TEXT NOT NULL REFERENCES registries(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    entered_at BIGINT,
    due_at BIGINT,
    received_step BIGINT,
    received_due_at BIGINT,
    PRIMARY KEY (registry_id, application_id)
) WITHOUT ROWID;
INSERT INTO registry_items_v16 (registry_id, application_id, entered_at, due_at, received_step, received_due_at)
    SELECT registry_id, application_id, entered_at, due_at, received_step, received_due_at FROM registry_items;
DROP TABLE registry_items;
ALTER TABLE registry_items_v16 RENAME TO registry_items;
CREATE INDEX registry_items_application ON registry_items (application_id);
-- @both
