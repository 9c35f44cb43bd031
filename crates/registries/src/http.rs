//! The ports as JSON-over-HTTP clients: a timeout per attempt, bounded retries with
//! exponential backoff on technical failures only (transport errors, timeouts, HTTP 5xx),
//! and a circuit breaker per port. Backoff waits on the injected [`Clock`], so on a
//! simulated clock retries take no real time.
//!
//! Wire contract: the one [`crate::server`] serves. Errors come back as
//! [`WireError`] with 404 (not found), 422 (refused, with the reason in kk/ru/en),
//! 400 (protocol), 5xx (unavailable).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use drn_core::{Iin, Text};
use jiff::civil::Date;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::breaker::{BreakerConfig, BreakerSnapshot, CircuitBreaker};
use crate::clock::Clock;
use crate::error::{Port, RegistryError, WireError};
use crate::model::*;
use crate::ports::*;
use crate::server::PhoneQuery;

/// How the clients reach the systems.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Base URL; a port's endpoint is `{base_url}/{port code}` unless overridden.
    pub base_url: String,
    /// Per-port endpoint overrides (a system on its own host).
    pub endpoints: BTreeMap<Port, String>,
    /// Timeout of one attempt (request and answer).
    pub timeout: Duration,
    /// Attempts per call, at least 1.
    pub attempts: u32,
    /// Wait before the second attempt; doubles after each failure.
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub breaker: BreakerConfig,
}

impl HttpConfig {
    /// Defaults: 5 s timeout, 3 attempts, backoff 0.5 s then 1 s, the default breaker.
    pub fn new(base_url: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            endpoints: BTreeMap::new(),
            timeout: Duration::from_secs(5),
            attempts: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(5),
            breaker: BreakerConfig::default(),
        }
    }

    pub fn endpoint(&self, port: Port) -> String {
        self.endpoints
            .get(&port)
            .map(|e| e.trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("{}/{}", self.base_url, port.code()))
    }

    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// HTTP clients of all the ports, each port with its own circuit breaker.
#[derive(Debug, Clone)]
pub struct HttpRegistries {
    http: reqwest::Client,
    config: HttpConfig,
    clock: Arc<dyn Clock>,
    breakers: Arc<[CircuitBreaker; 9]>,
}

fn transport(port: Port, e: &reqwest::Error, after: Duration) -> RegistryError {
    if e.is_timeout() {
        RegistryError::Timeout { port, after }
    } else {
        RegistryError::Unavailable {
            port,
            detail: e.to_string(),
        }
    }
}

fn safe_id(port: Port, id: &str) -> Result<(), RegistryError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(RegistryError::protocol(port, format!("bad id {id:?}")))
    }
}

impl HttpRegistries {
    pub fn new(
        config: HttpConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<HttpRegistries, reqwest::Error> {
        let http = reqwest::Client::builder().build()?;
        let breakers = Port::ALL.map(|_| CircuitBreaker::new(config.breaker, clock.clone()));
        Ok(HttpRegistries {
            http,
            config,
            clock,
            breakers: Arc::new(breakers),
        })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The port's circuit breaker.
    pub fn breaker(&self, port: Port) -> &CircuitBreaker {
        &self.breakers[port as usize]
    }

    /// The port's breaker state now.
    pub fn breaker_state(&self, port: Port) -> BreakerSnapshot {
        self.breaker(port).snapshot()
    }

    async fn once<T: DeserializeOwned>(
        &self,
        port: Port,
        rb: reqwest::RequestBuilder,
    ) -> Result<T, RegistryError> {
        let after = self.config.timeout;
        let resp = rb
            .timeout(after)
            .send()
            .await
            .map_err(|e| transport(port, &e, after))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| transport(port, &e, after))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| RegistryError::protocol(port, format!("bad answer: {e}")));
        }
        let wire: Option<WireError> = serde_json::from_slice(&bytes).ok();
        let detail = wire
            .as_ref()
            .map(|w| w.detail.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).chars().take(200).collect());
        Err(match status {
            s if s.is_server_error() => RegistryError::Unavailable {
                port,
                detail: format!("HTTP {s}: {detail}"),
            },
            StatusCode::NOT_FOUND if wire.is_some() => {
                RegistryError::NotFound { port, what: detail }
            }
            StatusCode::UNPROCESSABLE_ENTITY => match wire {
                Some(w) => RegistryError::Refused {
                    port,
                    reason: w.message,
                },
                None => RegistryError::Refused {
                    port,
                    reason: Text::new(detail.clone(), detail.clone(), detail),
                },
            },
            s => RegistryError::protocol(port, format!("HTTP {s}: {detail}")),
        })
    }

    /// One call: attempts with backoff while the failure is technical, through the
    /// port's breaker.
    async fn call<T, F>(&self, port: Port, build: F) -> Result<T, RegistryError>
    where
        T: DeserializeOwned,
        F: Fn(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    {
        let breaker = self.breaker(port);
        let endpoint = self.config.endpoint(port);
        let attempts = self.config.attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Err(since) = breaker.allow() {
                return Err(RegistryError::CircuitOpen { port, since });
            }
            let result = self.once::<T>(port, build(&self.http, &endpoint)).await;
            match &result {
                Err(e) if e.is_outage() => breaker.record_failure(),
                _ => breaker.record_success(),
            }
            match result {
                Err(e) if e.is_outage() && attempt < attempts => {
                    let wait = self.config.backoff_after(attempt);
                    tracing::warn!(%port, attempt, ?wait, error = %e, "retrying");
                    self.clock.sleep(wait).await;
                }
                other => return other,
            }
        }
    }
}

impl ConsentService for HttpRegistries {
    fn request_consent(&self, req: ConsentRequest) -> PortFuture<'_, Consent> {
        Box::pin(async move {
            self.call(Port::Consent, |c, e| {
                c.post(format!("{e}/requests")).json(&req)
            })
            .await
        })
    }
}

impl GbdFl for HttpRegistries {
    fn person(&self, iin: Iin) -> PortFuture<'_, GbdPerson> {
        Box::pin(async move {
            self.call(Port::GbdFl, |c, e| c.get(format!("{e}/persons/{iin}")))
                .await
        })
    }

    fn photo(&self, iin: Iin) -> PortFuture<'_, RecordPhoto> {
        Box::pin(async move {
            self.call(Port::GbdFl, |c, e| {
                c.get(format!("{e}/persons/{iin}/photo"))
            })
            .await
        })
    }
}

impl Bmg for HttpRegistries {
    fn phone_registered(&self, iin: Iin, phone: String) -> PortFuture<'_, PhoneCheck> {
        Box::pin(async move {
            let q = PhoneQuery { iin, phone };
            self.call(Port::Bmg, |c, e| c.post(format!("{e}/check")).json(&q))
                .await
        })
    }
}

impl DigitalId for HttpRegistries {
    fn identify(&self, iin: Iin, selfie: Vec<u8>) -> PortFuture<'_, Identification> {
        Box::pin(async move {
            self.call(Port::DigitalId, |c, e| {
                c.post(format!("{e}/persons/{iin}/identify"))
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(selfie.clone())
            })
            .await
        })
    }

    fn photo_matches(&self, iin: Iin, photo: Vec<u8>) -> PortFuture<'_, PhotoMatch> {
        Box::pin(async move {
            self.call(Port::DigitalId, |c, e| {
                c.post(format!("{e}/persons/{iin}/photo-match"))
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(photo.clone())
            })
            .await
        })
    }
}

impl LegalCapacityService for HttpRegistries {
    fn legal_capacity(&self, iin: Iin) -> PortFuture<'_, CapacityAnswer> {
        Box::pin(async move {
            self.call(Port::LegalCapacity, |c, e| {
                c.get(format!("{e}/persons/{iin}"))
            })
            .await
        })
    }
}

impl Zags for HttpRegistries {
    fn changes_since(&self, iin: Iin, since: Date) -> PortFuture<'_, Vec<ZagsChange>> {
        Box::pin(async move {
            self.call(Port::Zags, |c, e| {
                c.get(format!("{e}/persons/{iin}/changes?since={since}"))
            })
            .await
        })
    }

    fn place_of_birth(&self, iin: Iin) -> PortFuture<'_, PlaceOfBirth> {
        Box::pin(async move {
            self.call(Port::Zags, |c, e| {
                c.get(format!("{e}/persons/{iin}/place-of-birth"))
            })
            .await
        })
    }
}

impl Sik for HttpRegistries {
    fn social_statuses(&self, iin: Iin, on: Date) -> PortFuture<'_, Vec<SocialStatus>> {
        Box::pin(async move {
            self.call(Port::Sik, |c, e| {
                c.get(format!("{e}/persons/{iin}/statuses?on={on}"))
            })
            .await
        })
    }
}

impl Payments for HttpRegistries {
    fn create_invoice(&self, req: InvoiceRequest) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            self.call(Port::Payments, |c, e| {
                c.post(format!("{e}/invoices")).json(&req)
            })
            .await
        })
    }

    fn invoice(&self, id: String) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            safe_id(Port::Payments, &id)?;
            self.call(Port::Payments, |c, e| c.get(format!("{e}/invoices/{id}")))
                .await
        })
    }

    fn refund(&self, id: String) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            safe_id(Port::Payments, &id)?;
            self.call(Port::Payments, |c, e| {
                c.post(format!("{e}/invoices/{id}/refund"))
            })
            .await
        })
    }
}

impl SpecialRecords for HttpRegistries {
    fn check(&self, iin: Iin) -> PortFuture<'_, RecordCheck> {
        Box::pin(async move {
            self.call(Port::SpecialRecords, |c, e| {
                c.get(format!("{e}/persons/{iin}"))
            })
            .await
        })
    }
}
