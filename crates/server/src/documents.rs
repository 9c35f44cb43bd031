//! Result documents and receipts in the running system: what the engine's commands
//! produce (the e-registration talon on acceptance, the receipt of refusal at intake, the
//! service's result on issue, paper or electronic, the registries when signed or sent) rendered by `drn_docs`,
//! signed with the PKI of the data directory, stored byte for byte in `documents`, served
//! to those who may see the application, and verified publicly at /verify/{id}.
//!
//! A document is made by the server right after the command that produces it, in its own
//! transaction with its own audit record (`document_issued`), not inside the command's:
//! the engine's writers batch many commands in one transaction, and rendering and signing
//! (about a millisecond or two of CPU each) has no place holding that transaction open; the
//! engine also knows nothing of keys. A command that committed without its document (a
//! crash between the two) is healed: listing an application's documents makes the ones
//! its state calls for, and the unique (application, kind) and (registry, kind) indexes
//! keep a raced second copy out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use drn_core::{Lang, Text};
use drn_docs::{Column, Document, DocumentKind, Field, Table};
use drn_engine::{
    Actor, Application, ApplicationId, EngineError, Outcome, Registry, RegistryId, Role, Status,
    UnitId,
};
use drn_store::{Statement, Value};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::{Ctx, LangOf};
use crate::error::{ApiError, ErrorBody};
use crate::extract::PathOf;
use crate::AppState;

/// Who may ask for documents at all (the engine's visibility rules decide which).
const SIGNED_IN: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
    Role::Supervisor,
    Role::Auditor,
    Role::Administrator,
    Role::Citizen,
];

/// The largest PDF accepted for comparison at POST /verify/{id}: a registry of many
/// applications exceeds the server-wide body limit ([`crate::BODY_LIMIT`]), so this route
/// has its own.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

const COLS: &str = "id, application_id, registry_id, kind, number, doc_date, issuer_json, sha256, issued_at, revoked_at, revoked_reason";

/// A stored document without its bytes.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub application: Option<String>,
    pub registry: Option<String>,
    pub kind: String,
    pub number: String,
    pub date: String,
    pub issuer: Text,
    pub sha256: String,
    pub issued_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
}

impl Stored {
    pub fn kind(&self) -> Option<DocumentKind> {
        DocumentKind::ALL
            .into_iter()
            .find(|k| k.code() == self.kind)
    }

    /// The document's title (its kind's), the code itself for an unknown kind.
    pub fn title(&self) -> Text {
        self.kind()
            .map(DocumentKind::title)
            .unwrap_or_else(|| Text::new(&self.kind, &self.kind, &self.kind))
    }
}

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(e.to_string())
}

fn stored(r: &drn_store::DbRow) -> Result<Stored, EngineError> {
    let ts = |v: i64| Timestamp::from_microsecond(v).map_err(corrupt);
    Ok(Stored {
        id: r.try_get(0)?,
        application: r.try_get(1)?,
        registry: r.try_get(2)?,
        kind: r.try_get(3)?,
        number: r.try_get(4)?,
        date: r.try_get(5)?,
        issuer: serde_json::from_str(&r.try_get::<String, _>(6)?).map_err(corrupt)?,
        sha256: r.try_get(7)?,
        issued_at: ts(r.try_get(8)?)?,
        revoked_at: r.try_get::<Option<i64>, _>(9)?.map(ts).transpose()?,
        revoked_reason: r.try_get(10)?,
    })
}

/// One document's record.
pub async fn load(st: &AppState, id: &str) -> Result<Option<Stored>, EngineError> {
    let sql = format!("SELECT {COLS} FROM documents WHERE id = $1");
    Ok(stored_rows(st, sql, id).await?.pop())
}

/// The documents of an application, oldest first.
pub async fn of_application(st: &AppState, id: &str) -> Result<Vec<Stored>, EngineError> {
    let sql =
        format!("SELECT {COLS} FROM documents WHERE application_id = $1 ORDER BY issued_at, kind");
    stored_rows(st, sql, id).await
}

/// The documents of a registry.
pub async fn of_registry(st: &AppState, id: &str) -> Result<Vec<Stored>, EngineError> {
    let sql =
        format!("SELECT {COLS} FROM documents WHERE registry_id = $1 ORDER BY issued_at, kind");
    stored_rows(st, sql, id).await
}

/// The documents of a person's applications (the portal's "my documents"), newest first.
pub async fn of_person(st: &AppState, iin: &str) -> Result<Vec<Stored>, EngineError> {
    let cols: Vec<String> = COLS.split(", ").map(|c| format!("d.{c}")).collect();
    let sql = format!(
        "SELECT {} FROM documents d JOIN applications a ON a.id = d.application_id WHERE a.applicant_iin = $1 ORDER BY d.issued_at DESC LIMIT 200",
        cols.join(", ")
    );
    stored_rows(st, sql, iin).await
}

/// Document records read by `sql` with one parameter.
async fn stored_rows(st: &AppState, sql: String, arg: &str) -> Result<Vec<Stored>, EngineError> {
    st.engine
        .db
        .rows(Statement::new(sql, vec![Value::from(arg)]))
        .await?
        .iter()
        .map(stored)
        .collect()
}

/// The first row of a read through the store's read side.
async fn one(
    st: &AppState,
    sql: impl Into<String>,
    args: Vec<Value>,
) -> Result<Option<drn_store::DbRow>, EngineError> {
    Ok(st
        .engine
        .db
        .rows(Statement::new(sql, args))
        .await?
        .into_iter()
        .next())
}

/// The PDF (`pdf`) or the detached signature (`p7s`) of a document.
async fn bytes_of(st: &AppState, id: &str, what: &str) -> Result<Option<Vec<u8>>, EngineError> {
    let col = if what == "p7s" { "p7s" } else { "pdf" };
    let row = one(
        st,
        format!("SELECT {col} FROM documents WHERE id = $1"),
        vec![Value::from(id.to_string())],
    )
    .await?;
    Ok(row.map(|r| r.try_get::<Vec<u8>, _>(0)).transpose()?)
}

// ---------------------------------------------------------------- making documents

fn f(kk: &str, ru: &str, en: &str, value: impl Into<String>) -> Field {
    Field::new(kk, ru, en, value)
}

fn both(t: &Text) -> String {
    if t.kk == t.ru {
        t.ru.clone()
    } else {
        format!("{} / {}", t.kk, t.ru)
    }
}

fn urgency_text(code: &str) -> String {
    match code {
        "general" => "жалпы / общая".to_string(),
        other => other.to_string(),
    }
}

/// Kazakhstan local date and time of an instant.
fn local(st: &AppState, t: Timestamp) -> jiff::Zoned {
    t.to_zoned(st.engine.tz.clone())
}

fn dmy_hm(st: &AppState, t: Timestamp) -> String {
    local(st, t).strftime("%d.%m.%Y %H:%M").to_string()
}

fn dmy(st: &AppState, t: Timestamp) -> String {
    local(st, t).strftime("%d.%m.%Y").to_string()
}

struct PersonLine {
    name: String,
    birth: String,
    address: Option<String>,
}

/// A person's name as printed (not an audited read: the document is the command's
/// effect, and the command itself is audited).
async fn person_line(st: &AppState, iin: &str) -> Result<PersonLine, EngineError> {
    let r = one(
        st,
        "SELECT surname, given_name, patronymic, birth_date, data_json FROM persons WHERE iin = $1",
        vec![Value::from(iin.to_string())],
    )
    .await?;
    let Some(r) = r else {
        return Ok(PersonLine {
            name: "—".into(),
            birth: "—".into(),
            address: None,
        });
    };
    let name = [
        r.try_get::<String, _>(0)?,
        r.try_get::<String, _>(1)?,
        r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
    ]
    .join(" ")
    .trim()
    .to_string();
    let birth: String = r.try_get(3)?;
    let birth = birth
        .parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d.%m.%Y").to_string())
        .unwrap_or(birth);
    let data: serde_json::Value =
        serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default();
    let address = data
        .pointer("/registration/address")
        .and_then(|v| v.as_str())
        .map(String::from);
    Ok(PersonLine {
        name,
        birth,
        address,
    })
}

async fn unit_name(st: &AppState, id: &str) -> Result<Text, EngineError> {
    let Ok(unit) = UnitId::parse(id) else {
        return Ok(Text::new(id, id, id));
    };
    match st.engine.unit(&unit).await {
        Ok(u) => Ok(u.name),
        Err(EngineError::NotFound { .. }) => Ok(Text::new(id, id, id)),
        Err(e) => Err(e),
    }
}

fn service_text(st: &AppState, code: &str) -> Text {
    st.engine
        .catalog
        .service(code)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| Text::new(code, code, code))
}

/// The kind of the result document of a service, when it has one. A paper result (the
/// temporary ID card, the departure sheet, the invitation, the pass, the IIN certificate)
/// gets its PDF too, signed by the issuing authority like an electronic one: the paper
/// the person carries away is printed from it, and it is still a document the system
/// produced, so its QR code and /verify/{id} prove it genuine and not revoked.
fn result_kind(service: &str) -> Option<DocumentKind> {
    Some(match service {
        "S2" => DocumentKind::TemporaryIdCard,
        "S3" => DocumentKind::ResidenceRegistrationNotice,
        "S4" => DocumentKind::DepartureSheet,
        "S5" => DocumentKind::AddressCertificate,
        "S6" => DocumentKind::BorderZonePass,
        "S7" => DocumentKind::Invitation,
        "S8" => DocumentKind::ForeignerRegistrationInsert,
        "S9" => DocumentKind::IinCertificate,
        _ => return None,
    })
}

/// The document kind of a registry of the catalog's kind (`district`, …); the cover
/// letter and the incoming book are not registries of their own.
pub fn registry_kind(kind: &str) -> Option<DocumentKind> {
    Some(match kind {
        "district" => DocumentKind::DistrictRegistry,
        "summary" => DocumentKind::SummaryRegistry,
        "dispatch" => DocumentKind::DispatchRegistry,
        "manufactured" => DocumentKind::ManufacturedRegistry,
        "accompanying" => DocumentKind::AccompanyingRegistry,
        _ => return None,
    })
}

/// The documents an application's state calls for: (kind, number).
async fn expected_for(
    st: &AppState,
    app: &Application,
) -> Result<Vec<(DocumentKind, String)>, EngineError> {
    let mut out = Vec::new();
    if app.status == Status::IntakeRefused {
        out.push((DocumentKind::RefusalReceipt, format!("R-{}", app.number)));
        return Ok(out);
    }
    let talon = if app.service == "S9" {
        DocumentKind::AcceptanceTalon
    } else {
        DocumentKind::ERegistrationTalon
    };
    out.push((talon, app.number.clone()));
    if app.status == Status::Issued {
        // Every result gets its PDF, paper ones too: see [`result_kind`].
        if let Some(kind) = result_kind(&app.service) {
            let number = one(st, "SELECT number FROM issued_documents WHERE application_id = $1 ORDER BY issued_at DESC LIMIT 1", vec![Value::from(app.id.as_str().to_string())]).await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?
            .unwrap_or_else(|| app.number.clone());
            out.push((kind, number));
        }
    }
    Ok(out)
}

/// The content of an application's document of `kind`.
async fn application_document(
    st: &AppState,
    app: &Application,
    kind: DocumentKind,
    number: &str,
    id: &str,
) -> Result<Document, EngineError> {
    let service = service_text(st, &app.service);
    let unit = unit_name(st, app.accepted_unit.as_str()).await?;
    let is_result = result_kind(&app.service) == Some(kind);
    let mut fields = Vec::new();
    if !is_result {
        // Talons and receipts: who applied (a foreigner without an IIN: the passport data).
        let foreigner = &app.data["input"]["foreigner"];
        if app.applicant.starts_with("F:") && foreigner.is_object() {
            fields.extend(foreigner_fields(foreigner));
        } else {
            let person = person_line(st, &app.applicant).await?;
            fields.extend(person_fields(&app.applicant, &person));
        }
    }
    fields.push(f(
        "Мемлекеттік қызмет",
        "Государственная услуга",
        "Service",
        format!("{} · {}", app.service, both(&service)),
    ));
    fields.push(f(
        "Өтініш нөмірі",
        "Номер заявления",
        "Application number",
        app.number.clone(),
    ));
    let mut note = None;
    let mut issuer = unit.clone();
    let mut date = local(st, app.accepted_at).date();
    match kind {
        DocumentKind::RefusalReceipt => {
            let missing: Vec<String> = app
                .data
                .get("missing")
                .and_then(|m| m.as_array())
                .map(|m| {
                    m.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            fields.push(f(
                "Бас тарту себебі",
                "Причина отказа",
                "Reason",
                format!(
                    "құжаттар топтамасы толық емес / неполный пакет документов: {}",
                    missing.join("; ")
                ),
            ));
            fields.push(f(
                "Өтініш берілген уақыты",
                "Время обращения",
                "Time",
                dmy_hm(st, app.accepted_at),
            ));
            note = Some(Text::new(
                "Құжаттар топтамасы толықтырылғаннан кейін қайта жүгінуге болады.",
                "После восполнения пакета документов можно обратиться повторно.",
                "You may apply again with the complete package.",
            ));
        }
        DocumentKind::ERegistrationTalon | DocumentKind::AcceptanceTalon => {
            fields.push(f(
                "Жеделдік санаты",
                "Категория срочности",
                "Urgency",
                urgency_text(&app.urgency),
            ));
            fields.push(f(
                "Қабылданған уақыты",
                "Время приёма",
                "Accepted",
                dmy_hm(st, app.accepted_at),
            ));
            fields.push(f(
                "Қабылдаған бөлімше",
                "Принявшее подразделение",
                "Accepting unit",
                both(&unit),
            ));
            if let Some(due) = app.due_at {
                fields.push(f(
                    "Нәтижені беру мерзімі",
                    "Срок выдачи результата",
                    "Result due",
                    dmy(st, due),
                ));
            }
        }
        _ => {
            // The service's result, issued by the unit that holds it on the day of issue.
            issuer = unit_name(st, app.holder_unit.as_str()).await?;
            let issued = issued_event(st, app)
                .await?
                .0
                .unwrap_or_else(|| st.engine.now());
            date = local(st, issued).date();
            fields.extend(result_fields(st, app, kind, issued, &mut note).await?);
        }
    }
    Ok(Document {
        id: id.to_string(),
        kind,
        number: number.to_string(),
        date,
        issuer,
        title: None,
        fields,
        table: None,
        signatory: None,
        note,
    })
}

// ---------------------------------------------------------------- result contents

/// The `issued` event of an application: its time and the service's result details.
async fn issued_event(
    st: &AppState,
    app: &Application,
) -> Result<(Option<Timestamp>, serde_json::Value), EngineError> {
    let r = one(st, "SELECT at, data_json FROM events WHERE application_id = $1 AND kind = 'issued' ORDER BY seq DESC LIMIT 1", vec![Value::from(app.id.as_str().to_string())]).await?;
    let Some(r) = r else {
        return Ok((None, json!(null)));
    };
    let at = Timestamp::from_microsecond(r.try_get::<i64, _>(0)?).map_err(corrupt)?;
    let data: serde_json::Value =
        serde_json::from_str(&r.try_get::<String, _>(1)?).map_err(corrupt)?;
    Ok((Some(at), data["result"].clone()))
}

/// The application's entry in a service journal: its number, time and data.
async fn journal_entry(
    st: &AppState,
    app: &Application,
    journal: &str,
) -> Result<Option<(String, Timestamp, serde_json::Value)>, EngineError> {
    let r = one(st, "SELECT number, at, data_json FROM journal_entries WHERE application_id = $1 AND journal = $2 ORDER BY at DESC LIMIT 1", vec![Value::from(app.id.as_str().to_string()), Value::from(journal.to_string())]).await?;
    r.map(|r| {
        Ok((
            r.try_get::<String, _>(0)?,
            Timestamp::from_microsecond(r.try_get::<i64, _>(1)?).map_err(corrupt)?,
            serde_json::from_str(&r.try_get::<String, _>(2)?).map_err(corrupt)?,
        ))
    })
    .transpose()
}

/// A registration row: kind, РКА, valid from, valid to.
type RegRow = (String, Option<String>, Timestamp, Option<Timestamp>);

async fn registration_where(
    st: &AppState,
    sql: &str,
    binds: &[String],
) -> Result<Option<RegRow>, EngineError> {
    let args = binds.iter().map(|b| Value::from(b.as_str())).collect();
    let r = one(st, sql, args).await?;
    let ts = |v: i64| Timestamp::from_microsecond(v).map_err(corrupt);
    r.map(|r| {
        Ok((
            r.try_get::<String, _>(0)?,
            r.try_get::<Option<String>, _>(1)?,
            ts(r.try_get::<i64, _>(2)?)?,
            r.try_get::<Option<i64>, _>(3)?.map(ts).transpose()?,
        ))
    })
    .transpose()
}

/// The full text of an address of the register.
async fn address_text(st: &AppState, rka: &str) -> Result<Option<String>, EngineError> {
    Ok(one(
        st,
        "SELECT full_text FROM ar_addresses WHERE rka = $1",
        vec![Value::from(rka.to_string())],
    )
    .await?
    .map(|r| r.try_get::<String, _>(0))
    .transpose()?)
}

fn js(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

/// A `YYYY-MM-DD` date as printed (`DD.MM.YYYY`), anything else as it is.
fn civil(s: &str) -> String {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn sex_text(code: &str) -> &'static str {
    match code {
        "M" | "male" => "ер / мужской",
        "F" | "female" => "әйел / женский",
        _ => "—",
    }
}

fn ground_text(ground: &str) -> String {
    match ground {
        "abroad" => "шетелге тұрақты тұруға кетуі / выезд на постоянное жительство за пределы Республики Казахстан".into(),
        "court" => "сот шешімі / решение суда".into(),
        "prison" => "бас бостандығынан айыруға сотталуы / осуждение к лишению свободы".into(),
        other => other.to_string(),
    }
}

fn registration_kind_text(kind: &str) -> String {
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

fn address_field(value: String) -> Field {
    f("Мекенжайы", "Адрес", "Address", value)
}

fn rka_field(rka: &str) -> Field {
    f(
        "Мекенжайдың тіркеу коды (МТК)",
        "Регистрационный код адреса (РКА)",
        "Address registration code",
        rka,
    )
}

fn journal_field(number: &str) -> Field {
    f(
        "Есепке алу журналындағы нөмірі",
        "Номер записи в журнале учёта",
        "Journal entry",
        number,
    )
}

/// A foreigner's passport data as printed (S6-S9).
fn foreigner_fields(v: &serde_json::Value) -> Vec<Field> {
    let name = [js(v, "surname"), js(v, "given_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    vec![
        f("Тегі, аты", "Фамилия, имя", "Name", name),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            js(v, "birth_date").map(|d| civil(&d)).unwrap_or_default(),
        ),
        f(
            "Жынысы",
            "Пол",
            "Sex",
            sex_text(js(v, "sex").as_deref().unwrap_or("")),
        ),
        f(
            "Азаматтығы",
            "Гражданство",
            "Citizenship",
            js(v, "citizenship").unwrap_or_default().to_uppercase(),
        ),
        f(
            "Паспорт нөмірі",
            "Номер паспорта",
            "Passport",
            js(v, "passport").unwrap_or_default().to_uppercase(),
        ),
    ]
}

fn person_fields(iin: &str, p: &PersonLine) -> Vec<Field> {
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

/// The person's open permanent registration (or the one the application made).
async fn open_registration(st: &AppState, iin: &str) -> Result<Option<RegRow>, EngineError> {
    registration_where(
        st,
        "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE person_iin = $1 AND ended_at IS NULL ORDER BY valid_from DESC LIMIT 1",
        &[iin.to_string()],
    )
    .await
}

/// The fields of a service's result: what the engine recorded on issue (the registers,
/// journals and the `issued` event), dates in Kazakhstan time.
async fn result_fields(
    st: &AppState,
    app: &Application,
    kind: DocumentKind,
    issued: Timestamp,
    note: &mut Option<Text>,
) -> Result<Vec<Field>, EngineError> {
    let input = &app.data["input"];
    let (_, result) = issued_event(st, app).await?;
    let mut out = Vec::new();
    let issued_on = f("Берілген күні", "Дата выдачи", "Issued", dmy(st, issued));
    match kind {
        DocumentKind::TemporaryIdCard => {
            let p = person_line(st, &app.applicant).await?;
            out.extend(person_fields(&app.applicant, &p));
            if let Some(a) = &p.address {
                out.push(address_field(a.clone()));
            }
            if let Some(r) = js(input, "reason") {
                out.push(f("Беру негізі", "Основание выдачи", "Reason", r));
            }
            if let Some((n, _, _)) = journal_entry(st, app, "temporary_id").await? {
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
        }
        DocumentKind::ResidenceRegistrationNotice => {
            let p = person_line(st, &app.applicant).await?;
            out.extend(person_fields(&app.applicant, &p));
            let reg = registration_where(
                st,
                "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE application_id = $1 ORDER BY valid_from DESC LIMIT 1",
                &[app.id.as_str().to_string()],
            )
            .await?;
            let kind_code = reg
                .as_ref()
                .map(|r| r.0.clone())
                .or_else(|| js(&result, "kind"))
                .unwrap_or_else(|| "permanent".into());
            out.push(f(
                "Тіркеу түрі",
                "Вид регистрации",
                "Registration",
                registration_kind_text(&kind_code),
            ));
            if let Some((_, rka, from, to)) = &reg {
                if let Some(rka) = rka {
                    let addr = address_text(st, rka)
                        .await?
                        .or_else(|| js(&result, "address"));
                    out.push(address_field(addr.unwrap_or_default()));
                    out.push(rka_field(rka));
                }
                out.push(f(
                    "Тіркелген күні",
                    "Дата регистрации",
                    "Registered on",
                    dmy(st, *from),
                ));
                if let Some(to) = to {
                    out.push(f(
                        "Тіркеу мерзімі",
                        "Срок регистрации до",
                        "Until",
                        dmy(st, *to),
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
        }
        DocumentKind::DepartureSheet => {
            let p = person_line(st, &app.applicant).await?;
            out.extend(person_fields(&app.applicant, &p));
            let entry = journal_entry(st, app, "departure_sheets").await?;
            let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
            let from = js(&data, "from").or_else(|| js(&result, "from"));
            let ended = registration_where(
                st,
                "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE person_iin = $1 AND ended_by = $2 ORDER BY valid_from DESC LIMIT 1",
                &[app.applicant.clone(), format!("application:{}", app.number)],
            )
            .await?;
            let rka = ended.as_ref().and_then(|r| r.1.clone());
            let from = match (from, &rka) {
                (Some(a), _) => Some(a),
                (None, Some(r)) => address_text(st, r).await?,
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
            let ground = js(input, "ground").or_else(|| js(&result, "ground"));
            out.push(f(
                "Тіркеуден шығару негізі",
                "Основание снятия с регистрации",
                "Ground",
                ground.as_deref().map(ground_text).unwrap_or_default(),
            ));
            if let Some(c) = js(input, "court_decision") {
                out.push(f("Сот шешімі", "Решение суда", "Court decision", c));
            }
            if let Some(d) = js(input, "destination") {
                out.push(f("Кету орны", "Место убытия", "Destination", d));
            }
            out.push(f(
                "Тіркеуден шығарылған күні",
                "Дата снятия с регистрации",
                "Deregistered on",
                dmy(st, issued),
            ));
            if let Some((n, _, _)) = &entry {
                out.push(journal_field(n));
            }
        }
        DocumentKind::AddressCertificate => {
            let entry = journal_entry(st, app, "address_certificates").await?;
            let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
            let subject = js(&data, "subject")
                .or_else(|| js(input, "bin"))
                .or_else(|| js(input, "iin"))
                .unwrap_or_else(|| app.applicant.clone());
            let rka = js(&data, "rka");
            if js(input, "bin").is_some() {
                out.push(f("БСН", "БИН", "BIN", subject.clone()));
            } else {
                let p = person_line(st, &subject).await?;
                out.extend(person_fields(&subject, &p));
                if let Some((kind_code, _, from, _)) = open_registration(st, &subject).await? {
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
                        dmy(st, from),
                    ));
                }
            }
            let addr = match (js(&data, "address"), &rka) {
                (Some(a), _) => Some(a),
                (None, Some(r)) => address_text(st, r).await?,
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
        }
        DocumentKind::BorderZonePass => {
            out.extend(foreigner_fields(&input["foreigner"]));
            out.push(f(
                "Шекаралық аймақ",
                "Пограничная зона",
                "Border zone",
                js(input, "zone").unwrap_or_default(),
            ));
            let until = js(input, "until").or_else(|| js(input, "valid_until"));
            out.push(f(
                "Жарамдылық мерзімі",
                "Срок действия",
                "Valid",
                match until {
                    Some(u) => format!("{} – {}", dmy(st, issued), civil(&u)),
                    None => format!("{} –", dmy(st, issued)),
                },
            ));
            if let Some(pu) = js(input, "purpose") {
                out.push(f("Кіру мақсаты", "Цель въезда", "Purpose", pu));
            }
            if let Some((n, _, _)) = journal_entry(st, app, "border_passes").await? {
                out.push(journal_field(&n));
            }
            out.push(issued_on);
        }
        DocumentKind::Invitation => {
            let mut invitee = foreigner_fields(&input["foreigner"]);
            for fl in &mut invitee {
                fl.label = Text::new(
                    format!("Шақырылатын адам: {}", fl.label.kk),
                    format!("Приглашаемое лицо: {}", fl.label.ru),
                    format!("Invitee: {}", fl.label.en),
                );
            }
            out.extend(invitee);
            let host = person_line(st, &app.applicant).await?;
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
            if let Some(pu) = js(input, "purpose") {
                out.push(f("Сапар мақсаты", "Цель поездки", "Purpose", pu));
            }
            match (js(input, "from"), js(input, "until")) {
                (None, None) => {}
                (a, b) => out.push(f(
                    "Болу мерзімі",
                    "Срок пребывания",
                    "Period",
                    format!(
                        "{} – {}",
                        a.map(|x| civil(&x)).unwrap_or_else(|| dmy(st, issued)),
                        b.map(|x| civil(&x)).unwrap_or_default()
                    ),
                )),
            }
            if let Some((n, _, _)) = journal_entry(st, app, "invitations").await? {
                out.push(journal_field(&n));
            }
            out.push(issued_on);
        }
        DocumentKind::ForeignerRegistrationInsert => {
            out.extend(foreigner_fields(&input["foreigner"]));
            let host = person_line(st, &app.applicant).await?;
            let stay = match js(input, "rka") {
                Some(r) => address_text(st, &r).await?,
                None => None,
            }
            .or_else(|| js(input, "address"))
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
            let entry = journal_entry(st, app, "foreigner_registration").await?;
            let since = entry.as_ref().map(|e| e.1).unwrap_or(issued);
            let until = js(input, "until");
            out.push(f(
                "Тіркелген мерзімі",
                "Срок регистрации",
                "Registered",
                format!(
                    "{} – {}",
                    dmy(st, since),
                    until.map(|u| civil(&u)).unwrap_or_default()
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
        DocumentKind::IinCertificate => {
            let entry = journal_entry(st, app, "iin_formed").await?;
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
            out.extend(foreigner_fields(&input["foreigner"]));
            if let Some((n, at, _)) = &entry {
                out.push(f(
                    "ЖСН қалыптастырылған күні",
                    "Дата формирования ИИН",
                    "IIN formed on",
                    dmy(st, *at),
                ));
                out.push(journal_field(n));
            }
            out.push(issued_on);
        }
        _ => out.push(issued_on),
    }
    Ok(out)
}

/// The content of a registry's document.
async fn registry_document(
    st: &AppState,
    reg: &Registry,
    kind: DocumentKind,
    id: &str,
) -> Result<Document, EngineError> {
    let from = unit_name(st, reg.from_unit.as_str()).await?;
    let to = unit_name(st, reg.to_unit.as_str()).await?;
    let service = service_text(st, &reg.service);
    let mut rows = Vec::new();
    for (i, app) in reg.applications.iter().enumerate() {
        let r = one(
            st,
            "SELECT number, applicant_iin, urgency FROM applications WHERE id = $1",
            vec![Value::from(app.as_str().to_string())],
        )
        .await?;
        let Some(r) = r else { continue };
        let (number, iin, urgency): (String, String, String) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let person = person_line(st, &iin).await?;
        rows.push(vec![
            (i + 1).to_string(),
            number,
            iin,
            person.name,
            urgency_text(&urgency),
        ]);
    }
    let col = |kk: &str, ru: &str, en: &str, width: f32| Column {
        title: Text::new(kk, ru, en),
        width,
    };
    let when = reg.signed_at.unwrap_or(reg.formed_at);
    Ok(Document {
        id: id.to_string(),
        kind,
        number: reg.number.clone(),
        date: local(st, when).date(),
        issuer: from.clone(),
        title: None,
        fields: vec![
            f("Жіберуші", "Отправитель", "From", both(&from)),
            f("Алушы", "Получатель", "To", both(&to)),
            f(
                "Мемлекеттік қызмет",
                "Государственная услуга",
                "Service",
                format!("{} · {}", reg.service, both(&service)),
            ),
            f(
                "Өтініштер саны",
                "Количество заявлений",
                "Applications",
                rows.len().to_string(),
            ),
            f(
                "Қол қойылды",
                "Подписан",
                "Signed",
                format!(
                    "{} {}",
                    reg.signed_by.clone().unwrap_or_default(),
                    dmy_hm(st, when)
                ),
            ),
        ],
        table: Some(Table {
            columns: vec![
                col("№", "№", "No", 0.6),
                col("Өтініш", "Заявление", "Application", 2.8),
                col("ЖСН", "ИИН", "IIN", 2.0),
                col("Тегі, аты", "Фамилия, имя", "Name", 3.4),
                col("Жеделдік", "Срочность", "Urgency", 1.6),
            ],
            rows,
        }),
        signatory: None,
        note: None,
    })
}

/// Where a new document belongs.
enum Owner<'a> {
    Application(&'a ApplicationId),
    Registry(&'a RegistryId),
}

/// Turns to make (render and sign) a document: one a core.
fn making_turn() -> &'static tokio::sync::Semaphore {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    TURNS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Signs `doc` and stores it with its audit record, in one transaction. A document of
/// this kind already stored for the owner (a raced second copy) is not an error.
async fn store_new(
    st: &AppState,
    actor: &Actor,
    owner: Owner<'_>,
    doc: Document,
) -> Result<(), EngineError> {
    let pki = st.pki.clone();
    let base = st.config.base_url.clone();
    let doc = Arc::new(doc);
    let signed = {
        let doc = doc.clone();
        // As many documents made at once as there are cores: more threads rendering only
        // take the CPU from every other request (their latency) without making documents
        // faster.
        let _turn = making_turn().acquire().await.map_err(corrupt)?;
        tokio::task::spawn_blocking(move || drn_docs::issue(&doc, &pki, &base))
            .await
            .map_err(corrupt)?
            .map_err(corrupt)?
    };
    let sha = hex::encode(signed.sha256);
    let now = st.engine.now();
    let (app, reg, subject) = match owner {
        Owner::Application(a) => (
            Some(a.as_str().to_string()),
            None,
            format!("application:{a}"),
        ),
        Owner::Registry(r) => (None, Some(r.as_str().to_string()), format!("registry:{r}")),
    };
    let issuer = serde_json::to_string(&doc.issuer).map_err(corrupt)?;
    // Through the engine's group commit (one fsync shared with the commands of the moment);
    // a document of this kind made meanwhile by another request wins, and this one is
    // dropped without an audit record.
    let insert = drn_store::Statement::new(
        "INSERT INTO documents (id, application_id, registry_id, kind, number, doc_date, issuer_json, sha256, pdf, p7s, issued_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL) ON CONFLICT DO NOTHING",
        vec![
            doc.id.clone().into(),
            app.into(),
            reg.into(),
            doc.kind.code().into(),
            doc.number.clone().into(),
            doc.date.to_string().into(),
            issuer.into(),
            sha.clone().into(),
            signed.pdf.into(),
            signed.p7s.into(),
            now.as_microsecond().into(),
        ],
    );
    st.engine
        .record_made(
            insert,
            actor,
            "document_issued",
            &subject,
            json!({ "document": doc.id, "kind": doc.kind.code(), "number": doc.number, "sha256": sha }),
        )
        .await?;
    Ok(())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Documents queued or being made after their command's answer (see [`after_command`]).
static PENDING: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Documents (an intake's talon, an issue's result) queued or being made after their
/// command was answered: a backlog that grows while intake outruns making (two at a time,
/// one a core) and shrinks after. `/metrics` shows it (`drn_documents_pending`), and the
/// load bench waits for it to empty between its cells.
pub fn documents_pending() -> u64 {
    PENDING.load(std::sync::atomic::Ordering::Relaxed)
}

/// One document in [`PENDING`], counted until dropped (also when its task panics).
struct Pending;

impl Pending {
    fn start() -> Pending {
        PENDING.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Pending
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// One application's documents are made one call at a time: the talon made after an
/// intake's answer (see [`after_command`]) and a listing that comes first then make it
/// once between them. Striped by the application's id, so the locks take fixed memory.
fn owner_turn(id: &ApplicationId) -> &'static tokio::sync::Mutex<()> {
    const STRIPES: usize = 256;
    static TURNS: std::sync::OnceLock<Vec<tokio::sync::Mutex<()>>> = std::sync::OnceLock::new();
    let turns = TURNS.get_or_init(|| (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect());
    let h = id.as_str().bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    &turns[h % STRIPES]
}

/// Makes the documents an application's state calls for that are not stored yet; answers
/// the application's stored documents.
pub async fn ensure_for_application(
    st: &AppState,
    actor: &Actor,
    app: &Application,
) -> Result<Vec<Stored>, EngineError> {
    let _turn = owner_turn(&app.id).lock().await;
    let have = of_application(st, app.id.as_str()).await?;
    let mut made = false;
    for (kind, number) in expected_for(st, app).await? {
        if have.iter().any(|d| d.kind == kind.code()) {
            continue;
        }
        let id = new_id();
        let doc = application_document(st, app, kind, &number, &id).await?;
        store_new(st, actor, Owner::Application(&app.id), doc).await?;
        made = true;
    }
    if made {
        of_application(st, app.id.as_str()).await
    } else {
        Ok(have)
    }
}

/// An application's stored documents for a listing, after making any missing: one that
/// cannot be made now is logged, and what is stored is listed.
async fn made_and_listed(st: &AppState, app: &Application) -> Result<Vec<Stored>, EngineError> {
    match ensure_for_application(st, &Actor::system(), app).await {
        Ok(docs) => Ok(docs),
        Err(e) => {
            tracing::error!(error = %e, "document not made");
            of_application(st, app.id.as_str()).await
        }
    }
}

/// Makes a registry's document once it is signed (or later), when its kind has one.
pub async fn ensure_for_registry(
    st: &AppState,
    actor: &Actor,
    reg: &Registry,
) -> Result<(), EngineError> {
    let Some(kind) = registry_kind(&reg.kind) else {
        return Ok(());
    };
    if reg.status == "formed" {
        return Ok(());
    }
    if of_registry(st, reg.id.as_str())
        .await?
        .iter()
        .any(|d| d.kind == kind.code())
    {
        return Ok(());
    }
    let id = new_id();
    let doc = registry_document(st, reg, kind, &id).await?;
    store_new(st, actor, Owner::Registry(&reg.id), doc).await
}

/// After a command: the documents its outcome produces. A failure is logged, not shown:
/// the command is done, and listing the application's documents makes them later.
///
/// An application's documents (talon, receipt, electronic result) are made after the
/// answer, on a task of their own: the intake's answer does not wait for a PDF to be
/// rendered and signed and for a second commit. Whoever lists them first waits for that
/// task or makes them itself ([`owner_turn`]); one lost in a crash is made when listed.
/// A registry's document is made before the answer (a registry is listed at once, and
/// there are few).
pub async fn after_command(st: &AppState, actor: &Actor, outcome: &Outcome) {
    let application = match outcome {
        Outcome::Accepted { application } | Outcome::IntakeRefused { application, .. } => {
            Some(application)
        }
        // A step on the way makes no document (the talon was made at intake, or is made
        // when next listed); the result's is made when it is issued.
        Outcome::Application { application } if application.status == Status::Issued => {
            Some(application)
        }
        _ => None,
    };
    if let Some(application) = application {
        let (st, actor, application) = (st.clone(), actor.clone(), application.clone());
        let pending = Pending::start();
        tokio::spawn(async move {
            if let Err(e) = ensure_for_application(&st, &actor, &application).await {
                tracing::error!(error = %e, "document not made");
            }
            drop(pending);
        });
        return;
    }
    if let Outcome::Registry { registry } = outcome {
        if let Err(e) = ensure_for_registry(st, actor, registry).await {
            tracing::error!(error = %e, "document not made");
        }
    }
}

// ---------------------------------------------------------------- the API

/// A document as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentInfo {
    pub id: String,
    /// e_registration_talon, refusal_receipt, address_certificate, district_registry, …
    pub kind: String,
    pub title: Text,
    pub number: String,
    #[schema(format = Date)]
    pub date: String,
    #[schema(format = DateTime)]
    pub issued_at: String,
    /// SHA-256 of the PDF, hex.
    pub sha256: String,
    pub revoked: bool,
    pub pdf: String,
    pub p7s: String,
    /// The public verification page (and the QR code's address).
    pub verify: String,
}

impl DocumentInfo {
    pub fn of(d: &Stored, base: &str) -> DocumentInfo {
        DocumentInfo {
            pdf: format!("/api/v1/documents/{}.pdf", d.id),
            p7s: format!("/api/v1/documents/{}.p7s", d.id),
            verify: format!("{}/verify/{}", base.trim_end_matches('/'), d.id),
            id: d.id.clone(),
            kind: d.kind.clone(),
            title: d.title(),
            number: d.number.clone(),
            date: d.date.clone(),
            issued_at: d.issued_at.to_string(),
            sha256: d.sha256.clone(),
            revoked: d.revoked_at.is_some(),
        }
    }
}

/// The visible documents of an application the caller may see (audited read); makes
/// any its state calls for that are missing.
pub async fn visible_for_application(
    st: &AppState,
    ctx: &Ctx,
    id: &ApplicationId,
    screen: &str,
) -> Result<Vec<Stored>, ApiError> {
    let app = st
        .engine
        .application(&ctx.actor, id, screen)
        .await
        .map_err(|e| ctx.err(e))?;
    made_and_listed(st, &app).await.map_err(|e| ctx.err(e))
}

/// The application's documents: talon or receipt, electronic result.
#[utoipa::path(get, path = "/api/v1/applications/{id}/documents", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = Vec<DocumentInfo>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn application_documents(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Vec<DocumentInfo>>, ApiError> {
    ctx.require(SIGNED_IN)?;
    let id = ApplicationId::parse(&id).map_err(|e| ctx.err(e))?;
    let docs = visible_for_application(&st, &ctx, &id, "api:documents").await?;
    Ok(Json(
        docs.iter()
            .map(|d| DocumentInfo::of(d, &st.config.base_url))
            .collect(),
    ))
}

/// May the caller see this document: the application's visibility (an audited read), or
/// the registry's (audited here).
async fn check_access(st: &AppState, ctx: &Ctx, d: &Stored) -> Result<(), ApiError> {
    let screen = format!("document:{}", d.id);
    if let Some(a) = &d.application {
        let id = ApplicationId::parse(a).map_err(|e| ctx.err(e))?;
        st.engine
            .application(&ctx.actor, &id, &screen)
            .await
            .map_err(|e| ctx.err(e))?;
        return Ok(());
    }
    if let Some(r) = &d.registry {
        let id = RegistryId::parse(r).map_err(|e| ctx.err(e))?;
        st.engine
            .registry(&ctx.actor, &id)
            .await
            .map_err(|e| ctx.err(e))?;
        st.audit_event(&ctx.actor.id, "read_document", &format!("registry:{r}"))
            .await;
        return Ok(());
    }
    Err(ApiError::not_found(ctx.lang))
}

/// Splits `ID.pdf` / `ID.p7s`.
fn split_file(file: &str) -> Option<(&str, &'static str)> {
    if let Some(id) = file.strip_suffix(".pdf") {
        Some((id, "pdf"))
    } else {
        file.strip_suffix(".p7s").map(|id| (id, "p7s"))
    }
}

/// A document's signed PDF (`{id}.pdf`) or its detached CMS signature (`{id}.p7s`), for
/// those who may see its application (a citizen: their own) or registry.
#[utoipa::path(get, path = "/api/v1/documents/{file}", tag = "documents", params(("file" = String, Path, description = "ID.pdf or ID.p7s")),
    responses((status = 200, description = "application/pdf or application/pkcs7-signature", content_type = "application/octet-stream", body = Vec<u8>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(file): PathOf<String>,
) -> Result<Response, ApiError> {
    ctx.require(SIGNED_IN)?;
    let lang = ctx.lang;
    let (id, ext) = split_file(&file).ok_or_else(|| ApiError::not_found(lang))?;
    let d = load(&st, id)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| ApiError::not_found(lang))?;
    check_access(&st, &ctx, &d).await?;
    let bytes = bytes_of(&st, id, ext)
        .await
        .map_err(|e| ctx.err(e))?
        .ok_or_else(|| ApiError::not_found(lang))?;
    let ctype = if ext == "pdf" {
        "application/pdf"
    } else {
        "application/pkcs7-signature"
    };
    let name: String = format!("{}-{}.{ext}", d.kind, d.number)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// What anyone may learn of a document: what the document itself shows, and whether it
/// is genuine, unchanged and not revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyAnswer {
    pub id: String,
    pub kind: String,
    pub title: Text,
    pub number: String,
    #[schema(format = Date)]
    pub date: String,
    /// The issuing unit.
    pub issuer: Text,
    /// The stored PDF's signatures verify against the CA.
    pub genuine: bool,
    /// The stored PDF is byte for byte what was issued (its SHA-256).
    pub unchanged: bool,
    pub revoked: bool,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
    /// Genuine, unchanged and not revoked.
    pub valid: bool,
    /// Who signed it (the organisations' names).
    pub signed_by: Vec<String>,
    /// SHA-256 of the registered PDF, hex: compare a copy with it.
    pub sha256: String,
}

/// Checks a stored document; `None` when there is none.
pub async fn check(st: &AppState, id: &str) -> Result<Option<VerifyAnswer>, EngineError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    let Some(d) = load(st, id).await? else {
        return Ok(None);
    };
    let pdf = bytes_of(st, id, "pdf").await?.unwrap_or_default();
    let unchanged = hex::encode(Sha256::digest(&pdf)) == d.sha256;
    let v = drn_docs::verify(&pdf, st.pki.ca_der()).map_err(corrupt)?;
    let revoked = d.revoked_at.is_some();
    Ok(Some(VerifyAnswer {
        id: d.id.clone(),
        kind: d.kind.clone(),
        title: d.title(),
        number: d.number.clone(),
        date: d.date.clone(),
        issuer: d.issuer.clone(),
        genuine: v.genuine,
        unchanged,
        revoked,
        revoked_at: d.revoked_at.map(|t| t.to_string()),
        valid: v.genuine && unchanged && !revoked,
        signed_by: v
            .signatures
            .iter()
            .map(|s| s.common_name.clone().unwrap_or_else(|| s.subject.clone()))
            .collect(),
        sha256: d.sha256,
    }))
}

/// Public verification of a document (no sign-in): whether it exists, is genuine,
/// unchanged and not revoked, and only what the document itself shows.
#[utoipa::path(get, path = "/api/v1/verify/{id}", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = VerifyAnswer), (status = 404, body = ErrorBody)))]
pub async fn verify_api(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    PathOf(id): PathOf<String>,
) -> Result<Json<VerifyAnswer>, ApiError> {
    check(&st, &id)
        .await
        .map_err(|e| ApiError::engine(e, lang))?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(lang))
}

/// The answer about an uploaded copy.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadAnswer {
    pub id: String,
    /// The upload is byte for byte the registered document.
    pub identical: bool,
    /// The upload's own signatures verify against the CA.
    pub genuine: bool,
    pub revoked: bool,
    /// Identical, genuine and the document not revoked.
    pub valid: bool,
}

/// POST /verify/{id} with a PDF body (`application/pdf`, at most [`MAX_UPLOAD`] bytes):
/// is THAT file genuine and identical to the registered document.
pub async fn verify_upload(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<UploadAnswer>, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/pdf") {
        return Err(ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "invalid".into(),
            message: "send the PDF itself as application/pdf".into(),
            field: Some("content-type".into()),
        });
    }
    if body.len() > MAX_UPLOAD {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large".into(),
            message: format!("at most {MAX_UPLOAD} bytes"),
            field: None,
        });
    }
    let d = match uuid::Uuid::parse_str(&id) {
        Ok(_) => load(&st, &id)
            .await
            .map_err(|e| ApiError::engine(e, lang))?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::not_found(lang))?;
    let identical = hex::encode(Sha256::digest(&body)) == d.sha256;
    let genuine = drn_docs::verify(&body, st.pki.ca_der()).is_ok_and(|v| v.genuine);
    let revoked = d.revoked_at.is_some();
    Ok(Json(UploadAnswer {
        id: d.id,
        identical,
        genuine,
        revoked,
        valid: identical && genuine && !revoked,
    }))
}

/// Words of the documents' pages, in the visitor's language.
pub fn w(lang: Lang, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

// ---------------------------------------------------------------- the public page

#[derive(askama::Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    tr: crate::web::Tr,
    nav: crate::web::Nav,
    heading: &'static str,
    verdict: &'static str,
    doc: Option<VerifyAnswer>,
    l_kind: &'static str,
    l_number: &'static str,
    l_date: &'static str,
    l_issuer: &'static str,
    l_genuine: &'static str,
    l_unchanged: &'static str,
    l_revoked: &'static str,
    l_signed: &'static str,
    l_upload: &'static str,
    l_upload_hint: &'static str,
    l_identical: &'static str,
    l_not_identical: &'static str,
}

/// GET /verify/{id}: the QR code's page, for anyone, without signing in.
pub async fn verify_page(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    page: Result<Ctx, ApiError>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let path = format!("/verify/{id}");
    let nav = match &page {
        Ok(ctx) => crate::web::Nav::for_ctx(ctx, &path),
        Err(_) => crate::web::Nav::anonymous(&path),
    };
    let doc = match check(&st, &id).await {
        Ok(d) => d,
        Err(e) => return ApiError::engine(e, lang).into_response(),
    };
    let verdict = match &doc {
        None => w(
            lang,
            "Мұндай құжат тіркелмеген",
            "Такой документ не зарегистрирован",
            "No such document is registered",
        ),
        Some(d) if d.valid => w(
            lang,
            "Құжат түпнұсқа, өзгертілмеген және күшін жоймаған",
            "Документ подлинный, не изменён и не отозван",
            "The document is genuine, unchanged and not revoked",
        ),
        Some(d) if d.revoked => w(
            lang,
            "Құжаттың күші жойылған",
            "Документ отозван",
            "The document has been revoked",
        ),
        Some(_) => w(
            lang,
            "Құжаттың қолтаңбасы расталмады",
            "Подпись документа не подтверждена",
            "The document's signature does not verify",
        ),
    };
    let status = if doc.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = VerifyPage {
        tr: crate::web::Tr { lang },
        nav,
        heading: w(
            lang,
            "Құжаттың түпнұсқалығын тексеру",
            "Проверка подлинности документа",
            "Document verification",
        ),
        verdict,
        doc,
        l_kind: w(lang, "Құжат түрі", "Вид документа", "Document"),
        l_number: w(lang, "Нөмірі", "Номер", "Number"),
        l_date: w(lang, "Күні", "Дата", "Date"),
        l_issuer: w(lang, "Берген бөлімше", "Выдавшее подразделение", "Issued by"),
        l_genuine: w(lang, "Қолтаңба дұрыс", "Подпись верна", "Signature valid"),
        l_unchanged: w(lang, "Өзгертілмеген", "Не изменён", "Unchanged"),
        l_revoked: w(lang, "Күші жойылған", "Отозван", "Revoked"),
        l_signed: w(lang, "Қол қойған", "Подписал", "Signed by"),
        l_upload: w(
            lang,
            "Қолыңыздағы файлды салыстыру",
            "Сравнить файл, который у вас",
            "Compare the file you hold",
        ),
        l_upload_hint: w(
            lang,
            "PDF файлын таңдаңыз: ол тіркелген құжатпен байтқа дейін бірдей ме және қолтаңбасы дұрыс па, тексереміз.",
            "Выберите PDF-файл: проверим, совпадает ли он с зарегистрированным документом байт в байт и верна ли его подпись.",
            "Choose the PDF: we check that it is byte for byte the registered document and that its signature verifies.",
        ),
        l_identical: w(
            lang,
            "Файл түпнұсқа және тіркелген құжатпен бірдей",
            "Файл подлинный и совпадает с зарегистрированным документом",
            "The file is genuine and identical to the registered document",
        ),
        l_not_identical: w(
            lang,
            "Файл тіркелген құжатпен сәйкес емес",
            "Файл не совпадает с зарегистрированным документом",
            "The file is NOT the registered document",
        ),
    };
    (status, crate::web::render(&page, lang)).into_response()
}

/// A document as linked from a page.
pub struct DocLink {
    pub title: String,
    pub number: String,
    pub date: String,
    pub pdf: String,
    pub verify: String,
    pub verify_label: &'static str,
    pub revoked: bool,
}

impl DocLink {
    pub fn of(d: &Stored, lang: Lang) -> DocLink {
        DocLink {
            title: d.title().get(lang).to_string(),
            number: d.number.clone(),
            date: d.date.clone(),
            pdf: format!("/api/v1/documents/{}.pdf", d.id),
            verify: format!("/verify/{}", d.id),
            verify_label: w(
                lang,
                "Түпнұсқалығын тексеру",
                "Проверить подлинность",
                "Verify",
            ),
            revoked: d.revoked_at.is_some(),
        }
    }
}

/// Links to an application's documents, for a page whose caller already may see it;
/// makes any its state calls for that are missing (the talon of an intake just answered
/// may still be in the making: see [`after_command`]).
pub async fn links(st: &AppState, application: &Application, lang: Lang) -> Vec<DocLink> {
    match made_and_listed(st, application).await {
        Ok(ds) => ds.iter().map(|d| DocLink::of(d, lang)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "documents not listed");
            Vec::new()
        }
    }
}

// ---------------------------------------------------------------- revocation

/// Who may revoke a document: a central officer any, an officer of the issuing unit
/// (the unit that accepted or holds the application, the registry's sender) its own.
const REVOKERS: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
];

/// Why a document is revoked.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// The reason, kept with the document and in the audit log.
    pub reason: String,
}

/// The issuing units of a stored document.
async fn issuing_units(st: &AppState, d: &Stored) -> Result<Vec<String>, EngineError> {
    let (sql, id) = match (&d.application, &d.registry) {
        (Some(a), _) => (
            "SELECT accepted_unit, holder_unit FROM applications WHERE id = $1",
            a,
        ),
        (None, Some(r)) => (
            "SELECT from_unit, from_unit FROM registries WHERE id = $1",
            r,
        ),
        _ => return Ok(Vec::new()),
    };
    let r = one(st, sql, vec![Value::from(id.clone())]).await?;
    Ok(match r {
        Some(r) => vec![r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?],
        None => Vec::new(),
    })
}

/// Revokes a document with a reason (audited `document_revoked`); /verify/{id} then says
/// it is revoked. A central officer revokes any document, an officer of the issuing unit
/// that unit's; revoking twice is a conflict.
pub async fn revoke(
    st: &AppState,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<Stored, EngineError> {
    let reason = reason.trim();
    if reason.chars().count() < 5 || reason.chars().count() > 500 {
        return Err(EngineError::invalid(
            "reason",
            "the reason of revocation, 5 to 500 characters",
        ));
    }
    let d = match uuid::Uuid::parse_str(id) {
        Ok(_) => load(st, id).await?,
        Err(_) => None,
    }
    .ok_or_else(|| EngineError::not_found("document", id))?;
    if actor.role != Role::CentralOfficer {
        let units = issuing_units(st, &d).await?;
        let own = actor
            .unit
            .as_ref()
            .is_some_and(|u| units.iter().any(|x| x == u.as_str()));
        if !(REVOKERS.contains(&actor.role) && own) {
            return Err(EngineError::forbidden(
                "only the issuing unit or the central office revokes a document",
            ));
        }
    }
    let now = st.engine.now();
    let mut tx = st.engine.db.begin().await?;
    let done = drn_store::query(
        "UPDATE documents SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(now.as_microsecond())
    .bind(reason.to_string())
    .bind(d.id.clone())
    .execute(&mut *tx)
    .await
    .map_err(drn_store::StoreError::from)?;
    if done.rows_affected() == 0 {
        return Err(EngineError::invalid(
            "document",
            "the document is already revoked",
        ));
    }
    let subject = match (&d.application, &d.registry) {
        (Some(a), _) => format!("application:{a}"),
        (None, Some(r)) => format!("registry:{r}"),
        _ => format!("document:{}", d.id),
    };
    drn_engine::audit::append(
        &mut tx,
        now,
        &actor.id,
        "document_revoked",
        &subject,
        &json!({ "document": d.id, "kind": d.kind, "number": d.number, "reason": reason }),
    )
    .await?;
    tx.commit().await.map_err(drn_store::StoreError::from)?;
    Ok(Stored {
        revoked_at: Some(now),
        revoked_reason: Some(reason.to_string()),
        ..d
    })
}

/// Revokes a document (a central officer, or an officer of the issuing unit), with a
/// reason kept in the audit log; its verification then says revoked.
#[utoipa::path(post, path = "/api/v1/documents/{file}/revoke", tag = "documents", params(("file" = String, Path, description = "the document's id")), request_body = RevokeRequest,
    responses((status = 200, body = DocumentInfo), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn revoke_api(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(file): PathOf<String>,
    crate::extract::Body(r): crate::extract::Body<RevokeRequest>,
) -> Result<Json<DocumentInfo>, ApiError> {
    ctx.require(REVOKERS)?;
    let d = revoke(&st, &ctx.actor, &file, &r.reason)
        .await
        .map_err(|e| ctx.err(e))?;
    Ok(Json(DocumentInfo::of(&d, &st.config.base_url)))
}
