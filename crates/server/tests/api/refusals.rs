//! Refusals after intake (issue 28 item 5): a motivated refusal and S9's error message each
//! make a signed document with the reason as written, verifiable at /verify/{id}, and the
//! application's card and timeline show the reason.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::results::{accept_at, doc_of, has_all, step};
use crate::support::*;

/// A reason with what PDF and HTML markup would take for theirs.
const REASON: &str = "адресные данные не совпадают (п. 10) <b>\\ «Стандарт» & x";

/// The verification of a document over the public API.
async fn verified(app: &App, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/v1/verify/{id}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// S5 refused at the counter's step (its motivated refusal, seed 002), and S9 ended by the
/// operator's error message (seed 004 para 9.5): each a signed, verifiable document with
/// the applicant, the service, the number, the unit and the reason; the card and its
/// timeline show the reason; a reason over the bound is refused with 422.
async fn refusal_documents(url: &str) {
    let app = spawn_app_at(url, "2019-04-02T10:00:00+06:00").await;
    let iin = app.report.citizens[2].0.to_string();
    let counter = app.login("op.astana.1").await;

    // S5: the counter refuses at its step, whose catalog gives a motivated refusal.
    let a = accept_at(&counter, "S5", "counter", &iin, json!({})).await;
    let long = "x".repeat(1001);
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{}/refuse", a["id"].as_str().unwrap()),
            json!({ "revision": a["revision"], "reason": long }),
        )
        .await;
    assert_eq!(
        (s, &v["error"]["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("reason")),
        "a reason over 1000 characters: {v}"
    );
    let r = step(&counter, &a, "refuse", json!({ "reason": REASON })).await;
    assert_eq!(r["status"], "refused", "{r}");
    let id = r["id"].as_str().unwrap();
    let number = r["number"].as_str().unwrap();
    let (doc, _, t) = doc_of(&app, &counter, id, "motivated_refusal").await;
    has_all(
        "motivated refusal",
        &t,
        &[
            "Мемлекеттік қызметті көрсетуден дәлелді бас тарту",
            "Мотивированный отказ в оказании государственной услуги",
            &iin,
            "S5",
            number,
            &format!("MR-{number}"),
            "Подразделение, принявшее решение",
            "02.04.2019",
            REASON,
        ],
    );
    let v = verified(&app, doc["id"].as_str().unwrap()).await;
    assert_eq!(
        (&v["valid"], &v["genuine"], &v["kind"]),
        (&json!(true), &json!(true), &json!("motivated_refusal")),
        "{v}"
    );
    let html = page(&counter, &format!("/ws/applications/{id}")).await;
    let escaped = "адресные данные не совпадают (п. 10) &#60;b&#62;\\ «Стандарт» &#38; x";
    assert!(
        html.contains(&format!("<dd id=\"closing-reason\">{escaped}</dd>")),
        "the card shows the reason: {html}"
    );
    assert!(
        ["Бас тарту себебі", "Причина отказа", "Reason for refusal"]
            .iter()
            .any(|l| html.contains(l)),
        "{html}"
    );
    assert!(
        ["Бас тартылды", "Отказано", "Refused"]
            .iter()
            .any(|l| html.contains(&format!("{l}: {escaped}"))),
        "the timeline shows the reason next to the refusal: {html}"
    );
    assert!(
        html.contains(doc["id"].as_str().unwrap()),
        "the card links the refusal's document"
    );

    // S9: the questionnaire does not match the application: the operator's error message.
    let (s, v) = counter
        .post(
            "/api/v1/foreigners/applications",
            json!({ "service": "S9", "channel": "counter", "urgency": "general",
                "foreigner": { "surname": "Smith", "given_name": "John", "birth_date": "1988-12-12", "sex": "M", "citizenship": "GB", "passport": "GB7654321" },
                "data": { "questionnaire": { "surname": "Smyth" } } }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    let a = step(&counter, &a, "complete", json!({})).await;
    let a = step(
        &counter,
        &a,
        "complete",
        json!({ "note": "consent form No 18" }),
    )
    .await;
    let a = step(&counter, &a, "complete", json!({})).await;
    let o = app
        .state
        .execute(
            &drn_engine::Actor::system(),
            &drn_engine::Command::CompleteStep {
                application: drn_engine::ApplicationId::parse(a["id"].as_str().unwrap()).unwrap(),
                revision: a["revision"].as_i64().unwrap(),
                note: None,
            },
            None,
        )
        .await
        .unwrap();
    let a = serde_json::to_value(&o).unwrap()["application"].clone();
    assert_eq!(a["status"], "refused", "{a}");
    let id = a["id"].as_str().unwrap();
    let number = a["number"].as_str().unwrap();
    let (doc, _, t) = doc_of(&app, &counter, id, "error_message").await;
    has_all(
        "error message",
        &t,
        &[
            "Қате туралы хабарлама",
            "Сообщение об ошибке",
            "SMITH JOHN",
            "GB7654321",
            "S9",
            &format!("EM-{number}"),
            "заявка не соответствует идентификационным данным заявителя",
            "өтінім өтініш иесінің айқындамалық деректеріне сәйкес келмейді",
        ],
    );
    let v = verified(&app, doc["id"].as_str().unwrap()).await;
    assert_eq!(
        (&v["valid"], &v["genuine"]),
        (&json!(true), &json!(true)),
        "{v}"
    );
    let html = page(&counter, &format!("/ws/applications/{id}")).await;
    assert!(
        [
            "өтінім өтініш иесінің айқындамалық деректеріне сәйкес келмейді",
            "заявка не соответствует идентификационным данным заявителя",
            "the application does not match the applicant&#39;s identity data",
        ]
        .iter()
        .any(|r| html.contains(&format!("<dd id=\"closing-reason\">{r}</dd>"))),
        "the card shows the error message: {html}"
    );
}

on_both!(
    refusal_after_intake_makes_a_verifiable_document_with_the_reason_shown_on_the_card,
    refusal_documents
);
