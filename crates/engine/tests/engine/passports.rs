//! The ID card and passport (S1) through every step, on the 2018 and the 2014 regulations.

use drn_core::{Channel, Urgency};
use drn_engine::*;
use jiff::SignedDuration;

use crate::registries::hand_over;
use crate::support::*;

async fn walk_2018(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let a = accept(&w, Urgency::General).await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "C71-1")
    );
    // A step done one by one is in the work list, from just after it was entered.
    let counter = w.counter.unit.clone().unwrap();
    let listed =
        |work: Vec<drn_engine::queries::QueueItem>| work.iter().any(|q| q.application.id == a.id);
    let at = a.step_entered_at;
    let e = &w.engine;
    assert!(!listed(
        e.worklist_before(&w.counter, &counter, at, 100)
            .await
            .unwrap()
    ));
    let after = at + SignedDuration::from_micros(1);
    assert!(listed(
        e.worklist_before(&w.counter, &counter, after, 100)
            .await
            .unwrap()
    ));
    // Several units' lists read in one snapshot are each what the unit reads alone.
    let district = w.district.unit.clone().unwrap();
    let ids = |work: &[drn_engine::queries::QueueItem]| {
        work.iter()
            .map(|q| q.application.id.clone())
            .collect::<Vec<_>>()
    };
    let together = e
        .worklists_before(
            &[
                (w.counter.clone(), counter.clone()),
                (w.district.clone(), district.clone()),
            ],
            after,
            100,
        )
        .await
        .unwrap();
    assert_eq!(together.len(), 2);
    assert!(listed(together[0].clone()));
    let alone = e
        .worklist_before(&w.district, &district, after, 100)
        .await
        .unwrap();
    assert_eq!(ids(&together[1]), ids(&alone));
    // A unit the actor may not see is refused, whatever the others.
    let refused = e
        .worklists_before(
            &[
                (w.counter.clone(), counter.clone()),
                (w.counter.clone(), district.clone()),
            ],
            after,
            100,
        )
        .await;
    assert!(
        matches!(refused, Err(EngineError::Forbidden { .. })),
        "{refused:?}"
    );
    w.clock.advance(SignedDuration::from_mins(20));
    let a = complete(&w, &w.counter, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (3, "D71-1"));
    // Step 3 entered Wed 20.03.2019: 2 working days skip Nauryz (21-22, 25 March).
    assert_eq!(
        drn_core::kz_time(&a.step_due_at.unwrap().to_zoned(w.engine.tz.clone())),
        "2019-03-27T18:00:00+06:00"
    );
    let a = hand_over(&w, &w.district, &w.region, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (4, "R71"));
    let a = hand_over(&w, &w.region, &w.centre, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (5, "KZ"));
    let a = hand_over(&w, &w.centre, &w.production, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (6, "IPC"));
    let a = hand_over(&w, &w.production, &w.centre, &a).await;
    assert_eq!(a.step, 7);
    let a = hand_over(&w, &w.centre, &w.region, &a).await;
    assert_eq!(a.step, 8);
    let a = hand_over(&w, &w.region, &w.district, &a).await;
    assert_eq!(a.step, 9);
    let a = hand_over(&w, &w.district, &w.counter, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (10, "C71-1"));
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    let done = app_of(&w.engine.execute(&w.counter, &issue, None).await.unwrap());
    assert_eq!(done.status, Status::Issued);
    let tl = w.engine.timeline(&w.counter, &a.id).await.unwrap();
    let entered: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == EventKind::StepEntered)
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(entered, (2..=10).collect::<Vec<_>>());
    let completed: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == EventKind::StepCompleted)
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(completed, (1..=10).collect::<Vec<_>>());
    // Every step runs against its limit from its entry, except the hand-over (row 10,
    // «Выдача услугополучателю изготовленных документов»): its ten minutes start when the
    // applicant comes, here with the issue (issue 30 item 12).
    assert!(tl
        .iter()
        .filter(|e| e.kind == EventKind::StepEntered && e.step != Some(10))
        .all(|e| e.due_at.is_some()));
    assert!(tl
        .iter()
        .filter(|e| e.kind == EventKind::StepEntered && e.step == Some(10))
        .all(|e| e.due_at.is_none()));
    let v = w.engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(v.records > 30);
}

async fn walk_2014(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let a = accept(&w, Urgency::Two).await;
    assert_eq!((a.version.as_str(), a.step), ("2014", 2));
    let a = complete(&w, &w.counter, &a).await;
    assert_eq!(a.step, 3);
    let a = hand_over(&w, &w.district, &w.region, &a).await; // 3 -> 4
    let a = hand_over(&w, &w.region, &w.centre, &a).await; // 4 -> 5 (incoming book)
    assert_eq!(a.step, 5);
    let a = complete(&w, &w.centre, &a).await; // 5 -> 6
    let a = complete(&w, &w.centre, &a).await; // 6 -> 7
    assert_eq!(a.step, 7);
    let a = hand_over(&w, &w.centre, &w.production, &a).await; // 7 -> 8
    let a = hand_over(&w, &w.production, &w.centre, &a).await; // 8 -> 9
    let a = complete(&w, &w.centre, &a).await; // 9 -> 10
    let a = hand_over(&w, &w.centre, &w.region, &a).await; // 10 -> 11
    let a = complete(&w, &w.region, &a).await; // 11 -> 12
    let a = hand_over(&w, &w.region, &w.district, &a).await; // 12 -> 13
    let a = hand_over(&w, &w.district, &w.counter, &a).await; // 13 -> 14
    assert_eq!((a.step, a.holder_unit.as_str()), (14, "C71-1"));
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    assert_eq!(
        app_of(&w.engine.execute(&w.counter, &issue, None).await.unwrap()).status,
        Status::Issued
    );
    let tl = w.engine.timeline(&w.centre, &a.id).await.unwrap();
    let completed: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == EventKind::StepCompleted)
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(completed, (1..=14).collect::<Vec<_>>());
}

on_both!(passport_2018_through_ten_actions_and_five_users, walk_2018);
on_both!(passport_2014_through_fourteen_actions, walk_2014);

/// Issue 28 item 1: S1 through the portal (2018 and 2014). The applicant's own steps
/// (annex 3 table 1 rows 1, 3, 5) are done by the submission, and the request joins the
/// counter process's chain at the district's registry (the catalog's `joins`, an
/// assumption); the document is issued at the unit the applicant chose. Before, it waited
/// at step 3 where nobody could act.
async fn portal(url: &str, start: &str, last: u32) {
    let w = world(url, start).await;
    let citizen = Actor::citizen(w.applicant);
    let a = run(
        &w,
        &citizen,
        accept_cmd(
            "S1",
            Channel::Portal,
            w.applicant,
            // Seed 002 para 6: the 2014 portal replaces a document whose type changed.
            serde_json::json!({ "unit": "C71-1", "reason": "document_type_change" }),
        ),
    )
    .await;
    assert_eq!(
        (a.process.as_str(), a.step, a.holder_unit.as_str()),
        ("main", 3, "D71-1"),
        "{a:?}"
    );
    let tl = w.engine.timeline(&citizen, &a.id).await.unwrap();
    let completed: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == EventKind::StepCompleted)
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(
        completed,
        vec![1, 3, 5],
        "the applicant's steps, by the submission"
    );
    // The rest is the counter process's chain, to the counter the applicant chose.
    let ver = w
        .engine
        .catalog
        .service("S1")
        .and_then(|s| s.version(&a.version))
        .unwrap();
    let mut a = a;
    while a.holder_unit.as_str() != "C71-1" {
        let p = ver.process(&a.process).unwrap();
        let holder = actor_at(&w, p.step(a.step).unwrap().unit);
        a = match p.handover_after(a.step) {
            Some(next) => hand_over(&w, holder, actor_at(&w, next.unit), &a).await,
            None => complete(&w, holder, &a).await,
        };
    }
    assert_eq!((a.process.as_str(), a.step), ("main", last));
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    let done = app_of(&w.engine.execute(&w.counter, &issue, None).await.unwrap());
    assert_eq!(done.status, Status::Issued);
}

async fn portal_2018(url: &str) {
    portal(url, "2019-03-20T10:00", 10).await;
}

async fn portal_2014(url: &str) {
    portal(url, "2014-06-02T10:00", 14).await;
}

on_both!(passport_2018_through_the_portal_to_issue, portal_2018);
on_both!(passport_2014_through_the_portal_to_issue, portal_2014);

/// The test world's officer of a unit role.
fn actor_at(w: &World, role: drn_core::catalog::UnitRole) -> &Actor {
    use drn_core::catalog::UnitRole;
    match role {
        UnitRole::District => &w.district,
        UnitRole::Region => &w.region,
        UnitRole::Centre => &w.centre,
        UnitRole::Production => &w.production,
        _ => &w.counter,
    }
}

/// Issue 28 item 8: seed 002 gives S1 and S2 «Қазақстан Республикасы азаматының тұрақты
/// тіркеу орны бойынша» (para 6 of each regulation) and S4 «тұрғылықты жері бойынша»; the
/// 2014 versions refuse a unit of another district with the reason. Order 55 (2018) does
/// not restate the place, so the 2018 versions accept anywhere.
async fn place_of_registration(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let elsewhere = Actor::staff("op75", Role::CounterOperator, uid("C75-1"));
    for (service, data) in [
        ("S1", serde_json::json!({})),
        ("S2", serde_json::json!({ "reason": "утеря" })),
        ("S4", serde_json::json!({ "ground": "abroad" })),
    ] {
        let e = run_err(
            &w,
            &elsewhere,
            accept_cmd(service, Channel::Counter, w.applicant, data.clone()),
        )
        .await;
        let text = e.to_string();
        assert!(
            e.code() == "invalid" && text.contains("registered in") && text.contains("D71-1"),
            "{service}: {text}"
        );
        // At the place of registration it is accepted.
        let a = run(
            &w,
            &w.counter,
            accept_cmd(service, Channel::Counter, w.applicant, data),
        )
        .await;
        assert_eq!(a.service, service);
    }
    // 2018: no place in the act's text.
    w.clock.set("2019-04-02T10:00:00+06:00".parse().unwrap());
    let a = run(
        &w,
        &elsewhere,
        accept_cmd("S1", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!((a.service.as_str(), a.version.as_str()), ("S1", "2018"));
}

on_both!(
    s1_s2_s4_of_2014_are_given_at_the_place_of_registration,
    place_of_registration
);

/// From intake at the counter to the issued result, 2018 (the hand-overs of `walk_2018`).
async fn issue_2018(w: &World, a: Application) -> Application {
    let a = complete(w, &w.counter, &a).await;
    let a = hand_over(w, &w.district, &w.region, &a).await;
    let a = hand_over(w, &w.region, &w.centre, &a).await;
    let a = hand_over(w, &w.centre, &w.production, &a).await;
    let a = hand_over(w, &w.production, &w.centre, &a).await;
    let a = hand_over(w, &w.centre, &w.region, &a).await;
    let a = hand_over(w, &w.region, &w.district, &a).await;
    let a = hand_over(w, &w.district, &w.counter, &a).await;
    app_of(&issue_to(w, &w.counter, &a, w.applicant).await.unwrap())
}

/// Issue 28 item 3: "A result goes into the person's record (new document …), and the
/// previous one is ended with a reference to the application." The new ID card, under the
/// number the engine gave on issue, valid 10 years (facts.md: "ID cards are issued from
/// age 16, valid 10 years; passports 10 years"); the old card ended by the application. A
/// passport named at intake is recorded as a passport and leaves the ID card in force.
async fn issue_updates_the_record(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let mut person = e.person(&w.counter, &w.applicant, "test").await.unwrap();
    person.data["documents"] = serde_json::json!([{ "kind": "id_card", "number": "041000001", "issued": "2009-04-01", "expires": "2019-04-01", "issuer": "МВД РК" }]);
    e.put_persons(&Actor::system(), &[person]).await.unwrap();
    let done = issue_2018(&w, accept(&w, Urgency::General).await).await;
    let tl = e.timeline(&w.counter, &done.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
    let number = issued.data["document"].as_str().unwrap().to_string();
    let docs = e
        .person(&w.counter, &w.applicant, "test")
        .await
        .unwrap()
        .data["documents"]
        .clone();
    assert_eq!(docs.as_array().unwrap().len(), 2, "{docs}");
    assert_eq!(docs[0]["number"], "041000001");
    assert_eq!(docs[0]["ended"], docs[1]["issued"], "{docs}");
    assert_eq!(docs[0]["replaced_by"], done.number.as_str());
    assert_eq!(
        (docs[1]["kind"].as_str(), docs[1]["number"].as_str()),
        (Some("id_card"), Some(number.as_str()))
    );
    let day = |k: &str| {
        docs[1][k]
            .as_str()
            .unwrap()
            .parse::<jiff::civil::Date>()
            .unwrap()
    };
    let today = e.now().to_zoned(e.tz.clone()).date();
    assert_eq!(day("issued"), today);
    assert_eq!(
        day("expires"),
        today.checked_add(jiff::Span::new().years(10)).unwrap()
    );
    assert!(docs[1].get("ended").is_none());
    assert_eq!(issued.data["result"]["replaced"][0], "041000001");
    // A passport: recorded as one; the ID card stays in force.
    let p = run(
        &w,
        &w.counter,
        accept_cmd(
            "S1",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "document": "passport" }),
        ),
    )
    .await;
    issue_2018(&w, p).await;
    let docs = e
        .person(&w.counter, &w.applicant, "test")
        .await
        .unwrap()
        .data["documents"]
        .clone();
    assert_eq!(docs[2]["kind"], "passport", "{docs}");
    assert!(docs[1].get("ended").is_none(), "{docs}");
    let bad = run_err(
        &w,
        &w.counter,
        accept_cmd(
            "S1",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "document": "visa" }),
        ),
    )
    .await;
    assert_eq!(bad.code(), "invalid");
}

on_both!(
    passport_issue_puts_the_document_in_the_persons_record,
    issue_updates_the_record
);

/// Issue 28 item 1: S1 2018 through the migration service's own system (annex 3 table 2,
/// "через УМС ДВД (ИС РП ДРН)"): the regional officer's electronic request (rows 1, 3, 5)
/// joins the counter process's chain at the region's summary registry (row 4); the
/// document comes back to the district that took the request in, whose officer issues it.
/// Before, it stopped at step 7, done by no one.
async fn unit_electronic(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let a = run(
        &w,
        &w.district,
        accept_cmd("S1", Channel::Unit, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!(
        (a.process.as_str(), a.step, a.holder_unit.as_str()),
        ("unit-electronic", 3, "R71"),
        "{a:?}"
    );
    let mut a = complete(&w, &w.region, &a).await;
    // Step 5 joins the counter process: no result is given there (before, the card
    // offered "issue" and the engine took it).
    assert!(!w
        .engine
        .catalog
        .service("S1")
        .and_then(|s| s.version(&a.version))
        .and_then(|v| v.process(&a.process))
        .unwrap()
        .gives_result_at(a.step));
    assert!(issue_to(&w, &w.region, &a, w.applicant).await.is_err());
    a = complete(&w, &w.region, &a).await;
    assert_eq!(
        (a.process.as_str(), a.step, a.holder_unit.as_str()),
        ("main", 4, "R71")
    );
    let ver = w
        .engine
        .catalog
        .service("S1")
        .and_then(|s| s.version(&a.version))
        .unwrap();
    while a.step != 10 {
        let p = ver.process(&a.process).unwrap();
        let holder = actor_at(&w, p.step(a.step).unwrap().unit);
        a = match p.handover_after(a.step) {
            Some(next) => {
                let to = if next.unit == drn_core::catalog::UnitRole::Counter {
                    &w.district
                } else {
                    actor_at(&w, next.unit)
                };
                hand_over(&w, holder, to, &a).await
            }
            None => complete(&w, holder, &a).await,
        };
    }
    assert_eq!(a.holder_unit.as_str(), "D71-1");
    let done = app_of(&issue_to(&w, &w.district, &a, w.applicant).await.unwrap());
    assert_eq!(done.status, Status::Issued);
}

on_both!(
    passport_2018_through_the_units_own_system_to_issue,
    unit_electronic
);
