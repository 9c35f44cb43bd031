//! A service's intake data (the `data` of an intake, stored as the application's `input`)
//! as a typed struct of its module: parsed at the edge by [`IntakeData::parse`], with
//! unknown fields refused, and read back by the later steps through [`IntakeData::of`].
//!
//! The stored `input` stays the JSON the client sent, completed by the service's intake
//! (S3's address from the register, S5's subject, S9's foreigner): the struct is how the
//! engine reads it, not a new stored form, so applications stored before read the same.

use drn_core::{Bin, Iin};
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::EngineError;
use crate::model::Application;
use crate::{Reason, Refusal};

/// Fields any service's intake may carry, read by the generic intake ([`GenericIntake`])
/// rather than by the service. They are set aside before the service's struct is parsed.
pub(crate) const GENERIC_FIELDS: &[&str] = &["unit", FORMULARY_SIGNATURE];

/// The counter officer's ЭЦП certifying the electronic formulary at intake (seed 000,
/// annex 1 table 1 row 1: "заполнение электронного формуляра, фотографирование, заверение
/// ЭЦП"; issue 33): the server checks it and keeps it with the intake's data, in the
/// intake's own transaction.
pub const FORMULARY_SIGNATURE: &str = "formulary_signature";

/// What the generic intake reads of any service's intake data.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct GenericIntake {
    /// The unit a portal applicant chose to collect the result at (`Engine::accept_as`).
    #[serde(default, deserialize_with = "text")]
    pub unit: Option<String>,
}

impl GenericIntake {
    /// The generic fields of an intake's `data` (none when it is no object); the service's
    /// own fields are its struct's to check.
    pub fn of_data(data: &serde_json::Value) -> Result<Self, EngineError> {
        let Some(o) = data.as_object() else {
            return Ok(Self::default());
        };
        let generic = GENERIC_FIELDS
            .iter()
            .filter_map(|k| o.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect();
        deserialize(serde_json::Value::Object(generic))
    }
}

/// Deserializes intake data, naming the field of an error (`data.until`,
/// `data.foreigner.birth_date`; an unknown field, `data.untill`; a missing one by serde's
/// message only).
fn deserialize<T: DeserializeOwned>(data: serde_json::Value) -> Result<T, EngineError> {
    serde_path_to_error::deserialize(data).map_err(|e| {
        let reason = e.inner().to_string();
        let missing = reason
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next());
        let field = match (e.path().to_string(), missing) {
            (p, None) if p == "." => "data".to_string(),
            (p, None) => format!("data.{p}"),
            (p, Some(m)) if p == "." => format!("data.{m}"),
            (p, Some(m)) => format!("data.{p}.{m}"),
        };
        // A field's own parser says why as a kind (`FieldText`); serde's own messages
        // (a wrong type, an unknown field) are for a program and stay off kk/ru pages.
        match Refusal::in_message(&reason) {
            Some(r) => EngineError::invalid(field, r),
            None => EngineError::invalid(field, Reason::note(reason)),
        }
    })
}

/// A service's typed intake data.
pub(crate) trait IntakeData: DeserializeOwned {
    /// Parses the intake's `data` (an object): an unknown field or a value of the wrong
    /// kind is refused, naming it (`data.until`, `data.foreigner.birth_date`).
    fn parse(data: &serde_json::Value) -> Result<Self, EngineError> {
        let mut data = data.clone();
        if let Some(o) = data.as_object_mut() {
            for k in GENERIC_FIELDS {
                o.remove(*k);
            }
        }
        deserialize(data)
    }

    /// The intake data stored with an application (its `input`), as parsed at intake.
    fn of(app: &Application) -> Result<Self, EngineError> {
        let input = app.data.get("input").cloned().unwrap_or_default();
        Self::parse(&input).map_err(|e| {
            EngineError::Corrupt(format!(
                "application {}: its stored intake data do not parse: {e}",
                app.id
            ))
        })
    }
}

/// The intake of a service that reads no data of its own: only the generic fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoIntake {}

impl IntakeData for NoIntake {}

/// A value an intake field holds as text: trimmed, and a blank one counts as absent (the
/// workstation's forms send what was typed).
pub(crate) trait FieldText: Sized {
    fn from_text(s: &str) -> Result<Self, Refusal>;
}

/// The longest free text an intake field takes (a court decision, a zone, a document's
/// number): longer is not what the field asks for (issue 29: every text field bounded).
pub const MAX_FIELD_TEXT: usize = 300;

impl FieldText for String {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        if s.chars().count() > MAX_FIELD_TEXT {
            return Err(Refusal::TextTooLong);
        }
        Ok(s.to_string())
    }
}

impl FieldText for Date {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        s.parse().map_err(|_| Refusal::DateForm)
    }
}

impl FieldText for Iin {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        Iin::parse(s).map_err(|_| Refusal::IinForm)
    }
}

impl FieldText for Bin {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        Bin::parse(s).map_err(|_| Refusal::BinForm)
    }
}

/// `#[serde(default, deserialize_with = "text")]`: an optional field given as text.
pub(crate) fn text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FieldText,
{
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => T::from_text(s)
            .map(Some)
            .map_err(|r| serde::de::Error::custom(r.as_message())),
    }
}

/// The last day of a stay given at intake is a day after `today`, the day of the
/// application: a stay that has ended is none to register (S3's temporary registration,
/// S8's registration of a foreigner).
pub(crate) fn stay_ends_after_today(until: Date, today: Date) -> Result<(), EngineError> {
    if until <= today {
        return Err(EngineError::invalid(
            "data.until",
            Refusal::StayEndsAfterToday,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default, deserialize_with = "text")]
        until: Option<Date>,
        #[serde(default)]
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[serde(default, deserialize_with = "text")]
        name: Option<String>,
        #[allow(dead_code)]
        id: u32,
    }

    impl IntakeData for Sample {}

    fn field(e: EngineError) -> String {
        match e {
            EngineError::Invalid { field, .. } => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        let e = Sample::parse(&json!({ "untill": "2030-01-01" })).unwrap_err();
        assert_eq!(field(e), "data.untill");
        let e = Sample::parse(&json!({ "inner": { "nme": "x", "id": 1 } })).unwrap_err();
        assert_eq!(field(e), "data.inner.nme");
        let e = Sample::parse(&json!({ "until": "01.01.2030" })).unwrap_err();
        assert!(
            matches!(
                &e,
                EngineError::Invalid {
                    reason: Reason::Kind(Refusal::DateForm),
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.message(drn_core::Lang::Ru),
            "Неверное значение «Срок (до)»: дата в виде ГГГГ-ММ-ДД"
        );
        assert_eq!(field(e), "data.until");
        let e = Sample::parse(&json!({ "inner": { "name": 5, "id": 1 } })).unwrap_err();
        assert_eq!(field(e), "data.inner.name");
        let e = Sample::parse(&json!({ "inner": {} })).unwrap_err();
        assert_eq!(field(e), "data.inner.id");
    }

    #[test]
    fn blank_text_is_absent_and_the_generic_fields_are_set_aside() {
        let s = Sample::parse(
            &json!({ "until": " ", "unit": "C71-1", "inner": { "name": " a ", "id": 1 } }),
        )
        .unwrap();
        assert_eq!(s.until, None);
        assert_eq!(s.inner.unwrap().name.as_deref(), Some("a"));
        let s = Sample::parse(&json!({ "until": null })).unwrap();
        assert_eq!(s.until, None);
    }

    #[test]
    fn the_generic_intake_reads_the_unit_whatever_the_service() {
        let g = GenericIntake::of_data(&json!({ "unit": " C71-1 ", "kind": "x" })).unwrap();
        assert_eq!(g.unit.as_deref(), Some("C71-1"));
        assert_eq!(GenericIntake::of_data(&json!(null)).unwrap().unit, None);
        let e = GenericIntake::of_data(&json!({ "unit": 7 })).unwrap_err();
        assert_eq!(field(e), "data.unit");
    }
}
