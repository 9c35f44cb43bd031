//! Seed 001 п. 3 step 10: the attached photo checked against the requirements for photos on
//! documents, and step 9's signature sample checked to be usable. No machine learning:
//! these are measurable properties of the image that a document photo must have, each with
//! a message the applicant can act on.
//!
//! Photo (all must hold; every failing check is reported):
//!
//! | code | check |
//! |------|-------|
//! | `format` | the file is JPEG (`FF D8 FF`) or PNG (`89 50 4E 47`) and decodes completely |
//! | `file_size` | [`MIN_BYTES`] ≤ size ≤ [`MAX_BYTES`] |
//! | `dimensions` | at least [`MIN_WIDTH`]×[`MIN_HEIGHT`], at most [`MAX_SIDE`] px a side |
//! | `aspect` | portrait, height / width within [`ASPECT`] (35×45 mm is 1.286, 3:4 is 1.333) |
//! | `background` | the border (the top 5 %, and the outer 5 % of each side down to 60 % of the height, above the shoulders) is light (mean luma ≥ [`BG_MIN_LUMA`]) and plain (luma standard deviation ≤ [`BG_MAX_STDDEV`]) |
//! | `face` | a subject is present and centred: the pixels that differ from the background colour by more than [`SUBJECT_DISTANCE`] cover [`SUBJECT_SHARE`] of the image, their centroid lies within the middle [`CENTRE_TOLERANCE`] of the width and within 30-70 % of the height, and the centre region (the middle half of the width, 25-75 % of the height) is not uniform (luma standard deviation ≥ [`CENTRE_MIN_STDDEV`]) |
//!
//! "One face present and centred" is approximated by the `face` check: one subject mass in
//! the centre of a plain light background. It does not tell a face from another object;
//! Digital-ID's match with ГБД ФЛ (step 11) and the regional officer's review (step 17)
//! do that.
//!
//! Signature sample: JPEG or PNG, at most [`MAX_SIGNATURE_BYTES`], at least 100×30 px and
//! landscape (width ≥ 1.5 × height), a
//! light background with dark ink covering 0.3 %-40 % of the pixels.

use drn_core::Text;
use image::{DynamicImage, GenericImageView, ImageFormat};
use serde::{Deserialize, Serialize};

pub const MIN_BYTES: usize = 1024;
pub const MAX_BYTES: usize = 160 * 1024;
pub const MIN_WIDTH: u32 = 300;
pub const MIN_HEIGHT: u32 = 385;
pub const MAX_SIDE: u32 = 2400;
/// Height / width.
pub const ASPECT: (f64, f64) = (1.25, 1.36);
pub const BG_MIN_LUMA: f64 = 170.0;
pub const BG_MAX_STDDEV: f64 = 18.0;
/// Euclidean RGB distance from the background's mean colour.
pub const SUBJECT_DISTANCE: f64 = 60.0;
/// Share of the image the subject covers.
pub const SUBJECT_SHARE: (f64, f64) = (0.12, 0.75);
/// The centroid's horizontal distance from the centre, as a share of the width.
pub const CENTRE_TOLERANCE: f64 = 0.12;
pub const CENTRE_MIN_STDDEV: f64 = 20.0;
pub const MAX_SIGNATURE_BYTES: usize = 48 * 1024;

/// One failed requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Issue {
    /// `format`, `file_size`, `dimensions`, `aspect`, `background`, `face`, `signature`.
    pub code: String,
    #[schema(value_type = Object)]
    pub message: Text,
}

fn issue(code: &str, kk: &str, ru: &str, en: &str) -> Issue {
    Issue {
        code: code.into(),
        message: Text::new(kk, ru, en),
    }
}

/// What the photo check measured, for the timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub format: String,
    pub bytes: usize,
    pub width: u32,
    pub height: u32,
    pub background_luma: f64,
    pub background_stddev: f64,
    pub subject_share: f64,
    pub centroid_x: f64,
    pub centroid_y: f64,
    pub centre_stddev: f64,
}

fn decode(bytes: &[u8]) -> Option<(DynamicImage, &'static str)> {
    let fmt = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (ImageFormat::Jpeg, "jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        (ImageFormat::Png, "png")
    } else {
        return None;
    };
    image::load_from_memory_with_format(bytes, fmt.0)
        .ok()
        .map(|i| (i, fmt.1))
}

fn luma(p: [u8; 3]) -> f64 {
    0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])
}

fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// Checks a photo; `Ok` with the measurements, or every failed requirement.
pub fn check_photo(bytes: &[u8]) -> Result<Measured, Vec<Issue>> {
    let mut issues = Vec::new();
    let mut m = Measured {
        bytes: bytes.len(),
        ..Measured::default()
    };
    if bytes.len() < MIN_BYTES || bytes.len() > MAX_BYTES {
        issues.push(issue(
            "file_size",
            "Фото файлының көлемі 1 КБ-тан 160 КБ-қа дейін болуы керек.",
            "Размер файла фото должен быть от 1 КБ до 160 КБ.",
            "The photo file must be between 1 KB and 160 KB.",
        ));
    }
    let Some((img, format)) = decode(bytes) else {
        issues.push(issue(
            "format",
            "Фото JPEG немесе PNG пішімінде болуы және ашылуы керек.",
            "Фото должно быть в формате JPEG или PNG и открываться без ошибок.",
            "The photo must be a JPEG or PNG file that opens without errors.",
        ));
        return Err(issues);
    };
    m.format = format.into();
    let (w, h) = img.dimensions();
    m.width = w;
    m.height = h;
    if w < MIN_WIDTH || h < MIN_HEIGHT || w > MAX_SIDE || h > MAX_SIDE {
        issues.push(issue(
            "dimensions",
            "Фотоның өлшемі кемінде 300×385 пиксель, әр жағы 2400 пиксельден аспауы керек.",
            "Размер фото: не менее 300×385 пикселей и не более 2400 пикселей по каждой стороне.",
            "The photo must be at least 300×385 pixels and at most 2400 pixels on each side.",
        ));
    }
    let aspect = f64::from(h) / f64::from(w.max(1));
    if !(ASPECT.0..=ASPECT.1).contains(&aspect) {
        issues.push(issue(
            "aspect",
            "Фото тік болуы керек, пропорциясы 35×45 мм (3:4).",
            "Фото должно быть вертикальным, в пропорции 35×45 мм (3:4).",
            "The photo must be portrait, in the 35×45 mm (3:4) proportion.",
        ));
    }
    if w < 20 || h < 20 {
        return Err(issues);
    }
    let rgb = img.to_rgb8();
    let bw = (w / 20).max(1);
    let bh = (h / 20).max(1);
    let mut border = Vec::new();
    let mut border_rgb = [0f64; 3];
    for (x, y, p) in rgb.enumerate_pixels() {
        // The top strip and the side strips above the shoulders (the bottom edge is the
        // subject's shoulders on a document photo).
        if y < bh || ((x < bw || x >= w - bw) && y < h * 3 / 5) {
            border.push(luma(p.0));
            for (acc, c) in border_rgb.iter_mut().zip(p.0) {
                *acc += f64::from(c);
            }
        }
    }
    let n = border.len().max(1) as f64;
    let bg = border_rgb.map(|c| c / n);
    let (bl, bs) = mean_std(&border);
    m.background_luma = bl;
    m.background_stddev = bs;
    if bl < BG_MIN_LUMA || bs > BG_MAX_STDDEV {
        issues.push(issue(
            "background",
            "Фон біркелкі және ашық түсті болуы керек.",
            "Фон должен быть однотонным и светлым.",
            "The background must be plain and light.",
        ));
    }
    let (mut count, mut sx, mut sy) = (0f64, 0f64, 0f64);
    let mut centre = Vec::new();
    for (x, y, p) in rgb.enumerate_pixels() {
        let d =
            p.0.iter()
                .zip(bg)
                .map(|(c, b)| (f64::from(*c) - b).powi(2))
                .sum::<f64>()
                .sqrt();
        if d > SUBJECT_DISTANCE {
            count += 1.0;
            sx += f64::from(x);
            sy += f64::from(y);
        }
        if x >= w / 4 && x < w - w / 4 && y >= h / 4 && y < h - h / 4 {
            centre.push(luma(p.0));
        }
    }
    let total = f64::from(w) * f64::from(h);
    m.subject_share = count / total;
    if count > 0.0 {
        m.centroid_x = sx / count / f64::from(w);
        m.centroid_y = sy / count / f64::from(h);
    }
    m.centre_stddev = mean_std(&centre).1;
    let present = (SUBJECT_SHARE.0..=SUBJECT_SHARE.1).contains(&m.subject_share)
        && m.centre_stddev >= CENTRE_MIN_STDDEV;
    let centred =
        (m.centroid_x - 0.5).abs() <= CENTRE_TOLERANCE && (0.3..=0.7).contains(&m.centroid_y);
    if !present || !centred {
        issues.push(issue(
            "face",
            "Фотода бір адамның беті кадрдың ортасында анық көрінуі керек.",
            "На фото должно быть одно лицо, чётко видимое и расположенное по центру кадра.",
            "The photo must show one face, clearly visible and centred in the frame.",
        ));
    }
    if issues.is_empty() {
        Ok(m)
    } else {
        Err(issues)
    }
}

/// Checks a signature sample (step 9).
pub fn check_signature(bytes: &[u8]) -> Result<(), Vec<Issue>> {
    let bad = || {
        vec![issue(
            "signature",
            "Қолтаңба үлгісі: ақ фондағы қара сия, JPEG немесе PNG, 48 КБ-тан аспайды, кемінде 100×30 пиксель.",
            "Образец подписи: тёмные чернила на светлом фоне, JPEG или PNG, не более 48 КБ, не менее 100×30 пикселей.",
            "Signature sample: dark ink on a light background, JPEG or PNG, at most 48 KB, at least 100×30 pixels.",
        )]
    };
    if bytes.is_empty() || bytes.len() > MAX_SIGNATURE_BYTES {
        return Err(bad());
    }
    let Some((img, _)) = decode(bytes) else {
        return Err(bad());
    };
    let (w, h) = img.dimensions();
    if w < 100 || h < 30 || w * 2 < h * 3 {
        return Err(bad());
    }
    let g = img.to_luma8();
    let dark = g.pixels().filter(|p| p.0[0] < 100).count() as f64;
    let share = dark / (f64::from(w) * f64::from(h));
    if (0.003..=0.4).contains(&share) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// A synthetic document photo (the demo's "use a sample photo", and the tests): a light
/// background, a face-like oval with shoulders, centred, `w`×`h` pixels, PNG.
/// `offset_x` moves the subject sideways (as a share of the width).
pub fn synthetic_photo(w: u32, h: u32, background: [u8; 3], offset_x: f64) -> Vec<u8> {
    let mut img = image::RgbImage::from_pixel(w, h, image::Rgb(background));
    let (fw, fh) = (f64::from(w), f64::from(h));
    let cx = fw * (0.5 + offset_x);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (xf, yf) = (f64::from(x), f64::from(y));
        // Head: an ellipse in the upper middle.
        let hx = (xf - cx) / (fw * 0.2);
        let hy = (yf - fh * 0.42) / (fh * 0.2);
        if hx * hx + hy * hy <= 1.0 {
            // Skin with darker eyes and mouth so the centre is not uniform.
            let eye = ((yf - fh * 0.38).abs() < fh * 0.02)
                && ((xf - (cx - fw * 0.07)).abs() < fw * 0.03
                    || (xf - (cx + fw * 0.07)).abs() < fw * 0.03);
            let mouth = (yf - fh * 0.52).abs() < fh * 0.012 && (xf - cx).abs() < fw * 0.06;
            *p = if eye || mouth {
                image::Rgb([60, 40, 35])
            } else {
                image::Rgb([205, 160, 130])
            };
            continue;
        }
        // Hair: a cap above the head.
        let ry = (yf - fh * 0.3) / (fh * 0.13);
        if hx.abs() <= 1.05 && ry * ry + hx * hx <= 1.0 && yf < fh * 0.32 {
            *p = image::Rgb([40, 30, 25]);
            continue;
        }
        // Shoulders: a dark jacket across the bottom.
        if yf > fh * 0.72 && (xf - cx).abs() < fw * 0.38 {
            *p = image::Rgb([35, 45, 70]);
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    if DynamicImage::ImageRgb8(img)
        .write_to(&mut out, ImageFormat::Png)
        .is_err()
    {
        return Vec::new();
    }
    out.into_inner()
}

/// A synthetic signature sample: a dark scribble on white, PNG.
pub fn synthetic_signature() -> Vec<u8> {
    let (w, h) = (240u32, 80u32);
    let mut img = image::GrayImage::from_pixel(w, h, image::Luma([255]));
    for x in 20..220u32 {
        let t = f64::from(x) / 12.0;
        let y = 40.0 + 18.0 * t.sin() * (1.0 - f64::from(x) / 260.0);
        for dy in -1i32..=1 {
            let yy = (y as i32 + dy).clamp(0, h as i32 - 1) as u32;
            img.put_pixel(x, yy, image::Luma([20]));
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    if DynamicImage::ImageLuma8(img)
        .write_to(&mut out, ImageFormat::Png)
        .is_err()
    {
        return Vec::new();
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(r: Result<Measured, Vec<Issue>>) -> Vec<String> {
        match r {
            Ok(_) => vec![],
            Err(v) => v.into_iter().map(|i| i.code).collect(),
        }
    }

    #[test]
    fn a_good_synthetic_photo_passes_and_bad_ones_fail_for_their_reason() {
        let good = synthetic_photo(360, 480, [245, 245, 245], 0.0);
        assert!(check_photo(&good).is_ok(), "{:?}", check_photo(&good));
        let jpeg = {
            let img = image::load_from_memory(&good).unwrap();
            let mut out = std::io::Cursor::new(Vec::new());
            img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
            out.into_inner()
        };
        assert!(check_photo(&jpeg).is_ok(), "{:?}", check_photo(&jpeg));
        assert_eq!(
            codes(check_photo(&synthetic_photo(
                480,
                480,
                [245, 245, 245],
                0.0
            ))),
            ["aspect"]
        );
        assert!(
            codes(check_photo(&synthetic_photo(360, 480, [40, 60, 150], 0.0)))
                .contains(&"background".to_string())
        );
        assert!(codes(check_photo(&synthetic_photo(
            360,
            480,
            [245, 245, 245],
            0.3
        )))
        .contains(&"face".to_string()));
        // A blank image: no subject.
        assert!(codes(check_photo(&synthetic_photo(
            360,
            480,
            [245, 245, 245],
            5.0
        )))
        .contains(&"face".to_string()));
        assert!(codes(check_photo(&synthetic_photo(
            150,
            200,
            [245, 245, 245],
            0.0
        )))
        .contains(&"dimensions".to_string()));
        assert!(codes(check_photo(b"GIF89a not a photo at all")).contains(&"format".to_string()));
        assert!(check_signature(&synthetic_signature()).is_ok());
        assert!(check_signature(&good).is_err());
    }
}
