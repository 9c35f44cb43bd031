-- Issue 28 item 12: a key reused with another request is refused. The request's SHA-256
-- (of the command as the engine received it) is kept with its first answer; rows from
-- before this migration have none and are not compared.
ALTER TABLE idempotency ADD COLUMN request_sha256 TEXT;
