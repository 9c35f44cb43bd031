//! The person's identity documents in their record (`persons.data_json` "documents", the
//! shape `demo::fill_person` loads: `kind`, `number`, `issued`, `expires`, `issuer`):
//! written by S1 and S1E (a passport or an ID card) and S2 (a temporary ID card) when their
//! result is issued. Issue 28: "a result goes into the person's record, and the previous
//! one is ended with a reference to the application" — the new document is added, and
//! every earlier document of the same kind still in force gets `ended` (the day of issue)
//! and `replaced_by` (the application's number). Ended documents stay in the record as
//! its history.

use drn_store::Value;
use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::json;

use crate::error::EngineError;
use crate::model::Application;
use crate::tx::Ctx;
use crate::Engine;

/// An ID card (удостоверение личности, жеке куәлік).
pub const ID_CARD: &str = "id_card";
/// A passport (паспорт).
pub const PASSPORT: &str = "passport";
/// A temporary ID card (временное удостоверение личности, уақытша жеке куәлік).
pub const TEMPORARY_ID: &str = "temporary_id";

/// The issuer written on what DRN issues (the demo's persons carry the same).
pub const ISSUER: &str = "МВД РК";

/// The person's document of `kind` in force in the record `data` (not ended; the newest
/// when several are).
pub fn current<'a>(data: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    data.get("documents")?
        .as_array()?
        .iter()
        .rev()
        .find(|d| d.get("kind").and_then(|k| k.as_str()) == Some(kind) && d.get("ended").is_none())
}

/// The expiry date of the person's ID card in force.
pub fn id_card_expiry(data: &serde_json::Value) -> Option<Date> {
    current(data, ID_CARD)?
        .get("expires")?
        .as_str()?
        .parse()
        .ok()
}

impl Engine {
    /// Puts `document` (an object with at least `kind` and `number`) into the record of
    /// the application's applicant and ends the earlier ones of its kind; returns what was
    /// recorded for the `issued` event (the document and the numbers it replaced). A
    /// person DRN has no record of gets none (nothing to update).
    pub(crate) async fn record_document(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        document: serde_json::Value,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let Some(mut d) = self.person_row(c, &app.applicant).await? else {
            return Ok(json!({ "document": document, "replaced": [] }));
        };
        let kind = document["kind"].clone();
        let today = now.to_zoned(self.tz.clone()).date().to_string();
        if !d.is_object() {
            d = json!({});
        }
        if !d["documents"].is_array() {
            d["documents"] = json!([]);
        }
        let mut replaced = Vec::new();
        if let Some(docs) = d["documents"].as_array_mut() {
            for old in docs
                .iter_mut()
                .filter(|o| o["kind"] == kind && o.get("ended").is_none())
            {
                old["ended"] = json!(today);
                old["replaced_by"] = json!(app.number);
                replaced.push(old["number"].clone());
            }
            docs.push(document.clone());
        }
        c.push(
            "UPDATE persons SET data_json = $1 WHERE iin = $2",
            vec![
                Value::json(d.to_string()),
                Value::from(app.applicant.as_str()),
            ],
        );
        Ok(json!({ "document": document, "replaced": replaced }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_in_force_is_the_newest_not_ended() {
        let d = json!({ "documents": [
            { "kind": "id_card", "number": "1", "expires": "2020-01-01", "ended": "2019-11-20" },
            { "kind": "passport", "number": "P", "expires": "2030-01-01" },
            { "kind": "id_card", "number": "2", "expires": "2029-11-19" },
        ]});
        assert_eq!(current(&d, ID_CARD).unwrap()["number"], "2");
        assert_eq!(id_card_expiry(&d), Some(jiff::civil::date(2029, 11, 19)));
        assert!(current(&d, TEMPORARY_ID).is_none());
        assert!(current(&json!({}), ID_CARD).is_none());
    }
}
