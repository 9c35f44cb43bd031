//! DRN's engine: applications moved by units through the steps of their catalog version,
//! as commands that are each all-or-nothing (checks, events, current state, audit), with
//! idempotency keys, optimistic concurrency, deadlines and registries. Commands are
//! committed in groups by writer tasks (see [`writer`]): one durable commit for many
//! commands, each inside its own savepoint.

pub mod accounts;
pub mod audit;
pub mod calendar_admin;
pub mod catalog_files;
pub mod commands;
pub mod demo;
pub mod documents;
pub mod drafts;
pub mod ending;
pub mod error;
pub mod metrics;
pub mod model;
pub mod queries;
pub mod refusal;
pub mod registry_print;
mod rows;
pub mod scale;
pub mod services;
pub mod setup;
pub mod simulate;
pub mod supervision;
mod tx;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use drn_core::{Calendar, Catalog};
use drn_store::Db;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub use error::EngineError;
pub use model::*;
pub use refusal::{Reason, Refusal};
/// The online renewal (S1E) under its older name.
pub use services::s1e as online_renewal;

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
    /// The database: private, so that every read and write is a named method here.
    db: Db,
    pub catalog: Arc<Catalog>,
    pub calendar: Arc<Calendar>,
    pub tz: TimeZone,
    pub clock: Arc<dyn Clock>,
    /// The queue to the writer tasks, started on first use.
    writer: Arc<OnceLock<writer::Queue>>,
    /// All units, loaded on first use and dropped when units are created (units are never
    /// changed or deleted, so a unit once read stays right; one that another process
    /// created is found by reloading on a miss).
    units: Arc<RwLock<Option<Arc<UnitMap>>>>,
    /// The state systems of the online renewal (see [`online_renewal`]).
    online: Arc<RwLock<Option<Arc<services::s1e::Setup>>>>,
    /// The catalog's steps that end by a registry, as `service/version/process/step`
    /// (the work lists leave them out; the catalog does not change while the engine runs).
    handover_steps: Arc<[String]>,
}

/// Units by id.
pub(crate) type UnitMap = HashMap<UnitId, Unit>;

impl Engine {
    pub fn new(
        db: Db,
        catalog: Catalog,
        calendar: Calendar,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, EngineError> {
        services::check_catalog(&catalog)?;
        let handover_steps = handover_steps(&catalog).into();
        Ok(Engine {
            db,
            handover_steps,
            catalog: Arc::new(catalog),
            calendar: Arc::new(calendar),
            tz: drn_core::kz_tz()?,
            clock,
            writer: Default::default(),
            units: Default::default(),
            online: Default::default(),
        })
    }

    /// The catalog's steps that end by a registry (see the field).
    pub(crate) fn handover_keys(&self) -> &[String] {
        &self.handover_steps
    }

    /// The cached units, if loaded.
    fn cached_units(&self) -> Option<Arc<UnitMap>> {
        match self.units.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// A unit from the cache, if loaded (no call to the database).
    pub(crate) fn cached_unit(&self, id: &UnitId) -> Option<Unit> {
        self.cached_units().and_then(|m| m.get(id).cloned())
    }

    /// Forgets the cached units (after units were created).
    pub(crate) fn forget_units(&self) {
        match self.units.write() {
            Ok(mut g) => *g = None,
            Err(p) => *p.into_inner() = None,
        }
    }

    /// Loads all units into the cache.
    async fn load_units<R: rows::Reads>(&self, c: &mut R) -> Result<Arc<UnitMap>, EngineError> {
        let rows = c
            .rows(drn_store::Statement::new(
                format!("SELECT {} FROM units", rows::UNIT_COLS),
                Vec::new(),
            ))
            .await?;
        let mut map = UnitMap::with_capacity(rows.len());
        for r in &rows {
            let u = rows::unit(r)?;
            map.insert(u.id.clone(), u);
        }
        let map = Arc::new(map);
        match self.units.write() {
            Ok(mut g) => *g = Some(map.clone()),
            Err(p) => *p.into_inner() = Some(map.clone()),
        }
        Ok(map)
    }

    /// A unit, from the cache when it is there (no call to the database then).
    pub(crate) async fn unit_on<R: rows::Reads>(
        &self,
        c: &mut R,
        id: &UnitId,
    ) -> Result<Unit, EngineError> {
        if let Some(u) = self.cached_units().and_then(|m| m.get(id).cloned()) {
            return Ok(u);
        }
        self.load_units(c)
            .await?
            .get(id)
            .cloned()
            .ok_or_else(|| EngineError::not_found("unit", id.as_str()))
    }

    /// The republic's production unit (the first by id).
    pub(crate) async fn production_unit(&self, c: &mut tx::Ctx<'_>) -> Result<UnitId, EngineError> {
        let pick = |m: &UnitMap| {
            m.values()
                .filter(|u| u.kind == UnitKind::Production)
                .map(|u| u.id.clone())
                .min()
        };
        if let Some(id) = self.cached_units().as_deref().and_then(pick) {
            return Ok(id);
        }
        let m = self.load_units(c).await?;
        pick(&m).ok_or_else(|| EngineError::not_found("unit", "production"))
    }

    /// Now, to the microsecond the store keeps (so an answer replayed from storage and
    /// the first answer agree).
    pub fn now(&self) -> Timestamp {
        let t = self.clock.now();
        Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
    }
}

/// The catalog's steps that end by a registry, as `service/version/process/step`.
fn handover_steps(catalog: &Catalog) -> Vec<String> {
    let mut out = Vec::new();
    for s in catalog.services.values() {
        for v in &s.versions {
            for p in &v.processes {
                for step in &p.steps {
                    if p.handover_after(step.n).is_some() {
                        out.push(format!("{}/{}/{}/{}", s.code, v.id, p.id, step.n));
                    }
                }
            }
        }
    }
    out
}
