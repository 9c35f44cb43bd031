//! Issue 28, the principle: every state of every process of every version has someone who
//! moves it on — a role at the holding unit, the applicant's submission, or the system for
//! the steps done by a system — checked over the whole catalog, not as a list of cases.

use drn_core::catalog::{BranchKind, Process, Step, StepHook, UnitRole};
use drn_engine::ending::{may_end_by, EndingFacts};
use drn_engine::services::{self, AfterAccept};
use drn_engine::Role;

use crate::support::load_catalog;

/// Who moves an application on at step `n` of `p` (a service `code`), or `None`.
fn mover(code: &str, p: &Process, n: u32, first: bool) -> Option<String> {
    let step = p.step(n)?;
    let own = services::drives_its_own_steps(code);
    match step.unit {
        UnitRole::Counter
        | UnitRole::District
        | UnitRole::Region
        | UnitRole::Centre
        | UnitRole::Production => Some(Role::for_step(step.unit).code().to_string()),
        // The intake is the applicant's first step; later ones are done by the submission
        // when the service runs them at once.
        UnitRole::Applicant if first => Some("the intake".into()),
        UnitRole::Applicant
            if own || services::after_accept(code, p.channel) == AfterAccept::RunApplicantSteps =>
        {
            Some("the submission".into())
        }
        UnitRole::Applicant => None,
        // The portal's steps run by themselves (outcome steps end the application).
        UnitRole::Portal => Some("the system".into()),
        // S9's operator's processing is run by the holder's staff; the online renewal's
        // system steps by its session.
        UnitRole::System if step.hook == Some(StepHook::FormIin) || own => {
            Some("the system".into())
        }
        UnitRole::System => None,
    }
}

#[test]
fn every_step_of_every_version_has_someone_who_moves_it_on() {
    let (catalog, _) = load_catalog();
    let mut checked = 0;
    let mut stuck = Vec::new();
    for s in catalog.services.values() {
        for v in &s.versions {
            for p in &v.processes {
                // The main path followed through joins, and every step a branch reaches.
                let mut reach: Vec<(&Process, u32, bool)> = v
                    .path(p)
                    .iter()
                    .enumerate()
                    .map(|(i, (q, st))| (*q, st.n, i == 0))
                    .collect();
                for (q, st) in v.path(p) {
                    for b in &st.branches {
                        if let Some(to) = b.to {
                            reach.push((q, to, false));
                        }
                    }
                }
                for (q, n, first) in reach {
                    let outcome = q.step(n).is_some_and(|st| st.outcome.is_some());
                    checked += 1;
                    if !outcome && mover(&s.code, q, n, first).is_none() {
                        stuck.push(format!("{} {} {} step {n}", s.code, v.id, q.id));
                    }
                }
            }
        }
    }
    assert!(checked > 150, "the catalog was read: {checked}");
    assert!(stuck.is_empty(), "steps nobody moves on: {stuck:#?}");
}

/// May anyone end an application held at a staff unit at `step` by `kind`: the role that
/// works at the holding unit, and the officers of the units that may hold it (the
/// district above an intake unit included), each tried against the engine's rule.
fn enders(step: &Step, held_by: Role, at_intake: bool, kind: BranchKind) -> Vec<Role> {
    let candidates = [
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::ProductionOperator,
        Role::Supervisor,
        Role::Citizen,
    ];
    candidates
        .into_iter()
        .filter(|&role| {
            let holds = role == held_by;
            let district_above =
                role == Role::DistrictOfficer && held_by == Role::CounterOperator && at_intake;
            let facts = EndingFacts {
                role,
                holds,
                works_there: holds,
                at_intake,
                district_above,
            };
            may_end_by(kind, &facts, step)
        })
        .collect()
}

#[test]
fn every_step_where_the_seeds_allow_an_ending_has_someone_who_may_end_it() {
    let (catalog, _) = load_catalog();
    let mut missing = Vec::new();
    let mut checked = 0;
    for s in catalog.services.values() {
        for v in &s.versions {
            for p in &v.processes {
                let staff_intake = matches!(
                    p.channel,
                    drn_core::Channel::Counter | drn_core::Channel::Unit
                );
                for (i, st) in p.main_path().iter().enumerate() {
                    if st.outcome.is_some() {
                        continue;
                    }
                    let held_by = match st.unit {
                        UnitRole::Counter
                        | UnitRole::District
                        | UnitRole::Region
                        | UnitRole::Centre
                        | UnitRole::Production => Role::for_step(st.unit),
                        _ => continue,
                    };
                    let at_intake = staff_intake && i == 0;
                    let here = format!("{} {} {} step {}", s.code, v.id, p.id, st.n);
                    checked += 1;
                    // Where the seed's table names a refusal, the unit that holds it may
                    // give it.
                    let refusal_branch = st.branches.iter().any(|b| b.kind == BranchKind::Refusal);
                    if refusal_branch
                        && !enders(st, held_by, at_intake, BranchKind::Refusal).contains(&held_by)
                    {
                        missing.push(format!("{here}: refusal branch, the holder may not refuse"));
                    }
                    // A mistaken intake is undone where it was taken.
                    if at_intake
                        && !enders(st, held_by, true, BranchKind::Annulment).contains(&held_by)
                    {
                        missing.push(format!(
                            "{here}: intake, the unit that took it may not annul"
                        ));
                    }
                    // The migration service's units decide on what they hold.
                    if matches!(
                        st.unit,
                        UnitRole::District | UnitRole::Region | UnitRole::Centre
                    ) && enders(st, held_by, at_intake, BranchKind::Refusal).is_empty()
                    {
                        missing.push(format!(
                            "{here}: held by the migration service, nobody may refuse"
                        ));
                    }
                    if matches!(st.unit, UnitRole::Region | UnitRole::Centre)
                        && enders(st, held_by, at_intake, BranchKind::Annulment).is_empty()
                    {
                        missing.push(format!(
                            "{here}: held by the region or centre, nobody may annul"
                        ));
                    }
                    // Nobody outside the holding unit (a supervisor, the applicant) ends it.
                    for kind in [BranchKind::Refusal, BranchKind::Annulment] {
                        for r in enders(st, held_by, at_intake, kind) {
                            if r != held_by && !(r == Role::DistrictOfficer && at_intake) {
                                missing.push(format!(
                                    "{here}: {} may end what it does not hold",
                                    r.code()
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 60, "the catalog was read: {checked}");
    assert!(missing.is_empty(), "{missing:#?}");
}
