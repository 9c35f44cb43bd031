//! Result documents end to end: render every kind, read it back with pdftotext, verify the
//! signatures with openssl, pdfsig and the Rust verifier, tampering, key permissions.
//! A missing external tool skips its check with a printed message (.ci/run installs
//! poppler-utils and openssl).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use drn_docs::font::{fonts, KAZAKH_LETTERS};
use drn_docs::sample::{sample, sample_iin};
use drn_docs::{
    check_key_permissions, issue, issue_with, verify, verify_detached, Document, DocumentKind,
    Error, Pki,
};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const BASE: &str = "https://drn.example.kz";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("drn-docs-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn have(tool: &str) -> bool {
    let ok = Command::new(tool)
        .arg(if tool == "openssl" { "version" } else { "-v" })
        .output()
        .is_ok();
    if !ok {
        println!("SKIP: `{tool}` is not installed; its checks are skipped (apt-get install poppler-utils openssl)");
    }
    ok
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

fn openssl_verify(pdf: &Path, p7s: &Path, ca: &Path) -> bool {
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(p7s)
        .arg("-content")
        .arg(pdf)
        .arg("-CAfile")
        .arg(ca)
        .args(["-purpose", "any", "-out", "/dev/null"])
        .output()
        .unwrap();
    out.status.success()
}

/// An NSS database trusting the demo CA (when certutil is there), so that pdfsig also
/// reports the certificates as trusted.
fn nss_db(dir: &Path, ca: &Path) -> Option<PathBuf> {
    let db = dir.join("nssdb");
    std::fs::create_dir_all(&db).ok()?;
    let spec = format!("sql:{}", db.display());
    let made = Command::new("certutil")
        .args(["-N", "-d", &spec, "--empty-password"])
        .output()
        .ok()?;
    if !made.status.success() {
        return None;
    }
    let added = Command::new("certutil")
        .args(["-A", "-d", &spec, "-n", "drn-demo-ca", "-t", "CT,C,C", "-i"])
        .arg(ca)
        .output()
        .ok()?;
    added.status.success().then_some(db)
}

/// pdfsig's report: (signatures reported valid, certificates reported trusted, total).
fn pdfsig(pdf: &Path, nss: Option<&Path>) -> (usize, usize, usize, String) {
    let mut cmd = Command::new("pdfsig");
    if let Some(db) = nss {
        cmd.arg("-nssdir").arg(format!("sql:{}", db.display()));
    }
    let out = cmd.arg(pdf).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let valid = text
        .matches("Signature Validation: Signature is Valid")
        .count();
    let trusted = text
        .matches("Certificate Validation: Certificate is Trusted")
        .count();
    let total = text.matches("Signature Field Name").count();
    (valid, trusted, total, text)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn doc(kind: DocumentKind, n: usize) -> Document {
    sample(
        kind,
        &format!("0197a3c1-7e55-7000-8000-{n:012}"),
        &format!("AS-2025-{n:06}"),
    )
}

#[test]
fn every_kind_renders_signs_and_reads_back() {
    let dir = TempDir::new("kinds");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let text_tool = have("pdftotext");
    let openssl = have("openssl");
    let pdfsig_tool = have("pdfsig");
    let nss = if pdfsig_tool {
        nss_db(dir.path(), &pki.ca_path())
    } else {
        None
    };
    for (n, kind) in DocumentKind::ALL.into_iter().enumerate() {
        let d = doc(kind, n + 1);
        let issued = issue(&d, &pki, BASE).unwrap();
        assert!(issued.pdf.starts_with(b"%PDF-1.7"));
        let pdf = write(dir.path(), &format!("{}.pdf", kind.code()), &issued.pdf);
        let p7s = write(dir.path(), &format!("{}.p7s", kind.code()), &issued.p7s);

        let signers = kind.authorities().len();
        let v = verify(&issued.pdf, pki.ca_der()).unwrap();
        assert!(v.genuine, "{kind:?}: {v:?}");
        assert_eq!(v.signatures.len(), signers, "{kind:?}");
        let vd = verify_detached(&issued.pdf, &issued.p7s, pki.ca_pem().as_bytes()).unwrap();
        assert!(vd.genuine, "{kind:?}: {vd:?}");
        assert_eq!(vd.signatures.len(), signers);

        if text_tool {
            let text = pdftotext(&pdf);
            let title = kind.title();
            // pdftotext may break a long centred title across lines.
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(
                flat.contains(&title.kk),
                "{kind:?}: no Kazakh title in\n{text}"
            );
            assert!(
                flat.contains(&title.ru),
                "{kind:?}: no Russian title in\n{text}"
            );
            assert!(flat.contains(&d.number), "{kind:?}: no number");
            assert!(
                flat.contains(&d.verify_url(BASE)),
                "{kind:?}: no verification URL"
            );
            for f in &d.fields {
                assert!(
                    flat.contains(&f.label.kk),
                    "{kind:?}: no label {}",
                    f.label.kk
                );
                assert!(
                    flat.contains(&f.label.ru),
                    "{kind:?}: no label {}",
                    f.label.ru
                );
            }
            if let Some(t) = &d.table {
                for row in &t.rows {
                    assert!(flat.contains(&row[2]), "{kind:?}: no row {}", row[2]);
                }
            }
        }
        if openssl {
            assert!(
                openssl_verify(&pdf, &p7s, &pki.ca_path()),
                "{kind:?}: openssl cms -verify failed"
            );
        }
        if pdfsig_tool {
            let (valid, trusted, total, text) = pdfsig(&pdf, nss.as_deref());
            assert_eq!(total, signers, "{kind:?}:\n{text}");
            assert_eq!(valid, signers, "{kind:?}:\n{text}");
            if nss.is_some() {
                assert_eq!(trusted, signers, "{kind:?}:\n{text}");
            }
        }
    }
}

#[test]
fn every_kazakh_letter_is_embedded_and_extractable() {
    let f = fonts().unwrap();
    for c in KAZAKH_LETTERS.chars() {
        assert!(f.regular.has(c) && f.bold.has(c), "font lacks {c}");
    }
    for c in "АаБбЁёЯяЩщЪъ№«»–".chars() {
        assert!(f.regular.has(c), "font lacks {c}");
    }
    if !have("pdftotext") {
        return;
    }
    let dir = TempDir::new("letters");
    let mut d = doc(DocumentKind::IinCertificate, 7);
    d.fields.push(drn_docs::Field::new(
        "Әріптер",
        "Буквы",
        "Letters",
        KAZAKH_LETTERS,
    ));
    let pdf = drn_docs::render(&d, BASE).unwrap();
    let path = write(dir.path(), "letters.pdf", pdf.bytes());
    let text = pdftotext(&path);
    assert!(text.contains(KAZAKH_LETTERS), "{text}");
    let fonts_out = Command::new("pdffonts").arg(&path).output();
    if let Ok(out) = fonts_out {
        let listing = String::from_utf8_lossy(&out.stdout).to_string();
        // name, type, encoding, emb, sub, uni: every font embedded with a ToUnicode map.
        let rows: Vec<&str> = listing.lines().skip(2).collect();
        assert_eq!(rows.len(), 2, "{listing}");
        for r in rows {
            assert!(
                r.contains("CID TrueType") && r.contains("yes yes yes"),
                "{listing}"
            );
        }
    }
}

#[test]
fn address_certificate_carries_mvd_and_justice_signatures() {
    let dir = TempDir::new("address");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let d = doc(DocumentKind::AddressCertificate, 42);
    let issued = issue(&d, &pki, BASE).unwrap();
    let v = verify(&issued.pdf, pki.ca_der()).unwrap();
    assert!(v.genuine);
    let names: Vec<String> = v
        .signatures
        .iter()
        .map(|s| s.common_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        names,
        vec![
            "Министерство внутренних дел Республики Казахстан".to_string(),
            "Министерство юстиции Республики Казахстан".to_string()
        ]
    );
    // The first signature is followed by the second's update; the second covers all.
    assert!(!v.signatures[0].covers_whole_document);
    assert!(v.signatures[1].covers_whole_document);
    assert!(v.signatures.iter().all(|s| s.valid && s.trusted));
    if have("pdfsig") {
        let pdf = write(dir.path(), "address.pdf", &issued.pdf);
        let (valid, _, total, text) = pdfsig(&pdf, None);
        assert_eq!((valid, total), (2, 2), "{text}");
        assert!(text.contains("Total document signed"), "{text}");
    }
}

#[test]
fn one_changed_byte_fails_every_verifier() {
    let dir = TempDir::new("tamper");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let d = doc(DocumentKind::AddressCertificate, 9);
    let issued = issue(&d, &pki, BASE).unwrap();
    let mut bad = issued.pdf.clone();
    let at = bad.windows(9).position(|w| w == b"/MediaBox").unwrap() + 12;
    bad[at] ^= 1;
    assert_ne!(bad, issued.pdf);

    let v = verify(&bad, pki.ca_der()).unwrap();
    assert!(!v.genuine);
    assert!(v.signatures.iter().all(|s| !s.valid), "{v:?}");
    assert!(v.signatures[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("changed"));
    let vd = verify_detached(&bad, &issued.p7s, pki.ca_der()).unwrap();
    assert!(!vd.genuine);

    // A byte appended after the last signature: still valid, but not the whole file.
    let mut appended = issued.pdf.clone();
    appended.extend_from_slice(b"% appended\n");
    let va = verify(&appended, pki.ca_der()).unwrap();
    assert!(va.signatures.iter().all(|s| s.valid));
    assert!(!va.genuine);

    // Another CA does not vouch for the signers.
    let other = Pki::open_or_create(&dir.path().join("other")).unwrap();
    let vo = verify(&issued.pdf, other.ca_der()).unwrap();
    assert!(!vo.genuine && vo.signatures.iter().all(|s| s.valid && !s.trusted));

    let bad_pdf = write(dir.path(), "bad.pdf", &bad);
    let p7s = write(dir.path(), "doc.p7s", &issued.p7s);
    if have("openssl") {
        let good_pdf = write(dir.path(), "good.pdf", &issued.pdf);
        assert!(openssl_verify(&good_pdf, &p7s, &pki.ca_path()));
        assert!(!openssl_verify(&bad_pdf, &p7s, &pki.ca_path()));
    }
    if have("pdfsig") {
        let (valid, _, total, text) = pdfsig(&bad_pdf, None);
        assert_eq!(total, 2, "{text}");
        assert_eq!(valid, 0, "{text}");
        assert!(text.contains("Digest Mismatch"), "{text}");
    }
}

#[test]
fn officer_certificate_has_iin_serial_number() {
    let dir = TempDir::new("officer");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin = sample_iin(jiff::civil::date(1985, 3, 2), drn_core::Sex::Female).unwrap();
    let officer = pki.officer(&iin, "Сәрсенбаева Ұлжан Қуанышқызы").unwrap();
    assert!(officer
        .subject()
        .contains(&format!("SERIALNUMBER=IIN{iin}")));
    // Issued once, loaded after.
    let again = pki.officer(&iin, "ignored").unwrap();
    assert_eq!(officer.certificate_der(), again.certificate_der());
    let d = doc(DocumentKind::ERegistrationTalon, 5);
    let issued = issue_with(&d, &[&officer], BASE).unwrap();
    let v = verify(&issued.pdf, pki.ca_der()).unwrap();
    assert!(v.genuine);
    assert_eq!(
        v.signatures[0].serial_number.as_deref(),
        Some(&*format!("IIN{iin}"))
    );
    if have("openssl") {
        let pdf = write(dir.path(), "talon.pdf", &issued.pdf);
        let p7s = write(dir.path(), "talon.p7s", &issued.p7s);
        assert!(openssl_verify(&pdf, &p7s, &pki.ca_path()));
        let subject = Command::new("openssl")
            .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
            .arg(pki.dir().join(format!("officers/IIN{iin}.pem")))
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&subject.stdout).to_string();
        assert!(s.contains(&format!("serialNumber=IIN{iin}")), "{s}");
    }
}

#[test]
fn readable_private_key_is_refused() {
    let dir = TempDir::new("perms");
    let pki_dir = dir.path().join("pki");
    let pki = Pki::open_or_create(&pki_dir).unwrap();
    drop(pki);
    for entry in std::fs::read_dir(&pki_dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "key") {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
    }
    assert_eq!(check_key_permissions(&pki_dir), Ok(()));
    let key = pki_dir.join("mvd.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    match check_key_permissions(&pki_dir) {
        Err(Error::KeyPermissions { path, mode }) => {
            assert!(path.ends_with("mvd.key"));
            assert_eq!(mode, 0o644);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(matches!(
        Pki::open_or_create(&pki_dir),
        Err(Error::KeyPermissions { .. })
    ));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(check_key_permissions(&pki_dir).is_err());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Pki::open_or_create(&pki_dir).is_ok());
}

#[test]
fn unsigned_pdf_is_not_genuine() {
    let dir = TempDir::new("unsigned");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let pdf = drn_docs::render(&doc(DocumentKind::Invitation, 3), BASE).unwrap();
    let v = verify(pdf.bytes(), pki.ca_der()).unwrap();
    assert!(!v.genuine);
    assert!(v.signatures.is_empty());
    assert!(v.error.is_some());
}

/// The pages of a PDF: its `/Type /Page` objects.
fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// Issue 29: a stored text of 200,000 characters (a reason written before reasons were
/// bounded) made a 65-page PDF; it prints at most `MAX_PRINTED_FIELD` characters, cut with
/// "…", and direction overrides and zero-width characters in a text are not printed.
#[test]
fn a_huge_or_tricky_text_prints_bounded() {
    let mut d = doc(DocumentKind::MotivatedRefusal, 77);
    d.fields.push(drn_docs::Field::new(
        "Себебі",
        "Причина",
        "Reason",
        "причина ".repeat(25_000),
    ));
    let pdf = drn_docs::render(&d, BASE).unwrap();
    let pages = page_count(pdf.bytes());
    assert!((1..=3).contains(&pages), "{pages} pages");
    assert_eq!(
        drn_docs::render::printable("ab\u{202E}cd\u{200B}e\nf\u{7}", 100),
        "abcde f"
    );
    assert_eq!(drn_docs::render::printable("абвгд", 3), "абв…");
}

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// Issue 33: a document made "as of 2019-11-20" is signed on that day (the PDF's /M, the
/// CMS signingTime inside the PDF and of the detached signature), and the demo PKI's
/// certificates are valid then, so openssl verifies it with the chain.
#[test]
fn a_document_issued_as_of_2019_is_signed_on_that_day() {
    let dir = TempDir::new("asof");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let d = doc(DocumentKind::AddressCertificate, 7);
    let issued = drn_docs::issue_at(&d, &pki, BASE, at("2019-11-20T04:30:00Z")).unwrap();
    let text = String::from_utf8_lossy(&issued.pdf);
    assert!(text.contains("/M (D:20191120043000Z)"), "no /M of that day");
    let v = verify(&issued.pdf, pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    for s in &v.signatures {
        assert_eq!(
            s.signing_time.as_deref(),
            Some("2019-11-20T04:30:00Z"),
            "{s:?}"
        );
    }
    let vd = verify_detached(&issued.pdf, &issued.p7s, pki.ca_der()).unwrap();
    assert!(vd.genuine);
    assert_eq!(
        vd.signatures[0].signing_time.as_deref(),
        Some("2019-11-20T04:30:00Z")
    );
    // The 2014 demo too.
    let old = drn_docs::issue_at(&d, &pki, BASE, at("2014-06-02T04:00:00Z")).unwrap();
    assert!(String::from_utf8_lossy(&old.pdf).contains("/M (D:20140602"));
    if have("openssl") {
        let pdf = write(dir.path(), "a.pdf", &issued.pdf);
        let p7s = write(dir.path(), "a.p7s", &issued.p7s);
        assert!(openssl_verify(&pdf, &p7s, &pki.chain_path()));
        assert!(openssl_verify(&pdf, &p7s, &pki.ca_path()));
        let printed = Command::new("openssl")
            .args(["cms", "-cmsout", "-print", "-inform", "DER", "-in"])
            .arg(&p7s)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&printed.stdout);
        assert!(
            printed.contains("UTCTIME:Nov 20 04:30:00 2019 GMT"),
            "{printed}"
        );
    }
}

fn openssl_text(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-text",
            "-nameopt",
            "RFC2253,-esc_msb",
            "-in",
        ])
        .arg(cert)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The chain is root → intermediate → officer and organisation, valid over the demo's
/// dates; the officer's certificate is shaped like a НУЦ РК employee's signing certificate.
#[test]
fn the_demo_pki_is_root_intermediate_leaf_over_the_demo_dates() {
    let dir = TempDir::new("chain");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin = sample_iin(jiff::civil::date(1980, 5, 17), drn_core::Sex::Male).unwrap();
    let o = drn_docs::Officer {
        iin,
        full_name: "Ахметов Серик Болатұлы".into(),
        organisation: "Департамент полиции города Астаны".into(),
    };
    let officer = pki.officer_key(&o).unwrap();
    assert_eq!(officer.iin(), Some(iin));
    assert!(
        officer
            .subject()
            .contains("GIVENNAME=Серик Болатұлы, SURNAME=Ахметов, CN=Ахметов Серик Болатұлы"),
        "{}",
        officer.subject()
    );
    assert_eq!(officer.chain().len(), 1);
    assert_eq!(
        officer.extended_key_usages(),
        vec![
            "1.3.6.1.5.5.7.3.4".to_string(),
            "1.2.398.3.3.4.1.2.5".to_string()
        ]
    );
    let chain = std::fs::read_to_string(pki.chain_path()).unwrap();
    assert_eq!(chain, pki.chain_pem());
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2);
    assert_ne!(pki.intermediate_der(), pki.ca_der());
    if !have("openssl") {
        return;
    }
    let root = openssl_text(&pki.ca_path());
    assert!(
        root.contains("Not Before: Jan  1 00:00:00 2014 GMT"),
        "{root}"
    );
    assert!(
        root.contains("Not After : Jan  1 00:00:00 2040 GMT"),
        "{root}"
    );
    let nca = openssl_text(&pki.intermediate_path());
    assert!(nca.contains("CA:TRUE"), "{nca}");
    assert!(nca.contains("НУЦ"), "{nca}");
    let mvd = openssl_text(&pki.dir().join("mvd.pem"));
    assert!(
        mvd.contains("Not Before: Jan  1 00:00:00 2014 GMT"),
        "{mvd}"
    );
    assert!(
        mvd.contains("Not After : Jan  1 00:00:00 2036 GMT"),
        "{mvd}"
    );
    assert!(mvd.contains("Issuer: CN=DRN демо ҰКО"), "{mvd}");
    let text = openssl_text(&pki.dir().join(format!("officers/IIN{iin}.pem")));
    assert!(
        text.contains("Not Before: Jan  1 00:00:00 2014 GMT"),
        "{text}"
    );
    assert!(
        text.contains("Not After : Jan  1 00:00:00 2030 GMT"),
        "{text}"
    );
    assert!(
        text.contains("Digital Signature, Non Repudiation"),
        "{text}"
    );
    assert!(
        text.contains("E-mail Protection, 1.2.398.3.3.4.1.2.5"),
        "{text}"
    );
    assert!(text.contains(&format!("serialNumber=IIN{iin}")), "{text}");
    assert!(text.contains("GN=Серик Болатұлы"), "{text}");
    assert!(text.contains("SN=Ахметов"), "{text}");
    assert!(
        text.contains("O=Департамент полиции города Астаны"),
        "{text}"
    );
    // openssl builds the chain to the root alone and to chain.pem.
    let content = write(dir.path(), "data.bin", b"registry bytes");
    let p7s = write(
        dir.path(),
        "data.p7s",
        &drn_docs::cms::sign_detached_at(
            b"registry bytes",
            &[&officer],
            at("2019-11-20T05:00:00Z"),
        )
        .unwrap(),
    );
    assert!(openssl_verify(&content, &p7s, &pki.chain_path()));
    assert!(openssl_verify(&content, &p7s, &pki.ca_path()));
}

/// An officer's key as a PKCS#12 file: mode 0600, opened by openssl with its password and
/// read back into a signer whose signatures verify; a wrong password is refused.
#[test]
fn officer_keys_are_pkcs12_files_with_their_password() {
    let dir = TempDir::new("p12");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let a = sample_iin(jiff::civil::date(1979, 1, 9), drn_core::Sex::Female).unwrap();
    let b = sample_iin(jiff::civil::date(1990, 12, 30), drn_core::Sex::Male).unwrap();
    let officers = [
        drn_docs::Officer::mvd(a, "Иванова Айгуль Сериковна"),
        drn_docs::Officer::mvd(b, "Омаров Данияр"),
    ];
    let passwords = pki.issue_demo_officer_keys(&officers).unwrap();
    assert_eq!(passwords.len(), 2);
    assert_ne!(passwords[0], passwords[1]);
    assert!(passwords[0].len() >= 16);
    let p12 = pki.officer_p12_path(&a);
    let mode = std::fs::metadata(&p12).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let list = drn_docs::pki::demo_keys_path(pki.dir());
    let mode = std::fs::metadata(&list).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let bytes = std::fs::read(&p12).unwrap();
    assert!(drn_docs::Signer::from_pkcs12(&bytes, "wrong").is_err());
    let keys = drn_docs::pki::load_demo_officer_keys(pki.dir()).unwrap();
    assert_eq!(keys.len(), 2);
    let from_file = keys.iter().find(|k| k.iin() == Some(a)).unwrap();
    assert_eq!(
        from_file.certificate_der(),
        pki.officer(&a, "").unwrap().certificate_der()
    );
    assert_eq!(from_file.chain().len(), 1);
    let p7s = drn_docs::cms::sign_detached(b"x", &[from_file]).unwrap();
    let v = verify_detached(b"x", &p7s, pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    // A readable key file is refused like a readable .key.
    std::fs::set_permissions(&p12, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(check_key_permissions(pki.dir()).is_err());
    std::fs::set_permissions(&p12, std::fs::Permissions::from_mode(0o600)).unwrap();
    if have("openssl") {
        let out = Command::new("openssl")
            .args(["pkcs12", "-info", "-nokeys", "-passin"])
            .arg(format!("pass:{}", passwords[0]))
            .arg("-in")
            .arg(&p12)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("serialNumber=IIN{a}"))
                || text.contains(&format!("serialNumber = IIN{a}")),
            "{text}"
        );
        let wrong = Command::new("openssl")
            .args(["pkcs12", "-info", "-nokeys", "-passin", "pass:wrong", "-in"])
            .arg(&p12)
            .output()
            .unwrap();
        assert!(!wrong.status.success());
    }
}

/// The certificates the refusal tests need: one from a CA outside the chain and one that
/// expired, each reported untrusted with the reason.
#[test]
fn foreign_and_expired_certificates_are_not_trusted() {
    let dir = TempDir::new("foreign");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin = sample_iin(jiff::civil::date(1985, 3, 2), drn_core::Sex::Female).unwrap();
    let foreign = drn_docs::pki::testing::ForeignCa::new().unwrap();
    let stranger = foreign.issue_officer(&iin, "Чужая Алия").unwrap();
    assert_eq!(stranger.iin(), Some(iin));
    let p7s = drn_docs::cms::sign_detached(b"x", &[&stranger]).unwrap();
    let v = verify_detached(b"x", &p7s, pki.ca_der()).unwrap();
    assert!(!v.genuine);
    assert!(v.signatures[0].valid && !v.signatures[0].trusted);
    // Its own CA would vouch for it: the refusal is the chain's.
    assert!(
        verify_detached(b"x", &p7s, foreign.ca_der())
            .unwrap()
            .genuine
    );

    let expired = drn_docs::pki::testing::expired_officer(&pki, &iin, "Старая Алия").unwrap();
    let p7s = drn_docs::cms::sign_detached(b"x", &[&expired]).unwrap();
    let v = verify_detached(b"x", &p7s, pki.ca_der()).unwrap();
    assert!(!v.genuine);
    assert_eq!(
        v.signatures[0].error.as_deref(),
        Some("certificate outside its validity period")
    );
}

/// A PKI directory made by an earlier DRN (root valid from the day it was made) is
/// refused with a message saying what to do, and left as it was.
#[test]
fn an_older_pki_directory_is_refused_with_a_clear_message() {
    if !have("openssl") {
        return;
    }
    let dir = TempDir::new("oldpki");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=old demo root",
            "-keyout",
        ])
        .arg(pki_dir.join("ca.key"))
        .arg("-out")
        .arg(pki_dir.join("ca.pem"))
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::set_permissions(
        pki_dir.join("ca.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let before = std::fs::read(pki_dir.join("ca.pem")).unwrap();
    match Pki::open_or_create(&pki_dir) {
        Err(Error::Pki(m)) => {
            assert!(m.contains("made by an earlier DRN"), "{m}");
            assert!(m.contains("Move the directory aside"), "{m}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read(pki_dir.join("ca.pem")).unwrap(), before);
    assert!(!pki_dir.join("nca.pem").exists());
}

/// A CMS that carries only the signer's certificate (as NCALayer's does) verifies when the
/// intermediate is given beside the root, and not without it.
#[test]
fn a_cms_without_the_intermediate_verifies_with_it_installed() {
    let dir = TempDir::new("bare");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin = sample_iin(jiff::civil::date(1988, 8, 8), drn_core::Sex::Male).unwrap();
    pki.officer(&iin, "Нурланов Асет").unwrap();
    let stem = pki.dir().join(format!("officers/IIN{iin}"));
    let bare = drn_docs::Signer::from_pem(
        &std::fs::read_to_string(stem.with_extension("key")).unwrap(),
        &std::fs::read_to_string(stem.with_extension("pem")).unwrap(),
    )
    .unwrap();
    assert!(bare.chain().is_empty());
    let p7s = drn_docs::cms::sign_detached(b"x", &[&bare]).unwrap();
    let v = verify_detached(b"x", &p7s, pki.ca_der()).unwrap();
    assert!(!v.genuine);
    assert!(v.signatures[0].valid && !v.signatures[0].trusted);
    let v = drn_docs::verify_detached_with(b"x", &p7s, pki.ca_der(), &[pki.intermediate_der()])
        .unwrap();
    assert!(v.genuine, "{v:?}");
    // The same through an installed bundle (`drn serve --trust`, `drn verify --trust`),
    // as the verify page reads it.
    let mut installed = drn_docs::officer::Trust::default();
    installed.add_bundle(pki.chain_pem().as_bytes()).unwrap();
    assert!(
        drn_docs::verify_detached_trusting(b"x", &p7s, &installed)
            .unwrap()
            .genuine
    );
    let roots_only = drn_docs::officer::Trust::with_roots(&[pki.ca_der()]).unwrap();
    assert!(
        !drn_docs::verify_detached_trusting(b"x", &p7s, &roots_only)
            .unwrap()
            .genuine
    );
}

/// A citizen's demo key is an individual's: no organisation, the НУЦ РК's "individual"
/// usage, kept apart from the officers' keys.
#[test]
fn a_citizens_key_is_an_individuals() {
    let dir = TempDir::new("citizen");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin = sample_iin(jiff::civil::date(1995, 2, 1), drn_core::Sex::Female).unwrap();
    let c = pki.citizen(&iin, "Citizen").unwrap();
    assert_eq!(c.iin(), Some(iin));
    assert_eq!(
        c.extended_key_usages(),
        vec![
            "1.3.6.1.5.5.7.3.4".to_string(),
            "1.2.398.3.3.4.1.1".to_string()
        ]
    );
    assert!(!c.subject().contains("O="), "{}", c.subject());
    assert!(pki.dir().join(format!("citizens/IIN{iin}.pem")).exists());
    assert!(!pki.dir().join(format!("officers/IIN{iin}.pem")).exists());
    let p7s = drn_docs::cms::sign_detached(b"request", &[&c]).unwrap();
    assert!(
        verify_detached(b"request", &p7s, pki.ca_der())
            .unwrap()
            .genuine
    );
}

/// An officer's certificate is no CA: a certificate "issued" with an officer's key and
/// name, sent with the officer's certificate and the intermediate, is not trusted.
#[test]
fn an_officers_certificate_cannot_issue_certificates() {
    let dir = TempDir::new("leafca");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let a = sample_iin(jiff::civil::date(1981, 4, 4), drn_core::Sex::Male).unwrap();
    let b = sample_iin(jiff::civil::date(1982, 5, 5), drn_core::Sex::Female).unwrap();
    let officer = drn_docs::Officer::mvd(a, "Серіков Ерлан");
    let key = pki.officer_key(&officer).unwrap();
    let forged = drn_docs::pki::testing::issued_by_officer(
        &pki,
        &officer,
        &key,
        &drn_docs::Officer::mvd(b, "Подставная Айым"),
    )
    .unwrap();
    assert_eq!(forged.chain().len(), 2);
    let p7s = drn_docs::cms::sign_detached(b"x", &[&forged]).unwrap();
    let v = verify_detached(b"x", &p7s, pki.ca_der()).unwrap();
    assert!(v.signatures[0].valid, "{v:?}");
    assert!(!v.signatures[0].trusted, "{v:?}");
    assert!(!v.genuine);
    if have("openssl") {
        let data = write(dir.path(), "x.bin", b"x");
        let sig = write(dir.path(), "x.p7s", &p7s);
        assert!(!openssl_verify(&data, &sig, &pki.chain_path()));
    }
}

/// Issue 33: an officer's signature is checked against the issuer's revocation list: a
/// listed certificate is refused as revoked, an unlisted one passes, and where the policy
/// requires a list, a signature without one is refused as uncheckable.
#[test]
fn an_officers_signature_is_refused_when_the_issuers_list_revokes_the_certificate() {
    use drn_docs::officer::{verify_officer, Expectation, Revocation, SignatureRefusal, Trust};
    use sha2::Digest;
    let dir = TempDir::new("crl");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let iin: drn_core::Iin = "871008401427".parse().unwrap();
    let officer = pki.officer(&iin, "Сәрсенбаева Ұлжан").unwrap();
    let other_iin =
        drn_docs::sample::sample_iin(jiff::civil::date(1980, 5, 17), drn_core::Sex::Male).unwrap();
    let other = pki.officer(&other_iin, "Другой Сотрудник").unwrap();
    let at: jiff::Timestamp = "2019-11-20T04:00:00Z".parse().unwrap();
    let content = b"a registry's bytes";
    let digest: [u8; 32] = sha2::Sha256::digest(content).into();
    let cms = drn_docs::cms::sign_detached_at(content, &[&officer], at).unwrap();
    let expect = |revocation| Expectation {
        digest: &digest,
        holder: drn_docs::officer::Holder::Person(&iin),
        now: at,
        skew: jiff::SignedDuration::from_mins(10),
        revocation,
    };
    let with_list = |revoked: &[&drn_docs::Signer]| {
        let mut t = Trust::default();
        t.add_bundle(pki.chain_pem().as_bytes()).unwrap();
        let crl = drn_docs::pki::testing::revocation_list(
            &pki,
            revoked,
            jiff::civil::date(2019, 11, 1),
            jiff::civil::date(2019, 12, 1),
        )
        .unwrap();
        t.add_crl(&crl).unwrap();
        t
    };
    assert_eq!(
        verify_officer(
            &cms,
            &expect(Revocation::WhenAvailable),
            &with_list(&[&officer])
        ),
        Err(SignatureRefusal::Revoked)
    );
    assert!(verify_officer(&cms, &expect(Revocation::Required), &with_list(&[&other])).is_ok());
    let mut no_list = Trust::default();
    no_list.add_bundle(pki.chain_pem().as_bytes()).unwrap();
    assert!(verify_officer(&cms, &expect(Revocation::WhenAvailable), &no_list).is_ok());
    assert!(matches!(
        verify_officer(&cms, &expect(Revocation::Required), &no_list),
        Err(SignatureRefusal::RevocationUnknown(_))
    ));
}

/// An API client's system signs under its organisation's certificate (`OU=BIN…`): accepted
/// for its BIN, refused for another BIN, and an officer's personal certificate is not the
/// system's.
#[test]
fn an_information_systems_signature_names_its_organisations_bin() {
    use drn_docs::officer::{
        verify_officer, Expectation, Holder, Revocation, SignatureRefusal, Trust,
    };
    use sha2::Digest;
    let dir = TempDir::new("system");
    let pki = Pki::open_or_create(&dir.path().join("pki")).unwrap();
    let bin = drn_core::Bin::parse("990440100004").unwrap();
    let other_bin = drn_core::Bin::parse("990440100014").unwrap();
    let system = pki.information_system(&bin, "АИС (тест)").unwrap();
    let person = pki
        .officer(&"871008401427".parse().unwrap(), "Сәрсенбаева Ұлжан")
        .unwrap();
    let at: jiff::Timestamp = "2019-11-20T04:00:00Z".parse().unwrap();
    let digest: [u8; 32] = sha2::Sha256::digest(b"x").into();
    let mut trust = Trust::default();
    trust.add_bundle(pki.chain_pem().as_bytes()).unwrap();
    let check = |signer: &drn_docs::Signer, holder| {
        let cms = drn_docs::cms::sign_detached_at(b"x", &[signer], at).unwrap();
        let expect = Expectation {
            digest: &digest,
            holder,
            now: at,
            skew: jiff::SignedDuration::from_mins(10),
            revocation: Revocation::WhenAvailable,
        };
        verify_officer(&cms, &expect, &trust)
    };
    let ok = check(&system, Holder::Organisation(&bin)).unwrap();
    assert!(ok.subject.contains("OU=BIN990440100004"), "{}", ok.subject);
    assert!(matches!(
        check(&system, Holder::Organisation(&other_bin)),
        Err(SignatureRefusal::AnotherPerson { .. })
    ));
    assert!(matches!(
        check(&person, Holder::Organisation(&bin)),
        Err(SignatureRefusal::AnotherPerson { .. })
    ));
}
