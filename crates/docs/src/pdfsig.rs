//! A signature inside the PDF: an incremental update that adds a signature value
//! (`/Type /Sig`, `/SubFilter /adbe.pkcs7.detached`, `/ByteRange`, `/Contents` holding a
//! detached CMS over the byte ranges), an invisible signature field on page 1, and the
//! AcroForm listing every signature field. Each further signature is a further update, so
//! every earlier signature stays valid (`pdfsig` reports each).

use crate::render::Rendered;
use crate::{cms, Error, Signer};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write as _;

/// Room for the CMS in `/Contents`, in bytes (written as twice as many hex digits).
const CONTENTS_BYTES: usize = 4096;

fn pdf_text(s: &str) -> String {
    // A text string as UTF-16BE with a BOM, in hex.
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
    out.push('>');
    out
}

/// The offset in the last `startxref`.
fn last_startxref(bytes: &[u8]) -> Result<usize, Error> {
    let tail_start = bytes.len().saturating_sub(64);
    let tail = &bytes[tail_start..];
    let pos = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| Error::Sign("no startxref".to_string()))?;
    let rest = &tail[pos + 9..];
    let digits: String = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|b| char::from(*b))
        .collect();
    digits
        .parse()
        .map_err(|_| Error::Sign("bad startxref".to_string()))
}

/// Signs `pdf` with `signer` as an incremental update (see the module docs), at `at` (the
/// signature's /M and its CMS signingTime: the clock the server runs on).
pub fn sign_pdf(
    pdf: &mut Rendered,
    signer: &Signer,
    reason: &str,
    at: jiff::Timestamp,
) -> Result<(), Error> {
    let prev = last_startxref(&pdf.bytes)?;
    let layout = &mut pdf.layout;
    let sig_id = layout.size;
    let field_id = layout.size + 1;
    layout.size += 2;
    layout.fields.push(field_id);
    let n = layout.fields.len();
    let bytes = &mut pdf.bytes;
    if !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let mut offsets: Vec<(i32, usize)> = Vec::with_capacity(4);
    let when = at.strftime("%Y%m%d%H%M%SZ").to_string();

    // The signature value with placeholders.
    offsets.push((sig_id, bytes.len()));
    let _ = write!(
        bytes,
        "{sig_id} 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached \
         /Name {} /Reason {} /M (D:{when}) /ByteRange [0 ",
        pdf_text(&signer.common_name()),
        pdf_text(reason),
    );
    let range_at = bytes.len();
    bytes.extend_from_slice(b"0000000000 0000000000 0000000000]\n/Contents ");
    let contents_at = bytes.len();
    bytes.push(b'<');
    bytes.resize(bytes.len() + 2 * CONTENTS_BYTES, b'0');
    bytes.push(b'>');
    let contents_end = bytes.len();
    bytes.extend_from_slice(b" >>\nendobj\n");

    // The field (merged with its widget), invisible, on page 1.
    offsets.push((field_id, bytes.len()));
    let _ = write!(
        bytes,
        "{field_id} 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature{n}) \
         /V {sig_id} 0 R /Rect [0 0 0 0] /F 132 /P {} 0 R >>\nendobj\n",
        layout.first_page
    );
    let refs: String = layout
        .fields
        .iter()
        .map(|f| format!("{f} 0 R"))
        .collect::<Vec<_>>()
        .join(" ");
    offsets.push((layout.annots, bytes.len()));
    let _ = write!(bytes, "{} 0 obj\n[{refs}]\nendobj\n", layout.annots);
    offsets.push((layout.acroform, bytes.len()));
    let _ = write!(
        bytes,
        "{} 0 obj\n<< /Fields [{refs}] /SigFlags 3 >>\nendobj\n",
        layout.acroform
    );

    // Cross-reference section of the update and its trailer.
    offsets.sort_by_key(|(id, _)| *id);
    let xref_at = bytes.len();
    bytes.extend_from_slice(b"xref\n");
    for (id, off) in &offsets {
        let _ = write!(bytes, "{id} 1\n{off:010} 00000 n \n");
    }
    let _ = write!(
        bytes,
        "trailer\n<< /Size {} /Root {} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n",
        layout.size, layout.root
    );

    // Fill in the byte ranges: everything but the /Contents hex string.
    let len = bytes.len();
    let ranges = format!(
        "{:<10} {:<10} {:<10}",
        contents_at,
        contents_end,
        len - contents_end
    );
    bytes[range_at..range_at + 32].copy_from_slice(ranges.as_bytes());
    let mut h = Sha256::new();
    h.update(&bytes[..contents_at]);
    h.update(&bytes[contents_end..]);
    let digest = h.finalize();
    let der = cms::sign_digest_at(&digest, &[signer], at)?;
    if der.len() > CONTENTS_BYTES {
        return Err(Error::Sign(format!(
            "CMS of {} bytes exceeds the {CONTENTS_BYTES} reserved",
            der.len()
        )));
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, b) in der.iter().enumerate() {
        bytes[contents_at + 1 + 2 * i] = HEX[usize::from(b >> 4)];
        bytes[contents_at + 2 + 2 * i] = HEX[usize::from(b & 15)];
    }
    Ok(())
}
