//! The temporary ID (S2) with its journal.

use drn_core::Channel;
use drn_engine::*;

use crate::support::*;

async fn temporary_id(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    // The ОМС officer takes it in at a State Corporation counter (issue 28 item 9).
    let a = run(
        &w,
        &w.district,
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            at_c71(serde_json::json!({ "reason": "ID card lost" })),
        ),
    )
    .await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "D71-1")
    );
    let a = complete(&w, &w.district, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (3, "C71-1"));
    issue_to(&w, &w.counter, &a, w.applicant).await.unwrap();
    let j = e
        .journal(&w.district, "temporary_id", Some(&uid("D71-1")), 10)
        .await
        .unwrap();
    assert_eq!(
        (j.len(), j[0].subject.as_str()),
        (1, w.applicant.to_string().as_str())
    );
    assert!(e
        .journal(&w.district, "temporary_id", Some(&uid("D75-1")), 10)
        .await
        .is_err());
    let b = run(
        &w,
        &w.district,
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            at_c71(serde_json::json!({})),
        ),
    )
    .await;
    assert_eq!(
        refuse(&w, &w.district, &b, "the identity could not be established")
            .await
            .status,
        Status::Refused
    );
    assert_eq!(
        e.journal(&w.centre, "temporary_id", None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

on_both!(s2_temporary_id_with_journal, temporary_id);

/// Issue 28 item 10: under the 2014 regulation the Centre (Орталық, ЦОН) hands the card
/// over: table 2 box 4 «Қазақстан Республикасы азаматының уақытша жеке куәлігін беру» in
/// its column, para 10. Before, the district's step was the last and the district issued.
async fn issued_by_the_centre_2014(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "reason": "утеря" }),
        ),
    )
    .await;
    // Accepting is the counter's step 1, not the district's (2018 is, issue 28 item 9).
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2014", 2, "D71-1")
    );
    let by_district = accept_cmd(
        "S2",
        Channel::Counter,
        w.applicant,
        at_c71(serde_json::json!({})),
    );
    assert_eq!(
        run_err(&w, &w.district, by_district).await.code(),
        "forbidden"
    );
    handed_over_at_the_counter(&w, &a).await;
}

/// S2 after intake: the district formalises the card (step 2) and the counter C71-1 hands
/// it over (step 3); the district cannot.
pub async fn handed_over_at_the_counter(w: &World, a: &Application) {
    let a = complete(w, &w.district, a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (3, "C71-1"));
    assert!(issue_to(w, &w.district, &a, w.applicant).await.is_err());
    let done = app_of(&issue_to(w, &w.counter, &a, w.applicant).await.unwrap());
    assert_eq!(done.status, Status::Issued);
}

on_both!(
    s2_of_2014_is_issued_by_the_centre,
    issued_by_the_centre_2014
);

/// Issue 28 item 3: the temporary ID card goes into the person's documents (the result:
/// «Оформление временного удостоверения личности … и выдача документа»), under its
/// number, valid until the day the intake named; a second one ends the first.
async fn temporary_id_in_the_record(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let mut numbers = Vec::new();
    for until in ["2019-05-02", "2019-06-03"] {
        let a = run(
            &w,
            &w.district,
            accept_cmd(
                "S2",
                Channel::Counter,
                w.applicant,
                at_c71(serde_json::json!({ "reason": "ID card lost", "valid_until": until })),
            ),
        )
        .await;
        let a = complete(&w, &w.district, &a).await;
        issue_to(&w, &w.counter, &a, w.applicant).await.unwrap();
        let tl = e.timeline(&w.counter, &a.id).await.unwrap();
        let issued = tl.iter().find(|x| x.kind == EventKind::Issued).unwrap();
        numbers.push((a.number.clone(), issued.data["document"].clone()));
    }
    let docs = e
        .person(&w.counter, &w.applicant, "test")
        .await
        .unwrap()
        .data["documents"]
        .clone();
    assert_eq!(docs.as_array().unwrap().len(), 2, "{docs}");
    assert_eq!(
        (
            docs[0]["kind"].as_str(),
            &docs[0]["number"],
            docs[0]["valid_until"].as_str()
        ),
        (Some("temporary_id"), &numbers[0].1, Some("2019-05-02"))
    );
    assert_eq!(docs[0]["replaced_by"], numbers[1].0.as_str(), "{docs}");
    assert_eq!(
        (&docs[1]["number"], docs[1]["valid_until"].as_str()),
        (&numbers[1].1, Some("2019-06-03"))
    );
    assert!(docs[1].get("ended").is_none());
    assert!(docs[1]["journal_entry"].is_string(), "{docs}");
}

on_both!(
    s2_temporary_id_goes_into_the_persons_record,
    temporary_id_in_the_record
);
