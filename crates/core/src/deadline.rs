//! Deadlines: when a step entered at an instant is due under its limit, and the plan of a
//! whole application assuming each step takes its full limit.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::Serialize;

use crate::calendar::{Calendar, CalendarError, WorkingHours};
use crate::catalog::{Amount, Catalog, Limit, UnitRole, Urgency};
use crate::text::Text;

/// Kazakhstan time: one zone, UTC+5 since 1 March 2024, UTC+6 before (tz database, so
/// older instants convert right).
pub const KZ_TZ: &str = "Asia/Almaty";

/// The Kazakhstan time zone from the bundled tz database.
pub fn kz_tz() -> Result<TimeZone, PlanError> {
    TimeZone::get(KZ_TZ).map_err(|e| PlanError::Tz(e.to_string()))
}

/// Formats an instant as Kazakhstan time with its offset: `2019-03-20T10:00:00+06:00`.
pub fn kz_time(z: &Zoned) -> String {
    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("no service {0:?} in the catalog")]
    NoService(String),
    #[error("no version of {service} was in force on {date}")]
    NoVersion {
        service: String,
        date: jiff::civil::Date,
    },
    #[error("version {version} of {service} has no urgency {urgency} (it has: {has})")]
    NoUrgency {
        service: String,
        version: String,
        urgency: Urgency,
        has: String,
    },
    #[error("version {version} of {service} has no process {process:?}")]
    NoProcess {
        service: String,
        version: String,
        process: String,
    },
    #[error("time zone: {0}")]
    Tz(String),
}

/// What a deadline is computed against: the national calendar, the unit's working hours
/// and the unit's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines<'a> {
    pub calendar: &'a Calendar,
    pub hours: &'a WorkingHours,
    pub tz: &'a TimeZone,
}

impl Deadlines<'_> {
    /// The instant a step entered at `entered` is due under `limit`.
    /// Minutes and hours run in working hours; working days end at close of business of
    /// the last day (entered after closing or on a closed day, the term starts with the
    /// next open day); calendar days end at close of business, moved to the next working
    /// day when they end on a day off.
    pub fn due(&self, limit: &Limit, entered: Timestamp) -> Result<Timestamp, PlanError> {
        let local = entered.to_zoned(self.tz.clone()).datetime();
        let due_local = match limit.amount {
            a @ (Amount::Seconds(_) | Amount::Minutes(_) | Amount::Hours(_)) => {
                let dur = a.working_time().unwrap_or_default();
                self.hours.add_working_time(self.calendar, local, dur)?
            }
            Amount::WorkingDays(n) => {
                let mut entry = local.date();
                let late = local >= self.hours.close_of(entry);
                if limit.day_of_entry && (late || !self.hours.open_on(self.calendar, entry)?) {
                    // The day of entry counts only if work can still be done on it.
                    entry = self.calendar.working_on_or_after(
                        entry.tomorrow().map_err(|_| CalendarError::Overflow)?,
                    )?;
                }
                let end = self.calendar.term_end(entry, n, limit.day_of_entry)?;
                self.hours.close_of(end)
            }
            Amount::CalendarDays(n) => {
                let d = local
                    .date()
                    .checked_add(jiff::Span::new().days(i64::from(n)))
                    .map_err(|_| CalendarError::Overflow)?;
                self.hours.close_of(self.calendar.working_on_or_after(d)?)
            }
        };
        due_local
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| PlanError::Tz(e.to_string()))
    }
}

/// The working hours of the units along a plan, by the role of the unit doing each step:
/// the talon's due date (the engine's plan at acceptance, with the hours of the units that
/// will hold the application) and `drn catalog plan` (the standard hours) are one
/// computation, [`plan`], over these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitHours {
    roles: Vec<(UnitRole, WorkingHours)>,
    other: WorkingHours,
}

impl UnitHours {
    /// The same hours for every unit.
    pub fn uniform(hours: WorkingHours) -> Self {
        UnitHours {
            roles: Vec::new(),
            other: hours,
        }
    }

    /// The standard hours of a unit by its role, the demo's units' own: every unit Monday
    /// to Friday 09:00-18:00 with lunch 13:00-14:00, the State Corporation's counters
    /// Saturday too. ASSUMPTION: the seeds state no working hours; a unit's own hours are
    /// its data (`units.hours_json`), these are what a plan assumes without a unit.
    pub fn standard() -> Self {
        Self::uniform(WorkingHours::default()).with(
            UnitRole::Counter,
            WorkingHours {
                weekdays: [true, true, true, true, true, true, false],
                ..WorkingHours::default()
            },
        )
    }

    /// These hours with `role`'s set to `hours`.
    pub fn with(mut self, role: UnitRole, hours: WorkingHours) -> Self {
        self.roles.retain(|(r, _)| *r != role);
        self.roles.push((role, hours));
        self
    }

    /// The hours of the unit doing a step of `role`.
    pub fn of(&self, role: UnitRole) -> &WorkingHours {
        self.roles
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(&self.other, |(_, h)| h)
    }
}

/// What a plan is computed against: the national calendar, the time zone and the hours
/// of the unit doing each step.
#[derive(Debug, Clone, Copy)]
pub struct PlanBasis<'a> {
    pub calendar: &'a Calendar,
    pub tz: &'a TimeZone,
    pub hours: &'a UnitHours,
}

impl<'a> PlanBasis<'a> {
    /// The deadlines of a step done by a unit of `role`.
    pub fn of(&self, role: UnitRole) -> Deadlines<'a> {
        Deadlines {
            calendar: self.calendar,
            hours: self.hours.of(role),
            tz: self.tz,
        }
    }
}

/// One step of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanStep {
    pub n: u32,
    pub unit: UnitRole,
    pub unit_name: Text,
    pub action: Text,
    pub limit: String,
    pub limit_stated: bool,
    #[serde(serialize_with = "ser_zoned")]
    pub starts: Zoned,
    #[serde(serialize_with = "ser_zoned")]
    pub due: Zoned,
    pub cite: String,
}

/// The plan of an application: the version in force at acceptance, each step with its
/// unit and due instant, and the final due instant.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub service: String,
    pub version: String,
    pub act: String,
    pub process: String,
    pub urgency: Urgency,
    #[serde(serialize_with = "ser_zoned")]
    pub accepted: Zoned,
    pub steps: Vec<PlanStep>,
    #[serde(serialize_with = "ser_zoned")]
    pub due: Zoned,
}

fn ser_zoned<S: serde::Serializer>(z: &Zoned, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&kz_time(z))
}

/// Plans an application accepted at `accepted` under the version in force that day
/// (Kazakhstan date), through the given process (default: the version's first).
pub fn plan(
    catalog: &Catalog,
    service: &str,
    urgency: Urgency,
    accepted: Timestamp,
    process: Option<&str>,
    d: &PlanBasis,
) -> Result<Plan, PlanError> {
    let svc = catalog
        .service(service)
        .ok_or_else(|| PlanError::NoService(service.to_string()))?;
    let day = accepted.to_zoned(d.tz.clone()).date();
    let ver = svc.version_on(day).ok_or_else(|| PlanError::NoVersion {
        service: service.to_string(),
        date: day,
    })?;
    plan_version(ver, service, urgency, accepted, process, d)
}

/// Plans an application accepted at `accepted` under a given version of `service` (one
/// applied beyond its catalog period, such as a pilot an administrator extended). Each
/// step runs in the working hours of the unit that does it, capped by the process's total
/// from acceptance, as the engine times each step when it enters it.
pub fn plan_version(
    ver: &crate::catalog::Version,
    service: &str,
    urgency: Urgency,
    accepted: Timestamp,
    process: Option<&str>,
    d: &PlanBasis,
) -> Result<Plan, PlanError> {
    let accepted_z = accepted.to_zoned(d.tz.clone());
    if !ver.urgencies.contains(&urgency) {
        return Err(PlanError::NoUrgency {
            service: service.to_string(),
            version: ver.id.clone(),
            urgency,
            has: ver
                .urgencies
                .iter()
                .map(|u| u.code())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let proc_ = match process {
        Some(p) => ver.process(p),
        None => ver.processes.first(),
    }
    .ok_or_else(|| PlanError::NoProcess {
        service: service.to_string(),
        version: ver.id.clone(),
        process: process.unwrap_or("").to_string(),
    })?;
    let mut at = accepted;
    let mut steps = Vec::new();
    for (_, s) in ver.path(proc_) {
        let limit = s
            .limit
            .for_urgency(urgency)
            .ok_or_else(|| PlanError::NoUrgency {
                service: service.to_string(),
                version: ver.id.clone(),
                urgency,
                has: String::new(),
            })?;
        let unit = d.of(s.unit);
        let mut due = unit.due(limit, at)?;
        if let Some(total) = &proc_.total {
            due = due.min(unit.due(total, accepted)?);
        }
        steps.push(PlanStep {
            n: s.n,
            unit: s.unit,
            unit_name: s.unit_name.clone(),
            action: s.action.clone(),
            limit: limit.to_string(),
            limit_stated: limit.stated,
            starts: at.to_zoned(d.tz.clone()),
            due: due.to_zoned(d.tz.clone()),
            cite: s.cite.to_string(),
        });
        at = due;
    }
    Ok(Plan {
        service: service.to_string(),
        version: ver.id.clone(),
        act: format!("No {} of {}", ver.act.number, ver.act.date.0),
        process: proc_.id.clone(),
        urgency,
        accepted: accepted_z,
        steps,
        due: at.to_zoned(d.tz.clone()),
    })
}
