//! The demo PKI, made at first start in a directory: a root CA; signing certificates for
//! the MVD, the Ministry of Justice and the production centre; officers' certificates whose
//! subject serialNumber is "IIN" and the 12 digits (as Kazakhstan's NCA issues them).
//!
//! Keys are ECDSA P-256 (PKCS#8 PEM), which `openssl cms` and poppler's `pdfsig` (NSS)
//! both verify; certificates are PEM. Key files are created with mode 0600 and
//! [`check_key_permissions`] refuses a directory where any is readable by group or others.

use crate::model::Authority;
use crate::Error;
use drn_core::Iin;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, DnValue, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
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
    pub(crate) cert: x509_cert::Certificate,
    cert_der: Vec<u8>,
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
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key_der, &rng)
            .map_err(|e| Error::Pki(format!("key: {e}")))?;
        let cert = x509_cert::Certificate::from_der(&cert_der)
            .map_err(|e| Error::Pki(format!("certificate: {e}")))?;
        Ok(Signer {
            key,
            cert,
            cert_der,
            rng,
        })
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    pub fn certificate_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The certificate's subject, as `CN=…, O=…, SERIALNUMBER=…`.
    pub fn subject(&self) -> String {
        crate::verify::name_text(&self.cert.tbs_certificate.subject)
    }

    /// The subject's common name.
    pub fn common_name(&self) -> String {
        crate::verify::name_attr(&self.cert.tbs_certificate.subject, NAME_CN).unwrap_or_default()
    }

    /// Signs `message` with ECDSA P-256 / SHA-256, DER-encoded signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.key
            .sign(&self.rng, message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| Error::Sign(e.to_string()))
    }
}

const NAME_CN: &str = "2.5.4.3";

fn pem_encode(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

/// The demo PKI in its directory.
pub struct Pki {
    dir: PathBuf,
    ca_key: KeyPair,
    ca: Signer,
    authorities: Vec<(Authority, Signer)>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn ca_params() -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(DnType::CountryName, printable("KZ")?);
    p.distinguished_name.push(
        DnType::OrganizationName,
        "DRN демо / DRN demo (not a real НУЦ РК)",
    );
    p.distinguished_name
        .push(DnType::CommonName, "DRN демо түбір КО / DRN Demo Root CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let (from, _) = validity(20)?;
    p.not_before = from;
    p.not_after = rcgen::date_time_ymd(from.year() + 20, 1, 1);
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

/// From yesterday (UTC) for `years` years.
fn validity(years: i16) -> Result<(time::OffsetDateTime, time::OffsetDateTime), Error> {
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .yesterday()
        .map_err(|e| Error::Pki(e.to_string()))?;
    let from = rcgen::date_time_ymd(
        i32::from(today.year()),
        today.month() as u8,
        today.day() as u8,
    );
    let to = rcgen::date_time_ymd(
        i32::from(today.year() + years),
        today.month() as u8,
        today.day().min(28) as u8,
    );
    Ok((from, to))
}

fn leaf_params(dn: rcgen::DistinguishedName, years: i16) -> Result<CertificateParams, Error> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(pki_err)?;
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::ContentCommitment,
    ];
    p.use_authority_key_identifier_extension = true;
    let (from, to) = validity(years)?;
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

fn authority_dn(a: Authority) -> Result<rcgen::DistinguishedName, Error> {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, printable("KZ")?);
    let name = a.name();
    dn.push(DnType::OrganizationName, name.ru.clone());
    dn.push(DnType::CommonName, name.ru);
    Ok(dn)
}

impl Pki {
    /// Opens the PKI in `dir`, creating the CA and the authorities' keys and certificates
    /// that are missing. Refuses when a private key there is readable by group or others.
    pub fn open_or_create(dir: &Path) -> Result<Pki, Error> {
        if !dir.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| Error::io(dir, e))?;
        }
        check_key_permissions(dir)?;
        let ca_key_path = dir.join("ca.key");
        let ca_cert_path = dir.join("ca.pem");
        if !ca_key_path.exists() {
            let key = KeyPair::generate().map_err(pki_err)?;
            let mut params = ca_params()?;
            params.serial_number = Some(random_serial()?);
            let cert = params.self_signed(&key).map_err(pki_err)?;
            write_new(&ca_key_path, key.serialize_pem().as_bytes(), true)?;
            write_new(&ca_cert_path, cert.pem().as_bytes(), false)?;
        }
        let ca_key_pem =
            fs::read_to_string(&ca_key_path).map_err(|e| Error::io(&ca_key_path, e))?;
        let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(pki_err)?;
        let ca = Signer::load(&ca_key_path, &ca_cert_path)?;
        let mut pki = Pki {
            dir: dir.to_path_buf(),
            ca_key,
            ca,
            authorities: Vec::new(),
        };
        for a in Authority::ALL {
            let signer = pki.load_or_issue(a.code(), || leaf_params(authority_dn(a)?, 10))?;
            pki.authorities.push((a, signer));
        }
        Ok(pki)
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
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(|e| Error::io(parent, e))?;
            }
            let key = KeyPair::generate().map_err(pki_err)?;
            let mut p = params()?;
            p.serial_number = Some(random_serial()?);
            // The issuer: the CA's name and key (rcgen takes them from a certificate).
            let issuer = ca_params()?.self_signed(&self.ca_key).map_err(pki_err)?;
            let cert = p.signed_by(&key, &issuer, &self.ca_key).map_err(pki_err)?;
            write_new(&key_path, key.serialize_pem().as_bytes(), true)?;
            write_new(&cert_path, cert.pem().as_bytes(), false)?;
        } else {
            check_one(&key_path)?;
        }
        Signer::load(&key_path, &cert_path)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root CA's certificate (DER), the trust anchor of [`crate::verify`].
    pub fn ca_der(&self) -> &[u8] {
        self.ca.certificate_der()
    }

    pub fn ca_pem(&self) -> String {
        self.ca.certificate_pem()
    }

    /// The path of the CA certificate (PEM), for `openssl -CAfile` and `drn verify`.
    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// An organisation's signing key.
    pub fn authority(&self, a: Authority) -> &Signer {
        // Every authority is loaded in open_or_create, in Authority::ALL order.
        let i = Authority::ALL.iter().position(|x| *x == a).unwrap_or(0);
        &self.authorities[i].1
    }

    /// An officer's signing key, issued on first use: subject serialNumber `IIN` + the
    /// IIN, common name the officer's name, organisation the MVD.
    pub fn officer(&self, iin: &Iin, name: &str) -> Result<Signer, Error> {
        let stem = format!("officers/IIN{iin}");
        self.load_or_issue(&stem, || {
            let mut dn = rcgen::DistinguishedName::new();
            dn.push(DnType::CountryName, printable("KZ")?);
            dn.push(DnType::OrganizationName, Authority::Mvd.name().ru);
            dn.push(DnType::CommonName, name.to_string());
            dn.push(
                DnType::CustomDnType(vec![2, 5, 4, 5]),
                printable(&format!("IIN{iin}"))?,
            );
            leaf_params(dn, 3)
        })
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

/// Refuses (with [`Error::KeyPermissions`]) when any private key (`*.key`) under `dir` is
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
        } else if path.extension().is_some_and(|e| e == "key") {
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
