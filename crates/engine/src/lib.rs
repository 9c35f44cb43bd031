//! DRN's engine: applications moved by units through the steps of their catalog version,
//! as commands that each run in one transaction (checks, events, current state, audit),
//! with idempotency keys, optimistic concurrency, deadlines and registries.

pub mod audit;
pub mod catalog_files;
pub mod commands;
pub mod demo;
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

/// Wall-clock time shifted to another day: the demo runs "as of" a date when the seeds'
/// regulations were in force (all of them are repealed by now), and time still passes.
#[derive(Debug)]
pub struct ShiftedClock {
    offset: jiff::SignedDuration,
}

impl ShiftedClock {
    /// A clock that reads `as_of` now and runs on from there.
    pub fn starting_at(as_of: Timestamp) -> ShiftedClock {
        ShiftedClock {
            offset: as_of.duration_since(Timestamp::now()),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.offset)
            .unwrap_or_else(|_| Timestamp::now())
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

    /// Now, to the microsecond the store keeps (so an answer replayed from storage and
    /// the first answer agree).
    pub fn now(&self) -> Timestamp {
        let t = self.clock.now();
        Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
    }
}
