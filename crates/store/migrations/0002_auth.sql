-- Sign-in: server-side sessions, lockouts, API clients, citizens' accounts, one-time codes
-- and the sandbox SMS outbox.

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,      -- SHA-256 of the cookie's token: a leaked table opens nothing
    kind TEXT NOT NULL,            -- staff | citizen
    subject TEXT NOT NULL,         -- username or IIN
    role TEXT NOT NULL,
    unit_id TEXT,
    iin TEXT,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);

CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE api_clients (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES units(id)
);

CREATE TABLE citizen_accounts (
    iin TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    phone TEXT NOT NULL
);

CREATE TABLE otp_challenges (
    id TEXT PRIMARY KEY,
    iin TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);

CREATE TABLE sms_outbox (
    id @ID@,
    phone TEXT NOT NULL,
    text TEXT NOT NULL,
    at BIGINT NOT NULL
);
