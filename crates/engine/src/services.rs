//! What the services other than passports do on their own terms, as hooks the generic
//! engine calls at fixed moments (intake, a step done, a check, the result issued), and the
//! registers they keep:
//!
//! * the address register (regions and districts by KATO, settlements, streets, buildings,
//!   premises, each with its registration code, РКА) and its search;
//! * S3 registration at the place of residence (permanent or temporary; a new permanent
//!   registration ends the previous one; 2018: "not established at a place of residence";
//!   through the portal a notice and a chip-rewrite task at the counter);
//! * S4 deregistration on the version's grounds, with the departure address sheet;
//! * S5 address certificate for an IIN or a BIN, checked against the register (a mismatch
//!   goes to the district, a detour step of the catalog);
//! * S2 the journal of temporary ID cards;
//! * S6, S7, S8 the check against special records and their journals;
//! * S9 IIN for foreigners: the written consent, the operator's check and the IIN formed
//!   unique in the database.

use drn_core::catalog::{Process, Step, UnitRole, Version};
use drn_core::{Bin, Channel, Iin, Sex, Urgency};
use drn_store::{next_counter, DbRow, Row, Statement, Value};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::commands::{Accept, Outcome};
use crate::error::EngineError;
use crate::model::*;
use crate::rows::{insert_event, load_application};
use crate::writer::{Ctx, Work};
use crate::Engine;

/// A foreigner's identity data, as in the passport (S6-S9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Foreigner {
    pub surname: String,
    pub given_name: String,
    #[schema(value_type = String, format = Date)]
    pub birth_date: Date,
    pub sex: Sex,
    /// ISO 3166 alpha-2 or alpha-3 code.
    pub citizenship: String,
    pub passport: String,
}

impl Foreigner {
    /// The foreigner's key while they have no IIN: citizenship and passport.
    pub fn key(&self) -> String {
        format!(
            "F:{}:{}",
            self.citizenship.trim().to_uppercase(),
            self.passport.trim().to_uppercase()
        )
    }

    fn validate(&self, field: &str) -> Result<(), EngineError> {
        let ok = |s: &str, max: usize| !s.trim().is_empty() && s.trim().chars().count() <= max;
        if !(ok(&self.surname, 100) && ok(&self.given_name, 100)) {
            return Err(EngineError::invalid(
                field,
                "surname and given name are required",
            ));
        }
        let c = self.citizenship.trim();
        if !(2..=3).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(EngineError::invalid(
                field,
                "citizenship is a 2- or 3-letter country code",
            ));
        }
        if c.eq_ignore_ascii_case("KZ") || c.eq_ignore_ascii_case("KAZ") {
            return Err(EngineError::invalid(
                field,
                "this service is for foreigners",
            ));
        }
        let p = self.passport.trim();
        if !(5..=20).contains(&p.len()) || !p.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            return Err(EngineError::invalid(
                field,
                "the passport number is 5 to 20 letters and digits",
            ));
        }
        Ok(())
    }
}

/// Intake of an application of a foreigner who has no IIN (S9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptForeigner {
    pub service: String,
    pub channel: Channel,
    pub urgency: Urgency,
    pub foreigner: Foreigner,
    #[serde(default)]
    pub documents_presented: Vec<usize>,
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// How a step's service check ended the application (S9: an error message).
#[derive(Debug, Clone)]
pub(crate) struct Ending {
    pub event: String,
    pub data: serde_json::Value,
}

/// An address of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    /// Registration code of the address (РКА).
    pub rka: String,
    /// settlement | street | building | premise
    pub kind: String,
    pub parent: Option<String>,
    /// KATO code of the district.
    pub kato: String,
    pub name: String,
    pub full: String,
    pub active: bool,
}

/// A person's registration at a place of residence or of stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub id: String,
    pub person: String,
    /// permanent | temporary | not_established
    pub kind: String,
    pub rka: Option<String>,
    pub address: Option<String>,
    pub application: Option<ApplicationId>,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub ended_by: Option<String>,
}

/// An entry of a service journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JournalEntry {
    pub journal: String,
    pub number: String,
    pub application: Option<ApplicationId>,
    pub service: String,
    pub unit: UnitId,
    pub subject: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A task waiting at a counter (the chip rewrite after a portal registration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CounterTask {
    pub id: String,
    pub kind: String,
    pub person: String,
    pub application: Option<ApplicationId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub done_at: Option<Timestamp>,
    pub done_by: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The journals the services keep.
pub const JOURNALS: &[(&str, &str)] = &[
    ("temporary_id", "S2"),
    ("chip_rewrite", "S3"),
    ("departure_sheets", "S4"),
    ("address_certificates", "S5"),
    ("border_passes", "S6"),
    ("invitations", "S7"),
    ("foreigner_registration", "S8"),
    ("iin_formed", "S9"),
];

/// A district of the address register to seed: its migration unit, KATO codes, names and
/// the settlement.
#[derive(Debug, Clone)]
pub struct DistrictAddresses {
    pub unit: UnitId,
    pub region_kato: String,
    pub region_name: String,
    pub kato: String,
    pub name: String,
    pub settlement: String,
}

/// S4 grounds by version (2014 para 4 and 2018 para 4 as restated).
fn s4_grounds(version: &str) -> &'static [&'static str] {
    match version {
        "2014" => &["abroad", "court", "prison"],
        _ => &["abroad", "court"],
    }
}

fn s(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

fn journal_of(service: &str) -> Option<&'static str> {
    JOURNALS
        .iter()
        .find(|(_, s)| *s == service)
        .map(|(j, _)| *j)
}

/// The steps whose completion needs a passed check first: S5's counter step 1 (address
/// data), the special-records step of S6, S7, S8 (the last step of their unit process).
fn check_kind(service: &str, p: &Process, step: &Step) -> Option<&'static str> {
    match service {
        "S5" if step.unit == UnitRole::Counter && step.n == 1 && p.channel == Channel::Counter => {
            Some("address_data")
        }
        "S6" | "S7" | "S8" if p.channel == Channel::Unit && p.next_after(step.n).is_none() => {
            Some("special_records")
        }
        _ => None,
    }
}

impl Engine {
    /// The check the application's current step needs before it is done: "address_data"
    /// (S5 at the counter) or "special_records" (S6-S8 at the unit); `None` when it needs none.
    pub fn check_needed(&self, app: &Application) -> Option<&'static str> {
        let (_, p) = self.locate(&app.service, &app.version, &app.process).ok()?;
        check_kind(&app.service, p, p.step(app.step)?)
    }
}

impl Engine {
    async fn person_row(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
    ) -> Result<Option<serde_json::Value>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT data_json FROM persons WHERE iin = $1",
                vec![Value::from(iin)],
            )
            .await?;
        r.map(|r| crate::rows::json(&r.try_get::<String, _>(0)?))
            .transpose()
    }

    async fn address_in(&self, c: &mut Ctx<'_>, rka: &str) -> Result<Option<Address>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka = $1",
                vec![Value::from(rka)],
            )
            .await?;
        r.as_ref().map(address_row).transpose()
    }

    /// The person's open permanent registration, with its address.
    async fn open_permanent(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
    ) -> Result<Option<(String, Option<String>)>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT id, rka FROM registrations WHERE person_iin = $1 AND kind = 'permanent' AND ended_at IS NULL ORDER BY valid_from DESC LIMIT 1",
                vec![Value::from(iin)],
            )
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    async fn journal_number(
        &self,
        c: &mut Ctx<'_>,
        journal: &str,
        unit: &UnitId,
        now: Timestamp,
    ) -> Result<String, EngineError> {
        let year = now.to_zoned(self.tz.clone()).year();
        let seq = c
            .next_counter(&format!("journal:{journal}:{unit}:{year}"))
            .await?;
        Ok(format!("{unit}-{year}-{}{seq:06}", journal_prefix(journal)))
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_journal(
        &self,
        c: &mut Ctx<'_>,
        journal: &str,
        app: &Application,
        unit: &UnitId,
        subject: &str,
        data: serde_json::Value,
        now: Timestamp,
    ) -> Result<String, EngineError> {
        let number = self.journal_number(c, journal, unit, now).await?;
        c.push(
            "INSERT INTO journal_entries (id, journal, number, application_id, service, unit_id, subject, at, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                Value::from(uuid::Uuid::now_v7().to_string()),
                Value::from(journal),
                Value::from(number.clone()),
                Value::from(app.id.as_str()),
                Value::from(app.service.as_str()),
                Value::from(unit.as_str()),
                Value::from(subject),
                Value::from(now.as_microsecond()),
                Value::from(data.to_string()),
            ],
        );
        Ok(number)
    }

    /// Checks and completes the intake data of a service (the `data` of the intake).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn service_intake(
        &self,
        c: &mut Ctx<'_>,
        _actor: &Actor,
        code: &str,
        ver: &Version,
        p: &Process,
        applicant: &str,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        if !data.is_object() {
            *data = json!({});
        }
        match code {
            "S3" => self.s3_intake(c, ver, p, applicant, data).await,
            "S4" => {
                let ground = s(data, "ground").ok_or_else(|| {
                    EngineError::invalid(
                        "data.ground",
                        format!(
                            "the ground of deregistration: one of {}",
                            s4_grounds(&ver.id).join(", ")
                        ),
                    )
                })?;
                if !s4_grounds(&ver.id).contains(&ground.as_str()) {
                    return Err(EngineError::invalid(
                        "data.ground",
                        format!(
                            "{ground:?} is not a ground of deregistration under the {} rules (grounds: {})",
                            ver.id,
                            s4_grounds(&ver.id).join(", ")
                        ),
                    ));
                }
                if ground == "court" && s(data, "court_decision").is_none() {
                    return Err(EngineError::invalid(
                        "data.court_decision",
                        "the court decision (number and date) on the dwelling owner's application",
                    ));
                }
                let open = self.open_permanent(c, applicant).await?;
                let legacy = self
                    .person_row(c, applicant)
                    .await?
                    .and_then(|d| d.get("registration").cloned())
                    .filter(|r| !r.is_null());
                if open.is_none() && legacy.is_none() {
                    return Err(EngineError::invalid(
                        "applicant",
                        "the person is not registered at a place of residence",
                    ));
                }
                Ok(())
            }
            "S5" => {
                match (s(data, "bin"), s(data, "iin")) {
                    (Some(b), _) => {
                        Bin::parse(&b)
                            .map_err(|e| EngineError::invalid("data.bin", e.to_string()))?;
                        if s(data, "rka").is_none() {
                            return Err(EngineError::invalid(
                                "data.rka",
                                "the legal entity's address (РКА) to certify",
                            ));
                        }
                    }
                    (None, Some(i)) => {
                        Iin::parse(&i)
                            .map_err(|e| EngineError::invalid("data.iin", e.to_string()))?;
                    }
                    (None, None) => {
                        data["iin"] = json!(applicant);
                    }
                }
                Ok(())
            }
            "S6" | "S7" | "S8" => {
                let f: Foreigner =
                    serde_json::from_value(data.get("foreigner").cloned().unwrap_or(json!(null)))
                        .map_err(|e| {
                        EngineError::invalid(
                            "data.foreigner",
                            format!("the foreigner's passport data: {e}"),
                        )
                    })?;
                f.validate("data.foreigner")?;
                if code == "S6" && s(data, "zone").is_none() {
                    return Err(EngineError::invalid(
                        "data.zone",
                        "the border zone (settlement or section) to enter",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn s3_intake(
        &self,
        c: &mut Ctx<'_>,
        ver: &Version,
        p: &Process,
        applicant: &str,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let kind = s(data, "kind").unwrap_or_else(|| "permanent".into());
        data["kind"] = json!(kind);
        match kind.as_str() {
            "permanent" | "temporary" => {}
            "not_established" if ver.id != "2014" => {
                // 2018 para 4: the status, in place of an address.
                if p.channel != Channel::Counter {
                    return Err(EngineError::invalid(
                        "data.kind",
                        "the status is given at a counter",
                    ));
                }
                return Ok(());
            }
            "not_established" => {
                return Err(EngineError::invalid(
                    "data.kind",
                    "the status \"not established at a place of residence\" exists from 2018",
                ))
            }
            _ => {
                return Err(EngineError::invalid(
                    "data.kind",
                    "permanent, temporary or not_established",
                ))
            }
        }
        let rka = s(data, "rka")
            .ok_or_else(|| EngineError::invalid("data.rka", "the address's code (РКА)"))?;
        let addr = self
            .address_in(c, &rka)
            .await?
            .filter(|a| a.active && matches!(a.kind.as_str(), "building" | "premise"))
            .ok_or_else(|| {
                EngineError::invalid(
                    "data.rka",
                    format!("{rka} is not an address of a dwelling in the register"),
                )
            })?;
        data["address"] = json!(addr.full);
        if kind == "temporary" {
            let until: Date = s(data, "until")
                .and_then(|u| u.parse().ok())
                .ok_or_else(|| {
                    EngineError::invalid("data.until", "the last day of the temporary stay")
                })?;
            let today = self.now().to_zoned(self.tz.clone()).date();
            if until <= today {
                return Err(EngineError::invalid("data.until", "a day after today"));
            }
        }
        let person = self
            .person_row(c, applicant)
            .await?
            .ok_or_else(|| EngineError::not_found("person", applicant))?;
        match p.channel {
            Channel::Portal | Channel::Mobile => {
                // 2014 para 6: the portal is for holders of an ID card with a chip.
                let today = self.now().to_zoned(self.tz.clone()).date();
                let chip = person
                    .get("documents")
                    .and_then(|d| d.as_array())
                    .is_some_and(|ds| {
                        ds.iter().any(|d| {
                            d.get("kind").and_then(|k| k.as_str()) == Some("id_card")
                                && d.get("expires")
                                    .and_then(|e| e.as_str())
                                    .and_then(|e| e.parse::<Date>().ok())
                                    .is_some_and(|e| e >= today)
                        })
                    });
                if !chip {
                    return Err(EngineError::forbidden(
                        "registration through the portal is for holders of a valid ID card with an electronic carrier: apply at a counter",
                    ));
                }
            }
            _ => {
                // Para 5: the dwelling owner's consent and ID card.
                let owner = s(data, "owner_iin").ok_or_else(|| {
                    EngineError::invalid("data.owner_iin", "the dwelling owner's IIN")
                })?;
                Iin::parse(&owner)
                    .map_err(|e| EngineError::invalid("data.owner_iin", e.to_string()))?;
                if owner != applicant {
                    if data.get("owner_consent").and_then(|v| v.as_bool()) != Some(true) {
                        return Err(EngineError::invalid(
                            "data.owner_consent",
                            "the dwelling owner's consent to the registration is required",
                        ));
                    }
                    if s(data, "owner_id_document").is_none() {
                        return Err(EngineError::invalid(
                            "data.owner_id_document",
                            "the number of the dwelling owner's ID card",
                        ));
                    }
                    if self.person_row(c, &owner).await?.is_none() {
                        return Err(EngineError::not_found("person", owner));
                    }
                }
            }
        }
        Ok(())
    }

    /// After intake: on the portal the citizen's own steps (sign in, fill in, sign) were
    /// done by the submission, and the portal's own last step gives the result at once.
    pub(crate) async fn service_after_accept(
        &self,
        c: &mut Ctx<'_>,
        o: Outcome,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let Outcome::Accepted { application } = o else {
            return Ok(o);
        };
        if !matches!(application.channel.as_str(), "portal" | "mobile")
            || !matches!(application.service.as_str(), "S3" | "S5")
        {
            return Ok(Outcome::Accepted { application });
        }
        let sys = Actor::system();
        let mut app = application;
        loop {
            let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
            let step = p
                .step(app.step)
                .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
            if !matches!(step.unit, UnitRole::Applicant | UnitRole::Portal) {
                break;
            }
            let o = if p.next_after(step.n).is_some() {
                self.complete_step(c, &sys, &app.id, app.revision, None, now)
                    .await?
            } else {
                let receiver =
                    Iin::parse(&app.applicant).map_err(|e| EngineError::Corrupt(e.to_string()))?;
                self.issue(c, &sys, &app.id, app.revision, &receiver, None, now)
                    .await?
            };
            let Outcome::Application { application } = o else {
                break;
            };
            app = application;
            if !app.status.is_open() {
                break;
            }
        }
        Ok(Outcome::Accepted { application: app })
    }

    /// Intake of a foreigner without an IIN (S9).
    pub(crate) async fn accept_foreigner(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        f: &AcceptForeigner,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        if f.service != "S9" {
            return Err(EngineError::invalid(
                "service",
                "only the IIN for foreigners (S9) is applied for without an IIN",
            ));
        }
        f.foreigner.validate("foreigner")?;
        // `applicant` is a placeholder of the right type: accept_as does not use it.
        let placeholder = Iin::form(f.foreigner.birth_date, f.foreigner.sex, |_| false)
            .map_err(|e| EngineError::invalid("foreigner.birth_date", e.to_string()))?;
        let mut data = if f.data.is_object() {
            f.data.clone()
        } else {
            json!({})
        };
        data["foreigner"] =
            serde_json::to_value(&f.foreigner).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let a = Accept {
            service: f.service.clone(),
            channel: f.channel,
            urgency: f.urgency,
            applicant: placeholder,
            documents_presented: f.documents_presented.clone(),
            missing: f.missing.clone(),
            data,
        };
        self.accept_as(c, actor, &a, Some(&f.foreigner.key()), now)
            .await
    }

    /// Called when a step is done (completed, or the last step by issuing). `Some` ends the
    /// application with that event (S9's error message).
    pub(crate) async fn service_step_done(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &mut Application,
        step: &Step,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Ending>, EngineError> {
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        if let Some(kind) = check_kind(&app.service, p, step) {
            let passed = self.last_check(c, app, step.n).await?;
            if passed != Some(true) {
                return Err(EngineError::forbidden(match (kind, passed) {
                    ("address_data", None) => "check the address data against the register first".to_string(),
                    ("address_data", _) => "the address data do not match the register: return the application to the district for correction, or refuse".to_string(),
                    (_, None) => "check against the special records first".to_string(),
                    _ => "the special records show a ground to refuse: refuse with a motivated refusal".to_string(),
                }));
            }
        }
        match app.service.as_str() {
            "S2" if step.unit == UnitRole::District && step.n == 2 => {
                // The form of completion of the district's step: the journal entry.
                let number = self
                    .write_journal(
                        c,
                        "temporary_id",
                        app,
                        &app.holder_unit.clone(),
                        &app.applicant.clone(),
                        json!({ "reason": app.data["input"].get("reason"), "valid_until": app.data["input"].get("valid_until") }),
                        now,
                    )
                    .await?;
                app.data["journal"] = json!(number);
            }
            "S5" if step.detour => {
                // The district corrects the address data: the note names the right РКА.
                let rka = note
                    .and_then(|n| n.split_whitespace().find(|w| self.looks_like_rka(w)))
                    .map(String::from)
                    .ok_or_else(|| {
                        EngineError::invalid(
                            "note",
                            "name the corrected address's registration code (РКА)",
                        )
                    })?;
                let addr = self
                    .address_in(c, &rka)
                    .await?
                    .filter(|a| a.active)
                    .ok_or_else(|| {
                        EngineError::invalid("note", format!("{rka} is not an active address"))
                    })?;
                let subject = s(&app.data["input"], "iin").unwrap_or_else(|| app.applicant.clone());
                if s(&app.data["input"], "bin").is_none() {
                    if let Some((id, _)) = self.open_permanent(c, &subject).await? {
                        c.push(
                            "UPDATE registrations SET rka = $1 WHERE id = $2",
                            vec![Value::from(rka.as_str()), Value::from(id)],
                        );
                    } else {
                        self.insert_registration(
                            c,
                            &subject,
                            "permanent",
                            Some(&rka),
                            app,
                            None,
                            now,
                            json!({ "corrected": true }),
                        )
                        .await?;
                    }
                    self.set_person_address(c, &subject, &addr, now).await?;
                }
                insert_event(
                    c,
                    &app.id,
                    "address_corrected",
                    Some(step.n),
                    &actor.id,
                    Some(&app.holder_unit),
                    now,
                    None,
                    &json!({ "rka": rka, "address": addr.full }),
                )
                .await?;
            }
            "S8" if step.unit == UnitRole::District
                && step.n == 2
                && p.channel == Channel::Unit =>
            {
                let f = app.data["input"]["foreigner"].clone();
                let number = self
                    .write_journal(
                        c,
                        "foreigner_registration",
                        app,
                        &app.holder_unit.clone(),
                        &foreigner_subject(&f),
                        json!({ "foreigner": f, "stamp": true, "until": app.data["input"].get("until") }),
                        now,
                    )
                    .await?;
                app.data["journal"] = json!(number);
            }
            "S9" if step.unit == UnitRole::Counter
                && step.n == 3
                && p.channel == Channel::Counter =>
            {
                // Para 9.3: the written consent; the note records the signed consent form.
                if note.map(str::trim).is_none_or(|n| n.len() < 3) {
                    return Err(EngineError::invalid(
                        "note",
                        "record the applicant's written consent (the signed form's number)",
                    ));
                }
                insert_event(
                    c,
                    &app.id,
                    "consent_obtained",
                    Some(step.n),
                    &actor.id,
                    Some(&app.holder_unit),
                    now,
                    None,
                    &json!({ "written_consent": note }),
                )
                .await?;
            }
            "S9" if step.unit == UnitRole::System => {
                return self.s9_form(c, app, now).await;
            }
            _ => {}
        }
        Ok(None)
    }

    fn looks_like_rka(&self, w: &str) -> bool {
        w.len() == 16 && w.chars().all(|c| c.is_ascii_digit())
    }

    /// Para 9.5 / 6.3: the operator's processing: an error message when the application does
    /// not match the applicant's data or the applicant already has an IIN; otherwise a new
    /// IIN, unique in the database.
    async fn s9_form(
        &self,
        c: &mut Ctx<'_>,
        app: &mut Application,
        now: Timestamp,
    ) -> Result<Option<Ending>, EngineError> {
        let f: Foreigner = serde_json::from_value(app.data["input"]["foreigner"].clone())
            .map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let fail = |reason: &str, ground: &str| {
            Ok(Some(Ending {
                event: "error_message".into(),
                data: json!({ "reason": reason, "ground": ground }),
            }))
        };
        // The questionnaire (migration card) the application must match.
        if let Some(q) = app.data["input"]
            .get("questionnaire")
            .filter(|q| q.is_object())
        {
            let same = |k: &str, v: &str| {
                q.get(k)
                    .and_then(|x| x.as_str())
                    .is_none_or(|x| x.trim().eq_ignore_ascii_case(v.trim()))
            };
            if !(same("surname", &f.surname)
                && same("given_name", &f.given_name)
                && same("birth_date", &f.birth_date.to_string())
                && same("passport", &f.passport))
            {
                return fail(
                    "the application does not match the applicant's questionnaire data",
                    "mismatch",
                );
            }
        }
        // A registration of the same passport with other data.
        let key = f.key();
        let reg = c
            .fetch_optional(
                "SELECT data_json FROM journal_entries WHERE journal = 'foreigner_registration' AND subject = $1 ORDER BY at DESC LIMIT 1",
                vec![Value::from(foreigner_subject(&json!(f)))],
            )
            .await?;
        if let Some(r) = reg {
            let d = crate::rows::json(&r.try_get::<String, _>(0)?)?;
            let g = &d["foreigner"];
            let ok = g["surname"]
                .as_str()
                .is_none_or(|x| x.eq_ignore_ascii_case(&f.surname))
                && g["birth_date"]
                    .as_str()
                    .is_none_or(|x| x == f.birth_date.to_string());
            if !ok {
                return fail(
                    "the application does not match the applicant's registered data",
                    "mismatch",
                );
            }
        }
        let had = c
            .fetch_optional(
                "SELECT number FROM journal_entries WHERE journal = 'iin_formed' AND subject = $1",
                vec![Value::from(key.as_str())],
            )
            .await?;
        let same_person = c
            .fetch_optional(
                "SELECT iin FROM persons WHERE surname = $1 AND given_name = $2 AND birth_date = $3 AND sex = $4 AND citizenship = $5",
                vec![
                    Value::from(f.surname.trim()),
                    Value::from(f.given_name.trim()),
                    Value::from(f.birth_date.to_string()),
                    Value::from(f.sex.code()),
                    Value::from(f.citizenship.trim().to_uppercase()),
                ],
            )
            .await?;
        if had.is_some() || same_person.is_some() {
            return fail("the applicant already has a registered IIN", "has_iin");
        }
        let iin = self.form_iin(c, &f, &app.id).await?;
        let number = self
            .write_journal(
                c,
                "iin_formed",
                app,
                &app.holder_unit.clone(),
                &key,
                json!({ "iin": iin.to_string(), "foreigner": f }),
                now,
            )
            .await?;
        c.push(
            "UPDATE applications SET applicant_iin = $1 WHERE id = $2",
            vec![Value::from(iin.to_string()), Value::from(app.id.as_str())],
        );
        app.applicant = iin.to_string();
        app.data["formed_iin"] = json!(iin.to_string());
        insert_event(
            c,
            &app.id,
            "iin_formed",
            Some(app.step),
            "system",
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "iin": iin.to_string(), "journal": number }),
        )
        .await?;
        Ok(None)
    }

    /// Forms a new IIN for the foreigner and writes their person record, under the lock of
    /// the (birth date, sex) prefix's counter row: concurrent forming waits for it and then
    /// sees the IINs formed before; the persons' primary key backs it.
    async fn form_iin(
        &self,
        c: &mut Ctx<'_>,
        f: &Foreigner,
        app: &ApplicationId,
    ) -> Result<Iin, EngineError> {
        let prefix = Iin::prefix_for(f.birth_date, f.sex)
            .map_err(|e| EngineError::invalid("foreigner.birth_date", e.to_string()))?;
        let lock = format!("iin:{prefix}");
        c.push(
            "INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING",
            vec![Value::from(lock.clone())],
        );
        c.push(
            "UPDATE counters SET value = value + 1 WHERE name = $1",
            vec![Value::from(lock)],
        );
        let rows = c
            .fetch_all(
                "SELECT iin FROM persons WHERE iin LIKE $1",
                vec![Value::from(format!("{prefix}%"))],
            )
            .await?;
        let mut taken = std::collections::HashSet::new();
        for r in rows {
            let s: String = r.try_get(0)?;
            if let Ok(i) = Iin::parse(&s) {
                taken.insert(i.serial());
            }
        }
        let iin = Iin::form(f.birth_date, f.sex, |s| taken.contains(&s))
            .map_err(|e| EngineError::invalid("foreigner", e.to_string()))?;
        c.push(
            "INSERT INTO persons (iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
            vec![
                Value::from(iin.to_string()),
                Value::from(f.surname.trim().to_string()),
                Value::from(f.given_name.trim().to_string()),
                Value::from(f.birth_date.to_string()),
                Value::from(f.sex.code()),
                Value::from(f.citizenship.trim().to_uppercase()),
                Value::from(json!({ "passport": f.passport.trim().to_uppercase(), "iin_application": app }).to_string()),
            ],
        );
        Ok(iin)
    }

    /// The outcome of the last check recorded at this step: `Some(true)` passed.
    async fn last_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        step: u32,
    ) -> Result<Option<bool>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT data_json FROM events WHERE application_id = $1 AND kind = 'checked' AND step = $2 AND at >= $3 ORDER BY seq DESC LIMIT 1",
                vec![
                    Value::from(app.id.as_str()),
                    Value::from(i64::from(step)),
                    Value::from(app.step_entered_at.as_microsecond()),
                ],
            )
            .await?;
        r.map(|r| {
            let d = crate::rows::json(&r.try_get::<String, _>(0)?)?;
            Ok(d["passed"].as_bool().unwrap_or(false))
        })
        .transpose()
    }

    /// The `check` command: the service's check at the current step, recorded as an event.
    pub(crate) async fn check(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let mut app = load_application(c, id).await?;
        Self::check_open(&app, revision)?;
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        let step = p
            .step(app.step)
            .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
        self.check_actor_at_step(actor, &app, step)?;
        let kind = check_kind(&app.service, p, step)
            .ok_or_else(|| EngineError::invalid("step", format!("step {} has no check", step.n)))?;
        let detail = match kind {
            "address_data" => self.s5_check(c, &app).await?,
            _ => self.special_records_check(c, &app).await?,
        };
        insert_event(
            c,
            &app.id,
            "checked",
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "check": kind, "passed": detail.0, "detail": detail.1 }),
        )
        .await?;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    /// S5: does the subject's address match the register.
    async fn s5_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        let input = &app.data["input"];
        if let Some(bin) = s(input, "bin") {
            let rka = s(input, "rka").unwrap_or_default();
            return Ok(match self.address_in(c, &rka).await?.filter(|a| a.active) {
                Some(a) => (true, json!({ "bin": bin, "rka": rka, "address": a.full })),
                None => (
                    false,
                    json!({ "bin": bin, "rka": rka, "mismatch": "the address is not in the register" }),
                ),
            });
        }
        let iin = s(input, "iin").unwrap_or_else(|| app.applicant.clone());
        if let Some((_, Some(rka))) = self.open_permanent(c, &iin).await? {
            if let Some(a) = self.address_in(c, &rka).await?.filter(|a| a.active) {
                return Ok((true, json!({ "iin": iin, "rka": rka, "address": a.full })));
            }
        }
        Ok((
            false,
            json!({ "iin": iin, "mismatch": "the person's registered address has no valid code in the address register" }),
        ))
    }

    /// S6-S8: the subject against the special records.
    async fn special_records_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        let f = &app.data["input"]["foreigner"];
        let passport = f["passport"].as_str().unwrap_or("").trim().to_uppercase();
        let hit = c
            .fetch_optional(
                "SELECT reason FROM special_records WHERE subject = $1 OR subject = $2 LIMIT 1",
                vec![
                    Value::from(passport.as_str()),
                    Value::from(app.applicant.as_str()),
                ],
            )
            .await?;
        Ok(match hit {
            Some(r) => (
                false,
                json!({ "found": true, "reason": r.try_get::<String, _>(0)? }),
            ),
            None => (true, json!({ "found": false })),
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn insert_registration(
        &self,
        c: &mut Ctx<'_>,
        person: &str,
        kind: &str,
        rka: Option<&str>,
        app: &Application,
        valid_to: Option<Timestamp>,
        now: Timestamp,
        data: serde_json::Value,
    ) -> Result<String, EngineError> {
        let id = uuid::Uuid::now_v7().to_string();
        c.push(
            "INSERT INTO registrations (id, person_iin, kind, rka, application_id, owner_iin, valid_from, valid_to, ended_at, ended_by, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)",
            vec![
                Value::from(id.clone()),
                Value::from(person),
                Value::from(kind),
                Value::from(rka.map(String::from)),
                Value::from(app.id.as_str()),
                Value::from(s(&app.data["input"], "owner_iin")),
                Value::from(now.as_microsecond()),
                Value::from(valid_to.map(|t| t.as_microsecond())),
                Value::from(data.to_string()),
            ],
        );
        Ok(id)
    }

    /// Keeps the person record's registration (what the screens show) in step.
    async fn set_person_address(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
        addr: &Address,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let Some(mut d) = self.person_row(c, iin).await? else {
            return Ok(());
        };
        let district = c
            .fetch_optional(
                "SELECT unit_id, parent_kato FROM ar_ate WHERE kato = $1",
                vec![Value::from(addr.kato.as_str())],
            )
            .await?;
        let (unit, region) = match district {
            Some(r) => (
                r.try_get::<Option<String>, _>(0)?,
                r.try_get::<Option<String>, _>(1)?
                    .map(|k| k.chars().take(2).collect::<String>()),
            ),
            None => (None, None),
        };
        if !d.is_object() {
            d = json!({});
        }
        d["registration"] = json!({
            "region": region,
            "district": unit,
            "address": addr.full,
            "rka": addr.rka,
            "since": now.to_zoned(self.tz.clone()).date().to_string(),
        });
        c.push(
            "UPDATE persons SET data_json = $1 WHERE iin = $2",
            vec![Value::from(d.to_string()), Value::from(iin)],
        );
        Ok(())
    }

    /// Writes what the result of a service is, when it is issued; returns its details for
    /// the `issued` event.
    pub(crate) async fn service_issued(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let input = app.data["input"].clone();
        let unit = app.holder_unit.clone();
        Ok(match app.service.as_str() {
            "S3" => self.s3_register(c, app, &input, now).await?,
            "S4" => {
                let ground = s(&input, "ground").unwrap_or_default();
                let ended = self
                    .end_registrations(c, &app.applicant, app, now, true)
                    .await?;
                let from = self
                    .person_row(c, &app.applicant)
                    .await?
                    .and_then(|d| d["registration"]["address"].as_str().map(String::from));
                let number = self
                    .write_journal(
                        c,
                        "departure_sheets",
                        app,
                        &unit,
                        &app.applicant,
                        json!({ "ground": ground, "from": from, "destination": input.get("destination"), "court_decision": input.get("court_decision"), "document": document }),
                        now,
                    )
                    .await?;
                if let Some(mut d) = self.person_row(c, &app.applicant).await? {
                    if let Some(r) = d.get("registration").cloned() {
                        d["registration"] = json!(null);
                        d["deregistered"] = json!({ "from": r, "ground": ground, "sheet": number });
                        c.push(
                            "UPDATE persons SET data_json = $1 WHERE iin = $2",
                            vec![
                                Value::from(d.to_string()),
                                Value::from(app.applicant.as_str()),
                            ],
                        );
                    }
                }
                json!({ "departure_sheet": number, "ground": ground, "from": from, "ended_registrations": ended })
            }
            "S5" => {
                let (passed, detail) = self.s5_check(c, app).await?;
                if !passed {
                    return Err(EngineError::forbidden(
                        "the address data do not match the register: the certificate cannot be issued",
                    ));
                }
                let checked = json!({ "detail": detail });
                let subject = s(&input, "bin")
                    .or_else(|| s(&input, "iin"))
                    .unwrap_or_else(|| app.applicant.clone());
                // Para 4 (2014): signed by both authorities.
                let certificate = json!({
                    "subject": subject,
                    "address": checked["detail"]["address"],
                    "rka": checked["detail"]["rka"],
                    "signatures": ["MVD", "MoJ"],
                    "document": document,
                });
                let number = self
                    .write_journal(
                        c,
                        "address_certificates",
                        app,
                        &unit,
                        &subject,
                        certificate.clone(),
                        now,
                    )
                    .await?;
                json!({ "certificate": number, "content": certificate })
            }
            "S2" | "S6" | "S7" | "S8" | "S9" => {
                let journal = journal_of(&app.service).unwrap_or("results");
                let subject = match app.service.as_str() {
                    "S2" | "S9" => app.applicant.clone(),
                    _ => foreigner_subject(&input["foreigner"]),
                };
                // S2, S8 and S9 wrote theirs when the journal's step was done.
                let already = c
                    .fetch_optional(
                        "SELECT number FROM journal_entries WHERE application_id = $1 AND journal = $2",
                        vec![Value::from(app.id.as_str()), Value::from(journal)],
                    )
                    .await?
                    .map(|r| r.try_get::<String, _>(0))
                    .transpose()?;
                let number = match already {
                    Some(n) => n,
                    None => {
                        self.write_journal(
                            c,
                            journal,
                            app,
                            &unit,
                            &subject,
                            json!({ "foreigner": input.get("foreigner"), "zone": input.get("zone"), "document": document, "e_signed_insert": app.service == "S8" && app.process == "portal" }),
                            now,
                        )
                        .await?
                    }
                };
                let mut out = json!({ "journal": journal, "entry": number });
                if app.service == "S8" && app.process == "portal" {
                    out["insert"] =
                        json!({ "signed_by": actor.id, "electronic": true, "document": document });
                }
                if app.service == "S9" {
                    out["iin"] = json!(app.applicant);
                }
                out
            }
            _ => json!(null),
        })
    }

    /// Ends a person's open registrations (permanent and the 2018 status; `all` also
    /// temporary ones); returns how many.
    async fn end_registrations(
        &self,
        c: &mut Ctx<'_>,
        person: &str,
        app: &Application,
        now: Timestamp,
        all: bool,
    ) -> Result<i64, EngineError> {
        let kinds = if all {
            "('permanent', 'temporary', 'not_established')"
        } else {
            "('permanent', 'not_established')"
        };
        let n = c
            .execute_counted(Statement::new(
                format!("UPDATE registrations SET ended_at = $1, ended_by = $2 WHERE person_iin = $3 AND ended_at IS NULL AND kind IN {kinds}"),
                vec![
                    Value::from(now.as_microsecond()),
                    Value::from(format!("application:{}", app.number)),
                    Value::from(person.to_string()),
                ],
            ))
            .await?;
        Ok(n as i64)
    }

    async fn s3_register(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        input: &serde_json::Value,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let kind = s(input, "kind").unwrap_or_else(|| "permanent".into());
        let person = app.applicant.clone();
        if kind == "not_established" {
            let ended = self.end_registrations(c, &person, app, now, false).await?;
            let id = self
                .insert_registration(
                    c,
                    &person,
                    "not_established",
                    None,
                    app,
                    None,
                    now,
                    json!({}),
                )
                .await?;
            return Ok(json!({ "registration": id, "kind": kind, "ended_previous": ended }));
        }
        let rka = s(input, "rka").unwrap_or_default();
        let addr = self.address_in(c, &rka).await?.ok_or_else(|| {
            EngineError::invalid("data.rka", format!("{rka} is not in the register"))
        })?;
        let (ended, valid_to) = if kind == "permanent" {
            // Para 4: registration at a new place ends the previous one automatically.
            (
                self.end_registrations(c, &person, app, now, false).await?,
                None,
            )
        } else {
            let until: Option<Date> = s(input, "until").and_then(|u| u.parse().ok());
            let to = until
                .and_then(|d| d.to_zoned(self.tz.clone()).ok())
                .map(|z| z.timestamp());
            (0, to)
        };
        let id = self
            .insert_registration(
                c,
                &person,
                &kind,
                Some(&rka),
                app,
                valid_to,
                now,
                json!({ "address": addr.full }),
            )
            .await?;
        if kind == "permanent" {
            self.set_person_address(c, &person, &addr, now).await?;
        }
        let mut out = json!({ "registration": id, "kind": kind, "rka": rka, "address": addr.full, "ended_previous": ended });
        if app.channel == "portal" || app.channel == "mobile" {
            // 2014 para 4: the notice in the personal cabinet, and the chip rewrite waits
            // for the citizen at a counter.
            let task = uuid::Uuid::now_v7().to_string();
            c.push(
                "INSERT INTO counter_tasks (id, kind, person_iin, application_id, created_at, done_at, done_by, data_json) VALUES ($1, 'chip_rewrite', $2, $3, $4, NULL, NULL, $5)",
                vec![
                    Value::from(task.clone()),
                    Value::from(person.as_str()),
                    Value::from(app.id.as_str()),
                    Value::from(now.as_microsecond()),
                    Value::from(json!({ "rka": rka, "address": addr.full }).to_string()),
                ],
            );
            out["notice"] = json!({
                "kk": "Сіз тұрғылықты жері бойынша тіркелдіңіз. Жеке куәліктің электрондық жеткізгішіне заңды мекенжайды қайта жазу үшін Орталыққа келіңіз.",
                "ru": "Вы зарегистрированы по месту жительства. Явитесь в ЦОН для перезаписи юридического адреса в удостоверении личности с электронным носителем.",
                "en": "You are registered at the place of residence. Come to a Public Service Centre to have the legal address rewritten on the chip of your ID card.",
            });
            out["chip_rewrite_task"] = json!(task);
        } else {
            out["chip_rewritten"] = json!(true);
        }
        Ok(out)
    }
}

fn journal_prefix(journal: &str) -> &'static str {
    match journal {
        "temporary_id" => "TID",
        "chip_rewrite" => "CHIP",
        "departure_sheets" => "ALU",
        "address_certificates" => "AS",
        "border_passes" => "BZP",
        "invitations" => "INV",
        "foreigner_registration" => "FR",
        "iin_formed" => "IIN",
        _ => "J",
    }
}

fn foreigner_subject(f: &serde_json::Value) -> String {
    format!(
        "F:{}:{}",
        f["citizenship"]
            .as_str()
            .unwrap_or("")
            .trim()
            .to_uppercase(),
        f["passport"].as_str().unwrap_or("").trim().to_uppercase()
    )
}

fn address_row(r: &DbRow) -> Result<Address, EngineError> {
    Ok(Address {
        rka: r.try_get(0)?,
        kind: r.try_get(1)?,
        parent: r.try_get(2)?,
        kato: r.try_get(3)?,
        name: r.try_get(4)?,
        full: r.try_get(5)?,
        active: r.try_get::<i64, _>(6)? != 0,
    })
}

fn is_staff(role: Role) -> bool {
    !matches!(role, Role::Citizen | Role::System)
}

/// Reads of the registers.
impl Engine {
    /// Searches the address register by words of the address (all must occur), or by a
    /// code (РКА) prefix. Counter, district, regional and central staff, supervisors and
    /// citizens (who choose their address on the portal).
    pub async fn search_addresses(
        &self,
        actor: &Actor,
        q: &str,
        limit: i64,
    ) -> Result<Vec<Address>, EngineError> {
        Self::may_read_addresses(actor)?;
        let q = q.trim().to_lowercase();
        if q.chars().count() < 2 || q.len() > 200 {
            return Err(EngineError::invalid("q", "2 to 200 characters"));
        }
        let limit = limit.clamp(1, 200);
        let phrase = drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE active = 1 AND search_text LIKE $1 ORDER BY full_text LIMIT $2")
            .bind(format!("%{}%", q.replace(['%', '_'], "")))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        if !phrase.is_empty() {
            return phrase
                .iter()
                .map(|r| address_row(&DbRow::from_any(r)?))
                .collect();
        }
        let rows = if q.chars().all(|c| c.is_ascii_digit()) {
            drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka LIKE $1 ORDER BY rka LIMIT $2")
                .bind(format!("{q}%"))
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?
        } else {
            let words: Vec<String> = q
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .take(6)
                .map(|w| format!("%{}%", w.replace(['%', '_'], "")))
                .collect();
            let mut sql = String::from("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE active = 1");
            for i in 0..words.len() {
                sql.push_str(&format!(" AND search_text LIKE ${}", i + 1));
            }
            sql.push_str(&format!(" ORDER BY full_text LIMIT ${}", words.len() + 1));
            let mut qy = drn_store::query(&sql);
            for w in &words {
                qy = qy.bind(w.clone());
            }
            qy.bind(limit).fetch_all(self.db.reader()).await?
        };
        rows.iter()
            .map(|r| address_row(&DbRow::from_any(r)?))
            .collect()
    }

    /// One address by its code.
    pub async fn address(&self, actor: &Actor, rka: &str) -> Result<Address, EngineError> {
        Self::may_read_addresses(actor)?;
        let r = drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka = $1")
            .bind(rka.to_string())
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| EngineError::not_found("address", rka))?;
        address_row(&DbRow::from_any(&r)?)
    }

    fn may_read_addresses(actor: &Actor) -> Result<(), EngineError> {
        match actor.role {
            Role::CounterOperator
            | Role::DistrictOfficer
            | Role::RegionalOfficer
            | Role::CentralOfficer
            | Role::Supervisor
            | Role::Citizen
            | Role::System => Ok(()),
            _ => Err(EngineError::forbidden(
                "the address register is for the services' staff",
            )),
        }
    }

    /// A person's registrations, newest first (staff, audited; or the person).
    pub async fn registrations(
        &self,
        actor: &Actor,
        iin: &Iin,
    ) -> Result<Vec<Registration>, EngineError> {
        let own = actor.iin.as_ref() == Some(iin);
        if !(own || is_staff(actor.role) || actor.role == Role::System) {
            return Err(EngineError::forbidden("only your own registrations"));
        }
        let rows = drn_store::query("SELECT r.id, r.person_iin, r.kind, r.rka, a.full_text, r.application_id, r.valid_from, r.valid_to, r.ended_at, r.ended_by FROM registrations r LEFT JOIN ar_addresses a ON a.rka = r.rka WHERE r.person_iin = $1 ORDER BY r.valid_from DESC, r.id DESC")
            .bind(iin.to_string())
            .fetch_all(self.db.reader())
            .await?;
        let out = rows
            .iter()
            .map(|r| {
                Ok(Registration {
                    id: r.try_get(0)?,
                    person: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    rka: r.try_get(3)?,
                    address: r.try_get(4)?,
                    application: r
                        .try_get::<Option<String>, _>(5)?
                        .map(ApplicationId::from_db),
                    valid_from: crate::rows::ts(r.try_get(6)?)?,
                    valid_to: crate::rows::ts_opt(r.try_get(7)?)?,
                    ended_at: crate::rows::ts_opt(r.try_get(8)?)?,
                    ended_by: r.try_get(9)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        if !own {
            self.submit(Work::Audit {
                actor: actor.id.clone(),
                action: "read_registrations".into(),
                subject: format!("person:{iin}"),
                detail: json!({ "count": out.len() }),
            })
            .await?;
        }
        Ok(out)
    }

    /// A journal of a service (the temporary ID cards, departure sheets, …), newest first:
    /// a unit's, or all for the centre, auditors and supervisors.
    pub async fn journal(
        &self,
        actor: &Actor,
        journal: &str,
        unit: Option<&UnitId>,
        limit: i64,
    ) -> Result<Vec<JournalEntry>, EngineError> {
        if !JOURNALS.iter().any(|(j, _)| *j == journal) {
            return Err(EngineError::not_found("journal", journal));
        }
        match (actor.role, unit) {
            (Role::System | Role::CentralOfficer | Role::Auditor | Role::Supervisor, _) => {}
            (Role::Citizen, _) => return Err(EngineError::forbidden("journals are for staff")),
            (_, Some(u)) if actor.unit.as_ref() == Some(u) => {}
            _ => return Err(EngineError::forbidden("name your own unit")),
        }
        let limit = limit.clamp(1, 500);
        let base = "SELECT journal, number, application_id, service, unit_id, subject, at, data_json FROM journal_entries WHERE journal = $1";
        let rows = match unit {
            Some(u) => {
                drn_store::query(&format!(
                    "{base} AND unit_id = $2 ORDER BY at DESC, number DESC LIMIT $3"
                ))
                .bind(journal.to_string())
                .bind(u.as_str().to_string())
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?
            }
            None => {
                drn_store::query(&format!("{base} ORDER BY at DESC, number DESC LIMIT $2"))
                    .bind(journal.to_string())
                    .bind(limit)
                    .fetch_all(self.db.reader())
                    .await?
            }
        };
        rows.iter()
            .map(|r| {
                Ok(JournalEntry {
                    journal: r.try_get(0)?,
                    number: r.try_get(1)?,
                    application: r
                        .try_get::<Option<String>, _>(2)?
                        .map(ApplicationId::from_db),
                    service: r.try_get(3)?,
                    unit: UnitId::from_db(r.try_get(4)?),
                    subject: r.try_get(5)?,
                    at: crate::rows::ts(r.try_get(6)?)?,
                    data: crate::rows::json(&r.try_get::<String, _>(7)?)?,
                })
            })
            .collect()
    }

    /// The counter tasks waiting for a person (the chip rewrite).
    pub async fn counter_tasks(
        &self,
        actor: &Actor,
        iin: &Iin,
    ) -> Result<Vec<CounterTask>, EngineError> {
        if !(actor.iin.as_ref() == Some(iin) || is_staff(actor.role) || actor.role == Role::System)
        {
            return Err(EngineError::forbidden("only your own tasks"));
        }
        let rows = drn_store::query("SELECT id, kind, person_iin, application_id, created_at, done_at, done_by, data_json FROM counter_tasks WHERE person_iin = $1 ORDER BY created_at DESC")
            .bind(iin.to_string())
            .fetch_all(self.db.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CounterTask {
                    id: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    person: r.try_get(2)?,
                    application: r
                        .try_get::<Option<String>, _>(3)?
                        .map(ApplicationId::from_db),
                    created_at: crate::rows::ts(r.try_get(4)?)?,
                    done_at: crate::rows::ts_opt(r.try_get(5)?)?,
                    done_by: r.try_get(6)?,
                    data: crate::rows::json(&r.try_get::<String, _>(7)?)?,
                })
            })
            .collect()
    }

    /// A counter operator does a waiting task (rewrites the chip); audited, with a journal
    /// entry.
    pub async fn complete_counter_task(
        &self,
        actor: &Actor,
        task: &str,
    ) -> Result<(), EngineError> {
        if actor.role != Role::CounterOperator {
            return Err(EngineError::forbidden("the chip is rewritten at a counter"));
        }
        let unit = actor
            .unit
            .clone()
            .ok_or_else(|| EngineError::forbidden("you have no unit"))?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let r = drn_store::query(
            "SELECT person_iin, data_json FROM counter_tasks WHERE id = $1 AND done_at IS NULL",
        )
        .bind(task.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| EngineError::not_found("task", task))?;
        let (person, data): (String, String) = (r.try_get(0)?, r.try_get(1)?);
        let done = drn_store::query(
            "UPDATE counter_tasks SET done_at = $1, done_by = $2 WHERE id = $3 AND done_at IS NULL",
        )
        .bind(now.as_microsecond())
        .bind(actor.id.clone())
        .bind(task.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(EngineError::Conflict {
                what: "task",
                current: 1,
                expected: 0,
            });
        }
        let year = now.to_zoned(self.tz.clone()).year();
        let seq = next_counter(&mut tx, &format!("journal:chip_rewrite:{unit}:{year}")).await?;
        drn_store::query("INSERT INTO journal_entries (id, journal, number, application_id, service, unit_id, subject, at, data_json) VALUES ($1, 'chip_rewrite', $2, NULL, 'S3', $3, $4, $5, $6)")
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(format!("{unit}-{year}-CHIP{seq:06}"))
            .bind(unit.as_str().to_string())
            .bind(person.clone())
            .bind(now.as_microsecond())
            .bind(data)
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            now,
            &actor.id,
            "chip_rewrite",
            &format!("person:{person}"),
            &json!({ "task": task }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// Adds a special record (a ground to refuse the services for foreigners). System and
    /// central officers.
    pub async fn add_special_record(
        &self,
        actor: &Actor,
        subject: &str,
        reason: &str,
    ) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::System | Role::CentralOfficer) {
            return Err(EngineError::forbidden(
                "special records are kept by the centre",
            ));
        }
        // One row and its audit record, through the writers' group commit.
        let insert = drn_store::Statement::new(
            "INSERT INTO special_records (id, subject, reason, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            vec![
                uuid::Uuid::now_v7().to_string().into(),
                subject.trim().to_uppercase().into(),
                reason.into(),
                self.now().as_microsecond().into(),
            ],
        );
        self.record_made(
            insert,
            actor,
            "add_special_record",
            "special_records",
            json!({ "reason": reason }),
        )
        .await
        .map(|_| ())
    }

    /// Seeds the address register for districts: the region and the district (KATO), the
    /// settlement, `streets` streets, `buildings` buildings on each and `premises` flats in
    /// each building. Returns the premises' codes. Codes (РКА) are 16 digits: the district's
    /// KATO (9) and a serial (7).
    pub async fn seed_addresses(
        &self,
        actor: &Actor,
        districts: &[DistrictAddresses],
        streets: &[&str],
        buildings: u32,
        premises: u32,
    ) -> Result<Vec<String>, EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(
                "only the system loads the address register",
            ));
        }
        let mut tx = self.db.begin().await?;
        let mut out = Vec::new();
        for d in districts {
            for (kato, level, parent, unit, name) in [
                (&d.region_kato, 1i64, None, None, &d.region_name),
                (
                    &d.kato,
                    2,
                    Some(d.region_kato.clone()),
                    Some(d.unit.as_str().to_string()),
                    &d.name,
                ),
            ] {
                let have = drn_store::query("SELECT kato FROM ar_ate WHERE kato = $1")
                    .bind(kato.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if have.is_none() {
                    drn_store::query("INSERT INTO ar_ate (kato, level, parent_kato, unit_id, name_kk, name_ru, name_en) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(kato.clone())
                        .bind(level)
                        .bind(parent)
                        .bind(unit)
                        .bind(name.clone())
                        .bind(name.clone())
                        .bind(name.clone())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let mut serial = 0u32;
            let mut code = || {
                serial += 1;
                format!("{}{serial:07}", d.kato)
            };
            let mut rows: Vec<(String, &str, Option<String>, String, String)> = Vec::new();
            let settlement = code();
            rows.push((
                settlement.clone(),
                "settlement",
                None,
                d.settlement.clone(),
                d.settlement.clone(),
            ));
            for st in streets {
                let street = code();
                let street_full = format!("{}, {st}", d.settlement);
                rows.push((
                    street.clone(),
                    "street",
                    Some(settlement.clone()),
                    st.to_string(),
                    street_full.clone(),
                ));
                for b in 1..=buildings {
                    let building = code();
                    let b_full = format!("{street_full}, д. {b}");
                    rows.push((
                        building.clone(),
                        "building",
                        Some(street.clone()),
                        b.to_string(),
                        b_full.clone(),
                    ));
                    for f in 1..=premises {
                        let premise = code();
                        rows.push((
                            premise.clone(),
                            "premise",
                            Some(building.clone()),
                            f.to_string(),
                            format!("{b_full}, кв. {f}"),
                        ));
                        out.push(premise);
                    }
                }
            }
            for chunk in rows.chunks(200) {
                let mut sql = String::from("INSERT INTO ar_addresses (rka, kind, parent_rka, ate_kato, name, full_text, search_text, active) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * 7;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 1)",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    ));
                }
                let mut q = drn_store::query(&sql);
                for (rka, kind, parent, name, full) in chunk {
                    q = q
                        .bind(rka.clone())
                        .bind(kind.to_string())
                        .bind(parent.clone())
                        .bind(d.kato.clone())
                        .bind(name.clone())
                        .bind(full.clone())
                        .bind(full.to_lowercase());
                }
                q.execute(&mut *tx).await?;
            }
        }
        crate::audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "seed_addresses",
            "addresses",
            &json!({ "districts": districts.len(), "premises": out.len() }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(out)
    }

    /// Marks an address as no longer valid (demolished, renumbered): certificates and
    /// registrations that name it need correcting.
    pub async fn retire_address(&self, actor: &Actor, rka: &str) -> Result<(), EngineError> {
        if !matches!(
            actor.role,
            Role::System | Role::DistrictOfficer | Role::Administrator
        ) {
            return Err(EngineError::forbidden(
                "addresses are kept by the districts",
            ));
        }
        let mut tx = self.db.begin().await?;
        let n = drn_store::query("UPDATE ar_addresses SET active = 0 WHERE rka = $1")
            .bind(rka.to_string())
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() != 1 {
            return Err(EngineError::not_found("address", rka));
        }
        crate::audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "retire_address",
            &format!("address:{rka}"),
            &json!({}),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }
}
