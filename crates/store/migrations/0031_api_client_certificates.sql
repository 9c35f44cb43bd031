-- Issue 33: an API client of another state system signs under its own certificate. Its
-- record names the BIN its organisation's certificate carries (`OU=BIN…`), and a draft
-- waits for the signature of a staff member or of an API client: `staff_id` holds the
-- signer's id, `staff.id` or `client:NAME`, so its reference to `staff` goes.
ALTER TABLE api_clients ADD COLUMN bin TEXT;
-- @sqlite
CREATE TABLE document_drafts_signers (
    id TEXT PRIMARY KEY,
    application_id TEXT REFERENCES applications(id),
    registry_id TEXT REFERENCES registries(id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    document_json TEXT NOT NULL,
    staff_id TEXT NOT NULL,              -- the signer: staff.id, or client:NAME
    pdf @BLOB@ NOT NULL,
    layout_json TEXT NOT NULL,
    placeholder_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    cms @BLOB@,
    signer_json TEXT,
    signed_at BIGINT
);
INSERT INTO document_drafts_signers SELECT * FROM document_drafts;
DROP TABLE document_drafts;
ALTER TABLE document_drafts_signers RENAME TO document_drafts;
CREATE INDEX document_drafts_application ON document_drafts (application_id, kind);
CREATE INDEX document_drafts_registry ON document_drafts (registry_id, kind);
-- @postgres
ALTER TABLE document_drafts DROP CONSTRAINT IF EXISTS document_drafts_staff_id_fkey;
-- @both
