//! The demo PKI, made at first start in a directory, shaped like Kazakhstan's (НУЦ РК): a
//! root CA (`ca.pem`); a demo intermediate CA (`nca.pem`, "DRN demo НУЦ", clearly not the
//! real НУЦ РК) that issues the signing certificates of the MVD, the Ministry of Justice and
//! the production centre, and the officers' certificates, whose subject serialNumber is
//! "IIN" and the 12 digits (as the НУЦ РК issues them). `chain.pem` holds the intermediate
//! and the root, for `openssl cms -verify -CAfile`.
//!
//! The certificates are valid over the demo's dates (the demo runs "as of" 2014, 2019 or
//! 2025 on its own clock): root 2014-01-01..2040-01-01, intermediate ..2038, organisations
//! ..2036, officers ..2030. A directory made by an earlier DRN, whose root is valid only
//! from the day it was made, is refused with a message saying what to do (see
//! [`Pki::open_or_create`]).
//!
//! Keys are ECDSA P-256 (PKCS#8 PEM), which `openssl cms` and poppler's `pdfsig` (NSS)
//! both verify; certificates are PEM. Key files are created with mode 0600 and
//! [`check_key_permissions`] refuses a directory where any is readable by group or others.
//! An officer's key is also written as a password-protected PKCS#12 file
//! (`officers/IIN….p12`), the form a real НУЦ РК key store has.

use crate::model::Authority;
use crate::Error;
use drn_core::Iin;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use x509_cert::der::{Decode, Encode};

/// A private key with its certificate: what signs a document.
pub struct Signer {
    pub(crate) key: EcdsaKeyPair,
    /// The key as PKCS#8 DER (for the PKCS#12 file).
    key_der: Vec<u8>,
    pub(crate) cert: x509_cert::Certificate,
    cert_der: Vec<u8>,
    /// The issuing CAs below the root (the intermediate), put into every CMS signature so
    /// that a verifier holding only the root builds the chain.
    pub(crate) chain: Vec<x509_cert::Certificate>,
    pub(crate) rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("subject", &self.subject())
            .finish_non_exhaustive()
    }
}

impl Signer {
    fn load(key_path: &Path, cert_path: &Path) -> Result<Signer, Error> {
        let key_pem = fs::read_to_string(key_path).map_err(|e| Error::io(key_path, e))?;
        let cert_pem = fs::read_to_string(cert_path).map_err(|e| Error::io(cert_path, e))?;
        Signer::from_pem(&key_pem, &cert_pem)
    }

    /// A signer from a PKCS#8 PEM P-256 key and a PEM certificate.
    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<Signer, Error> {
        let (_, key_der) = der::pem::decode_vec(key_pem.as_bytes())
            .map_err(|e| Error::Pki(format!("key PEM: {e}")))?;
        let (_, cert_der) = der::pem::decode_vec(cert_pem.as_bytes())
            .map_err(|e| Error::Pki(format!("certificate PEM: {e}")))?;
        Signer::from_der(key_der, cert_der)
    }

    /// A signer from a PKCS#8 DER P-256 key and a DER certificate.
    pub fn from_der(key_der: Vec<u8>, cert_der: Vec<u8>) -> Result<Signer, Error> {
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key_der, &rng)
            .map_err(|e| Error::Pki(format!("key: {e}")))?;
        let cert = x509_cert::Certificate::from_der(&cert_der)
            .map_err(|e| Error::Pki(format!("certificate: {e}")))?;
        Ok(Signer {
            key,
            key_der,
            cert,
            cert_der,
            chain: Vec::new(),
            rng,
        })
    }

    /// The same signer with `chain` (issuing CAs, nearest first, root excluded) to put into
    /// its CMS signatures.
    pub fn with_chain(mut self, chain: Vec<x509_cert::Certificate>) -> Signer {
        self.chain = chain;
        self
    }

    /// The issuing CAs put into its signatures (nearest first).
    pub fn chain(&self) -> &[x509_cert::Certificate] {
        &self.chain
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The certificate itself.
    pub fn certificate(&self) -> &x509_cert::Certificate {
        &self.cert
    }

    /// The certificate's subject, as `CN=…, O=…, SERIALNUMBER=…`.
    pub fn subject(&self) -> String {
        crate::verify::name_text(&self.cert.tbs_certificate.subject)
    }

    /// The subject's common name.
    pub fn common_name(&self) -> String {
        crate::verify::name_attr(&self.cert.tbs_certificate.subject, NAME_CN).unwrap_or_default()
    }

    /// The certificate's issuer, as `CN=…, O=…`.
    pub fn issuer(&self) -> String {
        crate::verify::name_text(&self.cert.tbs_certificate.issuer)
    }

    /// The certificate's serial number, in hex.
    pub fn certificate_serial(&self) -> String {
        self.cert
            .tbs_certificate
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The certificate's validity period (notBefore, notAfter).
    pub fn validity(&self) -> (jiff::Timestamp, jiff::Timestamp) {
        let v = &self.cert.tbs_certificate.validity;
        let ts = |t: &x509_cert::time::Time| {
            jiff::Timestamp::from_second(t.to_unix_duration().as_secs() as i64)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        };
        (ts(&v.not_before), ts(&v.not_after))
    }

    /// The subject's serialNumber attribute (an officer's: `IIN` and the 12 digits).
    pub fn subject_serial_number(&self) -> Option<String> {
        crate::verify::name_attr(&self.cert.tbs_certificate.subject, NAME_SERIAL)
    }

    /// The IIN of the subject's serialNumber (`IIN…`), if it holds a valid one.
    pub fn iin(&self) -> Option<Iin> {
        let s = self.subject_serial_number()?;
        Iin::parse(s.strip_prefix("IIN")?).ok()
    }

    /// The certificate's extended key usages, dotted.
    pub fn extended_key_usages(&self) -> Vec<String> {
        use x509_cert::ext::pkix::ExtendedKeyUsage;
        match self.cert.tbs_certificate.get::<ExtendedKeyUsage>() {
            Ok(Some((_, eku))) => eku.0.iter().map(|o| o.to_string()).collect(),
            _ => Vec::new(),
        }
    }

    /// Signs `message` with ECDSA P-256 / SHA-256, DER-encoded signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.key
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| Error::Sign(e.to_string()))
    }

    /// The key, its certificate and its chain as a PKCS#12 file encrypted with `password`
    /// (PBES2: PBKDF2-HMAC-SHA-256 and AES-256-CBC; HMAC-SHA-256 MAC), which `openssl
    /// pkcs12` and NCALayer open.
    pub fn to_pkcs12(&self, password: &str) -> Result<Vec<u8>, Error> {
        let p12 = |e: p12_keystore::error::Error| Error::Pki(format!("PKCS#12: {e}"));
        let mut certs = vec![p12_keystore::Certificate::from_der(&self.cert_der).map_err(p12)?];
        for c in &self.chain {
            certs.push(p12_keystore::Certificate::from_der(&to_pki_der(c)?).map_err(p12)?);
        }
        let local_id: [u8; 32] = sha2::Sha256::digest(&self.cert_der).into();
        let chain = p12_keystore::PrivateKeyChain::new(&self.key_der, local_id, certs);
        let mut store = p12_keystore::KeyStore::new();
        let alias = self
            .iin()
            .map(|i| format!("IIN{i}"))
            .unwrap_or_else(|| self.common_name());
        store.add_entry(&alias, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(password).write().map_err(p12)
    }

    /// A signer from a PKCS#12 file (its first key, with the certificates after the first
    /// as its chain).
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Signer, Error> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password)
            .map_err(|e| Error::Pki(format!("PKCS#12: {e}")))?;
        let (_, chain) = store
            .private_key_chain()
            .ok_or_else(|| Error::Pki("PKCS#12: no private key".to_string()))?;
        let mut certs = chain.chain().iter();
        let leaf = certs
            .next()
            .ok_or_else(|| Error::Pki("PKCS#12: no certificate".to_string()))?;
        let mut rest = Vec::new();
        for c in certs {
            let cert = x509_cert::Certificate::from_der(c.as_der())
                .map_err(|e| Error::Pki(format!("PKCS#12 certificate: {e}")))?;
            // The root is the verifier's trust anchor, not part of what is sent.
            if cert.tbs_certificate.issuer != cert.tbs_certificate.subject {
                rest.push(cert);
            }
        }
        Ok(Signer::from_der(chain.key().to_vec(), leaf.as_der().to_vec())?.with_chain(rest))
    }
}

use sha2::Digest as _;

fn to_pki_der(c: &x509_cert::Certificate) -> Result<Vec<u8>, Error> {
    c.to_der().map_err(|e| Error::Pki(e.to_string()))
}

const NAME_CN: &str = "2.5.4.3";
const NAME_SERIAL: &str = "2.5.4.5";

/// Extended key usage of a НУЦ РК signing certificate: e-mail protection (its signing
/// certificates carry it) ...
const EKU_EMAIL_PROTECTION: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 4];
/// ... and the НУЦ РК's "employee of a legal entity" (1.2.398.3.3.4.1.2.5).
pub const EKU_EMPLOYEE: &str = "1.2.398.3.3.4.1.2.5";
const EKU_EMPLOYEE_ARCS: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2, 5];
/// The НУЦ РК's "individual" (1.2.398.3.3.4.1.1), on a citizen's certificate.
const EKU_INDIVIDUAL_ARCS: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 1];
/// The НУЦ РК's "legal entity" (1.2.398.3.3.4.1.2), on the organisations' certificates.
const EKU_LEGAL_ENTITY_ARCS: &[u64] = &[1, 2, 398, 3, 3, 4, 1, 2];

/// The first day of the demo PKI's certificates: before the earliest demo date (2014).
const VALID_FROM: (i32, u8, u8) = (2014, 1, 1);

fn pem_encode(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// A CA: its key, the parameters that name it (rcgen takes an issuer's name and key from
/// a certificate made from them) and its certificate.
struct Ca {
    key: KeyPair,
    params: fn() -> Result<CertificateParams, Error>,
    signer: Signer,
}

impl Ca {
    /// Issues a certificate for `key` with `params`, from `not_before` to `not_after`.
    fn issue(&self, key: &KeyPair, mut p: CertificateParams) -> Result<rcgen::Certificate, Error> {
        p.serial_number = Some(random_serial()?);
        let issuer = (self.params)()?.self_signed(&self.key).map_err(pki_err)?;
        p.signed_by(key, &issuer, &self.key).map_err(pki_err)
    }
}

/// The demo PKI in its directory.
pub struct Pki {
    dir: PathBuf,
    root: Ca,
    nca: Ca,
    authorities: Vec<(Authority, Signer)>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn ymd(d: (i32, u8, u8)) -> time::OffsetDateTime {
    rcgen::date_time_ymd(d.0, d.1, d.2)
}

fn demo_org(dn: &mut rcgen::DistinguishedName) -> Result<(), Error> {
    dn.push(DnType::CountryName, printable("KZ")?);
    dn.push(
        DnType::OrganizationName,
        "DRN демо / DRN demo (not a real НУЦ РК)",
    );
    Ok(())
}

fn ca_params() -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    demo_org(&mut p.distinguished_name)?;
    p.distinguished_name
        .push(DnType::CommonName, "DRN демо түбір КО / DRN Demo Root CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = ymd(VALID_FROM);
    p.not_after = ymd((2040, 1, 1));
    Ok(p)
}

/// The demo intermediate CA, standing where the НУЦ РК's issuing CA stands.
fn nca_params() -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    demo_org(&mut p.distinguished_name)?;
    p.distinguished_name.push(
        DnType::CommonName,
        "DRN демо ҰКО / DRN demo НУЦ / NCA (not the real НУЦ РК)",
    );
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.use_authority_key_identifier_extension = true;
    p.not_before = ymd(VALID_FROM);
    p.not_after = ymd((2038, 1, 1));
    Ok(p)
}

fn pki_err(e: rcgen::Error) -> Error {
    Error::Pki(e.to_string())
}

fn printable(s: &str) -> Result<DnValue, Error> {
    Ok(DnValue::PrintableString(
        s.try_into()
            .map_err(|e: rcgen::Error| Error::Pki(e.to_string()))?,
    ))
}

fn date_time(d: jiff::civil::Date) -> time::OffsetDateTime {
    rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
}

fn leaf_params(
    dn: rcgen::DistinguishedName,
    from: time::OffsetDateTime,
    to: time::OffsetDateTime,
    eku: &[&[u64]],
) -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p.extended_key_usages = eku
        .iter()
        .map(|arcs| {
            if *arcs == EKU_EMAIL_PROTECTION {
                ExtendedKeyUsagePurpose::EmailProtection
            } else {
                ExtendedKeyUsagePurpose::Other(arcs.to_vec())
            }
        })
        .collect();
    p.use_authority_key_identifier_extension = true;
    p.not_before = from;
    p.not_after = to;
    Ok(p)
}

fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|e| Error::Pki(e.to_string()))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x10;
    Ok(SerialNumber::from_slice(&bytes))
}

/// A random password of 16 letters and digits (for an officer's PKCS#12 file).
pub fn random_password() -> Result<String, Error> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|e| Error::Pki(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Writes `data` to a new file with mode 0600 (0644 for certificates).
fn write_new(path: &Path, data: &[u8], private: bool) -> Result<(), Error> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(data).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Replaces `path` with `data` (mode 0600), through a temporary file and a rename.
fn replace_private(path: &Path, data: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    write_new(&tmp, data, true)?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn make_dir(dir: &Path) -> Result<(), Error> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

fn authority_dn(a: Authority) -> Result<rcgen::DistinguishedName, Error> {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, printable("KZ")?);
    let name = a.name();
    dn.push(DnType::OrganizationName, name.ru.clone());
    dn.push(DnType::CommonName, name.ru);
    Ok(dn)
}

/// Who an officer's certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Officer {
    pub iin: Iin,
    /// The full name, "Surname Name Patronymic": the certificate's CN; its first word is
    /// the SURNAME, the rest the GIVENNAME (as the НУЦ РК splits them).
    pub full_name: String,
    /// The organisation (O): the MVD for the migration service's officers.
    pub organisation: String,
}

impl Officer {
    /// An officer of the MVD.
    pub fn mvd(iin: Iin, full_name: &str) -> Officer {
        Officer {
            iin,
            full_name: full_name.to_string(),
            organisation: Authority::Mvd.name().ru,
        }
    }

    fn dn(&self) -> Result<rcgen::DistinguishedName, Error> {
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(DnType::CountryName, printable("KZ")?);
        if !self.organisation.is_empty() {
            dn.push(DnType::OrganizationName, self.organisation.clone());
        }
        dn.push(DnType::CommonName, self.full_name.clone());
        let mut words = self.full_name.split_whitespace();
        if let Some(surname) = words.next() {
            dn.push(DnType::CustomDnType(vec![2, 5, 4, 4]), surname.to_string());
            let given: Vec<&str> = words.collect();
            if !given.is_empty() {
                dn.push(DnType::CustomDnType(vec![2, 5, 4, 42]), given.join(" "));
            }
        }
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            printable(&format!("IIN{}", self.iin))?,
        );
        Ok(dn)
    }

    fn params(
        &self,
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<CertificateParams, Error> {
        leaf_params(
            self.dn()?,
            from,
            to,
            &[EKU_EMAIL_PROTECTION, EKU_EMPLOYEE_ARCS],
        )
    }
}

/// Loads a CA's key and certificate from `stem`.key/.pem in `dir`, making them with
/// `make` when missing.
fn load_or_make_ca(
    dir: &Path,
    stem: &str,
    params: fn() -> Result<CertificateParams, Error>,
    make: impl FnOnce(&KeyPair, CertificateParams) -> Result<rcgen::Certificate, Error>,
) -> Result<Ca, Error> {
    let key_path = dir.join(format!("{stem}.key"));
    let cert_path = dir.join(format!("{stem}.pem"));
    if !key_path.exists() {
        let key = KeyPair::generate().map_err(pki_err)?;
        let mut p = params()?;
        p.serial_number = Some(random_serial()?);
        let cert = make(&key, p)?;
        write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
        write_new(&cert_path, cert.pem().as_bytes(), false)?;
    }
    let key_pem = fs::read_to_string(&key_path).map_err(|e| Error::io(&key_path, e))?;
    let key = KeyPair::from_pem(&key_pem).map_err(pki_err)?;
    let signer = Signer::load(&key_path, &cert_path)?;
    Ok(Ca {
        key,
        params,
        signer,
    })
}

impl Pki {
    /// Opens the PKI in `dir`, creating the root, the intermediate and the authorities' keys
    /// and certificates that are missing. Refuses when a private key there is readable by
    /// group or others, and when the root was made by an earlier DRN whose root is valid
    /// only from the day it was made (after 2014-01-01): documents of a demo running as of
    /// an earlier date would not verify. Such a directory is not changed (documents already
    /// issued stay verifiable with its `ca.pem`): move it aside and start again.
    pub fn open_or_create(dir: &Path) -> Result<Pki, Error> {
        make_dir(dir)?;
        check_key_permissions(dir)?;
        let ca_cert_path = dir.join("ca.pem");
        if ca_cert_path.exists() {
            let pem = fs::read(&ca_cert_path).map_err(|e| Error::io(&ca_cert_path, e))?;
            let cert = parse_certificate(&pem)?;
            let from = cert.tbs_certificate.validity.not_before.to_unix_duration();
            let earliest = ymd(VALID_FROM).unix_timestamp().unsigned_abs();
            if from.as_secs() > earliest {
                let day = jiff::Timestamp::from_second(from.as_secs() as i64)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
                    .unwrap_or_default();
                return Err(Error::Pki(format!(
                    "the PKI in {} was made by an earlier DRN: its root CA is valid only from \
                     {day}, so documents of a demo running as of an earlier date (2014, 2019) \
                     would not verify. Move the directory aside (documents issued with it stay \
                     verifiable with its ca.pem) and start again: a new demo PKI, valid from \
                     2014-01-01 with an intermediate CA, is made",
                    dir.display()
                )));
            }
        }
        let root = load_or_make_ca(dir, "ca", ca_params, |key, p| {
            p.self_signed(key).map_err(pki_err)
        })?;
        let nca = load_or_make_ca(dir, "nca", nca_params, |key, p| root.issue(key, p))?;
        let chain_path = dir.join("chain.pem");
        if !chain_path.exists() {
            let chain = format!(
                "{}{}",
                nca.signer.certificate_pem(),
                root.signer.certificate_pem()
            );
            write_new(&chain_path, chain.as_bytes(), false)?;
        }
        let mut pki = Pki {
            dir: dir.to_path_buf(),
            root,
            nca,
            authorities: Vec::new(),
        };
        for a in Authority::ALL {
            let signer = pki.load_or_issue(a.code(), || {
                leaf_params(
                    authority_dn(a)?,
                    ymd(VALID_FROM),
                    ymd((2036, 1, 1)),
                    &[EKU_EMAIL_PROTECTION, EKU_LEGAL_ENTITY_ARCS],
                )
            })?;
            pki.authorities.push((a, signer));
        }
        Ok(pki)
    }

    /// The chain a certificate issued by the intermediate is sent with.
    fn issued_chain(&self) -> Vec<x509_cert::Certificate> {
        vec![self.nca.signer.cert.clone()]
    }

    fn load_or_issue(
        &self,
        stem: &str,
        params: impl FnOnce() -> Result<CertificateParams, Error>,
    ) -> Result<Signer, Error> {
        let key_path = self.dir.join(format!("{stem}.key"));
        let cert_path = self.dir.join(format!("{stem}.pem"));
        if !key_path.exists() {
            if let Some(parent) = key_path.parent() {
                make_dir(parent)?;
            }
            let key = KeyPair::generate().map_err(pki_err)?;
            let cert = self.nca.issue(&key, params()?)?;
            write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
            write_new(&cert_path, cert.pem().as_bytes(), false)?;
        } else {
            check_one(&key_path)?;
        }
        Ok(Signer::load(&key_path, &cert_path)?.with_chain(self.issued_chain()))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root CA's certificate (DER), the trust anchor of [`crate::verify`].
    pub fn ca_der(&self) -> &[u8] {
        self.root.signer.certificate_der()
    }

    pub fn ca_pem(&self) -> String {
        self.root.signer.certificate_pem()
    }

    /// The path of the root CA certificate (PEM), for `openssl -CAfile` and `drn verify`.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The intermediate CA's certificate (DER): the issuer of the organisations' and the
    /// officers' certificates.
    pub fn intermediate_der(&self) -> &[u8] {
        self.nca.signer.certificate_der()
    }

    pub fn intermediate_pem(&self) -> String {
        self.nca.signer.certificate_pem()
    }

    /// The path of the intermediate CA certificate (PEM).
    pub fn intermediate_path(&self) -> PathBuf {
        self.dir.join("nca.pem")
    }

    /// The intermediate then the root, PEM (the contents of `chain.pem`).
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.intermediate_pem(), self.ca_pem())
    }

    /// The path of `chain.pem` (intermediate + root), for `openssl cms -verify -CAfile`.
    pub fn chain_path(&self) -> PathBuf {
        self.dir.join("chain.pem")
    }

    /// An organisation's signing key.
    pub fn authority(&self, a: Authority) -> &Signer {
        // Every authority is loaded in open_or_create, in Authority::ALL order.
        let i = Authority::ALL.iter().position(|x| *x == a).unwrap_or(0);
        &self.authorities[i].1
    }

    /// An MVD officer's signing key, issued on first use: see [`Pki::officer_key`].
    pub fn officer(&self, iin: &Iin, name: &str) -> Result<Signer, Error> {
        self.officer_key(&Officer::mvd(*iin, name))
    }

    /// An officer's signing key, issued by the intermediate on first use and kept in
    /// `officers/IIN….key/.pem`: subject CN the full name, SURNAME and GIVENNAME,
    /// serialNumber `IIN` + the IIN, O the organisation; key usage digitalSignature and
    /// nonRepudiation, extended key usage e-mail protection and the НУЦ РК's "employee of
    /// a legal entity"; valid 2014-01-01..2030-01-01.
    pub fn officer_key(&self, o: &Officer) -> Result<Signer, Error> {
        let stem = format!("officers/IIN{}", o.iin);
        self.load_or_issue(&stem, || o.params(ymd(VALID_FROM), ymd((2030, 1, 1))))
    }

    /// A citizen's signing key (the demo's stand-in for the person's own EDS key, as the
    /// online renewal's demo signs with it), issued on first use and kept in
    /// `citizens/IIN….key/.pem`: no organisation, extended key usage e-mail protection and
    /// the НУЦ РК's "individual"; valid 2014-01-01..2030-01-01.
    pub fn citizen(&self, iin: &Iin, name: &str) -> Result<Signer, Error> {
        let person = Officer {
            iin: *iin,
            full_name: name.to_string(),
            organisation: String::new(),
        };
        self.load_or_issue(&format!("citizens/IIN{iin}"), || {
            leaf_params(
                person.dn()?,
                ymd(VALID_FROM),
                ymd((2030, 1, 1)),
                &[EKU_EMAIL_PROTECTION, EKU_INDIVIDUAL_ARCS],
            )
        })
    }

    /// The signing key of another state system's information system (an API client acting
    /// under its own certificate, issue 33), issued on first use and kept in
    /// `systems/BIN….key/.pem`: subject CN and O the system's name, OU `BIN` + its
    /// organisation's BIN (as the НУЦ РК's certificates of legal entities name it); key
    /// usage for signing, extended key usage e-mail protection and the НУЦ's "legal
    /// entity"; valid 2014-01-01..2030-01-01.
    pub fn information_system(&self, bin: &drn_core::Bin, name: &str) -> Result<Signer, Error> {
        self.load_or_issue(&format!("systems/BIN{bin}"), || {
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(DnType::CountryName, printable("KZ")?);
            dn.push(DnType::OrganizationName, name.to_string());
            dn.push(
                DnType::OrganizationalUnitName,
                printable(&format!("BIN{bin}"))?,
            );
            dn.push(DnType::CommonName, name.to_string());
            leaf_params(
                dn,
                ymd(VALID_FROM),
                ymd((2030, 1, 1)),
                &[EKU_EMAIL_PROTECTION, EKU_LEGAL_ENTITY_ARCS],
            )
        })
    }

    /// An officer's certificate and key valid from `from` to `to` (00:00 UTC), issued by
    /// the intermediate and kept nowhere: for tests (an expired certificate, say).
    pub fn issue_officer_with_validity(
        &self,
        o: &Officer,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Signer, Error> {
        let key = KeyPair::generate().map_err(pki_err)?;
        let cert = self
            .nca
            .issue(&key, o.params(date_time(from), date_time(to))?)?;
        Ok(Signer::from_der(key.serialize_der(), cert.der().to_vec())?
            .with_chain(self.issued_chain()))
    }

    /// The directory of the officers' keys.
    pub fn officers_dir(&self) -> PathBuf {
        self.dir.join("officers")
    }

    /// Where an officer's PKCS#12 file is: `officers/IIN<iin>.p12`.
    pub fn officer_p12_path(&self, iin: &Iin) -> PathBuf {
        self.officers_dir().join(format!("IIN{iin}.p12"))
    }

    /// Writes the officer's key as a PKCS#12 file (mode 0600) encrypted with `password`,
    /// replacing an earlier one; returns its path.
    pub fn write_officer_p12(&self, signer: &Signer, password: &str) -> Result<PathBuf, Error> {
        let iin = signer
            .iin()
            .ok_or_else(|| Error::Pki("the certificate names no IIN".to_string()))?;
        make_dir(&self.officers_dir())?;
        let path = self.officer_p12_path(&iin);
        replace_private(&path, &signer.to_pkcs12(password)?)?;
        Ok(path)
    }

    /// The demo officers' keys: for each officer, the key (issued on first use), a PKCS#12
    /// file under a new random password, and the password in
    /// `officers/passwords.toml` (mode 0600), which the demo signer reads: a demo stand-in
    /// for the officer typing the password into NCALayer. Returns the passwords, in order.
    pub fn issue_demo_officer_keys(&self, officers: &[Officer]) -> Result<Vec<String>, Error> {
        let mut passwords = Vec::with_capacity(officers.len());
        let mut file = DemoKeys::default();
        for o in officers {
            let signer = self.officer_key(o)?;
            let password = random_password()?;
            self.write_officer_p12(&signer, &password)?;
            file.officers.insert(
                format!("IIN{}", o.iin),
                DemoKey {
                    name: o.full_name.clone(),
                    password: password.clone(),
                },
            );
            passwords.push(password);
        }
        let text = toml::to_string(&file).map_err(|e| Error::Pki(e.to_string()))?;
        make_dir(&self.officers_dir())?;
        let header =
            "# The demo officers' PKCS#12 passwords (demo only: a stand-in for the officer\n\
                      # typing the password into NCALayer). Read by `drn signer`.\n";
        replace_private(
            &demo_keys_path(&self.dir),
            format!("{header}{text}").as_bytes(),
        )?;
        Ok(passwords)
    }
}

impl Pki {
    /// The demo API client's key: its system's certificate ([`Pki::information_system`])
    /// in `systems/BIN….p12` (mode 0600) under a new random password. The file and the
    /// password, which the demo prints: the client's operator loads the file into their
    /// system's signer.
    pub fn issue_demo_system_key(
        &self,
        bin: &drn_core::Bin,
        name: &str,
    ) -> Result<(PathBuf, String), Error> {
        let signer = self.information_system(bin, name)?;
        let password = random_password()?;
        let dir = self.dir.join("systems");
        make_dir(&dir)?;
        let path = dir.join(format!("BIN{bin}.p12"));
        replace_private(&path, &signer.to_pkcs12(&password)?)?;
        Ok((path, password))
    }
}

/// `officers/passwords.toml` of the demo PKI in `pki_dir`.
pub fn demo_keys_path(pki_dir: &Path) -> PathBuf {
    pki_dir.join("officers").join("passwords.toml")
}

/// One entry of `passwords.toml`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct DemoKey {
    name: String,
    password: String,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct DemoKeys {
    /// By `IIN<iin>`.
    officers: std::collections::BTreeMap<String, DemoKey>,
}

/// The demo officers' keys of the PKI in `pki_dir`, opened from their PKCS#12 files with
/// the passwords of `officers/passwords.toml` (refuses a passwords file readable by others).
pub fn load_demo_officer_keys(pki_dir: &Path) -> Result<Vec<Signer>, Error> {
    let path = demo_keys_path(pki_dir);
    check_one(&path)?;
    let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let keys: DemoKeys =
        toml::from_str(&text).map_err(|e| Error::Pki(format!("{}: {e}", path.display())))?;
    let mut out = Vec::with_capacity(keys.officers.len());
    for (stem, k) in &keys.officers {
        let p12 = pki_dir.join("officers").join(format!("{stem}.p12"));
        check_one(&p12)?;
        let bytes = fs::read(&p12).map_err(|e| Error::io(&p12, e))?;
        out.push(Signer::from_pkcs12(&bytes, &k.password)?);
    }
    Ok(out)
}

/// Certificates for refusal tests: a CA outside the demo chain, and helpers.
pub mod testing {
    use super::*;

    /// A CA of its own, in memory, outside any DRN chain: what it issues must be refused.
    pub struct ForeignCa {
        ca: Ca,
    }

    fn foreign_params() -> Result<CertificateParams, Error> {
        let mut p = ca_params()?;
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(DnType::CountryName, printable("KZ")?);
        p.distinguished_name
            .push(DnType::CommonName, "Foreign test CA (not DRN)");
        Ok(p)
    }

    impl ForeignCa {
        pub fn new() -> Result<ForeignCa, Error> {
            let key = KeyPair::generate().map_err(pki_err)?;
            let mut p = foreign_params()?;
            p.serial_number = Some(random_serial()?);
            let cert = p.self_signed(&key).map_err(pki_err)?;
            let signer = Signer::from_der(key.serialize_der(), cert.der().to_vec())?;
            Ok(ForeignCa {
                ca: Ca {
                    key,
                    params: foreign_params,
                    signer,
                },
            })
        }

        /// Its certificate (DER).
        pub fn ca_der(&self) -> &[u8] {
            self.ca.signer.certificate_der()
        }

        /// An officer's certificate and key shaped like the demo's (any IIN), valid
        /// 2014-01-01..2030-01-01.
        pub fn issue_officer(&self, iin: &Iin, name: &str) -> Result<Signer, Error> {
            let key = KeyPair::generate().map_err(pki_err)?;
            let o = Officer::mvd(*iin, name);
            let cert = self
                .ca
                .issue(&key, o.params(ymd(VALID_FROM), ymd((2030, 1, 1)))?)?;
            Signer::from_der(key.serialize_der(), cert.der().to_vec())
        }
    }

    /// A certificate for `subject` "issued" by an officer's own key and name (`issuer`,
    /// whose key is `issuer_key`): a leaf acting as a CA, which a verifier must refuse. The
    /// returned signer carries the officer's certificate and the intermediate as its chain.
    pub fn issued_by_officer(
        pki: &Pki,
        issuer: &Officer,
        issuer_key: &Signer,
        subject: &Officer,
    ) -> Result<Signer, Error> {
        let leaf_key = KeyPair::try_from(issuer_key.key_der.as_slice()).map_err(pki_err)?;
        let as_issuer = issuer
            .params(ymd(VALID_FROM), ymd((2030, 1, 1)))?
            .self_signed(&leaf_key)
            .map_err(pki_err)?;
        let key = KeyPair::generate().map_err(pki_err)?;
        let mut p = subject.params(ymd(VALID_FROM), ymd((2030, 1, 1)))?;
        p.serial_number = Some(random_serial()?);
        let cert = p.signed_by(&key, &as_issuer, &leaf_key).map_err(pki_err)?;
        let mut chain = vec![issuer_key.cert.clone()];
        chain.extend(pki.issued_chain());
        Ok(Signer::from_der(key.serialize_der(), cert.der().to_vec())?.with_chain(chain))
    }

    /// An officer's certificate from the demo intermediate that expired long ago (valid
    /// 2014-01-01..2015-01-01).
    pub fn expired_officer(pki: &Pki, iin: &Iin, name: &str) -> Result<Signer, Error> {
        pki.issue_officer_with_validity(
            &Officer::mvd(*iin, name),
            jiff::civil::date(2014, 1, 1),
            jiff::civil::date(2015, 1, 1),
        )
    }

    /// A certificate revocation list of the demo intermediate (the НУЦ's, as an
    /// administrator would fetch it) naming `revoked`, issued `from` and next due `to` (DER).
    pub fn revocation_list(
        pki: &Pki,
        revoked: &[&Signer],
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<u8>, Error> {
        let issuer = (pki.nca.params)()?
            .self_signed(&pki.nca.key)
            .map_err(pki_err)?;
        let params = rcgen::CertificateRevocationListParams {
            this_update: date_time(from),
            next_update: date_time(to),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|s| rcgen::RevokedCertParams {
                    serial_number: SerialNumber::from_slice(
                        s.cert.tbs_certificate.serial_number.as_bytes(),
                    ),
                    revocation_time: date_time(from),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        Ok(params
            .signed_by(&issuer, &pki.nca.key)
            .map_err(pki_err)?
            .der()
            .to_vec())
    }
}

fn check_one(path: &Path) -> Result<(), Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyPermissions {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

/// Refuses (with [`Error::KeyPermissions`]) when any private key (`*.key`, `*.p12`, the
/// demo's `passwords.toml`) under `dir` is
/// readable, writable or executable by group or others. The server calls it at start.
pub fn check_key_permissions(dir: &Path) -> Result<(), Error> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if ty.is_dir() {
            check_key_permissions(&path)?;
        } else if path.extension().is_some_and(|e| e == "key" || e == "p12")
            || path.file_name().is_some_and(|n| n == "passwords.toml")
        {
            check_one(&path)?;
        }
    }
    Ok(())
}

/// Reads a certificate given as PEM or DER.
pub fn parse_certificate(bytes: &[u8]) -> Result<x509_cert::Certificate, Error> {
    if bytes.starts_with(b"-----") {
        let (_, der) =
            der::pem::decode_vec(bytes).map_err(|e| Error::Pki(format!("certificate PEM: {e}")))?;
        x509_cert::Certificate::from_der(&der).map_err(|e| Error::Pki(e.to_string()))
    } else {
        x509_cert::Certificate::from_der(bytes).map_err(|e| Error::Pki(e.to_string()))
    }
}

pub(crate) fn to_der<T: Encode>(v: &T) -> Result<Vec<u8>, Error> {
    v.to_der().map_err(|e| Error::Sign(e.to_string()))
}
