//! The state duty (государственная пошлина / мемлекеттік баж) as data: the monthly
//! calculation index (месячный расчётный показатель, МРП / айлық есептік көрсеткіш, АЕК) by
//! year and the rate of each document in МРП, both read from `catalog/duty/kz.toml`, which an
//! administrator updates when the budget law sets a new year's МРП or the Tax Code changes a
//! rate (no rebuild; `drn catalog check` validates it).
//!
//! The amount is not in the seeds: seed 001 п. 3 step 14 names the Tax Code's article on
//! the exemption («статьей 622 … Налоговый кодекс») and step 15 the payment, not the amount.
//! The rate is the Tax Code's (Code of the Republic of Kazakhstan No 120-VI of 25.12.2017
//! «О налогах и других обязательных платежах в бюджет», the chapter on the state duty, the
//! article on the rates for issuing identity documents: an ID card 0.2 МРП,
//! `shared/domain/facts.md`); the МРП is set each year by the law on the republican budget.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Deserialize;

/// The state duty's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyTable {
    /// МРП in whole tenge by calendar year, with the law that set it.
    pub mrp: BTreeMap<i16, (u64, String)>,
    /// The rates, by document.
    pub rates: Vec<Rate>,
}

/// The rate of one document's duty, in hundredths of the МРП, from a day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// `id_card`, `passport`, …
    pub document: String,
    /// The rate in hundredths of the МРП (0.2 МРП = 20).
    pub mrp_hundredths: u64,
    pub from: Date,
    #[serde(default)]
    pub to: Option<Date>,
    /// Where the rate is set (the Tax Code's article).
    pub cite: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMrp {
    year: i16,
    tenge: u64,
    cite: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuty {
    #[serde(default)]
    mrp: Vec<RawMrp>,
    #[serde(default)]
    rate: Vec<Rate>,
}

/// A broken duty file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duty: {0}")]
pub struct DutyError(pub String);

impl DutyTable {
    /// Reads and checks the duty file: one МРП per year, positive amounts, a citation for
    /// each, no two rates of a document on one day.
    pub fn from_toml(text: &str) -> Result<DutyTable, DutyError> {
        let raw: RawDuty = toml::from_str(text).map_err(|e| DutyError(e.to_string()))?;
        let mut mrp = BTreeMap::new();
        for m in raw.mrp {
            if m.tenge == 0 || m.cite.trim().is_empty() {
                return Err(DutyError(format!(
                    "МРП of {}: an amount and its cite are required",
                    m.year
                )));
            }
            if mrp.insert(m.year, (m.tenge, m.cite)).is_some() {
                return Err(DutyError(format!("МРП of {} given twice", m.year)));
            }
        }
        for (i, r) in raw.rate.iter().enumerate() {
            if r.mrp_hundredths == 0 || r.cite.trim().is_empty() {
                return Err(DutyError(format!(
                    "rate of {}: an amount and its cite are required",
                    r.document
                )));
            }
            if r.to.is_some_and(|t| t < r.from) {
                return Err(DutyError(format!(
                    "rate of {}: ends before it starts",
                    r.document
                )));
            }
            let overlaps = raw.rate[..i].iter().any(|o| {
                o.document == r.document
                    && o.from <= r.to.unwrap_or(Date::MAX)
                    && r.from <= o.to.unwrap_or(Date::MAX)
            });
            if overlaps {
                return Err(DutyError(format!("rates of {} overlap", r.document)));
            }
        }
        Ok(DutyTable {
            mrp,
            rates: raw.rate,
        })
    }

    /// The МРП of `year`, when known.
    pub fn mrp(&self, year: i16) -> Option<u64> {
        self.mrp.get(&year).map(|(t, _)| *t)
    }

    /// The rate of `document` on `day`.
    pub fn rate(&self, document: &str, day: Date) -> Option<&Rate> {
        self.rates
            .iter()
            .find(|r| r.document == document && r.from <= day && r.to.is_none_or(|t| day <= t))
    }

    /// The duty for `document` on `day`: the rate times the year's МРП, rounded to whole
    /// tenge (half up), e.g. an ID card in 2025: 0.2 × 3 932 = 786.4 → 786 ₸.
    pub fn duty(&self, document: &str, day: Date) -> Option<u64> {
        let rate = self.rate(document, day)?;
        let mrp = self.mrp(day.year())?;
        Some((mrp * rate.mrp_hundredths + 50) / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const T: &str = r#"
[[mrp]]
year = 2024
tenge = 3692
cite = "law"
[[mrp]]
year = 2025
tenge = 3932
cite = "law"
[[rate]]
document = "id_card"
mrp_hundredths = 20
from = "2018-01-01"
cite = "Tax Code"
"#;

    #[test]
    fn duty_is_the_rate_times_the_years_mrp() {
        let t = DutyTable::from_toml(T).unwrap();
        assert_eq!(t.mrp(2025), Some(3932));
        assert_eq!(t.duty("id_card", date(2024, 3, 1)), Some(738));
        assert_eq!(t.duty("id_card", date(2025, 11, 20)), Some(786));
        assert_eq!(t.duty("id_card", date(2019, 1, 1)), None);
        assert_eq!(t.duty("passport", date(2025, 1, 1)), None);
    }

    #[test]
    fn a_broken_file_is_refused() {
        let twice = format!("{T}\n[[mrp]]\nyear = 2025\ntenge = 1\ncite = \"x\"\n");
        assert!(DutyTable::from_toml(&twice).is_err());
        let overlap = format!(
            "{T}\n[[rate]]\ndocument = \"id_card\"\nmrp_hundredths = 30\nfrom = \"2024-01-01\"\ncite = \"x\"\n"
        );
        assert!(DutyTable::from_toml(&overlap).is_err());
        assert!(DutyTable::from_toml("[[mrp]]\nyear = 2025\ntenge = 0\ncite = \"x\"\n").is_err());
    }
}
