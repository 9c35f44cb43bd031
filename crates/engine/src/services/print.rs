//! How documents print what the engine recorded: the result document of an application
//! (its issuer, day of issue, and the fields its service's module gives, see
//! [`ServiceRules::result_fields`](super::ServiceRules::result_fields)), a registry's
//! document kind, and the helpers that print a person, a foreigner, an address or a date
//! in Kazakhstan time, shared with the server's talons and registries.

use drn_core::Text;
use drn_docs::{DocumentKind, Field};
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::documents::PersonLine;
use crate::error::EngineError;
use crate::model::{Application, EventKind, Foreigner, UnitId};
use crate::Engine;

use super::{rules, s9, with_rules, ResultParts, Rules, ServiceRules};

/// The result document of an application: its kind, who issued it and when, and what it
/// shows after the service and the application's number.
#[derive(Debug, Clone)]
pub struct ResultDocument {
    pub kind: DocumentKind,
    /// The unit that holds the application on the day of issue.
    pub issuer: Text,
    /// When it was issued (the `issued` event; now, if none is recorded).
    pub issued: Timestamp,
    pub fields: Vec<Field>,
    pub note: Option<Text>,
}

/// How an application ended after intake (a motivated refusal, an annulment, S9's error
/// message): what its document prints and its card shows.
#[derive(Debug, Clone)]
pub struct Closing {
    /// The event that ended it.
    pub event: EventKind,
    /// Its document (see [`closing_document`]) and that document's number.
    pub document: Option<(DocumentKind, String)>,
    pub at: Timestamp,
    /// The unit that decided (it held the application then).
    pub unit: Text,
    pub reason: Text,
}

impl Closing {
    /// The fields of its document after the applicant, the service and the number.
    pub fn fields(&self, tz: &TimeZone) -> Vec<Field> {
        vec![
            f("Себебі", "Причина", "Reason", both(&self.reason)),
            f(
                "Шешім қабылдаған бөлімше",
                "Подразделение, принявшее решение",
                "Deciding unit",
                both(&self.unit),
            ),
            f(
                "Шешім уақыты",
                "Время решения",
                "Decided",
                dmy_hm(tz, self.at),
            ),
        ]
    }
}

/// The document an application gets when `event` ends it after intake: a motivated refusal
/// (every service: S5-S7 and S9 name it as a result, and the others' seeds are silent, so
/// giving it to them too is an assumption: the person is owed the reason in writing), S9's
/// error message (seed 004 para 9.5). An annulment has none (an assumption: the seeds name
/// no document for it; the reason is on the card).
pub fn closing_document(event: EventKind) -> Option<DocumentKind> {
    match event {
        EventKind::Refused => Some(DocumentKind::MotivatedRefusal),
        EventKind::ErrorMessage => Some(DocumentKind::ErrorMessage),
        _ => None,
    }
}

/// The reason an ending event records: the officer's words as written (the same in each
/// language), S9's error message's ground in each language; `None` for another event.
pub fn closing_reason(event: EventKind, data: &serde_json::Value) -> Option<Text> {
    if !matches!(
        event,
        EventKind::Refused | EventKind::Annulled | EventKind::ErrorMessage
    ) {
        return None;
    }
    let ground = data.get("ground").and_then(|g| g.as_str());
    if let Some(t) = ground.and_then(s9::error_ground) {
        return Some(t);
    }
    js(data, "reason").map(|r| Text::new(&r, &r, &r))
}

pub fn f(kk: &str, ru: &str, en: &str, value: impl Into<String>) -> Field {
    Field::new(kk, ru, en, value)
}

pub fn both(t: &Text) -> String {
    if t.kk == t.ru {
        t.ru.clone()
    } else {
        format!("{} / {}", t.kk, t.ru)
    }
}

pub fn urgency_text(code: &str) -> String {
    match code {
        "general" => "жалпы / общая".to_string(),
        other => other.to_string(),
    }
}

/// Kazakhstan local date and time of an instant.
pub fn local(tz: &TimeZone, t: Timestamp) -> jiff::Zoned {
    t.to_zoned(tz.clone())
}

pub fn dmy_hm(tz: &TimeZone, t: Timestamp) -> String {
    local(tz, t).strftime("%d.%m.%Y %H:%M").to_string()
}

pub fn dmy(tz: &TimeZone, t: Timestamp) -> String {
    local(tz, t).strftime("%d.%m.%Y").to_string()
}

/// The document kind of a registry of the catalog's kind (`district`, …), and of the
/// cover letter (S1 2018 step 5, 2014 step 7); the incoming book's entry has none.
pub fn registry_kind(kind: &str) -> Option<DocumentKind> {
    Some(match kind {
        "district" => DocumentKind::DistrictRegistry,
        "summary" => DocumentKind::SummaryRegistry,
        "dispatch" => DocumentKind::DispatchRegistry,
        "manufactured" => DocumentKind::ManufacturedRegistry,
        "accompanying" => DocumentKind::AccompanyingRegistry,
        "cover_letter" => DocumentKind::CoverLetter,
        _ => return None,
    })
}

pub fn js(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

/// A `YYYY-MM-DD` date as printed (`DD.MM.YYYY`), anything else as it is.
pub fn civil(s: &str) -> String {
    s.parse::<jiff::civil::Date>()
        .map(day)
        .unwrap_or_else(|_| s.to_string())
}

/// A date as printed (`DD.MM.YYYY`).
pub fn day(d: jiff::civil::Date) -> String {
    d.strftime("%d.%m.%Y").to_string()
}

pub(crate) fn sex_text(code: &str) -> &'static str {
    match code {
        "M" | "male" => "ер / мужской",
        "F" | "female" => "әйел / женский",
        _ => "—",
    }
}

pub(crate) fn ground_text(ground: &str) -> String {
    match ground {
        "abroad" => "шетелге тұрақты тұруға кетуі / выезд на постоянное жительство за пределы Республики Казахстан".into(),
        "court" => "сот шешімі / решение суда".into(),
        "prison" => "бас бостандығынан айыруға сотталуы / осуждение к лишению свободы".into(),
        other => other.to_string(),
    }
}

pub(crate) fn registration_kind_text(kind: &str) -> String {
    match kind {
        "permanent" => {
            "тұрақты (тұрғылықты жері бойынша) / постоянная (по месту жительства)".into()
        }
        "temporary" => "уақытша (болу орны бойынша) / временная (по месту пребывания)".into(),
        "not_established" => {
            "тұрғылықты жері анықталмаған / место жительства не установлено".into()
        }
        other => other.to_string(),
    }
}

pub(crate) fn address_field(value: String) -> Field {
    f("Мекенжайы", "Адрес", "Address", value)
}

pub(crate) fn rka_field(rka: &str) -> Field {
    f(
        "Мекенжайдың тіркеу коды (МТК)",
        "Регистрационный код адреса (РКА)",
        "Address registration code",
        rka,
    )
}

pub(crate) fn journal_field(number: &str) -> Field {
    f(
        "Есепке алу журналындағы нөмірі",
        "Номер записи в журнале учёта",
        "Journal entry",
        number,
    )
}

/// A foreigner's passport data as printed (S6-S9).
pub fn foreigner_fields(v: &Foreigner) -> Vec<Field> {
    let name =
        crate::model::printed_name(&format!("{} {}", v.surname, v.given_name)).to_uppercase();
    vec![
        f("Тегі, аты", "Фамилия, имя", "Name", name),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            day(v.birth_date),
        ),
        f("Жынысы", "Пол", "Sex", sex_text(v.sex.code())),
        f(
            "Азаматтығы",
            "Гражданство",
            "Citizenship",
            v.citizenship.trim().to_uppercase(),
        ),
        f(
            "Паспорт нөмірі",
            "Номер паспорта",
            "Passport",
            v.passport.trim().to_uppercase(),
        ),
    ]
}

pub fn person_fields(iin: &str, p: &PersonLine) -> Vec<Field> {
    vec![
        f("ЖСН", "ИИН", "IIN", iin),
        f(
            "Тегі, аты, әкесінің аты",
            "Фамилия, имя, отчество",
            "Full name",
            p.name.clone(),
        ),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            p.birth.clone(),
        ),
    ]
}

impl Engine {
    /// The result document of an issued application of `kind` (its service's
    /// [`result_kind`](super::result_kind)): the issuing unit, the day of issue and the service's fields.
    pub async fn result_document(
        &self,
        app: &Application,
        kind: DocumentKind,
    ) -> Result<ResultDocument, EngineError> {
        // The service's result, issued by the unit that holds it on the day of issue.
        let issuer = self.unit_name(app.holder_unit.as_str()).await?;
        let issued = self
            .issued_event(&app.id)
            .await?
            .0
            .unwrap_or_else(|| self.now());
        let mut note = None;
        let fields = self.result_fields(app, kind, issued, &mut note).await?;
        Ok(ResultDocument {
            kind,
            issuer,
            issued,
            fields,
            note,
        })
    }

    /// How the application ended after intake, when it did (refused, annulled, or S9's
    /// error message): from its latest such event.
    pub async fn closing(&self, app: &Application) -> Result<Option<Closing>, EngineError> {
        let Some((event, at, unit, data)) = self.ending_event(&app.id).await? else {
            return Ok(None);
        };
        let unit = self
            .unit_name(unit.as_deref().unwrap_or(app.holder_unit.as_str()))
            .await?;
        let reason = closing_reason(event, &data).unwrap_or_else(|| Text::new("—", "—", "—"));
        let document = closing_document(event).map(|k| {
            let prefix = match k {
                DocumentKind::ErrorMessage => "EM",
                _ => "MR",
            };
            (k, format!("{prefix}-{}", app.number))
        });
        Ok(Some(Closing {
            event,
            document,
            at,
            unit,
            reason,
        }))
    }

    /// A unit's name, its id for an unknown unit.
    pub async fn unit_name(&self, id: &str) -> Result<Text, EngineError> {
        let Ok(unit) = UnitId::parse(id) else {
            return Ok(Text::new(id, id, id));
        };
        match self.unit(&unit).await {
            Ok(u) => Ok(u.name),
            Err(EngineError::NotFound { .. }) => Ok(Text::new(id, id, id)),
            Err(e) => Err(e),
        }
    }

    /// A service's name, its code for an unknown service.
    pub fn service_name(&self, code: &str) -> Text {
        self.catalog
            .service(code)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| Text::new(code, code, code))
    }

    /// The fields of a service's result: what the engine recorded on issue (the registers,
    /// journals and the `issued` event), dates in Kazakhstan time.
    async fn result_fields(
        &self,
        app: &Application,
        kind: DocumentKind,
        issued: Timestamp,
        note: &mut Option<Text>,
    ) -> Result<Vec<Field>, EngineError> {
        let (_, result) = self.issued_event(&app.id).await?;
        let mut out = Vec::new();
        let issued_on = f(
            "Берілген күні",
            "Дата выдачи",
            "Issued",
            dmy(&self.tz, issued),
        );
        let parts = ResultParts {
            result: &result,
            issued,
            issued_on,
            out: &mut out,
            note,
        };
        with_rules!(rules(&app.service), r => r.result_fields(self, app, kind, parts).await)?;
        Ok(out)
    }
}
