//! Texts in the three languages every screen and message has.

use serde::{Deserialize, Serialize};

/// A language of the interface: Kazakh (state language), Russian, English.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Kk,
    #[default]
    Ru,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language`-like list
    /// (`kk-KZ,ru;q=0.8`); Russian when none is supported.
    pub fn negotiate(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut it = part.trim().split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next().unwrap_or("") {
                "kk" | "kz" => Lang::Kk,
                "ru" => Lang::Ru,
                "en" => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Kk => "kk",
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
}

/// A text in Kazakh, Russian and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub kk: String,
    pub ru: String,
    pub en: String,
}

impl Text {
    pub fn new(kk: impl Into<String>, ru: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            kk: kk.into(),
            ru: ru.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Kk => &self.kk,
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    /// True when one of the languages is missing.
    pub fn has_blank(&self) -> bool {
        self.kk.trim().is_empty() || self.ru.trim().is_empty() || self.en.trim().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_language() {
        assert_eq!(Lang::negotiate("kk-KZ,ru;q=0.8"), Lang::Kk);
        assert_eq!(Lang::negotiate("en;q=0.5, ru;q=0.9"), Lang::Ru);
        assert_eq!(Lang::negotiate("de, en;q=0.1"), Lang::En);
        assert_eq!(Lang::negotiate("fr"), Lang::Ru);
        assert_eq!(Lang::negotiate(""), Lang::Ru);
    }
}
