//! Time for the ports: the circuit breaker's cool-down, retry backoff and the sandbox's
//! outage windows all read it, so tests simulate minutes without sleeping.
//!
//! The engine has its own `Clock` trait of the same shape (`drn_engine::Clock`); the
//! engine adapts its clock to this one so the breaker and the application's steps run on
//! the same time (issue 6: "the circuit breaker's state decides, on the same clock the
//! engine uses").

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// A source of time that can also wait.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;

    /// Waits `d`. The system clock sleeps; a simulated clock moves itself forward.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to (or when something sleeps on it).
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(n) = t.checked_add(by) {
            *t = n;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            self.advance(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX));
            tokio::task::yield_now().await;
        })
    }
}
