//! The passport flow over HTTP with five roles and the citizen.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

use crate::support::*;

/// Incoming numbers: each is given once in a unit's book of the year (issue 28 item 6).
static INCOMING: AtomicUsize = AtomicUsize::new(17);

async fn hand_over(from: &Client, to: &Client, app: &Value) -> Value {
    let (id, signed) = form_and_sign(from, app).await;
    let incoming = format!("ВХ-{}", INCOMING.fetch_add(1, Ordering::Relaxed));
    let (s, v) = send_and_receive(from, to, &id, &signed, &incoming).await;
    assert_eq!(s, 200, "{v}");
    app_now(to, app).await
}

async fn passport_flow(url: &str) {
    let app = spawn_app(url).await;
    let [counter, district, region, centre, production] = app.s1_chain().await;
    let (iin, _, _) = &app.report.citizens[0];
    let (s, v) = counter.get(&format!("/api/v1/persons/{iin}")).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    assert_eq!(a["step"], 2);
    // Issue 28 item 2: the person page of someone found by IIN offers no IIN for
    // foreigners (S9); it offers the services for which they apply.
    let page = counter
        .http
        .get(format!("{}/ws/person?iin={iin}", counter.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"urg-S1\""), "the person page lists S1");
    assert!(!page.contains("id=\"urg-S9\""), "the person page offers S9");
    // Issue 28 item 12: an Idempotency-Key reused with another body is refused with 422
    // (before, the first answer came back with 200) and creates nothing.
    let (iin2, _, _) = &app.report.citizens[1];
    let keyed = |body: Value| {
        counter
            .http
            .post(format!("{}/api/v1/applications", counter.base))
            .header("x-csrf-token", &counter.csrf)
            .header("idempotency-key", "intake-key-1")
            .json(&body)
            .send()
    };
    let first = keyed(json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin2.to_string() })).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let again = keyed(json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin2.to_string() })).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let other = keyed(json!({ "service": "S1", "channel": "counter", "urgency": "1", "applicant": iin2.to_string() })).await.unwrap();
    assert_eq!(other.status(), 422);
    let other: Value = other.json().await.unwrap();
    assert_eq!(
        other["error"]["code"], "idempotency_key_mismatch",
        "{other}"
    );
    let a = complete_step(&counter, &a).await;
    assert_eq!(
        (a["step"].as_i64(), a["holder_unit"].as_str()),
        (Some(3), Some("D71-1"))
    );
    let a = hand_over(&district, &region, &a).await;
    let a = hand_over(&region, &centre, &a).await;
    // Issue 28 item 7: the centre's check against the wanted persons (seed 000 annex 1
    // table 1 row 5: «проверка услугополучателей по базе данных на лиц, находящихся в
    // розыске») answers 200 (before, 403) and is in the timeline.
    let (s, v) = centre
        .post(
            &format!("/api/v1/applications/{}/check", a["id"].as_str().unwrap()),
            json!({ "revision": a["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, tl) = centre
        .get(&format!(
            "/api/v1/applications/{}/timeline",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        tl.as_array().unwrap().iter().any(|e| e["kind"] == "checked"
            && e["data"]["check"] == "wanted_persons"
            && e["data"]["passed"] == true),
        "{tl}"
    );
    let a = hand_over(&centre, &production, &a).await;
    let a = hand_over(&production, &centre, &a).await;
    let a = hand_over(&centre, &region, &a).await;
    let a = hand_over(&region, &district, &a).await;
    let a = hand_over(&district, &counter, &a).await;
    assert_eq!(a["step"], 10);
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{}/issue", a["id"].as_str().unwrap()),
            json!({ "revision": a["revision"], "receiver": iin.to_string() }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_app(&v)["status"], "issued");
    let (s, tl) = centre
        .get(&format!(
            "/api/v1/applications/{}/timeline",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert!(tl.as_array().unwrap().len() > 20);
    // The citizen signs in with password and one-time code and sees it, and who read their data.
    let (ciin, cpw, _) = &app.report.citizens[0];
    let http = jar_client();
    let r: Value = http
        .post(format!("{}/api/v1/auth/citizen/login", app.base))
        .json(&json!({ "iin": ciin.to_string(), "password": cpw }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let challenge = r["challenge"].as_str().unwrap().to_string();
    let sms: Value = http
        .get(format!("{}/api/v1/sandbox/sms", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = sms[0]["text"].as_str().unwrap();
    let code = text.rsplit(' ').next().unwrap();
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .json(&json!({ "challenge": challenge, "code": "000000x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .json(&json!({ "challenge": challenge, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let citizen = Client {
        csrf: r.json::<Value>().await.unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .into(),
        http,
        base: app.base.clone(),
    };
    let (s, mine) = citizen.get("/api/v1/my/applications").await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["status"], "issued");
    let (s, reads) = citizen.get("/api/v1/my/reads").await;
    assert_eq!(s, 200);
    assert!(
        reads
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["actor"] == "op.astana.1"),
        "{reads}"
    );
    // The audit chain verifies.
    let auditor = app.login("auditor").await;
    let (s, v) = auditor.get("/api/v1/audit/verify").await;
    assert_eq!(s, 200);
    assert!(v["broken_at"].is_null(), "{v}");
}

on_both!(
    passport_flow_over_http_with_five_roles_and_the_citizen,
    passport_flow
);
