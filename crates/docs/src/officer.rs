//! An officer's own signature (ЭЦП), made by their signing application (NCALayer) and
//! checked by the server before the act it certifies is accepted: a CMS SignedData
//! (CAdES-BES) over the bytes the server asked them to sign.
//!
//! What is checked, in order: the CMS is readable and has one signer whose certificate it
//! carries; the signed attributes hold the digest of exactly the bytes asked for and a
//! signing time; the signature verifies with the certificate's key (ECDSA P-256 or RSA); the
//! signing time is near the server's clock; the certificate chains, through the CMS's own
//! certificates and the configured intermediates, to a configured root, each link valid at
//! the signing time; the certificate is for signing (key usage digitalSignature or
//! nonRepudiation, and, where it names extended usages, emailProtection as НУЦ РК's signing
//! certificates do; an authentication key is refused); it is not on its issuer's
//! certificate revocation list when one is given (and the policy may require one); and its
//! subject serialNumber is `IIN` and the signed-in officer's IIN.
//!
//! ГОСТ keys (НУЦ РК's GOST certificates) are not verified: see the README.

use crate::cms::{carried_certificates, check_signer, der_len, verify_by, Checked};
use crate::verify::{name_attr, name_text};
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::db::rfc5911::ID_SIGNED_DATA;
use der::{Decode, Encode};
use drn_core::{Iin, Text};
use jiff::{SignedDuration, Timestamp};
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::Certificate;

/// emailProtection: the extended key usage of НУЦ РК's signing (RSA/GOST "SIGN") keys.
const EKU_EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
/// The longest chain followed from the officer's certificate to a root.
const MAX_CHAIN: usize = 5;

/// Why an officer's signature is refused. Each has a text in kk, ru and en
/// ([`SignatureRefusal::text`]); nothing is written when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    #[error("the signature is not a readable CMS: {0}")]
    Malformed(String),
    #[error("the signature must have exactly one signer with its certificate")]
    NoSigner,
    #[error("the signature is over other bytes than the document")]
    OtherContent,
    #[error("the signature does not verify: {0}")]
    Invalid(String),
    #[error("the signature has no signing time")]
    NoSigningTime,
    #[error("the signing time {signed} is too far from the server's clock {now}")]
    SigningTimeSkew { signed: Timestamp, now: Timestamp },
    #[error("the certificate does not chain to a trusted root: {0}")]
    Untrusted(String),
    #[error("a certificate of the chain is outside its validity at the signing time")]
    NotValidAtSigningTime,
    #[error("the certificate is not a signing certificate")]
    NotForSigning,
    #[error("the certificate is revoked")]
    Revoked,
    #[error("the certificate's revocation could not be checked: {0}")]
    RevocationUnknown(String),
    #[error("the certificate belongs to another person ({found})")]
    AnotherPerson { found: String },
}

impl SignatureRefusal {
    /// What the officer reads, in their language.
    pub fn text(&self) -> Text {
        match self {
            SignatureRefusal::Malformed(_) => Text::new(
                "Қолтаңба оқылмады (CMS пішімі емес).",
                "Подпись не читается (это не подпись CMS).",
                "The signature cannot be read (not a CMS signature).",
            ),
            SignatureRefusal::NoSigner => Text::new(
                "Қолтаңбада бір қол қоюшы және оның тіркелгі куәлігі болуы керек.",
                "В подписи должен быть один подписант и его регистрационное свидетельство.",
                "The signature must have one signer and their certificate.",
            ),
            SignatureRefusal::OtherContent => Text::new(
                "Қолтаңба басқа деректерге қойылған: құжатқа қайта қол қойыңыз.",
                "Подпись поставлена под другими данными: подпишите документ заново.",
                "The signature is over other data: sign the document again.",
            ),
            SignatureRefusal::Invalid(_) => Text::new(
                "Қолтаңба тексерілмеді: ол бұзылған немесе басқа кілтпен қойылған.",
                "Подпись не прошла проверку: она повреждена или сделана другим ключом.",
                "The signature does not verify: it is damaged or made with another key.",
            ),
            SignatureRefusal::NoSigningTime => Text::new(
                "Қолтаңбада қол қою уақыты жоқ.",
                "В подписи нет времени подписания.",
                "The signature has no signing time.",
            ),
            SignatureRefusal::SigningTimeSkew { .. } => Text::new(
                "Қол қою уақыты жүйе уақытынан тым алыс: компьютердің сағатын тексеріп, қайта қол қойыңыз.",
                "Время подписания слишком далеко от времени системы: проверьте часы компьютера и подпишите заново.",
                "The signing time is too far from the system's clock: check the computer's clock and sign again.",
            ),
            SignatureRefusal::Untrusted(_) => Text::new(
                "Тіркелгі куәлігін сенімді куәландырушы орталық бермеген.",
                "Регистрационное свидетельство выдано не доверенным удостоверяющим центром.",
                "The certificate was not issued by a trusted certification authority.",
            ),
            SignatureRefusal::NotValidAtSigningTime => Text::new(
                "Қол қою сәтінде тіркелгі куәлігінің мерзімі өтіп кеткен немесе әлі басталмаған.",
                "На момент подписания срок действия регистрационного свидетельства истёк или не наступил.",
                "At the signing time the certificate had expired or was not yet valid.",
            ),
            SignatureRefusal::NotForSigning => Text::new(
                "Бұл кілт қол қоюға арналмаған (мысалы, аутентификация кілті): ҚОЛТАҢБА (SIGN) кілтін таңдаңыз.",
                "Этот ключ не предназначен для подписи (например, ключ аутентификации): выберите ключ для подписи (SIGN).",
                "This key is not for signing (an authentication key, say): choose the signing (SIGN) key.",
            ),
            SignatureRefusal::Revoked => Text::new(
                "Тіркелгі куәлігі кері қайтарылған.",
                "Регистрационное свидетельство отозвано.",
                "The certificate is revoked.",
            ),
            SignatureRefusal::RevocationUnknown(_) => Text::new(
                "Тіркелгі куәлігінің кері қайтарылмағанын қазір тексеру мүмкін емес: кейінірек қайталаңыз.",
                "Сейчас нельзя проверить, не отозвано ли регистрационное свидетельство: повторите позже.",
                "Whether the certificate is revoked cannot be checked now: try again later.",
            ),
            SignatureRefusal::AnotherPerson { .. } => Text::new(
                "Қолтаңба басқа адамның кілтімен қойылған: өз кілтіңізбен қол қойыңыз.",
                "Подпись сделана ключом другого лица: подпишите своим ключом.",
                "The signature was made with another person's key: sign with your own.",
            ),
        }
    }

    /// A stable code for the API's error body and the audit.
    pub fn code(&self) -> &'static str {
        match self {
            SignatureRefusal::Malformed(_) => "signature_malformed",
            SignatureRefusal::NoSigner => "signature_no_signer",
            SignatureRefusal::OtherContent => "signature_other_content",
            SignatureRefusal::Invalid(_) => "signature_invalid",
            SignatureRefusal::NoSigningTime => "signature_no_signing_time",
            SignatureRefusal::SigningTimeSkew { .. } => "signature_time_skew",
            SignatureRefusal::Untrusted(_) => "signature_untrusted",
            SignatureRefusal::NotValidAtSigningTime => "signature_certificate_expired",
            SignatureRefusal::NotForSigning => "signature_not_for_signing",
            SignatureRefusal::Revoked => "signature_revoked",
            SignatureRefusal::RevocationUnknown(_) => "signature_revocation_unknown",
            SignatureRefusal::AnotherPerson { .. } => "signature_another_person",
        }
    }
}

/// Whether a certificate's revocation must be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// Checked against the issuer's list when one is given; accepted without one.
    WhenAvailable,
    /// A current list of the issuer is required: without one the signature is refused.
    Required,
}

/// The trust anchors and lists an administrator installs: in production НУЦ РК's root and
/// intermediate certificates and, where configured, their revocation lists.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub roots: Vec<Certificate>,
    pub intermediates: Vec<Certificate>,
    /// Certificate revocation lists (CRL) of the issuers, as fetched.
    pub crls: Vec<CertificateList>,
}

impl Trust {
    /// Trust in the given roots (DER or PEM certificates).
    pub fn with_roots(roots: &[&[u8]]) -> Result<Trust, crate::Error> {
        let roots = roots
            .iter()
            .map(|r| crate::pki::parse_certificate(r))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Trust {
            roots,
            ..Trust::default()
        })
    }

    /// Every certificate in a PEM bundle (or one DER certificate) as roots (self-signed) or
    /// intermediates (the rest).
    pub fn add_bundle(&mut self, bytes: &[u8]) -> Result<(), crate::Error> {
        let certs = if bytes.starts_with(b"-----") {
            Certificate::load_pem_chain(bytes).map_err(|e| crate::Error::Pki(e.to_string()))?
        } else {
            vec![Certificate::from_der(bytes).map_err(|e| crate::Error::Pki(e.to_string()))?]
        };
        for c in certs {
            if c.tbs_certificate.issuer == c.tbs_certificate.subject {
                self.roots.push(c);
            } else {
                self.intermediates.push(c);
            }
        }
        Ok(())
    }

    /// Adds a revocation list (DER or PEM `X509 CRL`).
    pub fn add_crl(&mut self, bytes: &[u8]) -> Result<(), crate::Error> {
        self.crls.push(parse_crl(bytes)?);
        Ok(())
    }
}

fn parse_crl(bytes: &[u8]) -> Result<CertificateList, crate::Error> {
    let der = if bytes.starts_with(b"-----") {
        der::pem::decode_vec(bytes)
            .map_err(|e| crate::Error::Pki(format!("CRL PEM: {e}")))?
            .1
    } else {
        bytes.to_vec()
    };
    CertificateList::from_der(&der).map_err(|e| crate::Error::Pki(format!("CRL: {e}")))
}

/// When a revocation list (DER or PEM) says the next one is due (`nextUpdate`), if it says;
/// an error when the bytes are not a CRL (a distribution point answering with a page).
pub fn crl_next_update(bytes: &[u8]) -> Result<Option<Timestamp>, crate::Error> {
    let crl = parse_crl(bytes)?;
    Ok(crl
        .tbs_cert_list
        .next_update
        .and_then(|t| Timestamp::from_second(t.to_unix_duration().as_secs() as i64).ok()))
}

/// What the server checks a signature against.
#[derive(Debug, Clone)]
pub struct Expectation<'a> {
    /// SHA-256 of the bytes the officer was asked to sign.
    pub digest: &'a [u8; 32],
    /// Whose certificate it must be: the signed-in officer's, or the API client's system.
    pub holder: Holder<'a>,
    /// The server's clock.
    pub now: Timestamp,
    /// How far the signing time may be from `now`.
    pub skew: SignedDuration,
    pub revocation: Revocation,
}

/// Whose certificate must sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder<'a> {
    /// An officer: the certificate's `SERIALNUMBER=IIN…` is theirs.
    Person(&'a Iin),
    /// Another state system's information system acting through the API under its
    /// organisation's certificate: `OU=BIN…` (the НУЦ РК's certificates of legal entities
    /// carry the BIN there).
    Organisation(&'a drn_core::Bin),
}

/// A signature that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerSignature {
    /// The CMS as given (DER).
    pub cms: Vec<u8>,
    /// The certificate's subject, `CN=…, SERIALNUMBER=…`.
    pub subject: String,
    pub common_name: Option<String>,
    /// The certificate's serial number, hex.
    pub certificate_serial: String,
    pub signing_time: Timestamp,
}

fn validity_covers(cert: &Certificate, at: Timestamp) -> bool {
    let v = &cert.tbs_certificate.validity;
    let secs = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
    let t = at.as_second();
    secs(&v.not_before) <= t && t <= secs(&v.not_after)
}

fn extension<T: for<'a> Decode<'a> + const_oid::AssociatedOid>(
    cert: &Certificate,
) -> Option<Result<T, der::Error>> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == T::OID)
        .map(|e| T::from_der(e.extn_value.as_bytes()))
}

fn is_ca(cert: &Certificate) -> bool {
    matches!(extension::<BasicConstraints>(cert), Some(Ok(b)) if b.ca)
}

/// Does `issuer`'s key sign `cert`?
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let sig = cert
        .signature
        .as_bytes()
        .ok_or_else(|| "certificate signature bits".to_string())?;
    verify_by(issuer, &tbs, sig)
}

/// The chain from `leaf` up to a root of `roots`, through `pool` (intermediates), each link
/// signed by the next, each valid at `at`, each issuer a CA. Leaf first, root last.
pub(crate) fn chain(
    leaf: &Certificate,
    pool: &[&Certificate],
    roots: &[Certificate],
    at: Timestamp,
) -> Result<Vec<Certificate>, SignatureRefusal> {
    let mut out = vec![leaf.clone()];
    let mut current = leaf.clone();
    for _ in 0..MAX_CHAIN {
        if !validity_covers(&current, at) {
            return Err(SignatureRefusal::NotValidAtSigningTime);
        }
        let issuer_name = &current.tbs_certificate.issuer;
        if let Some(root) = roots
            .iter()
            .find(|r| &r.tbs_certificate.subject == issuer_name && signed_by(&current, r).is_ok())
        {
            if !validity_covers(root, at) {
                return Err(SignatureRefusal::NotValidAtSigningTime);
            }
            out.push(root.clone());
            return Ok(out);
        }
        let Some(next) = pool.iter().find(|c| {
            &c.tbs_certificate.subject == issuer_name
                && is_ca(c)
                && c.tbs_certificate.subject != c.tbs_certificate.issuer
                && signed_by(&current, c).is_ok()
        }) else {
            return Err(SignatureRefusal::Untrusted(format!(
                "no trusted issuer for {}",
                name_text(issuer_name)
            )));
        };
        current = (*next).clone();
        out.push(current.clone());
    }
    Err(SignatureRefusal::Untrusted("chain too long".to_string()))
}

fn for_signing(cert: &Certificate) -> Result<(), SignatureRefusal> {
    match extension::<KeyUsage>(cert) {
        Some(Ok(ku)) if ku.digital_signature() || ku.non_repudiation() => {}
        Some(Ok(_)) | Some(Err(_)) => return Err(SignatureRefusal::NotForSigning),
        None => {}
    }
    match extension::<ExtendedKeyUsage>(cert) {
        Some(Ok(eku)) if eku.0.iter().any(|o| o.to_string() == EKU_EMAIL_PROTECTION) => Ok(()),
        Some(_) => Err(SignatureRefusal::NotForSigning),
        None => Ok(()),
    }
}

/// Checks `cert` against its issuer's revocation list in `trust`.
fn not_revoked(
    cert: &Certificate,
    issuer: &Certificate,
    trust: &Trust,
    now: Timestamp,
    policy: Revocation,
) -> Result<(), SignatureRefusal> {
    let list = trust
        .crls
        .iter()
        .find(|l| l.tbs_cert_list.issuer == cert.tbs_certificate.issuer);
    let Some(list) = list else {
        return match policy {
            Revocation::WhenAvailable => Ok(()),
            Revocation::Required => Err(SignatureRefusal::RevocationUnknown(
                "no revocation list of the issuer".to_string(),
            )),
        };
    };
    let tbs = list.tbs_cert_list.to_der().map_err(|e| {
        SignatureRefusal::RevocationUnknown(format!("revocation list unreadable: {e}"))
    })?;
    let sig = list.signature.as_bytes().ok_or_else(|| {
        SignatureRefusal::RevocationUnknown("revocation list signature".to_string())
    })?;
    verify_by(issuer, &tbs, sig).map_err(|_| {
        SignatureRefusal::RevocationUnknown(
            "the revocation list is not signed by the issuer".to_string(),
        )
    })?;
    let stale = list
        .tbs_cert_list
        .next_update
        .is_some_and(|n| (n.to_unix_duration().as_secs() as i64) < now.as_second());
    if stale && policy == Revocation::Required {
        return Err(SignatureRefusal::RevocationUnknown(
            "the revocation list is out of date".to_string(),
        ));
    }
    let revoked = list
        .tbs_cert_list
        .revoked_certificates
        .as_ref()
        .is_some_and(|r| {
            r.iter()
                .any(|e| e.serial_number == cert.tbs_certificate.serial_number)
        });
    if revoked {
        return Err(SignatureRefusal::Revoked);
    }
    Ok(())
}

/// Checks an officer's CMS signature (DER) against what the server expects (see the module
/// docs); the signature, its signer and signing time when every check passes.
pub fn verify_officer(
    cms_der: &[u8],
    expect: &Expectation<'_>,
    trust: &Trust,
) -> Result<OfficerSignature, SignatureRefusal> {
    let malformed = |e: &dyn std::fmt::Display| SignatureRefusal::Malformed(e.to_string());
    let len = der_len(cms_der).ok_or_else(|| malformed(&"length"))?;
    let der = cms_der.get(..len).ok_or_else(|| malformed(&"truncated"))?;
    let info = ContentInfo::from_der(der).map_err(|e| malformed(&e))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(malformed(&"not SignedData"));
    }
    let signed: SignedData = info.content.decode_as().map_err(|e| malformed(&e))?;
    let certs = carried_certificates(&signed);
    let infos: Vec<_> = signed.signer_infos.0.iter().collect();
    let [si] = infos.as_slice() else {
        return Err(SignatureRefusal::NoSigner);
    };
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid else {
        return Err(SignatureRefusal::NoSigner);
    };
    let cert = certs
        .iter()
        .find(|c| {
            c.tbs_certificate.issuer == ias.issuer
                && c.tbs_certificate.serial_number == ias.serial_number
        })
        .copied()
        .ok_or(SignatureRefusal::NoSigner)?;
    // Digest and signature: the bytes asked for, by this key.
    let mut checked = Checked {
        cert: None,
        valid: false,
        trusted: false,
        signing_time: None,
        error: None,
    };
    check_signer(si, cert, expect.digest, &mut checked).map_err(|e| {
        if e.contains("digest mismatch") {
            SignatureRefusal::OtherContent
        } else {
            SignatureRefusal::Invalid(e)
        }
    })?;
    let signing_time: Timestamp = checked
        .signing_time
        .as_deref()
        .and_then(|t| t.parse().ok())
        .ok_or(SignatureRefusal::NoSigningTime)?;
    let skew = expect.now.duration_since(signing_time).abs();
    if skew > expect.skew {
        return Err(SignatureRefusal::SigningTimeSkew {
            signed: signing_time,
            now: expect.now,
        });
    }
    let pool: Vec<&Certificate> = certs
        .iter()
        .copied()
        .chain(trust.intermediates.iter())
        .collect();
    let path = chain(cert, &pool, &trust.roots, signing_time)?;
    for_signing(cert)?;
    // Every link but the root against its issuer's list: the officer's certificate as the
    // policy says; an intermediate CA's where its issuer's list is installed.
    for (i, pair) in path.windows(2).enumerate() {
        let policy = if i == 0 {
            expect.revocation
        } else {
            Revocation::WhenAvailable
        };
        not_revoked(&pair[0], &pair[1], trust, expect.now, policy)?;
    }
    let (attr, want) = match expect.holder {
        Holder::Person(iin) => ("2.5.4.5", format!("IIN{iin}")),
        Holder::Organisation(bin) => ("2.5.4.11", format!("BIN{bin}")),
    };
    let found = name_attr(&cert.tbs_certificate.subject, attr);
    if found.as_deref() != Some(want.as_str()) {
        return Err(SignatureRefusal::AnotherPerson {
            found: found.unwrap_or_else(|| "—".to_string()),
        });
    }
    Ok(OfficerSignature {
        cms: der.to_vec(),
        subject: name_text(&cert.tbs_certificate.subject),
        common_name: name_attr(&cert.tbs_certificate.subject, "2.5.4.3"),
        certificate_serial: cert
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        signing_time,
    })
}
