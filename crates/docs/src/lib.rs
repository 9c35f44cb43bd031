//! DRN's result documents: bilingual (Kazakh and Russian) A4 PDFs with embedded fonts and
//! a QR code of the verification address; a demo PKI made at first start; a detached CMS
//! signature (`openssl cms -verify`) and signatures inside the PDF (`pdfsig`); and a
//! verifier for both.

pub mod cms;
pub mod font;
pub mod model;
pub mod pdfsig;
pub mod pki;
pub mod render;
pub mod sample;
pub mod verify;

use sha2::{Digest, Sha256};

pub use model::{Authority, Column, Document, DocumentKind, Field, Signatory, Table};

pub use pdfsig::sign_pdf;
pub use pki::{check_key_permissions, Officer, Pki, Signer};
pub use render::{render, Rendered};
pub use verify::{verify, verify_detached, verify_detached_with, SignerInfo, Verification};

/// Errors of rendering, signing, the PKI and verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("font: {0}")]
    Font(String),
    #[error("render: {0}")]
    Render(String),
    #[error("PKI: {0}")]
    Pki(String),
    #[error("private key {path} is readable by group or others (mode {mode:o}); chmod 600 it")]
    KeyPermissions { path: String, mode: u32 },
    #[error("I/O on {path}: {message}")]
    Io { path: String, message: String },
    #[error("signing: {0}")]
    Sign(String),
    #[error("not a signed PDF or CMS: {0}")]
    Malformed(String),
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, e: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// An issued electronic document: the signed PDF and its detached CMS signature.
#[derive(Debug, Clone)]
pub struct Issued {
    pub pdf: Vec<u8>,
    /// DER CMS SignedData over `pdf` (detached), one SignerInfo per signer.
    pub p7s: Vec<u8>,
    /// SHA-256 of `pdf`, as the CMS signature signs it (the document's stored hash: the
    /// 80 KiB are not hashed again).
    pub sha256: [u8; 32],
}

/// Renders `doc`, signs it inside the PDF once per authority of its kind (the address
/// certificate: MVD, then Ministry of Justice, as two incremental updates), then signs the
/// final bytes with one detached CMS signature holding the same signers. Signed now (the
/// host's clock): see [`issue_at`] for the clock the server runs on.
pub fn issue(doc: &Document, pki: &Pki, base_url: &str) -> Result<Issued, Error> {
    issue_at(doc, pki, base_url, jiff::Timestamp::now())
}

/// [`issue`] signed at `at` (PDF /M and the CMS signingTime): a demo running "as of
/// 2019-11-20" signs its documents on that day.
pub fn issue_at(
    doc: &Document,
    pki: &Pki,
    base_url: &str,
    at: jiff::Timestamp,
) -> Result<Issued, Error> {
    let signers: Vec<&Signer> = doc
        .kind
        .authorities()
        .iter()
        .map(|a| pki.authority(*a))
        .collect();
    issue_with_at(doc, &signers, base_url, at)
}

/// [`issue`] with explicit signers (an officer's key, say), signed now.
pub fn issue_with(doc: &Document, signers: &[&Signer], base_url: &str) -> Result<Issued, Error> {
    issue_with_at(doc, signers, base_url, jiff::Timestamp::now())
}

/// [`issue_with`] signed at `at` (PDF /M and the CMS signingTime of every signature).
pub fn issue_with_at(
    doc: &Document,
    signers: &[&Signer],
    base_url: &str,
    at: jiff::Timestamp,
) -> Result<Issued, Error> {
    let mut pdf = render(doc, base_url)?;
    let reason = format!("{} № {}", doc.title().ru, doc.number);
    for s in signers {
        sign_pdf(&mut pdf, s, &reason, at)?;
    }
    let sha256: [u8; 32] = Sha256::digest(pdf.bytes()).into();
    let p7s = cms::sign_digest_at(&sha256, signers, at)?;
    Ok(Issued {
        pdf: pdf.into_bytes(),
        p7s,
        sha256,
    })
}
