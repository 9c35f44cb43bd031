//! Extractors whose rejections use the one error shape, in the caller's language.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::auth::lang_of;
use crate::error::ApiError;

/// A JSON body.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let lang = lang_of(&parts);
        let req = Request::from_parts(parts, body);
        let mut v = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            // A body over the limit (chunked ones too: their length is known only once
            // read) is 413, not a bad request (issue 31 item 11).
            // (json_rejection answers 413 for those.)
            Err(e) => return Err(ApiError::json_rejection(lang, &e)),
        };
        whole_numbers_as_integers(&mut v);
        serde_path_to_error::deserialize(v).map(Body).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            // JSON, but not what the operation takes: 422 (400 is for a body that is not
            // JSON, or not sent as JSON).
            match path.as_str() {
                "." => ApiError::field_value(lang, None, &inner.to_string()),
                p => ApiError::field_value(lang, Some(p), &inner.to_string()),
            }
        })
    }
}

/// JSON has one kind of number: `245.0` is the integer 245 to a client that wrote it so
/// (issue 31 item 10), and the OpenAPI document's `integer` allows it. Numbers with a
/// fraction, or beyond an i64, stay as they are (and an integer field refuses them).
fn whole_numbers_as_integers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            if let Some(f) = n.as_f64() {
                if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                    *v = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

/// Path parameters.
pub struct PathOf<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathOf<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let lang = lang_of(parts);
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathOf(p.0))
            .map_err(|e| ApiError::bad_input(lang, None, &e.body_text()))
    }
}

/// Query parameters.
pub struct QueryOf<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryOf<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let lang = lang_of(parts);
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| QueryOf(q.0))
            .map_err(|e| ApiError::bad_input(lang, None, &e.body_text()))
    }
}
