//! Making a command's documents: rendered and signed after the command, stored with
//! their own audit record.
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

use drn_core::{Lang, Text};
use drn_docs::{Document, DocumentKind};
use drn_engine::documents::NewDocument;
use drn_engine::services::print::{
    both, dmy, dmy_hm, f, foreigner_fields, local, person_fields, registry_kind, urgency_text,
};
use drn_engine::services::{applicant_foreigner, result_kind, talon_kind};
use drn_engine::{
    Actor, Application, ApplicationId, EngineError, Outcome, Registry, RegistryId, Status,
};

use super::{corrupt, DocLink, Stored};
use crate::AppState;

/// The documents an application's state calls for: (kind, number).
pub(super) async fn expected_for(
    st: &AppState,
    app: &Application,
) -> Result<Vec<(DocumentKind, String)>, EngineError> {
    let mut out = Vec::new();
    if app.status == Status::IntakeRefused {
        out.push((DocumentKind::RefusalReceipt, format!("R-{}", app.number)));
        return Ok(out);
    }
    out.push((talon_kind(&app.service), app.number.clone()));
    if app.status == Status::Refused {
        // A motivated refusal after intake, or S9's error message: see `closing_document`.
        if let Some(doc) = st.engine.closing(app).await?.and_then(|c| c.document) {
            out.push(doc);
        }
    }
    if app.status == Status::Issued {
        // Every result gets its PDF, paper ones too: see [`result_kind`].
        if let Some(kind) = result_kind(&app.service) {
            let number = st
                .engine
                .issued_document_number(&app.id)
                .await?
                .unwrap_or_else(|| app.number.clone());
            out.push((kind, number));
        }
    }
    Ok(out)
}

/// The content of an application's document of `kind`.
pub(super) async fn application_document(
    st: &AppState,
    app: &Application,
    kind: DocumentKind,
    number: &str,
    id: &str,
) -> Result<Document, EngineError> {
    let service = st.engine.service_name(&app.service);
    let unit = st.engine.unit_name(app.accepted_unit.as_str()).await?;
    let is_result = result_kind(&app.service) == Some(kind);
    let mut fields = Vec::new();
    if !is_result {
        // Talons and receipts: who applied (a foreigner without an IIN: the passport data).
        if let Some(foreigner) = applicant_foreigner(app)? {
            fields.extend(foreigner_fields(&foreigner));
        } else {
            let person = st.engine.person_line(&app.applicant).await?;
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
    let tz = &st.engine.tz;
    let mut date = local(tz, app.accepted_at).date();
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
                dmy_hm(tz, app.accepted_at),
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
                urgency_text(app.urgency.code()),
            ));
            fields.push(f(
                "Қабылданған уақыты",
                "Время приёма",
                "Accepted",
                dmy_hm(tz, app.accepted_at),
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
                    dmy(tz, due),
                ));
            }
            // The formulary certified with the officer's own ЭЦП at intake (issue 33).
            if let Some(sig) = app.data["input"].get(drn_engine::services::FORMULARY_SIGNATURE) {
                let when = sig["signing_time"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(|t| dmy_hm(tz, t))
                    .unwrap_or_default();
                fields.push(f(
                    "Формуляр ЭЦҚ-мен куәландырылды",
                    "Формуляр заверен ЭЦП",
                    "Formulary certified with EDS",
                    format!(
                        "{}, {} / {}, {when}",
                        sig["name"].as_str().unwrap_or_default(),
                        sig["position"]["kk"].as_str().unwrap_or_default(),
                        sig["position"]["ru"].as_str().unwrap_or_default(),
                    ),
                ));
            }
        }
        DocumentKind::MotivatedRefusal | DocumentKind::ErrorMessage => {
            // The decision, by the unit that took it, on its day: the engine's.
            let closing = st
                .engine
                .closing(app)
                .await?
                .ok_or_else(|| EngineError::Corrupt(format!("{} has no ending", app.number)))?;
            fields.extend(closing.fields(tz));
            date = local(tz, closing.at).date();
            issuer = closing.unit;
        }
        _ => {
            // The service's result: its fields are the engine's.
            let result = st.engine.result_document(app, kind).await?;
            issuer = result.issuer;
            date = local(tz, result.issued).date();
            fields.extend(result.fields);
            note = result.note;
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

/// The content of a registry's document: the engine's ([`drn_engine::registry_print`]).
pub(super) async fn registry_document(
    st: &AppState,
    reg: &Registry,
    id: &str,
) -> Result<Option<Document>, EngineError> {
    let Some(p) = st.engine.registry_print(reg).await? else {
        return Ok(None);
    };
    Ok(Some(Document {
        id: id.to_string(),
        kind: p.kind,
        number: reg.number.clone(),
        date: local(&st.engine.tz, p.when).date(),
        issuer: p.issuer,
        title: None,
        fields: p.fields,
        table: Some(p.table),
        signatory: None,
        note: p.note,
    }))
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
        // Signed at the engine's clock (a demo "as of 2019-11-20" signs on that day).
        let at = st.engine.now();
        tokio::task::spawn_blocking(move || drn_docs::issue_at(&doc, &pki, &base, at))
            .await
            .map_err(corrupt)?
            .map_err(corrupt)?
    };
    let (application, registry) = match owner {
        Owner::Application(a) => (Some(a.as_str().to_string()), None),
        Owner::Registry(r) => (None, Some(r.as_str().to_string())),
    };
    // Through the engine's group commit (one fsync shared with the commands of the moment);
    // a document of this kind made meanwhile by another request wins, and this one is
    // dropped without an audit record.
    st.engine
        .store_document(
            actor,
            NewDocument {
                id: doc.id.clone(),
                application,
                registry,
                kind: doc.kind.code().to_string(),
                number: doc.number.clone(),
                date: doc.date.to_string(),
                issuer_json: serde_json::to_string(&doc.issuer).map_err(corrupt)?,
                sha256: hex::encode(signed.sha256),
                pdf: signed.pdf,
                p7s: signed.p7s,
                issued_at: st.engine.now(),
            },
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
    let have = st.engine.documents_of_application(app.id.as_str()).await?;
    let mut made = false;
    for (kind, number) in expected_for(st, app).await? {
        if have.iter().any(|d| d.kind == kind.code()) {
            continue;
        }
        if super::signing::officer_signs(kind) {
            // Signed by its officer: finished from their signed draft; one waiting for
            // their signature is not made without it (issue 33).
            if let Some(d) = st
                .engine
                .signed_draft(Some(app.id.as_str()), None, kind.code())
                .await?
            {
                made |= super::signing::finish(st, actor, &d).await?;
                continue;
            }
            if st.engine.has_draft(app.id.as_str(), kind.code()).await? {
                continue;
            }
        }
        let id = new_id();
        let doc = application_document(st, app, kind, &number, &id).await?;
        store_new(st, actor, Owner::Application(&app.id), doc).await?;
        made = true;
    }
    if made {
        st.engine.documents_of_application(app.id.as_str()).await
    } else {
        Ok(have)
    }
}

/// An application's stored documents for a listing, after making any missing: one that
/// cannot be made now is logged, and what is stored is listed.
pub(super) async fn made_and_listed(
    st: &AppState,
    app: &Application,
) -> Result<Vec<Stored>, EngineError> {
    match ensure_for_application(st, &Actor::system(), app).await {
        Ok(docs) => Ok(docs),
        Err(e) => {
            tracing::error!(error = %e, "document not made");
            st.engine.documents_of_application(app.id.as_str()).await
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
    if st
        .engine
        .documents_of_registry(reg.id.as_str())
        .await?
        .iter()
        .any(|d| d.kind == kind.code())
    {
        return Ok(());
    }
    // Signed by its officer before the command: finished from their draft (issue 33).
    if let Some(d) = st
        .engine
        .signed_draft(None, Some(reg.id.as_str()), kind.code())
        .await?
    {
        super::signing::finish(st, actor, &d).await?;
        return Ok(());
    }
    let id = new_id();
    let Some(doc) = registry_document(st, reg, &id).await? else {
        return Ok(());
    };
    store_new(st, actor, Owner::Registry(&reg.id), doc).await
}

/// A registry's stored documents for a listing, after making the one its state calls for
/// (a registry signed before its kind had a document, or whose making failed): one that
/// cannot be made now is logged, and what is stored is listed.
pub async fn registry_made_and_listed(
    st: &AppState,
    reg: &Registry,
) -> Result<Vec<Stored>, EngineError> {
    if let Err(e) = ensure_for_registry(st, &Actor::system(), reg).await {
        tracing::error!(error = %e, "registry document not made");
    }
    st.engine.documents_of_registry(reg.id.as_str()).await
}

/// Links to a registry's documents, for a page whose caller already may see it.
pub async fn registry_links(st: &AppState, reg: &Registry, lang: Lang) -> Vec<DocLink> {
    match registry_made_and_listed(st, reg).await {
        Ok(ds) => ds.iter().map(|d| DocLink::of(d, lang)).collect(),
        Err(e) => {
            tracing::error!(error = %e, "documents not listed");
            Vec::new()
        }
    }
}

/// After a command: the documents its outcome produces (`signed_by_actor`: the command was
/// the officer's own issue or refusal, whose document waits for their signature when
/// signatures are required). A failure is logged, not shown:
/// the command is done, and listing the application's documents makes them later.
///
/// An application's documents (talon, receipt, electronic result) are made after the
/// answer, on a task of their own: the intake's answer does not wait for a PDF to be
/// rendered and signed and for a second commit. Whoever lists them first waits for that
/// task or makes them itself ([`owner_turn`]); one lost in a crash is made when listed.
/// A registry's document is made before the answer (a registry is listed at once, and
/// there are few).
pub async fn after_command(st: &AppState, actor: &Actor, outcome: &Outcome, signed_by_actor: bool) {
    let application = match outcome {
        Outcome::Accepted { application } | Outcome::IntakeRefused { application, .. } => {
            Some(application)
        }
        // A step on the way makes no document (the talon was made at intake, or is made
        // when next listed); the result's is made when it is issued, the refusal's when
        // refused.
        Outcome::Application { application }
            if matches!(application.status, Status::Issued | Status::Refused) =>
        {
            Some(application)
        }
        _ => None,
    };
    if let Some(application) = application {
        if signed_by_actor
            && st.config.signatures.required
            && super::signing::signs_personally(actor)
        {
            // The result or refusal waits for its officer's signature: rendered for them
            // now, released when they sign (issue 33).
            match super::signing::awaiting(st, application).await {
                Ok(Some(_)) => {
                    if let Err(e) =
                        super::signing::prepare_application(st, actor, Lang::Ru, application).await
                    {
                        tracing::error!(error = ?e.code(), "draft not prepared");
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "draft not prepared"),
            }
        }
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
