//! The services for foreigners checked against the special records (специальные учёты):
//! S6 border-zone passes (пропуск в пограничную зону), S7 invitations (приглашения) and
//! S8 registration of foreigners (регистрация иностранцев), with their journals.

use drn_core::catalog::{StepCheck, StepHook};
use drn_store::Value;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::{text, IntakeData};
use super::journals::EntryIntake;
use super::print::{day, dmy, f, foreigner_fields, journal_field};
use super::ResultParts;
use super::{Ending, Intake, ServiceRules, StepDone};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use drn_core::{Channel, Text};
use drn_docs::DocumentKind;

/// The code in the catalog of S8, the registration of foreigners (the one of the three
/// with a portal process, seed 003 S8 para 4).
pub const REGISTRATION: &str = "S8";

/// Which of the three services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ForeignerService {
    /// S6: a pass to the border zone.
    BorderZonePass,
    /// S7: an invitation.
    Invitation,
    /// S8: registration of a foreigner.
    Registration,
}

/// The intake data of S6 to S8: the foreigner's passport data and what the service's
/// document names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ForeignerIntake {
    pub foreigner: Foreigner,
    /// S6: the border zone (settlement or section) to enter; required there.
    #[serde(default, deserialize_with = "text")]
    pub zone: Option<String>,
    /// S6, S7: the purpose of the entry or the trip.
    #[serde(default, deserialize_with = "text")]
    pub purpose: Option<String>,
    /// S7: the first day of the stay (the day of issue when not given).
    #[serde(default, deserialize_with = "text")]
    pub from: Option<Date>,
    /// The last day: of the pass (S6), the stay (S7), the registration (S8).
    #[serde(default, deserialize_with = "text")]
    pub until: Option<Date>,
    /// S6: the pass's last day under its other name, when `until` is not given.
    #[serde(default, deserialize_with = "text")]
    pub valid_until: Option<Date>,
    /// S8: the address of stay by its code in the address register (РКА), …
    #[serde(default, deserialize_with = "text")]
    pub rka: Option<String>,
    /// … or as written (the host's address when neither is given).
    #[serde(default, deserialize_with = "text")]
    pub address: Option<String>,
}

impl IntakeData for ForeignerIntake {}

impl ForeignerService {
    /// The service's journal.
    pub fn journal(self) -> &'static str {
        match self {
            ForeignerService::BorderZonePass => "border_passes",
            ForeignerService::Invitation => "invitations",
            ForeignerService::Registration => "foreigner_registration",
        }
    }
}

impl ServiceRules for ForeignerService {
    const HOOKS: &'static [StepHook] = &[StepHook::ForeignerRegistrationJournal];
    const CHECKS: &'static [StepCheck] = &[StepCheck::SpecialRecords];

    /// ASSUMPTION (the seeds are silent): the applicant is the resident host or inviter,
    /// who may ask for passes, invitations or registrations for several foreigners at
    /// once.
    fn one_open_per_applicant(&self) -> bool {
        false
    }

    /// A foreigner's passport data (the simulation gives each intake a passport number of
    /// its own) and what the document names; S8's registration for a month.
    fn sample_intake(&self) -> super::SampleIntake {
        let mut data = json!({ "foreigner": super::sample_foreigner() });
        match self {
            ForeignerService::BorderZonePass => {
                data["zone"] = json!("Кордай, участок 3");
                data["purpose"] = json!("visit relatives");
            }
            ForeignerService::Invitation => data["purpose"] = json!("family reunification"),
            ForeignerService::Registration => data["until"] = json!("@month"),
        }
        super::SampleIntake {
            data,
            ends_registration: false,
        }
    }

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(match self {
            ForeignerService::BorderZonePass => DocumentKind::BorderZonePass,
            ForeignerService::Invitation => DocumentKind::Invitation,
            ForeignerService::Registration => DocumentKind::ForeignerRegistrationInsert,
        })
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts {
            issued,
            issued_on,
            out,
            note,
            ..
        } = parts;
        let input = ForeignerIntake::of(app)?;
        match self {
            ForeignerService::BorderZonePass => {
                out.extend(foreigner_fields(&input.foreigner));
                out.push(f(
                    "Шекаралық аймақ",
                    "Пограничная зона",
                    "Border zone",
                    input.zone.unwrap_or_default(),
                ));
                out.push(f(
                    "Жарамдылық мерзімі",
                    "Срок действия",
                    "Valid",
                    match input.until.or(input.valid_until) {
                        Some(u) => format!("{} – {}", dmy(&e.tz, issued), day(u)),
                        None => format!("{} –", dmy(&e.tz, issued)),
                    },
                ));
                if let Some(pu) = input.purpose {
                    out.push(f("Кіру мақсаты", "Цель въезда", "Purpose", pu));
                }
                if let Some((n, _, _)) = e.journal_entry_of(&app.id, "border_passes").await? {
                    out.push(journal_field(&n));
                }
                out.push(issued_on);
            }
            ForeignerService::Invitation => {
                let mut invitee = foreigner_fields(&input.foreigner);
                for fl in &mut invitee {
                    fl.label = Text::new(
                        format!("Шақырылатын адам: {}", fl.label.kk),
                        format!("Приглашаемое лицо: {}", fl.label.ru),
                        format!("Invitee: {}", fl.label.en),
                    );
                }
                out.extend(invitee);
                let host = e.person_line(&app.applicant).await?;
                out.push(f(
                    "Шақырушы тарап",
                    "Приглашающая сторона",
                    "Inviting party",
                    format!("{}, ЖСН / ИИН {}", host.name, app.applicant),
                ));
                if let Some(a) = &host.address {
                    out.push(f(
                        "Шақырушының мекенжайы",
                        "Адрес приглашающей стороны",
                        "Host's address",
                        a.clone(),
                    ));
                }
                if let Some(pu) = input.purpose {
                    out.push(f("Сапар мақсаты", "Цель поездки", "Purpose", pu));
                }
                match (input.from, input.until) {
                    (None, None) => {}
                    (a, b) => out.push(f(
                        "Болу мерзімі",
                        "Срок пребывания",
                        "Period",
                        format!(
                            "{} – {}",
                            a.map(day).unwrap_or_else(|| dmy(&e.tz, issued)),
                            b.map(day).unwrap_or_default()
                        ),
                    )),
                }
                if let Some((n, _, _)) = e.journal_entry_of(&app.id, "invitations").await? {
                    out.push(journal_field(&n));
                }
                out.push(issued_on);
            }
            ForeignerService::Registration => {
                out.extend(foreigner_fields(&input.foreigner));
                let host = e.person_line(&app.applicant).await?;
                let stay = match &input.rka {
                    Some(r) => e.address_text(r).await?,
                    None => None,
                }
                .or(input.address)
                .or_else(|| host.address.clone());
                if let Some(a) = stay {
                    out.push(f(
                        "Болу мекенжайы",
                        "Адрес пребывания",
                        "Address of stay",
                        a,
                    ));
                }
                out.push(f(
                    "Қабылдаушы тарап",
                    "Принимающая сторона",
                    "Host",
                    format!("{}, ЖСН / ИИН {}", host.name, app.applicant),
                ));
                let entry = e
                    .journal_entry_of(&app.id, "foreigner_registration")
                    .await?;
                let since = entry.as_ref().map(|e| e.1).unwrap_or(issued);
                out.push(f(
                    "Тіркелген мерзімі",
                    "Срок регистрации",
                    "Registered",
                    format!(
                        "{} – {}",
                        dmy(&e.tz, since),
                        input.until.map(day).unwrap_or_default()
                    ),
                ));
                if let Some((n, _, _)) = &entry {
                    out.push(journal_field(n));
                }
                out.push(issued_on);
                if app.process == "portal" {
                    *note = Some(Text::new(
                        "Қосымша парақ электрондық түрде ресімделіп, қол қойылды.",
                        "Вкладыш оформлен и подписан в электронной форме.",
                        "The insert was made and signed electronically.",
                    ));
                }
            }
        }
        Ok(())
    }

    async fn intake(
        &self,
        e: &Engine,
        _c: &mut Ctx<'_>,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let input = ForeignerIntake::parse(data)?;
        input.foreigner.validate("data.foreigner")?;
        if *self == ForeignerService::BorderZonePass && input.zone.is_none() {
            return Err(EngineError::invalid(
                "data.zone",
                Refusal::BorderZoneRequired,
            ));
        }
        if *self == ForeignerService::Registration {
            registration_until(e, at, input.until)?;
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
        if hook != StepHook::ForeignerRegistrationJournal || *self != ForeignerService::Registration
        {
            return Err(EngineError::Corrupt(format!(
                "{self:?} runs no hook {hook:?}"
            )));
        }
        let now = done.now;
        let input = ForeignerIntake::of(app)?;
        let number = e
            .write_journal(
                c,
                self.journal(),
                app,
                &app.holder_unit.clone(),
                &input.foreigner.key(),
                json!({ "foreigner": input.foreigner, "stamp": true, "until": input.until }),
                now,
            )
            .await?;
        app.data["journal"] = json!(number);
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
            StepCheck::SpecialRecords => e.special_records_check(c, app).await,
            StepCheck::AddressData | StepCheck::WantedPersons => Err(EngineError::Corrupt(
                format!("{self:?} runs no check {check:?}"),
            )),
        }
    }

    async fn issued(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        // S8 through the portal: the insert is signed electronically.
        let e_signed = *self == ForeignerService::Registration && app.process == "portal";
        let input = ForeignerIntake::of(app)?;
        let about = EntryIntake {
            foreigner: Some(&input.foreigner),
            zone: input.zone.as_deref(),
        };
        let subject = input.foreigner.key();
        let mut out = e
            .result_journal_entry(
                c,
                app,
                self.journal(),
                &subject,
                about,
                document,
                e_signed,
                now,
            )
            .await?;
        if e_signed {
            out["insert"] =
                json!({ "signed_by": actor.id, "electronic": true, "document": document });
        }
        Ok(out)
    }
}

/// S8's last day of the registered stay (`until`), which the stamp and the portal's insert
/// print ("Срок регистрации", [`ForeignerService::result_fields`]). Seed 003 (regulation 3,
/// S8) sets no term of the registration, so no longest one is checked.
/// ASSUMPTIONS (the seed is silent: its application is "в произвольной форме", annex 2, and
/// names no content): the last day is a day after the day of application, as for S3's
/// temporary stay (a stay that has ended is none to register); through the portal it is
/// required, since the e-signed insert (para 4) is made from the application alone and would
/// else show a registration with no end, while at the unit the officer stamps the migration
/// card, which carries the stay, so it may be left out there.
fn registration_until(e: &Engine, at: &Intake<'_>, until: Option<Date>) -> Result<(), EngineError> {
    match until {
        Some(u) => {
            let today = e.now().to_zoned(e.tz.clone()).date();
            super::intake::stay_ends_after_today(u, today)
        }
        None if at.process.channel == Channel::Portal => {
            Err(EngineError::invalid("data.until", Refusal::StayEndRequired))
        }
        None => Ok(()),
    }
}

impl Engine {
    /// S6-S8: the subject against the special records.
    pub(crate) async fn special_records_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        let f = ForeignerIntake::of(app)?.foreigner;
        let passport = f.passport.trim().to_uppercase();
        self.special_records_of(c, &[&passport, app.applicant.as_str()])
            .await
    }

    /// The special records (специальные учёты) on any of `subjects`: passed when there is
    /// none, else the first one's reason. The centre keeps them; the S6–S8 check and S1's
    /// wanted-persons check read them.
    pub(crate) async fn special_records_of(
        &self,
        c: &mut Ctx<'_>,
        subjects: &[&str],
    ) -> Result<(bool, serde_json::Value), EngineError> {
        let marks = (1..=subjects.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let hit = c
            .fetch_optional(
                &format!("SELECT reason FROM special_records WHERE subject IN ({marks}) ORDER BY added_at, id LIMIT 1"),
                subjects.iter().map(|s| Value::from(*s)).collect(),
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

    /// Adds a special record (a ground to refuse the services for foreigners). System and
    /// central officers.
    pub async fn add_special_record(
        &self,
        actor: &Actor,
        subject: &str,
        reason: &str,
    ) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::System | Role::CentralOfficer) {
            return Err(EngineError::forbidden(Refusal::SpecialRecordsAtCentre));
        }
        // One row and its audit record, through the writers' group commit.
        let insert = drn_store::Statement::new(
            "INSERT INTO special_records (id, subject, reason, added_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            vec![
                uuid::Uuid::now_v7().to_string().into(),
                subject.trim().to_uppercase().into(),
                reason.into(),
                Value::from(self.now()),
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
}
