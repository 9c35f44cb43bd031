//! S3: registration at the place of residence (регистрация по месту жительства),
//! permanent or temporary; from 2018 also the status "not established at a place of
//! residence". A new permanent registration ends the previous one; through the portal the
//! citizen gets a notice and the chip rewrite waits for them at a counter (a counter task).

use drn_core::catalog::{Process, Version};
use drn_core::{Channel, Iin};
use drn_store::{next_counter, Value};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The service's code in the catalog.
pub const SERVICE: &str = "S3";
use serde_json::json;

use super::intake::{text, FieldText, IntakeData};
use super::print::{address_field, dmy, f, js, person_fields, registration_kind_text, rka_field};
use super::ResultParts;
use super::{is_staff, AfterAccept, Intake, ServiceRules};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use drn_core::Text;
use drn_docs::DocumentKind;

/// The longest temporary registration, in months from the day of intake. ASSUMPTION: the
/// seeds (order 165 of 2014 and order 55 of 2018, S3 para 4) say a temporary registration
/// records the address of the stay but set no term; a stay of more than a year is a
/// residence (issue 29: "until 2099" was accepted). The last day is also after today.
pub const TEMPORARY_MAX_MONTHS: i32 = 12;

/// The kind of a registration (вид регистрации).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RegistrationKind {
    /// At the place of residence (по месту жительства).
    #[default]
    Permanent,
    /// At the place of stay (по месту пребывания), until a day.
    Temporary,
    /// 2018 para 4: the status "not established at a place of residence", in place of an
    /// address.
    NotEstablished,
}

impl RegistrationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationKind::Permanent => "permanent",
            RegistrationKind::Temporary => "temporary",
            RegistrationKind::NotEstablished => "not_established",
        }
    }
}

impl FieldText for RegistrationKind {
    fn from_text(s: &str) -> Result<Self, Refusal> {
        [
            RegistrationKind::Permanent,
            RegistrationKind::Temporary,
            RegistrationKind::NotEstablished,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or(Refusal::RegistrationKindForm)
    }
}

/// The intake data of S3.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Intake {
    /// The kind; permanent when not given (the intake writes it).
    #[serde(default, deserialize_with = "text")]
    pub kind: Option<RegistrationKind>,
    /// The dwelling's code in the address register (РКА).
    #[serde(default, deserialize_with = "text")]
    pub rka: Option<String>,
    /// The last day of a temporary stay.
    #[serde(default, deserialize_with = "text")]
    pub until: Option<Date>,
    /// Para 5, at a counter: the dwelling owner's IIN, …
    #[serde(default, deserialize_with = "text")]
    pub owner_iin: Option<Iin>,
    /// … the number of their ID card, when the owner is someone else, …
    #[serde(default, deserialize_with = "text")]
    pub owner_id_document: Option<String>,
    /// … and their consent.
    #[serde(default)]
    pub owner_consent: Option<bool>,
    /// The dwelling's address as the register gives it: written by the intake from `rka`,
    /// never sent.
    #[serde(default, deserialize_with = "text")]
    pub address: Option<String>,
}

impl IntakeData for S3Intake {}

impl S3Intake {
    /// The kind, permanent when not given.
    pub fn kind(&self) -> RegistrationKind {
        self.kind.unwrap_or_default()
    }
}

/// The version whose text has the chip rule (para 6) and the owner's consent (para 5).
pub const RULES_OF_PARA_5_AND_6: &str = "2014";

super::outcomes::outcomes! {
    /// The refusals S3's own rules produce (issue 30 items 6 and 9).
    pub enum Exit in "S3" {
        /// 2014 para 6: the portal only with an ID card with an electronic carrier.
        PortalNeedsChipCard => Refusal "portal_needs_chip_card" at [1] versions ["2014"] process "portal",
        /// 2014 para 5: the dwelling owner's ID card and consent not shown.
        OwnerConsentNotShown => Refusal "owner_consent_not_shown" at [1] versions ["2014"] process "main",
    }
}

/// The refusal of a portal registration without an ID card with an electronic carrier.
pub fn portal_needs_chip_card() -> Text {
    Text::new(
        "Портал арқылы тіркеу электрондық жеткізгіші бар қолданыстағы жеке куәлігі бар болғанда ғана жүзеге асырылады (2014 жылғы № 165 бұйрық, 6-тармақ): ХҚКО-ға жүгініңіз.",
        "Регистрация через портал возможна только при наличии действующего удостоверения личности с электронным носителем (приказ № 165 от 2014 г., п. 6): обратитесь в ЦОН.",
        "Registration through the portal is only for holders of a valid ID card with an electronic carrier (order No 165 of 2014, para 6): apply at a ЦОН counter.",
    )
}

/// The refusal when the dwelling owner's ID card and consent are not shown.
pub fn owner_consent_not_shown() -> Text {
    Text::new(
        "Тұрғын үй иесінің келісімі расталмады: иесі ЖСН бойынша табылуы, мекенжай тіркелімінде осы тұрғын үйдің иесі болуы, оның қолданыстағы жеке куәлігінің нөмірі сәйкес келуі және келісім берілуі тиіс (2014 жылғы № 165 бұйрық, 5-тармақ).",
        "Согласие собственника жилища не подтверждено: собственник должен быть найден по ИИН, значиться собственником этого жилища в адресном регистре, номер его действующего удостоверения личности должен совпасть, и согласие должно быть дано (приказ № 165 от 2014 г., п. 5).",
        "The dwelling owner's consent is not shown: the owner must be found by IIN and be the dwelling's owner in the address register, the number of their ID card in force must match, and the consent must be given (order No 165 of 2014, para 5).",
    )
}

/// The rules of S3.
pub(crate) struct ResidenceRegistration;

impl ServiceRules for ResidenceRegistration {
    /// A temporary registration (both acts have it) at a dwelling of the register, for a
    /// month, the applicant owning it (`@…` are the simulation's placeholders, see
    /// [`super::SampleIntake`]).
    fn sample_intake(&self) -> super::SampleIntake {
        super::SampleIntake {
            data: json!({ "kind": "temporary", "rka": "@dwelling", "until": "@month", "owner_iin": "@applicant" }),
            ends_registration: false,
        }
    }

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::ResidenceRegistrationNotice)
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts {
            result, out, note, ..
        } = parts;
        let p = e.person_line(&app.applicant).await?;
        out.extend(person_fields(&app.applicant, &p));
        let reg = e.registration_made_by(&app.id).await?;
        let kind_code = reg
            .as_ref()
            .map(|r| r.0.clone())
            .or_else(|| js(result, "kind"))
            .unwrap_or_else(|| "permanent".into());
        out.push(f(
            "Тіркеу түрі",
            "Вид регистрации",
            "Registration",
            registration_kind_text(&kind_code),
        ));
        if let Some((_, rka, from, to)) = &reg {
            if let Some(rka) = rka {
                let addr = e.address_text(rka).await?.or_else(|| js(result, "address"));
                out.push(address_field(addr.unwrap_or_default()));
                out.push(rka_field(rka));
            }
            out.push(f(
                "Тіркелген күні",
                "Дата регистрации",
                "Registered on",
                dmy(&e.tz, *from),
            ));
            if let Some(to) = to {
                out.push(f(
                    "Тіркеу мерзімі",
                    "Срок регистрации до",
                    "Until",
                    dmy(&e.tz, *to),
                ));
            }
        }
        if result["ended_previous"].as_i64().unwrap_or(0) > 0 {
            out.push(f(
                "Бұрынғы тіркеу",
                "Прежняя регистрация",
                "Previous registration",
                "тоқтатылды / прекращена",
            ));
        }
        if let Some(n) = result.get("notice").filter(|n| n.is_object()) {
            *note = Some(Text::new(
                n["kk"].as_str().unwrap_or(""),
                n["ru"].as_str().unwrap_or(""),
                n["en"].as_str().unwrap_or(""),
            ));
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
        e.s3_intake(c, at.version, at.process, at.applicant, data)
            .await
    }

    fn after_accept(&self, channel: Channel) -> AfterAccept {
        match channel {
            Channel::Portal | Channel::Mobile => AfterAccept::RunApplicantSteps,
            Channel::Counter | Channel::Unit => AfterAccept::Wait,
        }
    }

    async fn issued(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        _actor: &Actor,
        app: &Application,
        _document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let input = S3Intake::of(app)?;
        e.s3_register(c, app, &input, now).await
    }
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

impl Engine {
    pub(crate) async fn s3_intake(
        &self,
        c: &mut Ctx<'_>,
        ver: &Version,
        p: &Process,
        applicant: &str,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let input = S3Intake::parse(data)?;
        if input.address.is_some() {
            return Err(EngineError::invalid(
                "data.address",
                Refusal::AddressFromRegister,
            ));
        }
        let kind = input.kind();
        data["kind"] = json!(kind.as_str());
        match kind {
            RegistrationKind::Permanent | RegistrationKind::Temporary => {}
            RegistrationKind::NotEstablished if ver.id != "2014" => {
                // 2018 para 4: the status, in place of an address.
                if p.channel != Channel::Counter {
                    return Err(EngineError::invalid("data.kind", Refusal::StatusAtCounter));
                }
                return Ok(());
            }
            RegistrationKind::NotEstablished => {
                return Err(EngineError::invalid(
                    "data.kind",
                    Refusal::NotEstablishedFrom2018,
                ))
            }
        }
        let rka = input
            .rka
            .clone()
            .ok_or_else(|| EngineError::invalid("data.rka", Refusal::RkaRequired))?;
        let addr = self
            .address_in(c, &rka)
            .await?
            .filter(|a| a.active && matches!(a.kind.as_str(), "building" | "premise"))
            .ok_or_else(|| EngineError::invalid("data.rka", Refusal::NotADwelling))?;
        data["address"] = json!(addr.full);
        if kind == RegistrationKind::Temporary {
            let until: Date = input
                .until
                .ok_or_else(|| EngineError::invalid("data.until", Refusal::StayEndRequired))?;
            let today = self.now().to_zoned(self.tz.clone()).date();
            super::intake::stay_ends_after_today(until, today)?;
            let latest = today
                .checked_add(jiff::Span::new().months(TEMPORARY_MAX_MONTHS))
                .map_err(|e| EngineError::Corrupt(e.to_string()))?;
            if until > latest {
                return Err(EngineError::invalid(
                    "data.until",
                    Refusal::TemporaryAtMostAYear,
                ));
            }
        }
        let person = self
            .person_row(c, applicant)
            .await?
            .ok_or_else(|| EngineError::not_found("person", applicant))?;
        // The chip rule and the owner's consent are the 2014 text's (order 165, para 6 and
        // para 5); order 55 (2018) restates neither, and a rule applies to the versions
        // whose text has it (issue 30 item 9).
        if ver.id != RULES_OF_PARA_5_AND_6 {
            return Ok(());
        }
        match p.channel {
            Channel::Portal | Channel::Mobile => {
                // 2014 para 6: «электрондық жеткізгіші бар жеке куәлігі бар болғанда –
                // www.egov.kz … Портал арқылы жүзеге асырылады».
                let today = self.now().to_zoned(self.tz.clone()).date();
                let chip = super::person_documents::id_card_expiry(&person)
                    .is_some_and(|e: Date| e >= today);
                if !chip {
                    return Err(EngineError::refused(
                        Exit::PortalNeedsChipCard.branch_id(),
                        portal_needs_chip_card(),
                    ));
                }
            }
            _ => self.s3_owner_consent(c, &input, applicant).await?,
        }
        Ok(())
    }

    /// 2014 para 5: the State Corporation's worker takes «тұрғын үй иесiнiң жеке куәлігі
    /// және … оның тұрақты не уақытша тiркеуге оның келiсiмiн» (the dwelling owner's ID card
    /// and their consent). The consent is real only when the owner is a person of the
    /// database (ГБД ФЛ's stand-in) by the IIN given, the ID card presented is the owner's
    /// card in force by its number, the owner is the dwelling's owner in the address
    /// register, and the consent is given (issue 30 item 9).
    async fn s3_owner_consent(
        &self,
        c: &mut Ctx<'_>,
        input: &S3Intake,
        applicant: &str,
    ) -> Result<(), EngineError> {
        let owner = input
            .owner_iin
            .ok_or_else(|| EngineError::invalid("data.owner_iin", Refusal::OwnerIinRequired))?;
        let owner = owner.to_string();
        if owner == applicant {
            return Ok(());
        }
        let refused = || {
            EngineError::refused(
                Exit::OwnerConsentNotShown.branch_id(),
                owner_consent_not_shown(),
            )
        };
        if input.owner_consent != Some(true) {
            return Err(refused());
        }
        let Some(record) = self.person_row(c, &owner).await? else {
            return Err(refused());
        };
        let today = self.now().to_zoned(self.tz.clone()).date();
        let card = super::person_documents::current(&record, super::person_documents::ID_CARD)
            .filter(|d| {
                d["expires"]
                    .as_str()
                    .and_then(|x| x.parse::<Date>().ok())
                    .is_none_or(|e| e >= today)
            })
            .and_then(|d| d["number"].as_str().map(|n| n.trim().to_uppercase()));
        let shown = input
            .owner_id_document
            .as_deref()
            .map(|n| n.trim().to_uppercase());
        if card.is_none() || card != shown {
            return Err(refused());
        }
        let rka = input.rka.as_deref().unwrap_or_default();
        if !self.owns_dwelling(c, rka, &owner).await? {
            return Err(refused());
        }
        Ok(())
    }

    pub(crate) async fn s3_register(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        input: &S3Intake,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let kind = input.kind();
        let owner = input.owner_iin.as_ref();
        let person = app.applicant.clone();
        if kind == RegistrationKind::NotEstablished {
            let ended = self.end_registrations(c, &person, app, now, false).await?;
            let id = self
                .insert_registration(
                    c,
                    &person,
                    "not_established",
                    None,
                    app,
                    owner,
                    None,
                    now,
                    json!({}),
                )
                .await?;
            return Ok(
                json!({ "registration": id, "kind": kind.as_str(), "ended_previous": ended }),
            );
        }
        let rka = input.rka.clone().unwrap_or_default();
        let addr = self
            .address_in(c, &rka)
            .await?
            .ok_or_else(|| EngineError::invalid("data.rka", Refusal::NotInRegister))?;
        let (ended, valid_to) = if kind == RegistrationKind::Permanent {
            // Para 4: registration at a new place ends the previous one automatically.
            (
                self.end_registrations(c, &person, app, now, false).await?,
                None,
            )
        } else {
            let to = input
                .until
                .and_then(|d| d.to_zoned(self.tz.clone()).ok())
                .map(|z| z.timestamp());
            (0, to)
        };
        let id = self
            .insert_registration(
                c,
                &person,
                kind.as_str(),
                Some(&rka),
                app,
                owner,
                valid_to,
                now,
                json!({ "address": addr.full }),
            )
            .await?;
        if kind == RegistrationKind::Permanent {
            self.set_person_address(c, &person, &addr, now).await?;
        }
        let mut out = json!({ "registration": id, "kind": kind.as_str(), "rka": rka, "address": addr.full, "ended_previous": ended });
        if matches!(app.channel, Channel::Portal | Channel::Mobile) {
            // 2014 para 4: the notice in the personal cabinet, and the chip rewrite waits
            // for the citizen at a counter.
            let task = uuid::Uuid::now_v7().to_string();
            c.push(
                "INSERT INTO counter_tasks (id, kind, person_iin, application_id, created_at, done_at, done_by, data_json) VALUES ($1, 'chip_rewrite', $2, $3, $4, NULL, NULL, $5)",
                vec![
                    Value::from(task.clone()),
                    Value::from(person.as_str()),
                    Value::from(&app.id),
                    Value::from(now),
                    Value::json(json!({ "rka": rka, "address": addr.full }).to_string()),
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

    /// The counter tasks waiting for a person (the chip rewrite).
    pub async fn counter_tasks(
        &self,
        actor: &Actor,
        iin: &Iin,
    ) -> Result<Vec<CounterTask>, EngineError> {
        if !(actor.iin.as_ref() == Some(iin) || is_staff(actor.role) || actor.role == Role::System)
        {
            return Err(EngineError::forbidden(Refusal::OwnTasksOnly));
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
            return Err(EngineError::forbidden(Refusal::ChipAtCounter));
        }
        let unit = actor
            .unit
            .clone()
            .ok_or_else(|| EngineError::forbidden(Refusal::NoUnit))?;
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
        .bind(now)
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
            .bind(now)
            .bind(Value::json(data))
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
}
