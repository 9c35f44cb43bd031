//! The demo signer: a small WebSocket server on the loopback interface that speaks
//! NCALayer's protocol (the signing application of Kazakhstan's national certification
//! centre, НУЦ РК, `wss://127.0.0.1:13579` on an officer's computer) with the demo
//! officers' keys, so a page's `ncalayer-js-client` works against it unchanged
//! (`new NCALayerClient('ws://127.0.0.1:PORT')`). `drn signer` runs it alone;
//! `drn serve --demo` runs it in-process on an ephemeral port.
//!
//! The protocol, as the client (ncalayer-js-client 1.5.6) speaks it: on connect the server
//! sends `{"result":{"version":…}}`; each request is one JSON text message answered by one:
//! - module `kz.gov.pki.knca.commonUtils` (`{"module","method","args":[…]}`), answered
//!   `{"code":"200","responseObject":…}` or `{"code":"500","message":…}`: getActiveTokens,
//!   getKeyInfo [storage], createCAdESFromBase64 and createCMSSignatureFromBase64 [storage,
//!   keyType, base64 data, attach], createCAdESFromBase64Hash [storage, keyType, base64
//!   SHA-256], changeLocale;
//! - module `kz.gov.pki.knca.basics`, method `sign` (`args: {allowedStorages, format: "cms",
//!   data (base64 or an array of them), signingParams {decode, encapsulate, digested},
//!   signerParams {extKeyUsageOids, iin, …}}`), answered `{"status":true,"body":{"result":
//!   [base64 CMS, …]}}` or `{"status":false,"code","message","details"}`;
//! - module `kz.digiflow.mobile.extensions` (the client's probe for KAZTOKEN): refused with a
//!   non-200 code, so the client knows this is not KAZTOKEN.
//!
//! Which key signs: basics' `signerParams.iin` picks that officer's key (NCALayer's dialog
//! lists only the keys of that IIN); commonUtils calls name no IIN and take the key set with
//! `drn signer --key IIN`, else the one used last, else the only one; otherwise an error.
//! The CMS is SHA-256 / ECDSA P-256 with the signed attributes contentType, signingTime (the
//! signer's clock, shifted like `drn serve --as-of`) and messageDigest, and holds the
//! officer's certificate and the intermediate CA's.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use drn_core::Iin;
use drn_docs::Signer;
use drn_engine::Clock;
use serde_json::{json, Value};

/// What the signer answers on connect, as NCALayer does.
pub const VERSION: &str = "1.4.0";

/// Why the signer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("the demo signer listens on the loopback interface only (127.0.0.1 or ::1), not {0}")]
    NotLoopback(SocketAddr),
    #[error("the demo signer cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the demo officers' keys: {0}")]
    Keys(#[from] drn_docs::Error),
    #[error("no key for IIN {0} among the demo officers' keys")]
    UnknownKey(Iin),
}

/// The signer's keys, clock and key choice.
pub struct DemoSigner {
    keys: Vec<Signer>,
    clock: Arc<dyn Clock>,
    /// The key commonUtils calls use: set by `--key`, then the last used.
    current: Mutex<Option<Iin>>,
}

impl std::fmt::Debug for DemoSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoSigner")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

fn common_error(message: &str) -> Value {
    json!({ "code": "500", "message": message })
}

fn common_ok(object: Value) -> Value {
    json!({ "code": "200", "responseObject": object })
}

fn basics_error(code: &str, message: &str, details: &str) -> Value {
    json!({ "status": false, "code": code, "message": message, "details": details })
}

/// How a CMS is made from the request's data.
#[derive(Debug, Clone, Copy)]
struct Params {
    /// The data is a SHA-256 digest (detached signature over the content it digests).
    digested: bool,
    /// The CMS holds the data (attached).
    encapsulate: bool,
}

impl DemoSigner {
    /// A signer over `keys`, signing at `clock`'s time.
    pub fn new(keys: Vec<Signer>, clock: Arc<dyn Clock>) -> DemoSigner {
        DemoSigner {
            keys,
            clock,
            current: Mutex::new(None),
        }
    }

    /// The demo officers' keys of the PKI in `pki_dir` (their PKCS#12 files opened with
    /// the passwords of `officers/passwords.toml`).
    pub fn from_pki_dir(
        pki_dir: &std::path::Path,
        clock: Arc<dyn Clock>,
    ) -> Result<DemoSigner, SignerError> {
        Ok(DemoSigner::new(
            drn_docs::pki::load_demo_officer_keys(pki_dir)?,
            clock,
        ))
    }

    /// The officers whose keys it holds.
    pub fn iins(&self) -> Vec<Iin> {
        self.keys.iter().filter_map(Signer::iin).collect()
    }

    /// Makes `iin`'s key the one commonUtils calls use (`drn signer --key`).
    pub fn select(&self, iin: &Iin) -> Result<(), SignerError> {
        if self.key_of(iin).is_none() {
            return Err(SignerError::UnknownKey(*iin));
        }
        self.set_current(*iin);
        Ok(())
    }

    fn set_current(&self, iin: Iin) {
        if let Ok(mut c) = self.current.lock() {
            *c = Some(iin);
        }
    }

    fn key_of(&self, iin: &Iin) -> Option<&Signer> {
        self.keys.iter().find(|k| k.iin().as_ref() == Some(iin))
    }

    /// The key of a commonUtils call: the selected or last used, else the only one.
    fn current_key(&self) -> Option<&Signer> {
        let current = self.current.lock().ok().and_then(|c| *c);
        match current {
            Some(iin) => self.key_of(&iin),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// Answers one request (a JSON text message) with one response.
    pub fn handle(&self, request: &str) -> String {
        let reply = match serde_json::from_str::<Value>(request) {
            Ok(req) => self.dispatch(&req),
            Err(e) => common_error(&format!("the request is not JSON: {e}")),
        };
        reply.to_string()
    }

    fn dispatch(&self, req: &Value) -> Value {
        let module = req.get("module").and_then(Value::as_str).unwrap_or("");
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        match (module, method) {
            ("kz.gov.pki.knca.basics", "sign") => self.basics_sign(req.get("args")),
            ("kz.gov.pki.knca.basics", _) => {
                basics_error("UNKNOWN_METHOD", "unknown method", method)
            }
            ("kz.gov.pki.knca.commonUtils", _) => self.common(method, req.get("args")),
            ("kz.digiflow.mobile.extensions", _) => {
                common_error("module kz.digiflow.mobile.extensions is not available")
            }
            _ => common_error(&format!("module {module} is not available")),
        }
    }

    fn common(&self, method: &str, args: Option<&Value>) -> Value {
        let arg = |i: usize| args.and_then(|a| a.get(i));
        match method {
            "getActiveTokens" => common_ok(json!([])),
            "changeLocale" => common_ok(Value::Null),
            "getKeyInfo" => match self.current_key() {
                Some(k) => common_ok(key_info(k)),
                None => common_error(NO_KEY),
            },
            "createCAdESFromBase64" | "createCMSSignatureFromBase64" => {
                let Some(data) = arg(2).and_then(Value::as_str) else {
                    return common_error("args[2] (the data in base64) is missing");
                };
                let attach = arg(3).and_then(Value::as_bool).unwrap_or(false);
                self.common_sign(
                    data,
                    Params {
                        digested: false,
                        encapsulate: attach,
                    },
                )
            }
            "createCAdESFromBase64Hash" => {
                let Some(data) = arg(2).and_then(Value::as_str) else {
                    return common_error("args[2] (the hash in base64) is missing");
                };
                self.common_sign(
                    data,
                    Params {
                        digested: true,
                        encapsulate: false,
                    },
                )
            }
            "signXml" | "signXmls" => {
                common_error("the demo signer signs CMS only (no XML signatures)")
            }
            other => common_error(&format!("unknown method {other}")),
        }
    }

    fn common_sign(&self, data: &str, params: Params) -> Value {
        let Some(key) = self.current_key() else {
            return common_error(NO_KEY);
        };
        let bytes = match B64.decode(data.trim()) {
            Ok(b) => b,
            Err(e) => return common_error(&format!("the data is not base64: {e}")),
        };
        match self.sign(key, &bytes, params) {
            Ok(cms) => common_ok(Value::String(cms)),
            Err(e) => common_error(&e),
        }
    }

    fn basics_sign(&self, args: Option<&Value>) -> Value {
        let Some(args) = args else {
            return basics_error("BAD_REQUEST", "no args", "");
        };
        let format = args.get("format").and_then(Value::as_str).unwrap_or("cms");
        if format != "cms" {
            return basics_error(
                "UNSUPPORTED_FORMAT",
                "the demo signer signs CMS only",
                format,
            );
        }
        let signing = args.get("signingParams");
        let flag = |name: &str| {
            signing
                .and_then(|s| s.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        // NCALayer's default: the data is base64 (decode), not encapsulated, not a hash.
        let decode = signing
            .and_then(|s| s.get("decode"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let params = Params {
            digested: flag("digested"),
            encapsulate: flag("encapsulate"),
        };
        let signer_params = args.get("signerParams");
        let key = match signer_params
            .and_then(|p| p.get("iin"))
            .and_then(Value::as_str)
        {
            Some(iin) => {
                let Ok(iin) = Iin::parse(iin.trim()) else {
                    return basics_error("BAD_IIN", "signerParams.iin is not a valid IIN", iin);
                };
                match self.key_of(&iin) {
                    Some(k) => k,
                    None => {
                        return basics_error(
                            "NO_KEY_FOR_IIN",
                            "no key of this IIN among the demo officers' keys",
                            &iin.to_string(),
                        )
                    }
                }
            }
            None => match self.current_key() {
                Some(k) => k,
                None => return basics_error("NO_KEY", NO_KEY, ""),
            },
        };
        let wanted: Vec<&str> = signer_params
            .and_then(|p| p.get("extKeyUsageOids"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let has = key.extended_key_usages();
        if let Some(missing) = wanted.iter().find(|o| !has.iter().any(|h| h == *o)) {
            return basics_error(
                "NO_KEY_WITH_USAGE",
                "the key lacks a required extended key usage",
                missing,
            );
        }
        let items: Vec<&Value> = match args.get("data") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::String(_)) => vec![v],
            _ => return basics_error("BAD_REQUEST", "no data to sign", ""),
        };
        let mut result = Vec::with_capacity(items.len());
        for item in items {
            let Some(text) = item.as_str() else {
                return basics_error("BAD_REQUEST", "data items are strings", "");
            };
            let bytes = if decode {
                match B64.decode(text.trim()) {
                    Ok(b) => b,
                    Err(e) => {
                        return basics_error("BAD_DATA", "the data is not base64", &e.to_string())
                    }
                }
            } else {
                text.as_bytes().to_vec()
            };
            match self.sign(key, &bytes, params) {
                Ok(cms) => result.push(Value::String(cms)),
                Err(e) => return basics_error("SIGN_FAILED", "signing failed", &e),
            }
        }
        json!({ "status": true, "body": { "result": result } })
    }

    /// Signs with `key` at the signer's clock; remembers the key as the last used.
    fn sign(&self, key: &Signer, data: &[u8], params: Params) -> Result<String, String> {
        let at = self.clock.now();
        let cms = if params.digested {
            drn_docs::cms::sign_digest_at(data, &[key], at)
        } else if params.encapsulate {
            drn_docs::cms::sign_attached_at(data, &[key], at)
        } else {
            drn_docs::cms::sign_detached_at(data, &[key], at)
        }
        .map_err(|e| e.to_string())?;
        if let Some(iin) = key.iin() {
            self.set_current(iin);
            tracing::info!(%iin, bytes = data.len(), "demo signer: signed");
        }
        Ok(B64.encode(cms))
    }
}

const NO_KEY: &str = "no key chosen: sign once through basics with signerParams.iin, or start \
                      the demo signer with --key IIN";

/// NCALayer's getKeyInfo answer for a key.
fn key_info(k: &Signer) -> Value {
    let (from, to) = k.validity();
    json!({
        "alias": k.subject_serial_number().unwrap_or_default(),
        "keyId": "",
        "algorithm": "ECDSA",
        "subjectCn": k.common_name(),
        "subjectDn": k.subject(),
        "issuerDn": k.issuer(),
        "serialNumber": k.certificate_serial(),
        "certNotBefore": from.as_millisecond().to_string(),
        "certNotAfter": to.as_millisecond().to_string(),
        "pem": k.certificate_pem(),
    })
}

async fn upgrade(ws: WebSocketUpgrade, State(signer): State<Arc<DemoSigner>>) -> Response {
    ws.on_upgrade(move |socket| session(socket, signer))
}

async fn session(mut socket: WebSocket, signer: Arc<DemoSigner>) {
    let hello = json!({ "result": { "version": VERSION } }).to_string();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = socket.recv().await {
        let reply = match msg {
            Message::Text(t) => signer.handle(t.as_str()),
            Message::Close(_) => break,
            _ => continue,
        };
        if socket.send(Message::Text(reply.into())).await.is_err() {
            break;
        }
    }
}

/// The WebSocket routes (any path: the client connects to `/`).
pub fn router(signer: Arc<DemoSigner>) -> Router {
    Router::new()
        .route("/", get(upgrade))
        .fallback(get(upgrade))
        .with_state(signer)
}

/// Binds the signer's listener on `addr`, which must be a loopback address (port 0: an
/// ephemeral port; see `local_addr`).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, SignerError> {
    if !addr.ip().is_loopback() {
        return Err(SignerError::NotLoopback(addr));
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| SignerError::Bind { addr, source })
}

/// Serves the signer on a bound listener until the process ends.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    signer: Arc<DemoSigner>,
) -> std::io::Result<()> {
    axum::serve(listener, router(signer)).await
}

/// Binds on `addr` (loopback only) and serves in a background task; returns the address
/// bound (with the ephemeral port when `addr`'s is 0).
pub async fn spawn(addr: SocketAddr, signer: Arc<DemoSigner>) -> Result<SocketAddr, SignerError> {
    let listener = bind(addr).await?;
    let bound = listener
        .local_addr()
        .map_err(|source| SignerError::Bind { addr, source })?;
    tokio::spawn(async move {
        if let Err(e) = serve_on(listener, signer).await {
            tracing::error!(error = %e, "demo signer stopped");
        }
    });
    Ok(bound)
}

/// The address a page's NCALayer client connects to for a signer bound at `addr`.
pub fn ws_url(addr: SocketAddr) -> String {
    format!("ws://{addr}")
}
