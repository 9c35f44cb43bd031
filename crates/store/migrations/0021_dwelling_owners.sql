-- Issue 30 item 9: the owners of dwellings in the address register. Seed 002 (2014) S3
-- para 5: the dwelling owner's ID card and consent to the registration; the consent is real
-- only when the person giving it is the dwelling's owner in the register (a building's
-- owner owns its premises). Portable SQL (SQLite and PostgreSQL).
CREATE TABLE ar_owners (
    rka TEXT NOT NULL REFERENCES ar_addresses(rka),
    owner_iin TEXT NOT NULL,
    since BIGINT NOT NULL,
    added_by TEXT NOT NULL,
    PRIMARY KEY (rka, owner_iin)
);
CREATE INDEX ar_owners_owner ON ar_owners (owner_iin);
