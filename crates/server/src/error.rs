//! One error shape for every response: a stable code, a message in the caller's language,
//! and the field at fault. Mapped once from the engine's errors, whose message is written
//! in the caller's language when the response is made.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use drn_core::Lang;
use drn_engine::EngineError;
use serde::Serialize;

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `not_found`, `forbidden`, `conflict`, `invalid`, `unauthenticated`, …
    pub code: String,
    /// For people, in the language of `Accept-Language` (kk, ru, en).
    pub message: String,
    /// The request field at fault, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error response. An engine's error is kept as it is and written in the caller's
/// language when the response is made (the language of the request, see [`with_lang`]),
/// so handlers pass it on with `?`; the server's own refusals are written when made.
#[derive(Debug)]
pub enum ApiError {
    /// The engine refused or failed.
    Engine(EngineError),
    /// The server's own refusal (sign-in, roles, the request's shape), in the caller's
    /// language already.
    Http {
        status: StatusCode,
        code: String,
        message: String,
        field: Option<String>,
    },
}

tokio::task_local! {
    /// The language of the request being answered (see [`with_lang`]).
    static LANG: Lang;
}

/// Middleware: answers the request with its language known (the `drn_lang` cookie, else
/// `Accept-Language`: [`crate::auth::lang_of`]), so that an engine's error is written in
/// it when its response is made.
pub async fn with_lang(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let lang = crate::auth::lang_of(&parts);
    let resp = LANG
        .scope(lang, next.run(Request::from_parts(parts, body)))
        .await;
    // A body over the limit is refused by a layer (or a middleware) with a bare 413: it is
    // answered in the one error shape too, in the caller's language (issue 29).
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !json {
        return ApiError::too_large(lang).into_response();
    }
    resp
}

/// The language of the request being answered; the default outside one.
fn response_lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// The HTTP status of an engine's error.
fn status_of(e: &EngineError) -> StatusCode {
    match e.code() {
        "not_found" => StatusCode::NOT_FOUND,
        "forbidden" => StatusCode::FORBIDDEN,
        "conflict" | "wrong_step" | "closed" | "idempotency_key_reused" | "already_open" => {
            StatusCode::CONFLICT
        }
        "invalid" | "not_applicable" | "calendar" | "idempotency_key_mismatch" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        // The writer has stopped (see `drn_store::Fault`): not this request's fault, and
        // not over until an administrator has looked.
        "storage_fault" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        if status_of(&e) == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "internal error");
        }
        ApiError::Engine(e)
    }
}

fn tr(lang: Lang, kk: &str, ru: &str, en: &str) -> String {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
    .to_string()
}

impl ApiError {
    /// An error of the server's own.
    pub fn new(
        status: StatusCode,
        code: impl Into<String>,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> ApiError {
        ApiError::Http {
            status,
            code: code.into(),
            message: message.into(),
            field: field.map(String::from),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Engine(e) => status_of(e),
            ApiError::Http { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Engine(e) => e.code(),
            ApiError::Http { code, .. } => code,
        }
    }

    /// The message for people: an engine's error in `lang`, the server's own as written.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ApiError::Engine(e) => e.message(lang),
            ApiError::Http { message, .. } => message.clone(),
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Engine(e) => e.field(),
            ApiError::Http { field, .. } => field.as_deref(),
        }
    }

    pub fn unauthenticated(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthenticated".into(),
            message: tr(
                lang,
                "Жүйеге кіріңіз",
                "Войдите в систему",
                "Please sign in",
            ),
            field: None,
        }
    }

    /// A one-time code that is wrong, expired or spent: said as such (not "wrong password",
    /// which sends the citizen back to a password that was right); the code stays the
    /// API's `bad_credentials`.
    pub fn bad_code(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::UNAUTHORIZED,
            code: "bad_credentials".into(),
            message: tr(
                lang,
                "Бір реттік код қате немесе оның мерзімі өтті",
                "Неверный или просроченный одноразовый код",
                "Wrong or expired one-time code",
            ),
            field: None,
        }
    }

    pub fn bad_credentials(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::UNAUTHORIZED,
            code: "bad_credentials".into(),
            message: tr(
                lang,
                "Логин немесе құпиясөз қате",
                "Неверный логин или пароль",
                "Wrong username or password",
            ),
            field: None,
        }
    }

    pub fn locked(lang: Lang, minutes: i64) -> ApiError {
        ApiError::Http {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "locked".into(),
            message: tr(
                lang,
                &format!("Тым көп сәтсіз әрекет. {minutes} минуттан кейін қайталаңыз"),
                &format!("Слишком много неудачных попыток. Повторите через {minutes} мин."),
                &format!("Too many failed attempts. Try again in {minutes} min."),
            ),
            field: None,
        }
    }

    /// A request body over the server's limit.
    pub fn too_large(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large".into(),
            message: tr(
                lang,
                "Сұрау тым үлкен",
                "Запрос слишком большой",
                "The request is too large",
            ),
            field: None,
        }
    }

    /// Too many one-time codes asked for one account within the hour.
    pub fn too_many_codes(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "too_many_codes".into(),
            message: tr(
                lang,
                "Бір сағатта тым көп кіру коды сұралды. Кейінірек қайталаңыз",
                "За час запрошено слишком много кодов входа. Повторите позже",
                "Too many sign-in codes asked for within the hour. Try again later",
            ),
            field: None,
        }
    }

    /// A state-changing request sent from another site (issue 31 item 7).
    pub fn cross_site(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::FORBIDDEN,
            code: "cross_site".into(),
            message: tr(
                lang,
                "Сұрау басқа сайттан жіберілген, ол қабылданбайды",
                "Запрос отправлен с другого сайта и не принят",
                "The request came from another site and is refused",
            ),
            field: None,
        }
    }

    pub fn forbidden_role(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::FORBIDDEN,
            code: "forbidden_role".into(),
            message: tr(
                lang,
                "Сіздің рөліңізге бұл әрекетке рұқсат жоқ",
                "Вашей роли это действие не разрешено",
                "Your role does not allow this",
            ),
            field: None,
        }
    }

    pub fn csrf(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::FORBIDDEN,
            code: "csrf".into(),
            message: tr(
                lang,
                "Сұрау расталмады (CSRF). Бетті жаңартыңыз",
                "Запрос не подтверждён (CSRF). Обновите страницу",
                "The request is not confirmed (CSRF). Reload the page",
            ),
            field: None,
        }
    }

    pub fn bad_input(lang: Lang, field: Option<&str>, detail: &str) -> ApiError {
        ApiError::Http {
            status: StatusCode::BAD_REQUEST,
            code: "invalid".into(),
            message: tr(
                lang,
                &format!("Сұрау дұрыс емес: {detail}"),
                &format!("Неверный запрос: {detail}"),
                &format!("Bad request: {detail}"),
            ),
            field: field.map(String::from),
        }
    }

    /// An IIN typed wrong (too short, a letter, a check digit that does not match), said
    /// in the caller's language: the IIN parser's own English ("must have 12 digits, has
    /// 3 characters") behind «Неверный запрос:» told an operator nothing.
    pub fn bad_iin(lang: Lang, field: &str, typed: &str) -> ApiError {
        ApiError::Http {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid".into(),
            message: tr(
                lang,
                &format!("ЖСН қате: 12 цифр және дұрыс бақылау цифры болуы керек (енгізілгені: «{typed}»)"),
                &format!("ИИН указан неверно: нужно 12 цифр с верной контрольной цифрой (введено: «{typed}»)"),
                &format!("The IIN is wrong: it needs 12 digits with a valid check digit (typed: «{typed}»)"),
            ),
            field: Some(field.into()),
        }
    }

    /// A value the operation cannot take: JSON that does not fit the operation's body, a
    /// parameter its rules refuse (422; a body that is not JSON at all is 400).
    /// The field in the caller's language; the parser's English detail only in English
    /// (issue 29: no English behind a translated prefix).
    pub fn invalid_value(lang: Lang, field: Option<&str>, detail: &str) -> ApiError {
        ApiError::field_value(lang, field, detail)
    }

    /// A JSON body that could not be read as the request (axum's rejection), in the one
    /// shape: what is wrong in the caller's language and the field at fault, not the
    /// parser's own English (issue 29).
    /// JSON that does not fit the operation at `field` (422): the field in the caller's
    /// language; the parser's own English detail only in English.
    pub fn field_value(lang: Lang, field: Option<&str>, detail: &str) -> ApiError {
        let message = match field {
            Some(f) => wrong_field(
                lang,
                f,
                &format!("The field «{f}» is missing or has a wrong value: {detail}"),
            ),
            None => tr(
                lang,
                "Сұраудың өрістері дұрыс емес немесе толық емес",
                "Поля запроса неверны или неполны",
                &format!("The request's fields are wrong or incomplete: {detail}"),
            ),
        };
        ApiError::Http {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid".into(),
            message,
            field: field.map(String::from),
        }
    }

    pub fn json_rejection(lang: Lang, e: &axum::extract::rejection::JsonRejection) -> ApiError {
        use axum::extract::rejection::JsonRejection as J;
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::too_large(lang);
        }
        let (field, message) = match e {
            J::JsonDataError(d) => {
                // "Failed to deserialize the JSON body into the target type: PATH: REASON at
                // line L column C": the path names the field.
                let text = d.body_text();
                let field = text
                    .split_once("target type: ")
                    .and_then(|(_, rest)| rest.split_once(": "))
                    .map(|(path, _)| path.to_string())
                    .filter(|p| !p.contains(' ') && !p.is_empty() && p != ".");
                let message = match &field {
                    Some(f) => wrong_field(
                        lang,
                        f,
                        &format!("The field «{f}» is missing or has a wrong value"),
                    ),
                    None => tr(
                        lang,
                        "Сұраудың өрістері дұрыс емес немесе толық емес",
                        "Поля запроса неверны или неполны",
                        "The request's fields are wrong or incomplete",
                    ),
                };
                (field, message)
            }
            J::JsonSyntaxError(_) => (
                None,
                tr(
                    lang,
                    "Сұраудың денесі JSON емес",
                    "Тело запроса не является корректным JSON",
                    "The request body is not valid JSON",
                ),
            ),
            J::MissingJsonContentType(_) => (
                None,
                tr(
                    lang,
                    "Content-Type: application/json тақырыбы керек",
                    "Нужен заголовок Content-Type: application/json",
                    "The header Content-Type: application/json is required",
                ),
            ),
            _ => (
                None,
                tr(
                    lang,
                    "Сұраудың денесі оқылмады",
                    "Не удалось прочитать тело запроса",
                    "The request body could not be read",
                ),
            ),
        };
        ApiError::Http {
            // The OpenAPI document's contract: 400 for a body that is not JSON or not sent
            // as JSON (axum says 415 for the latter), 422 for JSON that does not fit.
            status: match e {
                J::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_REQUEST,
            },
            code: "invalid".into(),
            message,
            field,
        }
    }

    pub fn not_found(lang: Lang) -> ApiError {
        ApiError::Http {
            status: StatusCode::NOT_FOUND,
            code: "not_found".into(),
            message: tr(lang, "Табылмады", "Не найдено", "Not found"),
            field: None,
        }
    }

    /// An internal error (nothing said of it to the caller).
    pub fn internal() -> ApiError {
        ApiError::from(EngineError::Corrupt("internal".into()))
    }
}

/// "The field is missing or wrong", the field named for people in kk/ru (ИИН, not the
/// API's `iin`); `en` as given.
fn wrong_field(lang: Lang, field: &str, en: &str) -> String {
    let (kk, ru) = drn_engine::error::field_text(field);
    tr(
        lang,
        &format!("«{kk}» өрісі толтырылмаған немесе дұрыс толтырылмаған"),
        &format!("Поле «{ru}» не заполнено или заполнено неверно"),
        en,
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.message(response_lang()),
                field: self.field().map(String::from),
            },
        };
        (status, Json(body)).into_response()
    }
}

/// Middleware: while the storage has failed (see [`drn_store::Fault`]), every request
/// that would change something, sign-in included, answers 503 `storage_fault` in the
/// caller's language before it reaches its handler (issue 31 item 6); reads go on.
pub async fn while_faulted(
    axum::extract::State(st): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    use axum::http::Method;
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    match st.engine.storage_fault() {
        Some(reason) if changes => {
            let lang = {
                let (parts, _) = req.into_parts();
                crate::auth::lang_of(&parts)
            };
            let e = ApiError::from(EngineError::StorageFault { reason });
            let body = ErrorBody {
                error: ErrorDetail {
                    code: e.code().to_string(),
                    message: e.message(lang),
                    field: None,
                },
            };
            (e.status(), Json(body)).into_response()
        }
        _ => next.run(req).await,
    }
}
