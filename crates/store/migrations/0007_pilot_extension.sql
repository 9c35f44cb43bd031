-- Extensions of a pilot's period by an administrator (issue 6): the catalog's last version
-- of the service goes on applying to `until_day` (inclusive). The latest day stored wins.
CREATE TABLE service_extensions (
    id @ID@,
    service TEXT NOT NULL,
    until_day TEXT NOT NULL,
    cite TEXT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
