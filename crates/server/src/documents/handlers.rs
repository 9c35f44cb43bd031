//! The documents' API: an application's list, a document's PDF or signature, revocation.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use drn_core::Text;
use drn_engine::documents::DocumentPart;
use drn_engine::{Actor, ApplicationId, EngineError, RegistryId, Role};
use serde::Serialize;
use utoipa::ToSchema;

use super::making::{made_and_listed, registry_made_and_listed};
use super::{Stored, SIGNED_IN};
use crate::auth::Ctx;
use crate::error::{ApiError, ErrorBody};
use crate::extract::PathOf;
use crate::AppState;

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
    let app = st.engine.application(&ctx.actor, id, screen).await?;
    Ok(made_and_listed(st, &app).await?)
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
    let id = ApplicationId::parse(&id)?;
    let docs = visible_for_application(&st, &ctx, &id, "api:documents").await?;
    Ok(Json(
        docs.iter()
            .map(|d| DocumentInfo::of(d, &st.config.base_url))
            .collect(),
    ))
}

/// A registry's documents (its signed registry, or the cover letter), for whoever may see
/// the registry (its units, the centre, an auditor); makes the one its state calls for if
/// it is missing.
#[utoipa::path(get, path = "/api/v1/registries/{id}/documents", tag = "documents", params(("id" = String, Path)),
    responses((status = 200, body = Vec<DocumentInfo>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn registry_documents(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(id): PathOf<String>,
) -> Result<Json<Vec<DocumentInfo>>, ApiError> {
    ctx.require(SIGNED_IN)?;
    let id = RegistryId::parse(&id)?;
    let reg = st.engine.registry(&ctx.actor, &id).await?;
    let docs = registry_made_and_listed(&st, &reg).await?;
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
        let id = ApplicationId::parse(a)?;
        st.engine.application(&ctx.actor, &id, &screen).await?;
        return Ok(());
    }
    if let Some(r) = &d.registry {
        let id = RegistryId::parse(r)?;
        st.engine.registry(&ctx.actor, &id).await?;
        st.audit_event(&ctx.actor.id, "read_document", &format!("registry:{r}"))
            .await;
        return Ok(());
    }
    Err(ApiError::not_found(ctx.lang))
}

/// Splits `ID.pdf` / `ID.p7s`.
fn split_file(file: &str) -> Option<(&str, &'static str, DocumentPart)> {
    if let Some(id) = file.strip_suffix(".pdf") {
        Some((id, "pdf", DocumentPart::Pdf))
    } else {
        file.strip_suffix(".p7s")
            .map(|id| (id, "p7s", DocumentPart::P7s))
    }
}

/// A document's signed PDF (`{id}.pdf`) or its detached CMS signature (`{id}.p7s`), for
/// those who may see its application (a citizen: their own) or registry.
#[utoipa::path(get, path = "/api/v1/documents/{file}", tag = "documents", params(("file" = String, Path, description = "ID.pdf or ID.p7s")),
    responses((status = 200, description = "the PDF (FILE.pdf) or its detached CMS signature (FILE.p7s)", content((Vec<u8> = "application/pdf"), (Vec<u8> = "application/pkcs7-signature"))), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    PathOf(file): PathOf<String>,
) -> Result<Response, ApiError> {
    ctx.require(SIGNED_IN)?;
    let lang = ctx.lang;
    let (id, ext, part) = split_file(&file).ok_or_else(|| ApiError::not_found(lang))?;
    let d = st
        .engine
        .document(id)
        .await?
        .ok_or_else(|| ApiError::not_found(lang))?;
    check_access(&st, &ctx, &d).await?;
    let bytes = st
        .engine
        .document_bytes(id, part)
        .await?
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
            drn_engine::Refusal::RevocationReasonForm,
        ));
    }
    let d = st
        .engine
        .document(id)
        .await?
        .ok_or_else(|| EngineError::not_found("document", id))?;
    if actor.role != Role::CentralOfficer {
        let units = st.engine.issuing_units(&d).await?;
        let own = actor
            .unit
            .as_ref()
            .is_some_and(|u| units.iter().any(|x| x == u.as_str()));
        if !(REVOKERS.contains(&actor.role) && own) {
            return Err(EngineError::forbidden(drn_engine::Refusal::RevokedByIssuer));
        }
    }
    let now = st.engine.now();
    if !st.engine.revoke_document(actor, &d, reason, now).await? {
        return Err(EngineError::invalid(
            "document",
            drn_engine::Refusal::AlreadyRevoked,
        ));
    }
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
    let d = revoke(&st, &ctx.actor, &file, &r.reason).await?;
    Ok(Json(DocumentInfo::of(&d, &st.config.base_url)))
}
