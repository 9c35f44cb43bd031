//! Each service's intake data is a typed struct: an unknown field or a value of the wrong
//! kind is refused, naming the field; what is accepted is stored as it was sent, completed
//! by the service's intake.

use drn_core::{Channel, Sex, Urgency};
use drn_engine::services::{AcceptForeigner, Foreigner};
use drn_engine::*;
use serde_json::json;

use crate::residence::owner;
use crate::support::*;

fn field(e: EngineError) -> String {
    match e {
        EngineError::Invalid { field, .. } => field,
        other => panic!("not refused as invalid: {other:?}"),
    }
}

async fn typed_intake(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    // S3 of 2018 is taken in by the ОМС officer at a counter (issue 28 item 9).
    let refused = |service: &'static str, data: serde_json::Value| {
        let (by, data) = if service == "S3" {
            (&w.district, at_c71(data))
        } else {
            (&w.counter, data)
        };
        let cmd = accept_cmd(service, Channel::Counter, w.applicant, data);
        async { field(run_err(&w, by, cmd).await) }
    };
    // An unknown field: S4's ground misspelt, one S1 does not take, one in S9's questionnaire.
    assert_eq!(
        refused("S4", json!({ "ground": "abroad", "grund": "abroad" })).await,
        "data.grund"
    );
    assert_eq!(refused("S1", json!({ "task": 1 })).await, "data.task");
    let cmd = Command::AcceptForeigner(AcceptForeigner {
        service: "S9".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        foreigner: Foreigner {
            surname: "Ivanov".into(),
            given_name: "Petr".into(),
            birth_date: jiff::civil::date(1990, 5, 17),
            sex: Sex::Male,
            citizenship: "RU".into(),
            passport: "P1234567".into(),
        },
        documents_presented: vec![],
        missing: vec![],
        data: json!({ "questionnaire": { "surname": "Ivanov", "patronymic": "Petrovich" } }),
    });
    assert_eq!(
        field(run_err(&w, &w.counter, cmd).await),
        "data.questionnaire.patronymic"
    );
    // A value of the wrong kind: a date not as YYYY-MM-DD, an IIN that is none, a ground
    // no rules know.
    let temporary = json!({ "kind": "temporary", "rka": rka[0], "until": "31.12.2030", "owner_iin": w.applicant.to_string() });
    assert_eq!(refused("S3", temporary).await, "data.until");
    assert_eq!(
        refused("S3", json!({ "rka": rka[0], "owner_iin": "123" })).await,
        "data.owner_iin"
    );
    assert_eq!(
        refused("S4", json!({ "ground": "moved" })).await,
        "data.ground"
    );
    // The address is the register's, never sent.
    assert_eq!(
        refused("S3", json!({ "rka": rka[0], "address": "elsewhere" })).await,
        "data.address"
    );
    // Accepted: stored as sent, with what the intake completes (S3's kind and address);
    // the generic `unit` is kept.
    let sent = json!({ "unit": "C71-1", "rka": rka[0], "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" });
    let a = run(
        &w,
        &w.district,
        accept_cmd("S3", Channel::Counter, w.applicant, sent.clone()),
    )
    .await;
    let address = w.engine.address(&w.counter, &rka[0]).await.unwrap().full;
    let mut stored = sent;
    stored["kind"] = json!("permanent");
    stored["address"] = json!(address);
    assert_eq!(a.data["input"], stored);
}

on_both!(intake_is_typed_and_stored_as_sent, typed_intake);
