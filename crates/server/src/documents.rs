//! Result documents and receipts in the running system: what the engine's commands
//! produce (the e-registration talon on acceptance, the receipt of refusal at intake, the
//! electronic result on issue, the registries when signed or sent) rendered by `drn_docs`,
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
use drn_core::catalog::ResultForm;
use drn_core::{Lang, Text};
use drn_docs::{Column, Document, DocumentKind, Field, Table};
use drn_engine::{
    Actor, Application, ApplicationId, EngineError, Outcome, Registry, RegistryId, Role, Status,
};
use drn_store::Row;
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

/// The largest PDF accepted for comparison at POST /verify/{id} (the server-wide body
/// limit is the same).
pub const MAX_UPLOAD: usize = 256 * 1024;

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

fn stored(r: &drn_store::AnyRow) -> Result<Stored, EngineError> {
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
    let row = drn_store::query(&format!("SELECT {COLS} FROM documents WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(st.engine.db.reader())
        .await?;
    row.as_ref().map(stored).transpose()
}

/// The documents of an application, oldest first.
pub async fn of_application(st: &AppState, id: &str) -> Result<Vec<Stored>, EngineError> {
    let rows = drn_store::query(&format!(
        "SELECT {COLS} FROM documents WHERE application_id = $1 ORDER BY issued_at, kind"
    ))
    .bind(id.to_string())
    .fetch_all(st.engine.db.reader())
    .await?;
    rows.iter().map(stored).collect()
}

/// The documents of a registry.
pub async fn of_registry(st: &AppState, id: &str) -> Result<Vec<Stored>, EngineError> {
    let rows = drn_store::query(&format!(
        "SELECT {COLS} FROM documents WHERE registry_id = $1 ORDER BY issued_at, kind"
    ))
    .bind(id.to_string())
    .fetch_all(st.engine.db.reader())
    .await?;
    rows.iter().map(stored).collect()
}

/// The documents of a person's applications (the portal's "my documents"), newest first.
pub async fn of_person(st: &AppState, iin: &str) -> Result<Vec<Stored>, EngineError> {
    let cols: Vec<String> = COLS.split(", ").map(|c| format!("d.{c}")).collect();
    let rows = drn_store::query(&format!(
        "SELECT {} FROM documents d JOIN applications a ON a.id = d.application_id WHERE a.applicant_iin = $1 ORDER BY d.issued_at DESC LIMIT 200",
        cols.join(", ")
    ))
    .bind(iin.to_string())
    .fetch_all(st.engine.db.reader())
    .await?;
    rows.iter().map(stored).collect()
}

/// The PDF (`pdf`) or the detached signature (`p7s`) of a document.
async fn bytes_of(st: &AppState, id: &str, what: &str) -> Result<Option<Vec<u8>>, EngineError> {
    let col = if what == "p7s" { "p7s" } else { "pdf" };
    let row = drn_store::query(&format!("SELECT {col} FROM documents WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(st.engine.db.reader())
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
    let r = drn_store::query(
        "SELECT surname, given_name, patronymic, birth_date, data_json FROM persons WHERE iin = $1",
    )
    .bind(iin.to_string())
    .fetch_optional(st.engine.db.reader())
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
    Ok(st
        .engine
        .units()
        .await?
        .into_iter()
        .find(|u| u.id.as_str() == id)
        .map(|u| u.name)
        .unwrap_or_else(|| Text::new(id, id, id)))
}

fn service_text(st: &AppState, code: &str) -> Text {
    st.engine
        .catalog
        .service(code)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| Text::new(code, code, code))
}

/// The kind of an electronic result of a service, when it has one.
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
        let electronic = st
            .engine
            .locate(&app.service, &app.version, &app.process)
            .is_ok_and(|(v, _)| {
                matches!(
                    v.result_form,
                    ResultForm::Electronic | ResultForm::PaperAndElectronic
                )
            });
        if let (true, Some(kind)) = (electronic, result_kind(&app.service)) {
            let number = drn_store::query(
                "SELECT number FROM issued_documents WHERE application_id = $1 ORDER BY issued_at DESC LIMIT 1",
            )
            .bind(app.id.as_str().to_string())
            .fetch_optional(st.engine.db.reader())
            .await?
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
    let person = person_line(st, &app.applicant).await?;
    let service = service_text(st, &app.service);
    let unit = unit_name(st, app.accepted_unit.as_str()).await?;
    let mut fields = vec![
        f("ЖСН", "ИИН", "IIN", app.applicant.clone()),
        f(
            "Тегі, аты, әкесінің аты",
            "Фамилия, имя, отчество",
            "Full name",
            person.name.clone(),
        ),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            person.birth.clone(),
        ),
        f(
            "Мемлекеттік қызмет",
            "Государственная услуга",
            "Service",
            format!("{} · {}", app.service, both(&service)),
        ),
        f(
            "Өтініш нөмірі",
            "Номер заявления",
            "Application number",
            app.number.clone(),
        ),
    ];
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
            // The electronic result: the service's result, issued by the unit that holds it.
            issuer = unit_name(st, app.holder_unit.as_str()).await?;
            date = local(st, st.engine.now()).date();
            if let Ok((ver, _)) = st.engine.locate(&app.service, &app.version, &app.process) {
                fields.push(f("Нәтиже", "Результат", "Result", both(&ver.result)));
            }
            if let Some(addr) = &person.address {
                fields.push(f(
                    "Тұрғылықты мекенжайы",
                    "Адрес места жительства",
                    "Address",
                    addr.clone(),
                ));
            }
            fields.push(f(
                "Берілген күні",
                "Дата выдачи",
                "Issued",
                date.strftime("%d.%m.%Y").to_string(),
            ));
            if kind == DocumentKind::AddressCertificate {
                note = Some(Text::new(
                    "Анықтама ІІМ мен Әділет министрлігінің электрондық цифрлық қолтаңбаларымен куәландырылған.",
                    "Справка удостоверена электронными цифровыми подписями МВД и Министерства юстиции.",
                    "Signed by the MVD and the Ministry of Justice.",
                ));
            }
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
        let r = drn_store::query(
            "SELECT number, applicant_iin, urgency FROM applications WHERE id = $1",
        )
        .bind(app.as_str().to_string())
        .fetch_optional(st.engine.db.reader())
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
        tokio::task::spawn_blocking(move || drn_docs::issue(&doc, &pki, &base))
            .await
            .map_err(corrupt)?
            .map_err(corrupt)?
    };
    let sha = hex::encode(Sha256::digest(&signed.pdf));
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
    let mut tx = st.engine.db.begin().await?;
    let inserted = drn_store::query("INSERT INTO documents (id, application_id, registry_id, kind, number, doc_date, issuer_json, sha256, pdf, p7s, issued_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL)")
        .bind(doc.id.clone())
        .bind(app)
        .bind(reg)
        .bind(doc.kind.code())
        .bind(doc.number.clone())
        .bind(doc.date.to_string())
        .bind(issuer)
        .bind(sha.clone())
        .bind(signed.pdf)
        .bind(signed.p7s)
        .bind(now.as_microsecond())
        .execute(&mut *tx)
        .await;
    if let Err(e) = inserted {
        let e = drn_store::StoreError::from(e);
        if e.is_unique_violation() {
            return Ok(());
        }
        return Err(e.into());
    }
    drn_engine::audit::append(
        &mut tx,
        now,
        &actor.id,
        "document_issued",
        &subject,
        &json!({ "document": doc.id, "kind": doc.kind.code(), "number": doc.number, "sha256": sha }),
    )
    .await?;
    tx.commit().await.map_err(drn_store::StoreError::from)?;
    Ok(())
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Makes the documents an application's state calls for that are not stored yet.
pub async fn ensure_for_application(
    st: &AppState,
    actor: &Actor,
    app: &Application,
) -> Result<(), EngineError> {
    let have = of_application(st, app.id.as_str()).await?;
    for (kind, number) in expected_for(st, app).await? {
        if have.iter().any(|d| d.kind == kind.code()) {
            continue;
        }
        let id = new_id();
        let doc = application_document(st, app, kind, &number, &id).await?;
        store_new(st, actor, Owner::Application(&app.id), doc).await?;
    }
    Ok(())
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
pub async fn after_command(st: &AppState, actor: &Actor, outcome: &Outcome) {
    let res = match outcome {
        Outcome::Accepted { application }
        | Outcome::IntakeRefused { application, .. }
        | Outcome::Application { application } => {
            ensure_for_application(st, actor, application).await
        }
        Outcome::Registry { registry } => ensure_for_registry(st, actor, registry).await,
        #[allow(unreachable_patterns)]
        _ => Ok(()),
    };
    if let Err(e) = res {
        tracing::error!(error = %e, "document not made");
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
    if let Err(e) = ensure_for_application(st, &Actor::system(), &app).await {
        tracing::error!(error = %e, "document not made");
    }
    of_application(st, id.as_str())
        .await
        .map_err(|e| ctx.err(e))
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

/// Links to an application's documents, for a page whose caller already may see it.
pub async fn links(st: &AppState, application: &str, lang: Lang) -> Vec<DocLink> {
    match of_application(st, application).await {
        Ok(ds) => ds.iter().map(|d| DocLink::of(d, lang)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "documents not listed");
            Vec::new()
        }
    }
}
