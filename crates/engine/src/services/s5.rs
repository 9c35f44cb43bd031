//! S5: address certificates (адресная справка) for an IIN or a BIN, checked against the
//! address register; a mismatch goes to the district, which corrects the address data (a
//! detour step of the catalog), and the certificate is written in its journal.

use drn_core::catalog::{StepCheck, StepHook};
use drn_core::{Bin, Channel, Iin};
use drn_store::Value;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::{text, IntakeData};
use super::print::{
    address_field, dmy, f, journal_field, js, person_fields, registration_kind_text, rka_field,
};
use super::ResultParts;
use super::{AfterAccept, Ending, Intake, ServiceRules, StepDone};
use crate::error::EngineError;
use crate::model::*;
use crate::rows::insert_event;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use drn_core::Text;
use drn_docs::DocumentKind;

/// The service's code in the catalog.
pub const SERVICE: &str = "S5";

/// The journal of address certificates.
pub const JOURNAL: &str = "address_certificates";

/// The intake data of S5: whose address is certified.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S5Intake {
    /// A legal entity's BIN, …
    #[serde(default, deserialize_with = "text")]
    pub bin: Option<Bin>,
    /// … or a person's IIN (the applicant's when neither is given: the intake writes it).
    #[serde(default, deserialize_with = "text")]
    pub iin: Option<Iin>,
    /// The legal entity's address (РКА) to certify.
    #[serde(default, deserialize_with = "text")]
    pub rka: Option<String>,
}

impl IntakeData for S5Intake {}

impl S5Intake {
    /// The subject of the certificate: the BIN, else the IIN, else the applicant.
    fn subject(&self, app: &Application) -> String {
        match self.bin {
            Some(b) => b.to_string(),
            None => self.person(app),
        }
    }

    /// The person whose address is certified, when it is no legal entity's.
    fn person(&self, app: &Application) -> String {
        self.iin
            .map(|i| i.to_string())
            .unwrap_or_else(|| app.applicant.clone())
    }
}

/// The rules of S5.
pub(crate) struct AddressCertificate;

impl ServiceRules for AddressCertificate {
    const HOOKS: &'static [StepHook] = &[StepHook::AddressCorrection];
    const CHECKS: &'static [StepCheck] = &[StepCheck::AddressData];

    /// ASSUMPTION (the seeds are silent): a person may ask for several address
    /// certificates at once (for different offices, or for an IIN and a BIN).
    fn one_open_per_applicant(&self) -> bool {
        false
    }

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::AddressCertificate)
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts {
            issued_on,
            out,
            note,
            ..
        } = parts;
        let input = S5Intake::of(app)?;
        let entry = e.journal_entry_of(&app.id, "address_certificates").await?;
        let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
        let subject = js(&data, "subject").unwrap_or_else(|| input.subject(app));
        let rka = js(&data, "rka");
        if input.bin.is_some() {
            out.push(f("БСН", "БИН", "BIN", subject.clone()));
        } else {
            let p = e.person_line(&subject).await?;
            out.extend(person_fields(&subject, &p));
            if let Some((kind_code, _, from, _)) = e.open_registration(&subject).await? {
                out.push(f(
                    "Тіркеу түрі",
                    "Вид регистрации",
                    "Registration",
                    registration_kind_text(&kind_code),
                ));
                out.push(f(
                    "Тіркелген күні",
                    "Дата регистрации",
                    "Registered on",
                    dmy(&e.tz, from),
                ));
            }
        }
        let addr = match (js(&data, "address"), &rka) {
            (Some(a), _) => Some(a),
            (None, Some(r)) => e.address_text(r).await?,
            _ => None,
        };
        out.push(address_field(addr.unwrap_or_else(|| "—".into())));
        if let Some(r) = &rka {
            out.push(rka_field(r));
        }
        if let Some((n, _, _)) = &entry {
            out.push(journal_field(n));
        }
        out.push(issued_on);
        *note = Some(Text::new(
        "Анықтама ІІМ мен Әділет министрлігінің электрондық цифрлық қолтаңбаларымен куәландырылған.",
        "Справка удостоверена электронными цифровыми подписями МВД и Министерства юстиции.",
        "Signed by the MVD and the Ministry of Justice.",
));
        Ok(())
    }

    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let input = S5Intake::parse(data)?;
        if input.bin.is_some() && input.rka.is_none() {
            return Err(EngineError::invalid(
                "data.rka",
                Refusal::LegalEntityRkaRequired,
            ));
        }
        if input.bin.is_none() && input.iin.is_none() {
            data["iin"] = json!(at.applicant);
        }
        Ok(())
    }

    /// Through the portal the applicant's and the portal's steps run at once, the
    /// certificate given at step 7 after the address check; a person whose registered
    /// address has no valid code in the register is refused the request (seed 002, the S5
    /// regulation's annex 3 table 1 rows 5 and 6: «нарушения в данных услугополучателя»,
    /// the portal's refusal message), and nothing is registered: the district's
    /// correction is the counter's route (annex 1 table 1 row 2).
    fn refused_on_the_portal(&self, e: &EngineError) -> bool {
        matches!(
            e,
            EngineError::Forbidden {
                reason: crate::Reason::Kind(Refusal::AddressMismatchOnPortal)
            }
        )
    }

    fn after_accept(&self, channel: Channel) -> AfterAccept {
        match channel {
            Channel::Portal | Channel::Mobile => AfterAccept::RunApplicantSteps,
            Channel::Counter | Channel::Unit => AfterAccept::Wait,
        }
    }

    async fn step_hook(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        app: &mut Application,
        done: &StepDone<'_>,
        hook: StepHook,
    ) -> Result<Option<Ending>, EngineError> {
        if hook != StepHook::AddressCorrection {
            return Err(EngineError::Corrupt(format!("S5 runs no hook {hook:?}")));
        }
        let (actor, step, note, now) = (done.actor, done.step, done.note, done.now);
        // The district corrects the address data: the note names the right РКА.
        let rka = note
            .and_then(|n| n.split_whitespace().find(|w| e.looks_like_rka(w)))
            .map(String::from)
            .ok_or_else(|| EngineError::invalid("note", Refusal::CorrectedRkaRequired))?;
        let addr = e
            .address_in(c, &rka)
            .await?
            .filter(|a| a.active)
            .ok_or_else(|| EngineError::invalid("note", Refusal::AddressNotActive))?;
        let input = S5Intake::of(app)?;
        let subject = input.person(app);
        // What the correction replaces: the registration's address and the day the person
        // was registered on. The district corrects the address data (seed 002, S5 para 5:
        // «көрсетілетін қызметті алушының мекенжай мәліметтерін олар сәйкес келмегенін
        // анықтау кезінде түзету»): it corrects the address's data, not when the person was
        // registered, so the date stays (issue 30 item 11: 2006-07-07 became the
        // correction's day), and the event records the old address.
        let mut old = json!({ "rka": null, "address": null, "registered": null });
        if input.bin.is_none() {
            let record = e.person_row(c, &subject).await?.unwrap_or(json!({}));
            let recorded = &record["registration"];
            let recorded_since = recorded["since"]
                .as_str()
                .and_then(|d| d.parse::<jiff::civil::Date>().ok());
            let open = c
                .fetch_optional(
                    "SELECT id, rka, valid_from FROM registrations WHERE person_iin = $1 AND kind = 'permanent' AND ended_at IS NULL ORDER BY valid_from DESC LIMIT 1",
                    vec![Value::from(subject.as_str())],
                )
                .await?;
            let since = if let Some(r) = open {
                let id: String = r.try_get(0)?;
                let old_rka: Option<String> = r.try_get(1)?;
                let from = crate::rows::ts(r.try_get(2)?)?;
                let old_text = match &old_rka {
                    Some(x) => e.address_in(c, x).await?.map(|a| a.full),
                    None => None,
                };
                old = json!({
                    "rka": old_rka,
                    "address": old_text.or_else(|| recorded["address"].as_str().map(String::from)),
                    "registered": from,
                });
                c.push(
                    "UPDATE registrations SET rka = $1 WHERE id = $2",
                    vec![Value::from(rka.as_str()), Value::from(id)],
                );
                from.to_zoned(e.tz.clone()).date()
            } else {
                // The registration the person's record holds (the demo loads none into the
                // register): written with its own day.
                let from = recorded_since
                    .and_then(|d| d.to_zoned(e.tz.clone()).ok())
                    .map(|z| z.timestamp())
                    .filter(|t| *t <= now)
                    .unwrap_or(now);
                old = json!({
                    "rka": recorded["rka"],
                    "address": recorded["address"],
                    "registered": recorded_since.map(|d| d.to_string()),
                });
                let id = uuid::Uuid::now_v7().to_string();
                e.insert_registration_row(
                    c,
                    super::registrations::RegistrationRow {
                        id: &id,
                        person: &subject,
                        kind: "permanent",
                        rka: Some(&rka),
                        app,
                        owner: None,
                        valid_from: from,
                        valid_to: None,
                    },
                    json!({ "corrected": true, "was": old }),
                );
                from.to_zoned(e.tz.clone()).date()
            };
            e.set_person_address_since(c, &subject, &addr, since)
                .await?;
        }
        insert_event(
            c,
            &app.id,
            EventKind::AddressCorrected,
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "rka": rka, "address": addr.full, "was": old }),
        )
        .await?;
        Ok(None)
    }

    async fn check(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        app: &Application,
        check: StepCheck,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        match check {
            StepCheck::AddressData => e.s5_check(c, app).await,
            StepCheck::SpecialRecords | StepCheck::WantedPersons => {
                Err(EngineError::Corrupt(format!("S5 runs no check {check:?}")))
            }
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
        let input = S5Intake::of(app)?;
        let unit = app.holder_unit.clone();
        let (passed, detail) = e.s5_check(c, app).await?;
        if !passed {
            // Through the portal the applicant is told where the address is corrected
            // (the counter's route, annex 1 table 1 row 2).
            return Err(EngineError::forbidden(if app.channel == Channel::Portal {
                Refusal::AddressMismatchOnPortal
            } else {
                Refusal::AddressMismatchNoCertificate
            }));
        }
        let checked = json!({ "detail": detail });
        let subject = input.subject(app);
        // Para 4 (2014): signed by both authorities.
        let certificate = json!({
            "subject": subject,
            "address": checked["detail"]["address"],
            "rka": checked["detail"]["rka"],
            "signatures": ["MVD", "MoJ"],
            "document": document,
        });
        let number = e
            .write_journal(c, JOURNAL, app, &unit, &subject, certificate.clone(), now)
            .await?;
        Ok(json!({ "certificate": number, "content": certificate }))
    }
}

impl Engine {
    pub(crate) fn looks_like_rka(&self, w: &str) -> bool {
        w.len() == 16 && w.chars().all(|c| c.is_ascii_digit())
    }

    /// S5: does the subject's address match the register.
    pub(crate) async fn s5_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        let input = S5Intake::of(app)?;
        if let Some(bin) = input.bin.map(|b| b.to_string()) {
            let rka = input.rka.unwrap_or_default();
            return Ok(match self.address_in(c, &rka).await?.filter(|a| a.active) {
                Some(a) => (true, json!({ "bin": bin, "rka": rka, "address": a.full })),
                None => (
                    false,
                    json!({ "bin": bin, "rka": rka, "mismatch": "the address is not in the register" }),
                ),
            });
        }
        let iin = input.person(app);
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
}
