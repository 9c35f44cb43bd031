//! Public verification of a document (no sign-in): the QR code's page, its API, and the
//! comparison of an uploaded copy with the registered document.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use drn_core::Text;
use drn_engine::documents::DocumentPart;
use drn_engine::EngineError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{corrupt, w, MAX_UPLOAD};
use crate::auth::{Ctx, LangOf};
use crate::error::{ApiError, ErrorBody};
use crate::extract::PathOf;
use crate::AppState;

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

/// An instant of the API's answer (RFC 3339) as the pages write it (dd.mm.yyyy hh:mm,
/// Kazakhstan time); as it stands when it is none.
pub(crate) fn when(at: &str) -> String {
    at.parse::<jiff::Timestamp>()
        .map(crate::web::kz)
        .unwrap_or_else(|_| at.to_string())
}

/// Checks a stored document; `None` when there is none.
pub async fn check(st: &AppState, id: &str) -> Result<Option<VerifyAnswer>, EngineError> {
    // An id that is not a UUID names no document: the engine answers none.
    let Some(d) = st.engine.document(id).await? else {
        return Ok(None);
    };
    let pdf = st
        .engine
        .document_bytes(id, DocumentPart::Pdf)
        .await?
        .unwrap_or_default();
    let unchanged = hex::encode(Sha256::digest(&pdf)) == d.sha256;
    // The installed roots and intermediates too: an officer's CMS from NCALayer carries
    // only their own certificate.
    let trust = super::signing::trust(st)?;
    let v = drn_docs::verify_trusting(&pdf, &trust).map_err(corrupt)?;
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
        .await?
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

/// Compares an uploaded copy with the registered document `id` (`None`: no such document).
async fn compare(
    st: &AppState,
    id: &str,
    body: &[u8],
) -> Result<Option<UploadAnswer>, EngineError> {
    let d = st.engine.document(id).await?;
    let trust = super::signing::trust(st)?;
    Ok(d.map(|d| {
        let identical = hex::encode(Sha256::digest(body)) == d.sha256;
        let genuine = drn_docs::verify_trusting(body, &trust).is_ok_and(|v| v.genuine);
        let revoked = d.revoked_at.is_some();
        UploadAnswer {
            id: d.id,
            identical,
            genuine,
            revoked,
            valid: identical && genuine && !revoked,
        }
    }))
}

/// POST /verify/{id}: is THAT file genuine and identical to the registered document. With
/// a PDF body (`application/pdf`, at most [`MAX_UPLOAD`] bytes) the answer is JSON; with
/// the page's form (`multipart/form-data`, the file in `file`) it is the page with the
/// result, so the check needs no script (issue 29).
pub async fn verify_upload(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    page: Result<Ctx, ApiError>,
    axum::extract::Path(id): axum::extract::Path<String>,
    req: axum::extract::Request,
) -> Response {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if ctype.starts_with("multipart/form-data") {
        let upload = match read_file(req, &st).await {
            Ok(bytes) if !bytes.is_empty() => match compare(&st, &id, &bytes).await {
                Ok(a) => a.map(Upload::Compared),
                Err(e) => return ApiError::from(e).into_response(),
            },
            Ok(_) => Some(Upload::NoFile),
            Err(too_large) => Some(if too_large {
                Upload::TooLarge
            } else {
                Upload::NoFile
            }),
        };
        return verify_page_with(&st, lang, page, &id, upload).await;
    }
    if !ctype.starts_with("application/pdf") {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid",
            "send the PDF itself as application/pdf",
            Some("content-type"),
        )
        .into_response();
    }
    let body = match Bytes::from_request(req, &st).await {
        Ok(b) if b.len() <= MAX_UPLOAD => b,
        _ => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("at most {MAX_UPLOAD} bytes"),
                None,
            )
            .into_response()
        }
    };
    match compare(&st, &id, &body).await {
        Ok(Some(a)) => Json(a).into_response(),
        Ok(None) => ApiError::not_found(lang).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The form's file (`file`); `Err(true)` when it is over the limit, `Err(false)` when the
/// form cannot be read.
async fn read_file(req: axum::extract::Request, st: &AppState) -> Result<Vec<u8>, bool> {
    let mut m = Multipart::from_request(req, st).await.map_err(|_| false)?;
    let mut file = Vec::new();
    loop {
        match m.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| e.status() == StatusCode::PAYLOAD_TOO_LARGE)?;
                if name == "file" {
                    file = bytes.to_vec();
                }
            }
            Ok(None) => break,
            Err(e) => return Err(e.status() == StatusCode::PAYLOAD_TOO_LARGE),
        }
    }
    if file.len() > MAX_UPLOAD {
        return Err(true);
    }
    Ok(file)
}

/// What became of a copy sent with the page's form.
enum Upload {
    Compared(UploadAnswer),
    NoFile,
    TooLarge,
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
    l_choose: &'static str,
    l_check: &'static str,
    /// The result of a copy sent with the form: (ok, what to say).
    upload: Option<(bool, &'static str)>,
}

/// GET /verify/{id}: the QR code's page, for anyone, without signing in.
pub async fn verify_page(
    State(st): State<AppState>,
    LangOf(lang): LangOf,
    page: Result<Ctx, ApiError>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    verify_page_with(&st, lang, page, &id, None).await
}

/// The page, with the result of a copy sent with its form when there is one.
async fn verify_page_with(
    st: &AppState,
    lang: drn_core::Lang,
    page: Result<Ctx, ApiError>,
    id: &str,
    upload: Option<Upload>,
) -> Response {
    let path = format!("/verify/{id}");
    let nav = match &page {
        Ok(ctx) => crate::web::Nav::for_ctx(ctx, &path),
        Err(_) => crate::web::Nav::anonymous(&path),
    };
    let doc = match check(st, id).await {
        Ok(d) => d,
        Err(e) => return ApiError::from(e).into_response(),
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
    let l_identical = w(
        lang,
        "Файл түпнұсқа және тіркелген құжатпен бірдей",
        "Файл подлинный и совпадает с зарегистрированным документом",
        "The file is genuine and identical to the registered document",
    );
    let l_not_identical = w(
        lang,
        "Файл тіркелген құжатпен сәйкес емес",
        "Файл не совпадает с зарегистрированным документом",
        "The file is NOT the registered document",
    );
    let upload = upload.map(|u| match u {
        Upload::Compared(a) if a.valid => (true, l_identical),
        Upload::Compared(_) => (false, l_not_identical),
        Upload::NoFile => (
            false,
            w(
                lang,
                "PDF файлын таңдаңыз",
                "Выберите PDF-файл",
                "Choose the PDF file",
            ),
        ),
        Upload::TooLarge => (
            false,
            w(
                lang,
                "Файл тым үлкен: құжаттың PDF файлын таңдаңыз",
                "Файл слишком велик: выберите PDF-файл документа",
                "The file is too large: choose the document's PDF",
            ),
        ),
    });
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
        l_identical,
        l_not_identical,
        l_choose: w(lang, "PDF файлы", "PDF-файл", "PDF file"),
        l_check: w(lang, "Тексеру", "Проверить", "Check"),
        upload,
    };
    (status, crate::web::render(&page, lang)).into_response()
}
