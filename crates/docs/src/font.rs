//! The vendored DejaVu Sans fonts (fonts/, Bitstream Vera licence), subset once per process
//! to a fixed character set that holds every Kazakh and Russian letter, Latin (for foreign
//! names), digits and punctuation: that subset fixes each character's CID, so layout needs
//! no font work. Each PDF embeds only the glyphs it uses, cut from that subset (with a
//! CIDToGIDMap from the fixed CIDs): a talon carries some seventy glyphs of some six
//! hundred, and embedding them all made every stored document some 120 KiB.

use crate::Error;
use std::sync::OnceLock;

const REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The Kazakh letters beyond the Russian alphabet, both cases.
pub const KAZAKH_LETTERS: &str = "ӘәҒғҚқҢңӨөҰұҮүҺһІі";

/// The characters every embedded subset holds.
fn charset() -> impl Iterator<Item = char> {
    let ranges: [(u32, u32); 5] = [
        (0x20, 0x7E),     // Basic Latin
        (0xA0, 0x17F),    // Latin-1 Supplement, Latin Extended-A
        (0x400, 0x4FF),   // Cyrillic, with every Kazakh letter
        (0x2010, 0x2027), // dashes, quotes, bullet, ellipsis
        (0x2116, 0x2116), // numero sign
    ];
    ranges
        .into_iter()
        .flat_map(|(a, b)| (a..=b).filter_map(char::from_u32))
        .chain(['−', '€', '₸'])
}

/// A code point the subset has no glyph for (in [`Font`]'s table).
const NO_CID: u16 = u16::MAX;

/// One embedded font: the subset program and what the renderer needs to place text.
pub struct Font {
    pub base_name: String,
    /// The process-wide subset program (uncompressed TrueType): glyph id = CID.
    program: Vec<u8>,
    /// CID (= glyph id in the subset) by code point, [`NO_CID`] where the subset lacks
    /// the character: a table, since every character of a document's text is looked up
    /// (twice: measured, then encoded), and hashing each was 4 % of a document's making.
    cids: Vec<u16>,
    /// CID -> the character it shows (the first, when several share a glyph).
    chars: Vec<Option<char>>,
    /// Advance width of each CID, in thousandths of an em.
    pub widths: Vec<f32>,
    pub bbox: [f32; 4],
    pub ascent: f32,
    pub descent: f32,
    pub cap_height: f32,
    pub bold: bool,
    fallback: u16,
}

impl Font {
    fn load(data: &[u8], name: &str, tag: &str, bold: bool) -> Result<Font, Error> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| Error::Font(e.to_string()))?;
        let upem = f32::from(face.units_per_em());
        let scale = 1000.0 / upem;
        let mut pairs: Vec<(char, u16)> = charset()
            .filter_map(|c| face.glyph_index(c).map(|g| (c, g.0)))
            .collect();
        let mut gids: Vec<u16> = pairs.iter().map(|(_, g)| *g).collect();
        gids.sort_unstable();
        gids.dedup();
        let remapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&gids);
        let subset = subsetter::subset(data, 0, &remapper)
            .map_err(|e| Error::Font(format!("subsetting {name}: {e}")))?;
        let n = usize::from(remapper.num_gids());
        let mut widths = vec![0.0f32; n];
        for old in remapper.remapped_gids() {
            if let Some(new) = remapper.get(old) {
                let adv = face
                    .glyph_hor_advance(ttf_parser::GlyphId(old))
                    .unwrap_or(0);
                if let Some(w) = widths.get_mut(usize::from(new)) {
                    *w = f32::from(adv) * scale;
                }
            }
        }
        let top = pairs
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut cids = vec![NO_CID; top];
        let mut chars = vec![None; n];
        // Several characters may share a glyph; the ToUnicode map takes the first.
        pairs.sort_by_key(|(c, _)| *c);
        for (c, g) in &pairs {
            if let Some(cid) = remapper.get(*g) {
                if let Some(slot) = cids.get_mut(*c as usize) {
                    *slot = cid;
                }
                if let Some(slot @ None) = chars.get_mut(usize::from(cid)) {
                    *slot = Some(*c);
                }
            }
        }
        let fallback = cids
            .get('?' as usize)
            .copied()
            .filter(|&c| c != NO_CID)
            .unwrap_or(0);
        let bb = face.global_bounding_box();
        let bbox = [
            f32::from(bb.x_min) * scale,
            f32::from(bb.y_min) * scale,
            f32::from(bb.x_max) * scale,
            f32::from(bb.y_max) * scale,
        ];
        Ok(Font {
            base_name: format!("{tag}+{name}"),
            program: subset,
            cids,
            chars,
            widths,
            bbox,
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: face
                .capital_height()
                .map(|h| f32::from(h) * scale)
                .unwrap_or(729.0),
            bold,
            fallback,
        })
    }

    /// The CID of a character (the subset's `?` when the font lacks it).
    pub fn cid(&self, c: char) -> u16 {
        self.cids
            .get(c as usize)
            .copied()
            .filter(|&cid| cid != NO_CID)
            .unwrap_or(self.fallback)
    }

    /// True when the subset holds `c`.
    pub fn has(&self, c: char) -> bool {
        self.cids.get(c as usize).is_some_and(|&cid| cid != NO_CID)
    }

    /// Width of a text at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.widths
                    .get(usize::from(self.cid(c)))
                    .copied()
                    .unwrap_or(0.0)
            })
            .sum();
        units * size / 1000.0
    }

    /// The text as two-byte CIDs (Identity-H); the CIDs go to `used`.
    pub fn encode(&self, text: &str, out: &mut Vec<u8>, used: &mut Used) {
        out.clear();
        for c in text.chars() {
            let cid = self.cid(c);
            used.0.insert(cid);
            out.extend_from_slice(&cid.to_be_bytes());
        }
    }

    /// What a document embeds of this font for the CIDs it `used`.
    pub fn embed(&self, used: &Used) -> Result<Embedded, Error> {
        // .notdef stays glyph 0, as TrueType wants.
        let mut gids: Vec<u16> = std::iter::once(0).chain(used.0.iter().copied()).collect();
        gids.dedup();
        let remapper = subsetter::GlyphRemapper::new_from_glyphs_sorted(&gids);
        let program = subsetter::subset(&self.program, 0, &remapper)
            .map_err(|e| Error::Font(format!("subsetting {}: {e}", self.base_name)))?;
        let last = used.0.last().copied().unwrap_or(0);
        let mut cid_to_gid = Vec::with_capacity(2 * (usize::from(last) + 1));
        for cid in 0..=last {
            let gid = if used.0.contains(&cid) {
                remapper.get(cid).unwrap_or(0)
            } else {
                0
            };
            cid_to_gid.extend_from_slice(&gid.to_be_bytes());
        }
        let mut cmap = pdf_writer::types::UnicodeCmap::new(
            pdf_writer::Name(b"Custom"),
            pdf_writer::types::SystemInfo {
                registry: pdf_writer::Str(b"Adobe"),
                ordering: pdf_writer::Str(b"Identity"),
                supplement: 0,
            },
        );
        for cid in &used.0 {
            if let Some(Some(c)) = self.chars.get(usize::from(*cid)) {
                cmap.pair(*cid, *c);
            }
        }
        // Not compressed: the subset is some 17 KiB, 10 of them the licence in the
        // `name` table (kept, as the licence asks), and deflating it cost more than the
        // rest of the document's making (a talon is made on every intake).
        Ok(Embedded {
            program,
            cid_to_gid,
            to_unicode: cmap.finish().into_vec(),
        })
    }
}

/// The CIDs of one font a document shows.
#[derive(Debug, Default)]
pub struct Used(std::collections::BTreeSet<u16>);

impl Used {
    /// The CIDs, in order.
    pub fn cids(&self) -> impl Iterator<Item = u16> + '_ {
        self.0.iter().copied()
    }
}

/// A font as one document embeds it (uncompressed streams).
pub struct Embedded {
    /// The TrueType program with the used glyphs only (FontFile2).
    pub program: Vec<u8>,
    /// CID -> glyph id in `program`, two bytes each (CIDToGIDMap).
    pub cid_to_gid: Vec<u8>,
    /// The ToUnicode CMap of the used CIDs (uncompressed).
    pub to_unicode: Vec<u8>,
}

pub struct Fonts {
    pub regular: Font,
    pub bold: Font,
}

static FONTS: OnceLock<Result<Fonts, Error>> = OnceLock::new();

/// The two subset fonts, made on first use.
pub fn fonts() -> Result<&'static Fonts, Error> {
    FONTS
        .get_or_init(|| {
            Ok(Fonts {
                regular: Font::load(REGULAR, "DejaVuSans", "DRNAAA", false)?,
                bold: Font::load(BOLD, "DejaVuSans-Bold", "DRNAAB", true)?,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Splits `text` into lines no wider than `max` at `size` (at spaces; a word wider than
/// the line is cut).
pub fn wrap(font: &Font, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if font.width(&candidate, size) <= max || line.is_empty() && word.is_empty() {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // The word alone: cut it when it does not fit on a line.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if font.width(&piece, size) > max && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        lines.push(line);
    }
    lines
}
