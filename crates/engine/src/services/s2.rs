//! S2: temporary ID cards (временное удостоверение личности). The district's step writes
//! the journal of temporary ID cards (its form of completion), and the card is issued under
//! that entry.

use drn_core::catalog::StepHook;
use jiff::Timestamp;
use serde_json::json;

use super::print::{address_field, civil, f, journal_field, js, person_fields};
use super::ResultParts;
use super::{Ending, ServiceRules, StepDone};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use drn_docs::DocumentKind;

/// The service code.
pub const SERVICE: &str = "S2";

/// The journal of temporary ID cards.
pub const JOURNAL: &str = "temporary_id";

/// The rules of S2.
pub(crate) struct TemporaryId;

impl ServiceRules for TemporaryId {
    const HOOKS: &'static [StepHook] = &[StepHook::TemporaryIdJournal];

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::TemporaryIdCard)
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts {
            input,
            issued_on,
            out,
            ..
        } = parts;
        let p = e.person_line(&app.applicant).await?;
        out.extend(person_fields(&app.applicant, &p));
        if let Some(a) = &p.address {
            out.push(address_field(a.clone()));
        }
        if let Some(r) = js(input, "reason") {
            out.push(f("Беру негізі", "Основание выдачи", "Reason", r));
        }
        if let Some((n, _, _)) = e.journal_entry_of(&app.id, "temporary_id").await? {
            out.push(journal_field(&n));
        }
        out.push(issued_on);
        if let Some(u) = js(input, "valid_until") {
            out.push(f(
                "Жарамдылық мерзімі",
                "Действительно до",
                "Valid until",
                civil(&u),
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
        let number = e
            .write_journal(
                c,
                JOURNAL,
                app,
                &app.holder_unit.clone(),
                &app.applicant.clone(),
                json!({ "reason": app.data["input"].get("reason"), "valid_until": app.data["input"].get("valid_until") }),
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
        e.result_journal_entry(c, app, JOURNAL, &app.applicant, document, false, now)
            .await
    }
}
