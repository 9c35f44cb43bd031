//! The ports' error type: the same for the sandbox and the HTTP clients, so the engine
//! handles one contract. Outage-like errors ([`RegistryError::is_outage`]) count against the
//! circuit breaker and are retried; the others are answers of a working system.

use std::fmt;
use std::time::Duration;

use drn_core::Text;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One external state system (a port).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Port {
    /// Государственный сервис контроля доступа к персональным данным (seed 001 п. 3 step 1).
    Consent,
    /// ГБД ФЛ, государственная база данных «Физические лица» (step 2).
    GbdFl,
    /// БМГ, база мобильных граждан (step 2).
    Bmg,
    /// Digital-ID, биометрическая идентификация (steps 3 and 11).
    DigitalId,
    /// Сведения о дееспособности (step 4).
    LegalCapacity,
    /// ИС ЗАГС (step 5; place of birth, п. 5 4)).
    Zags,
    /// АИС СИК, социальные статусы (step 14).
    Sik,
    /// Оплата государственной пошлины (step 15; refund, п. 11).
    Payments,
    /// Розыск и специальные учёты.
    SpecialRecords,
}

impl Port {
    pub const ALL: [Port; 9] = [
        Port::Consent,
        Port::GbdFl,
        Port::Bmg,
        Port::DigitalId,
        Port::LegalCapacity,
        Port::Zags,
        Port::Sik,
        Port::Payments,
        Port::SpecialRecords,
    ];

    /// The path segment under `/sandbox/` and the code in logs.
    pub fn code(self) -> &'static str {
        match self {
            Port::Consent => "consent",
            Port::GbdFl => "gbd-fl",
            Port::Bmg => "bmg",
            Port::DigitalId => "digital-id",
            Port::LegalCapacity => "legal-capacity",
            Port::Zags => "zags",
            Port::Sik => "sik",
            Port::Payments => "payments",
            Port::SpecialRecords => "special-records",
        }
    }

    pub fn parse(s: &str) -> Option<Port> {
        Port::ALL.into_iter().find(|p| p.code() == s)
    }

    /// The system's short name as a user sees it.
    pub fn name(self) -> Text {
        match self {
            Port::Consent => Text::new(
                "Дербес деректерге қол жеткізуді бақылау сервисі",
                "сервис контроля доступа к персональным данным",
                "personal data access control service",
            ),
            Port::GbdFl => Text::new("ЖТ МДҚ", "ГБД ФЛ", "State database of individuals"),
            Port::Bmg => Text::new(
                "Азаматтардың мобильді базасы",
                "БМГ (база мобильных граждан)",
                "citizens' mobile database",
            ),
            Port::DigitalId => Text::new(
                "Digital-ID (биометриялық сәйкестендіру)",
                "Digital-ID (биометрическая идентификация)",
                "Digital-ID (biometric identification)",
            ),
            Port::LegalCapacity => Text::new(
                "әрекет қабілеттілігі туралы мәліметтер",
                "сведения о дееспособности",
                "legal capacity records",
            ),
            Port::Zags => Text::new("АХАЖ АЖ", "ИС ЗАГС", "civil registry (ZAGS)"),
            Port::Sik => Text::new("ААЖ СИК", "АИС СИК", "social status system (AIS SIK)"),
            Port::Payments => Text::new(
                "мемлекеттік баж төлеу сервисі",
                "сервис оплаты государственной пошлины",
                "state duty payment service",
            ),
            Port::SpecialRecords => Text::new(
                "іздестіру және арнайы есепке алу",
                "розыск и специальные учёты",
                "wanted persons and special records",
            ),
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What went wrong with a call to a state system.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// The system is down (outage, connection refused, HTTP 5xx).
    #[error("{port} is unavailable: {detail}")]
    Unavailable { port: Port, detail: String },
    /// No answer within the per-call timeout.
    #[error("{port} did not answer within {after:?}")]
    Timeout { port: Port, after: Duration },
    /// The circuit breaker is open: the call was not made.
    #[error("{port}: circuit open since {since}")]
    CircuitOpen { port: Port, since: Timestamp },
    /// The system has no record of what was asked.
    #[error("{port}: not found: {what}")]
    NotFound { port: Port, what: String },
    /// The system answered and refused, with a reason a user may read.
    #[error("{port} refused: {}", reason.en)]
    Refused { port: Port, reason: Text },
    /// The exchange itself is wrong (bad request, malformed answer).
    #[error("{port}: protocol error: {detail}")]
    Protocol { port: Port, detail: String },
}

impl RegistryError {
    pub fn port(&self) -> Port {
        match self {
            RegistryError::Unavailable { port, .. }
            | RegistryError::Timeout { port, .. }
            | RegistryError::CircuitOpen { port, .. }
            | RegistryError::NotFound { port, .. }
            | RegistryError::Refused { port, .. }
            | RegistryError::Protocol { port, .. } => *port,
        }
    }

    /// A technical failure of the system (counts against the circuit breaker and is
    /// retried): unavailable or timed out.
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            RegistryError::Unavailable { .. } | RegistryError::Timeout { .. }
        )
    }

    /// Technical failure of any kind, including a call the open breaker did not make: the
    /// caller may try later (seed 001 п. 12 decides when to stop trying).
    pub fn is_technical(&self) -> bool {
        self.is_outage() || matches!(self, RegistryError::CircuitOpen { .. })
    }

    /// The code on the wire and in logs.
    pub fn kind(&self) -> &'static str {
        match self {
            RegistryError::Unavailable { .. } => "unavailable",
            RegistryError::Timeout { .. } => "timeout",
            RegistryError::CircuitOpen { .. } => "circuit_open",
            RegistryError::NotFound { .. } => "not_found",
            RegistryError::Refused { .. } => "refused",
            RegistryError::Protocol { .. } => "protocol",
        }
    }

    /// The message a user may see, in the three languages.
    pub fn message(&self) -> Text {
        let n = self.port().name();
        match self {
            RegistryError::Unavailable { .. } | RegistryError::CircuitOpen { .. } => Text::new(
                format!(
                    "«{}» уақытша қолжетімсіз. Кейінірек қайталап көріңіз.",
                    n.kk
                ),
                format!("«{}» временно недоступен. Повторите попытку позже.", n.ru),
                format!("The {} is temporarily unavailable. Try again later.", n.en),
            ),
            RegistryError::Timeout { .. } => Text::new(
                format!(
                    "«{}» уақытында жауап бермеді. Кейінірек қайталап көріңіз.",
                    n.kk
                ),
                format!("«{}» не ответил вовремя. Повторите попытку позже.", n.ru),
                format!("The {} did not answer in time. Try again later.", n.en),
            ),
            RegistryError::NotFound { .. } => Text::new(
                format!("«{}» жүйесінде мәліметтер табылмады.", n.kk),
                format!("Сведения не найдены: {}.", n.ru),
                format!("No record found in the {}.", n.en),
            ),
            RegistryError::Refused { reason, .. } => reason.clone(),
            RegistryError::Protocol { .. } => Text::new(
                format!("«{}» жүйесімен деректер алмасу қатесі.", n.kk),
                format!("Ошибка обмена данными: {}.", n.ru),
                format!("Data exchange error with the {}.", n.en),
            ),
        }
    }

    pub(crate) fn refused(port: Port, kk: &str, ru: &str, en: &str) -> RegistryError {
        RegistryError::Refused {
            port,
            reason: Text::new(kk, ru, en),
        }
    }

    pub(crate) fn protocol(port: Port, detail: impl Into<String>) -> RegistryError {
        RegistryError::Protocol {
            port,
            detail: detail.into(),
        }
    }

    pub(crate) fn not_found(port: Port, what: impl Into<String>) -> RegistryError {
        RegistryError::NotFound {
            port,
            what: what.into(),
        }
    }
}

/// An error as the sandbox server sends it (and the client reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireError {
    /// [`RegistryError::kind`].
    pub error: String,
    pub detail: String,
    /// The user-facing text ([`RegistryError::message`]); the reason for `refused`.
    pub message: Text,
}
