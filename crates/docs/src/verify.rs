//! Offline verification of a signed PDF (every `/ByteRange` signature) or of a detached
//! CMS signature, against the CA certificate.

use crate::cms::{check, der_len, Checked};
use crate::officer::Trust;
use crate::pki::parse_certificate;
use crate::Error;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_cert::name::Name;

/// One signature as verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerInfo {
    /// The signer certificate's subject, `CN=…, O=…, SERIALNUMBER=…`.
    pub subject: String,
    pub common_name: Option<String>,
    /// The subject's serialNumber attribute (officers: `IIN` and the 12 digits).
    pub serial_number: Option<String>,
    /// The certificate's serial number, in hex.
    pub certificate_serial: String,
    pub signing_time: Option<String>,
    /// The signature verifies and the signed bytes are unchanged.
    pub valid: bool,
    /// The certificate was issued by the given CA and is within its validity period.
    pub trusted: bool,
    /// The signature covers the whole file (no bytes appended after it). For a detached
    /// CMS signature, always true.
    pub covers_whole_document: bool,
    /// Why `valid` or `trusted` is false.
    pub error: Option<String>,
}

/// The result of verifying a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub signatures: Vec<SignerInfo>,
    /// At least one signature; every one valid and trusted; the last covers the whole file.
    pub genuine: bool,
    /// A problem with the file as a whole (no signatures, unreadable signature).
    pub error: Option<String>,
}

impl Verification {
    fn conclude(signatures: Vec<SignerInfo>, error: Option<String>) -> Verification {
        let genuine = error.is_none()
            && !signatures.is_empty()
            && signatures.iter().all(|s| s.valid && s.trusted)
            && signatures.last().is_some_and(|s| s.covers_whole_document);
        Verification {
            signatures,
            genuine,
            error,
        }
    }
}

fn attr_text(v: &der::Any) -> String {
    match std::str::from_utf8(v.value()) {
        Ok(s) => s.to_string(),
        Err(_) => v.value().iter().map(|b| format!("{b:02X}")).collect(),
    }
}

/// The value of the first attribute `oid` (dotted) of a name.
pub(crate) fn name_attr(name: &Name, oid: &str) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find_map(|atv| (atv.oid.to_string() == oid).then(|| attr_text(&atv.value)))
}

/// A name as `CN=…, O=…, C=…, SERIALNUMBER=…` (most specific first).
pub(crate) fn name_text(name: &Name) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .rev()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| {
            let key = match atv.oid.to_string().as_str() {
                "2.5.4.3" => "CN".to_string(),
                "2.5.4.4" => "SURNAME".to_string(),
                "2.5.4.42" => "GIVENNAME".to_string(),
                "2.5.4.5" => "SERIALNUMBER".to_string(),
                "2.5.4.6" => "C".to_string(),
                "2.5.4.7" => "L".to_string(),
                "2.5.4.8" => "ST".to_string(),
                "2.5.4.10" => "O".to_string(),
                "2.5.4.11" => "OU".to_string(),
                other => other.to_string(),
            };
            format!("{key}={}", attr_text(&atv.value))
        })
        .collect();
    parts.join(", ")
}

fn describe(c: Checked, covers_whole_document: bool) -> SignerInfo {
    let (subject, cn, serial, cert_serial) = match &c.cert {
        Some(cert) => {
            let s = &cert.tbs_certificate.subject;
            (
                name_text(s),
                name_attr(s, "2.5.4.3"),
                name_attr(s, "2.5.4.5"),
                cert.tbs_certificate
                    .serial_number
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            )
        }
        None => (String::new(), None, None, String::new()),
    };
    SignerInfo {
        subject,
        common_name: cn,
        serial_number: serial,
        certificate_serial: cert_serial,
        signing_time: c.signing_time,
        valid: c.valid,
        trusted: c.trusted,
        covers_whole_document,
        error: c.error,
    }
}

fn invalid(error: String) -> SignerInfo {
    SignerInfo {
        subject: String::new(),
        common_name: None,
        serial_number: None,
        certificate_serial: String::new(),
        signing_time: None,
        valid: false,
        trusted: false,
        covers_whole_document: false,
        error: Some(error),
    }
}

/// Verifies a detached CMS signature (`p7s`, DER or PEM) over `content` against the CA
/// certificate (`ca_cert`, PEM or DER).
pub fn verify_detached(content: &[u8], p7s: &[u8], ca_cert: &[u8]) -> Result<Verification, Error> {
    verify_detached_trusting(content, p7s, &Trust::with_roots(&[ca_cert])?)
}

/// [`verify_detached`] with intermediate CA certificates (PEM or DER each) the chain may
/// pass through besides those the CMS carries.
pub fn verify_detached_with(
    content: &[u8],
    p7s: &[u8],
    ca_cert: &[u8],
    intermediates: &[&[u8]],
) -> Result<Verification, Error> {
    let mut trust = Trust::with_roots(&[ca_cert])?;
    for c in intermediates {
        trust.intermediates.push(parse_certificate(c)?);
    }
    verify_detached_trusting(content, p7s, &trust)
}

/// Verifies a detached CMS signature (`p7s`, DER or PEM) over `content` against a trust
/// store: its roots, through its installed intermediates and the CMS's own certificates.
pub fn verify_detached_trusting(
    content: &[u8],
    p7s: &[u8],
    trust: &Trust,
) -> Result<Verification, Error> {
    let der;
    let p7s = if p7s.starts_with(b"-----") {
        der = der::pem::decode_vec(p7s)
            .map_err(|e| Error::Malformed(e.to_string()))?
            .1;
        &der[..]
    } else {
        p7s
    };
    let digest = Sha256::digest(content);
    Ok(match check(p7s, &digest, trust) {
        Ok(checked) => {
            let sigs = checked.into_iter().map(|c| describe(c, true)).collect();
            Verification::conclude(sigs, None)
        }
        Err(e) => Verification::conclude(Vec::new(), Some(e.to_string())),
    })
}

fn parse_int(bytes: &[u8], at: &mut usize) -> Option<usize> {
    while bytes.get(*at).is_some_and(|b| b.is_ascii_whitespace()) {
        *at += 1;
    }
    let start = *at;
    while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
        *at += 1;
    }
    std::str::from_utf8(bytes.get(start..*at)?)
        .ok()?
        .parse()
        .ok()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Checks one signature whose `/ByteRange` array starts at `at`.
fn check_range(pdf: &[u8], at: usize, trust: &Trust) -> SignerInfo {
    let mut i = at;
    while pdf.get(i).is_some_and(|b| *b != b'[') {
        i += 1;
    }
    i += 1;
    let nums: Vec<Option<usize>> = (0..4).map(|_| parse_int(pdf, &mut i)).collect();
    let [Some(a), Some(b), Some(c), Some(d)] = nums[..] else {
        return invalid("unreadable /ByteRange".to_string());
    };
    let Some(end) = c
        .checked_add(d)
        .filter(|e| *e <= pdf.len() && a == 0 && b < c)
    else {
        return invalid("/ByteRange outside the file".to_string());
    };
    let gap = &pdf[b..c];
    if gap.len() < 2 || gap[0] != b'<' || gap[gap.len() - 1] != b'>' {
        return invalid("/ByteRange does not exclude exactly /Contents".to_string());
    }
    let hex: Vec<u8> = gap[1..gap.len() - 1]
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let mut der = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks(2) {
        match (
            pair.first().and_then(|x| hex_value(*x)),
            pair.get(1).and_then(|x| hex_value(*x)),
        ) {
            (Some(h), Some(l)) => der.push(h << 4 | l),
            _ => return invalid("/Contents is not hex".to_string()),
        }
    }
    // Only zero padding may follow the CMS.
    if let Some(n) = der_len(&der) {
        if der
            .get(n..)
            .is_some_and(|rest| rest.iter().any(|b| *b != 0))
        {
            return invalid("bytes after the signature in /Contents".to_string());
        }
    }
    let mut h = Sha256::new();
    h.update(&pdf[..b]);
    h.update(&pdf[c..end]);
    let digest = h.finalize();
    match check(&der, &digest, trust) {
        Ok(mut checked) if checked.len() == 1 => describe(checked.remove(0), end == pdf.len()),
        Ok(_) => invalid("a PDF signature must hold exactly one signer".to_string()),
        Err(e) => invalid(e.to_string()),
    }
}

/// Verifies every signature inside a PDF against the CA certificate (PEM or DER).
pub fn verify(pdf: &[u8], ca_cert: &[u8]) -> Result<Verification, Error> {
    verify_trusting(pdf, &Trust::with_roots(&[ca_cert])?)
}

/// Verifies every signature inside a PDF against a trust store: the installed roots
/// (the НУЦ РК's, the data directory's CA), through the installed intermediates and the
/// certificates each CMS carries. An officer's CMS from NCALayer carries only their own
/// certificate, so the НУЦ's intermediate must be installed for it to chain.
pub fn verify_trusting(pdf: &[u8], trust: &Trust) -> Result<Verification, Error> {
    let key = b"/ByteRange";
    let mut signatures = Vec::new();
    let mut from = 0;
    while let Some(pos) = pdf
        .get(from..)
        .and_then(|rest| rest.windows(key.len()).position(|w| w == key))
    {
        let at = from + pos + key.len();
        signatures.push(check_range(pdf, at, trust));
        from = at;
    }
    let error = signatures
        .is_empty()
        .then(|| "the PDF holds no signature".to_string());
    Ok(Verification::conclude(signatures, error))
}
