-- Registry-level history. A registry's forming, sending and receipt were written as one
-- event per application in it: an ID card passes seven registries, so 21 of its 35
-- events, with their index entries, said what the registry's own three could. Those are
-- now one event on the registry (`registry_id`, no `application_id`); an application's
-- timeline joins them through `registry_items`, which keeps what differs per application:
-- when it entered the step it leaves by the registry and when that step was due (for the
-- step times and the late count). Events written before this stay as they are, per
-- application: old and new histories read the same.
ALTER TABLE registry_items ADD COLUMN entered_at BIGINT;
ALTER TABLE registry_items ADD COLUMN due_at BIGINT;
CREATE INDEX registry_items_application ON registry_items (application_id);
-- @sqlite
-- SQLite changes a column's NOT NULL only by rebuilding the table.
CREATE TABLE events_v11 (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id TEXT REFERENCES applications(id),
    registry_id TEXT REFERENCES registries(id),
    kind TEXT NOT NULL,
    step BIGINT,
    actor TEXT NOT NULL,
    unit_id TEXT,
    at BIGINT NOT NULL,
    due_at BIGINT,
    data_json TEXT NOT NULL,
    CHECK ((application_id IS NULL) <> (registry_id IS NULL))
);
INSERT INTO events_v11 (seq, application_id, registry_id, kind, step, actor, unit_id, at, due_at, data_json)
    SELECT seq, application_id, NULL, kind, step, actor, unit_id, at, due_at, data_json FROM events;
DROP TABLE events;
ALTER TABLE events_v11 RENAME TO events;
CREATE INDEX events_application ON events (application_id, seq);
CREATE INDEX events_kind_at ON events (kind, at);
-- @postgres
ALTER TABLE events ALTER COLUMN application_id DROP NOT NULL;
ALTER TABLE events ADD COLUMN registry_id TEXT REFERENCES registries(id);
ALTER TABLE events ADD CONSTRAINT events_one_subject CHECK ((application_id IS NULL) <> (registry_id IS NULL));
-- @both
-- Only the registries' events are in it (partial): an application's event adds no entry.
CREATE INDEX events_registry ON events (registry_id, seq) WHERE registry_id IS NOT NULL;
