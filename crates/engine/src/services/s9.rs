//! S9: forming an IIN for a foreigner (формирование ИИН иностранцу), seed 004: the
//! intake without an IIN (the foreigner's key is citizenship and passport), the written
//! consent at the counter (para 9.3), and the operator's processing by the system (paras
//! 6.3, 9.5): an IIN formed unique in the database and written in the journal, or an
//! error message.

use drn_core::catalog::StepHook;
use drn_core::Iin;
use drn_store::Value;
use jiff::civil::Date;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::{text, IntakeData};
use super::journals::EntryIntake;
use super::print::{dmy, f, foreigner_fields, journal_field, js};
use super::ResultParts;
use super::{Ending, Foreigner, Intake, ServiceRules, StepDone};
use crate::error::EngineError;
use crate::model::*;
use crate::model::{Accept, Outcome};
use crate::rows::insert_event;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use drn_docs::DocumentKind;

/// The service code.
pub const SERVICE: &str = "S9";
/// The journal of formed IINs.
pub const JOURNAL: &str = "iin_formed";

/// The intake data of S9.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S9Intake {
    /// The foreigner's passport data: the intake's own, written into the data by
    /// [`Engine::accept_foreigner`].
    pub foreigner: Foreigner,
    /// The migration card's number, as the counter's form takes it (for the record).
    #[serde(default, deserialize_with = "text")]
    #[allow(dead_code, reason = "checked at intake and stored; no step reads it")]
    pub migration_card: Option<String>,
    /// The questionnaire (migration card) the application must match (para 9.5).
    #[serde(default)]
    pub questionnaire: Option<Questionnaire>,
}

impl IntakeData for S9Intake {}

/// The questionnaire's data the operator compares with the application; what it does not
/// give is not compared.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Questionnaire {
    #[serde(default, deserialize_with = "text")]
    pub surname: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub given_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub birth_date: Option<Date>,
    #[serde(default, deserialize_with = "text")]
    pub passport: Option<String>,
}

impl Questionnaire {
    /// Whether the foreigner's data match it (names and passport in any case).
    fn matches(&self, f: &Foreigner) -> bool {
        let same = |q: &Option<String>, v: &str| {
            q.as_deref()
                .is_none_or(|x| x.eq_ignore_ascii_case(v.trim()))
        };
        same(&self.surname, &f.surname)
            && same(&self.given_name, &f.given_name)
            && self.birth_date.is_none_or(|d| d == f.birth_date)
            && same(&self.passport, &f.passport)
    }
}

/// The ground of an error message (para 9.5) as its document and the application's card
/// give it; `None` for a ground the engine never writes.
pub(crate) fn error_ground(ground: &str) -> Option<drn_core::Text> {
    let (kk, ru, en) = match ground {
        "mismatch" => (
            "өтінім өтініш иесінің айқындамалық деректеріне сәйкес келмейді",
            "заявка не соответствует идентификационным данным заявителя",
            "the application does not match the applicant's identity data",
        ),
        "has_iin" => (
            "өтініш иесінде тіркелген ЖСН бар",
            "у заявителя имеется зарегистрированный ИИН",
            "the applicant already has a registered IIN",
        ),
        _ => return None,
    };
    Some(drn_core::Text::new(kk, ru, en))
}

/// The passport data of an applicant who has no IIN yet (their key, `F:…`, stands for
/// it): what their talon and receipt show.
pub fn applicant_foreigner(app: &Application) -> Result<Option<Foreigner>, EngineError> {
    if !app.applicant.starts_with("F:") {
        return Ok(None);
    }
    S9Intake::of(app).map(|i| Some(i.foreigner))
}

super::outcomes::outcomes! {
    /// The error messages S9's processing produces (para 6.3, 9.5; issue 30 item 6).
    pub enum Exit in SERVICE {
        /// The application does not match the applicant's identity data.
        Mismatch => ErrorMessage "mismatch" at [5] process "counter",
        /// The applicant already has a registered IIN.
        HasIin => ErrorMessage "has_iin" at [5] process "counter",
        /// The same at the unit's process.
        UnitMismatch => ErrorMessage "mismatch" at [3] process "unit",
        UnitHasIin => ErrorMessage "has_iin" at [3] process "unit",
    }
}

/// The rules of S9.
pub(crate) struct IinForForeigners;

impl ServiceRules for IinForForeigners {
    /// The foreigner without an IIN whose passport data the intake carries (taken in by
    /// `AcceptForeigner`, see [`super::applied_for_without_iin`]).
    fn sample_intake(&self) -> super::SampleIntake {
        super::SampleIntake {
            data: json!({ "foreigner": super::sample_foreigner() }),
            ends_registration: false,
        }
    }

    const HOOKS: &'static [StepHook] = &[StepHook::WrittenConsent, StepHook::FormIin];

    fn result_kind(&self) -> Option<DocumentKind> {
        Some(DocumentKind::IinCertificate)
    }

    /// Seed 004: the foreigner gets an acceptance talon (талон о приёме).
    fn talon_kind(&self) -> DocumentKind {
        DocumentKind::AcceptanceTalon
    }

    async fn result_fields(
        &self,
        e: &Engine,
        app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        let ResultParts { issued_on, out, .. } = parts;
        let input = S9Intake::of(app)?;
        let entry = e.journal_entry_of(&app.id, "iin_formed").await?;
        let iin = app.data["formed_iin"]
            .as_str()
            .map(String::from)
            .or_else(|| entry.as_ref().and_then(|e| js(&e.2, "iin")))
            .unwrap_or_else(|| app.applicant.clone());
        out.push(f(
            "Жеке сәйкестендіру нөмірі (ЖСН)",
            "Индивидуальный идентификационный номер (ИИН)",
            "IIN",
            iin,
        ));
        out.extend(foreigner_fields(&input.foreigner));
        if let Some((n, at, _)) = &entry {
            out.push(f(
                "ЖСН қалыптастырылған күні",
                "Дата формирования ИИН",
                "IIN formed on",
                dmy(&e.tz, *at),
            ));
            out.push(journal_field(n));
        }
        out.push(issued_on);
        Ok(())
    }

    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        // Seed 004, the regulation's title: IINs are formed for foreigners temporarily
        // staying in Kazakhstan; a person in DRN by IIN already has one (issue 28 item 2:
        // such an application was accepted and answered 500 at the operator's step).
        if Iin::parse(at.applicant).is_ok() {
            return Err(EngineError::invalid(
                "applicant",
                drn_core::Text::new(
                    format!("{} ЖСН-і бар: қызмет ЖСН-і жоқ, Қазақстанда уақытша жүрген шетелдікке ЖСН қалыптастырады; шетелдіктің паспорт деректерімен жүгініңіз", at.applicant),
                    format!("у {} уже есть ИИН: услуга формирует ИИН иностранцу, временно пребывающему в Казахстане, у которого его нет; подайте заявление с паспортными данными иностранца", at.applicant),
                    format!(
                        "{} already has an IIN: the service forms an IIN for a foreigner temporarily staying in Kazakhstan who has none; apply with the foreigner's passport data",
                        at.applicant
                    ),
                ),
            ));
        }
        S9Intake::parse(data).map(|_| ())
    }

    async fn step_hook(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        app: &mut Application,
        done: &StepDone<'_>,
        hook: StepHook,
    ) -> Result<Option<Ending>, EngineError> {
        let (actor, step, note, now) = (done.actor, done.step, done.note, done.now);
        match hook {
            StepHook::WrittenConsent => {
                // Para 9.3: the written consent; the note records the signed consent form.
                if note.map(str::trim).is_none_or(|n| n.len() < 3) {
                    return Err(EngineError::invalid("note", Refusal::ConsentNumberRequired));
                }
                insert_event(
                    c,
                    &app.id,
                    EventKind::ConsentObtained,
                    Some(step.n),
                    &actor.id,
                    Some(&app.holder_unit),
                    now,
                    None,
                    &json!({ "written_consent": note }),
                )
                .await?;
                Ok(None)
            }
            StepHook::FormIin => e.s9_form(c, app, now).await,
            _ => Err(EngineError::Corrupt(format!("S9 runs no hook {hook:?}"))),
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
        let input = S9Intake::of(app)?;
        let about = EntryIntake {
            foreigner: Some(&input.foreigner),
            zone: None,
        };
        let mut out = e
            .result_journal_entry(c, app, JOURNAL, &app.applicant, about, document, false, now)
            .await?;
        out["iin"] = json!(app.applicant);
        Ok(out)
    }
}

impl Engine {
    /// Intake of a foreigner without an IIN (S9).
    pub(crate) async fn accept_foreigner(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        f: &AcceptForeigner,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        if f.service != SERVICE {
            return Err(EngineError::invalid("service", Refusal::OnlyS9WithoutIin));
        }
        let today = now.to_zoned(self.tz.clone()).date();
        let mut f = f.clone();
        f.foreigner.validate_on("foreigner", today)?;
        let f = &f;
        // `applicant` is a placeholder of the right type: accept_as does not use it.
        let placeholder =
            Iin::form(f.foreigner.birth_date, f.foreigner.sex, |_| false).map_err(|_| {
                EngineError::invalid("foreigner.birth_date", Refusal::IinCannotBeFormed)
            })?;
        let mut data = if f.data.is_object() {
            f.data.clone()
        } else {
            json!({})
        };
        data["foreigner"] =
            serde_json::to_value(&f.foreigner).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let a = Accept {
            process: None,
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

    /// Para 9.5 / 6.3: the operator's processing: an error message when the application does
    /// not match the applicant's data or the applicant already has an IIN; otherwise a new
    /// IIN, unique in the database.
    pub(crate) async fn s9_form(
        &self,
        c: &mut Ctx<'_>,
        app: &mut Application,
        now: Timestamp,
    ) -> Result<Option<Ending>, EngineError> {
        let input = S9Intake::of(app)?;
        let f = &input.foreigner;
        let fail = |reason: &str, ground: &str| {
            Ok(Some(Ending {
                event: EventKind::ErrorMessage,
                data: json!({ "reason": reason, "ground": ground }),
            }))
        };
        // The questionnaire (migration card) the application must match.
        if let Some(q) = &input.questionnaire {
            if !q.matches(f) {
                return fail(
                    "the application does not match the applicant's questionnaire data",
                    Exit::Mismatch.branch_id(),
                );
            }
        }
        // A registration of the same passport with other data.
        let key = f.key();
        let reg = c
            .fetch_optional(
                "SELECT data_json FROM journal_entries WHERE journal = 'foreigner_registration' AND subject = $1 ORDER BY at DESC LIMIT 1",
                vec![Value::from(f.key())],
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
                    Exit::Mismatch.branch_id(),
                );
            }
        }
        let had = c
            .fetch_optional(
                "SELECT number FROM journal_entries WHERE journal = 'iin_formed' AND subject = $1",
                vec![Value::from(key.as_str())],
            )
            .await?;
        // Para 6.3 (and 9.5): «өтініш иесінде тіркелген ЖСН болған жағдайда оператор қате
        // туралы тиісті хабарламаны … қалыптастырады»: the applicant has an IIN when one was
        // formed for this foreigner, known by their identity document (citizenship and
        // passport), not by a namesake's name, birth date and sex (issue 30 item 10).
        let same_document = self.person_with_document(c, f).await?;
        if had.is_some() || same_document.is_some() {
            return fail(
                "the applicant already has a registered IIN",
                Exit::HasIin.branch_id(),
            );
        }
        let iin = self.form_iin(c, f, &app.id).await?;
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
            vec![Value::from(iin.to_string()), Value::from(&app.id)],
        );
        app.applicant = iin.to_string();
        app.data["formed_iin"] = json!(iin.to_string());
        insert_event(
            c,
            &app.id,
            EventKind::IinFormed,
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

    /// The IIN of the person in the database (ГБД ФЛ's stand-in) whose identity document
    /// is this foreigner's: the same citizenship and passport number.
    pub(crate) async fn person_with_document(
        &self,
        c: &mut Ctx<'_>,
        f: &Foreigner,
    ) -> Result<Option<String>, EngineError> {
        let a3 = f.citizenship_code();
        let a2 = drn_core::country::ISO_3166_1
            .iter()
            .find(|(x, _)| *x == a3)
            .map_or_else(|| a3.clone(), |(_, a2)| (*a2).to_string());
        let passport = f.passport.trim().to_uppercase();
        let rows = c
            .fetch_all(
                "SELECT iin, data_json FROM persons WHERE citizenship IN ($1, $2)",
                vec![Value::from(a3.as_str()), Value::from(a2.as_str())],
            )
            .await?;
        for r in rows {
            let d = crate::rows::json(&r.try_get::<String, _>(1)?)?;
            if d["passport"]
                .as_str()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case(&passport))
            {
                return Ok(Some(r.try_get(0)?));
            }
        }
        Ok(None)
    }

    /// Forms a new IIN for the foreigner and writes their person record, under the lock of
    /// the (birth date, sex) prefix's counter row: concurrent forming waits for it and then
    /// sees the IINs formed before; the persons' primary key backs it.
    pub(crate) async fn form_iin(
        &self,
        c: &mut Ctx<'_>,
        f: &Foreigner,
        app: &ApplicationId,
    ) -> Result<Iin, EngineError> {
        let prefix = Iin::prefix_for(f.birth_date, f.sex).map_err(|_| {
            EngineError::invalid("foreigner.birth_date", Refusal::IinCannotBeFormed)
        })?;
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
            .map_err(|_| EngineError::invalid("foreigner", Refusal::IinCannotBeFormed))?;
        c.push(
            "INSERT INTO persons (iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)",
            vec![
                Value::from(iin.to_string()),
                Value::from(f.surname.trim().to_string()),
                Value::from(f.given_name.trim().to_string()),
                Value::from(f.birth_date),
                Value::from(f.sex.code()),
                Value::from(f.citizenship_code()),
                Value::json(json!({ "passport": f.passport.trim().to_uppercase(), "iin_application": app }).to_string()),
            ],
        );
        Ok(iin)
    }
}
