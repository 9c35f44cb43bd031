//! One error shape for every response: a stable code, a message in the caller's language,
//! and the field at fault. Mapped once from the engine's errors.

use axum::http::StatusCode;
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

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
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
    pub fn engine(e: EngineError, lang: Lang) -> ApiError {
        let status = match e.code() {
            "not_found" => StatusCode::NOT_FOUND,
            "forbidden" => StatusCode::FORBIDDEN,
            "conflict" | "wrong_step" | "closed" | "idempotency_key_reused" => StatusCode::CONFLICT,
            "invalid" | "not_applicable" | "calendar" => StatusCode::UNPROCESSABLE_ENTITY,
            // The writer has stopped (see `drn_store::Fault`): not this request's fault, and
            // not over until an administrator has looked.
            "storage_fault" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "internal error");
        }
        ApiError {
            status,
            code: e.code().to_string(),
            message: e.message(lang),
            field: e.field().map(String::from),
        }
    }

    pub fn unauthenticated(lang: Lang) -> ApiError {
        ApiError {
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

    pub fn bad_credentials(lang: Lang) -> ApiError {
        ApiError {
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
        ApiError {
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

    pub fn forbidden_role(lang: Lang) -> ApiError {
        ApiError {
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
        ApiError {
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
        ApiError {
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

    pub fn not_found(lang: Lang) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found".into(),
            message: tr(lang, "Табылмады", "Не найдено", "Not found"),
            field: None,
        }
    }

    pub fn internal(lang: Lang) -> ApiError {
        ApiError::engine(EngineError::Corrupt("internal".into()), lang)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}
