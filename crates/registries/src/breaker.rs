//! A circuit breaker per port, on an injectable clock, and the seed's rule for sending a
//! person to the counter when a system stays down.
//!
//! States: **closed** (calls go through; consecutive technical failures are counted) →
//! **open** after `failure_threshold` consecutive failures (calls are not made) →
//! **half-open** once `cool_down` has passed since it (re)opened (calls go through as
//! probes: the first success closes it, a failure opens it again). While it stays open
//! or half-open, [`BreakerSnapshot::opened_at`] keeps the time it *first* opened, so the
//! length of the failure is observable across probes.
//!
//! Simplification: half-open lets every concurrent call through as a probe rather than
//! exactly one; the first result decides.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;

/// Seed 001 п. 12: «В случаях выявления технических сбоев при оказании услуг более чем
/// 10 минут, по причинам, связанным с работой систем ПЭП, мобильных приложений, БМГ,
/// биометрической идентификации, услугополучатель подает заявление на оказание
/// государственной услуги через ЦОН».
pub const COUNTER_AFTER: SignedDuration = SignedDuration::from_mins(10);

/// The breaker's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// Consecutive failed requests (attempts, not calls) that open it.
    pub failure_threshold: u32,
    /// How long it stays open before letting a probe through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    /// 3 failures (one call that failed all its 3 attempts), 30 s cool-down.
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// What the breaker looks like at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    /// Consecutive failed requests so far.
    pub consecutive_failures: u32,
    /// When it first opened in the current failure (kept across half-open probes that
    /// fail); `None` when closed.
    pub opened_at: Option<Timestamp>,
    /// When it last (re)opened: the cool-down runs from here.
    pub reopened_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy)]
struct Inner {
    failures: u32,
    opened_at: Option<Timestamp>,
    reopened_at: Option<Timestamp>,
}

/// A circuit breaker. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    clock: Arc<dyn Clock>,
    inner: Arc<Mutex<Inner>>,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig, clock: Arc<dyn Clock>) -> CircuitBreaker {
        CircuitBreaker {
            config,
            clock,
            inner: Arc::new(Mutex::new(Inner {
                failures: 0,
                opened_at: None,
                reopened_at: None,
            })),
        }
    }

    pub fn config(&self) -> BreakerConfig {
        self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state_of(&self, i: &Inner, now: Timestamp) -> BreakerState {
        match i.reopened_at {
            None => BreakerState::Closed,
            Some(t) => {
                let cool =
                    SignedDuration::try_from(self.config.cool_down).unwrap_or(SignedDuration::MAX);
                if now.duration_since(t) >= cool {
                    BreakerState::HalfOpen
                } else {
                    BreakerState::Open
                }
            }
        }
    }

    /// The state now, on the breaker's clock.
    pub fn snapshot(&self) -> BreakerSnapshot {
        self.snapshot_at(self.clock.now())
    }

    /// The state at `now`.
    pub fn snapshot_at(&self, now: Timestamp) -> BreakerSnapshot {
        let i = *self.lock();
        BreakerSnapshot {
            state: self.state_of(&i, now),
            consecutive_failures: i.failures,
            opened_at: i.opened_at,
            reopened_at: i.reopened_at,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.snapshot().state
    }

    /// May a request be made now? `Err(opened_at)` when open.
    pub fn allow(&self) -> Result<(), Timestamp> {
        let now = self.clock.now();
        let i = *self.lock();
        match self.state_of(&i, now) {
            BreakerState::Open => Err(i.opened_at.unwrap_or(now)),
            BreakerState::Closed | BreakerState::HalfOpen => Ok(()),
        }
    }

    /// A request got an answer from a working system: closes the breaker.
    pub fn record_success(&self) {
        let mut i = self.lock();
        if i.opened_at.is_some() {
            tracing::info!("circuit breaker closed");
        }
        *i = Inner {
            failures: 0,
            opened_at: None,
            reopened_at: None,
        };
    }

    /// A request failed technically (unavailable, timed out).
    pub fn record_failure(&self) {
        let now = self.clock.now();
        let mut i = self.lock();
        i.failures = i.failures.saturating_add(1);
        let state = self.state_of(&i, now);
        match state {
            BreakerState::Closed if i.failures >= self.config.failure_threshold => {
                tracing::warn!(failures = i.failures, "circuit breaker opened");
                i.opened_at = Some(now);
                i.reopened_at = Some(now);
            }
            BreakerState::HalfOpen => {
                tracing::warn!("circuit breaker probe failed: open again");
                i.reopened_at = Some(now);
            }
            _ => {}
        }
    }
}

/// Seed 001 п. 12: does a technical failure send the person to a ЦОН counter? True when
/// the breaker is open or half-open (the system has not answered since) and it first
/// opened more than 10 minutes ([`COUNTER_AFTER`]) before `now`. "More than": at exactly
/// 10 minutes the person may still retry online.
///
/// The failure is taken to start when the breaker opened; with the defaults (3 attempts a
/// call, 3 failures open it) that is the end of the first call that failed all its
/// attempts, a second or two after the failure began.
pub fn failure_sends_to_counter(state: &BreakerSnapshot, now: Timestamp) -> bool {
    match state.state {
        BreakerState::Closed => false,
        BreakerState::Open | BreakerState::HalfOpen => state
            .opened_at
            .is_some_and(|t| now.duration_since(t) > COUNTER_AFTER),
    }
}
