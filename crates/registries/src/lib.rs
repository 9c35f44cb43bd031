//! Ports to the state systems DRN asks during a service, first of all the 2025 online
//! ID-card renewal pilot (seed 001, `shared/seeds/001_052b1371f3c073b6.txt`, paragraph 3,
//! steps 1-19; `shared/domain/services.md`, "Pilot 2025"):
//!
//! | port | system (ru / kk) | seed 001 п. 3 |
//! |------|------------------|---------------|
//! | [`ConsentService`] | Государственный сервис контроля доступа к персональным данным / Дербес деректерге қол жеткізуді бақылаудың мемлекеттік сервисі | step 1 |
//! | [`GbdFl`] | ГБД ФЛ, государственная база данных «Физические лица» / ЖТ МДҚ, «Жеке тұлғалар» мемлекеттік дерекқоры | step 2 |
//! | [`Bmg`] | БМГ, база мобильных граждан / Азаматтардың мобильді базасы | step 2 |
//! | [`DigitalId`] | сервис Digital-ID, биометрическая идентификация / Digital-ID сервисі | steps 3, 11 |
//! | [`LegalCapacityService`] | сведения о дееспособности / әрекет қабілеттілігі туралы мәліметтер | step 4 |
//! | [`Zags`] | ИС ЗАГС / АХАЖ АЖ (азаматтық хал актілерін жазу) | step 5; п. 5 4) place of birth |
//! | [`Sik`] | АИС СИК, социальные статусы / ААЖ СИК, әлеуметтік мәртебелер | step 14 (Tax Code art. 622) |
//! | [`Payments`] | оплата государственной пошлины / мемлекеттік бажды төлеу | step 15; п. 11 refund |
//! | [`SpecialRecords`] | розыск и специальные учёты / іздестіру және арнайы есепке алу | seeds 000, 003 |
//!
//! Each port is a trait with two implementations: [`Sandbox`], which answers from seeded
//! person records and injects latency and outages on demand, and [`HttpRegistries`], a
//! JSON-over-HTTP client with a per-call timeout, bounded retries with backoff and a
//! circuit breaker per port. [`server::router`] exposes the sandbox over HTTP under
//! `/sandbox/<port>/...` so the clients are tested for real.
//!
//! Seed 001 paragraph 12: a technical failure of the portal, apps, БМГ or biometric
//! identification lasting more than 10 minutes sends the person to a ЦОН counter; the
//! breaker's state decides ([`failure_sends_to_counter`]).

pub mod breaker;
pub mod clock;
pub mod error;
pub mod http;
pub mod model;
pub mod ports;
pub mod sandbox;
pub mod server;

pub use breaker::{
    failure_sends_to_counter, BreakerConfig, BreakerSnapshot, BreakerState, CircuitBreaker,
    COUNTER_AFTER,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Port, RegistryError};
pub use http::{HttpConfig, HttpRegistries};
pub use model::*;
pub use ports::{
    Bmg, ConsentService, DigitalId, GbdFl, LegalCapacityService, Payments, PortFuture, Registries,
    Sik, SpecialRecords, Zags,
};
pub use sandbox::{BranchCases, Faults, Sandbox};
