-- Result documents and receipts as issued: the signed PDF and its detached CMS signature,
-- kept byte for byte, so that /verify can tell whether a document is genuine, unchanged
-- and not revoked. `@BLOB@` is BLOB on SQLite and BYTEA on PostgreSQL.

CREATE TABLE documents (
    id TEXT PRIMARY KEY,                          -- random (UUID v4): the QR code's /verify/{id}
    application_id TEXT REFERENCES applications(id),
    registry_id TEXT REFERENCES registries(id),
    kind TEXT NOT NULL,                           -- drn_docs::DocumentKind::code()
    number TEXT NOT NULL,
    doc_date TEXT NOT NULL,                       -- the date printed on it (YYYY-MM-DD, Kazakhstan)
    issuer_json TEXT NOT NULL,                    -- the issuing unit's name {kk, ru, en}
    sha256 TEXT NOT NULL,                         -- of the final PDF, hex
    pdf @BLOB@ NOT NULL,
    p7s @BLOB@ NOT NULL,
    issued_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);

-- One document of a kind per application and per registry (NULLs are distinct).
CREATE UNIQUE INDEX documents_application_kind ON documents (application_id, kind);
CREATE UNIQUE INDEX documents_registry_kind ON documents (registry_id, kind);
