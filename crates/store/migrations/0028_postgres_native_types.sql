-- Issue 32: PostgreSQL keeps its data in its own types. Every instant becomes a
-- `timestamptz` (it was a BIGINT of microseconds since the Unix epoch: the same instant,
-- exact to the microsecond), every date a `date` (it was TEXT YYYY-MM-DD), every JSON
-- document a `jsonb` (it was TEXT). The engine binds and reads them through sqlx's own
-- PostgreSQL driver (crates/store, `pg.rs`); SQLite keeps its portable types.
--
-- Left as they were: `audit.detail_json` stays TEXT, since each audit record's hash is
-- over that text and `jsonb` would reorder its keys; identifiers stay TEXT (some are
-- UUIDs, others are numbers a person reads, and all are compared with text).
--
-- The schema `dba` and `drn_instant` of migration 23 are dropped: they showed the tables
-- in these types, and the tables now have them. A DBA queries the tables themselves
-- (`accepted_at > now() - interval '1 day'`, `data_json->'registration'->>'district'`,
-- `birth_date < date '2000-01-01'`); indexes on the changed columns are rebuilt in the
-- new types by `ALTER TABLE`. Added: checks that an application's and a person's document
-- is a JSON object, and an index on `applications.accepted_at` (it replaces migration 23's
-- on `drn_instant(accepted_at)`). Other instants are not indexed for a DBA: each index
-- costs every write; add one for a frequent report on a large table.
--
-- Run on a live database, the ALTERs rewrite each table under an exclusive lock: stop the
-- servers for it (docs/operations.md). SQLite: nothing.
-- @postgres
DROP SCHEMA IF EXISTS dba CASCADE;
DROP INDEX IF EXISTS applications_accepted_instant;
DROP FUNCTION IF EXISTS drn_instant(bigint);
ALTER TABLE applications
    ALTER COLUMN accepted_at TYPE timestamptz USING timestamptz 'epoch' + accepted_at * interval '1 microsecond',
    ALTER COLUMN due_at TYPE timestamptz USING timestamptz 'epoch' + due_at * interval '1 microsecond',
    ALTER COLUMN step_due_at TYPE timestamptz USING timestamptz 'epoch' + step_due_at * interval '1 microsecond',
    ALTER COLUMN step_entered_at TYPE timestamptz USING timestamptz 'epoch' + step_entered_at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE ar_owners
    ALTER COLUMN since TYPE timestamptz USING timestamptz 'epoch' + since * interval '1 microsecond';
ALTER TABLE audit
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 microsecond';
ALTER TABLE calendar_transfers
    ALTER COLUMN added_at TYPE timestamptz USING timestamptz 'epoch' + added_at * interval '1 microsecond',
    ALTER COLUMN off_day TYPE date USING CAST(off_day AS date),
    ALTER COLUMN work_day TYPE date USING CAST(work_day AS date);
ALTER TABLE counter_tasks
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 microsecond',
    ALTER COLUMN done_at TYPE timestamptz USING timestamptz 'epoch' + done_at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE document_drafts
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 microsecond',
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 microsecond',
    ALTER COLUMN signed_at TYPE timestamptz USING timestamptz 'epoch' + signed_at * interval '1 microsecond',
    ALTER COLUMN doc_date TYPE date USING CAST(doc_date AS date),
    ALTER COLUMN document_json TYPE jsonb USING CAST(document_json AS jsonb),
    ALTER COLUMN layout_json TYPE jsonb USING CAST(layout_json AS jsonb),
    ALTER COLUMN placeholder_json TYPE jsonb USING CAST(placeholder_json AS jsonb),
    ALTER COLUMN signer_json TYPE jsonb USING CAST(signer_json AS jsonb);
ALTER TABLE documents
    ALTER COLUMN issued_at TYPE timestamptz USING timestamptz 'epoch' + issued_at * interval '1 microsecond',
    ALTER COLUMN revoked_at TYPE timestamptz USING timestamptz 'epoch' + revoked_at * interval '1 microsecond',
    ALTER COLUMN doc_date TYPE date USING CAST(doc_date AS date),
    ALTER COLUMN issuer_json TYPE jsonb USING CAST(issuer_json AS jsonb);
ALTER TABLE events
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 microsecond',
    ALTER COLUMN due_at TYPE timestamptz USING timestamptz 'epoch' + due_at * interval '1 microsecond',
    ALTER COLUMN entered_at TYPE timestamptz USING timestamptz 'epoch' + entered_at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE idempotency
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 microsecond',
    ALTER COLUMN response_json TYPE jsonb USING CAST(response_json AS jsonb);
ALTER TABLE issued_documents
    ALTER COLUMN issued_at TYPE timestamptz USING timestamptz 'epoch' + issued_at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE journal_entries
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE login_attempts
    ALTER COLUMN locked_until TYPE timestamptz USING timestamptz 'epoch' + locked_until * interval '1 microsecond';
ALTER TABLE online_renewals
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 microsecond',
    ALTER COLUMN updated_at TYPE timestamptz USING timestamptz 'epoch' + updated_at * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE otp_challenges
    ALTER COLUMN expires_at TYPE timestamptz USING timestamptz 'epoch' + expires_at * interval '1 microsecond';
ALTER TABLE persons
    ALTER COLUMN birth_date TYPE date USING CAST(birth_date AS date),
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE registrations
    ALTER COLUMN ended_at TYPE timestamptz USING timestamptz 'epoch' + ended_at * interval '1 microsecond',
    ALTER COLUMN valid_from TYPE timestamptz USING timestamptz 'epoch' + valid_from * interval '1 microsecond',
    ALTER COLUMN valid_to TYPE timestamptz USING timestamptz 'epoch' + valid_to * interval '1 microsecond',
    ALTER COLUMN data_json TYPE jsonb USING CAST(data_json AS jsonb);
ALTER TABLE registries
    ALTER COLUMN formed_at TYPE timestamptz USING timestamptz 'epoch' + formed_at * interval '1 microsecond',
    ALTER COLUMN received_at TYPE timestamptz USING timestamptz 'epoch' + received_at * interval '1 microsecond',
    ALTER COLUMN sent_at TYPE timestamptz USING timestamptz 'epoch' + sent_at * interval '1 microsecond',
    ALTER COLUMN signed_at TYPE timestamptz USING timestamptz 'epoch' + signed_at * interval '1 microsecond';
ALTER TABLE registry_items
    ALTER COLUMN due_at TYPE timestamptz USING timestamptz 'epoch' + due_at * interval '1 microsecond',
    ALTER COLUMN entered_at TYPE timestamptz USING timestamptz 'epoch' + entered_at * interval '1 microsecond',
    ALTER COLUMN received_due_at TYPE timestamptz USING timestamptz 'epoch' + received_due_at * interval '1 microsecond';
ALTER TABLE service_extensions
    ALTER COLUMN added_at TYPE timestamptz USING timestamptz 'epoch' + added_at * interval '1 microsecond',
    ALTER COLUMN until_day TYPE date USING CAST(until_day AS date);
ALTER TABLE sessions
    ALTER COLUMN created_at TYPE timestamptz USING timestamptz 'epoch' + created_at * interval '1 microsecond',
    ALTER COLUMN last_seen TYPE timestamptz USING timestamptz 'epoch' + last_seen * interval '1 microsecond';
ALTER TABLE sms_outbox
    ALTER COLUMN at TYPE timestamptz USING timestamptz 'epoch' + at * interval '1 microsecond';
ALTER TABLE special_records
    ALTER COLUMN added_at TYPE timestamptz USING timestamptz 'epoch' + added_at * interval '1 microsecond';
ALTER TABLE staff
    ALTER COLUMN position_json TYPE jsonb USING CAST(position_json AS jsonb);
ALTER TABLE units
    ALTER COLUMN hours_json TYPE jsonb USING CAST(hours_json AS jsonb);
ALTER TABLE applications ADD CONSTRAINT applications_data_object CHECK (jsonb_typeof(data_json) = 'object');
ALTER TABLE persons ADD CONSTRAINT persons_data_object CHECK (jsonb_typeof(data_json) = 'object');
CREATE INDEX applications_accepted_at ON applications (accepted_at);
-- @both
