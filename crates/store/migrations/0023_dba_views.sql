-- Issue 32: PostgreSQL read in its own types. The tables keep the portable types every
-- migration before this one gave them (instants as BIGINT microseconds since the Unix
-- epoch, dates as TEXT YYYY-MM-DD, JSON documents as TEXT, identifiers as TEXT): the engine
-- reaches both backends through sqlx's `Any` driver, which can neither bind nor read
-- `timestamptz`, `date`, `jsonb` or `uuid` (its PostgreSQL side maps bool, integers, reals,
-- text and bytea only), so columns of those types would break every query that touches
-- them. What a DBA needs from those types is given here instead, on PostgreSQL only:
--
-- - `drn_instant(bigint)`: the instant a stored microsecond count stands for, as a
--   `timestamptz` (exact to the microsecond, immutable, so it can be indexed);
-- - the schema `dba`: one view per table, with the same rows, instants as `timestamptz`,
--   dates as `date`, JSON documents as `jsonb` (named without `_json`) and flags as
--   `boolean`; hashes, secrets and PDF bytes are left out, and so are the tables of
--   sessions, one-time codes and the SMS outbox (it holds them), login attempts, API
--   clients, citizen accounts, idempotency and counters;
-- - an index on `drn_instant(accepted_at)` of applications, so that "accepted in the last
--   day" through `dba.applications` is a range scan, not a scan of the table.
--
-- The views cost the engine's writes nothing (the index: one entry an intake). SQLite: nothing.
-- @postgres
CREATE FUNCTION public.drn_instant(bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS 'SELECT timestamptz ''epoch'' + $1 * interval ''1 microsecond''';
CREATE INDEX applications_accepted_instant ON applications (drn_instant(accepted_at));
CREATE SCHEMA dba;

CREATE VIEW dba.applications AS SELECT
    id,
    number,
    service,
    version,
    process,
    channel,
    urgency,
    applicant_iin,
    accepted_unit,
    drn_instant(accepted_at) AS accepted_at,
    status,
    step,
    holder_unit,
    drn_instant(step_entered_at) AS step_entered_at,
    drn_instant(step_due_at) AS step_due_at,
    drn_instant(due_at) AS due_at,
    registry_id,
    revision,
    CAST(data_json AS jsonb) AS data
FROM public.applications;

CREATE VIEW dba.ar_addresses AS SELECT
    rka,
    kind,
    parent_rka,
    ate_kato,
    name,
    full_text,
    search_text,
    active <> 0 AS active
FROM public.ar_addresses;

CREATE VIEW dba.ar_ate AS SELECT
    kato,
    level,
    parent_kato,
    unit_id,
    name_kk,
    name_ru,
    name_en
FROM public.ar_ate;

CREATE VIEW dba.ar_owners AS SELECT
    rka,
    owner_iin,
    drn_instant(since) AS since,
    added_by
FROM public.ar_owners;

CREATE VIEW dba.audit AS SELECT
    seq,
    drn_instant(at) AS at,
    actor,
    action,
    subject,
    CAST(detail_json AS jsonb) AS detail,
    prev_hash,
    hash
FROM public.audit;

CREATE VIEW dba.calendar_transfers AS SELECT
    id,
    year,
    CAST(off_day AS date) AS off_day,
    CAST(work_day AS date) AS work_day,
    cite,
    added_by,
    drn_instant(added_at) AS added_at
FROM public.calendar_transfers;

CREATE VIEW dba.counter_tasks AS SELECT
    id,
    kind,
    person_iin,
    application_id,
    drn_instant(created_at) AS created_at,
    drn_instant(done_at) AS done_at,
    done_by,
    CAST(data_json AS jsonb) AS data
FROM public.counter_tasks;

CREATE VIEW dba.documents AS SELECT
    id,
    application_id,
    registry_id,
    kind,
    number,
    CAST(doc_date AS date) AS doc_date,
    CAST(issuer_json AS jsonb) AS issuer,
    sha256,
    drn_instant(issued_at) AS issued_at,
    drn_instant(revoked_at) AS revoked_at,
    revoked_reason
FROM public.documents;

CREATE VIEW dba.events AS SELECT
    seq,
    application_id,
    kind,
    step,
    actor,
    unit_id,
    drn_instant(at) AS at,
    drn_instant(due_at) AS due_at,
    CAST(data_json AS jsonb) AS data,
    registry_id,
    drn_instant(entered_at) AS entered_at
FROM public.events;

CREATE VIEW dba.issued_documents AS SELECT
    id,
    application_id,
    kind,
    number,
    holder_iin,
    drn_instant(issued_at) AS issued_at,
    CAST(data_json AS jsonb) AS data
FROM public.issued_documents;

CREATE VIEW dba.journal_entries AS SELECT
    id,
    journal,
    number,
    application_id,
    service,
    unit_id,
    subject,
    drn_instant(at) AS at,
    CAST(data_json AS jsonb) AS data
FROM public.journal_entries;

CREATE VIEW dba.online_renewals AS SELECT
    id,
    applicant_iin,
    status,
    step,
    application_id,
    drn_instant(created_at) AS created_at,
    drn_instant(updated_at) AS updated_at,
    revision,
    CAST(data_json AS jsonb) AS data
FROM public.online_renewals;

CREATE VIEW dba.persons AS SELECT
    iin,
    surname,
    given_name,
    patronymic,
    CAST(birth_date AS date) AS birth_date,
    sex,
    citizenship,
    CAST(data_json AS jsonb) AS data
FROM public.persons;

CREATE VIEW dba.registrations AS SELECT
    id,
    person_iin,
    kind,
    rka,
    application_id,
    owner_iin,
    drn_instant(valid_from) AS valid_from,
    drn_instant(valid_to) AS valid_to,
    drn_instant(ended_at) AS ended_at,
    ended_by,
    CAST(data_json AS jsonb) AS data
FROM public.registrations;

CREATE VIEW dba.registries AS SELECT
    id,
    number,
    kind,
    service,
    version,
    process,
    step,
    from_unit,
    to_unit,
    status,
    formed_by,
    drn_instant(formed_at) AS formed_at,
    signed_by,
    drn_instant(signed_at) AS signed_at,
    drn_instant(sent_at) AS sent_at,
    received_by,
    drn_instant(received_at) AS received_at,
    incoming_number,
    revision,
    incoming_year
FROM public.registries;

CREATE VIEW dba.registry_items AS SELECT
    registry_id,
    application_id,
    drn_instant(entered_at) AS entered_at,
    drn_instant(due_at) AS due_at,
    received_step,
    drn_instant(received_due_at) AS received_due_at,
    document_number
FROM public.registry_items;

CREATE VIEW dba.service_extensions AS SELECT
    id,
    service,
    CAST(until_day AS date) AS until_day,
    cite,
    added_by,
    drn_instant(added_at) AS added_at
FROM public.service_extensions;

CREATE VIEW dba.special_records AS SELECT
    id,
    subject,
    reason,
    drn_instant(added_at) AS added_at
FROM public.special_records;

CREATE VIEW dba.staff AS SELECT
    id,
    username,
    full_name,
    role,
    unit_id,
    iin,
    active <> 0 AS active
FROM public.staff;

CREATE VIEW dba.units AS SELECT
    id,
    kind,
    parent_id,
    region_code,
    kato,
    name_kk,
    name_ru,
    name_en,
    CAST(hours_json AS jsonb) AS hours
FROM public.units;

-- @both
