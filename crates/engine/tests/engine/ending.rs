//! Issue 28 item 4: a mistaken intake can be undone, and a refusal given where the step
//! the unit holds has a refusal branch; everyone else stays forbidden.

use drn_core::catalog::BranchKind;
use drn_core::{Channel, Urgency};
use drn_engine::*;

use crate::foreigners::{foreigner, s9_to_step5};
use crate::support::*;

fn annul(a: &Application) -> Command {
    Command::Annul {
        application: a.id.clone(),
        revision: a.revision,
        reason: "Ошибка при приёме: не тот заявитель".into(),
    }
}

fn refuse(a: &Application) -> Command {
    Command::Refuse {
        application: a.id.clone(),
        revision: a.revision,
        reason: "Нарушения в данных услугополучателя".into(),
    }
}

async fn forbidden(w: &World, actor: &Actor, cmd: &Command) {
    let err = w.engine.execute(actor, cmd, None).await.unwrap_err();
    assert_eq!(err.code(), "forbidden", "{actor:?}: {err}");
}

/// Refused as not found: the actor may not read the application, so a write tells no
/// more of it than a read (issue 31 item 11).
async fn unseen(w: &World, actor: &Actor, cmd: &Command) {
    let err = w.engine.execute(actor, cmd, None).await.unwrap_err();
    assert_eq!(err.code(), "not_found", "{actor:?}: {err}");
}

async fn an_intake_is_undone(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let citizen = Actor::citizen(w.applicant);
    let other_counter = Actor::staff("op75", Role::CounterOperator, uid("C75-1"));
    let supervisor = Actor::staff("sup71", Role::Supervisor, uid("C71-1"));
    // The counter that accepted it annuls it while it holds it (was 403).
    let a = accept(&w, Urgency::General).await;
    assert_eq!(a.holder_unit, uid("C71-1"));
    for who in [&citizen, &supervisor] {
        forbidden(&w, who, &annul(&a)).await;
    }
    for who in [&other_counter, &w.other_district] {
        unseen(&w, who, &annul(&a)).await;
    }
    // The region and the centre decide on what they hold, not on a counter's intake.
    forbidden(&w, &w.region, &annul(&a)).await;
    forbidden(&w, &w.centre, &annul(&a)).await;
    // A refusal still needs its reason.
    let bare = Command::Annul {
        application: a.id.clone(),
        revision: a.revision,
        reason: " ".into(),
    };
    let err = e.execute(&w.counter, &bare, None).await.unwrap_err();
    assert_eq!(err.code(), "invalid");
    assert!(e.may_end(&w.counter, &a, BranchKind::Annulment).await);
    assert!(!e.may_end(&citizen, &a, BranchKind::Annulment).await);
    let done = app_of(&e.execute(&w.counter, &annul(&a), None).await.unwrap());
    assert_eq!(done.status, Status::Annulled);
    // Audited, under the counter operator's name.
    let log = e.audit_log(None, 1000).await.unwrap();
    assert!(log.iter().any(|r| r.action == "annul" && r.actor == "op71"));
    assert!(log
        .iter()
        .any(|r| r.action == "denied:annul" && r.actor == "op75"));
    // The district above the counter annuls it too (was 403).
    let b = accept(&w, Urgency::General).await;
    assert!(e.may_end(&w.district, &b, BranchKind::Annulment).await);
    let done = app_of(&e.execute(&w.district, &annul(&b), None).await.unwrap());
    assert_eq!(done.status, Status::Annulled);
    // Once passed on, it is no longer an intake: the counter cannot annul it, nor the
    // district that now holds it (annulment there is the region's or the centre's).
    let c = accept(&w, Urgency::General).await;
    let c = complete(&w, &w.counter, &c).await;
    assert_eq!(c.holder_unit, uid("D71-1"));
    forbidden(&w, &w.counter, &annul(&c)).await;
    forbidden(&w, &w.district, &annul(&c)).await;
    // The counter cannot refuse at its own step 2 (no refusal branch there).
    let d = accept(&w, Urgency::General).await;
    forbidden(&w, &w.counter, &refuse(&d)).await;
    forbidden(&w, &citizen, &refuse(&d)).await;
}

on_both!(
    a_mistaken_intake_is_annulled_by_its_counter_or_district,
    an_intake_is_undone
);

/// Issue 28 item 2's S9, waiting at the system's step 5 at the counter: the counter and its
/// district could not end it (403); now either annuls it, another district still cannot.
async fn s9_at_the_system_step(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let a = s9_to_step5(&w, foreigner("AB7654321"), serde_json::json!({})).await;
    assert_eq!(a.holder_unit, uid("C71-1"));
    unseen(&w, &w.other_district, &annul(&a)).await;
    forbidden(&w, &w.counter, &refuse(&a)).await;
    assert!(e.may_end(&w.district, &a, BranchKind::Annulment).await);
    let done = app_of(&e.execute(&w.counter, &annul(&a), None).await.unwrap());
    assert_eq!(done.status, Status::Annulled);
    let b = s9_to_step5(&w, foreigner("AB7654322"), serde_json::json!({})).await;
    let done = app_of(&e.execute(&w.district, &annul(&b), None).await.unwrap());
    assert_eq!(done.status, Status::Annulled);
}

on_both!(
    an_s9_at_the_system_step_is_annulled_by_its_counter_or_district,
    s9_at_the_system_step
);

async fn the_holder_refuses_at_a_refusal_branch(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let citizen = Actor::citizen(w.applicant);
    // S5 at the counter waits at the counter's step 1, which has a refusal branch (the
    // address data do not match: seed 000, S5 para 6). (Before S1 through the portal
    // joined the counter process's chain, its stuck step 3 served here.)
    let a = run(
        &w,
        &w.counter,
        accept_cmd("S5", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!(a.holder_unit, uid("C71-1"));
    assert!(a.status.is_open(), "{a:?}");
    let other_counter = Actor::staff("op75", Role::CounterOperator, uid("C75-1"));
    forbidden(&w, &citizen, &refuse(&a)).await;
    for who in [&other_counter, &w.other_district] {
        unseen(&w, who, &refuse(&a)).await;
    }
    let bare = Command::Refuse {
        application: a.id.clone(),
        revision: a.revision,
        reason: "нет".into(),
    };
    assert_eq!(
        e.execute(&w.counter, &bare, None).await.unwrap_err().code(),
        "invalid"
    );
    // The counter that holds it refuses (was 403).
    assert!(e.may_end(&w.counter, &a, BranchKind::Refusal).await);
    let done = app_of(&e.execute(&w.counter, &refuse(&a), None).await.unwrap());
    assert_eq!(done.status, Status::Refused);
    let log = e.audit_log(None, 1000).await.unwrap();
    assert!(log
        .iter()
        .any(|r| r.action == "refuse" && r.actor == "op71"));
}

on_both!(
    the_unit_holding_a_step_with_a_refusal_branch_refuses,
    the_holder_refuses_at_a_refusal_branch
);
