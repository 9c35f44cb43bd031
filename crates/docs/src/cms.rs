//! CMS (PKCS#7) SignedData, detached: made with RustCrypto's `cms` types and ring's ECDSA,
//! and checked the same way. One SignerInfo per signer, each with the signed attributes
//! contentType (id-data), signingTime and messageDigest (SHA-256), and the signer's
//! certificate in `certificates`.

use crate::pki::{to_der, Signer};
use crate::Error;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::rfc5911::{
    ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNED_DATA, ID_SIGNING_TIME,
};
use const_oid::db::rfc5912::{ECDSA_WITH_SHA_256, ID_EC_PUBLIC_KEY, ID_SHA_256, SECP_256_R_1};
use der::asn1::{OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;
use x509_cert::Certificate;

fn sign_err(e: impl std::fmt::Display) -> Error {
    Error::Sign(e.to_string())
}

fn attribute(oid: const_oid::ObjectIdentifier, value: Any) -> Result<Attribute, Error> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(sign_err)?,
    })
}

/// A detached CMS SignedData (DER) over `content`, one SignerInfo per signer, signed now
/// (the host's clock).
pub fn sign_detached(content: &[u8], signers: &[&Signer]) -> Result<Vec<u8>, Error> {
    sign_detached_at(content, signers, jiff::Timestamp::now())
}

/// [`sign_detached`] with the signing time `at` (the clock the server runs on).
pub fn sign_detached_at(
    content: &[u8],
    signers: &[&Signer],
    at: jiff::Timestamp,
) -> Result<Vec<u8>, Error> {
    let digest = Sha256::digest(content);
    sign_digest_at(&digest, signers, at)
}

/// A CMS SignedData that holds `content` itself (attached, `openssl cms -verify` without
/// `-content`), signed at `at`.
pub fn sign_attached_at(
    content: &[u8],
    signers: &[&Signer],
    at: jiff::Timestamp,
) -> Result<Vec<u8>, Error> {
    let digest = Sha256::digest(content);
    sign_inner(&digest, Some(content), signers, at)
}

/// A detached CMS SignedData over content whose SHA-256 is `digest`, signed now (the
/// host's clock).
pub fn sign_digest(digest: &[u8], signers: &[&Signer]) -> Result<Vec<u8>, Error> {
    sign_digest_at(digest, signers, jiff::Timestamp::now())
}

/// A detached CMS SignedData over content whose SHA-256 is `digest`, with the signed
/// attribute signingTime `at` (to the second): the clock the server runs on, so a demo
/// document made "as of 2019-11-20" is signed on that day.
pub fn sign_digest_at(
    digest: &[u8],
    signers: &[&Signer],
    at: jiff::Timestamp,
) -> Result<Vec<u8>, Error> {
    sign_inner(digest, None, signers, at)
}

/// The signing time as CMS writes it: UTCTime up to 2049 (RFC 5652 §11.3).
fn signing_time(at: jiff::Timestamp) -> Result<Time, Error> {
    let secs = u64::try_from(at.as_second())
        .map_err(|_| Error::Sign(format!("signing time before 1970: {at}")))?;
    Ok(Time::UtcTime(
        UtcTime::from_unix_duration(std::time::Duration::from_secs(secs)).map_err(sign_err)?,
    ))
}

fn sign_inner(
    digest: &[u8],
    content: Option<&[u8]>,
    signers: &[&Signer],
    at: jiff::Timestamp,
) -> Result<Vec<u8>, Error> {
    if digest.len() != 32 {
        return Err(Error::Sign(format!(
            "a SHA-256 digest has 32 bytes, not {}",
            digest.len()
        )));
    }
    let time = signing_time(at)?;
    let sha256 = AlgorithmIdentifierOwned {
        oid: ID_SHA_256,
        parameters: None,
    };
    let mut infos = Vec::with_capacity(signers.len());
    let mut certs = Vec::with_capacity(signers.len());
    for signer in signers {
        let attrs = SetOfVec::try_from(vec![
            attribute(
                ID_CONTENT_TYPE,
                Any::encode_from(&ID_DATA).map_err(sign_err)?,
            )?,
            attribute(ID_SIGNING_TIME, Any::encode_from(&time).map_err(sign_err)?)?,
            attribute(
                ID_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest).map_err(sign_err)?).map_err(sign_err)?,
            )?,
        ])
        .map_err(sign_err)?;
        // The signature covers the DER of the attributes as a SET OF (tag 0x31).
        let signature = signer.sign(&to_der(&attrs)?)?;
        let tbs = &signer.cert.tbs_certificate;
        infos.push(SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer.clone(),
                serial_number: tbs.serial_number.clone(),
            }),
            digest_alg: sha256.clone(),
            signed_attrs: Some(attrs),
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA_256,
                parameters: None,
            },
            signature: OctetString::new(signature).map_err(sign_err)?,
            unsigned_attrs: None,
        });
        // The signer's certificate, then the CAs below the root that issued it.
        for cert in std::iter::once(&signer.cert).chain(signer.chain.iter()) {
            let choice = CertificateChoices::Certificate(cert.clone());
            if !certs.contains(&choice) {
                certs.push(choice);
            }
        }
    }
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256]).map_err(sign_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: match content {
                Some(c) => Some(
                    Any::encode_from(&OctetString::new(c).map_err(sign_err)?).map_err(sign_err)?,
                ),
                None => None,
            },
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs).map_err(sign_err)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(infos).map_err(sign_err)?),
    };
    let info = ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(sign_err)?,
    };
    to_der(&info)
}

/// One SignerInfo as checked.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub cert: Option<Certificate>,
    pub valid: bool,
    pub trusted: bool,
    pub signing_time: Option<String>,
    pub error: Option<String>,
}

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::Malformed(e.to_string())
}

/// The certificates a SignedData carries.
pub(crate) fn carried_certificates(signed: &SignedData) -> Vec<&Certificate> {
    signed
        .certificates
        .as_ref()
        .map(|set| {
            set.0
                .iter()
                .filter_map(|c| match c {
                    CertificateChoices::Certificate(c) => Some(c),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The length of the DER TLV at the start of `bytes` (to drop a PDF's zero padding).
pub(crate) fn der_len(bytes: &[u8]) -> Option<usize> {
    let first = *bytes.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*bytes.get(2 + i)?);
    }
    Some(2 + n + len)
}

/// Verifies a SHA-256 signature by the key of `cert`: ECDSA P-256 (the demo PKI) or RSA
/// PKCS#1 v1.5 (НУЦ РК's RSA keys). ГОСТ keys are not supported (see the README).
pub(crate) fn verify_by(
    cert: &Certificate,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid == const_oid::db::rfc5912::RSA_ENCRYPTION {
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            spki.subject_public_key.raw_bytes(),
        );
        return key
            .verify(message, signature)
            .map_err(|_| "signature does not verify".to_string());
    }
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(format!("unsupported key algorithm {}", spki.algorithm.oid));
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
    if curve != Some(SECP_256_R_1) {
        return Err("unsupported curve (P-256 only)".to_string());
    }
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        spki.subject_public_key.raw_bytes(),
    );
    key.verify(message, signature)
        .map_err(|_| "signature does not verify".to_string())
}

/// Does `ca` (the trust anchor) vouch for `cert`, directly or through CA certificates
/// among `pool` (the signature's own certificates: an intermediate such as the НУЦ's), each
/// signed by the next and valid at `at` (the signing time, or now without one)? The one
/// chain rule of [`crate::officer`].
fn chain_ok(
    cert: &Certificate,
    pool: &[&Certificate],
    roots: &[Certificate],
    at: jiff::Timestamp,
) -> Result<(), String> {
    crate::officer::chain(cert, pool, roots, at)
        .map(|_| ())
        .map_err(|e| match e {
            crate::officer::SignatureRefusal::NotValidAtSigningTime => {
                "certificate outside its validity period".to_string()
            }
            _ => "certificate not issued by the trusted CA".to_string(),
        })
}

/// Checks a CMS SignedData (DER, trailing bytes ignored) against the SHA-256 `digest` of
/// the detached content, and each signer's certificate against the trusted roots, through
/// the CA certificates the CMS carries and the installed intermediates (a CMS from NCALayer
/// carries only the signer's certificate; the НУЦ's intermediate is installed beside the
/// root).
pub(crate) fn check(
    cms_der: &[u8],
    digest: &[u8],
    trust: &crate::officer::Trust,
) -> Result<Vec<Checked>, Error> {
    let len = der_len(cms_der).ok_or_else(|| malformed("CMS length"))?;
    let der = cms_der
        .get(..len)
        .ok_or_else(|| malformed("CMS truncated"))?;
    let info = ContentInfo::from_der(der).map_err(malformed)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(malformed("not SignedData"));
    }
    let signed: SignedData = info.content.decode_as().map_err(malformed)?;
    let certs = carried_certificates(&signed);
    let pool: Vec<&Certificate> = certs
        .iter()
        .copied()
        .chain(trust.intermediates.iter())
        .collect();
    let mut out = Vec::new();
    for si in signed.signer_infos.0.iter() {
        let cert = match &si.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => certs.iter().find(|c| {
                c.tbs_certificate.issuer == ias.issuer
                    && c.tbs_certificate.serial_number == ias.serial_number
            }),
            SignerIdentifier::SubjectKeyIdentifier(_) => None,
        };
        let mut checked = Checked {
            cert: cert.map(|c| (*c).clone()),
            valid: false,
            trusted: false,
            signing_time: None,
            error: None,
        };
        let Some(cert) = cert else {
            checked.error = Some("signer certificate not in the signature".to_string());
            out.push(checked);
            continue;
        };
        let result = check_signer(si, cert, digest, &mut checked);
        match result {
            Ok(()) => checked.valid = true,
            Err(e) => checked.error = Some(e),
        }
        let at = checked
            .signing_time
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(jiff::Timestamp::now);
        match chain_ok(cert, &pool, &trust.roots, at) {
            Ok(()) => checked.trusted = true,
            Err(e) => {
                if checked.error.is_none() {
                    checked.error = Some(e);
                }
            }
        }
        out.push(checked);
    }
    Ok(out)
}

pub(crate) fn check_signer(
    si: &SignerInfo,
    cert: &Certificate,
    digest: &[u8],
    checked: &mut Checked,
) -> Result<(), String> {
    if si.digest_alg.oid != ID_SHA_256 {
        return Err(format!("unsupported digest {}", si.digest_alg.oid));
    }
    if ![
        ECDSA_WITH_SHA_256,
        ID_EC_PUBLIC_KEY,
        const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
        const_oid::db::rfc5912::RSA_ENCRYPTION,
    ]
    .contains(&si.signature_algorithm.oid)
    {
        return Err(format!(
            "unsupported signature algorithm {}",
            si.signature_algorithm.oid
        ));
    }
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| "no signed attributes".to_string())?;
    let mut md = None;
    let mut content_type_ok = false;
    for a in attrs.iter() {
        let Some(v) = a.values.iter().next() else {
            continue;
        };
        if a.oid == ID_MESSAGE_DIGEST {
            md = v.decode_as::<OctetString>().ok();
        } else if a.oid == ID_CONTENT_TYPE {
            content_type_ok = v.decode_as::<const_oid::ObjectIdentifier>().ok() == Some(ID_DATA);
        } else if a.oid == ID_SIGNING_TIME {
            if let Ok(t) = v.to_der().and_then(|d| Time::from_der(&d)) {
                let ts = t.to_unix_duration().as_secs();
                checked.signing_time = jiff::Timestamp::from_second(ts as i64)
                    .ok()
                    .map(|t| t.to_string());
            }
        }
    }
    if !content_type_ok {
        return Err("content type is not id-data".to_string());
    }
    let md = md.ok_or_else(|| "no message digest".to_string())?;
    if md.as_bytes() != digest {
        return Err("the document was changed after signing (digest mismatch)".to_string());
    }
    let message = attrs.to_der().map_err(|e| e.to_string())?;
    verify_by(cert, &message, si.signature.as_bytes())
}
