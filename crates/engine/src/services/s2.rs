//! S2: temporary ID cards (временное удостоверение личности). The district's step writes
//! the journal of temporary ID cards (its form of completion), and the card is issued under
//! that entry.

use drn_core::catalog::StepHook;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::{text, IntakeData};
use super::journals::EntryIntake;
use super::person_documents::{ISSUER, TEMPORARY_ID};
use super::print::{address_field, day, f, journal_field, person_fields};
use super::ResultParts;
use super::{Ending, Intake, ServiceRules, StepDone};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use drn_docs::DocumentKind;

/// The service code.
pub const SERVICE: &str = "S2";

/// The journal of temporary ID cards.
pub const JOURNAL: &str = "temporary_id";

/// The intake data of S2.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S2Intake {
    /// Why the temporary card is issued (the passport lost, the ID card being made, …).
    #[serde(default, deserialize_with = "text")]
    pub reason: Option<String>,
    /// The last day the temporary card is valid, when the intake names it.
    #[serde(default, deserialize_with = "text")]
    pub valid_until: Option<Date>,
}

impl IntakeData for S2Intake {}

/// The rules of S2.
pub(crate) struct TemporaryId;

impl ServiceRules for TemporaryId {
    const HOOKS: &'static [StepHook] = &[StepHook::TemporaryIdJournal];

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::TemporaryIdCard)
    }

    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        S2Intake::parse(data).map(|_| ())
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts { issued_on, out, .. } = parts;
        let input = S2Intake::of(app)?;
        let p = e.person_line(&app.applicant).await?;
        out.extend(person_fields(&app.applicant, &p));
        if let Some(a) = &p.address {
            out.push(address_field(a.clone()));
        }
        if let Some(r) = input.reason {
            out.push(f("Беру негізі", "Основание выдачи", "Reason", r));
        }
        if let Some((n, _, _)) = e.journal_entry_of(&app.id, "temporary_id").await? {
            out.push(journal_field(&n));
        }
        out.push(issued_on);
        if let Some(u) = input.valid_until {
            out.push(f(
                "Жарамдылық мерзімі",
                "Действительно до",
                "Valid until",
                day(u),
            ));
        }
        Ok(())
    }

    async fn step_hook(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        app: &mut Application,
        done: &StepDone<'_>,
        hook: StepHook,
    ) -> Result<Option<Ending>, EngineError> {
        if hook != StepHook::TemporaryIdJournal {
            return Err(EngineError::Corrupt(format!("S2 runs no hook {hook:?}")));
        }
        // The form of completion of the district's step: the journal entry.
        let input = S2Intake::of(app)?;
        let number = e
            .write_journal(
                c,
                JOURNAL,
                app,
                &app.holder_unit.clone(),
                &app.applicant.clone(),
                json!({ "reason": input.reason, "valid_until": input.valid_until }),
                done.now,
            )
            .await?;
        app.data["journal"] = json!(number);
        Ok(None)
    }

    fn sample_intake(&self) -> super::SampleIntake {
        super::SampleIntake {
            data: json!({ "reason": "passport lost" }),
            ends_registration: false,
        }
    }

    async fn issued(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        _actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let none = EntryIntake::default();
        let mut out = e
            .result_journal_entry(c, app, JOURNAL, &app.applicant, none, document, false, now)
            .await?;
        // The card goes into the person's record (issue 28 item 3), under the number the
        // engine gave it and its journal entry; valid until the day the intake named (the
        // seeds set no term for it, so none is invented).
        let input = S2Intake::of(app)?;
        let card = json!({
            "kind": TEMPORARY_ID,
            "number": document,
            "issued": now.to_zoned(e.tz.clone()).date().to_string(),
            "valid_until": input.valid_until,
            "journal_entry": out["entry"],
            "issuer": ISSUER,
        });
        out["person_record"] = e.record_document(c, app, card, now).await?;
        Ok(out)
    }
}
