-- Issue 32: on PostgreSQL an identifier that is always a UUID is a `uuid` (it was TEXT;
-- migration 28 left every identifier TEXT). Always a UUID: an application's id (the
-- engine's `ApplicationId::new`, a UUIDv7; no API client or import chooses one), a
-- registry's (`RegistryId::new`, UUIDv7), a stored document's and a draft's (the future
-- document's, UUIDv4: the QR code's /verify/{id}), an issued document's (UUIDv7), and
-- every column that refers to one of them. The engine binds them as `uuid` (crates/store,
-- `Value::Uuid`) and reads them back as the same hyphenated lower-case text.
--
-- Left TEXT: units' and staff's ids (codes a person reads, `staff.id` also `client:NAME`
-- in a draft's signer), a person's IIN, `audit.subject` (any subject: an application, a
-- person, a unit …), the keys of sessions, API clients and idempotency (chosen by a
-- client), and the ids of registrations, journal entries, counter tasks, special records,
-- online renewals and OTP challenges (not moved here: their own lookups take text).
--
-- A value that is not a UUID in its canonical text (lower-case, hyphenated: what the
-- engine writes and what `uuid` prints) stops the migration with a message naming its
-- table and column, before anything changes; the migration runs in one transaction, so a
-- database is moved whole or not at all. Foreign keys between the moved columns are
-- dropped and made again as they were (a key and its reference must change together);
-- indexes are rebuilt in the new type by `ALTER TABLE`. Run on a live database, the ALTERs
-- rewrite each table under an exclusive lock: stop the servers for it
-- (docs/operations.md). SQLite: nothing.
-- @postgres
DO $$
DECLARE
    col text[];
    bad text;
BEGIN
    FOREACH col SLICE 1 IN ARRAY ARRAY[
        ['applications', 'id'], ['applications', 'registry_id'],
        ['registries', 'id'],
        ['events', 'application_id'], ['events', 'registry_id'],
        ['registry_items', 'registry_id'], ['registry_items', 'application_id'],
        ['issued_documents', 'id'], ['issued_documents', 'application_id'],
        ['documents', 'id'], ['documents', 'application_id'], ['documents', 'registry_id'],
        ['document_drafts', 'id'], ['document_drafts', 'application_id'],
        ['document_drafts', 'registry_id'],
        ['registrations', 'application_id'], ['journal_entries', 'application_id'],
        ['counter_tasks', 'application_id'], ['online_renewals', 'application_id']
    ] LOOP
        EXECUTE format(
            'SELECT %2$I FROM %1$I WHERE %2$I !~ ''^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'' LIMIT 1',
            col[1], col[2]) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'migration 32 stopped, nothing changed: the table % holds % in its column %, which is not a UUID; correct or remove that row, then start again', col[1], quote_literal(bad), col[2];
        END IF;
    END LOOP;
END
$$;
CREATE TEMPORARY TABLE drn_uuid_fkeys AS
    SELECT CAST(conrelid AS regclass) AS tbl, conname, pg_get_constraintdef(oid) AS def
    FROM pg_constraint
    WHERE contype = 'f' AND confrelid IN (CAST('applications' AS regclass), CAST('registries' AS regclass));
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT tbl, conname FROM drn_uuid_fkeys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.tbl, k.conname);
    END LOOP;
END
$$;
ALTER TABLE applications
    ALTER COLUMN id TYPE uuid USING CAST(id AS uuid),
    ALTER COLUMN registry_id TYPE uuid USING CAST(registry_id AS uuid);
ALTER TABLE registries
    ALTER COLUMN id TYPE uuid USING CAST(id AS uuid);
ALTER TABLE events
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid),
    ALTER COLUMN registry_id TYPE uuid USING CAST(registry_id AS uuid);
ALTER TABLE registry_items
    ALTER COLUMN registry_id TYPE uuid USING CAST(registry_id AS uuid),
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
ALTER TABLE issued_documents
    ALTER COLUMN id TYPE uuid USING CAST(id AS uuid),
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
ALTER TABLE documents
    ALTER COLUMN id TYPE uuid USING CAST(id AS uuid),
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid),
    ALTER COLUMN registry_id TYPE uuid USING CAST(registry_id AS uuid);
ALTER TABLE document_drafts
    ALTER COLUMN id TYPE uuid USING CAST(id AS uuid),
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid),
    ALTER COLUMN registry_id TYPE uuid USING CAST(registry_id AS uuid);
ALTER TABLE registrations
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
ALTER TABLE journal_entries
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
ALTER TABLE counter_tasks
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
ALTER TABLE online_renewals
    ALTER COLUMN application_id TYPE uuid USING CAST(application_id AS uuid);
DO $$
DECLARE
    k record;
BEGIN
    FOR k IN SELECT tbl, conname, def FROM drn_uuid_fkeys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.tbl, k.conname, k.def);
    END LOOP;
END
$$;
DROP TABLE drn_uuid_fkeys;
-- @both
