//! Issue 28 item 11: a second open application of the same service for the same applicant
//! is refused where the service allows one (naming the open one), and accepted where a
//! second one makes sense (S1, S5, S6 to S8).

use drn_core::{Channel, Iin, Lang, Urgency};
use drn_engine::commands::Accept;
use drn_engine::*;

use crate::support::*;

async fn second_open(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    // S2 of 2018 is taken in by the ОМС officer at a counter (issue 28 item 9).
    let s2 = || {
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            at_c71(serde_json::json!({ "reason": "ID card lost" })),
        )
    };
    let a = app_of(&e.execute(&w.district, &s2(), Some("form-1")).await.unwrap());
    // The same form sent again with its key answers the first intake, not a refusal.
    let again = app_of(&e.execute(&w.district, &s2(), Some("form-1")).await.unwrap());
    assert_eq!(again.id, a.id);
    let err = e.execute(&w.district, &s2(), None).await.unwrap_err();
    assert_eq!(err.code(), "already_open");
    for lang in [Lang::Kk, Lang::Ru, Lang::En] {
        assert!(
            err.message(lang).contains(&a.number),
            "{}",
            err.message(lang)
        );
    }
    assert!(err.message(Lang::Ru).contains("незавершённое"));
    assert!(err.message(Lang::Kk).contains("аяқталмаған"));
    // Not from another counter either (the ОМС officer of its district).
    let mut at_c75 = s2();
    if let Command::Accept(a) = &mut at_c75 {
        a.data["unit"] = serde_json::json!("C75-1");
    }
    assert_eq!(
        e.execute(&w.other_district, &at_c75, None)
            .await
            .unwrap_err()
            .code(),
        "already_open"
    );
    // An intake refusal opens nothing, so it is still given.
    let incomplete = Command::Accept(Accept {
        process: None,
        service: "S2".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: w.applicant,
        documents_presented: vec![],
        missing: vec!["Заявление".into()],
        data: at_c71(serde_json::json!({})),
    });
    let r = app_of(&e.execute(&w.district, &incomplete, None).await.unwrap());
    assert_eq!(r.status, Status::IntakeRefused);
    // Another person, another service: accepted.
    let other_person = Iin::parse("760212350620").unwrap();
    run(
        &w,
        &w.district,
        accept_cmd(
            "S2",
            Channel::Counter,
            other_person,
            at_c71(serde_json::json!({})),
        ),
    )
    .await;
    // Where a second one makes sense, it is accepted: S5 certificates, S1.
    for service in ["S5", "S1"] {
        for _ in 0..2 {
            let b = run(
                &w,
                &w.counter,
                accept_cmd(
                    service,
                    Channel::Counter,
                    w.applicant,
                    serde_json::json!({}),
                ),
            )
            .await;
            assert!(b.status.is_open(), "{service}: {b:?}");
        }
    }
    // Once the first is ended, a new one is accepted.
    let ended = refuse(&w, &w.district, &a, "the identity could not be established").await;
    assert_eq!(ended.status, Status::Refused);
    let again = run(&w, &w.district, s2()).await;
    assert!(again.status.is_open());
}

on_both!(
    a_second_open_application_of_a_service_is_refused_where_it_makes_no_sense,
    second_open
);
