//! Foreigners: special records (S6 to S8) and the IIN for foreigners (S9).

use drn_core::{Channel, Iin, Sex, Urgency};
use drn_engine::services::{AcceptForeigner, Foreigner};
use drn_engine::*;
use jiff::SignedDuration;

use crate::support::*;

pub(crate) fn foreigner(passport: &str) -> Foreigner {
    Foreigner {
        surname: "Ivanov".into(),
        given_name: "Petr".into(),
        birth_date: jiff::civil::date(1990, 5, 17),
        sex: Sex::Male,
        citizenship: "RU".into(),
        passport: passport.into(),
    }
}

async fn foreigners_services(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let e = &w.engine;
    for (service, journal, extra) in [
        (
            "S6",
            "border_passes",
            serde_json::json!({ "zone": "Кордай, участок 3" }),
        ),
        (
            "S7",
            "invitations",
            serde_json::json!({ "purpose": "family reunification" }),
        ),
        (
            "S8",
            "foreigner_registration",
            serde_json::json!({ "until": "2014-08-01" }),
        ),
    ] {
        let mut data = extra.clone();
        data["foreigner"] = serde_json::to_value(foreigner("75 1234567")).unwrap();
        // Bad passport data first.
        assert_eq!(
            run_err(
                &w,
                &w.district,
                accept_cmd(service, Channel::Unit, w.applicant, data.clone())
            )
            .await
            .code(),
            "invalid"
        );
        data["foreigner"] = serde_json::to_value(foreigner(&format!("{service}0001"))).unwrap();
        // Only a district officer accepts at the unit.
        assert_eq!(
            run_err(
                &w,
                &w.counter,
                accept_cmd(service, Channel::Unit, w.applicant, data.clone())
            )
            .await
            .code(),
            "forbidden"
        );
        let a = run(
            &w,
            &w.district,
            accept_cmd(service, Channel::Unit, w.applicant, data.clone()),
        )
        .await;
        assert_eq!(
            (a.version.as_str(), a.step, a.holder_unit.as_str()),
            ("2014", 2, "D71-1")
        );
        // Limits in working days, capped by the whole-process limit.
        assert!(a.step_due_at.unwrap() <= a.due_at.unwrap());
        let a = complete(&w, &w.district, &a).await;
        assert_eq!(a.step, 3);
        assert_eq!(
            issue_to(&w, &w.district, &a, w.applicant)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let a = check(&w, &w.district, &a).await;
        issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
        let j = e
            .journal(&w.district, journal, Some(&uid("D71-1")), 10)
            .await
            .unwrap();
        assert_eq!(j.len(), 1, "{service}");
        // The special records hold the next one: the check records it, a motivated refusal.
        data["foreigner"] = serde_json::to_value(foreigner(&format!("{service}0002"))).unwrap();
        e.add_special_record(
            &Actor::system(),
            &format!("{service}0002"),
            "entry banned until 2016",
        )
        .await
        .unwrap();
        let b = run(
            &w,
            &w.district,
            accept_cmd(service, Channel::Unit, w.applicant, data),
        )
        .await;
        let b = complete(&w, &w.district, &b).await;
        let b = check(&w, &w.district, &b).await;
        assert_eq!(
            issue_to(&w, &w.district, &b, w.applicant)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let b = refuse(
            &w,
            &w.district,
            &b,
            "special records: entry banned until 2016",
        )
        .await;
        assert_eq!(b.status, Status::Refused);
        let tl = e.timeline(&w.district, &b.id).await.unwrap();
        let checked = tl.iter().find(|x| x.kind == EventKind::Checked).unwrap();
        assert_eq!(checked.data["passed"], false);
        assert_eq!(checked.data["detail"]["reason"], "entry banned until 2016");
    }
    // S8 through the portal: the e-signed insert to the passport. The last day of the stay
    // is required there and is a day after the day of application (2014-06-02).
    let citizen = Actor::citizen(w.applicant);
    let portal = |until: Option<&str>| {
        let mut d = serde_json::json!({ "unit": "C71-1", "foreigner": foreigner("P0000777") });
        if let Some(u) = until {
            d["until"] = serde_json::json!(u);
        }
        accept_cmd("S8", Channel::Portal, w.applicant, d)
    };
    for until in [
        None,
        Some("2014-06-02"),
        Some("2014-05-30"),
        Some("02.13.2014"),
    ] {
        let err = run_err(&w, &citizen, portal(until)).await;
        assert_eq!(
            (err.code(), err.field()),
            ("invalid", Some("data.until")),
            "{until:?}: {err}"
        );
    }
    // At the unit it may be left out, but not be a day already past.
    let err = run_err(
        &w,
        &w.district,
        accept_cmd(
            "S8",
            Channel::Unit,
            w.applicant,
            serde_json::json!({ "foreigner": foreigner("P0000778"), "until": "2014-06-01" }),
        ),
    )
    .await;
    assert_eq!(err.field(), Some("data.until"), "{err}");
    let a = run(&w, &citizen, portal(Some("2014-06-03"))).await;
    assert_eq!(a.data["input"]["until"], "2014-06-03");
    assert_eq!(
        (a.process.as_str(), a.step, a.holder_unit.as_str()),
        ("portal", 2, "D71-1")
    );
    issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
    let tl = e.timeline(&citizen, &a.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
    assert_eq!(issued.data["result"]["insert"]["electronic"], true);
    // The two at the unit were entered at step 2 (the refused one too), and the portal's.
    assert_eq!(
        e.journal(&w.centre, "foreigner_registration", None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

pub(crate) async fn s9_to_step5(w: &World, f: Foreigner, data: serde_json::Value) -> Application {
    let a = run(
        w,
        &w.counter,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Counter,
            urgency: Urgency::General,
            foreigner: f,
            documents_presented: vec![],
            missing: vec![],
            data,
        }),
    )
    .await;
    assert_eq!(a.step, 2);
    let a = complete(w, &w.counter, &a).await;
    assert_eq!(a.step, 3);
    // Step 3: the written consent must be recorded.
    assert_eq!(
        complete_note(w, &w.counter, &a, "")
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    let Outcome::Application { application: a } =
        complete_note(w, &w.counter, &a, "consent form No 17")
            .await
            .unwrap()
    else {
        panic!()
    };
    let a = complete(w, &w.counter, &a).await;
    assert_eq!(a.step, 5);
    a
}

async fn iin_for_foreigners(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let sys = Actor::system();
    let a = s9_to_step5(&w, foreigner("AB1234567"), serde_json::json!({})).await;
    assert!(a.applicant.starts_with("F:RUS:"));
    // The operator's processing within 4 hours.
    // (4 working hours of the unit: the lunch break does not count)
    let took = a.step_due_at.unwrap().duration_since(a.step_entered_at);
    assert!(
        took >= SignedDuration::from_hours(4) && took <= SignedDuration::from_hours(5),
        "{took:?}"
    );
    // Only the system (the MVD operator) processes it.
    assert!(w
        .engine
        .execute(
            &w.counter,
            &Command::CompleteStep {
                application: a.id.clone(),
                revision: a.revision,
                note: None
            },
            None
        )
        .await
        .is_err());
    let a = e.application(&sys, &a.id, "test").await.unwrap();
    let a = complete(&w, &sys, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (6, "D71-1"));
    let iin = Iin::parse(&a.applicant).unwrap();
    assert_eq!(iin.encoded_birth(), Some(jiff::civil::date(1990, 5, 17)));
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &a, iin).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let p = e.person(&w.counter, &iin, "test").await.unwrap();
    assert_eq!(
        (p.surname.as_str(), p.citizenship.as_str()),
        ("Ivanov", "RUS")
    );
    assert_eq!(
        e.journal(&w.centre, "iin_formed", None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // The same person again: an error message, the application ends.
    let b = s9_to_step5(&w, foreigner("AB1234567"), serde_json::json!({})).await;
    let b = complete(&w, &sys, &b).await;
    assert_eq!(b.status, Status::Refused);
    let tl = e.timeline(&w.counter, &b.id).await.unwrap();
    assert_eq!(tl.last().unwrap().kind, EventKind::ErrorMessage);
    assert_eq!(tl.last().unwrap().data["ground"], "has_iin");
    // Data that do not match the questionnaire: an error message.
    let mut f = foreigner("CD7654321");
    f.given_name = "Pavel".into();
    let c = s9_to_step5(
        &w,
        f,
        serde_json::json!({ "questionnaire": { "surname": "Ivanov", "given_name": "Pyotr" } }),
    )
    .await;
    let c = complete(&w, &sys, &c).await;
    assert_eq!(c.status, Status::Refused);
    let tl = e.timeline(&w.counter, &c.id).await.unwrap();
    assert_eq!(tl.last().unwrap().data["ground"], "mismatch");
    // Incomplete documents: the counter refuses (step 1's refusal branch is the counter's).
    let d = run(
        &w,
        &w.counter,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Counter,
            urgency: Urgency::General,
            foreigner: foreigner("EF0000001"),
            documents_presented: vec![],
            missing: vec!["migration card".into()],
            data: serde_json::json!({}),
        }),
    )
    .await;
    assert_eq!(d.status, Status::IntakeRefused);
    // At the unit: the district accepts.
    let u = run(
        &w,
        &w.district,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Unit,
            urgency: Urgency::General,
            foreigner: Foreigner {
                surname: "Sidorov".into(),
                ..foreigner("GH0000002")
            },
            documents_presented: vec![],
            missing: vec![],
            data: serde_json::json!({}),
        }),
    )
    .await;
    assert_eq!((u.process.as_str(), u.step), ("unit", 2));
    // Para 6 is the provider's own sequence: the district that holds the application passes
    // the request to the MVD system itself (the step did not stop at a counter that does not
    // hold it), the operator forms the IIN and the district issues the certificate.
    assert_eq!(u.holder_unit.as_str(), "D71-1");
    let u = complete(&w, &w.district, &u).await;
    assert_eq!((u.step, u.holder_unit.as_str()), (3, "D71-1"));
    let u = complete(&w, &sys, &u).await;
    assert_eq!((u.step, u.holder_unit.as_str()), (4, "D71-1"));
    let iin = Iin::parse(&u.applicant).unwrap();
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &u, iin).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
}

/// Many tasks form IINs for one birth date and sex at once: never one IIN twice.
async fn iin_forming_concurrency(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let sys = Actor::system();
    let n = 24;
    let mut apps = Vec::new();
    for i in 0..n {
        let mut f = foreigner(&format!("ZZ{i:07}"));
        // A name is letters (issue 29): Persona, Personb, …
        f.surname = format!("Person{}", char::from(b'a' + i as u8));
        apps.push(s9_to_step5(&w, f, serde_json::json!({})).await);
    }
    let mut tasks = Vec::new();
    for a in apps {
        let e = w.engine.clone();
        let sys = sys.clone();
        tasks.push(tokio::spawn(async move {
            let cmd = Command::CompleteStep {
                application: a.id.clone(),
                revision: a.revision,
                note: None,
            };
            app_of(&e.execute(&sys, &cmd, None).await.unwrap())
        }));
    }
    let mut iins = std::collections::BTreeSet::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.step, 6);
        assert!(
            iins.insert(a.applicant.clone()),
            "IIN {} formed twice",
            a.applicant
        );
    }
    assert_eq!(iins.len(), n);
    let rows = drn_store::query("SELECT COUNT(*) FROM persons WHERE citizenship = 'RUS'")
        .fetch_one(w.db.reader())
        .await
        .unwrap();
    assert_eq!(rows.try_get::<i64, _>(0).unwrap(), n as i64);
}

on_both!(
    s6_s7_s8_special_records_journals_and_portal_insert,
    foreigners_services
);
on_both!(
    s9_iin_for_foreigners_consent_forming_errors,
    iin_for_foreigners
);
on_both!(
    s9_concurrent_forming_gives_unique_iins,
    iin_forming_concurrency
);

/// Issue 28 item 2: S9 for a person who already has an IIN was accepted, and its
/// operator's step answered 500 and could never end. It is refused at intake, saying why,
/// and nothing is written.
async fn s9_for_a_person_with_an_iin(url: &str) {
    let w = world(url, "2019-11-20T10:00").await;
    let before = w.engine.audit_log(None, 1000).await.unwrap().len();
    let e = run_err(
        &w,
        &w.counter,
        accept_cmd("S9", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!(e.code(), "invalid");
    let text = e.to_string();
    assert!(
        text.contains("applicant") && text.contains("already has an IIN"),
        "{text}"
    );
    let q = w
        .engine
        .queue(&w.counter, w.counter.unit.as_ref().unwrap(), 100)
        .await
        .unwrap();
    assert!(q.iter().all(|i| i.application.service != "S9"), "{q:?}");
    // Only the refused attempt's audit record, no application.
    let after = w.engine.audit_log(None, 1000).await.unwrap();
    assert!(after.len() <= before + 1);
}

on_both!(
    s9_is_refused_for_a_person_with_an_iin,
    s9_for_a_person_with_an_iin
);
