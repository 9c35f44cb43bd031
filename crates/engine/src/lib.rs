//! DRN's engine: applications moved by units through the steps of their catalog version,
//! as commands that each run in one transaction (checks, events, current state, audit),
//! with idempotency keys, optimistic concurrency, deadlines and registries.

pub mod audit;
pub mod catalog_files;
pub mod commands;
pub mod error;
pub mod model;
pub mod queries;
mod rows;
pub mod setup;

use std::sync::{Arc, Mutex};

use drn_core::{Calendar, Catalog};
use drn_store::Db;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use commands::{Command, Outcome};
pub use error::EngineError;
pub use model::*;

/// The engine's clock: the system's, or a simulated one for tests and simulation.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// Wall-clock time.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut t) = self.0.lock() {
            if let Ok(n) = t.checked_add(by) {
                *t = n;
            }
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

/// The engine over a store, a catalog and the national calendar.
#[derive(Clone)]
pub struct Engine {
    pub db: Db,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<Calendar>,
    pub tz: TimeZone,
    pub clock: Arc<dyn Clock>,
}

impl Engine {
    pub fn new(
        db: Db,
        catalog: Catalog,
        calendar: Calendar,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        Ok(Engine {
            db,
            catalog: Arc::new(catalog),
            calendar: Arc::new(calendar),
            tz: drn_core::kz_tz()?,
            clock,
        })
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }
}
