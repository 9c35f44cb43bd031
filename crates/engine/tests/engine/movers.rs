//! Issue 28, the principle: every state of every process of every version has someone who
//! moves it on — a role at the holding unit, the applicant's submission, or the system for
//! the steps done by a system — checked over the whole catalog, not as a list of cases.

use drn_core::catalog::{Process, StepHook, UnitRole};
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
