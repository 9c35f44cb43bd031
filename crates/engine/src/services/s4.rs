//! S4: deregistration at the place of residence (снятие с регистрационного учёта) on the
//! grounds of the version in force, with the departure address sheet (адресный листок
//! убытия) in its journal.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::{text, FieldText, IntakeData};
use super::print::{dmy, f, ground_text, journal_field, js, person_fields, rka_field};
use super::ResultParts;
use super::{Intake, ServiceRules};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use drn_docs::DocumentKind;
use drn_store::Value;

/// The service code.
pub const SERVICE: &str = "S4";

/// The journal of departure address sheets.
pub const JOURNAL: &str = "departure_sheets";

/// A ground of deregistration (основание снятия с регистрационного учёта).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ground {
    /// Departure abroad for permanent residence.
    Abroad,
    /// A court decision on the dwelling owner's application.
    Court,
    /// A sentence of imprisonment (2014 only).
    Prison,
}

impl Ground {
    pub fn as_str(self) -> &'static str {
        match self {
            Ground::Abroad => "abroad",
            Ground::Court => "court",
            Ground::Prison => "prison",
        }
    }
}

impl FieldText for Ground {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        [Ground::Abroad, Ground::Court, Ground::Prison]
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or(Refusal::GroundForm)
    }
}

/// S4 grounds by version (2014 para 4 and 2018 para 4 as restated).
pub(crate) fn s4_grounds(version: &str) -> &'static [Ground] {
    match version {
        "2014" => &[Ground::Abroad, Ground::Court, Ground::Prison],
        _ => &[Ground::Abroad, Ground::Court],
    }
}

/// The intake data of S4.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S4Intake {
    /// The ground; required, and one of the version's.
    #[serde(default, deserialize_with = "text")]
    pub ground: Option<Ground>,
    /// The court decision (number and date), for the ground `court`.
    #[serde(default, deserialize_with = "text")]
    pub court_decision: Option<String>,
    /// Where the person leaves for (the departure sheet's destination).
    #[serde(default, deserialize_with = "text")]
    pub destination: Option<String>,
}

impl IntakeData for S4Intake {}

/// The rules of S4.
pub(crate) struct Deregistration;

impl ServiceRules for Deregistration {
    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::DepartureSheet)
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts {
            result,
            issued,
            out,
            ..
        } = parts;
        let input = S4Intake::of(app)?;
        let p = e.person_line(&app.applicant).await?;
        out.extend(person_fields(&app.applicant, &p));
        let entry = e.journal_entry_of(&app.id, "departure_sheets").await?;
        let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
        let from = js(&data, "from").or_else(|| js(result, "from"));
        let ended = e.registration_ended_by(&app.applicant, &app.number).await?;
        let rka = ended.as_ref().and_then(|r| r.1.clone());
        let from = match (from, &rka) {
            (Some(a), _) => Some(a),
            (None, Some(r)) => e.address_text(r).await?,
            _ => None,
        };
        out.push(f(
            "Тіркеуден шығарылған мекенжай",
            "Адрес, с которого снят с регистрации",
            "Deregistered from",
            from.unwrap_or_else(|| "—".into()),
        ));
        if let Some(r) = &rka {
            out.push(rka_field(r));
        }
        let ground = input
            .ground
            .map(|g| g.as_str().to_string())
            .or_else(|| js(result, "ground"));
        out.push(f(
            "Тіркеуден шығару негізі",
            "Основание снятия с регистрации",
            "Ground",
            ground.as_deref().map(ground_text).unwrap_or_default(),
        ));
        if let Some(c) = input.court_decision {
            out.push(f("Сот шешімі", "Решение суда", "Court decision", c));
        }
        if let Some(d) = input.destination {
            out.push(f("Кету орны", "Место убытия", "Destination", d));
        }
        out.push(f(
            "Тіркеуден шығарылған күні",
            "Дата снятия с регистрации",
            "Deregistered on",
            dmy(&e.tz, issued),
        ));
        if let Some((n, _, _)) = &entry {
            out.push(journal_field(n));
        }
        Ok(())
    }
    async fn intake(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let ver = at.version;
        let applicant = at.applicant;
        let input = S4Intake::parse(data)?;
        let ground = input
            .ground
            .ok_or_else(|| EngineError::invalid("data.ground", Refusal::GroundRequired))?;
        if !s4_grounds(&ver.id).contains(&ground) {
            return Err(EngineError::invalid(
                "data.ground",
                Refusal::GroundNotOfVersion,
            ));
        }
        if ground == Ground::Court && input.court_decision.is_none() {
            return Err(EngineError::invalid(
                "data.court_decision",
                Refusal::CourtDecisionRequired,
            ));
        }
        let open = e.open_permanent(c, applicant).await?;
        let legacy = e
            .person_row(c, applicant)
            .await?
            .and_then(|d| d.get("registration").cloned())
            .filter(|r| !r.is_null());
        if open.is_none() && legacy.is_none() {
            return Err(EngineError::invalid(
                "applicant",
                Refusal::NotRegisteredAtResidence,
            ));
        }
        Ok(())
    }

    fn sample_intake(&self) -> super::SampleIntake {
        super::SampleIntake {
            data: json!({ "ground": "abroad", "destination": "Germany" }),
            ends_registration: true,
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
        let input = S4Intake::of(app)?;
        let unit = app.holder_unit.clone();
        let ground = input.ground.map(Ground::as_str).unwrap_or_default();
        let ended = e
            .end_registrations(c, &app.applicant, app, now, true)
            .await?;
        let from = e
            .person_row(c, &app.applicant)
            .await?
            .and_then(|d| d["registration"]["address"].as_str().map(String::from));
        let number = e
            .write_journal(
                c,
                JOURNAL,
                app,
                &unit,
                &app.applicant,
                json!({ "ground": ground, "from": from, "destination": input.destination, "court_decision": input.court_decision, "document": document }),
                now,
            )
            .await?;
        if let Some(mut d) = e.person_row(c, &app.applicant).await? {
            if let Some(r) = d.get("registration").cloned() {
                d["registration"] = json!(null);
                d["deregistered"] = json!({ "from": r, "ground": ground, "sheet": number });
                c.push(
                    "UPDATE persons SET data_json = $1 WHERE iin = $2",
                    vec![
                        Value::json(d.to_string()),
                        Value::from(app.applicant.as_str()),
                    ],
                );
            }
        }
        Ok(
            json!({ "departure_sheet": number, "ground": ground, "from": from, "ended_registrations": ended }),
        )
    }
}
