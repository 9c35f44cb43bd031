//! Individual and business identification numbers (ИИН / ЖСН, БИН).
//!
//! Rules: Law No 223-III of 12.01.2007 "On national registers of identification numbers",
//! as summarised in `shared/domain/facts.md` (section IIN). Format and check digit are hard
//! checks; since government decree No 853 of 26.08.2013 a mismatch between the date or sex
//! the IIN encodes and the person's data is only a warning, except when a new IIN is formed.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Sex as the 7th digit of an IIN encodes it (odd: male, even: female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// Parses `M`/`F` (also `male`/`female`, any case).
    pub fn parse(s: &str) -> Result<Sex, IinError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "male" => Ok(Sex::Male),
            "f" | "female" => Ok(Sex::Female),
            _ => Err(IinError::BadSex(s.to_string())),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

/// Hard errors: a string with one of these is not an IIN (or BIN) at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IinError {
    #[error("must have 12 digits, has {0} characters")]
    Length(usize),
    #[error("must contain digits only")]
    NotDigits,
    #[error("check digit is {found}, expected {expected}")]
    CheckDigit { expected: u8, found: u8 },
    #[error("not issued: both check-digit sums give 10")]
    NotIssued,
    #[error("BIN type digit (5th) must be 4, 5 or 6, is {0}")]
    BinType(u8),
    #[error("BIN division digit (6th) must be 0 to 3, is {0}")]
    BinDivision(u8),
    #[error("BIN month of registration must be 01 to 12, is {0:02}")]
    BinMonth(u8),
    #[error("sex must be M or F, got {0:?}")]
    BadSex(String),
    #[error("a new IIN can only encode a birth date from 1800 to 2099, got {0}")]
    BirthOutOfRange(Date),
    #[error("no free serial number left for {birth} {sex:?}")]
    SerialsExhausted { birth: Date, sex: Sex },
}

/// Soft findings: the number is valid, but its encoded data is odd or differs from the
/// person's record (decree No 853 of 26.08.2013: not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IinWarning {
    #[error("7th digit {0} does not encode a century and sex (expected 1 to 6)")]
    CenturySex(u8),
    #[error("digits 1-6 do not form a calendar date")]
    NoDate,
    #[error("encoded birth date {encoded} differs from the person's {actual}")]
    BirthMismatch { encoded: Date, actual: Date },
    #[error("encoded sex {encoded:?} differs from the person's {actual:?}")]
    SexMismatch { encoded: Sex, actual: Sex },
}

const WEIGHTS_1: [u32; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const WEIGHTS_2: [u32; 11] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

/// Which weight set produced the check digit. Exposed because it decides when a one-digit
/// change can turn a valid number into another valid one (see the property tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightSet {
    First,
    Second,
}

/// The check digit of the first 11 digits, and the weight set that gave it;
/// `None` when both sums give 10 (such a number is never issued).
pub fn check_digit(first11: &[u8; 11]) -> Option<(u8, WeightSet)> {
    let sum = |w: &[u32; 11]| -> u32 {
        first11
            .iter()
            .zip(w)
            .map(|(d, w)| u32::from(*d) * w)
            .sum::<u32>()
            % 11
    };
    let s1 = sum(&WEIGHTS_1);
    if s1 != 10 {
        return Some((s1 as u8, WeightSet::First));
    }
    let s2 = sum(&WEIGHTS_2);
    if s2 != 10 {
        return Some((s2 as u8, WeightSet::Second));
    }
    None
}

fn parse_digits(s: &str) -> Result<[u8; 12], IinError> {
    let s = s.trim();
    let n = s.chars().count();
    if n != 12 {
        return Err(IinError::Length(n));
    }
    let mut d = [0u8; 12];
    for (slot, c) in d.iter_mut().zip(s.chars()) {
        *slot = c.to_digit(10).ok_or(IinError::NotDigits)? as u8;
    }
    Ok(d)
}

fn verify_check_digit(d: &[u8; 12]) -> Result<(), IinError> {
    let mut first = [0u8; 11];
    first.copy_from_slice(&d[..11]);
    match check_digit(&first) {
        None => Err(IinError::NotIssued),
        Some((c, _)) if c == d[11] => Ok(()),
        Some((c, _)) => Err(IinError::CheckDigit {
            expected: c,
            found: d[11],
        }),
    }
}

fn digits_to_string(d: &[u8; 12]) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// Individual identification number (ИИН, Kazakh ЖСН). Exists only with a valid format
/// and check digit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iin([u8; 12]);

impl Iin {
    /// Parses and validates format and check digit (the hard checks).
    pub fn parse(s: &str) -> Result<Iin, IinError> {
        let d = parse_digits(s)?;
        verify_check_digit(&d)?;
        Ok(Iin(d))
    }

    pub fn digits(&self) -> &[u8; 12] {
        &self.0
    }

    /// The 7th digit's century and sex, when it encodes one (1-6).
    fn century_sex(&self) -> Option<(i16, Sex)> {
        let c = self.0[6];
        let century = match c {
            1 | 2 => 1800,
            3 | 4 => 1900,
            5 | 6 => 2000,
            _ => return None,
        };
        let sex = if c % 2 == 1 { Sex::Male } else { Sex::Female };
        Some((century, sex))
    }

    /// The sex the number encodes, if its 7th digit is 1-6.
    pub fn encoded_sex(&self) -> Option<Sex> {
        self.century_sex().map(|(_, s)| s)
    }

    /// The birth date the number encodes, if digits 1-7 form one.
    pub fn encoded_birth(&self) -> Option<Date> {
        let (century, _) = self.century_sex()?;
        let two = |i: usize| i16::from(self.0[i]) * 10 + i16::from(self.0[i + 1]);
        let year = century + two(0);
        Date::new(year, two(2) as i8, two(4) as i8).ok()
    }

    /// Soft checks of the number alone: does it encode a century, sex and date.
    pub fn warnings(&self) -> Vec<IinWarning> {
        let mut w = Vec::new();
        if self.century_sex().is_none() {
            w.push(IinWarning::CenturySex(self.0[6]));
        } else if self.encoded_birth().is_none() {
            w.push(IinWarning::NoDate);
        }
        w
    }

    /// Soft checks against a person's record: a mismatch is a warning, not an error.
    pub fn check_person(&self, birth: Date, sex: Sex) -> Vec<IinWarning> {
        let mut w = self.warnings();
        if let Some(encoded) = self.encoded_birth() {
            if encoded != birth {
                w.push(IinWarning::BirthMismatch {
                    encoded,
                    actual: birth,
                });
            }
        }
        if let Some(encoded) = self.encoded_sex() {
            if encoded != sex {
                w.push(IinWarning::SexMismatch {
                    encoded,
                    actual: sex,
                });
            }
        }
        w
    }

    /// Digits 8-11, the serial number within one date of birth and sex.
    pub fn serial(&self) -> u16 {
        self.0[7..11]
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(*d))
    }

    /// Forms a new IIN for a date of birth and sex (seed 004: forming an IIN), with the
    /// lowest serial for which `taken` is false and a check digit exists. The result
    /// always validates and encodes its date and sex.
    pub fn form(birth: Date, sex: Sex, taken: impl Fn(u16) -> bool) -> Result<Iin, IinError> {
        let year = birth.year();
        let c7 = match (year, sex) {
            (1800..=1899, Sex::Male) => 1,
            (1800..=1899, Sex::Female) => 2,
            (1900..=1999, Sex::Male) => 3,
            (1900..=1999, Sex::Female) => 4,
            (2000..=2099, Sex::Male) => 5,
            (2000..=2099, Sex::Female) => 6,
            _ => return Err(IinError::BirthOutOfRange(birth)),
        };
        let yy = (year % 100) as u8;
        let mut first = [
            yy / 10,
            yy % 10,
            birth.month() as u8 / 10,
            birth.month() as u8 % 10,
            birth.day() as u8 / 10,
            birth.day() as u8 % 10,
            c7,
            0,
            0,
            0,
            0,
        ];
        // Serial 0000 is skipped: issued numbers start at 0001.
        for serial in 1u16..=9999 {
            if taken(serial) {
                continue;
            }
            first[7] = (serial / 1000) as u8;
            first[8] = (serial / 100 % 10) as u8;
            first[9] = (serial / 10 % 10) as u8;
            first[10] = (serial % 10) as u8;
            if let Some((c, _)) = check_digit(&first) {
                let mut d = [0u8; 12];
                d[..11].copy_from_slice(&first);
                d[11] = c;
                return Ok(Iin(d));
            }
        }
        Err(IinError::SerialsExhausted { birth, sex })
    }

    /// The first 7 digits (date and century/sex): all IINs formed for one birth date and
    /// sex share it, so storage looks up taken serials by this prefix.
    pub fn prefix_for(birth: Date, sex: Sex) -> Result<String, IinError> {
        let iin = Iin::form(birth, sex, |_| false)?;
        Ok(iin.to_string()[..7].to_string())
    }
}

impl fmt::Display for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&digits_to_string(&self.0))
    }
}

impl fmt::Debug for Iin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iin({self})")
    }
}

impl std::str::FromStr for Iin {
    type Err = IinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Iin::parse(s)
    }
}

impl utoipa::PartialSchema for Iin {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{12}$"))
            .description(Some(
                "Individual identification number (ИИН): 12 digits with a valid check digit",
            ))
            .examples(["871008401427"])
            .into()
    }
}

impl utoipa::ToSchema for Iin {}

impl Serialize for Iin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Iin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Iin::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Business identification number (БИН) of a legal entity: YYMM of registration, type
/// (4 resident, 5 non-resident, 6 joint individual entrepreneurship), division
/// (0 head office, 1 branch, 2 representative office, 3 peasant farm), 5-digit serial,
/// check digit by the IIN rule.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bin([u8; 12]);

impl Bin {
    pub fn parse(s: &str) -> Result<Bin, IinError> {
        let d = parse_digits(s)?;
        let month = d[2] * 10 + d[3];
        if !(1..=12).contains(&month) {
            return Err(IinError::BinMonth(month));
        }
        if !(4..=6).contains(&d[4]) {
            return Err(IinError::BinType(d[4]));
        }
        if d[5] > 3 {
            return Err(IinError::BinDivision(d[5]));
        }
        verify_check_digit(&d)?;
        Ok(Bin(d))
    }
}

impl fmt::Display for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&digits_to_string(&self.0))
    }
}

impl fmt::Debug for Bin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bin({self})")
    }
}

impl std::str::FromStr for Bin {
    type Err = IinError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Bin::parse(s)
    }
}

impl Serialize for Bin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Bin {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Bin::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn public_examples_from_facts_md() {
        for ok in [
            "871008401427",
            "760212350620",
            "800416300257",
            "680503450037",
        ] {
            assert!(Iin::parse(ok).is_ok(), "{ok} should be valid");
        }
        assert_eq!(Iin::parse("821214240092"), Err(IinError::NotIssued));
    }

    #[test]
    fn encoded_data_of_an_example() {
        let iin = Iin::parse("871008401427").unwrap();
        assert_eq!(iin.encoded_birth(), Some(jiff::civil::date(1987, 10, 8)));
        assert_eq!(iin.encoded_sex(), Some(Sex::Female));
        assert!(iin.warnings().is_empty());
    }

    #[test]
    fn hard_errors() {
        assert_eq!(Iin::parse("12345"), Err(IinError::Length(5)));
        assert_eq!(Iin::parse("87100840142a"), Err(IinError::NotDigits));
        assert_eq!(
            Iin::parse("871008401428"),
            Err(IinError::CheckDigit {
                expected: 7,
                found: 8
            })
        );
    }

    #[test]
    fn mismatch_is_a_warning() {
        let iin = Iin::parse("871008401427").unwrap();
        let w = iin.check_person(jiff::civil::date(1987, 10, 9), Sex::Male);
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn form_skips_taken_serials() {
        let birth = jiff::civil::date(1990, 5, 17);
        let a = Iin::form(birth, Sex::Male, |_| false).unwrap();
        let b = Iin::form(birth, Sex::Male, |s| s <= a.serial()).unwrap();
        assert!(b.serial() > a.serial());
        assert_eq!(
            Iin::form(birth, Sex::Male, |_| true),
            Err(IinError::SerialsExhausted {
                birth,
                sex: Sex::Male
            })
        );
    }

    #[test]
    fn bin_checks() {
        // Constructed: 1203 (March 2012), type 4, head office 0, serial 00012.
        let mut first = [1, 2, 0, 3, 4, 0, 0, 0, 0, 1, 2];
        let (c, _) = check_digit(&first).unwrap();
        let s: String = first
            .iter()
            .chain(std::iter::once(&c))
            .map(|d| char::from(b'0' + d))
            .collect();
        assert!(Bin::parse(&s).is_ok());
        first[4] = 7;
        let bad: String = first
            .iter()
            .chain(std::iter::once(&c))
            .map(|d| char::from(b'0' + d))
            .collect();
        assert_eq!(Bin::parse(&bad), Err(IinError::BinType(7)));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1800i16..=2099, 1i8..=12, 1i8..=31)
            .prop_filter_map("a real date", |(y, m, d)| Date::new(y, m, d).ok())
    }

    fn any_sex() -> impl Strategy<Value = Sex> {
        prop_oneof![Just(Sex::Male), Just(Sex::Female)]
    }

    fn weight_set(d: &[u8; 12]) -> Option<WeightSet> {
        let mut first = [0u8; 11];
        first.copy_from_slice(&d[..11]);
        check_digit(&first).map(|(_, w)| w)
    }

    proptest! {
        #[test]
        fn formed_iin_validates_and_encodes(birth in any_date(), sex in any_sex(), skip in 0u16..200) {
            let iin = Iin::form(birth, sex, |s| s <= skip).unwrap();
            prop_assert!(Iin::parse(&iin.to_string()).is_ok());
            prop_assert_eq!(iin.encoded_birth(), Some(birth));
            prop_assert_eq!(iin.encoded_sex(), Some(sex));
            prop_assert!(iin.serial() > skip);
            prop_assert!(iin.check_person(birth, sex).is_empty());
        }

        /// When one changed digit gives another valid number. With one weight set, a
        /// change of d at weight w shifts the sum by w*d mod 11, which is 0 only when
        /// w = 11: digit 11 in the first set, digit 9 in the second. So a valid number
        /// results exactly when (a) both numbers use the same set and the changed digit has
        /// weight 11 in it (then it always does: digits 9 and 11 are serial digits, so date
        /// and sex stay), or (b) the two numbers use different sets and the check values
        /// happen to agree. Changing the check digit alone never validates.
        #[test]
        fn one_digit_change(birth in any_date(), sex in any_sex(), pos in 0usize..12, delta in 1u8..10) {
            let iin = Iin::form(birth, sex, |_| false).unwrap();
            let mut d = *iin.digits();
            d[pos] = (d[pos] + delta) % 10;
            let changed = digits_to_string(&d);
            if let Ok(other) = Iin::parse(&changed) {
                prop_assert!(pos < 11, "changing the check digit alone never validates");
                let before = weight_set(iin.digits());
                let after = weight_set(other.digits());
                let blind = match before {
                    Some(WeightSet::First) => pos == 10,
                    Some(WeightSet::Second) => pos == 8,
                    None => false,
                };
                prop_assert!(before != after || blind, "both used {:?} at digit {}", before, pos + 1);
                if before == after {
                    prop_assert_eq!(other.encoded_birth(), iin.encoded_birth());
                    prop_assert_eq!(other.encoded_sex(), iin.encoded_sex());
                }
            } else if pos == 10 && weight_set(iin.digits()) == Some(WeightSet::First) {
                let mut first = [0u8; 11];
                first.copy_from_slice(&d[..11]);
                // (a) always holds unless the changed number's first sum became 10.
                prop_assert!(check_digit(&first).map(|(_, w)| w) != Some(WeightSet::First));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,14}") {
            let _ = Iin::parse(&s);
            let _ = Bin::parse(&s);
        }
    }
}
