//! DRN's result documents: bilingual (Kazakh and Russian) A4 PDFs with embedded fonts and
//! a QR code of the verification address; a demo PKI made at first start; a detached CMS
//! signature (`openssl cms -verify`) and signatures inside the PDF (`pdfsig`); and a
//! verifier for both.

pub mod cms;
pub mod font;
pub mod model;
pub mod officer;
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
pub use verify::{
    verify, verify_detached, verify_detached_trusting, verify_detached_with, verify_trusting,
    SignerInfo, Verification,
};

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

/// [`issue`] with the signatures dated `when`: the clock the server runs on (the demo's
/// shifted clock too), so a document of 20.11.2019 is signed on that day.
pub fn issue_at(
    doc: &Document,
    pki: &Pki,
    base_url: &str,
    when: jiff::Timestamp,
) -> Result<Issued, Error> {
    let signers: Vec<&Signer> = doc
        .kind
        .authorities()
        .iter()
        .map(|a| pki.authority(*a))
        .collect();
    sign_rendered(render(doc, base_url)?, doc, &signers, when)
}

/// [`issue`] with explicit signers (an officer's key, say), signed now.
pub fn issue_with(doc: &Document, signers: &[&Signer], base_url: &str) -> Result<Issued, Error> {
    let pdf = render(doc, base_url)?;
    sign_rendered(pdf, doc, signers, jiff::Timestamp::now())
}

/// The reason a signature of `doc` gives (`/Reason`).
fn reason_of(doc: &Document) -> String {
    format!("{} № {}", doc.title().ru, doc.number)
}

/// Signs a rendered `doc` inside the PDF once per signer, dated `when`, then the final
/// bytes with one detached CMS holding the same signers.
fn sign_rendered(
    mut pdf: Rendered,
    doc: &Document,
    signers: &[&Signer],
    when: jiff::Timestamp,
) -> Result<Issued, Error> {
    let reason = reason_of(doc);
    for s in signers {
        sign_pdf(&mut pdf, s, &reason, when)?;
    }
    let sha256: [u8; 32] = Sha256::digest(pdf.bytes()).into();
    let p7s = cms::sign_digest_at(&sha256, signers, when)?;
    Ok(Issued {
        pdf: pdf.into_bytes(),
        p7s,
        sha256,
    })
}

/// A document rendered for an officer's own signature: the PDF with an empty signature
/// value in the officer's name, dated `when`, and what the officer signs (the PDF without
/// that value's `/Contents`, whose SHA-256 the placeholder holds).
pub fn draft_for_officer(
    doc: &Document,
    base_url: &str,
    officer: &str,
    when: jiff::Timestamp,
) -> Result<(Rendered, pdfsig::Placeholder), Error> {
    let mut pdf = render(doc, base_url)?;
    let p = pdfsig::add_placeholder(
        &mut pdf,
        officer,
        &reason_of(doc),
        when,
        pdfsig::OFFICER_CONTENTS_BYTES,
    )?;
    Ok((pdf, p))
}

/// Finishes a draft: the officer's CMS (checked by [`officer::verify_officer`]) goes into
/// its placeholder, then the authorities of the document's kind sign after it, dated
/// `when`, each as a further update (the officer's signature stays valid), and the final
/// bytes get the authorities' detached CMS.
pub fn finish_officer_signed(
    mut pdf: Rendered,
    placeholder: &pdfsig::Placeholder,
    officer_cms: &[u8],
    doc: &Document,
    pki: &Pki,
    when: jiff::Timestamp,
) -> Result<Issued, Error> {
    pdfsig::fill(&mut pdf, placeholder, officer_cms)?;
    let signers: Vec<&Signer> = doc
        .kind
        .authorities()
        .iter()
        .map(|a| pki.authority(*a))
        .collect();
    sign_rendered(pdf, doc, &signers, when)
}

/// [`issue_with`] signed at `at` (PDF /M and the CMS signingTime of every signature).
pub fn issue_with_at(
    doc: &Document,
    signers: &[&Signer],
    base_url: &str,
    at: jiff::Timestamp,
) -> Result<Issued, Error> {
    sign_rendered(render(doc, base_url)?, doc, signers, at)
}
