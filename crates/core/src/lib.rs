//! DRN's pure core: the rules of the seeds (`shared/seeds/`) as types and functions, with
//! no I/O and no async. IIN, the national calendar, the service catalog and deadlines.

pub mod calendar;
pub mod catalog;
pub mod country;
pub mod deadline;
pub mod duty;
pub mod iin;
pub mod text;

pub use calendar::{Calendar, CalendarError, Day, DayReason, WorkingDays, WorkingHours};
pub use catalog::{
    Catalog, CatalogError, Channel, Limit, Service, Step, UnitRole, Urgency, Version,
};
pub use deadline::{
    kz_time, kz_tz, plan, plan_version, Deadlines, Plan, PlanBasis, PlanError, UnitHours,
};
pub use iin::{Bin, Iin, IinError, IinWarning, Sex};
pub use text::{Lang, Text};
