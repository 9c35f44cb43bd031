//! Registration at a residence (S3) and deregistration (S4), 2014 and 2018.

use drn_core::{Channel, Iin};
use drn_engine::*;
use jiff::SignedDuration;

use crate::support::*;

pub fn owner() -> Iin {
    Iin::parse("760212350620").unwrap()
}

pub async fn s3_counter(w: &World, who: Iin, rka: &str) -> Application {
    // The ОМС officer takes it in at a State Corporation counter (issue 28 item 9).
    let a = run(
        w,
        &w.district,
        accept_cmd(
            "S3",
            Channel::Counter,
            who,
            at_c71(serde_json::json!({ "kind": "permanent", "rka": rka, "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" })),
        ),
    )
    .await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "D71-1")
    );
    let Outcome::Application { application: done } =
        issue_to(w, &w.district, &a, who).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    done
}

async fn residence(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    // Search by text and by code.
    let found = e
        .search_addresses(&w.counter, "Абая, д. 2, кв. 1", 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, "premise");
    assert_eq!(
        e.address(&w.counter, &found[0].rka).await.unwrap(),
        found[0]
    );
    assert!(!e
        .search_addresses(&w.counter, &rka[0][..12], 50)
        .await
        .unwrap()
        .is_empty());
    let words = e
        .search_addresses(&w.counter, "кенесары кв.", 50)
        .await
        .unwrap();
    assert_eq!(words.len(), 6);
    assert!(words.iter().all(|a| a.full.contains("Кенесары")));
    assert!(e.search_addresses(&w.production, "абая", 5).await.is_err());
    // The owner's consent is the 2014 text's (para 5), not order 55's: 2018 does not ask
    // for it (issue 30 item 9; the 2014 rule is in seed_rules.rs).
    // Temporary needs its end.
    let bad = run_err(&w, &w.district, accept_cmd("S3", Channel::Counter, w.applicant, at_c71(serde_json::json!({ "kind": "temporary", "rka": rka[0], "owner_iin": w.applicant.to_string() })))).await;
    assert_eq!(bad.code(), "invalid");
    // Its end is after today and at most a year on (issue 29: "until 2099" was taken; an
    // ASSUMPTION, the seeds set no term), said in the three languages.
    let today = e.now().to_zoned(e.tz.clone()).date();
    let temporary = |until: jiff::civil::Date| {
        accept_cmd(
            "S3",
            Channel::Counter,
            w.applicant,
            at_c71(
                serde_json::json!({ "kind": "temporary", "rka": rka[0], "owner_iin": w.applicant.to_string(), "until": until.to_string() }),
            ),
        )
    };
    for (until, ru) in [
        (jiff::civil::date(2099, 12, 31), "не более чем на год"),
        (
            today.checked_add(jiff::Span::new().days(367)).unwrap(),
            "не более чем на год",
        ),
        (today, "позже сегодняшнего"),
        (today.yesterday().unwrap(), "позже сегодняшнего"),
    ] {
        let bad = run_err(&w, &w.district, temporary(until)).await;
        assert!(
            matches!(&bad, EngineError::Invalid { field, .. } if field == "data.until"),
            "{until}: {bad:?}"
        );
        assert!(
            bad.message(drn_core::Lang::Ru).contains(ru),
            "{until}: {}",
            bad.message(drn_core::Lang::Ru)
        );
        assert!(!bad.message(drn_core::Lang::Kk).is_empty());
    }
    // Registration, then at a new address: the first ends by itself.
    s3_counter(&w, w.applicant, &rka[0]).await;
    w.clock.advance(SignedDuration::from_hours(1));
    let second = s3_counter(&w, w.applicant, &rka[3]).await;
    let regs = e.registrations(&w.counter, &w.applicant).await.unwrap();
    // The registration the test world's record starts with, ended by the first (issue 28
    // item 3), the first, ended by the second, and the second.
    assert_eq!(regs.len(), 3);
    assert_eq!(regs[0].rka.as_deref(), Some(rka[3].as_str()));
    assert!(regs[0].ended_at.is_none());
    let first = regs
        .iter()
        .find(|r| r.rka.as_deref() == Some(rka[0].as_str()))
        .unwrap();
    assert!(first.ended_at.is_some());
    assert!(first.ended_by.as_deref().unwrap().contains(&second.number));
    assert!(regs
        .iter()
        .all(|r| r.ended_at.is_some() || r.rka.as_deref() == Some(rka[3].as_str())));
    let p = e.person(&w.counter, &w.applicant, "test").await.unwrap();
    assert_eq!(p.data["registration"]["rka"], rka[3].as_str());
    // 2018: the status "not established at a place of residence".
    let who = Iin::parse("800416300257").unwrap();
    let a = run(
        &w,
        &w.district,
        accept_cmd(
            "S3",
            Channel::Counter,
            who,
            at_c71(serde_json::json!({ "kind": "not_established" })),
        ),
    )
    .await;
    issue_to(&w, &w.district, &a, who).await.unwrap();
    assert_eq!(
        e.registrations(&w.counter, &who).await.unwrap()[0].kind,
        "not_established"
    );
    // Refusal by the district, with a motivated reason.
    let a = run(&w, &w.district, accept_cmd("S3", Channel::Counter, who, at_c71(serde_json::json!({ "kind": "permanent", "rka": rka[1], "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" })))).await;
    let r = refuse(&w, &w.district, &a, "the owner's consent was withdrawn").await;
    assert_eq!(r.status, Status::Refused);
    // The portal (2018: the chip rule is the 2014 text's, issue 30 item 9); the result is a
    // notice and a chip task.
    let citizen = Actor::citizen(who);
    let portal = |rka: &str| {
        accept_cmd(
            "S3",
            Channel::Portal,
            who,
            serde_json::json!({ "unit": "C71-1", "kind": "permanent", "rka": rka }),
        )
    };
    let mut person = e.person(&w.counter, &who, "test").await.unwrap();
    person.data["documents"] =
        serde_json::json!([{ "kind": "id_card", "number": "040000001", "expires": "2025-01-01" }]);
    e.put_persons(&Actor::system(), &[person]).await.unwrap();
    let a = run(&w, &citizen, portal(&rka[2])).await;
    assert_eq!(a.status, Status::Issued, "{a:?}");
    let tl = e.timeline(&citizen, &a.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
    assert!(issued.data["result"]["notice"]["ru"]
        .as_str()
        .unwrap()
        .contains("ЦОН"));
    let regs = e.registrations(&citizen, &who).await.unwrap();
    assert_eq!(
        (regs[0].kind.as_str(), regs[0].ended_at),
        ("permanent", None)
    );
    assert!(regs[1].ended_at.is_some(), "the status ended too");
    let tasks = e.counter_tasks(&w.counter, &who).await.unwrap();
    assert_eq!((tasks.len(), tasks[0].kind.as_str()), (1, "chip_rewrite"));
    assert!(e
        .complete_counter_task(&w.district, &tasks[0].id)
        .await
        .is_err());
    e.complete_counter_task(&w.counter, &tasks[0].id)
        .await
        .unwrap();
    assert!(e
        .complete_counter_task(&w.counter, &tasks[0].id)
        .await
        .is_err());
    assert!(e.counter_tasks(&w.counter, &who).await.unwrap()[0]
        .done_at
        .is_some());
    let j = e
        .journal(&w.counter, "chip_rewrite", Some(&uid("C71-1")), 10)
        .await
        .unwrap();
    assert_eq!(j.len(), 1);
    assert_eq!(e.verify_audit().await.unwrap().broken_at, None);
}

async fn residence_2014_and_deregistration(url: &str) {
    // 2014: no "not established" status; deregistration also on a prison sentence.
    let w = world(url, "2014-06-02T10:00").await;
    let rka = addresses(&w).await;
    let bad = run_err(
        &w,
        &w.counter,
        accept_cmd(
            "S3",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "kind": "not_established" }),
        ),
    )
    .await;
    assert_eq!(bad.code(), "invalid");
    let a = run(&w, &w.counter, accept_cmd("S3", Channel::Counter, w.applicant, serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": w.applicant.to_string() }))).await;
    assert_eq!((a.version.as_str(), a.step), ("2014", 2));
    // The step limit comes from the 2014 table: 20 minutes.
    assert_eq!(
        a.step_due_at.unwrap().duration_since(a.step_entered_at),
        SignedDuration::from_mins(20)
    );
    issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "prison" }),
        ),
    )
    .await;
    assert_eq!(
        (d.version.as_str(), d.step, d.holder_unit.as_str()),
        ("2014", 2, "D71-1")
    );
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &d, w.applicant).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let regs = w
        .engine
        .registrations(&w.counter, &w.applicant)
        .await
        .unwrap();
    assert!(regs.iter().all(|r| r.ended_at.is_some()));
    let sheets = w
        .engine
        .journal(&w.district, "departure_sheets", Some(&uid("D71-1")), 10)
        .await
        .unwrap();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].data["ground"], "prison");
    assert!(sheets[0].data["from"].as_str().unwrap().contains("Абая"));
    // Not registered any more: no second deregistration.
    let bad = run_err(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "abroad" }),
        ),
    )
    .await;
    assert_eq!(bad.code(), "invalid");
}

async fn deregistration_2018(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    s3_counter(&w, w.applicant, &rka[0]).await;
    // 2018: the prison ground is gone; a court decision needs its number.
    for (data, code) in [
        (serde_json::json!({ "ground": "prison" }), "invalid"),
        (serde_json::json!({ "ground": "court" }), "invalid"),
        (serde_json::json!({}), "invalid"),
    ] {
        assert_eq!(
            run_err(
                &w,
                &w.counter,
                accept_cmd("S4", Channel::Counter, w.applicant, data)
            )
            .await
            .code(),
            code
        );
    }
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "court", "court_decision": "No 2-1234 of 01.03.2019" }),
        ),
    )
    .await;
    // One step, the district's: it waits there with its due time.
    assert_eq!(
        (d.version.as_str(), d.step, d.holder_unit.as_str()),
        ("2018", 1, "D71-1")
    );
    assert!(d.step_due_at.is_some());
    assert!(issue_to(&w, &w.counter, &d, w.applicant).await.is_err());
    issue_to(&w, &w.district, &d, w.applicant).await.unwrap();
    let sheets = w
        .engine
        .journal(&w.centre, "departure_sheets", None, 10)
        .await
        .unwrap();
    assert_eq!(sheets[0].data["ground"], "court");
    assert!(w
        .engine
        .registrations(&w.counter, &w.applicant)
        .await
        .unwrap()[0]
        .ended_at
        .is_some());
    // Refusal.
    let other = Iin::parse("800416300257").unwrap();
    s3_counter(&w, other, &rka[1]).await;
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            other,
            serde_json::json!({ "ground": "abroad" }),
        ),
    )
    .await;
    assert_eq!(
        refuse(&w, &w.district, &d, "no proof of departure abroad")
            .await
            .status,
        Status::Refused
    );
    assert!(w.engine.registrations(&w.counter, &other).await.unwrap()[0]
        .ended_at
        .is_none());
}

on_both!(s3_registration_counter_portal_history_status, residence);
on_both!(
    s3_2014_and_s4_deregistration_with_prison_ground,
    residence_2014_and_deregistration
);
on_both!(
    s4_deregistration_2018_grounds_and_refusal,
    deregistration_2018
);

/// Issue 28 item 3: a permanent registration over one the person's record holds (the
/// demo loads registrations there, not into the register) ends it: counted in
/// `ended_previous`, and kept in the register as ended by the application. Seed 002 (S3
/// 2014, para 4, and the digest): "Registering at a new place deregisters the previous
/// one automatically."
async fn s3_ends_the_recorded_registration(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    let mut person = e.person(&w.counter, &w.applicant, "test").await.unwrap();
    person.data["registration"] = serde_json::json!({ "region": "71", "district": "D71-1", "address": "г. Астана, ул. Кенесары 5, кв. 7", "since": "2010-05-04" });
    e.put_persons(&Actor::system(), &[person]).await.unwrap();
    let done = s3_counter(&w, w.applicant, &rka[0]).await;
    let tl = e.timeline(&w.counter, &done.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
    assert_eq!(
        issued.data["result"]["ended_previous"], 1,
        "{:?}",
        issued.data
    );
    let regs = e.registrations(&w.counter, &w.applicant).await.unwrap();
    assert_eq!(regs.len(), 2, "{regs:?}");
    assert_eq!(regs[0].rka.as_deref(), Some(rka[0].as_str()));
    assert!(regs[0].ended_at.is_none());
    assert_eq!(
        regs[1].address.as_deref(),
        Some("г. Астана, ул. Кенесары 5, кв. 7")
    );
    assert!(regs[1].ended_at.is_some());
    assert_eq!(
        regs[1].ended_by.as_deref(),
        Some(format!("application:{}", done.number).as_str())
    );
    // A second registration ends the first of the register, not the record's again.
    w.clock.advance(SignedDuration::from_hours(1));
    let again = s3_counter(&w, w.applicant, &rka[3]).await;
    let tl = e.timeline(&w.counter, &again.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
    assert_eq!(issued.data["result"]["ended_previous"], 1);
    assert_eq!(
        e.registrations(&w.counter, &w.applicant)
            .await
            .unwrap()
            .len(),
        3
    );
}

on_both!(
    s3_ends_a_registration_the_record_holds,
    s3_ends_the_recorded_registration
);
