//! Officers sign documents with their own keys (issue 33).
//!
//! Where an officer certifies a document with their ЭЦП (a registry they sign or send, a
//! result they issue, a motivated refusal), the server renders the document with an empty
//! signature value in the officer's name and position ([`prepare`]); the page asks the
//! officer's signing application (NCALayer, or the demo's stand-in) for a CMS over the
//! PDF's signed bytes; the server checks it ([`accept`]: the chain to the installed roots,
//! key usage, validity at the signing time, revocation where lists are configured, and the
//! certificate's IIN against the signed-in officer's) before anything is accepted, keeps it,
//! and finishes the document ([`finish`]): the officer's CMS inside the PDF, then the
//! authorities' signatures after it, so `pdfsig` lists each signer.
//!
//! A registry is signed before its command (the command is refused without the
//! signature when signatures are required); a result or a refusal is rendered for the
//! officer right after the command that produces it, and is released once signed.

use base64::Engine as _;
use drn_core::{Lang, Text};
use drn_docs::officer::{verify_officer, Expectation, Holder, Revocation, SignatureRefusal, Trust};
use drn_docs::pdfsig::Placeholder;
use drn_docs::{Document, DocumentKind, Rendered, Signatory};
use drn_engine::documents::NewDocument;
use drn_engine::drafts::{Draft, NewDraft, OfficerOnRecord};
use drn_engine::{Actor, Application, EngineError, Registry, Role};
use sha2::{Digest, Sha256};

use super::corrupt;
use crate::error::ApiError;
use crate::AppState;

/// How long a prepared draft waits for its signature.
const DRAFT_LIFETIME: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);
/// How far an officer's signing time may be from the server's clock.
const SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(10);

/// The signature policy an administrator sets (`drn serve --officer-signatures`, the
/// trusted roots and revocation lists).
#[derive(Debug, Clone, Default)]
pub struct Signatures {
    /// Officers must sign: a registry is not signed or sent, a result or refusal not
    /// released, without their verified signature. Off: a document an officer did not sign
    /// is signed by the authorities alone (tests of other matters, and systems without
    /// NCALayer yet).
    pub required: bool,
    /// PEM bundles of trusted roots and intermediates (НУЦ РК's, in production); the data
    /// directory's demo CA is trusted besides.
    pub trust_files: Vec<std::path::PathBuf>,
    /// Revocation lists (CRL files, DER or PEM) of the issuers, kept current by the
    /// administrator.
    pub crl_files: Vec<std::path::PathBuf>,
    /// Revocation lists fetched from their distribution points' addresses.
    pub crl_feed: std::sync::Arc<super::revocation::CrlFeed>,
    /// A signature whose certificate cannot be checked against a current list is refused.
    pub revocation_required: bool,
    /// The WebSocket address the pages ask for signatures (NCALayer's is
    /// `wss://127.0.0.1:13579`; the demo's signer has its own).
    pub signer_url: String,
}

/// NCALayer's address on the officer's computer.
pub const NCALAYER_URL: &str = "wss://127.0.0.1:13579";

impl Signatures {
    /// The address pages connect to.
    pub fn signer_url(&self) -> &str {
        if self.signer_url.is_empty() {
            NCALAYER_URL
        } else {
            &self.signer_url
        }
    }
}

/// Does an officer sign documents of `kind` with their own key? Registries (sent with the
/// officer's ЭЦП), the service's results and motivated refusals. Talons and receipts are
/// the system's, signed by the authority alone; so is S9's error message, which the MVD's
/// system makes.
pub fn officer_signs(kind: DocumentKind) -> bool {
    !matches!(
        kind,
        DocumentKind::ERegistrationTalon
            | DocumentKind::RefusalReceipt
            | DocumentKind::AcceptanceTalon
            | DocumentKind::ErrorMessage
    )
}

/// Does `actor` sign with their own key where an officer certifies: an officer, or an API
/// client of another state system acting in an officer's role under its own certificate
/// (not the system, the portal or the demo's stand-in for the MVD operator)?
pub fn signs_personally(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Role::CounterOperator
            | Role::DistrictOfficer
            | Role::RegionalOfficer
            | Role::CentralOfficer
            | Role::ProductionOperator
    ) && (!actor.id.contains(':') || actor.id.starts_with("client:"))
}

fn refusal(lang: Lang, t: &Text, code: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code,
        t.get(lang).to_string(),
        Some("signature"),
    )
}

fn no_iin(lang: Lang) -> ApiError {
    refusal(
        lang,
        &Text::new(
            "Жазбада қызметкердің ЖСН-і немесе ақпараттық жүйенің БСН-і жоқ: әкімшіге хабарласыңыз, онсыз ЭЦҚ тексерілмейді.",
            "В учётной записи нет ИИН сотрудника или БИН информационной системы: обратитесь к администратору, без них подпись ЭЦП не проверить.",
            "The record has no officer's IIN or information system's BIN: ask the administrator; a signature cannot be checked without it.",
        ),
        "signature_no_iin",
    )
}

/// The identity the signer's certificate must carry, as the page or client is told it:
/// `IIN…`'s 12 digits for an officer, `BIN…` for an API client's system.
fn holder_of(officer: &OfficerOnRecord, lang: Lang) -> Result<String, ApiError> {
    match (&officer.iin, &officer.bin) {
        (Some(iin), _) => Ok(iin.to_string()),
        (None, Some(bin)) => Ok(format!("BIN{bin}")),
        (None, None) => Err(no_iin(lang)),
    }
}

/// A registry's act needs its officer's signature first.
pub fn required_for_registry(lang: Lang) -> ApiError {
    refusal(
        lang,
        &Text::new(
            "Тізілімге өз ЭЦҚ-ңызбен қол қойыңыз: қол қойылмаған тізілім жіберілмейді.",
            "Подпишите реестр своей ЭЦП: без подписи реестр не подписывается и не отправляется.",
            "Sign the registry with your own EDS: without it the registry is not signed or sent.",
        ),
        "signature_required",
    )
}

fn draft_gone(lang: Lang) -> ApiError {
    refusal(
        lang,
        &Text::new(
            "Қол қоюға дайындалған құжат табылмады, оның мерзімі өтті немесе оған қол қойылған: қайта қол қойыңыз.",
            "Подготовленный к подписи документ не найден, устарел или уже подписан: подпишите заново.",
            "The document prepared for signing is not found, expired or already signed: sign again.",
        ),
        "signature_draft_gone",
    )
}

fn nothing_to_sign(lang: Lang) -> ApiError {
    refusal(
        lang,
        &Text::new(
            "Мұнда қол қоятын құжат жоқ.",
            "Здесь нечего подписывать.",
            "There is nothing to sign here.",
        ),
        "signature_nothing_to_sign",
    )
}

/// What a page or an API client signs.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Prepared {
    /// The draft's id: send it back with the signature.
    pub draft: String,
    /// The bytes to sign, base64 (the PDF without its signature value): a detached CMS
    /// over them, as NCALayer's `basicsSignCMS` or `createCAdESFromBase64` make it.
    pub data: String,
    /// SHA-256 of those bytes, hex (for signing by hash).
    pub sha256: String,
    /// Whose certificate must sign: the officer's IIN (12 digits), or `BIN…` for an API
    /// client's system.
    pub iin: String,
    /// The document's title and number, as the officer reads them.
    pub title: String,
}

/// The trust of this server: the data directory's CA, the installed bundles, the
/// configured revocation lists (files, and the lists fetched from their addresses). The
/// verify page trusts the same.
pub fn trust(st: &AppState) -> Result<Trust, EngineError> {
    let mut t = Trust::default();
    t.add_bundle(st.pki.ca_pem().as_bytes()).map_err(corrupt)?;
    for path in &st.config.signatures.trust_files {
        let bytes = std::fs::read(path).map_err(corrupt)?;
        t.add_bundle(&bytes).map_err(corrupt)?;
    }
    for path in &st.config.signatures.crl_files {
        let bytes = std::fs::read(path).map_err(corrupt)?;
        t.add_crl(&bytes).map_err(corrupt)?;
    }
    for bytes in st.config.signatures.crl_feed.lists() {
        t.add_crl(&bytes).map_err(corrupt)?;
    }
    Ok(t)
}

async fn officer(st: &AppState, actor: &Actor) -> Result<OfficerOnRecord, EngineError> {
    st.engine
        .officer_on_record(&actor.id)
        .await?
        .ok_or_else(|| EngineError::not_found("staff", actor.id.clone()))
}

/// Renders `doc` for `actor`'s signature and keeps the draft.
async fn draft_of(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    officer: &OfficerOnRecord,
    mut doc: Document,
    owner: (Option<String>, Option<String>),
) -> Result<Prepared, ApiError> {
    let identity = holder_of(officer, lang)?;
    doc.signatory = Some(Signatory {
        position: officer.position.clone(),
        name: officer.full_name.clone(),
        iin: officer.iin,
        bin: officer.iin.is_none().then_some(officer.bin).flatten(),
    });
    let now = st.engine.now();
    let base = st.config.base_url.clone();
    let name = officer.full_name.clone();
    let doc = std::sync::Arc::new(doc);
    let (pdf, placeholder) = {
        let doc = doc.clone();
        tokio::task::spawn_blocking(move || drn_docs::draft_for_officer(&doc, &base, &name, now))
            .await
            .map_err(corrupt)?
            .map_err(corrupt)?
    };
    let data = {
        let (a, b) = placeholder
            .covered(pdf.bytes())
            .ok_or_else(|| corrupt("placeholder outside the PDF"))?;
        let mut joined = Vec::with_capacity(a.len() + b.len());
        joined.extend_from_slice(a);
        joined.extend_from_slice(b);
        base64::engine::general_purpose::STANDARD.encode(joined)
    };
    let (bytes, layout) = pdf.into_parts().map_err(corrupt)?;
    let prepared = Prepared {
        draft: doc.id.clone(),
        data,
        sha256: hex::encode(placeholder.digest),
        iin: identity,
        title: format!("{} № {}", doc.title().ru, doc.number),
    };
    st.engine
        .put_draft(
            actor,
            NewDraft {
                id: doc.id.clone(),
                application: owner.0,
                registry: owner.1,
                kind: doc.kind.code().to_string(),
                number: doc.number.clone(),
                date: doc.date.to_string(),
                document_json: serde_json::to_string(&*doc).map_err(corrupt)?,
                pdf: bytes,
                layout_json: layout,
                placeholder_json: serde_json::to_string(&placeholder).map_err(corrupt)?,
                expires_at: now + DRAFT_LIFETIME,
            },
        )
        .await?;
    Ok(prepared)
}

/// Prepares a formed registry's document for `actor`'s signature: rendered as it will be
/// once signed now.
pub async fn prepare_registry(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    reg: &Registry,
) -> Result<Prepared, ApiError> {
    // The sending unit's officer signs its registry.
    if actor.unit.as_ref() != Some(&reg.from_unit) {
        return Err(ApiError::forbidden_role(lang));
    }
    if reg.status != "formed" {
        return Err(nothing_to_sign(lang));
    }
    let officer = officer(st, actor).await?;
    let mut projected = reg.clone();
    projected.signed_at = Some(st.engine.now());
    let id = uuid::Uuid::new_v4().to_string();
    let Some(doc) = super::making::registry_document(st, &projected, &id).await? else {
        return Err(nothing_to_sign(lang));
    };
    draft_of(
        st,
        actor,
        lang,
        &officer,
        doc,
        (None, Some(reg.id.as_str().to_string())),
    )
    .await
}

/// Prepares the document an application's state calls for that its officer signs and that
/// is not stored yet (a result after its issue, a motivated refusal).
pub async fn prepare_application(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    app: &Application,
) -> Result<Prepared, ApiError> {
    // Its unit's officer signs what the unit issued or refused.
    if actor.unit.as_ref() != Some(&app.holder_unit) {
        return Err(ApiError::forbidden_role(lang));
    }
    let Some((kind, number)) = awaiting(st, app).await? else {
        return Err(nothing_to_sign(lang));
    };
    let officer = officer(st, actor).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let doc = super::making::application_document(st, app, kind, &number, &id).await?;
    draft_of(
        st,
        actor,
        lang,
        &officer,
        doc,
        (Some(app.id.as_str().to_string()), None),
    )
    .await
}

/// The officer-signed document an application's state calls for and that is not stored
/// yet: (kind, number).
pub async fn awaiting(
    st: &AppState,
    app: &Application,
) -> Result<Option<(DocumentKind, String)>, EngineError> {
    let have = st.engine.documents_of_application(app.id.as_str()).await?;
    Ok(super::making::expected_for(st, app)
        .await?
        .into_iter()
        .find(|(k, _)| officer_signs(*k) && !have.iter().any(|d| d.kind == k.code())))
}

/// Checks `cms_b64` as `actor`'s signature of draft `id` and keeps it (audited). A
/// refused signature changes nothing and is audited as refused.
pub async fn accept(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    id: &str,
    cms_b64: &str,
) -> Result<Draft, ApiError> {
    let draft = st.engine.draft(id).await?.ok_or_else(|| draft_gone(lang))?;
    let now = st.engine.now();
    if draft.staff != actor.id || draft.cms.is_some() || draft.expires_at < now {
        return Err(draft_gone(lang));
    }
    let officer = officer(st, actor).await?;
    let placeholder: Placeholder =
        serde_json::from_str(&draft.placeholder_json).map_err(corrupt)?;
    let cms = base64::engine::general_purpose::STANDARD
        .decode(cms_b64.trim())
        .map_err(|e| {
            let r = SignatureRefusal::Malformed(e.to_string());
            refusal(lang, &r.text(), r.code())
        })?;
    let verified = check(
        st,
        actor,
        lang,
        &placeholder.digest,
        &cms,
        &draft.subject(),
        &draft.kind,
    )
    .await?;
    let signer = serde_json::json!({
        "subject": verified.subject,
        "name": verified.common_name,
        "certificate": verified.certificate_serial,
        "signing_time": verified.signing_time.to_string(),
        "position": officer.position,
    });
    if !st
        .engine
        .record_draft_signature(actor, &draft, verified.cms.clone(), signer.clone())
        .await?
    {
        return Err(draft_gone(lang));
    }
    Ok(Draft {
        cms: Some(verified.cms),
        signer_json: Some(signer.to_string()),
        ..draft
    })
}

/// Checks `cms` as the signed-in officer's signature over bytes whose SHA-256 is `digest`;
/// a refusal is audited against `subject` and answered in the officer's language.
async fn check(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    digest: &[u8; 32],
    cms: &[u8],
    subject: &str,
    what: &str,
) -> Result<drn_docs::officer::OfficerSignature, ApiError> {
    let officer = officer(st, actor).await?;
    let holder = match (&officer.iin, &officer.bin) {
        (Some(iin), _) => Holder::Person(iin),
        (None, Some(bin)) => Holder::Organisation(bin),
        (None, None) => return Err(no_iin(lang)),
    };
    let now = st.engine.now();
    st.config.signatures.crl_feed.refresh_if_due(now).await;
    let trust = trust(st)?;
    let expect = Expectation {
        digest,
        holder,
        now,
        skew: SKEW,
        revocation: if st.config.signatures.revocation_required {
            Revocation::Required
        } else {
            Revocation::WhenAvailable
        },
    };
    match verify_officer(cms, &expect, &trust) {
        Ok(v) => Ok(v),
        Err(r) => {
            let detail =
                serde_json::json!({ "what": what, "refusal": r.code(), "why": r.to_string() });
            if let Err(e) = st
                .engine
                .audit_event(&actor.id, "signature_refused", subject, &detail)
                .await
            {
                tracing::error!(error = %e, "audit append failed");
            }
            Err(refusal(lang, &r.text(), r.code()))
        }
    }
}

/// Does `actor` certify the electronic formulary of an intake of `service` with their ЭЦП
/// (the service's rules say where: S1, seed 000 annex 1 table 1 row 1)?
pub fn certifies_formulary(st: &AppState, actor: &Actor, service: &str) -> bool {
    st.config.signatures.required
        && signs_personally(actor)
        && drn_engine::services::officer_certifies_formulary(service)
}

/// The bytes of an intake's formulary that its officer signs: the intake as the server
/// reads the form (JSON), without the signature itself.
pub fn formulary_bytes(cmd: &drn_engine::Command) -> Result<Vec<u8>, EngineError> {
    serde_json::to_vec(cmd).map_err(corrupt)
}

/// What the regional officer signs to approve an online renewal (seed 001 п. 3.17: they
/// certify the request with their ЭЦП and send it to production): the decision on this
/// application at this revision.
pub fn approval_bytes(app: &drn_engine::ApplicationId, number: &str, revision: i64) -> Vec<u8> {
    serde_json::json!({
        "act": "online_renewal_approval",
        "application": app.as_str(),
        "number": number,
        "revision": revision,
        "decision": "approve",
    })
    .to_string()
    .into_bytes()
}

/// An intake's formulary as its officer (or API client) signs it: the intake without any
/// signature field, and the bytes to sign. A value sent in the intake's data under
/// [`drn_engine::services::FORMULARY_SIGNATURE`] is never kept as sent: a base64 CMS there is
/// the API's way to send the signature (returned), anything else is refused.
pub fn formulary_of(
    lang: Lang,
    accept: &mut drn_engine::commands::Accept,
) -> Result<(Vec<u8>, Option<String>), ApiError> {
    let sent = accept
        .data
        .as_object_mut()
        .and_then(|o| o.remove(drn_engine::services::FORMULARY_SIGNATURE));
    let cms = match sent {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(_) => {
            let r = SignatureRefusal::Malformed("not a base64 CMS".to_string());
            return Err(refusal(lang, &r.text(), r.code()));
        }
    };
    // An intake whose data held only the signature reads as one sent without data.
    if accept.data.as_object().is_some_and(|o| o.is_empty()) {
        accept.data = serde_json::Value::Null;
    }
    let bytes = formulary_bytes(&drn_engine::Command::Accept(accept.clone()))?;
    Ok((bytes, cms))
}

/// Certifies an intake's formulary where its service's rules and the policy ask for it,
/// or where a signature is sent anyway: the signature (`cms`, or the one sent in the data)
/// is checked over [`formulary_of`]'s bytes and what is kept of it goes into the intake's
/// data, kept in the intake's own transaction. Refused: a missing signature where one is
/// required, or one that does not verify; nothing is accepted then.
pub async fn certify_intake(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    accept: &mut drn_engine::commands::Accept,
    cms: Option<String>,
) -> Result<(), ApiError> {
    let (bytes, sent) = formulary_of(lang, accept)?;
    let cms = cms.filter(|c| !c.trim().is_empty()).or(sent);
    if cms.is_none() && !certifies_formulary(st, actor, &accept.service) {
        return Ok(());
    }
    let certified =
        certify_formulary(st, actor, lang, &bytes, cms.as_deref().unwrap_or_default()).await?;
    if accept.data.is_null() {
        accept.data = serde_json::json!({});
    }
    if let Some(o) = accept.data.as_object_mut() {
        o.insert(
            drn_engine::services::FORMULARY_SIGNATURE.to_string(),
            certified,
        );
    }
    Ok(())
}

/// Checks the officer's signature of an intake's formulary (`bytes`); what the intake
/// keeps of it.
pub async fn certify_formulary(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    bytes: &[u8],
    cms_b64: &str,
) -> Result<serde_json::Value, ApiError> {
    certify_statement(st, actor, lang, bytes, cms_b64, "formulary").await
}

/// Checks the officer's signature of `bytes` (a formulary, an approval); what the act keeps
/// of it: the CMS, the signer, the signing time and the SHA-256 of what was signed.
pub async fn certify_statement(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    bytes: &[u8],
    cms_b64: &str,
    subject: &str,
) -> Result<serde_json::Value, ApiError> {
    if cms_b64.trim().is_empty() {
        return Err(refusal(
            lang,
            &Text::new(
                "Өз ЭЦҚ-ңызбен куәландырыңыз (NCALayer).",
                "Заверьте своей ЭЦП (NCALayer).",
                "Certify with your own EDS (NCALayer).",
            ),
            "signature_required",
        ));
    }
    let cms = base64::engine::general_purpose::STANDARD
        .decode(cms_b64.trim())
        .map_err(|e| {
            let r = SignatureRefusal::Malformed(e.to_string());
            refusal(lang, &r.text(), r.code())
        })?;
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let v = check(st, actor, lang, &digest, &cms, subject, subject).await?;
    let officer = officer(st, actor).await?;
    Ok(serde_json::json!({
        "cms": base64::engine::general_purpose::STANDARD.encode(&v.cms),
        "subject": v.subject,
        "name": v.common_name,
        "position": officer.position,
        "certificate": v.certificate_serial,
        "signing_time": v.signing_time.to_string(),
        "sha256": hex::encode(digest),
    }))
}

/// The answer to a page's "prepare" call: what to sign and where.
pub fn prepared_json(st: &AppState, data: &[u8], iin: &str) -> serde_json::Value {
    serde_json::json!({
        "draft": "",
        "data": base64::engine::general_purpose::STANDARD.encode(data),
        "iin": iin,
        "signer": st.config.signatures.signer_url(),
    })
}

/// Finishes a signed draft into its stored document: the officer's CMS in its place, the
/// authorities' signatures after it, stored with its audit record. False when the owner
/// had its document of this kind already.
pub async fn finish(st: &AppState, actor: &Actor, draft: &Draft) -> Result<bool, EngineError> {
    let Some(cms) = draft.cms.clone() else {
        return Err(corrupt("finishing an unsigned draft"));
    };
    let doc: Document = serde_json::from_str(&draft.document_json).map_err(corrupt)?;
    let placeholder: Placeholder =
        serde_json::from_str(&draft.placeholder_json).map_err(corrupt)?;
    let pdf = Rendered::from_parts(draft.pdf.clone(), &draft.layout_json).map_err(corrupt)?;
    let pki = st.pki.clone();
    let now = st.engine.now();
    let doc = std::sync::Arc::new(doc);
    let issued = {
        let doc = doc.clone();
        tokio::task::spawn_blocking(move || {
            drn_docs::finish_officer_signed(pdf, &placeholder, &cms, &doc, &pki, now)
        })
        .await
        .map_err(corrupt)?
        .map_err(corrupt)?
    };
    debug_assert_eq!(<[u8; 32]>::from(Sha256::digest(&issued.pdf)), issued.sha256);
    st.engine
        .store_document(
            actor,
            NewDocument {
                id: draft.id.clone(),
                application: draft.application.clone(),
                registry: draft.registry.clone(),
                kind: draft.kind.clone(),
                number: draft.number.clone(),
                date: draft.date.clone(),
                issuer_json: serde_json::to_string(&doc.issuer).map_err(corrupt)?,
                sha256: hex::encode(issued.sha256),
                pdf: issued.pdf,
                p7s: issued.p7s,
                issued_at: now,
            },
        )
        .await
}

/// An officer's signature sent with a command or for a draft.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Submitted {
    /// The draft signed (from the prepare call).
    pub draft: Option<String>,
    /// The detached CMS over the draft's bytes, base64.
    pub signature: Option<String>,
}

/// Before a registry's sign or send: when it leaves "formed" by this command, its officer's
/// signature is checked and kept (required when signatures are required and the actor
/// signs personally); nothing is written when refused.
pub async fn gate_registry(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    registry: &drn_engine::RegistryId,
    submitted: &Submitted,
) -> Result<(), ApiError> {
    let reg = st.engine.registry(actor, registry).await?;
    if reg.status != "formed" || drn_engine::services::print::registry_kind(&reg.kind).is_none() {
        return Ok(());
    }
    match (&submitted.draft, &submitted.signature) {
        (Some(d), Some(s)) => {
            let draft = accept(st, actor, lang, d, s).await?;
            if draft.registry.as_deref() != Some(reg.id.as_str()) {
                return Err(draft_gone(lang));
            }
            Ok(())
        }
        _ if st.config.signatures.required && signs_personally(actor) => {
            Err(required_for_registry(lang))
        }
        _ => Ok(()),
    }
}

/// Signs an application's waiting document: checks and keeps the signature, then finishes
/// the document. The stored document's id.
pub async fn sign_application_document(
    st: &AppState,
    actor: &Actor,
    lang: Lang,
    app: &Application,
    submitted: &Submitted,
) -> Result<String, ApiError> {
    let (Some(d), Some(s)) = (&submitted.draft, &submitted.signature) else {
        return Err(draft_gone(lang));
    };
    let Some(waiting) = st.engine.draft(d).await? else {
        return Err(draft_gone(lang));
    };
    if waiting.application.as_deref() != Some(app.id.as_str()) {
        return Err(draft_gone(lang));
    }
    let draft = accept(st, actor, lang, d, s).await?;
    finish(st, actor, &draft).await?;
    Ok(draft.id)
}
