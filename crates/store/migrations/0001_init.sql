-- DRN schema, version 1. Portable SQL: the same text runs on SQLite and PostgreSQL, with
-- @ID@ replaced by each backend's auto-increment key type. Instants are microseconds since
-- the Unix epoch (UTC); JSON documents are TEXT.

CREATE TABLE units (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- counter | district | region | centre | production
    parent_id TEXT REFERENCES units(id),
    region_code TEXT,              -- KATO region (AB), for the area scope
    kato TEXT,
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL,
    hours_json TEXT NOT NULL
);

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id),
    iin TEXT,
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE persons (
    iin TEXT PRIMARY KEY,
    surname TEXT NOT NULL,
    given_name TEXT NOT NULL,
    patronymic TEXT,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    citizenship TEXT NOT NULL,
    data_json TEXT NOT NULL
);

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    service TEXT NOT NULL,
    version TEXT NOT NULL,
    process TEXT NOT NULL,
    channel TEXT NOT NULL,
    urgency TEXT NOT NULL,
    applicant_iin TEXT NOT NULL,
    accepted_unit TEXT NOT NULL REFERENCES units(id),
    accepted_at BIGINT NOT NULL,
    status TEXT NOT NULL,          -- in_progress | in_transit | refused | annulled | issued | intake_refused
    step BIGINT NOT NULL,
    holder_unit TEXT NOT NULL REFERENCES units(id),
    step_entered_at BIGINT NOT NULL,
    step_due_at BIGINT,
    due_at BIGINT,
    registry_id TEXT,
    revision BIGINT NOT NULL,
    data_json TEXT NOT NULL
);
CREATE INDEX applications_queue ON applications (holder_unit, status, step, step_due_at);
CREATE INDEX applications_applicant ON applications (applicant_iin);
CREATE INDEX applications_due ON applications (status, step_due_at);

CREATE TABLE events (
    seq @ID@,
    application_id TEXT NOT NULL REFERENCES applications(id),
    kind TEXT NOT NULL,
    step BIGINT,
    actor TEXT NOT NULL,
    unit_id TEXT,
    at BIGINT NOT NULL,
    due_at BIGINT,
    data_json TEXT NOT NULL
);
CREATE INDEX events_application ON events (application_id, seq);

CREATE TABLE registries (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    service TEXT NOT NULL,
    version TEXT NOT NULL,
    process TEXT NOT NULL,
    step BIGINT NOT NULL,
    from_unit TEXT NOT NULL REFERENCES units(id),
    to_unit TEXT NOT NULL REFERENCES units(id),
    status TEXT NOT NULL,          -- formed | signed | sent | received
    formed_by TEXT NOT NULL,
    formed_at BIGINT NOT NULL,
    signed_by TEXT,
    signed_at BIGINT,
    sent_at BIGINT,
    received_by TEXT,
    received_at BIGINT,
    incoming_number TEXT,
    revision BIGINT NOT NULL
);
CREATE INDEX registries_units ON registries (from_unit, to_unit, status);

CREATE TABLE registry_items (
    registry_id TEXT NOT NULL REFERENCES registries(id),
    application_id TEXT NOT NULL REFERENCES applications(id),
    PRIMARY KEY (registry_id, application_id)
);

CREATE TABLE issued_documents (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications(id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    holder_iin TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    data_json TEXT NOT NULL
);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    command TEXT NOT NULL,
    response_json TEXT NOT NULL,
    at BIGINT NOT NULL
);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- The audit log: each record carries the hash of the previous one (hash-chained).
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit (subject, seq);
