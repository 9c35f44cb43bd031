//! The sandbox over HTTP: every port under `/sandbox/<port>/...`, JSON answers, errors as
//! [`WireError`] with a status the HTTP client maps back ([`status_of`]). Also
//! `GET /sandbox/_faults` and `PUT /sandbox/_faults/{port}` to inject faults from outside
//! (browser tests).
//!
//! | method and path | port call |
//! |---|---|
//! | `POST /sandbox/consent/requests` (ConsentRequest) | request_consent |
//! | `GET /sandbox/gbd-fl/persons/{iin}` | person |
//! | `GET /sandbox/gbd-fl/persons/{iin}/photo` | photo |
//! | `POST /sandbox/bmg/check` (`{iin, phone}`) | phone_registered |
//! | `POST /sandbox/digital-id/persons/{iin}/identify` (image bytes) | identify |
//! | `POST /sandbox/digital-id/persons/{iin}/photo-match` (image bytes) | photo_matches |
//! | `GET /sandbox/legal-capacity/persons/{iin}` | legal_capacity |
//! | `GET /sandbox/zags/persons/{iin}/changes?since=YYYY-MM-DD` | changes_since |
//! | `GET /sandbox/zags/persons/{iin}/place-of-birth` | place_of_birth |
//! | `GET /sandbox/sik/persons/{iin}/statuses?on=YYYY-MM-DD` | social_statuses |
//! | `POST /sandbox/payments/invoices` (InvoiceRequest) | create_invoice |
//! | `GET /sandbox/payments/invoices/{id}` | invoice |
//! | `POST /sandbox/payments/invoices/{id}/pay` | (sandbox only) pay |
//! | `POST /sandbox/payments/invoices/{id}/refund` | refund |
//! | `GET /sandbox/special-records/persons/{iin}` | check |

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use drn_core::Iin;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Port, RegistryError, WireError};
use crate::model::*;
use crate::ports::*;
use crate::sandbox::{Faults, Sandbox};

/// The HTTP status for an error.
pub fn status_of(e: &RegistryError) -> StatusCode {
    match e {
        RegistryError::NotFound { .. } => StatusCode::NOT_FOUND,
        RegistryError::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        RegistryError::Protocol { .. } => StatusCode::BAD_REQUEST,
        RegistryError::Unavailable { .. } | RegistryError::CircuitOpen { .. } => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        RegistryError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
    }
}

struct Reply<T>(Result<T, RegistryError>);

impl<T: Serialize> IntoResponse for Reply<T> {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(v) => Json(v).into_response(),
            Err(e) => {
                let body = WireError {
                    error: e.kind().into(),
                    detail: e.to_string(),
                    message: e.message(),
                };
                (status_of(&e), Json(body)).into_response()
            }
        }
    }
}

fn iin(port: Port, s: &str) -> Result<Iin, RegistryError> {
    Iin::parse(s).map_err(|e| RegistryError::protocol(port, format!("IIN {s:?}: {e}")))
}

fn body<T>(port: Port, b: Result<Json<T>, JsonRejection>) -> Result<T, RegistryError> {
    b.map(|Json(v)| v)
        .map_err(|e| RegistryError::protocol(port, e.body_text()))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PhoneQuery {
    pub iin: Iin,
    pub phone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SinceQuery {
    pub since: Date,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OnQuery {
    pub on: Date,
}

async fn consent(
    State(s): State<Sandbox>,
    b: Result<Json<ConsentRequest>, JsonRejection>,
) -> Reply<Consent> {
    Reply(match body(Port::Consent, b) {
        Ok(r) => s.request_consent(r).await,
        Err(e) => Err(e),
    })
}

async fn gbd_person(State(s): State<Sandbox>, Path(i): Path<String>) -> Reply<GbdPerson> {
    Reply(match iin(Port::GbdFl, &i) {
        Ok(i) => GbdFl::person(&s, i).await,
        Err(e) => Err(e),
    })
}

async fn gbd_photo(State(s): State<Sandbox>, Path(i): Path<String>) -> Reply<RecordPhoto> {
    Reply(match iin(Port::GbdFl, &i) {
        Ok(i) => GbdFl::photo(&s, i).await,
        Err(e) => Err(e),
    })
}

async fn bmg_check(
    State(s): State<Sandbox>,
    b: Result<Json<PhoneQuery>, JsonRejection>,
) -> Reply<PhoneCheck> {
    Reply(match body(Port::Bmg, b) {
        Ok(q) => s.phone_registered(q.iin, q.phone).await,
        Err(e) => Err(e),
    })
}

async fn identify(
    State(s): State<Sandbox>,
    Path(i): Path<String>,
    b: Bytes,
) -> Reply<Identification> {
    Reply(match iin(Port::DigitalId, &i) {
        Ok(i) => s.identify(i, b.to_vec()).await,
        Err(e) => Err(e),
    })
}

async fn photo_match(
    State(s): State<Sandbox>,
    Path(i): Path<String>,
    b: Bytes,
) -> Reply<PhotoMatch> {
    Reply(match iin(Port::DigitalId, &i) {
        Ok(i) => s.photo_matches(i, b.to_vec()).await,
        Err(e) => Err(e),
    })
}

async fn capacity(State(s): State<Sandbox>, Path(i): Path<String>) -> Reply<CapacityAnswer> {
    Reply(match iin(Port::LegalCapacity, &i) {
        Ok(i) => s.legal_capacity(i).await,
        Err(e) => Err(e),
    })
}

async fn zags_changes(
    State(s): State<Sandbox>,
    Path(i): Path<String>,
    q: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Vec<ZagsChange>> {
    let q = q.map_err(|e| RegistryError::protocol(Port::Zags, e.body_text()));
    Reply(match (iin(Port::Zags, &i), q) {
        (Ok(i), Ok(Query(q))) => s.changes_since(i, q.since).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    })
}

async fn zags_place(State(s): State<Sandbox>, Path(i): Path<String>) -> Reply<PlaceOfBirth> {
    Reply(match iin(Port::Zags, &i) {
        Ok(i) => s.place_of_birth(i).await,
        Err(e) => Err(e),
    })
}

async fn sik_statuses(
    State(s): State<Sandbox>,
    Path(i): Path<String>,
    q: Result<Query<OnQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply<Vec<SocialStatus>> {
    let q = q.map_err(|e| RegistryError::protocol(Port::Sik, e.body_text()));
    Reply(match (iin(Port::Sik, &i), q) {
        (Ok(i), Ok(Query(q))) => s.social_statuses(i, q.on).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    })
}

async fn create_invoice(
    State(s): State<Sandbox>,
    b: Result<Json<InvoiceRequest>, JsonRejection>,
) -> Reply<Invoice> {
    Reply(match body(Port::Payments, b) {
        Ok(r) => s.create_invoice(r).await,
        Err(e) => Err(e),
    })
}

async fn get_invoice(State(s): State<Sandbox>, Path(id): Path<String>) -> Reply<Invoice> {
    Reply(s.invoice(id).await)
}

async fn pay_invoice(State(s): State<Sandbox>, Path(id): Path<String>) -> Reply<Invoice> {
    Reply(s.pay(&id).await)
}

async fn refund_invoice(State(s): State<Sandbox>, Path(id): Path<String>) -> Reply<Invoice> {
    Reply(s.refund(id).await)
}

async fn records(State(s): State<Sandbox>, Path(i): Path<String>) -> Reply<RecordCheck> {
    Reply(match iin(Port::SpecialRecords, &i) {
        Ok(i) => s.check(i).await,
        Err(e) => Err(e),
    })
}

async fn get_faults(State(s): State<Sandbox>) -> Json<BTreeMap<Port, Faults>> {
    Json(Port::ALL.into_iter().map(|p| (p, s.faults(p))).collect())
}

async fn put_faults(
    State(s): State<Sandbox>,
    Path(port): Path<String>,
    b: Result<Json<Faults>, JsonRejection>,
) -> Response {
    let Some(p) = Port::parse(&port) else {
        return (StatusCode::NOT_FOUND, format!("no port {port:?}")).into_response();
    };
    match b {
        Ok(Json(f)) => {
            s.set_faults(p, f);
            Json(f).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.body_text()).into_response(),
    }
}

/// The sandbox's routes, under `/sandbox`. Images up to 16 MiB.
pub fn router(sandbox: Sandbox) -> Router {
    let api = Router::new()
        .route("/consent/requests", post(consent))
        .route("/gbd-fl/persons/{iin}", get(gbd_person))
        .route("/gbd-fl/persons/{iin}/photo", get(gbd_photo))
        .route("/bmg/check", post(bmg_check))
        .route("/digital-id/persons/{iin}/identify", post(identify))
        .route("/digital-id/persons/{iin}/photo-match", post(photo_match))
        .route("/legal-capacity/persons/{iin}", get(capacity))
        .route("/zags/persons/{iin}/changes", get(zags_changes))
        .route("/zags/persons/{iin}/place-of-birth", get(zags_place))
        .route("/sik/persons/{iin}/statuses", get(sik_statuses))
        .route("/payments/invoices", post(create_invoice))
        .route("/payments/invoices/{id}", get(get_invoice))
        .route("/payments/invoices/{id}/pay", post(pay_invoice))
        .route("/payments/invoices/{id}/refund", post(refund_invoice))
        .route("/special-records/persons/{iin}", get(records))
        .route("/_faults", get(get_faults))
        .route("/_faults/{port}", put(put_faults))
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024))
        .with_state(sandbox);
    Router::new().nest("/sandbox", api)
}

/// A sandbox server running on a port of 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct SandboxServer {
    pub addr: SocketAddr,
    handle: tokio::task::JoinHandle<()>,
}

impl SandboxServer {
    /// The base URL for [`crate::HttpConfig::new`]: `http://127.0.0.1:PORT/sandbox`.
    pub fn base_url(&self) -> String {
        format!("http://{}/sandbox", self.addr)
    }
}

impl Drop for SandboxServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// Serves the sandbox on a free port of 127.0.0.1.
pub async fn spawn(sandbox: Sandbox) -> std::io::Result<SandboxServer> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(sandbox);
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok(SandboxServer { addr, handle })
}
