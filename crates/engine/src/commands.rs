//! Commands. Each is all-or-nothing: it checks the actor's role and unit, the
//! application's status, step and revision and that the catalog version has the
//! transition; writes the events and the current state; records the idempotency key's
//! answer; and appends the audit record. A refused command changes nothing (its attempt is
//! audited on its own). Commands run in a writer's batch (see `writer`), each inside its
//! own savepoint of the batch's transaction, and are answered after that commits.

use drn_core::catalog::{BranchKind, Process, RegistryKind, Step, UnitRole, Version};
use drn_core::{plan_version, Channel, Deadlines, Iin, Lang, PlanBasis, Text, UnitHours, Urgency};
use drn_store::{Statement, Value};
use jiff::Timestamp;
use serde_json::json;

use crate::audit::entry;
use crate::audit::Entry;
use crate::error::EngineError;
use crate::model::*;
use crate::rows::{self, insert_event, load_application, load_registry, load_registry_head};
use crate::tx::{Ctx, Guard};
use crate::writer::Work;
use crate::Engine;
use crate::Refusal;

pub use crate::model::{Accept, Command, Outcome, Representative};

/// The applications that wait at a unit's step for a registry (parameters $1 to $5:
/// [`waiting_args`]).
const WAITING_AT_STEP: &str = "holder_unit = $1 AND status = 'in_progress' AND service = $2 AND version = $3 AND process = $4 AND step = $5 AND registry_id IS NULL";

/// One application waiting for a registry, as the formation read it.
struct WaitingItem {
    id: ApplicationId,
    entered_at: Option<i64>,
    due_at: Option<i64>,
}

/// Applications per statement when a registry is formed: a registry may list thousands,
/// and a statement's parameters are bounded (SQLite 32,766, PostgreSQL 65,535).
const ITEMS_PER_STATEMENT: usize = 500;

fn waiting_args(unit: &UnitId, service: &str, version: &str, process: &str, n: u32) -> Vec<Value> {
    vec![
        Value::from(unit.as_str()),
        Value::from(service),
        Value::from(version),
        Value::from(process),
        Value::from(i64::from(n)),
    ]
}

impl Engine {
    /// Runs the steps nobody at a unit does, by the system, while the application is at
    /// one whose unit `runs` takes: after intake on the portal the applicant's own steps
    /// (sign in, fill in, sign), done by the submission (the service says so, see
    /// [`ServiceRules::after_accept`](crate::services::ServiceRules::after_accept)); after
    /// any step the portal's own steps ("the applicant receives the result"), so a
    /// process never waits at a step no one can do. A portal's last step gives the result.
    /// A service that drives its own steps (the online renewal) is left to do so.
    async fn run_own_steps(
        &self,
        c: &mut Ctx<'_>,
        o: Outcome,
        now: Timestamp,
        runs: fn(UnitRole) -> bool,
    ) -> Result<Outcome, EngineError> {
        let (application, accepted) = match o {
            Outcome::Accepted { application } => (application, true),
            Outcome::Application { application } => (application, false),
            other => return Ok(other),
        };
        let wrap = |application| {
            if accepted {
                Outcome::Accepted { application }
            } else {
                Outcome::Application { application }
            }
        };
        if crate::services::drives_its_own_steps(&application.service) {
            return Ok(wrap(application));
        }
        let sys = Actor::system();
        let mut app = application;
        loop {
            let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
            let step = p
                .step(app.step)
                .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
            if app.status != Status::InProgress || step.outcome.is_some() || !runs(step.unit) {
                break;
            }
            let o = if p.next_after(step.n).is_some() || step.joins.is_some() {
                self.complete_step(c, &sys, &app.id, app.revision, None, now)
                    .await?
            } else {
                let receiver =
                    Iin::parse(&app.applicant).map_err(|e| EngineError::Corrupt(e.to_string()))?;
                self.issue(c, &sys, &app.id, app.revision, &receiver, None, now)
                    .await?
            };
            let Outcome::Application { application } = o else {
                break;
            };
            app = application;
            if !app.status.is_open() {
                break;
            }
        }
        Ok(wrap(app))
    }
}

fn is_denial(e: &EngineError) -> bool {
    matches!(
        e,
        EngineError::Forbidden { .. }
            | EngineError::Conflict { .. }
            | EngineError::WrongStep { .. }
            | EngineError::Closed { .. }
            // An application the actor may not read answers not found (issue 31 item
            // 11), and the attempt is a denial all the same.
            | EngineError::NotFound {
                what: "application",
                ..
            }
    )
}

impl Engine {
    /// Runs a command, all-or-nothing, and answers once it is durable. With an
    /// idempotency key, a retry returns the first answer without running it again (also
    /// when both are in one batch: the second sees the first's key).
    pub async fn execute(
        &self,
        actor: &Actor,
        cmd: &Command,
        key: Option<&str>,
    ) -> Result<Outcome, EngineError> {
        if let Some(k) = key {
            if k.is_empty() || k.len() > 128 {
                return Err(EngineError::invalid(
                    "idempotency_key",
                    Refusal::IdempotencyKeyForm,
                ));
            }
        }
        let work = Work::Command {
            actor: actor.clone(),
            cmd: cmd.clone(),
            key: key.map(String::from),
        };
        match self.submit(work).await? {
            crate::writer::Reply::Outcome(o) => {
                self.after_committed(&o).await;
                Ok(*o)
            }
            _ => Err(EngineError::Corrupt("a command without an outcome".into())),
        }
    }

    /// Runs a command inside the batch's transaction, in its own savepoint. The outer
    /// `Err` means the batch cannot go on; the inner result is the command's. Its audit
    /// record (or, when it was refused, its denial's) goes to `audit`.
    pub(crate) async fn run_command(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        cmd: &Command,
        key: Option<&str>,
        now: Timestamp,
        audit: &mut Vec<Entry>,
    ) -> Result<Result<Outcome, EngineError>, EngineError> {
        // Two rounds at most: a concurrent retry with the same key (another batch on
        // PostgreSQL) loses the race on the key's row, and the second round returns the
        // winner's answer.
        for round in 0..2 {
            c.begin_command();
            match self.attempt(c, actor, cmd, key, now).await {
                Ok((outcome, fresh)) => {
                    c.keep_command();
                    if fresh {
                        let subject = outcome.subject().unwrap_or_else(|| cmd.subject());
                        let detail = serde_json::to_value(cmd).unwrap_or_default();
                        audit.push(entry(
                            now,
                            &actor.id,
                            cmd.name().to_string(),
                            subject,
                            &detail,
                        ));
                    }
                    return Ok(Ok(outcome));
                }
                Err(e) => {
                    c.undo_command().await?;
                    let raced = matches!(&e, EngineError::Store(s) if s.is_unique_violation());
                    if key.is_some() && raced && round == 0 {
                        continue;
                    }
                    if is_denial(&e) {
                        let detail =
                            json!({ "command": cmd, "denied": e.code(), "reason": e.to_string() });
                        audit.push(entry(
                            now,
                            &actor.id,
                            format!("denied:{}", cmd.name()),
                            cmd.subject(),
                            &detail,
                        ));
                    }
                    return Ok(Err(e));
                }
            }
        }
        Ok(Err(EngineError::KeyReused))
    }

    /// The command's work: the key's first answer, or the command run and its writes sent
    /// and checked. `true` when it ran now.
    async fn attempt(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        cmd: &Command,
        key: Option<&str>,
        now: Timestamp,
    ) -> Result<(Outcome, bool), EngineError> {
        if let Some(k) = key {
            if let Some(found) = lookup_key(c, k, actor, cmd, &request_sha256(cmd)?).await? {
                return Ok((found, false));
            }
        }
        let outcome = self.apply(c, actor, cmd, now).await?;
        if let Some(k) = key {
            let json =
                serde_json::to_string(&outcome).map_err(|e| EngineError::Corrupt(e.to_string()))?;
            c.push(
                "INSERT INTO idempotency (key, actor, command, response_json, at, request_sha256) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    Value::from(k),
                    Value::from(actor.id.as_str()),
                    Value::from(cmd.name()),
                    Value::json(json),
                    Value::from(now),
                    Value::from(request_sha256(cmd)?),
                ],
            );
        }
        c.flush().await?;
        Ok((outcome, true))
    }

    async fn apply(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        cmd: &Command,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        match cmd {
            Command::Accept(a) => {
                let o = self.accept(c, actor, a, now).await?;
                match &o {
                    Outcome::Accepted { application }
                        if self.service_after_accept(application)
                            == crate::services::AfterAccept::RunApplicantSteps =>
                    {
                        self.run_own_steps(c, o, now, |u| {
                            matches!(u, UnitRole::Applicant | UnitRole::Portal)
                        })
                        .await
                    }
                    _ => Ok(o),
                }
            }
            Command::AcceptForeigner(f) => self.accept_foreigner(c, actor, f, now).await,
            Command::ApplicantArrived {
                application,
                revision,
            } => {
                self.applicant_arrived(c, actor, application, *revision, now)
                    .await
            }
            Command::Check {
                application,
                revision,
            } => self.check(c, actor, application, *revision, now).await,
            Command::CompleteStep {
                application,
                revision,
                note,
            } => {
                let o = self
                    .complete_step(c, actor, application, *revision, note.as_deref(), now)
                    .await?;
                // Steps done by a system (the portal gives the result) run by themselves.
                self.run_own_steps(c, o, now, |u| u == UnitRole::Portal)
                    .await
            }
            Command::Refuse {
                application,
                revision,
                reason,
            } => {
                self.close(
                    c,
                    actor,
                    application,
                    *revision,
                    reason,
                    BranchKind::Refusal,
                    now,
                )
                .await
            }
            Command::Annul {
                application,
                revision,
                reason,
            } => {
                self.close(
                    c,
                    actor,
                    application,
                    *revision,
                    reason,
                    BranchKind::Annulment,
                    now,
                )
                .await
            }
            Command::Return {
                application,
                revision,
                to_step,
                reason,
            } => {
                self.return_to(c, actor, application, *revision, *to_step, reason, now)
                    .await
            }
            Command::Issue {
                application,
                revision,
                receiver,
                representative,
            } => {
                self.issue(
                    c,
                    actor,
                    application,
                    *revision,
                    receiver,
                    representative.as_ref(),
                    now,
                )
                .await
            }
            Command::FormRegistry {
                service,
                version,
                process,
                step,
            } => {
                self.form_registry(c, actor, service, version, process, *step, now)
                    .await
            }
            Command::SignRegistry { registry, revision } => {
                self.sign_or_send(c, actor, registry, *revision, true, now)
                    .await
            }
            Command::SendRegistry { registry, revision } => {
                self.sign_or_send(c, actor, registry, *revision, false, now)
                    .await
            }
            Command::ReceiveRegistry {
                registry,
                revision,
                incoming_number,
            } => {
                self.receive_registry(
                    c,
                    actor,
                    registry,
                    *revision,
                    incoming_number.as_deref(),
                    now,
                )
                .await
            }
        }
    }

    /// The catalog version, process and step of an application.
    pub fn locate(
        &self,
        service: &str,
        version: &str,
        process: &str,
    ) -> Result<(&Version, &Process), EngineError> {
        let svc = self.catalog.service(service).ok_or_else(|| {
            EngineError::Corrupt(format!("service {service} is not in the catalog"))
        })?;
        let ver = svc
            .version(version)
            .ok_or_else(|| EngineError::Corrupt(format!("{service} has no version {version}")))?;
        let p = ver.process(process).ok_or_else(|| {
            EngineError::Corrupt(format!("{service}@{version} has no process {process}"))
        })?;
        Ok((ver, p))
    }

    /// The unit that performs a step of the given role for an application accepted at
    /// `accepted`: the unit itself or its nearest ancestor of that kind; production is the
    /// republic's production unit.
    pub(crate) async fn resolve_holder(
        &self,
        c: &mut Ctx<'_>,
        accepted: &UnitId,
        role: UnitRole,
    ) -> Result<UnitId, EngineError> {
        let want = match role {
            UnitRole::Counter | UnitRole::Applicant | UnitRole::Portal | UnitRole::System => {
                return Ok(accepted.clone())
            }
            UnitRole::District => UnitKind::District,
            UnitRole::Region => UnitKind::Region,
            UnitRole::Centre => UnitKind::Centre,
            UnitRole::Production => return self.production_unit(c).await,
        };
        let mut cur = Some(accepted.clone());
        while let Some(id) = cur {
            let u = self.unit_on(c, &id).await?;
            if u.kind == want {
                return Ok(u.id);
            }
            cur = u.parent;
        }
        Err(EngineError::not_found(
            "unit",
            format!("{} above {accepted}", want.code()),
        ))
    }

    /// When a step entered at `entered` by `unit` is due (capped by the process's total).
    pub(crate) fn step_due(
        &self,
        p: &Process,
        step: &Step,
        urgency: Urgency,
        unit: &Unit,
        entered: Timestamp,
        accepted: Timestamp,
    ) -> Result<Option<Timestamp>, EngineError> {
        let d = Deadlines {
            calendar: &self.calendar,
            hours: &unit.hours,
            tz: &self.tz,
        };
        let Some(limit) = step.limit.for_urgency(urgency) else {
            return Ok(None);
        };
        let mut due = d.due(limit, entered)?;
        if let Some(total) = &p.total {
            due = due.min(d.due(total, accepted)?);
        }
        Ok(Some(due))
    }

    /// Checks that the actor may act on the application's current step.
    pub(crate) async fn check_actor_at_step<R: crate::rows::Reads>(
        &self,
        c: &mut R,
        actor: &Actor,
        app: &Application,
        step: &Step,
    ) -> Result<(), EngineError> {
        let kind = self.unit_on(c, &app.holder_unit).await?.kind;
        let want = Role::for_step_at(step.unit, kind);
        if actor.role == Role::System {
            return Ok(());
        }
        // An application the actor may not read is not found, as for a read (issue 31
        // item 11): a write tells no more of it than a read does.
        if !self.may_see(c, actor, app).await? {
            return Err(EngineError::not_found("application", app.id.as_str()));
        }
        if want == Role::Citizen {
            return match &actor.iin {
                Some(i) if i.to_string() == app.applicant => Ok(()),
                _ => Err(EngineError::forbidden(Refusal::OnlyApplicantStep)),
            };
        }
        if actor.role != want {
            return Err(step_of_another_role(step.n, want, actor.role));
        }
        if actor.unit.as_ref() != Some(&app.holder_unit) {
            return Err(self.held_elsewhere(&app.holder_unit));
        }
        Ok(())
    }

    /// "The application is held by another unit", naming it in each language.
    pub(crate) fn held_elsewhere(&self, holder: &UnitId) -> EngineError {
        let name = |lang| {
            self.cached_unit(holder)
                .map_or_else(|| holder.to_string(), |u| u.name.get(lang).to_string())
        };
        EngineError::forbidden(Text::new(
            format!("өтініш «{}» бөлімшесінде, сіздікінде емес", name(Lang::Kk)),
            format!(
                "заявление находится в подразделении «{}», не в вашем",
                name(Lang::Ru)
            ),
            format!("the application is held by unit {holder}, not yours"),
        ))
    }

    /// May `actor` do the current step of `app` now (the card's step buttons): the same
    /// rule as the commands'.
    pub async fn may_do_step(&self, actor: &Actor, app: &Application) -> bool {
        let Ok((_, p)) = self.locate(&app.service, &app.version, &app.process) else {
            return false;
        };
        let Some(step) = p.step(app.step) else {
            return false;
        };
        let mut c = &self.db;
        app.status == Status::InProgress
            && self
                .check_actor_at_step(&mut c, actor, app, step)
                .await
                .is_ok()
    }

    /// Loads an application at the revision the caller saw, open and not in a registry in
    /// transit, with its process and current step, checking that the actor performs that step.
    pub(crate) async fn at_current_step(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
    ) -> Result<(Application, &Process, &Step), EngineError> {
        let app = load_application(c, id).await?;
        Self::check_open(&app, revision)?;
        if app.status == Status::InTransit {
            return Err(EngineError::forbidden(Refusal::InRegistryInTransit));
        }
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        let step = p
            .step(app.step)
            .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
        self.check_actor_at_step(c, actor, &app, step).await?;
        Ok((app, p, step))
    }

    pub(crate) fn check_open(app: &Application, revision: i64) -> Result<(), EngineError> {
        // A stale revision first: the caller's view is out of date, whatever happened.
        if app.revision != revision {
            return Err(EngineError::Conflict {
                what: "application",
                current: app.revision,
                expected: revision,
            });
        }
        if !app.status.is_open() {
            return Err(EngineError::Closed {
                status: app.status.code().into(),
            });
        }
        Ok(())
    }

    /// Writes the application's new state, its holding unit with it, if its revision is
    /// still `expected` (checked when the command's writes are sent).
    pub(crate) async fn save_state(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        expected: i64,
    ) -> Result<(), EngineError> {
        c.push_guarded(
            "UPDATE applications SET status = $1, step = $2, holder_unit = $9, step_entered_at = $3, step_due_at = $4, registry_id = $5, revision = $6, process = $10 WHERE id = $7 AND revision = $8",
            vec![
                Value::from(app.status.stored()),
                Value::from(i64::from(app.step)),
                Value::from(app.step_entered_at),
                Value::from(app.step_due_at),
                RegistryId::value_opt(app.registry.as_ref()),
                Value::from(app.revision),
                Value::from(&app.id),
                Value::from(expected),
                Value::from(app.holder_unit.as_str()),
                Value::from(app.process.as_str()),
            ],
            Guard::Application {
                id: app.id.clone(),
                expected,
            },
        );
        Ok(())
    }

    /// The working hours of the units that hold an application accepted at `accepted`
    /// along process `p`, by the role of each step (`resolve_holder`'s units).
    async fn hours_along(
        &self,
        c: &mut Ctx<'_>,
        accepted: &UnitId,
        p: &Process,
    ) -> Result<UnitHours, EngineError> {
        let own = self.unit_on(c, accepted).await?.hours;
        let mut hours = UnitHours::uniform(own);
        let mut roles: Vec<UnitRole> = p.steps.iter().map(|s| s.unit).collect();
        roles.sort_by_key(|r| r.code());
        roles.dedup();
        for role in roles {
            // A role no unit above plays (a process's step this unit never reaches) keeps
            // the accepting unit's hours; `step_entry` refuses it if it is ever entered.
            if let Ok(holder) = self.resolve_holder(c, accepted, role).await {
                hours = hours.with(role, self.unit_on(c, &holder).await?.hours);
            }
        }
        Ok(hours)
    }

    /// Where an application entering `step` at `now` is held, and when the step is due:
    /// the unit of the step's role above the unit that accepted it, and the step's limit
    /// from `now` in that unit's working time, capped by the process's total limit from
    /// acceptance (`Process::total`). A registry's receipt asks this once per application.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn step_entry(
        &self,
        c: &mut Ctx<'_>,
        accepted_unit: &UnitId,
        urgency: Urgency,
        accepted_at: Timestamp,
        p: &Process,
        step: &Step,
        now: Timestamp,
    ) -> Result<(UnitId, Option<Timestamp>), EngineError> {
        let holder = self.resolve_holder(c, accepted_unit, step.unit).await?;
        let unit = self.unit_on(c, &holder).await?;
        // The hand-over to the applicant: its limit runs from when the applicant comes
        // (`applicant_arrived`, or the issue itself); until then no clock.
        let due = if p.waits_for_applicant(step.n) {
            None
        } else {
            self.step_due(p, step, urgency, &unit, now, accepted_at)?
        };
        Ok((holder, due))
    }

    /// The applicant came for the result at a hand-over step: the step's limit starts now
    /// (in memory; the caller saves the state).
    async fn applicant_is_here(
        &self,
        c: &mut Ctx<'_>,
        app: &mut Application,
        p: &Process,
        step: &Step,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let unit = self.unit_on(c, &app.holder_unit).await?;
        app.step_entered_at = now;
        app.step_due_at = self.step_due(p, step, app.urgency, &unit, now, app.accepted_at)?;
        Ok(())
    }

    /// The `applicant_arrived` command: the applicant has come to the unit that holds the
    /// result; the hand-over's limit (seed 000 annex 1 table 1 row 10: «Выдача
    /// услугополучателю изготовленных документов – 10 минут») starts now. Until then the
    /// application waits for the applicant, a state of its own (supervision counts it, no
    /// clock runs).
    pub(crate) async fn applicant_arrived(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let mut app = load_application(c, id).await?;
        Self::check_open(&app, revision)?;
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        let step = p
            .step(app.step)
            .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
        if app.status != Status::InProgress || !p.waits_for_applicant(step.n) {
            return Err(EngineError::WrongStep {
                expected: "the hand-over of the result".into(),
                actual: app.step,
            });
        }
        if app.step_due_at.is_some() {
            return Err(EngineError::forbidden(Refusal::ArrivalRecorded));
        }
        self.check_actor_at_step(c, actor, &app, step).await?;
        let waited = now.duration_since(app.step_entered_at);
        self.applicant_is_here(c, &mut app, p, step, now).await?;
        insert_event(
            c,
            &app.id,
            EventKind::StepEntered,
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            app.step_due_at,
            &json!({ "applicant_arrived": true, "waited_secs": waited.as_secs() }),
        )
        .await?;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    /// Moves an application into a step at its unit, with the step's due instant, and
    /// writes the entry as an event of the application's. (A registry's receipt moves its
    /// applications in `receive_registry`, the entry written on each one's item.)
    pub(crate) async fn enter_step(
        &self,
        c: &mut Ctx<'_>,
        app: &mut Application,
        p: &Process,
        step: &Step,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        self.move_into_step(c, app, p, step, now).await?;
        step_entered(c, app, step, actor, now).await
    }

    /// [`Engine::enter_step`] without its event: the application's new step, unit and
    /// due instant, in memory (its row is written by `save_state`, or by intake's insert).
    async fn move_into_step(
        &self,
        c: &mut Ctx<'_>,
        app: &mut Application,
        p: &Process,
        step: &Step,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let (holder, due) = self
            .step_entry(
                c,
                &app.accepted_unit,
                app.urgency,
                app.accepted_at,
                p,
                step,
                now,
            )
            .await?;
        app.step = step.n;
        app.holder_unit = holder;
        app.step_entered_at = now;
        app.step_due_at = due;
        app.status = Status::InProgress;
        app.registry = None;
        Ok(())
    }

    async fn accept(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        a: &Accept,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        self.accept_as(c, actor, a, None, now).await
    }

    /// Intake; `foreigner` names an applicant who has no IIN (S9: then `a.applicant` is
    /// not used).
    pub(crate) async fn accept_as(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        a: &Accept,
        foreigner: Option<&str>,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let svc = self
            .catalog
            .service(&a.service)
            .ok_or_else(|| EngineError::not_found("service", &a.service))?;
        let today = now.to_zoned(self.tz.clone()).date();
        let ver = match svc.version_on(today) {
            Some(v) => v,
            // The pilot's period extended by an administrator (issue 6).
            None => self.version_beyond_catalog(c, svc, today).await?.ok_or(
                drn_core::PlanError::NoVersion {
                    service: a.service.clone(),
                    date: today,
                },
            )?,
        };
        if !ver.channels.contains(&a.channel) {
            return Err(EngineError::invalid(
                "channel",
                Refusal::NotProvidedThroughChannel,
            ));
        }
        let p = match &a.process {
            Some(id) => ver
                .process(id)
                .filter(|p| p.channel == a.channel)
                .ok_or_else(|| {
                    EngineError::invalid("process", Refusal::NotProvidedThroughChannel)
                })?,
            None => ver.process_for(a.channel).ok_or_else(|| {
                EngineError::invalid("channel", Refusal::NotProvidedThroughChannel)
            })?,
        };
        if !ver.urgencies.contains(&a.urgency) {
            return Err(EngineError::invalid("urgency", Refusal::NoUrgency));
        }
        if a.documents_presented
            .iter()
            .any(|i| *i >= ver.documents.len())
        {
            return Err(EngineError::invalid(
                "documents_presented",
                Refusal::ChecklistMismatch,
            ));
        }
        let unit_id = self.intake_unit(c, actor, a, &svc.code, ver, p).await?;
        let person = c
            .fetch_optional(
                "SELECT iin FROM persons WHERE iin = $1",
                vec![Value::from(a.applicant.to_string())],
            )
            .await?;
        if person.is_none() && foreigner.is_none() {
            return Err(EngineError::not_found("person", a.applicant.to_string()));
        }
        let applicant = foreigner
            .map(String::from)
            .unwrap_or_else(|| a.applicant.to_string());
        if foreigner.is_none() {
            self.check_place(c, ver, &unit_id, &applicant).await?;
        }
        let mut input = a.data.clone();
        let intake = crate::services::Intake {
            version: ver,
            process: p,
            applicant: &applicant,
        };
        self.service_intake(c, &svc.code, &intake, &mut input)
            .await?;
        let first = p
            .main_path()
            .first()
            .copied()
            .ok_or_else(|| EngineError::Corrupt("empty process".into()))?;
        let year = now.to_zoned(self.tz.clone()).year();
        let seq = c
            .next_counter(&format!("application:{unit_id}:{year}"))
            .await?;
        let number = format!("{unit_id}-{year}-{seq:06}");
        let mut missing: Vec<String> = ver
            .documents
            .iter()
            .enumerate()
            .filter(|(i, _)| !a.documents_presented.contains(i))
            .map(|(_, d)| d.ru.clone())
            .collect();
        // The officer's own words for what is missing are printed on the receipt: bounded
        // as every free text is (issue 29).
        if a.missing.len() > MAX_MISSING
            || a.missing
                .iter()
                .any(|m| m.trim().chars().count() > crate::services::intake::MAX_FIELD_TEXT)
        {
            return Err(EngineError::invalid(
                "missing",
                Refusal::MissingDocumentsBound,
            ));
        }
        missing.extend(
            a.missing
                .iter()
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty()),
        );
        // An intake refusal opens nothing; an intake that would open a second application
        // where the service allows one is refused.
        if missing.is_empty() && self.service_one_open(&svc.code) {
            self.refuse_second_open(c, &svc.code, &applicant).await?;
        }
        // The result's due date (the talon's): the plan of `drn catalog plan` over the
        // hours of the units that will hold it, each step as `step_entry` will time it.
        let hours = self.hours_along(c, &unit_id, p).await?;
        let d = PlanBasis {
            calendar: &self.calendar,
            hours: &hours,
            tz: &self.tz,
        };
        let overall = plan_version(ver, &svc.code, a.urgency, now, Some(&p.id), &d)?
            .due
            .timestamp();
        let mut app = Application {
            id: ApplicationId::new(),
            number: number.clone(),
            service: svc.code.clone(),
            version: ver.id.clone(),
            process: p.id.clone(),
            channel: a.channel,
            urgency: a.urgency,
            applicant,
            accepted_unit: unit_id.clone(),
            accepted_at: now,
            status: if missing.is_empty() {
                Status::InProgress
            } else {
                Status::IntakeRefused
            },
            step: first.n,
            holder_unit: unit_id.clone(),
            step_entered_at: now,
            step_due_at: None,
            due_at: if missing.is_empty() {
                Some(overall)
            } else {
                None
            },
            registry: None,
            revision: 1,
            data: json!({ "documents_presented": a.documents_presented, "missing": missing, "input": input }),
        };
        // Intake is the first step's action, done by accepting: an accepted application
        // is inserted as it stands in the step after it (or, in a process of one step,
        // waits in that step, with its due time, at the unit that performs it, and
        // completes when the result is issued).
        // A first step with a check (S5's address data, seed 002 annex 3 table 2 row 1)
        // waits for it: accepting does not pass a check nobody ran.
        let entered = if missing.is_empty() {
            let step = match first.check {
                Some(_) => first,
                None => p.next_after(first.n).unwrap_or(first),
            };
            self.move_into_step(c, &mut app, p, step, now).await?;
            Some(step)
        } else {
            None
        };
        // Buffered with the events that follow (see `Ctx`).
        c.push(
            format!("INSERT INTO applications ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)", rows::APP_COLUMNS),
            vec![
                Value::from(&app.id),
                Value::from(app.number.clone()),
                Value::from(app.service.clone()),
                Value::from(app.version.clone()),
                Value::from(app.process.clone()),
                Value::from(app.channel.code()),
                Value::from(app.urgency.code()),
                Value::from(app.applicant.clone()),
                Value::from(app.accepted_unit.as_str()),
                Value::from(now),
                Value::from(app.status.stored()),
                Value::from(i64::from(app.step)),
                Value::from(app.holder_unit.as_str()),
                Value::from(app.step_entered_at),
                Value::from(app.step_due_at),
                Value::from(app.due_at),
                Value::Uuid(None),
                Value::from(app.revision),
                Value::json(app.data.to_string()),
            ],
        );
        let Some(entered) = entered else {
            let receipt = format!("R-{number}");
            insert_event(
                c,
                &app.id,
                EventKind::IntakeRefused,
                Some(first.n),
                &actor.id,
                Some(&unit_id),
                now,
                None,
                &json!({ "receipt": receipt, "missing": missing }),
            )
            .await?;
            return Ok(Outcome::IntakeRefused {
                application: app,
                receipt,
                missing,
            });
        };
        insert_event(c, &app.id, EventKind::Accepted, Some(first.n), &actor.id, Some(&unit_id), now, app.due_at, &json!({ "talon": number, "version": ver.id, "act": format!("No {} of {}", ver.act.number, ver.act.date.0) })).await?;
        if entered.n != first.n {
            insert_event(
                c,
                &app.id,
                EventKind::StepCompleted,
                Some(first.n),
                &actor.id,
                Some(&unit_id),
                now,
                None,
                &json!({}),
            )
            .await?;
        }
        step_entered(c, &app, entered, actor, now).await?;
        Ok(Outcome::Accepted { application: app })
    }

    /// Where an intake is made, and whether `actor` may make it: at a counter, the staff
    /// of the unit the catalog gives the intake to ([`Process::counter_intake`]): the
    /// counter's operator at their counter, or a migration unit's officer at a State
    /// Corporation counter under their unit, named in `data.unit` as the portal's applicant
    /// names one (S2 and S3 of 2018: «прием документов … осуществляется на рабочих местах в
    /// Государственной корпорации, на которых указывается … должность сотрудника ОМС», seed
    /// 000 para 7), which becomes the accepting unit, so the counter's later steps are held
    /// there; a district officer at the unit's own intake; the applicant on the portal.
    async fn intake_unit(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        a: &Accept,
        service: &str,
        ver: &Version,
        p: &Process,
    ) -> Result<UnitId, EngineError> {
        let own = || {
            actor
                .unit
                .clone()
                .ok_or_else(|| EngineError::forbidden(Refusal::NoUnit))
        };
        let named = |what: Refusal| -> Result<UnitId, EngineError> {
            let u = crate::services::intake::GenericIntake::of_data(&a.data)?
                .unit
                .ok_or_else(|| EngineError::invalid("data.unit", what))?;
            UnitId::parse(&u)
        };
        match (a.channel, actor.role) {
            (_, Role::System) | (Channel::Unit, Role::DistrictOfficer) => own(),
            (Channel::Portal | Channel::Mobile, Role::Citizen)
                if actor.iin.as_ref() == Some(&a.applicant) =>
            {
                named(Refusal::ChooseIssueUnit)
            }
            (Channel::Counter, role) if role == Role::for_step(p.counter_intake()) => {
                let by = p.counter_intake();
                if by == UnitRole::Counter {
                    return own();
                }
                let mine = own()?;
                let counter = named(Refusal::ChooseCounter)?;
                let at = self.unit_on(c, &counter).await?;
                if at.kind != UnitKind::Counter {
                    return Err(EngineError::invalid("data.unit", Refusal::NotACounter));
                }
                let above = self.resolve_holder(c, &counter, by).await?;
                if above != mine {
                    let name = |u: &UnitId, lang| {
                        self.cached_unit(u)
                            .map_or_else(|| u.to_string(), |x| x.name.get(lang).to_string())
                    };
                    return Err(EngineError::invalid(
                        "data.unit",
                        Text::new(
                            format!(
                                "«{}» ХҚКО-сы «{}» бөлімшесіне бағынады, сіздің «{}» бөлімшеңізге емес: өтінішті өз бөлімшеңіздің ХҚКО-сында қабылдаңыз",
                                name(&counter, Lang::Kk), name(&above, Lang::Kk), name(&mine, Lang::Kk)
                            ),
                            format!(
                                "ЦОН «{}» относится к «{}», а не к вашему подразделению «{}»: примите заявление в ЦОН своего подразделения",
                                name(&counter, Lang::Ru), name(&above, Lang::Ru), name(&mine, Lang::Ru)
                            ),
                            format!(
                                "counter {counter} is under {above}, not your unit {mine}: take the application in at a counter of your own unit"
                            ),
                        ),
                    ));
                }
                Ok(counter)
            }
            (Channel::Counter, _) if p.counter_intake() != UnitRole::Counter => {
                let first = p
                    .main_path()
                    .first()
                    .copied()
                    .ok_or_else(|| EngineError::Corrupt("empty process".into()))?;
                Err(EngineError::IntakeIsAnothers {
                    service: service.to_string(),
                    version: ver.id.clone(),
                    by: Box::new(first.unit_name.clone()),
                    cite: Box::new({
                        let act = self
                            .catalog
                            .act_of_seed(&first.cite.seed)
                            .unwrap_or(&ver.act);
                        drn_core::Text::new(
                            first.cite.legal_text(act, drn_core::Lang::Kk),
                            first.cite.legal_text(act, drn_core::Lang::Ru),
                            first.cite.legal_text(act, drn_core::Lang::En),
                        )
                    }),
                })
            }
            _ => Err(EngineError::forbidden(Refusal::ChannelNotForRole)),
        }
    }

    /// Refuses an intake when the applicant has an open application of the service.
    async fn refuse_second_open(
        &self,
        c: &mut Ctx<'_>,
        service: &str,
        applicant: &str,
    ) -> Result<(), EngineError> {
        // In transit is stored as in progress (`Status::stored`).
        let open = c
            .fetch_optional(
                "SELECT number FROM applications WHERE applicant_iin = $1 AND service = $2 AND status = 'in_progress' ORDER BY accepted_at LIMIT 1",
                vec![Value::from(applicant), Value::from(service)],
            )
            .await?;
        match open {
            Some(r) => Err(EngineError::AlreadyOpen {
                service: service.to_string(),
                number: r.try_get::<String, _>(0)?,
            }),
            None => Ok(()),
        }
    }

    pub(crate) async fn complete_step(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let (mut app, p, step) = self.at_current_step(c, actor, id, revision).await?;
        // A step that joins another process goes on there (the catalog's `joins`).
        let joined = match &step.joins {
            Some(j) => {
                let (ver, _) = self.locate(&app.service, &app.version, &app.process)?;
                let tp = ver.process(&j.process).ok_or_else(|| {
                    EngineError::Corrupt(format!("no process {} to join", j.process))
                })?;
                let ts = tp.step(j.step).ok_or_else(|| {
                    EngineError::Corrupt(format!("no step {} of {} to join", j.step, j.process))
                })?;
                Some((tp, ts))
            }
            None => None,
        };
        if p.handover_after(step.n).is_some() {
            return Err(EngineError::forbidden(Refusal::PassesByRegistry));
        }
        let Some((p, next)) = joined.or_else(|| p.next_after(step.n).map(|n| (p, n))) else {
            return Err(EngineError::forbidden(Refusal::LastStepIssue));
        };
        if let Some(end) = self
            .service_step_done(c, actor, &mut app, step, note, now)
            .await?
        {
            // The service's check ended the application here (S9: an error message).
            rows::insert_step_end(c, &app, end.event, &actor.id, now, &end.data);
            app.status = Status::Refused;
            app.revision = revision + 1;
            self.save_state(c, &app, revision).await?;
            return Ok(Outcome::Application { application: app });
        }
        rows::insert_step_end(
            c,
            &app,
            EventKind::StepCompleted,
            &actor.id,
            now,
            &json!({ "note": note }),
        );
        app.process = p.id.clone();
        self.enter_step(c, &mut app, p, next, actor, now).await?;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    #[allow(clippy::too_many_arguments)]
    async fn close(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        reason: &str,
        kind: BranchKind,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        // Characters, not bytes: "нет" is six bytes of UTF-8 but no motivated reason.
        if reason.trim().chars().count() < 5 {
            return Err(EngineError::invalid("reason", Refusal::ReasonRequired));
        }
        // The reason is printed whole on the refusal's document and shown on the card.
        if reason.chars().count() > MAX_REASON {
            return Err(EngineError::invalid("reason", Refusal::ReasonTooLong));
        }
        let mut app = load_application(c, id).await?;
        Self::check_open(&app, revision)?;
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        let step = p
            .step(app.step)
            .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
        // Who may refuse or annul, where: `ending`.
        self.check_may_end(c, actor, &app, p, step, kind).await?;
        let (status, event) = match kind {
            BranchKind::Annulment => (Status::Annulled, EventKind::Annulled),
            _ => (Status::Refused, EventKind::Refused),
        };
        let branch = step
            .branches
            .iter()
            .find(|b| b.kind == kind)
            .map(|b| b.when.clone());
        rows::insert_step_end(
            c,
            &app,
            event,
            &actor.id,
            now,
            &json!({ "reason": reason, "seed_branch": branch }),
        );
        app.status = status;
        app.registry = None;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    #[allow(clippy::too_many_arguments)]
    async fn return_to(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        to: u32,
        reason: &str,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        if reason.trim().chars().count() < 5 {
            return Err(EngineError::invalid(
                "reason",
                Refusal::CorrectionReasonRequired,
            ));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(EngineError::invalid("reason", Refusal::ReasonTooLong));
        }
        let (mut app, p, step) = self.at_current_step(c, actor, id, revision).await?;
        let target = p
            .main_path()
            .into_iter()
            .find(|s| s.n == to && s.n < step.n)
            .or_else(|| p.detour_from(step.n, to))
            .ok_or_else(|| EngineError::invalid("to_step", Refusal::NotAnEarlierStep))?;
        insert_event(
            c,
            &app.id,
            EventKind::Returned,
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "to_step": to, "reason": reason }),
        )
        .await?;
        self.enter_step(c, &mut app, p, target, actor, now).await?;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn issue(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        receiver: &Iin,
        rep: Option<&Representative>,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let mut app = load_application(c, id).await?;
        Self::check_open(&app, revision)?;
        let (ver, p) = self.locate(&app.service, &app.version, &app.process)?;
        let step = p
            .step(app.step)
            .ok_or_else(|| EngineError::Corrupt(format!("no step {}", app.step)))?;
        if !p.gives_result_at(step.n) || app.status != Status::InProgress {
            return Err(EngineError::WrongStep {
                expected: "the last step".into(),
                actual: app.step,
            });
        }
        self.check_actor_at_step(c, actor, &app, step).await?;
        match rep {
            None if receiver.to_string() == app.applicant => {}
            None => return Err(EngineError::forbidden(Refusal::ReceiverNotApplicant)),
            Some(_) if !crate::services::rules(&app.service).representative_may_receive() => {
                return Err(EngineError::forbidden(Refusal::InPersonOnly));
            }
            Some(r) if r.authority.chars().count() > crate::services::intake::MAX_FIELD_TEXT => {
                return Err(EngineError::invalid("authority", Refusal::TextTooLong))
            }
            Some(r) if r.iin == *receiver && r.authority.trim().len() >= 5 => {}
            Some(_) => {
                return Err(EngineError::invalid(
                    "representative",
                    Refusal::RepresentativeNeeded,
                ))
            }
        }
        // The applicant is here: when their arrival was not recorded, the hand-over's
        // limit starts now (issue 30 item 12).
        if p.waits_for_applicant(step.n) && app.step_due_at.is_none() {
            self.applicant_is_here(c, &mut app, p, step, now).await?;
        }
        self.service_step_done(c, actor, &mut app, step, None, now)
            .await?;
        let number = match manufactured_number(c, &app.id).await? {
            Some(number) => number,
            None => {
                let year = now.to_zoned(self.tz.clone()).year();
                let seq = c
                    .next_counter(&format!("document:{}:{year}", app.service))
                    .await?;
                document_number(&app.service, year, seq)
            }
        };
        c.push(
            "INSERT INTO issued_documents (id, application_id, kind, number, holder_iin, issued_at, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                Value::uuid(uuid::Uuid::now_v7().to_string()),
                Value::from(&app.id),
                Value::from(app.service.clone()),
                Value::from(number.clone()),
                Value::from(app.applicant.clone()),
                Value::from(now),
                Value::json(json!({ "result": ver.result, "receiver": receiver.to_string(), "representative": rep }).to_string()),
            ],
        );
        rows::insert_step_end(
            c,
            &app,
            EventKind::StepCompleted,
            &actor.id,
            now,
            &json!({}),
        );
        let result = self.service_issued(c, actor, &app, &number, now).await?;
        insert_event(
            c,
            &app.id,
            EventKind::Issued,
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "document": number, "receiver": receiver.to_string(), "result": result }),
        )
        .await?;
        app.status = Status::Issued;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    #[allow(clippy::too_many_arguments)]
    async fn form_registry(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        service: &str,
        version: &str,
        process: &str,
        n: u32,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let (_, p) = self
            .locate(service, version, process)
            .map_err(|_| EngineError::invalid("process", Refusal::ProcessNotInCatalog))?;
        let step = p
            .step(n)
            .ok_or_else(|| EngineError::invalid("step", Refusal::NoSuchStep))?;
        let next = p
            .handover_after(n)
            .ok_or_else(|| EngineError::invalid("step", Refusal::NoRegistryAtStep))?;
        let unit = actor
            .unit
            .clone()
            .ok_or_else(|| EngineError::forbidden(Refusal::NoUnit))?;
        let want = Role::for_step_at(step.unit, self.unit_on(c, &unit).await?.kind);
        if actor.role != want {
            return Err(step_of_another_role(n, want, actor.role));
        }
        // What waits at the step, each with the unit that accepted it (that unit decides
        // where it goes next: a registry goes to one unit) and when it entered the step and
        // was due, read once: the registries' items are written from this list.
        let waiting = c
            .fetch_all(
                &format!("SELECT id, accepted_unit, step_entered_at, step_due_at FROM applications WHERE {WAITING_AT_STEP} ORDER BY accepted_unit, id"),
                waiting_args(&unit, service, version, process, n),
            )
            .await?;
        if waiting.is_empty() {
            return Err(EngineError::invalid("step", Refusal::NothingWaitsAtStep));
        }
        // A step's check passes no application on that it stops, nor one it was not run
        // for: it runs now for each, recorded in its timeline (S1's wanted persons, seed
        // 000 annex 1 table 1 row 5); the hits stay at the step for a motivated refusal.
        let mut left_out = Vec::new();
        if let Some(kind) = step.check {
            for r in &waiting {
                let app = load_application(c, &ApplicationId::from_db(r.try_get(0)?)).await?;
                if !self.record_check(c, actor, &app, step, kind, now).await? {
                    left_out.push(app.id);
                }
            }
        }
        let mut by_dest: std::collections::BTreeMap<UnitId, Vec<WaitingItem>> = Default::default();
        let mut dest_of: Option<(String, UnitId)> = None;
        for r in &waiting {
            let id = ApplicationId::from_db(r.try_get(0)?);
            if left_out.contains(&id) {
                continue;
            }
            let accepted: String = r.try_get(1)?;
            let dest = match &dest_of {
                Some((a, d)) if *a == accepted => d.clone(),
                _ => {
                    let d = self
                        .resolve_holder(c, &UnitId::from_db(accepted.clone()), next.unit)
                        .await?;
                    dest_of = Some((accepted, d.clone()));
                    d
                }
            };
            by_dest.entry(dest).or_default().push(WaitingItem {
                id,
                entered_at: r.try_get(2)?,
                due_at: r.try_get(3)?,
            });
        }
        let kind = step
            .registry
            .map(|k| {
                serde_json::to_value(k)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let year = now.to_zoned(self.tz.clone()).year();
        let or_fail = c.backend().or_fail();
        let mut out = Vec::new();
        // The registry of manufactured documents lists each document's number: given here,
        // when production forms it, from the counter issue takes its numbers from (the
        // document is issued under it: `manufactured_number`).
        let manufactured = step.registry == Some(RegistryKind::Manufactured);
        for (dest, items) in by_dest {
            let id = RegistryId::new();
            let first_document = if manufactured {
                let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let last = c
                    .take_counter(&format!("document:{service}:{year}"), n)
                    .await?;
                Some(last - n + 1)
            } else {
                None
            };
            let seq = c.next_counter(&format!("registry:{unit}:{year}")).await?;
            let number = format!("{unit}-{year}-R{seq:05}");
            // Buffered: the registry, its event, and for each application its item and
            // state, go to the database in a few calls (see `Ctx`).
            c.push(
                "INSERT INTO registries (id, number, kind, service, version, process, step, from_unit, to_unit, status, formed_by, formed_at, revision) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'formed', $10, $11, 1)",
                vec![
                    Value::from(&id),
                    Value::from(number.clone()),
                    Value::from(kind.clone()),
                    Value::from(service),
                    Value::from(version),
                    Value::from(process),
                    Value::from(i64::from(n)),
                    Value::from(unit.as_str()),
                    Value::from(dest.as_str()),
                    Value::from(actor.id.clone()),
                    Value::from(now),
                ],
            );
            rows::insert_registry_event(
                c,
                &id,
                EventKind::InRegistry,
                n,
                &actor.id,
                &unit,
                now,
                &json!({ "registry": number, "kind": kind }),
            );
            for (nth_chunk, chunk) in items.chunks(ITEMS_PER_STATEMENT).enumerate() {
                // Each application is marked as in the registry only while it still waits
                // at the step: another writer's transaction may have moved it since the
                // read (PostgreSQL), and then the registry is not formed. (Its unit follows
                // from its step; leaving the unit out keeps the lookups by id.)
                let mut args = vec![
                    Value::from(&id),
                    Value::from(service),
                    Value::from(version),
                    Value::from(process),
                    Value::from(i64::from(n)),
                ];
                let marks = (0..chunk.len())
                    .map(|i| format!("${}", args.len() + 1 + i))
                    .collect::<Vec<_>>()
                    .join(", ");
                args.extend(chunk.iter().map(|w| Value::from(&w.id)));
                let marked = c
                    .execute_counted(Statement::new(
                        format!("UPDATE {or_fail}applications SET registry_id = $1, revision = revision + 1 WHERE id IN ({marks}) AND status = 'in_progress' AND registry_id IS NULL AND service = $2 AND version = $3 AND process = $4 AND step = $5"),
                        args,
                    ))
                    .await?;
                if marked != chunk.len() as u64 {
                    return Err(EngineError::Raced {
                        what: "applications waiting for a registry",
                    });
                }
                // Each item keeps when its application entered the step the registry ends
                // and when that was due (the sending completes the step for each at its
                // own time).
                let mut args = vec![Value::from(&id)];
                let mut rows_sql = Vec::with_capacity(chunk.len());
                for (k, w) in (nth_chunk * ITEMS_PER_STATEMENT..).zip(chunk) {
                    let at = args.len();
                    rows_sql.push(format!(
                        "($1, ${}, ${}, ${}, ${})",
                        at + 1,
                        at + 2,
                        at + 3,
                        at + 4
                    ));
                    args.push(Value::from(&w.id));
                    args.push(Value::Instant(w.entered_at));
                    args.push(Value::Instant(w.due_at));
                    args.push(Value::from(first_document.map(|first| {
                        document_number(service, year, first + i64::try_from(k).unwrap_or(0))
                    })));
                }
                c.push(
                    format!(
                        "INSERT INTO registry_items (registry_id, application_id, entered_at, due_at, document_number) VALUES {}",
                        rows_sql.join(", ")
                    ),
                    args,
                );
            }
            out.push(load_registry(c, &id).await?);
        }
        Ok(Outcome::Registries {
            registries: out,
            left_out,
        })
    }

    /// Loads a registry's row (not its list) at the revision the caller saw, checking that
    /// the actor is staff of the sending unit (performing the registry's step) or, with
    /// `receiving`, of the receiving unit (performing the next step).
    async fn registry_for(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &RegistryId,
        revision: i64,
        receiving: bool,
    ) -> Result<(Registry, &Process), EngineError> {
        let reg = load_registry_head(c, id).await?;
        if reg.revision != revision {
            return Err(EngineError::Conflict {
                what: "registry",
                current: reg.revision,
                expected: revision,
            });
        }
        let (_, p) = self.locate(&reg.service, &reg.version, &reg.process)?;
        let step = if receiving {
            p.next_after(reg.step)
        } else {
            p.step(reg.step)
        }
        .ok_or_else(|| {
            EngineError::Corrupt(format!("registry {} has no step to act on", reg.number))
        })?;
        let unit = if receiving {
            &reg.to_unit
        } else {
            &reg.from_unit
        };
        let want = Role::for_step_at(step.unit, self.unit_on(c, unit).await?.kind);
        if actor.unit.as_ref() != Some(unit) || actor.role != want {
            return Err(EngineError::forbidden(Refusal::OnlyRoleOfUnit));
        }
        Ok((reg, p))
    }

    async fn sign_or_send(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &RegistryId,
        revision: i64,
        sign: bool,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let (reg, _) = self.registry_for(c, actor, id, revision, false).await?;
        let from = if sign { "formed" } else { "signed" };
        if reg.status != from {
            return Err(EngineError::forbidden(Refusal::RegistryWrongState));
        }
        let at = Value::from(now);
        let (id_v, rev_v) = (Value::from(id), Value::from(revision));
        let update = if sign {
            Statement::new(
                "UPDATE registries SET status = 'signed', signed_by = $1, signed_at = $2, revision = revision + 1 WHERE id = $3 AND revision = $4",
                vec![Value::from(actor.id.clone()), at, id_v, rev_v],
            )
        } else {
            Statement::new(
                "UPDATE registries SET status = 'sent', sent_at = $1, revision = revision + 1 WHERE id = $2 AND revision = $3",
                vec![at, id_v, rev_v],
            )
        };
        if c.execute_counted(update).await? != 1 {
            return Err(EngineError::Conflict {
                what: "registry",
                current: revision + 1,
                expected: revision,
            });
        }
        if !sign {
            // Sending completes the registry's step for each of its applications (each
            // one's due instant is its item's). Their rows stay as they are: an
            // application reads as in transit while its registry is sent (`rows::app_cols`).
            rows::insert_registry_event(
                c,
                id,
                EventKind::StepCompleted,
                reg.step,
                &actor.id,
                &reg.from_unit,
                now,
                &json!({ "registry": reg.number }),
            );
        }
        Ok(Outcome::Registry {
            registry: load_registry(c, id).await?,
        })
    }

    async fn receive_registry(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &RegistryId,
        revision: i64,
        incoming: Option<&str>,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let (reg, p) = self.registry_for(c, actor, id, revision, true).await?;
        let next = p
            .next_after(reg.step)
            .ok_or_else(|| EngineError::Corrupt("registry without a next step".into()))?;
        if reg.status != "sent" {
            return Err(EngineError::forbidden(Refusal::RegistryWrongState));
        }
        let year = now.to_zoned(self.tz.clone()).year();
        let number = match incoming.map(str::trim) {
            Some(n) if !n.is_empty() && n.len() <= 64 => n.to_string(),
            Some(_) => {
                return Err(EngineError::invalid(
                    "incoming_number",
                    Refusal::IncomingNumberForm,
                ))
            }
            None => format!(
                "IN-{}-{year}-{:05}",
                reg.to_unit,
                c.next_counter(&format!("incoming:{}:{year}", reg.to_unit))
                    .await?
            ),
        };
        // An incoming number is given once in the receiving unit's book of the year (книга
        // учета входящих сводных реестров, seed 000 annex 1 table 1 row 5; a unique index
        // backs this check).
        let used = c
            .fetch_optional(
                "SELECT number FROM registries WHERE to_unit = $1 AND incoming_year = $2 AND incoming_number = $3 AND id <> $4",
                vec![
                    Value::from(reg.to_unit.as_str()),
                    Value::from(i64::from(year)),
                    Value::from(number.clone()),
                    Value::from(id),
                ],
            )
            .await?;
        if let Some(r) = used {
            let other: String = r.try_get(0)?;
            return Err(EngineError::invalid(
                "incoming_number",
                Text::new(
                    format!("«{number}» кіріс нөмірі {year} жылы {other} тізілімге берілген, басқа нөмір беріңіз"),
                    format!("входящий номер «{number}» уже присвоен в {year} году реестру {other}, укажите другой"),
                    format!("the incoming number «{number}» was already given in {year} to registry {other}, give another"),
                ),
            ));
        }
        let update = Statement::new(
            "UPDATE registries SET status = 'received', received_by = $1, received_at = $2, incoming_number = $3, incoming_year = $6, revision = revision + 1 WHERE id = $4 AND revision = $5",
            vec![
                Value::from(actor.id.clone()),
                Value::from(now),
                Value::from(number.clone()),
                Value::from(id),
                Value::from(revision),
                Value::from(i64::from(year)),
            ],
        );
        if c.execute_counted(update).await? != 1 {
            return Err(EngineError::Conflict {
                what: "registry",
                current: revision + 1,
                expected: revision,
            });
        }
        rows::insert_registry_event(
            c,
            id,
            EventKind::RegistryReceived,
            reg.step,
            &actor.id,
            &reg.to_unit,
            now,
            &json!({ "registry": reg.number, "incoming_number": number }),
        );
        // Each application in transit enters the next step at its unit: what that needs
        // of each is read, not the whole application, and its state and its item are
        // written in one statement each.
        let moving = c
            .fetch_all(
                "SELECT a.id, a.urgency, a.accepted_unit, a.accepted_at, a.revision FROM registry_items i JOIN applications a ON a.id = i.application_id WHERE i.registry_id = $1 AND a.registry_id = $1 AND a.status = 'in_progress' ORDER BY i.application_id",
                vec![Value::from(id)],
            )
            .await?;
        for r in &moving {
            c.flush_if_many().await?;
            let app = ApplicationId::from_db(r.try_get(0)?);
            let urgency = Urgency::parse(&r.try_get::<String, _>(1)?)
                .map_err(|e| EngineError::Corrupt(e.to_string()))?;
            let accepted_unit = UnitId::from_db(r.try_get(2)?);
            let accepted_at = rows::ts(r.try_get(3)?)?;
            let rev: i64 = r.try_get(4)?;
            let (holder, due) = self
                .step_entry(c, &accepted_unit, urgency, accepted_at, p, next, now)
                .await?;
            let due = Value::from(due);
            c.push_guarded(
                "UPDATE applications SET status = 'in_progress', step = $1, holder_unit = $2, step_entered_at = $3, step_due_at = $4, registry_id = NULL, revision = $5 WHERE id = $6 AND revision = $7",
                vec![
                    Value::from(i64::from(next.n)),
                    Value::from(holder.as_str()),
                    Value::from(now),
                    due.clone(),
                    Value::from(rev + 1),
                    Value::from(&app),
                    Value::from(rev),
                ],
                Guard::Application {
                    id: app.clone(),
                    expected: rev,
                },
            );
            c.push(
                "UPDATE registry_items SET received_step = $1, received_due_at = $2 WHERE registry_id = $3 AND application_id = $4",
                vec![
                    Value::from(i64::from(next.n)),
                    due,
                    Value::from(id),
                    Value::from(&app),
                ],
            );
        }
        Ok(Outcome::Registry {
            registry: load_registry(c, id).await?,
        })
    }
}

/// The number of a service's document: `S1-2019-0000042`.
fn document_number(service: &str, year: i16, seq: i64) -> String {
    format!("{service}-{year}-{seq:07}")
}

/// The number production gave the application's document in its registry of manufactured
/// documents, the latest if it was manufactured twice: the document is issued under it.
async fn manufactured_number(
    c: &mut Ctx<'_>,
    id: &ApplicationId,
) -> Result<Option<String>, EngineError> {
    c.fetch_optional(
        "SELECT i.document_number FROM registry_items i JOIN registries r ON r.id = i.registry_id WHERE i.application_id = $1 AND i.document_number IS NOT NULL ORDER BY r.formed_at DESC LIMIT 1",
        vec![Value::from(id)],
    )
    .await?
    .map(|r| r.try_get::<String, _>(0))
    .transpose()
    .map_err(EngineError::from)
}

/// The SHA-256 of a command as the engine received it, kept with an idempotency key's
/// first answer: a retry must send the same request.
fn request_sha256(cmd: &Command) -> Result<String, EngineError> {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(cmd).map_err(|e| EngineError::Corrupt(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&json)))
}

async fn lookup_key(
    c: &mut Ctx<'_>,
    key: &str,
    actor: &Actor,
    cmd: &Command,
    sha256: &str,
) -> Result<Option<Outcome>, EngineError> {
    let row = c
        .fetch_optional(
            "SELECT actor, command, response_json, request_sha256 FROM idempotency WHERE key = $1",
            vec![Value::from(key)],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let (a, name, resp): (String, String, String) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    if a != actor.id || name != cmd.name() {
        return Err(EngineError::KeyReused);
    }
    // Rows from before migration 0018 have no request's hash.
    let first: Option<String> = r.try_get(3)?;
    if first.is_some_and(|h| h != sha256) {
        return Err(EngineError::KeyReusedWithOtherRequest);
    }
    serde_json::from_str(&resp)
        .map(Some)
        .map_err(|e| EngineError::Corrupt(e.to_string()))
}

/// The event of an application's entry into `step` (at its holding unit, due at its step
/// due instant), written after [`Engine::move_into_step`].
async fn step_entered(
    c: &mut Ctx<'_>,
    app: &Application,
    step: &Step,
    actor: &Actor,
    now: Timestamp,
) -> Result<(), EngineError> {
    insert_event(
        c,
        &app.id,
        EventKind::StepEntered,
        Some(step.n),
        &actor.id,
        Some(&app.holder_unit),
        now,
        app.step_due_at,
        &json!({ "unit_role": step.unit.code() }),
    )
    .await
}

/// "Step n is done by another role" (the roles' codes in the English only: the kk/ru
/// pages name the step).
fn step_of_another_role(n: u32, want: Role, you: Role) -> EngineError {
    EngineError::forbidden(Text::new(
        format!("{n}-қадамды басқа рөлдегі қызметкер орындайды"),
        format!("шаг {n} выполняет сотрудник другой роли"),
        format!(
            "step {n} is done by a {}, you are a {}",
            want.code(),
            you.code()
        ),
    ))
}
