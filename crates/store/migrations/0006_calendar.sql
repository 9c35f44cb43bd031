-- Transfers of days off added by an administrator (the government's yearly decrees that
-- came after the data file); merged with catalog/calendar/kz.toml at start.
CREATE TABLE calendar_transfers (
    id @ID@,
    year BIGINT NOT NULL,
    off_day TEXT,
    work_day TEXT,
    cite TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
