-- Issue 7: the address register (адресный регистр), registrations at the place of
-- residence, departure address sheets, journals of the services for foreigners and of
-- temporary ID cards, and special records. Portable SQL (SQLite and PostgreSQL).

-- Administrative-territorial units by KATO code: regions (level 1) and districts (level 2).
CREATE TABLE ar_ate (
    kato TEXT PRIMARY KEY,
    level BIGINT NOT NULL,          -- 1 region / city of republican significance, 2 district
    parent_kato TEXT REFERENCES ar_ate(kato),
    unit_id TEXT,                   -- the migration unit serving it (district), if any
    name_kk TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

-- Addresses: settlements, streets, buildings and premises, each with its registration
-- code (регистрационный код адреса, РКА). A premise's parent is its building, a building's
-- its street, a street's its settlement; a settlement belongs to a district (ate_kato).
CREATE TABLE ar_addresses (
    rka TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- settlement | street | building | premise
    parent_rka TEXT REFERENCES ar_addresses(rka),
    ate_kato TEXT NOT NULL REFERENCES ar_ate(kato),
    name TEXT NOT NULL,             -- this level's own name or number
    full_text TEXT NOT NULL,        -- the whole address, in Russian as addresses are written
    search_text TEXT NOT NULL,      -- lower-case full text, for search
    active BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX ar_addresses_parent ON ar_addresses (parent_rka);
CREATE INDEX ar_addresses_ate ON ar_addresses (ate_kato, kind);

-- Registrations of persons at a place of residence (permanent) or of stay (temporary),
-- with their history: a new permanent registration ends the previous one.
CREATE TABLE registrations (
    id TEXT PRIMARY KEY,
    person_iin TEXT NOT NULL,
    kind TEXT NOT NULL,             -- permanent | temporary | not_established
    rka TEXT REFERENCES ar_addresses(rka),
    application_id TEXT REFERENCES applications(id),
    owner_iin TEXT,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT,                -- temporary: until; NULL open
    ended_at BIGINT,
    ended_by TEXT,                  -- the application or reason that ended it
    data_json TEXT NOT NULL
);
CREATE INDEX registrations_person ON registrations (person_iin, ended_at);

-- Journals the services keep: temporary ID cards (S2), departure address sheets (S4),
-- address certificates (S5), border-zone passes (S6), invitations (S7), registrations of
-- foreigners (S8), IINs formed for foreigners (S9), chip rewrites (S3).
CREATE TABLE journal_entries (
    id TEXT PRIMARY KEY,
    journal TEXT NOT NULL,
    number TEXT NOT NULL UNIQUE,
    application_id TEXT REFERENCES applications(id),
    service TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    subject TEXT NOT NULL,          -- IIN, BIN or the foreigner's passport
    at BIGINT NOT NULL,
    data_json TEXT NOT NULL
);
CREATE INDEX journal_entries_journal ON journal_entries (journal, unit_id, at);

-- Special records (специальные учёты) the services for foreigners are checked against.
CREATE TABLE special_records (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,          -- IIN or passport number
    reason TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE INDEX special_records_subject ON special_records (subject);

-- Counter-side tasks (the chip rewrite after a portal registration).
CREATE TABLE counter_tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,             -- chip_rewrite
    person_iin TEXT NOT NULL,
    application_id TEXT REFERENCES applications(id),
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by TEXT,
    data_json TEXT NOT NULL
);
CREATE INDEX counter_tasks_person ON counter_tasks (person_iin, done_at);
