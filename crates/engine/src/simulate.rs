//! A workload over simulated time through the real engine and storage (`drn simulate`):
//! counters, units and the portal take applications in, units work their queues with a
//! given staff, registries are formed, signed and sent each evening and received the next
//! working morning. The clock is a [`ManualClock`] moved through the working hours of each
//! simulated day.
//!
//! The day: registries sent on earlier days are received at 09:00; then the working day
//! (09:00 to 18:00) goes in slots of the time an officer takes for a step (60 / steps per
//! hour minutes): at a slot's start its share of the day's applications is taken in, each
//! a line of the [`Mix`] in force on the day drawn by weight (a service through a channel:
//! at a counter, at the district's unit, or by the applicant on the portal; services given
//! at the place of registration at a counter of the applicant's district), in its middle
//! every unit that may hold work reads its work list (the workstation's query,
//! [`Engine::worklist_before`]: its queue less what waits for a registry; sixteen units to
//! a read transaction, [`Engine::worklists_before`]) and its officers do one step each,
//! earliest due first: completing a step (this system's own steps, S9's IIN, by the
//! system), checking and issuing, a district refusing and a counter annulling at the
//! mix's rates. At 17:59 every unit forms the registries of the applications waiting at
//! its handover steps, signs and sends them.
//!
//! Online, S1E (the 2025 pilot's ID-card renewal, in its period only) runs the citizen's
//! whole session ([`Engine::renewal_submit`]) with a request signed by the simulation's
//! own citizens' keys and the sandboxed state systems answering, pays the duty in the
//! sandbox, and its regional directorate reviews it at step 17 ([`Engine::renewal_review`]);
//! S3 through the portal registers at once and leaves the chip rewrite to the counter the
//! applicant chose, which does it in a later slot ([`Engine::complete_counter_task`]); S5
//! through the portal gives the certificate at once, or refuses the request of a person
//! whose address the register does not hold (counted refused at intake: the data decide
//! the rate, and the demo's persons' addresses are not in the register); S8 through the
//! portal (the host citizen registering a foreigner) waits for the district above the
//! chosen counter, whose officer issues the e-signed insert at step 2 (never refused: seed
//! 003 gives S8 no ground to refuse, and its portal process no check). A portal applicant
//! chooses a counter of their own district.
//!
//! The simulation keeps its own counts from the engine's answers (accepted by service and
//! channel, refused at intake, issued, refused, annulled; the due instant of every open
//! application as last seen; the steps done by unit and step, on time or late), so that
//! they can be compared with the supervisor's dashboard over the same database, and the
//! CPU time the run took ([`crate::metrics::process_cpu`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use drn_core::catalog::UnitRole;
use drn_core::{Channel, Iin, Urgency};
use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::demo::SplitMix64;
use crate::error::EngineError;
use crate::model::*;
use crate::model::{Accept, Command, Outcome};
use crate::queries::QueueItem;
use crate::refusal::{Reason, Refusal};
use crate::services::s1e;
use crate::{Clock, Engine, ManualClock};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub start: Date,
    pub days: u32,
    pub per_day: u32,
    pub staff_per_unit: u32,
    pub steps_per_hour: u32,
    pub seed: u64,
    /// The services and channels, in proportion, and the rates of refusal and annulment.
    pub mix: Mix,
}

/// One line of a mix: a service through a channel, and its weight among the lines in
/// force on the day (a line whose service has no version then, or whose version has no
/// process for the channel, drops out that day: S6 to S8 exist under the 2014 acts only,
/// S1E in its pilot's period only).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixLine {
    pub service: String,
    pub channel: Channel,
    pub weight: u64,
}

/// The mix a ministry sets (`drn simulate --mix FILE`, TOML: `[[line]]` tables of
/// `service`, `channel`, `weight`, and the rates below); what it leaves out is
/// [`Mix::default`]'s.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mix {
    #[serde(rename = "line")]
    pub lines: Vec<MixLine>,
    /// Share of packages refused at intake (a document missing), with a receipt.
    pub incomplete: f64,
    /// Share of a district's steps (before the last) ending in a motivated refusal.
    pub refusal: f64,
    /// Share of a counter's intakes it annuls while it still holds them (a mistaken
    /// intake).
    pub annulment: f64,
}

impl Default for Mix {
    /// ASSUMPTION (the seeds give no volumes): the weights are the services' own sample
    /// weights ([`crate::services::sample_mix`]) and the rates below this simulation's.
    fn default() -> Mix {
        Mix {
            lines: crate::services::sample_mix()
                .into_iter()
                .map(|(service, channel, weight)| MixLine {
                    service: service.into(),
                    channel,
                    weight,
                })
                .collect(),
            incomplete: 0.02,
            refusal: 0.01,
            annulment: 0.002,
        }
    }
}

impl Mix {
    /// Checks a mix against the catalog: known services, channels some version of the
    /// service has, rates between 0 and 1, some weight.
    pub fn check(&self, catalog: &drn_core::Catalog) -> Result<(), EngineError> {
        for l in &self.lines {
            if !simulated(&l.service, l.channel) {
                return Err(EngineError::invalid(
                    "mix",
                    crate::Reason::note(format!(
                        "{} through the channel {:?} is not simulated (the portal only for S1, S3, S5, S8 and S1E; the mobile applications only for S1E)",
                        l.service, l.channel
                    )),
                ));
            }
            let Some(svc) = catalog.service(&l.service) else {
                return Err(EngineError::invalid(
                    "mix",
                    crate::Reason::note(format!("no service {} in the catalog", l.service)),
                ));
            };
            if !svc
                .versions
                .iter()
                .any(|v| v.process_for(l.channel).is_some())
            {
                return Err(EngineError::invalid(
                    "mix",
                    crate::Reason::note(format!(
                        "{} has no process for the channel {:?}",
                        l.service, l.channel
                    )),
                ));
            }
        }
        if self.lines.iter().all(|l| l.weight == 0) {
            return Err(EngineError::invalid(
                "mix",
                crate::Reason::note("every weight is 0"),
            ));
        }
        for (name, r) in [
            ("incomplete", self.incomplete),
            ("refusal", self.refusal),
            ("annulment", self.annulment),
        ] {
            if !(0.0..=1.0).contains(&r) {
                return Err(EngineError::invalid(
                    "mix",
                    crate::Reason::note(format!("{name} is a share between 0 and 1, not {r}")),
                ));
            }
        }
        Ok(())
    }
}

/// Whether the simulation can submit the service through the channel: every service at
/// the counter and at the unit from its sample intake ([`crate::services::sample_intake`]);
/// S1 and S3 through the portal too (S3's 2014 text only for a holder of an ID card in
/// force, whom the simulation picks), S5 (seed 002, the S5 regulation's annex 3 table 1)
/// and S8 (seed 003, S8 para 4) through the portal too; S1E, the online renewal, through
/// the portal and the mobile applications (seed 001 para 9: one process for both) and
/// nowhere else.
pub fn simulated(service: &str, channel: Channel) -> bool {
    use crate::services::{foreigners, s1, s3, s5};
    match channel {
        _ if service == s1e::SERVICE => matches!(channel, Channel::Portal | Channel::Mobile),
        Channel::Counter | Channel::Unit => true,
        Channel::Portal => [
            s1::SERVICE,
            s3::SERVICE,
            s5::SERVICE,
            foreigners::REGISTRATION,
        ]
        .contains(&service),
        Channel::Mobile => false,
    }
}

/// Steps completed at one unit and step, and how many within their due instant.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Compliance {
    pub unit: String,
    pub service: String,
    pub step: u32,
    pub completed: u64,
    pub on_time: u64,
    pub share_on_time: f64,
}

/// A unit's backlog (open applications it holds in progress) at the end of working days.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Backlog {
    pub unit: String,
    pub first_day: u64,
    pub middle_day: u64,
    pub last_day: u64,
    pub peak: u64,
}

/// Counts by service.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ServiceCounts {
    /// The service's name (English, Russian), from the catalog.
    pub name: String,
    pub name_ru: String,
    pub accepted: u64,
    /// Accepted by channel (`counter`, `unit`, `portal`).
    pub by_channel: BTreeMap<String, u64>,
    pub intake_refused: u64,
    pub issued: u64,
    pub refused: u64,
    pub annulled: u64,
}

/// One simulated day's intake and results.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayCounts {
    pub day: Date,
    pub accepted: u64,
    pub issued: u64,
    /// Commands the day took (0 for a day off).
    pub commands: u64,
    /// The wall time the day took to simulate, in seconds: where it grows from day to
    /// day, the system slows as its data grows.
    pub wall_seconds: f64,
    /// The CPU time the process spent on the day, user and system, in seconds (see
    /// [`SimReport::cpu`]).
    pub cpu_user_seconds: f64,
    pub cpu_system_seconds: f64,
}

/// The CPU time of the run (`drn simulate`'s process: the engine, its writer and, on
/// SQLite, the database; not a PostgreSQL server's, another process), from
/// `/proc/self/stat` at 10 ms resolution ([`crate::metrics::process_cpu`]).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct CpuTime {
    pub user_seconds: f64,
    pub system_seconds: f64,
    /// Per command run (`commands`), in microseconds.
    pub user_us_per_command: f64,
    pub system_us_per_command: f64,
    pub total_us_per_command: f64,
}

/// Registries handled.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RegistryCounts {
    pub formed: u64,
    pub signed: u64,
    pub sent: u64,
    pub received: u64,
}

/// What the simulation did and saw.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SimReport {
    pub start: String,
    /// The simulated instant at the end (the supervisor's "now" to compare with).
    pub end: Timestamp,
    pub days: u32,
    pub working_days: u32,
    pub per_day: u32,
    pub staff_per_unit: u32,
    pub steps_per_hour: u32,
    /// The mix simulated.
    pub mix: Mix,
    pub wall_seconds: f64,
    /// The writers' batches (transactions) over the run, the jobs they ran, and the share
    /// of the wall time they were busy: a writer idle much of the time waits for the
    /// workload, one busy all of it is what bounds the run.
    pub writer_batches: u64,
    pub writer_jobs: u64,
    pub writer_busy_share: f64,
    /// Engine commands run (successful or refused).
    pub commands: u64,
    pub commands_per_second: f64,
    pub applications_per_second: f64,
    /// The CPU time the run took, and per command; `null` where the process's CPU time
    /// cannot be read (not Linux).
    pub cpu: Option<CpuTime>,
    /// Applications submitted at counters: accepted + refused at intake.
    pub submitted: u64,
    pub accepted: u64,
    pub intake_refused: u64,
    pub issued: u64,
    pub refused: u64,
    pub annulled: u64,
    /// Accepted and neither issued, refused nor annulled (accepted - issued - refused -
    /// annulled).
    pub open: u64,
    /// Open applications whose current step was due before `end` (as last seen).
    pub overdue: u64,
    /// Open applications the simulation tracks (equal to `open` when all is well).
    pub open_tracked: u64,
    /// Open applications in the database before the simulation (not in the counts).
    pub preexisting_open: u64,
    pub by_service: BTreeMap<String, ServiceCounts>,
    /// Accepted and issued by day (Kazakhstan time), as the engine answered.
    pub by_day: Vec<DayCounts>,
    /// Open applications at the end by the unit holding them (as last seen).
    pub open_by_unit: BTreeMap<String, u64>,
    pub registries: RegistryCounts,
    /// Chip rewrites done at counters after a registration through the portal (S3: the
    /// counter tasks it leaves).
    pub counter_tasks_done: u64,
    /// By unit and step, the least compliant first.
    pub compliance: Vec<Compliance>,
    /// Units whose backlog grew over the run, the most first.
    pub growing_queues: Vec<Backlog>,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

/// An open application as the simulation last saw it.
struct Open {
    due: Option<Timestamp>,
    /// The unit holding it.
    unit: UnitId,
}

/// What one task of the simulation reports back.
enum Done {
    Accepted(Application),
    /// Accepted with the steps its intake completed at once, as its history has them (the
    /// online session's checks, the applicant's own steps on the portal).
    Online {
        app: Application,
        steps: Vec<StepDone>,
        commands: u64,
    },
    /// A counter did a task a portal registration left (S3's chip rewrite).
    CounterTask(u64),
    IntakeRefused(String),
    /// A step completed (or the application closed) by a unit's officer.
    Step {
        unit: UnitId,
        service: String,
        step: u32,
        due: Option<Timestamp>,
        at: Timestamp,
        after: Application,
        commands: u64,
        /// The step was left by a return for correction, not completed (the dashboard's
        /// step times count completions only).
        returned: bool,
    },
    Formed(Vec<Registry>),
    Sent(Registry, u64),
    Received(UnitId, Vec<Application>),
    /// A command that had nothing to do (no applications wait at a step).
    Nothing,
    Failed(String, u64),
}

/// A step completed: the unit, the step and whether within its due instant.
type StepDone = (UnitId, u32, bool);

/// What the online renewal (S1E) runs with: the citizens' keys that sign its requests and
/// the sandbox answering for the state systems ([`online_setup`]).
struct Online {
    pki: drn_docs::Pki,
    sandbox: drn_registries::Sandbox,
    photo: Vec<u8>,
    signature: Vec<u8>,
}

/// What a working day cost.
#[derive(Debug, Clone, Copy, Default)]
struct DayCost {
    commands: u64,
    wall: f64,
    cpu: (f64, f64),
}

/// The CPU time between two readings of [`crate::metrics::process_cpu`].
fn cpu_since(before: Option<(f64, f64)>) -> Option<(f64, f64)> {
    let (b, a) = (before?, crate::metrics::process_cpu()?);
    Some(((a.0 - b.0).max(0.0), (a.1 - b.1).max(0.0)))
}

/// The simulation's state.
struct Sim {
    engine: Engine,
    clock: Arc<ManualClock>,
    opts: SimOptions,
    rng: SplitMix64,
    units: Vec<Unit>,
    counters: Vec<UnitId>,
    /// Counters by the district above them.
    counters_of: HashMap<UnitId, Vec<UnitId>>,
    applicants: Vec<Iin>,
    /// The district each applicant is registered in.
    home: HashMap<Iin, UnitId>,
    /// Dwellings of the address register (their codes), for registrations.
    dwellings: Vec<String>,
    /// Persons taken by S4 so far.
    s4_next: usize,
    /// Foreigners taken in so far (S6 to S9), each with a passport of their own.
    foreigners: u64,
    /// Persons taken in turn so far (see [`Sim::intake`]).
    in_turn: usize,
    /// The applicants' ID cards' expiry (S3's portal, S1E's window).
    card_expires: HashMap<Iin, Date>,
    /// The applicants with an ID card, by its expiry, earliest first.
    by_expiry: Vec<(Date, Iin)>,
    /// S1E's keys and sandbox, when the mix has S1E in the run's days.
    online: Option<Arc<Online>>,
    /// Persons who applied for S1E in the run (one renewal each).
    renewed: HashSet<Iin>,
    /// Chip rewrites waiting at counters (the counter and the person), from S3's portal.
    chip_rewrites: Vec<(UnitId, Iin)>,
    counter_tasks_done: u64,
    open: HashMap<ApplicationId, Open>,
    /// Units that may hold work (their queue is read each slot).
    active: std::collections::BTreeSet<UnitId>,
    /// Sent registries not yet received.
    in_transit: Vec<Registry>,
    commands: u64,
    by_service: BTreeMap<String, ServiceCounts>,
    /// (accepted, issued) by day.
    by_day: BTreeMap<Date, (u64, u64)>,
    /// Commands, wall seconds and CPU (user, system) seconds of each working day.
    day_cost: BTreeMap<Date, DayCost>,
    registries: RegistryCounts,
    compliance: BTreeMap<(String, String, u32), (u64, u64)>,
    backlog: BTreeMap<UnitId, Vec<u64>>,
    errors: u64,
    error_samples: Vec<String>,
}

fn date_err(e: jiff::Error) -> EngineError {
    EngineError::invalid("date", crate::Reason::note(e.to_string()))
}

fn actor_for(unit: &Unit) -> Actor {
    let role = match unit.kind {
        UnitKind::Counter => Role::CounterOperator,
        UnitKind::District => Role::DistrictOfficer,
        UnitKind::Region => Role::RegionalOfficer,
        UnitKind::Centre => Role::CentralOfficer,
        UnitKind::Production => Role::ProductionOperator,
    };
    Actor::staff(&format!("sim.{}", unit.id), role, unit.id.clone())
}

fn unit_role(kind: UnitKind) -> UnitRole {
    match kind {
        UnitKind::Counter => UnitRole::Counter,
        UnitKind::District => UnitRole::District,
        UnitKind::Region => UnitRole::Region,
        UnitKind::Centre => UnitRole::Centre,
        UnitKind::Production => UnitRole::Production,
    }
}

/// Runs tasks concurrently (so the writers commit them in groups) and collects their
/// reports.
async fn all(tasks: Vec<tokio::task::JoinHandle<Vec<Done>>>) -> Vec<Done> {
    let mut out = Vec::new();
    for t in tasks {
        match t.await {
            Ok(d) => out.extend(d),
            Err(e) => out.push(Done::Failed(format!("task: {e}"), 0)),
        }
    }
    out
}

/// Whether a line of the mix is in force on `day`: its service has a version then with a
/// process for the line's channel.
fn in_force(engine: &Engine, l: &MixLine, day: Date) -> bool {
    l.weight > 0
        && engine
            .catalog
            .service(&l.service)
            .and_then(|s| s.version_on(day))
            .is_some_and(|v| v.process_for(l.channel).is_some())
}

/// The channel as the API and the report write it.
fn channel_code(c: Channel) -> &'static str {
    match c {
        Channel::Counter => "counter",
        Channel::Portal => "portal",
        Channel::Mobile => "mobile",
        Channel::Unit => "unit",
    }
}

impl Sim {
    fn at(&self, d: Date, h: i8, m: i8) -> Result<Timestamp, EngineError> {
        Ok(d.at(h, m, 0, 0)
            .to_zoned(self.engine.tz.clone())
            .map_err(date_err)?
            .timestamp())
    }

    fn record(&mut self, done: Vec<Done>) {
        let today = self.clock.now().to_zoned(self.engine.tz.clone()).date();
        for d in done {
            match d {
                Done::Accepted(app) => {
                    self.commands += 1;
                    self.accepted(app, None, today);
                }
                Done::Online {
                    app,
                    steps,
                    commands,
                } => {
                    self.commands += commands;
                    self.accepted(app, Some(steps), today);
                }
                Done::CounterTask(commands) => {
                    self.commands += commands;
                    self.counter_tasks_done += 1;
                }
                Done::IntakeRefused(service) => {
                    self.commands += 1;
                    self.by_service.entry(service).or_default().intake_refused += 1;
                }
                Done::Step {
                    unit,
                    service,
                    step,
                    due,
                    at,
                    after,
                    commands,
                    returned,
                } => {
                    self.commands += commands;
                    // An annulment undoes the intake: no step was done (the dashboard's
                    // step times leave it out too), nor does a return for correction.
                    if after.status != Status::Annulled && !returned {
                        let c = self
                            .compliance
                            .entry((unit.to_string(), service.clone(), step))
                            .or_default();
                        c.0 += 1;
                        if due.is_none_or(|d| at <= d) {
                            c.1 += 1;
                        }
                    }
                    match after.status {
                        Status::Issued => {
                            self.open.remove(&after.id);
                            self.by_service.entry(service).or_default().issued += 1;
                            self.by_day.entry(today).or_default().1 += 1;
                        }
                        Status::Refused => {
                            self.open.remove(&after.id);
                            self.by_service.entry(service).or_default().refused += 1;
                        }
                        Status::Annulled => {
                            self.open.remove(&after.id);
                            self.by_service.entry(service).or_default().annulled += 1;
                        }
                        _ => {
                            self.active.insert(after.holder_unit.clone());
                            if let Some(o) = self.open.get_mut(&after.id) {
                                o.due = after.step_due_at;
                                o.unit = after.holder_unit.clone();
                            }
                        }
                    }
                }
                Done::Formed(regs) => {
                    self.commands += 1;
                    self.registries.formed += regs.len() as u64;
                }
                Done::Sent(reg, commands) => {
                    self.commands += commands;
                    self.registries.signed += 1;
                    self.registries.sent += 1;
                    let at = reg.sent_at.unwrap_or(reg.formed_at);
                    for a in &reg.applications {
                        let due = self.open.get(a).and_then(|o| o.due);
                        let c = self
                            .compliance
                            .entry((reg.from_unit.to_string(), reg.service.clone(), reg.step))
                            .or_default();
                        c.0 += 1;
                        if due.is_none_or(|d| at <= d) {
                            c.1 += 1;
                        }
                    }
                    self.in_transit.push(reg);
                }
                Done::Received(unit, apps) => {
                    self.commands += 1;
                    self.active.insert(unit);
                    self.registries.received += 1;
                    for a in apps {
                        if let Some(o) = self.open.get_mut(&a.id) {
                            o.due = a.step_due_at;
                            o.unit = a.holder_unit;
                        }
                    }
                }
                Done::Nothing => self.commands += 1,
                Done::Failed(e, commands) => {
                    self.commands += commands;
                    self.errors += 1;
                    if self.error_samples.len() < 10 {
                        self.error_samples.push(e);
                    }
                }
            }
        }
    }

    /// An accepted application: counted by service and channel, the steps its intake did
    /// at once counted as done (`steps`, as its history has them; else the applicant's own
    /// steps through the portal), and followed while it is open. Through the portal an
    /// application may be done at intake (S3 registers at once, leaving the chip rewrite to
    /// the counter), or end there (S1E's session refused or annulled after step 13).
    fn accepted(&mut self, app: Application, steps: Option<Vec<StepDone>>, today: Date) {
        let c = self.by_service.entry(app.service.clone()).or_default();
        c.accepted += 1;
        *c.by_channel
            .entry(channel_code(app.channel).to_string())
            .or_default() += 1;
        self.by_day.entry(today).or_default().0 += 1;
        let steps = match steps {
            Some(s) => s,
            // Through the portal, the submission does the applicant's own steps after the
            // first (S1: annex 3 rows 3 and 5), at once: steps done on time, as the
            // dashboard's step times count them (the first, the intake itself, has no
            // time).
            None if app.channel == Channel::Portal => self
                .engine
                .catalog
                .service(&app.service)
                .and_then(|s| s.version(&app.version))
                .and_then(|v| v.process_for(Channel::Portal))
                .map(|p| {
                    p.steps
                        .iter()
                        .skip(1)
                        .filter(|s| s.unit == UnitRole::Applicant)
                        .map(|s| (app.accepted_unit.clone(), s.n, true))
                        .collect()
                })
                .unwrap_or_default(),
            None => Vec::new(),
        };
        for (unit, n, on_time) in steps {
            let c = self
                .compliance
                .entry((unit.to_string(), app.service.clone(), n))
                .or_default();
            c.0 += 1;
            c.1 += u64::from(on_time);
        }
        let c = self.by_service.entry(app.service.clone()).or_default();
        match app.status {
            Status::Issued => {
                c.issued += 1;
                self.by_day.entry(today).or_default().1 += 1;
                if crate::services::leaves_counter_tasks(&app.service)
                    && app.channel != Channel::Counter
                {
                    if let Ok(iin) = Iin::parse(&app.applicant) {
                        self.chip_rewrites.push((app.accepted_unit.clone(), iin));
                    }
                }
            }
            Status::Refused => c.refused += 1,
            Status::Annulled => c.annulled += 1,
            _ => {
                self.active.insert(app.holder_unit.clone());
                self.open.insert(
                    app.id.clone(),
                    Open {
                        due: app.step_due_at,
                        unit: app.holder_unit.clone(),
                    },
                );
            }
        }
    }

    /// The morning: registries sent on earlier days are received.
    async fn receive(&mut self) {
        let regs = std::mem::take(&mut self.in_transit);
        let mut tasks = Vec::new();
        for reg in regs {
            let Some(unit) = self.units.iter().find(|u| u.id == reg.to_unit) else {
                continue;
            };
            let actor = actor_for(unit);
            let engine = self.engine.clone();
            tasks.push(tokio::spawn(async move {
                let cmd = Command::ReceiveRegistry {
                    registry: reg.id.clone(),
                    revision: reg.revision,
                    incoming_number: None,
                };
                vec![match engine.execute(&actor, &cmd, None).await {
                    // The receiving officer's list of what came in: each application's
                    // new step and due instant.
                    Ok(Outcome::Registry { registry }) => {
                        match engine.registry_applications(&actor, &registry.id).await {
                            Ok(apps) => Done::Received(registry.to_unit, apps),
                            Err(e) => Done::Failed(format!("list {}: {e}", reg.number), 1),
                        }
                    }
                    Ok(_) => Done::Nothing,
                    Err(e) => Done::Failed(format!("receive {}: {e}", reg.number), 1),
                }]
            }));
        }
        let done = all(tasks).await;
        self.record(done);
    }

    /// Each unit's backlog (applications in progress it holds) at the end of the day.
    async fn count_backlog(&mut self) -> Result<(), EngineError> {
        let sql = format!(
            "SELECT holder_unit, COUNT(*) FROM applications WHERE holder_unit IN (SELECT id FROM units) AND status = 'in_progress' AND {} GROUP BY holder_unit",
            *crate::rows::NOT_IN_TRANSIT
        );
        let rows = drn_store::query(&sql)
            .fetch_all(self.engine.db.reader())
            .await?;
        let mut counts = HashMap::new();
        for r in &rows {
            counts.insert(
                UnitId::from_db(r.try_get::<String, _>(0)?),
                r.try_get::<i64, _>(1)?.max(0) as u64,
            );
        }
        for u in &self.units {
            let n = counts.get(&u.id).copied().unwrap_or(0);
            self.backlog.entry(u.id.clone()).or_default().push(n);
        }
        Ok(())
    }

    /// One slot's intake at the counters, the units and the portal: its commands, under
    /// way (see [`all`]).
    fn intake(&mut self, n: u32, day: Date) -> Vec<tokio::task::JoinHandle<Vec<Done>>> {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let Some(line) = self.pick_line(day) else {
                continue;
            };
            let (service, channel) = (line.service, line.channel);
            if service == s1e::SERVICE {
                tasks.push(self.renewal(day, channel));
                continue;
            }
            // A deregistration (S4) ends the person's registration: each takes a person of
            // its own (from the end of the list), the others anyone.
            let sample = crate::services::sample_intake(&service);
            // The services that take one open application per applicant (all but S1 and
            // the foreigners') take the persons in turn from the front, so that no one
            // applies twice while the first is open; S1 draws anyone.
            let n = self.applicants.len();
            let applicant = if sample.ends_registration {
                self.s4_next += 1;
                self.applicants[n - 1 - (self.s4_next - 1) % n]
            } else if service == crate::services::s1::SERVICE {
                // Not one whom a deregistration (S4) took: under the 2014 text S1 is given
                // at the place of registration only.
                let left = n.saturating_sub(self.s4_next).max(1);
                *self.rng.pick(&self.applicants[..left])
            } else {
                self.in_turn += 1;
                self.applicants[(self.in_turn - 1) % n]
            };
            let ver = self
                .engine
                .catalog
                .service(&service)
                .and_then(|s| s.version_on(day));
            // S3 through the portal under the 2014 text (order 165 para 6): only a holder
            // of an ID card in force (with its electronic carrier) applies there; the next
            // such person in turn.
            let applicant = if channel == Channel::Portal
                && service == crate::services::s3::SERVICE
                && ver.is_some_and(|v| v.id == crate::services::s3::RULES_OF_PARA_5_AND_6)
            {
                let chip = |i: &Iin| self.card_expires.get(i).is_some_and(|e| *e >= day);
                let mut who = applicant;
                for _ in 0..n {
                    if chip(&who) {
                        break;
                    }
                    self.in_turn += 1;
                    who = self.applicants[(self.in_turn - 1) % n];
                }
                who
            } else {
                applicant
            };
            // Where the act gives the service at the place of registration (2014), a
            // counter of the applicant's district; through the portal too (its form offers
            // the counters of the applicant's region, `web::portal::counters_for`, and S8's
            // district is the one of the host's address, seed 003 S8 para 6); elsewhere any.
            let home = ver
                .filter(|v| v.provided_at.is_some() || channel == Channel::Portal)
                .and_then(|_| self.home.get(&applicant))
                .and_then(|d| self.counters_of.get(d))
                .filter(|cs| !cs.is_empty());
            let counter = match home {
                Some(cs) => self.rng.pick(cs).clone(),
                None => self.rng.pick(&self.counters).clone(),
            };
            let Some(unit) = self.units.iter().find(|u| u.id == counter) else {
                continue;
            };
            let docs = ver.map(|v| v.documents.len()).unwrap_or(0);
            let mut data = sample.data;
            if data.get("foreigner").is_some() {
                // A foreigner of their own for each intake.
                self.foreigners += 1;
                let n = self.foreigners;
                data["foreigner"]["passport"] = serde_json::json!(format!("SIM{n:07}"));
                // A person of their own too (S9 finds a foreigner who has an IIN by name
                // and birth date).
                const SURNAMES: [&str; 8] = [
                    "Ivanov", "Schmidt", "Kim", "Yilmaz", "Novak", "Rossi", "Wang", "Haddad",
                ];
                let born = jiff::civil::date(1950, 1, 1)
                    .checked_add((((n * 7919) % 18_000) as i64).days())
                    .unwrap_or(jiff::civil::date(1990, 5, 17));
                data["foreigner"]["surname"] = serde_json::json!(SURNAMES[(n % 8) as usize]);
                data["foreigner"]["birth_date"] = serde_json::json!(born.to_string());
            }
            // The sample's placeholders (see `SampleIntake::data`).
            if let Some(o) = data.as_object_mut() {
                for v in o.values_mut() {
                    let with = match v.as_str() {
                        Some("@applicant") => applicant.to_string(),
                        Some("@month") => day.checked_add(30.days()).unwrap_or(day).to_string(),
                        Some("@dwelling") if !self.dwellings.is_empty() => {
                            self.rng.pick(&self.dwellings).clone()
                        }
                        _ => continue,
                    };
                    *v = serde_json::json!(with);
                }
            }
            let actor = match channel {
                // Where the catalog gives the intake to a migration unit (S2 of 2018: the
                // ОМС officer at a State Corporation workstation), its officer takes it in
                // at this counter, which the intake names.
                Channel::Counter => {
                    let by = ver
                        .and_then(|v| v.process_for(Channel::Counter))
                        .map_or(UnitRole::Counter, |p| p.counter_intake());
                    match self.above(unit, by) {
                        Some(officer) if by != UnitRole::Counter => {
                            data["unit"] = serde_json::json!(counter.as_str());
                            actor_for(officer)
                        }
                        _ => actor_for(unit),
                    }
                }
                // At the migration unit: the district's officer (S1's electronic request
                // goes on to the region).
                Channel::Unit => match self.above(unit, UnitRole::District) {
                    Some(d) => actor_for(d),
                    None => continue,
                },
                // The applicant, choosing this counter for the result. S3's dwelling owner
                // is not sent: order 165 of 2014 (seed 002, S3 para 5) takes the owner's ID
                // card and consent at the State Corporation's counter only, the portal
                // (para 6) asks for neither, the engine checks no owner there, and the
                // portal's form has no such field (an owner sent unchecked would only be
                // written onto the registration).
                Channel::Portal | Channel::Mobile => {
                    if let Some(o) = data.as_object_mut() {
                        o.remove("owner_iin");
                    }
                    data["unit"] = serde_json::json!(counter.as_str());
                    Actor::citizen(applicant)
                }
            };
            // Some packages lack a document: refused at intake with a receipt.
            let incomplete =
                channel != Channel::Portal && self.rng.chance(self.opts.mix.incomplete);
            let missing = if incomplete {
                vec!["Фотография не соответствует требованиям".into()]
            } else {
                vec![]
            };
            let cmd = if service == crate::services::applied_for_without_iin() {
                let foreigner = match serde_json::from_value(data["foreigner"].take()) {
                    Ok(f) => f,
                    Err(e) => {
                        tasks.push(tokio::spawn(async move {
                            vec![Done::Failed(format!("sample of {service}: {e}"), 0)]
                        }));
                        continue;
                    }
                };
                let mut rest = data;
                if let Some(o) = rest.as_object_mut() {
                    o.remove("foreigner");
                }
                Command::AcceptForeigner(crate::model::AcceptForeigner {
                    service: service.clone(),
                    channel,
                    urgency: Urgency::General,
                    foreigner,
                    documents_presented: (0..docs).collect(),
                    missing,
                    data: rest,
                })
            } else {
                Command::Accept(Accept {
                    process: None,
                    service: service.clone(),
                    channel,
                    urgency: Urgency::General,
                    applicant,
                    documents_presented: (0..docs).collect(),
                    missing,
                    data,
                })
            };
            let engine = self.engine.clone();
            // Through the portal (but S1's, whose own steps the simulation knows), the
            // steps the submission did at once are read from the application's history,
            // by the applicant.
            let history = channel == Channel::Portal && service != crate::services::s1::SERVICE;
            tasks.push(tokio::spawn(async move {
                vec![match engine.execute(&actor, &cmd, None).await {
                    Ok(Outcome::Accepted { application }) if history => {
                        match steps_done(&engine, &actor, &application).await {
                            Ok(steps) => Done::Online {
                                app: application,
                                steps,
                                commands: 1,
                            },
                            Err(e) => {
                                Done::Failed(format!("history of {}: {e}", application.number), 1)
                            }
                        }
                    }
                    Ok(Outcome::Accepted { application }) => Done::Accepted(application),
                    Ok(Outcome::IntakeRefused { .. }) => Done::IntakeRefused(service),
                    Ok(_) => Done::Nothing,
                    // The portal refused the request on a ground of the act (S5: the
                    // address is not in the register), registering nothing.
                    Err(e)
                        if channel == Channel::Portal
                            && crate::services::refused_on_the_portal(&service, &e) =>
                    {
                        Done::IntakeRefused(service)
                    }
                    Err(e) => Done::Failed(format!("accept {service} ({channel:?}): {e}"), 1),
                }]
            }));
        }
        tasks
    }

    /// The counters do the chip rewrites the portal's registrations (S3) left them in
    /// earlier slots: the applicant comes to the counter they chose.
    async fn counter_tasks(&mut self) {
        let mut tasks = Vec::new();
        for (unit, iin) in std::mem::take(&mut self.chip_rewrites) {
            let Some(u) = self.units.iter().find(|u| u.id == unit) else {
                continue;
            };
            let actor = actor_for(u);
            let engine = self.engine.clone();
            tasks.push(tokio::spawn(async move {
                let waiting = match engine.counter_tasks(&actor, &iin).await {
                    Ok(t) => t,
                    Err(e) => return vec![Done::Failed(format!("counter tasks of {iin}: {e}"), 0)],
                };
                let mut out = Vec::new();
                for t in waiting.iter().filter(|t| t.done_at.is_none()) {
                    out.push(match engine.complete_counter_task(&actor, &t.id).await {
                        Ok(()) => Done::CounterTask(1),
                        Err(e) => Done::Failed(format!("counter task {}: {e}", t.id), 1),
                    });
                }
                out
            }));
        }
        let done = all(tasks).await;
        self.record(done);
    }

    /// An applicant for S1E on `day`: one not yet renewing in the run whose ID card's
    /// expiry is within п. 7's window (seed 001: 30 days ahead, 10 behind), the earliest
    /// expiring first; when none is left, someone whose card is not in the window (whom
    /// step 7 sends to the counter: online renewal is tried by some who may not have it).
    fn renewal_applicant(&mut self, day: Date) -> Option<Iin> {
        let lo = day.checked_sub(s1e::WINDOW_EXPIRED_DAYS.days()).ok()?;
        let hi = day.checked_add(s1e::WINDOW_AHEAD_DAYS.days()).ok()?;
        let from = self.by_expiry.partition_point(|(e, _)| *e < lo);
        let to = self.by_expiry.partition_point(|(e, _)| *e <= hi);
        let pick = self.by_expiry[from..to]
            .iter()
            .map(|(_, i)| *i)
            .find(|i| !self.renewed.contains(i));
        let pick = match pick {
            Some(i) => Some(i),
            None => (0..20).map(|_| *self.rng.pick(&self.applicants)).find(|i| {
                !self.renewed.contains(i)
                    && self.card_expires.get(i).is_none_or(|e| *e < lo || *e > hi)
            }),
        }?;
        self.renewed.insert(pick);
        Some(pick)
    }

    /// An S1E session on `day` through `channel` for the result at `counter`.
    fn renewal(&mut self, day: Date, channel: Channel) -> tokio::task::JoinHandle<Vec<Done>> {
        let (online, applicant) = match (self.online.clone(), self.renewal_applicant(day)) {
            (Some(o), Some(a)) => (o, a),
            _ => {
                return tokio::spawn(async move {
                    vec![Done::Failed(
                        format!("{}: no applicant or no state systems", s1e::SERVICE),
                        0,
                    )]
                })
            }
        };
        // The registration point: a counter of the applicant's district, where the
        // applicant lives (п. 6: permanent registration).
        let counter = match self
            .home
            .get(&applicant)
            .and_then(|d| self.counters_of.get(d))
            .filter(|cs| !cs.is_empty())
        {
            Some(cs) => self.rng.pick(cs).clone(),
            None => self.rng.pick(&self.counters).clone(),
        };
        let engine = self.engine.clone();
        tokio::spawn(
            async move { vec![renew(&engine, &online, applicant, channel, counter).await] },
        )
    }

    /// The unit of `role` at or above `unit` (the district of a counter).
    fn above<'a>(&'a self, unit: &'a Unit, role: UnitRole) -> Option<&'a Unit> {
        let mut cur = Some(unit);
        while let Some(u) = cur {
            if unit_role(u.kind) == role {
                return Some(u);
            }
            cur = u
                .parent
                .as_ref()
                .and_then(|p| self.units.iter().find(|x| &x.id == p));
        }
        None
    }

    /// A line of the mix in force on `day`, drawn by weight.
    fn pick_line(&mut self, day: Date) -> Option<MixLine> {
        let in_force: Vec<&MixLine> = self
            .opts
            .mix
            .lines
            .iter()
            .filter(|l| in_force(&self.engine, l, day))
            .collect();
        let total: u64 = in_force.iter().map(|l| l.weight).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.rng.below(total);
        for l in in_force {
            if r < l.weight {
                return Some(l.clone());
            }
            r -= l.weight;
        }
        None
    }

    /// One slot's work of every unit: its queue read, then up to its capacity of steps.
    /// The units are read in chunks of [`UNITS_PER_READ`], each chunk on a task of its
    /// own, and each unit does its steps on a task of its own, so one chunk's read
    /// overlaps the others' writes (the writer and the reads use both cores). What a
    /// unit sees does not depend on that order: its read leaves out what entered its queue
    /// at the slot's instant (the other units' steps of this slot), and each unit draws
    /// its chances from a generator seeded in unit order.
    async fn work(&mut self) -> Result<(), EngineError> {
        // Each officer does one step per slot.
        let capacity = self.opts.staff_per_unit as usize;
        // The head of the work list is enough for the slot's work (twice the officers leaves
        // room for what another role does at the unit, skipped). The simulation learns
        // due instants from the engine's answers and the received registries' lists, not
        // from these reads.
        let limit = (capacity * 2 + 20) as i64;
        let at = self.clock.now();
        let mut chunk = Vec::new();
        let mut chunks = Vec::new();
        for id in self.active.iter().cloned().collect::<Vec<_>>() {
            let Some(unit) = self.units.iter().find(|u| u.id == id).cloned() else {
                continue;
            };
            chunk.push((unit, self.rng.next_u64()));
            if chunk.len() == UNITS_PER_READ {
                chunks.push(std::mem::take(&mut chunk));
            }
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        let mut tasks = Vec::new();
        for chunk in chunks {
            let engine = self.engine.clone();
            let rates = (self.opts.mix.refusal, self.opts.mix.annulment);
            tasks.push(tokio::spawn(async move {
                units_slot(engine, chunk, at, limit, capacity, rates).await
            }));
        }
        let mut units = Vec::new();
        for t in tasks {
            units.extend(
                t.await
                    .map_err(|e| EngineError::Corrupt(format!("unit task: {e}")))??,
            );
        }
        let mut done = Vec::new();
        for u in units {
            let slot = u
                .await
                .map_err(|e| EngineError::Corrupt(format!("unit task: {e}")))?;
            for (id, due, unit) in slot.seen {
                if let Some(o) = self.open.get_mut(&id) {
                    o.due = due;
                    o.unit = unit;
                }
            }
            if slot.idle {
                // Nothing its officers can do until an application enters its queue (the
                // answers and the received registries say so) or a registry it sends
                // frees the head of its queue: it is read again then.
                self.active.remove(&slot.unit);
            }
            done.extend(slot.done);
        }
        self.record(done);
        Ok(())
    }

    /// The evening: every unit looks at what waits for a registry (the workstation's
    /// list) and forms, signs and sends the registries of those steps.
    async fn registries(&mut self) -> Result<(), EngineError> {
        let mut reads = Vec::new();
        for unit in self.units.clone() {
            let engine = self.engine.clone();
            reads.push(tokio::spawn(async move {
                let actor = actor_for(&unit);
                let waiting = engine.waiting_for_registry(&actor, &unit.id).await;
                (actor, waiting)
            }));
        }
        let mut tasks = Vec::new();
        for read in reads {
            let (actor, waiting) = read
                .await
                .map_err(|e| EngineError::Corrupt(format!("registry task: {e}")))?;
            for (service, version, process, step, n) in waiting? {
                if n == 0 {
                    continue;
                }
                if let Some(u) = &actor.unit {
                    self.active.insert(u.clone());
                }
                let cmd = Command::FormRegistry {
                    service,
                    version,
                    process,
                    step,
                };
                let engine = self.engine.clone();
                let actor = actor.clone();
                tasks.push(tokio::spawn(async move {
                    form_sign_send(&engine, &actor, &cmd).await
                }));
            }
        }
        let done = all(tasks).await;
        self.record(done);
        Ok(())
    }
}

/// How an officer ends an application instead of doing its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    No,
    Refuse,
    Annul,
}

/// What one unit did in a slot.
struct UnitSlot {
    unit: UnitId,
    /// The applications its queue read showed: each one's due instant and holder.
    seen: Vec<(ApplicationId, Option<Timestamp>, UnitId)>,
    /// Its queue held nothing its officers could do.
    idle: bool,
    done: Vec<Done>,
}

/// Units whose work lists one read transaction reads (see [`Engine::worklists_before`]):
/// one snapshot for all active units would keep the writer waiting for the whole read;
/// one per unit pays a cold page cache every time. A chunk's units start their steps as
/// soon as its read is back, while the next chunk reads.
const UNITS_PER_READ: usize = 16;

/// A slot of several units: their work lists as they stood before `at`, read together,
/// then each unit's steps on a task of its own.
async fn units_slot(
    engine: Engine,
    units: Vec<(Unit, u64)>,
    at: Timestamp,
    limit: i64,
    capacity: usize,
    rates: (f64, f64),
) -> Result<Vec<tokio::task::JoinHandle<UnitSlot>>, EngineError> {
    let reads: Vec<(Actor, UnitId)> = units
        .iter()
        .map(|(u, _)| (actor_for(u), u.id.clone()))
        .collect();
    let lists = engine.worklists_before(&reads, at, limit).await?;
    Ok(units
        .into_iter()
        .zip(lists)
        .map(|((unit, seed), queue)| {
            let engine = engine.clone();
            tokio::spawn(async move {
                unit_slot(engine, unit, queue, at, (capacity, seed), rates).await
            })
        })
        .collect())
}

/// A unit's slot: up to `capacity` steps at once from its queue as it stood before `at`.
async fn unit_slot(
    engine: Engine,
    unit: Unit,
    queue: Vec<QueueItem>,
    at: Timestamp,
    (capacity, seed): (usize, u64),
    (refusal, annulment): (f64, f64),
) -> UnitSlot {
    let mut rng = SplitMix64::new(seed);
    let actor = actor_for(&unit);
    let mut seen = Vec::with_capacity(queue.len());
    let mut todo = Vec::new();
    for item in queue {
        let a = item.application;
        seen.push((a.id.clone(), a.step_due_at, a.holder_unit.clone()));
        if todo.len() >= capacity || a.registry.is_some() {
            continue;
        }
        let Ok((_, p)) = engine.locate(&a.service, &a.version, &a.process) else {
            continue;
        };
        let Some(step) = p.step(a.step) else { continue };
        // This system's own step (S9: the MVD's system forms the IIN) is done at once,
        // by the system, for the unit that holds it.
        let by_system = step.unit == UnitRole::System;
        if (!by_system && step.unit != unit_role(unit.kind)) || p.handover_after(step.n).is_some() {
            continue;
        }
        // A step that joins another process (S1's electronic request joining the
        // counter's chain) is completed, not the last.
        let last = p.gives_result_at(step.n);
        // A district refuses some of what it decides on; a counter annuls some of its own
        // intakes while it still holds them (a mistaken intake). The draw is made for
        // every application whichever unit holds it, so that one rate does not change
        // the others' draws.
        let (r, n) = (rng.chance(refusal), rng.chance(annulment));
        let end = if by_system {
            Ending::No
        } else if s1e::awaits_review(&a) && r {
            // S1E's review annuls for a poor photo or signature (seed 001 п. 11).
            Ending::Refuse
        } else if !last && unit.kind == UnitKind::District && r {
            Ending::Refuse
        } else if !last
            && unit.kind == UnitKind::Counter
            && a.holder_unit == a.accepted_unit
            && a.channel == Channel::Counter
            && n
        {
            Ending::Annul
        } else {
            Ending::No
        };
        todo.push((a, last, end, by_system));
    }
    let idle = todo.is_empty();
    let mut tasks = Vec::new();
    for (a, last, end, by_system) in todo {
        let engine = engine.clone();
        let actor = if by_system {
            Actor::system()
        } else {
            actor.clone()
        };
        let unit = unit.id.clone();
        tasks.push(tokio::spawn(async move {
            vec![do_step(&engine, &actor, unit, a, last, end, at).await]
        }));
    }
    UnitSlot {
        unit: unit.id,
        seen,
        idle,
        done: all(tasks).await,
    }
}

async fn do_step(
    engine: &Engine,
    actor: &Actor,
    unit: UnitId,
    a: Application,
    last: bool,
    end: Ending,
    at: Timestamp,
) -> Done {
    let (service, step, due) = (a.service.clone(), a.step, a.step_due_at);
    let mut commands = 0;
    let mut app = a;
    if last && engine.check_needed(&app).is_some() {
        commands += 1;
        let cmd = Command::Check {
            application: app.id.clone(),
            revision: app.revision,
        };
        match engine.execute(actor, &cmd, None).await {
            Ok(Outcome::Application { application }) => app = application,
            Ok(_) => {}
            Err(e) => return Done::Failed(format!("check {}: {e}", app.number), commands),
        }
    }
    if s1e::awaits_review(&app) {
        // Step 17: the regional directorate approves (the approval certified with its
        // officer's EDS, a note here: the server asks for the signature) or annuls.
        use s1e::{AnnulGround, Review};
        let review = if end == Ending::Refuse {
            Review::Annul {
                revision: app.revision,
                ground: AnnulGround::PhotoOrSignature,
                reason: "Фотография не соответствует требованиям".into(),
            }
        } else {
            Review::Approve {
                revision: app.revision,
            }
        };
        commands += 1;
        return match engine.renewal_review(actor, &app.id, &review).await {
            Ok(Outcome::Application { application }) => Done::Step {
                unit,
                service,
                step,
                due,
                at,
                after: application,
                commands,
                returned: false,
            },
            Ok(_) => Done::Nothing,
            Err(e) => Done::Failed(format!("review {}: {e}", app.number), commands),
        };
    }
    let cmd = if end == Ending::Refuse {
        Command::Refuse {
            application: app.id.clone(),
            revision: app.revision,
            reason: "Документы не соответствуют требованиям".into(),
        }
    } else if end == Ending::Annul {
        Command::Annul {
            application: app.id.clone(),
            revision: app.revision,
            reason: "Ошибочно принятое заявление".into(),
        }
    } else if last {
        let Ok(receiver) = Iin::parse(&app.applicant) else {
            return Done::Failed(format!("applicant of {}", app.number), commands);
        };
        Command::Issue {
            application: app.id.clone(),
            revision: app.revision,
            receiver,
            representative: None,
        }
    } else {
        Command::CompleteStep {
            application: app.id.clone(),
            revision: app.revision,
            note: None,
        }
    };
    commands += 1;
    let mut result = engine.execute(actor, &cmd, None).await;
    let mut returned = false;
    if let Err(EngineError::Invalid { field, reason }) = &result {
        if field == "note" {
            // The step records something in its note: the district's corrected address
            // (S5: a premise of the register in its district), or the applicant's written
            // consent (S9).
            let note = if *reason == Reason::Kind(Refusal::CorrectedRkaRequired) {
                match premise_in_district(engine, &unit, &app.number).await {
                    Ok(Some(rka)) => format!("Адрес исправлен по регистру: {rka}"),
                    Ok(None) => return Done::Failed(format!("no premise in {unit}"), commands),
                    Err(e) => return Done::Failed(format!("premise in {unit}: {e}"), commands),
                }
            } else {
                format!("Письменное согласие № {}", app.number)
            };
            commands += 1;
            let cmd = Command::CompleteStep {
                application: app.id.clone(),
                revision: app.revision,
                note: Some(note),
            };
            result = engine.execute(actor, &cmd, None).await;
        }
    }
    if last && matches!(result, Err(EngineError::Forbidden { .. })) {
        // The check found the applicant's data not matching (S5: the address is not the
        // register's). Where the step returns the application for correction, it goes to
        // the unit that corrects it and comes back (S5: the district, seed 002, the S5
        // regulation's annex 1 table 1 row 2); elsewhere it is refused.
        commands += 1;
        let cmd = match engine.correction_step(&app) {
            Some(to_step) => {
                returned = true;
                Command::Return {
                    application: app.id.clone(),
                    revision: app.revision,
                    to_step,
                    reason: "Адресные данные не совпадают с регистром: на корректировку".into(),
                }
            }
            None => Command::Refuse {
                application: app.id.clone(),
                revision: app.revision,
                reason: "Адресные данные не совпадают с регистром".into(),
            },
        };
        result = engine.execute(actor, &cmd, None).await;
    }
    match result {
        Ok(Outcome::Application { application }) => Done::Step {
            unit,
            service,
            step,
            due,
            at,
            after: application,
            commands,
            returned,
        },
        Ok(_) => Done::Nothing,
        Err(e) => Done::Failed(format!("{} {}: {e}", cmd.name(), app.number), commands),
    }
}

/// A premise of the address register in the district a unit serves, the same one for an
/// application (by its number) each time: the address the simulated district officer
/// corrects an S5 applicant's data to.
async fn premise_in_district(
    engine: &Engine,
    unit: &UnitId,
    number: &str,
) -> Result<Option<String>, EngineError> {
    let rows = drn_store::query(
        "SELECT a.rka FROM ar_addresses a JOIN ar_ate t ON t.kato = a.ate_kato WHERE t.unit_id = $1 AND a.kind = 'premise' AND a.active = 1 ORDER BY a.rka LIMIT 100",
    )
    .bind(unit.as_str())
    .fetch_all(engine.db.reader())
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let k = number.bytes().map(usize::from).sum::<usize>() % rows.len();
    Ok(Some(rows[k].try_get::<String, _>(0)?))
}

/// The steps an intake completed at once, as the application's history has them: by
/// unit, each within its due instant or not. As the dashboard's step times, only the steps
/// the application entered (the first, the intake itself, has no time).
async fn steps_done(
    engine: &Engine,
    actor: &Actor,
    app: &Application,
) -> Result<Vec<StepDone>, EngineError> {
    let mut entered = HashSet::new();
    let mut out = Vec::new();
    for e in engine.timeline(actor, &app.id).await? {
        match (e.kind, e.step, e.unit) {
            (EventKind::StepEntered, Some(n), _) => {
                entered.insert(n);
            }
            (EventKind::StepCompleted | EventKind::Refused, Some(n), Some(unit))
                if entered.contains(&n) =>
            {
                out.push((unit, n, e.due_at.is_none_or(|d| e.at <= d)));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// One S1E session: the applicant's request signed with their key (the simulation's
/// citizens' CA), steps 1 to 16 run by the engine against the sandboxed state systems,
/// the duty paid in the sandbox when invoiced; the application step 13 registered, or a
/// refusal at intake when the session ended before it (to the counter).
async fn renew(
    engine: &Engine,
    online: &Online,
    applicant: Iin,
    channel: Channel,
    counter: UnitId,
) -> Done {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let phone = online
        .sandbox
        .person(applicant)
        .and_then(|p| p.phone)
        .unwrap_or_else(|| "+7 701 000 00 00".into());
    let content = s1e::request_to_sign(
        &applicant,
        counter.as_str(),
        &phone,
        &online.photo,
        &online.signature,
    );
    let signed = online
        .pki
        .citizen(&applicant, "Citizen")
        .and_then(|cert| drn_docs::cms::sign_detached_at(&content, &[&cert], engine.now()));
    let cms = match signed {
        Ok(c) => c,
        Err(e) => return Done::Failed(format!("signing {applicant}'s request: {e}"), 0),
    };
    let req = s1e::RenewalRequest {
        channel,
        reason: "expiry".into(),
        phone,
        unit: counter.to_string(),
        photo: b64(&online.photo),
        signature_sample: b64(&online.signature),
        selfie: None,
        request_signature: b64(&cms),
    };
    let who = Actor::citizen(applicant);
    let mut commands = 1;
    let mut r = match engine.renewal_submit(&who, req).await {
        Ok(r) => r,
        Err(e) => return Done::Failed(format!("renewal of {applicant}: {e}"), commands),
    };
    if r.status == s1e::RenewalStatus::AwaitingPayment {
        commands += 1;
        r = match engine.renewal_pay_in_sandbox(&who, &r.id).await {
            Ok(r) => r,
            Err(e) => return Done::Failed(format!("payment of {}: {e}", r.id), commands),
        };
    }
    let Some(id) = r.application else {
        return Done::IntakeRefused(s1e::SERVICE.into());
    };
    let app = match crate::rows::load_application(&mut &engine.db, &id).await {
        Ok(a) => a,
        Err(e) => return Done::Failed(format!("application {id}: {e}"), commands),
    };
    match steps_done(engine, &who, &app).await {
        // The session completed each of its steps with a command of its own.
        Ok(steps) => Done::Online {
            app,
            commands: commands + steps.len() as u64,
            steps,
        },
        Err(e) => Done::Failed(format!("history of {}: {e}", app.number), commands),
    }
}

/// The state systems and the citizens' keys for S1E: a sandbox fed from the database's
/// persons, answering on the engine's clock, and a PKI of the simulation's own (in a
/// temporary directory, removed at the run's end) whose CA the engine trusts for the
/// citizens' signatures. Every applicant sends the same synthetic photo, which the
/// sandbox's Digital-ID matches: the simulation's refusals at S1E are its review's
/// annulments at the mix's rate and the sessions step 7 sends to the counter.
async fn online_setup(engine: &Engine, dir: &std::path::Path) -> Result<Online, EngineError> {
    let pki = drn_docs::Pki::open_or_create(dir)
        .map_err(|e| EngineError::Corrupt(format!("the simulation's PKI: {e}")))?;
    let persons = s1e::sandbox_persons(engine).await?;
    let sandbox = drn_registries::Sandbox::new(persons, s1e::bridge_clock(engine.clock.clone()));
    let photo = s1e::photo::synthetic_photo(360, 480, [245, 245, 245], 0.0);
    sandbox.override_photo(&photo, true);
    engine.set_online_renewal(
        s1e::Setup::sandboxed(sandbox.clone()).with_citizen_ca(pki.ca_der().to_vec()),
    );
    Ok(Online {
        pki,
        sandbox,
        photo,
        signature: s1e::photo::synthetic_signature(),
    })
}

/// Whether a line of the mix for `service` is in force on some day of the run.
fn runs(engine: &Engine, opts: &SimOptions, service: &str) -> bool {
    let mut day = opts.start;
    for _ in 0..opts.days {
        if opts
            .mix
            .lines
            .iter()
            .any(|l| l.service == service && in_force(engine, l, day))
        {
            return true;
        }
        match day.checked_add(1.day()) {
            Ok(d) => day = d,
            Err(_) => return false,
        }
    }
    false
}

async fn form_sign_send(engine: &Engine, actor: &Actor, cmd: &Command) -> Vec<Done> {
    let regs = match engine.execute(actor, cmd, None).await {
        Ok(Outcome::Registries { registries, .. }) => registries,
        Ok(_) => return vec![Done::Nothing],
        // No applications wait at this step.
        Err(EngineError::Invalid { .. }) => return vec![Done::Nothing],
        Err(e) => return vec![Done::Failed(format!("form registry: {e}"), 1)],
    };
    let mut out = vec![Done::Formed(regs.clone())];
    for reg in regs {
        let sign = Command::SignRegistry {
            registry: reg.id.clone(),
            revision: reg.revision,
        };
        let signed = match engine.execute(actor, &sign, None).await {
            Ok(Outcome::Registry { registry }) => registry,
            Ok(_) => continue,
            Err(e) => {
                out.push(Done::Failed(format!("sign {}: {e}", reg.number), 1));
                continue;
            }
        };
        let send = Command::SendRegistry {
            registry: signed.id.clone(),
            revision: signed.revision,
        };
        match engine.execute(actor, &send, None).await {
            Ok(Outcome::Registry { registry }) => out.push(Done::Sent(registry, 2)),
            Ok(_) => {}
            Err(e) => out.push(Done::Failed(format!("send {}: {e}", reg.number), 2)),
        }
    }
    out
}

/// An upper bound of the deregistrations (S4) a run accepts: its share of the mix on every
/// working day, with a margin for the draw (binomial: the margin is over five standard
/// deviations from a few thousand on).
fn deregistrations_at_most(engine: &Engine, opts: &SimOptions) -> Result<u64, EngineError> {
    // Each working day's share of deregistrations among the lines in force then.
    let mut expected = 0.0;
    let mut day = opts.start;
    for _ in 0..opts.days {
        if engine.calendar.is_working(day)? {
            let lines = opts.mix.lines.iter().filter(|l| in_force(engine, l, day));
            let (mut total, mut s4) = (0, 0);
            for l in lines {
                total += l.weight;
                if crate::services::sample_intake(&l.service).ends_registration {
                    s4 += l.weight;
                }
            }
            expected += f64::from(opts.per_day) * s4 as f64 / total.max(1) as f64;
        }
        day = day.checked_add(1.day()).map_err(date_err)?;
    }
    let expected = expected.ceil() as u64;
    Ok(expected + expected / 20 + 100)
}

/// Runs the simulation on the engine's database (units and persons must be there: the
/// demo's). `engine` must run on `clock`.
pub async fn run(
    engine: &Engine,
    clock: Arc<ManualClock>,
    opts: &SimOptions,
) -> Result<SimReport, EngineError> {
    opts.mix.check(&engine.catalog)?;
    let started = Instant::now();
    let cpu_before = crate::metrics::process_cpu();
    let writer_before = crate::metrics::writer_totals();
    let units = engine.units().await?;
    let counters: Vec<UnitId> = units
        .iter()
        .filter(|u| u.kind == UnitKind::Counter)
        .map(|u| u.id.clone())
        .collect();
    if counters.is_empty() {
        return Err(EngineError::invalid(
            "db",
            crate::Reason::note("the database has no counters: load the demo first"),
        ));
    }
    let adult = opts
        .start
        .checked_sub(18.years())
        .map_err(date_err)?
        .to_string();
    // Each deregistration (S4) ends a registration for good, so the run needs a registered
    // adult of its own for each one it may accept; the others draw from the same list.
    let deregistrations = deregistrations_at_most(engine, opts)?;
    let rows = drn_store::query(format!(
        "SELECT iin, data_json FROM persons WHERE birth_date < $1 AND {} ORDER BY iin LIMIT $2",
        engine
            .db
            .backend
            .json_has_object("data_json", "registration")
    ))
    .bind(drn_store::Value::date_text(adult))
    .bind(deregistrations.max(50_000) as i64)
    .fetch_all(engine.db.reader())
    .await?;
    let mut applicants = Vec::with_capacity(rows.len());
    // Each applicant's district of registration, for the services given there.
    let mut home = HashMap::new();
    let mut card_expires = HashMap::new();
    for r in &rows {
        if let Ok(i) = Iin::parse(&r.try_get::<String, _>(0)?) {
            applicants.push(i);
            let data: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
            if let Some(d) = data["registration"]["district"].as_str() {
                home.insert(i, UnitId::from_db(d.to_string()));
            }
            if let Some(e) = crate::services::person_documents::id_card_expiry(&data) {
                card_expires.insert(i, e);
            }
        }
    }
    let mut by_expiry: Vec<(Date, Iin)> = card_expires.iter().map(|(i, e)| (*e, *i)).collect();
    by_expiry.sort();
    // A directory of the run's own (runs may share a process: the tests).
    let pki_dir = std::env::temp_dir().join(format!("drn-sim-pki-{}", uuid::Uuid::now_v7()));
    let online = if runs(engine, opts, s1e::SERVICE) {
        Some(Arc::new(online_setup(engine, &pki_dir).await?))
    } else {
        None
    };
    let dwellings: Vec<String> = drn_store::query(
        "SELECT rka FROM ar_addresses WHERE active = 1 AND kind IN ('building', 'premise') ORDER BY rka LIMIT 5000",
    )
    .fetch_all(engine.db.reader())
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<_, _>>()?;
    let mut counters_of: HashMap<UnitId, Vec<UnitId>> = HashMap::new();
    for u in units.iter().filter(|u| u.kind == UnitKind::Counter) {
        if let Some(p) = &u.parent {
            counters_of.entry(p.clone()).or_default().push(u.id.clone());
        }
    }
    if applicants.is_empty() {
        return Err(EngineError::invalid(
            "db",
            crate::Reason::note("the database has no adult persons"),
        ));
    }
    if (applicants.len() as u64) < deregistrations {
        return Err(EngineError::invalid(
            "db",
            crate::Reason::note(format!(
                "the run may accept up to {deregistrations} deregistrations (S4), one per registered adult, but the database has {} registered adults: load more persons first (drn demo seed --persons {})",
                applicants.len(),
                (deregistrations * 2).max(100_000)
            )),
        ));
    }
    let pre = drn_store::query(format!(
        "SELECT COUNT(*) FROM applications WHERE {}",
        crate::rows::OPEN_EVERYWHERE
    ))
    .fetch_one(engine.db.reader())
    .await?;
    let preexisting_open = pre.try_get::<i64, _>(0)?.max(0) as u64;
    let mut sim = Sim {
        engine: engine.clone(),
        clock,
        opts: opts.clone(),
        rng: SplitMix64::new(opts.seed),
        units,
        counters,
        counters_of,
        applicants,
        home,
        dwellings,
        s4_next: 0,
        foreigners: 0,
        in_turn: 0,
        card_expires,
        by_expiry,
        online,
        renewed: HashSet::new(),
        chip_rewrites: Vec::new(),
        counter_tasks_done: 0,
        open: HashMap::new(),
        active: Default::default(),
        in_transit: Vec::new(),
        commands: 0,
        by_service: BTreeMap::new(),
        by_day: BTreeMap::new(),
        day_cost: BTreeMap::new(),
        registries: RegistryCounts::default(),
        compliance: BTreeMap::new(),
        backlog: BTreeMap::new(),
        errors: 0,
        error_samples: Vec::new(),
    };
    let mut working_days = 0;
    let mut day = opts.start;
    let mut end = sim.at(day, 9, 0)?;
    for _ in 0..opts.days {
        if engine.calendar.is_working(day)? {
            working_days += 1;
            let (day_started, commands_before) = (std::time::Instant::now(), sim.commands);
            let cpu_before = crate::metrics::process_cpu();
            sim.clock.set(sim.at(day, 9, 0)?);
            sim.receive().await;
            // Slots of the time an officer takes for a step, 09:00 to 18:00, each at its
            // middle instant: the slot's share of intake at the counters and the units'
            // work run together. The work lists are read as they stood before that instant,
            // so what the slot's intake accepts waits for the next slot whichever command
            // the writer takes first, and the writer is not left idle between the two.
            let slot = (60 / opts.steps_per_hour.max(1)).max(1);
            let slots = 9 * 60 / slot;
            for i in 0..slots {
                let t = 9 * 60 + i * slot + slot / 2;
                sim.clock.set(sim.at(day, (t / 60) as i8, (t % 60) as i8)?);
                let n = opts.per_day * (i + 1) / slots - opts.per_day * i / slots;
                let intake = sim.intake(n, day);
                sim.work().await?;
                sim.counter_tasks().await;
                // After the work's record (which drops the units it found idle): the
                // units the intake handed applications to are active again.
                let done = all(intake).await;
                sim.record(done);
            }
            sim.clock.set(sim.at(day, 17, 59)?);
            sim.registries().await?;
            sim.count_backlog().await?;
            end = sim.at(day, 18, 0)?;
            sim.day_cost.insert(
                day,
                DayCost {
                    commands: sim.commands - commands_before,
                    wall: day_started.elapsed().as_secs_f64(),
                    cpu: cpu_since(cpu_before).unwrap_or_default(),
                },
            );
        }
        day = day.checked_add(1.day()).map_err(date_err)?;
    }
    sim.clock.set(end);
    if sim.online.is_some() {
        let _ = std::fs::remove_dir_all(&pki_dir);
    }
    let cpu = cpu_since(cpu_before);
    Ok(sim.report(
        opts,
        end,
        working_days,
        started.elapsed().as_secs_f64(),
        preexisting_open,
        (writer_before, cpu),
    ))
}

impl Sim {
    fn report(
        self,
        opts: &SimOptions,
        end: Timestamp,
        working_days: u32,
        wall: f64,
        preexisting_open: u64,
        // The writers' totals before the run, and the run's CPU time.
        (writer_before, cpu): ((u64, u64, f64), Option<(f64, f64)>),
    ) -> SimReport {
        let writer = crate::metrics::writer_totals();
        let mut by_service = self.by_service;
        for (code, c) in by_service.iter_mut() {
            if let Some(svc) = self.engine.catalog.service(code) {
                c.name = svc.name.en.clone();
                c.name_ru = svc.name.ru.clone();
            }
        }
        let by_service = by_service;
        let sum = |f: fn(&ServiceCounts) -> u64| by_service.values().map(f).sum::<u64>();
        let accepted = sum(|c| c.accepted);
        let intake_refused = sum(|c| c.intake_refused);
        let issued = sum(|c| c.issued);
        let refused = sum(|c| c.refused);
        let annulled = sum(|c| c.annulled);
        let overdue = self
            .open
            .values()
            .filter(|o| o.due.is_some_and(|d| d < end))
            .count() as u64;
        let mut open_by_unit = BTreeMap::new();
        for o in self.open.values() {
            *open_by_unit.entry(o.unit.to_string()).or_insert(0) += 1;
        }
        let mut compliance: Vec<Compliance> = self
            .compliance
            .iter()
            .map(|((unit, service, step), (n, ok))| Compliance {
                unit: unit.clone(),
                service: service.clone(),
                step: *step,
                completed: *n,
                on_time: *ok,
                share_on_time: if *n == 0 { 1.0 } else { *ok as f64 / *n as f64 },
            })
            .collect();
        compliance.sort_by(|a, b| {
            a.share_on_time
                .total_cmp(&b.share_on_time)
                .then(b.completed.cmp(&a.completed))
        });
        let mut growing: Vec<Backlog> = self
            .backlog
            .iter()
            .filter_map(|(u, v)| {
                let (first, last) = (*v.first()?, *v.last()?);
                let b = Backlog {
                    unit: u.to_string(),
                    first_day: first,
                    middle_day: v[v.len() / 2],
                    last_day: last,
                    peak: v.iter().copied().max().unwrap_or(0),
                };
                (v.len() >= 2 && last > first && last >= b.middle_day).then_some(b)
            })
            .collect();
        growing.sort_by_key(|b| std::cmp::Reverse(b.last_day - b.first_day));
        SimReport {
            start: opts.start.to_string(),
            end,
            days: opts.days,
            working_days,
            per_day: opts.per_day,
            staff_per_unit: opts.staff_per_unit,
            steps_per_hour: opts.steps_per_hour,
            mix: opts.mix.clone(),
            wall_seconds: wall,
            writer_batches: writer.0 - writer_before.0,
            writer_jobs: writer.1 - writer_before.1,
            writer_busy_share: (writer.2 - writer_before.2) / wall.max(1e-9),
            commands: self.commands,
            commands_per_second: self.commands as f64 / wall.max(1e-9),
            applications_per_second: (accepted + intake_refused) as f64 / wall.max(1e-9),
            cpu: cpu.map(|(user, system)| {
                let per = |s: f64| s * 1e6 / self.commands.max(1) as f64;
                CpuTime {
                    user_seconds: user,
                    system_seconds: system,
                    user_us_per_command: per(user),
                    system_us_per_command: per(system),
                    total_us_per_command: per(user + system),
                }
            }),
            submitted: accepted + intake_refused,
            accepted,
            intake_refused,
            issued,
            refused,
            annulled,
            open: accepted.saturating_sub(issued + refused + annulled),
            overdue,
            open_tracked: self.open.len() as u64,
            preexisting_open,
            by_service,
            by_day: self
                .by_day
                .iter()
                .map(|(day, (accepted, issued))| {
                    let c = self.day_cost.get(day).copied().unwrap_or_default();
                    DayCounts {
                        day: *day,
                        accepted: *accepted,
                        issued: *issued,
                        commands: c.commands,
                        wall_seconds: c.wall,
                        cpu_user_seconds: c.cpu.0,
                        cpu_system_seconds: c.cpu.1,
                    }
                })
                .collect(),
            open_by_unit,
            registries: self.registries,
            counter_tasks_done: self.counter_tasks_done,
            compliance,
            growing_queues: growing,
            errors: self.errors,
            error_samples: self.error_samples,
        }
    }
}
