//! Who may end an application before its result: a motivated refusal (мотивированный
//! отказ, дәлелді бас тарту) or an annulment (аннулирование, күшін жою). One rule for the
//! command and for the card's buttons (issue 28 item 4: a mistaken intake could not be
//! undone by anyone who held it).
//!
//! What the seeds state: the result of S6, S7 and S9 is the document or a motivated
//! refusal (seed 003 para 4 and table 1 box 4; seed 004 para 4); for S5 the State
//! Corporation's worker gives the certificate "либо мотивированный отказ" (seed 000, the
//! S5 regulation's para 6); the catalog gives a step a `refusal` branch where the seed's
//! table does; S1E's application is annulled by the regional directorate (seed 001, step
//! 17). Who else may refuse or annul, and where, the seeds do not say: those rules are
//! marked ASSUMPTION below and in the README.

use drn_core::catalog::{BranchKind, Process, Step};
use drn_core::Channel;

use crate::error::EngineError;
use crate::model::*;
use crate::rows::Reads;
use crate::Engine;
use crate::Refusal;

/// The staff role that works at a unit of this kind.
pub(crate) fn role_at(kind: UnitKind) -> Role {
    match kind {
        UnitKind::Counter => Role::CounterOperator,
        UnitKind::District => Role::DistrictOfficer,
        UnitKind::Region => Role::RegionalOfficer,
        UnitKind::Centre => Role::CentralOfficer,
        UnitKind::Production => Role::ProductionOperator,
    }
}

/// Is the application still where it was taken in: accepted by staff (not on the portal),
/// in progress at the unit that accepted it, and not yet passed on by a registry.
fn at_intake(app: &Application, p: &Process) -> bool {
    let by_staff = matches!(app.channel, Channel::Counter | Channel::Unit);
    by_staff
        && app.status == Status::InProgress
        && app.holder_unit == app.accepted_unit
        && !p
            .main_path()
            .iter()
            .any(|s| s.n < app.step && p.handover_after(s.n).is_some())
}

/// What decides whether a staff member may end an application now.
#[derive(Debug, Clone, Copy)]
pub struct EndingFacts {
    pub role: Role,
    /// The actor's unit holds the application.
    pub holds: bool,
    /// ... and the actor's role is the one that works at that unit.
    pub works_there: bool,
    /// The application is still where it was taken in (see `at_intake`).
    pub at_intake: bool,
    /// The actor is a district officer of the district above the unit that took it in.
    pub district_above: bool,
}

/// Who may end an application at `step` by a refusal or an annulment (`kind`): the rule
/// of the command and of the card's buttons, pure so that a test can run it over the
/// whole catalog (issue 28's principle).
pub fn may_end_by(kind: BranchKind, f: &EndingFacts, step: &Step) -> bool {
    match kind {
        BranchKind::Annulment => {
            // Seed 001 (S1E step 17): the regional directorate annuls. ASSUMPTION: the
            // region and the centre may annul whatever they hold (as before issue 28).
            let decides = f.holds && matches!(f.role, Role::RegionalOfficer | Role::CentralOfficer);
            // ASSUMPTION (the seeds are silent on undoing a mistaken intake): the unit
            // that accepted it may annul it while it still holds it, and so may the
            // district migration unit above that unit (which would receive it next), so
            // that a wrong intake never has to travel the whole route.
            let intake = f.at_intake && (f.works_there || f.district_above);
            decides || intake
        }
        _ => {
            // The migration service's units decide on what they hold (as before).
            let officer = f.holds
                && matches!(
                    f.role,
                    Role::DistrictOfficer | Role::RegionalOfficer | Role::CentralOfficer
                );
            // ASSUMPTION: where the catalog gives the step a refusal branch (the seed's
            // table names a refusal there), whoever works at the unit that holds the
            // application may give it, also when the step is the portal's or the
            // applicant's (the unit is then the one the applicant chose).
            let branch =
                f.works_there && step.branches.iter().any(|b| b.kind == BranchKind::Refusal);
            officer || branch
        }
    }
}

impl Engine {
    /// Checks that `actor` may end `app`, now at `step` of `p`, by a refusal or an
    /// annulment (`kind`).
    pub(crate) async fn check_may_end<R: Reads>(
        &self,
        c: &mut R,
        actor: &Actor,
        app: &Application,
        p: &Process,
        step: &Step,
        kind: BranchKind,
    ) -> Result<(), EngineError> {
        if actor.role == Role::System {
            return Ok(());
        }
        // Not found, as for a read, when the actor may not read it (issue 31 item 11).
        if !self.may_see(c, actor, app).await? {
            return Err(EngineError::not_found("application", app.id.as_str()));
        }
        let holds = actor.unit.is_some() && actor.unit.as_ref() == Some(&app.holder_unit);
        // The operational role of the unit that holds it (a supervisor or an auditor of
        // that unit is not).
        let works_there =
            holds && role_at(self.unit_on(c, &app.holder_unit).await?.kind) == actor.role;
        let at_intake = at_intake(app, p);
        let district_above = kind == BranchKind::Annulment
            && at_intake
            && self.district_above(c, actor, &app.accepted_unit).await?;
        let facts = EndingFacts {
            role: actor.role,
            holds,
            works_there,
            at_intake,
            district_above,
        };
        let may = may_end_by(kind, &facts, step);
        if may {
            return Ok(());
        }
        if !holds && !matches!(actor.role, Role::Citizen) && actor.unit.is_some() {
            return Err(self.held_elsewhere(&app.holder_unit));
        }
        let _ = step;
        Err(EngineError::forbidden(Refusal::CannotEndHere))
    }

    /// Is the actor a district officer of the district `unit` is in.
    async fn district_above<R: Reads>(
        &self,
        c: &mut R,
        actor: &Actor,
        unit: &UnitId,
    ) -> Result<bool, EngineError> {
        match (&actor.unit, actor.role) {
            (Some(own), Role::DistrictOfficer) => self.in_area(c, own, unit).await,
            _ => Ok(false),
        }
    }

    /// May `actor` end `app` by a refusal or an annulment now (the card's buttons).
    pub async fn may_end(&self, actor: &Actor, app: &Application, kind: BranchKind) -> bool {
        let Ok((_, p)) = self.locate(&app.service, &app.version, &app.process) else {
            return false;
        };
        let Some(step) = p.step(app.step) else {
            return false;
        };
        if !app.status.is_open() {
            return false;
        }
        let mut c = &self.db;
        self.check_may_end(&mut c, actor, app, p, step, kind)
            .await
            .is_ok()
    }
}
