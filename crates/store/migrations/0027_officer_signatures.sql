-- Issue 33: officers sign with their own keys. A staff member's position (printed beside
-- their signature on a document, {kk, ru, en} JSON), and the documents rendered for an
-- officer's signature and waiting for it (a draft): the PDF with an empty signature value
-- in the officer's name, where that value is, and the SHA-256 of what the officer signs.
-- A draft is finished (the officer's CMS in, the authorities' signatures after it) into
-- `documents` once its command is done; the signature is kept here from the moment it is
-- verified, so a crash between the command and the document loses no officer's signature.
ALTER TABLE staff ADD COLUMN position_json TEXT;

CREATE TABLE document_drafts (
    id TEXT PRIMARY KEY,                 -- the future document's id (its /verify/{id})
    application_id TEXT REFERENCES applications(id),
    registry_id TEXT REFERENCES registries(id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    document_json TEXT NOT NULL,         -- the document's content (drn_docs::Document)
    staff_id TEXT NOT NULL REFERENCES staff(id),  -- the officer who is to sign it
    pdf @BLOB@ NOT NULL,                 -- rendered, with the officer's empty signature value
    layout_json TEXT NOT NULL,           -- where the PDF's signature objects are
    placeholder_json TEXT NOT NULL,      -- where the officer's /Contents goes, and its digest
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,          -- an unsigned draft is not used after this
    cms @BLOB@,                          -- the officer's CMS once verified
    signer_json TEXT,                    -- the verified signer (subject, serial, signing time)
    signed_at BIGINT
);
CREATE INDEX document_drafts_application ON document_drafts (application_id, kind);
CREATE INDEX document_drafts_registry ON document_drafts (registry_id, kind);
