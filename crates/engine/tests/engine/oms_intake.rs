//! Issue 28 item 9: the 2018 intake of S2 and S3 is the ОМС officer's, at a State
//! Corporation workstation: «Прием документов … осуществляется на рабочих местах в
//! Государственной корпорации, на которых указывается фамилия, имя, отчество … и должность
//! сотрудника ОМС» (seed 000, para 7 of the S2 regulation as restated by order 55; para 6 of
//! both gives the intake to the ОМС). The catalog gives step 1 to the district. Before, a
//! district officer got 403 "cannot accept through Counter" and the counter operator was
//! recorded for step 1.

use drn_core::{Channel, Lang};
use drn_engine::*;

use crate::residence::owner;
use crate::support::*;
use crate::temporary_id::handed_over_at_the_counter;

/// S2's and S3's intake data, at the counter `unit`.
fn intakes(rka: &str, unit: &str) -> [(&'static str, serde_json::Value); 2] {
    [
        (
            "S2",
            serde_json::json!({ "unit": unit, "reason": "ID card lost" }),
        ),
        (
            "S3",
            serde_json::json!({ "unit": unit, "kind": "permanent", "rka": rka, "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" }),
        ),
    ]
}

/// How `by`'s intakes of S2 and S3 at the counter `unit` are refused.
async fn refusals(w: &World, by: &Actor, unit: &str) -> Vec<(&'static str, EngineError)> {
    let rka = addresses(w).await;
    let mut out = Vec::new();
    for (service, data) in intakes(&rka[0], unit) {
        let cmd = accept_cmd(service, Channel::Counter, w.applicant, data);
        out.push((service, run_err(w, by, cmd).await));
    }
    out
}

async fn district_officer_accepts_at_a_counter(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    for (service, data) in intakes(&rka[0], "C71-1") {
        let a = run(
            &w,
            &w.district,
            accept_cmd(service, Channel::Counter, w.applicant, data),
        )
        .await;
        // The counter where the officer sits is the accepting unit; step 2 is the district's.
        assert_eq!(
            (
                a.version.as_str(),
                a.accepted_unit.as_str(),
                a.step,
                a.holder_unit.as_str()
            ),
            ("2018", "C71-1", 2, "D71-1"),
            "{service}"
        );
        let tl = w.engine.timeline(&w.district, &a.id).await.unwrap();
        let step1: Vec<(&EventKind, &str, Option<&str>)> = tl
            .iter()
            .filter(|e| e.step == Some(1))
            .map(|e| {
                (
                    &e.kind,
                    e.actor.as_str(),
                    e.unit.as_ref().map(|u| u.as_str()),
                )
            })
            .collect();
        assert_eq!(
            step1,
            [
                (&EventKind::Accepted, "dist71", Some("C71-1")),
                (&EventKind::StepCompleted, "dist71", Some("C71-1")),
            ],
            "{service}: the district officer is recorded for step 1"
        );
        // Closed so the next service's intake is not a second open application.
        refuse(&w, &w.district, &a, "closed by the test").await;
    }
}

on_both!(
    s2_and_s3_of_2018_are_taken_in_by_the_district_officer_at_a_counter,
    district_officer_accepts_at_a_counter
);

async fn counter_operator_is_refused(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    for (service, e) in refusals(&w, &w.counter, "C71-1").await {
        assert_eq!(e.code(), "forbidden", "{service}: {e}");
        // The reason names who takes it in and the act, as a lawyer cites it, in the
        // user's language (no file name of the legal text).
        let ru = e.message(Lang::Ru);
        assert!(
            ru.contains("Приказ № 55 от 26.01.2018") && !ru.contains(".txt"),
            "{e}"
        );
        assert!(
            e.message(Lang::Ru).contains("Приём документов по услуге"),
            "{e}"
        );
        assert!(e.message(Lang::Kk).contains("қабылдайтын"), "{e}");
        assert!(e.message(Lang::En).contains("The intake of"), "{e}");
    }
    // S2's names the ОМС officer at the State Corporation's workstation.
    let e = run_err(
        &w,
        &w.counter,
        accept_cmd("S2", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert!(
        e.message(Lang::Ru)
            .contains("Сотрудник ОМС (на рабочем месте в Государственной корпорации)"),
        "{e}"
    );
}

on_both!(
    s2_and_s3_of_2018_refuse_the_counter_operator_citing_the_seed,
    counter_operator_is_refused
);

async fn counter_of_another_district_is_refused(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    for (service, e) in refusals(&w, &w.district, "C75-1").await {
        assert_eq!(
            (e.code(), e.field()),
            ("invalid", Some("data.unit")),
            "{service}: {e}"
        );
        assert!(e.to_string().contains("not your unit D71-1"), "{e}");
    }
    // Not a counter, and no counter named.
    for (unit, why) in [("D71-1", "not a State Corporation counter"), ("", "choose")] {
        let e = run_err(
            &w,
            &w.district,
            accept_cmd(
                "S2",
                Channel::Counter,
                w.applicant,
                serde_json::json!({ "unit": unit }),
            ),
        )
        .await;
        assert_eq!(e.field(), Some("data.unit"), "{e}");
        assert!(e.to_string().contains(why), "{e}");
    }
}

on_both!(
    s2_and_s3_of_2018_refuse_a_counter_of_another_district,
    counter_of_another_district_is_refused
);

async fn s2_issue_is_the_counters(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let a = run(
        &w,
        &w.district,
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "unit": "C71-1", "reason": "ID card lost" }),
        ),
    )
    .await;
    // Step 3, the State Corporation worker's issue, at the counter where it was taken in.
    handed_over_at_the_counter(&w, &a).await;
}

on_both!(
    s2_of_2018_taken_in_by_the_district_is_issued_at_the_counter,
    s2_issue_is_the_counters
);

/// Issue 28: a channel with two processes. The 2018 S3 regulation describes the counter's
/// work as the basic process (annex 1) and as the electronic service through the State
/// Corporation (annex 3 table 2: the ОМС officer's rows 1, 3, 5, the system's 2, 4, 6).
/// Before, the intake always took the first and the second could never be reached. The
/// intake names it; the system's steps run by themselves, the last gives the result.
async fn electronic_service_through_the_state_corporation(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    let [_, (_, data)] = intakes(&rka[0], "C71-1");
    let mut cmd = accept_cmd("S3", Channel::Counter, w.applicant, data.clone());
    if let Command::Accept(a) = &mut cmd {
        a.process = Some("counter-electronic".into());
    }
    let mut a = run(&w, &w.district, cmd).await;
    assert_eq!((a.process.as_str(), a.step), ("counter-electronic", 3));
    // Row 5 is the officer's last: the success path has no row after it (the seed's
    // column 6), so the officer gives the result there.
    a = complete(&w, &w.district, &a).await;
    assert_eq!(a.step, 5, "{a:?}");
    let done = app_of(&issue_to(&w, &w.district, &a, w.applicant).await.unwrap());
    assert_eq!(done.status, Status::Issued, "{done:?}");
    // A process the channel does not have is refused, naming the field.
    let mut cmd = accept_cmd("S3", Channel::Counter, w.applicant, data);
    if let Command::Accept(a) = &mut cmd {
        a.process = Some("portal".into());
    }
    let e = run_err(&w, &w.district, cmd).await;
    assert!(
        matches!(&e, EngineError::Invalid { field, .. } if field == "process"),
        "{e:?}"
    );
}

on_both!(
    s3_2018_through_the_electronic_service_at_the_state_corporation,
    electronic_service_through_the_state_corporation
);
