//! Issue 28 item 7: the centre checks the S1 applicant against the database of wanted
//! persons, recorded in the timeline; a wanted applicant goes no further and is refused.

use drn_core::{Channel, Iin};
use drn_engine::*;
use jiff::SignedDuration;
use serde_json::json;

use crate::registries::hand_over;
use crate::support::*;

/// The wanted person of these tests (one of the test world's persons).
const WANTED: &str = "760212350620";

/// The test world with a special record on [`WANTED`], and S1 accepted at the counter for
/// the clean applicant and for the wanted one, both brought to the centre (step 5).
async fn two_applicants(url: &str, start: &str) -> (World, Application, Application) {
    let w = world(url, start).await;
    w.engine
        .add_special_record(&w.centre, WANTED, "в розыске (постановление о розыске)")
        .await
        .unwrap();
    let wanted = Iin::parse(WANTED).unwrap();
    let clean = run(
        &w,
        &w.counter,
        accept_cmd("S1", Channel::Counter, w.applicant, json!({})),
    )
    .await;
    let hit = run(
        &w,
        &w.counter,
        accept_cmd("S1", Channel::Counter, wanted, json!({})),
    )
    .await;
    let clean = complete(&w, &w.counter, &clean).await;
    complete(&w, &w.counter, &hit).await;
    // Both go in the same registries (the hand-overs carry the clean one).
    let clean = hand_over(&w, &w.district, &w.region, &clean).await; // 3 -> 4
    let clean = hand_over(&w, &w.region, &w.centre, &clean).await; // 4 -> 5
    let hit = now(&w, &hit).await;
    assert_eq!((clean.step, hit.step), (5, 5));
    (w, clean, hit)
}

/// The application as the centre reads it now.
async fn now(w: &World, a: &Application) -> Application {
    w.engine
        .application(&w.centre, &a.id, "test")
        .await
        .unwrap()
}

/// The `checked` events of the wanted-persons check at `step`: whether each passed.
async fn checks(w: &World, a: &Application, step: u32) -> Vec<bool> {
    w.engine
        .timeline(&w.centre, &a.id)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == EventKind::Checked && e.step == Some(step))
        .filter(|e| e.data["check"] == "wanted_persons")
        .map(|e| e.data["passed"].as_bool().unwrap())
        .collect()
}

/// Seed 002 annex 1 table 1 row 6 (2014), the centre (ДМП): «Проверка услугополучателя по
/// базе данных лиц, находящихся в розыске». Completing the step runs the check when none
/// was recorded: the clean applicant passes with one click and the check is in the
/// timeline; the wanted one is stopped at the step, the hit recorded by the check, and
/// refused with a motivated refusal.
async fn wanted_2014(url: &str) {
    let (w, clean, hit) = two_applicants(url, "2014-06-02T10:00").await;
    let clean = complete(&w, &w.centre, &clean).await;
    let hit = complete(&w, &w.centre, &hit).await;
    assert_eq!((clean.step, hit.step), (6, 6));
    let clean = complete(&w, &w.centre, &clean).await;
    assert_eq!(clean.step, 7);
    assert_eq!(checks(&w, &clean, 6).await, [true]);
    let e = run_err(
        &w,
        &w.centre,
        Command::CompleteStep {
            application: hit.id.clone(),
            revision: hit.revision,
            note: None,
        },
    )
    .await;
    assert!(
        matches!(e, EngineError::Forbidden { .. }) && e.to_string().contains("wanted-persons"),
        "{e}"
    );
    let hit = now(&w, &hit).await;
    assert_eq!((hit.step, hit.status), (6, Status::InProgress));
    // The centre's check button records the hit, with the record's reason.
    let hit = check(&w, &w.centre, &hit).await;
    assert_eq!(checks(&w, &hit, 6).await, [false]);
    let hit = refuse(&w, &w.centre, &hit, "Заявитель находится в розыске").await;
    assert_eq!(hit.status, Status::Refused);
}

/// The centre forms the cover letter of S1 2018 (step 5): the registries, and the
/// applications left out.
async fn cover_letter(w: &World) -> (Vec<Registry>, Vec<ApplicationId>) {
    let form = Command::FormRegistry {
        service: "S1".into(),
        version: "2018".into(),
        process: "main".into(),
        step: 5,
    };
    match w.engine.execute(&w.centre, &form, None).await.unwrap() {
        Outcome::Registries {
            registries,
            left_out,
        } => (registries, left_out),
        other => panic!("{other:?}"),
    }
}

/// Seed 000 annex 1 table 1 row 5 (2018), the centre (КМС): «проверка услугополучателей по
/// базе данных на лиц, находящихся в розыске», and the cover letter to production. The
/// formation runs the check for each application waiting and leaves the hits out (the
/// answer names them); they stay at the step and are refused.
async fn wanted_2018(url: &str) {
    let (w, clean, hit) = two_applicants(url, "2019-03-20T10:00").await;
    let (registries, left_out) = cover_letter(&w).await;
    assert_eq!(registries.len(), 1);
    assert_eq!(registries[0].kind, "cover_letter");
    assert_eq!(registries[0].applications, std::slice::from_ref(&clean.id));
    assert_eq!(left_out, std::slice::from_ref(&hit.id));
    assert_eq!(checks(&w, &clean, 5).await, [true]);
    assert_eq!(checks(&w, &hit, 5).await, [false]);
    // The hit stays at the step; formed again, it is left out again (checked again).
    let hit = now(&w, &hit).await;
    assert_eq!(
        (hit.step, hit.status, hit.registry.clone()),
        (5, Status::InProgress, None)
    );
    w.clock.advance(SignedDuration::from_mins(5));
    let (registries, left_out) = cover_letter(&w).await;
    assert!(registries.is_empty());
    assert_eq!(left_out, std::slice::from_ref(&hit.id));
    // The centre's own check answers too, and the centre refuses.
    let hit = check(&w, &w.centre, &now(&w, &hit).await).await;
    assert_eq!(checks(&w, &hit, 5).await, [false, false, false]);
    let hit = refuse(&w, &w.centre, &hit, "Заявитель находится в розыске").await;
    assert_eq!(hit.status, Status::Refused);
}

on_both!(
    s1_2014_centre_checks_the_wanted_persons_on_completing,
    wanted_2014
);
on_both!(s1_2018_cover_letter_leaves_out_the_wanted, wanted_2018);
