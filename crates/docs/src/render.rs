//! One renderer for every document: an A4 PDF with Kazakh and Russian side by side, the
//! subset DejaVu fonts embedded, and a vector QR code with the verification address.
//!
//! The page's `/Annots` and the catalog's `/AcroForm` are indirect objects, so that a
//! signature (see [`crate::pdfsig`]) is an incremental update that rewrites just those two.

use crate::font::{fonts, wrap, Font, Used};
use crate::model::Document;
use crate::Error;
use miniz_oxide::deflate::core::{compress, CompressorOxide, TDEFLFlush, TDEFLStatus};
use miniz_oxide::DataFormat;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

pub const A4_WIDTH: f32 = 595.276;
pub const A4_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 50.0;
const BOTTOM: f32 = 70.0;
const QR_SIZE: f32 = 92.0;

/// A rendered PDF and where its signature-related objects are.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub(crate) layout: Layout,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Layout {
    pub root: i32,
    pub first_page: i32,
    pub annots: i32,
    pub acroform: i32,
    /// The next free object number.
    pub size: i32,
    /// The signature fields added so far.
    pub fields: Vec<i32>,
}

impl Rendered {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The PDF's bytes and, as JSON, where its signature objects are: to keep a draft
    /// between requests ([`Rendered::from_parts`]).
    pub fn into_parts(self) -> Result<(Vec<u8>, String), Error> {
        let layout =
            serde_json::to_string(&self.layout).map_err(|e| Error::Render(e.to_string()))?;
        Ok((self.bytes, layout))
    }

    /// A rendered PDF back from [`Rendered::into_parts`].
    pub fn from_parts(bytes: Vec<u8>, layout: &str) -> Result<Rendered, Error> {
        let layout = serde_json::from_str(layout).map_err(|e| Error::Malformed(e.to_string()))?;
        Ok(Rendered { bytes, layout })
    }

    /// How many signatures were added.
    pub fn signature_count(&self) -> usize {
        self.layout.fields.len()
    }
}

#[derive(Clone, Copy)]
enum Face {
    Regular,
    Bold,
}

struct Writer<'f> {
    regular: &'f Font,
    bold: &'f Font,
    pages: Vec<Content>,
    y: f32,
    buf: Vec<u8>,
    /// The CIDs shown, of the regular and the bold face.
    used: [Used; 2],
}

impl<'f> Writer<'f> {
    fn font(&self, face: Face) -> &'f Font {
        match face {
            Face::Regular => self.regular,
            Face::Bold => self.bold,
        }
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.y = A4_HEIGHT - MARGIN;
    }

    /// Makes room for `height` points, starting a new page when needed.
    fn need(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, face: Face, size: f32, x: f32, y: f32, text: &str) {
        let font = self.font(face);
        let mut buf = std::mem::take(&mut self.buf);
        font.encode(text, &mut buf, &mut self.used[face as usize]);
        let name = match face {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
        };
        self.page()
            .begin_text()
            .set_font(name, size)
            .next_line(x, y)
            .show(Str(&buf))
            .end_text();
        self.buf = buf;
    }

    /// Writes wrapped lines at the cursor, moving it down.
    fn paragraph(&mut self, face: Face, size: f32, x: f32, width: f32, text: &str) {
        let lead = size * 1.3;
        for line in wrap(self.font(face), text, size, width) {
            self.need(lead);
            self.y -= lead;
            self.text_at(face, size, x, self.y + size * 0.25, &line);
        }
    }

    fn centered(&mut self, face: Face, size: f32, text: &str) {
        let width = A4_WIDTH - 2.0 * MARGIN;
        let lead = size * 1.3;
        for line in wrap(self.font(face), text, size, width) {
            self.need(lead);
            self.y -= lead;
            let w = self.font(face).width(&line, size);
            self.text_at(
                face,
                size,
                (A4_WIDTH - w) / 2.0,
                self.y + size * 0.25,
                &line,
            );
        }
    }

    fn rule(&mut self, y: f32) {
        self.page()
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(A4_WIDTH - MARGIN, y)
            .stroke();
    }
}

/// The QR code of `data` (level M): its width in modules and the modules row by row.
///
/// One fixed mask pattern, not the best of eight: choosing scores all eight masks, which
/// cost as much as the rest of a talon, and a reader decodes any mask (the format
/// information names it). The address is short, so the code stays small and clean.
fn qr_modules(data: &str) -> Result<(usize, Vec<qrcode::Color>), Error> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let err = |e: qrcode::types::QrError| Error::Render(format!("QR code: {e}"));
    let level = qrcode::EcLevel::M;
    let bits = qrcode::bits::encode_auto(data.as_bytes(), level).map_err(err)?;
    let version = bits.version();
    let (encoded, ec) =
        qrcode::ec::construct_codewords(&bits.into_bytes(), version, level).map_err(err)?;
    let mut canvas = Canvas::new(version, level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec);
    canvas.apply_mask(MaskPattern::Checkerboard);
    Ok((version.width() as usize, canvas.into_colors()))
}

/// Draws the QR code of `data` as filled rectangles (one per run of dark modules in a row)
/// with its top-left corner at (x, y_top).
fn qr(content: &mut Content, data: &str, x: f32, y_top: f32, size: f32) -> Result<(), Error> {
    let (n, colors) = qr_modules(data)?;
    let quiet = 2usize;
    let module = size / (n + 2 * quiet) as f32;
    content.save_state().set_fill_gray(0.0);
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if colors[row * n + col] == qrcode::Color::Dark {
                let start = col;
                while col < n && colors[row * n + col] == qrcode::Color::Dark {
                    col += 1;
                }
                let rx = x + (start + quiet) as f32 * module;
                let ry = y_top - (row + quiet + 1) as f32 * module;
                content.rect(rx, ry, (col - start) as f32 * module, module);
            } else {
                col += 1;
            }
        }
    }
    content.fill_nonzero().restore_state();
    Ok(())
}

fn date_text(d: jiff::civil::Date) -> String {
    format!("{:02}.{:02}.{:04}", d.day(), d.month(), d.year())
}

/// Renders a document to an unsigned PDF; `base_url` is the verification service's
/// address (the QR code carries `{base_url}/verify/{id}`).
/// The most characters a field's value or a note prints, and a table cell: a backstop
/// under the bounds every free text has at intake (issue 29: a 200,000-character reason
/// made a 65-page PDF), so that no stored text makes a document run on for pages.
pub const MAX_PRINTED_FIELD: usize = 4000;
pub const MAX_PRINTED_CELL: usize = 500;

/// Text as a document prints it: control and format characters (bidirectional overrides,
/// zero-width characters) dropped, line breaks and tabs as spaces, at most `max` characters
/// with "…" where cut.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut n = 0;
    for c in text.chars() {
        let c = match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => continue,
            '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}' => continue,
            c => c,
        };
        if n == max {
            out.push('…');
            break;
        }
        out.push(c);
        n += 1;
    }
    out
}

/// The document with every text of a person's or an officer's making made printable.
fn printable_doc(doc: &Document) -> Document {
    let mut d = doc.clone();
    for f in &mut d.fields {
        f.value = printable(&f.value, MAX_PRINTED_FIELD);
    }
    if let Some(t) = &mut d.table {
        for cell in t.rows.iter_mut().flatten() {
            *cell = printable(cell, MAX_PRINTED_CELL);
        }
    }
    if let Some(s) = &mut d.signatory {
        s.name = printable(&s.name, MAX_PRINTED_CELL);
    }
    if let Some(n) = &mut d.note {
        for t in [&mut n.kk, &mut n.ru, &mut n.en] {
            *t = printable(t, MAX_PRINTED_FIELD);
        }
    }
    d.number = printable(&d.number, MAX_PRINTED_CELL);
    d
}

pub fn render(doc: &Document, base_url: &str) -> Result<Rendered, Error> {
    let doc = &printable_doc(doc);
    let fonts = fonts()?;
    let url = doc.verify_url(base_url);
    let mut w = Writer {
        regular: &fonts.regular,
        bold: &fonts.bold,
        pages: vec![Content::new()],
        y: A4_HEIGHT - MARGIN,
        buf: Vec::with_capacity(256),
        used: Default::default(),
    };
    let content_width = A4_WIDTH - 2.0 * MARGIN;

    // Header: the issuing unit beside the QR code.
    let top = A4_HEIGHT - MARGIN + 8.0;
    qr(
        w.page(),
        &url,
        A4_WIDTH - MARGIN - QR_SIZE + 6.0,
        top,
        QR_SIZE,
    )?;
    let header_width = content_width - QR_SIZE - 12.0;
    w.y = top;
    w.paragraph(Face::Bold, 9.0, MARGIN, header_width, &doc.issuer.kk);
    w.y -= 2.0;
    w.paragraph(Face::Regular, 9.0, MARGIN, header_width, &doc.issuer.ru);
    w.y = w.y.min(top - QR_SIZE) - 10.0;

    // Title in both languages.
    let title = doc.title();
    w.centered(Face::Bold, 14.0, &title.kk);
    w.centered(Face::Bold, 14.0, &title.ru);
    w.y -= 6.0;
    let number_line = format!(
        "Нөмірі / Номер: {}      Күні / Дата: {}",
        doc.number,
        date_text(doc.date)
    );
    w.centered(Face::Regular, 10.5, &number_line);
    w.y -= 6.0;
    let y = w.y;
    w.rule(y);
    w.y -= 6.0;

    // Numbered fields.
    for (i, field) in doc.fields.iter().enumerate() {
        let label = format!("{}. {} / {}", i + 1, field.label.kk, field.label.ru);
        w.need(30.0);
        w.paragraph(Face::Bold, 9.0, MARGIN, content_width, &label);
        w.paragraph(
            Face::Regular,
            11.0,
            MARGIN + 14.0,
            content_width - 14.0,
            &field.value,
        );
        w.y -= 5.0;
    }

    // The table of a registry.
    if let Some(table) = &doc.table {
        w.y -= 4.0;
        let total: f32 = table.columns.iter().map(|c| c.width.max(0.1)).sum();
        let widths: Vec<f32> = table
            .columns
            .iter()
            .map(|c| c.width.max(0.1) / total * content_width)
            .collect();
        let header: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                if c.title.kk == c.title.ru {
                    c.title.kk.clone()
                } else {
                    format!("{} / {}", c.title.kk, c.title.ru)
                }
            })
            .collect();
        table_row(&mut w, Face::Bold, 8.0, &widths, &header);
        for row in &table.rows {
            table_row(&mut w, Face::Regular, 9.0, &widths, row);
        }
        let count = format!("Барлығы / Всего: {}", table.rows.len());
        w.y -= 4.0;
        w.paragraph(Face::Bold, 9.5, MARGIN, content_width, &count);
    }

    if let Some(note) = &doc.note {
        w.y -= 6.0;
        w.paragraph(Face::Regular, 9.0, MARGIN, content_width, &note.kk);
        w.paragraph(Face::Regular, 9.0, MARGIN, content_width, &note.ru);
    }

    if let Some(s) = &doc.signatory {
        w.y -= 14.0;
        w.need(50.0);
        let pos = format!("{} / {}", s.position.kk, s.position.ru);
        w.paragraph(Face::Regular, 9.0, MARGIN, content_width, &pos);
        let mut name = s.name.clone();
        if let Some(iin) = &s.iin {
            name.push_str(&format!("   (ЖСН / ИИН {iin})"));
        }
        if let Some(bin) = &s.bin {
            name.push_str(&format!("   (БСН / БИН {bin})"));
        }
        w.paragraph(Face::Bold, 10.5, MARGIN, content_width, &name);
        w.paragraph(
            Face::Regular,
            8.5,
            MARGIN,
            content_width,
            "Өз ЭЦҚ-сымен қол қойды / Подписано собственной ЭЦП",
        );
    }

    // Footer on every page: verification address and page number.
    let pages = w.pages.len();
    let footer_kk = "Құжат электрондық цифрлық қолтаңбамен қол қойылған. Түпнұсқалығын тексеру:";
    let footer_ru = "Документ подписан электронной цифровой подписью. Проверка подлинности:";
    let [used_regular, used_bold] = &mut w.used;
    for i in 0..pages {
        let mut enc = Vec::new();
        let mut line = |c: &mut Content, face: Face, size: f32, y: f32, t: &str| {
            let (font, name, used): (&Font, &[u8], &mut Used) = match face {
                Face::Regular => (&fonts.regular, b"F1", &mut *used_regular),
                Face::Bold => (&fonts.bold, b"F2", &mut *used_bold),
            };
            font.encode(t, &mut enc, used);
            c.begin_text()
                .set_font(Name(name), size)
                .next_line(MARGIN, y)
                .show(Str(&enc))
                .end_text();
        };
        let c = &mut w.pages[i];
        c.set_line_width(0.5)
            .move_to(MARGIN, 58.0)
            .line_to(A4_WIDTH - MARGIN, 58.0)
            .stroke();
        line(c, Face::Regular, 7.5, 48.0, footer_kk);
        line(c, Face::Regular, 7.5, 39.0, footer_ru);
        line(c, Face::Bold, 8.0, 29.0, &url);
        let page_no = format!("{} / {}", i + 1, pages);
        let pw = fonts.regular.width(&page_no, 8.0);
        fonts.regular.encode(&page_no, &mut enc, used_regular);
        c.begin_text()
            .set_font(Name(b"F1"), 8.0)
            .next_line(A4_WIDTH - MARGIN - pw, 29.0)
            .show(Str(&enc))
            .end_text();
    }

    write_pdf(doc, &title.ru, w.pages, fonts, &w.used)
}

fn table_row(w: &mut Writer, face: Face, size: f32, widths: &[f32], cells: &[String]) {
    let pad = 3.0;
    let lead = size * 1.25;
    let font = w.font(face);
    let wrapped: Vec<Vec<String>> = widths
        .iter()
        .enumerate()
        .map(|(i, cw)| {
            let text = cells.get(i).map(String::as_str).unwrap_or("");
            wrap(font, text, size, cw - 2.0 * pad)
        })
        .collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let height = lines as f32 * lead + 2.0 * pad;
    w.need(height);
    let top = w.y;
    let mut x = MARGIN;
    for (i, cw) in widths.iter().enumerate() {
        w.page()
            .set_line_width(0.5)
            .rect(x, top - height, *cw, height)
            .stroke();
        if let Some(cell) = wrapped.get(i) {
            for (j, line) in cell.iter().enumerate() {
                let y = top - pad - (j as f32 + 1.0) * lead + size * 0.25;
                w.text_at(face, size, x + pad, y, line);
            }
        }
        x += cw;
    }
    w.y = top - height;
}

thread_local! {
    /// This thread's compressor, reset for each stream: a new one zeroes some 300 KiB of
    /// tables, fresh pages each time (under HTTP load the kernel's page clearing for them
    /// was 4 % of the server's CPU).
    static COMPRESSOR: std::cell::RefCell<Option<Box<CompressorOxide>>> =
        const { std::cell::RefCell::new(None) };
}

/// `data` as a zlib stream at the fastest level (as `miniz_oxide`'s
/// `compress_to_vec_zlib(data, 1)`), on this thread's compressor.
fn zlib_fastest(mut data: &[u8]) -> Result<Vec<u8>, Error> {
    COMPRESSOR.with_borrow_mut(|slot| {
        let c = slot.get_or_insert_with(Box::default);
        c.reset();
        c.set_format_and_level(DataFormat::Zlib, 1);
        let mut out = vec![0; (data.len() / 2).max(64)];
        let mut at = 0;
        loop {
            let (status, read, written) = compress(c, data, &mut out[at..], TDEFLFlush::Finish);
            at += written;
            match status {
                TDEFLStatus::Done => {
                    out.truncate(at);
                    return Ok(out);
                }
                TDEFLStatus::Okay if read <= data.len() => {
                    data = &data[read..];
                    if out.len() - at < 64 {
                        out.resize(out.len() * 2, 0);
                    }
                }
                other => return Err(Error::Render(format!("deflate: {other:?}"))),
            }
        }
    })
}

/// A font of a document: Type0, CIDFont, descriptor, program, ToUnicode, CIDToGIDMap.
fn write_font(pdf: &mut Pdf, font: &Font, used: &Used, first: i32) -> Result<(), Error> {
    let embedded = font.embed(used)?;
    let cid_to_gid = Ref::new(first + 5);
    let type0 = Ref::new(first);
    let cid = Ref::new(first + 1);
    let descriptor = Ref::new(first + 2);
    let program = Ref::new(first + 3);
    let cmap = Ref::new(first + 4);
    let name = Name(font.base_name.as_bytes());
    pdf.type0_font(type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut cid_font = pdf.cid_font(cid);
    cid_font
        .subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_stream(cid_to_gid);
    {
        let mut widths = cid_font.widths();
        for cid in used.cids() {
            if let Some(w) = font.widths.get(usize::from(cid)) {
                widths.consecutive(cid, [*w]);
            }
        }
    }
    cid_font.finish();
    pdf.stream(cid_to_gid, &embedded.cid_to_gid);
    let mut flags = FontFlags::NON_SYMBOLIC;
    if font.bold {
        flags |= FontFlags::FORCE_BOLD;
    }
    let [x0, y0, x1, y1] = font.bbox;
    pdf.font_descriptor(descriptor)
        .name(name)
        .flags(flags)
        .bbox(Rect::new(x0, y0, x1, y1))
        .italic_angle(0.0)
        .ascent(font.ascent)
        .descent(font.descent)
        .cap_height(font.cap_height)
        .stem_v(if font.bold { 140.0 } else { 80.0 })
        .font_file2(program);
    pdf.stream(program, &embedded.program)
        .pair(Name(b"Length1"), embedded.program.len() as i32);
    pdf.cmap(cmap, &embedded.to_unicode);
    Ok(())
}

fn write_pdf(
    doc: &Document,
    title_ru: &str,
    pages: Vec<Content>,
    fonts: &crate::font::Fonts,
    used: &[Used; 2],
) -> Result<Rendered, Error> {
    const ROOT: i32 = 1;
    const PAGES: i32 = 2;
    // A font is six objects (see `write_font`).
    const F1: i32 = 3;
    const F2: i32 = 9;
    const ANNOTS: i32 = 15;
    const ACROFORM: i32 = 16;
    const INFO: i32 = 17;
    const FIRST_PAGE: i32 = 18;
    let mut pdf = Pdf::with_capacity(64 * 1024);
    pdf.set_version(1, 7);
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(FIRST_PAGE + 2 * i))
        .collect();
    {
        let mut catalog = pdf.catalog(Ref::new(ROOT));
        catalog.pages(Ref::new(PAGES));
        catalog.pair(Name(b"AcroForm"), Ref::new(ACROFORM));
        catalog.pair(Name(b"Lang"), TextStr("kk-KZ"));
    }
    pdf.pages(Ref::new(PAGES))
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    for (i, content) in pages.into_iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, A4_WIDTH, A4_HEIGHT))
            .parent(Ref::new(PAGES))
            .contents(content_id);
        if i == 0 {
            page.pair(Name(b"Annots"), Ref::new(ANNOTS));
        }
        {
            let mut resources = page.resources();
            let mut f = resources.fonts();
            f.pair(Name(b"F1"), Ref::new(F1));
            f.pair(Name(b"F2"), Ref::new(F2));
        }
        page.finish();
        let raw = content.finish();
        // The fastest level: a talon is made at every intake, and the text compresses
        // nearly as well at it.
        let packed = zlib_fastest(raw.as_slice())?;
        pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
    }
    write_font(&mut pdf, &fonts.regular, &used[0], F1)?;
    write_font(&mut pdf, &fonts.bold, &used[1], F2)?;
    pdf.indirect(Ref::new(ANNOTS)).array();
    {
        let mut form = pdf.indirect(Ref::new(ACROFORM)).dict();
        form.insert(Name(b"Fields")).array();
    }
    let title = format!("{} № {}", title_ru, doc.number);
    pdf.document_info(Ref::new(INFO))
        .title(TextStr(&title))
        .producer(TextStr("DRN"))
        .subject(TextStr(doc.kind.code()));
    let size = FIRST_PAGE + 2 * page_ids.len() as i32;
    let bytes = pdf.finish();
    Ok(Rendered {
        bytes,
        layout: Layout {
            root: ROOT,
            first_page: FIRST_PAGE,
            annots: ANNOTS,
            acroform: ACROFORM,
            size,
            fields: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::{qr_modules, zlib_fastest};

    /// The thread's reused compressor gives streams that inflate to what went in: several
    /// in a row (each starts from a reset), empty, and incompressible data larger than the
    /// first output buffer (which then grows).
    #[test]
    fn reused_compressor_round_trips() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let text = "BT /F1 10 Tf 56.7 780 Td <0041004200430044> Tj ET\n".repeat(400);
        for data in [
            text.as_bytes(),
            &noise,
            b"",
            text.as_bytes(),
            &noise[..1000],
        ] {
            let packed = zlib_fastest(data).unwrap();
            let back = miniz_oxide::inflate::decompress_to_vec_zlib(&packed).unwrap();
            assert_eq!(back, data);
            assert_eq!(
                packed,
                miniz_oxide::deflate::compress_to_vec_zlib(data, 1),
                "the same bytes as a new compressor's"
            );
        }
    }

    /// The talon's QR code with its fixed mask is read back by an independent decoder
    /// (rqrr), for addresses as long as the verification page's.
    #[test]
    fn qr_codes_read_back() {
        for data in [
            "https://drn.example.kz/verify/3f2c1a9e-0d4b-4c3e-9f1a-2b6c7d8e9f00",
            "http://127.0.0.1:8080/verify/00000000-0000-4000-8000-000000000000",
            "x",
        ] {
            let (n, colors) = qr_modules(data).unwrap();
            assert_eq!(colors.len(), n * n);
            let (scale, quiet) = (4, 4);
            let side = (n + 2 * quiet) * scale;
            let mut img = rqrr::PreparedImage::prepare_from_bitmap(side, side, |x, y| {
                let (mx, my) = (x / scale, y / scale);
                (quiet..n + quiet).contains(&mx)
                    && (quiet..n + quiet).contains(&my)
                    && colors[(my - quiet) * n + (mx - quiet)] == qrcode::Color::Dark
            });
            let grids = img.detect_grids();
            assert_eq!(grids.len(), 1, "{data}");
            let (_, content) = grids[0].decode().unwrap();
            assert_eq!(content, data);
        }
    }
}
