//! Registries over HTTP (issue 28 item 6): each signed registry's document (and the cover
//! letter of S1 2018 step 5) is listed for whoever may see the registry and linked from
//! the registries page and the registry's page; an incoming number is given once per
//! receiving unit and year.

use serde_json::json;

use crate::support::*;

async fn registries_flow(url: &str) {
    let app = spawn_app(url).await;
    let [counter, district, region, centre, production] = app.s1_chain().await;
    let outsider = app.login("region.almaty").await;
    // Each application is taken in only when the one before has left the district (a
    // registry takes every application waiting at the step).
    let intake = |i: usize| {
        let (counter, citizens) = (&counter, &app.report.citizens);
        async move {
            let (iin, _, _) = &citizens[i];
            let (s, v) = counter
                .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
                .await;
            assert_eq!(s, 200, "{v}");
            complete_step(counter, outcome_app(&v)).await
        }
    };
    // The first application: district → region → centre, each registry received under
    // "ВХ-1" (another unit's book each time).
    let a = &intake(0).await;
    let (district_reg, signed) = form_and_sign(&district, a).await;
    // The signed district registry's document: listed for its units, not for others.
    let (s, docs) = district
        .get(&format!("/api/v1/registries/{district_reg}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    assert_eq!(docs.as_array().unwrap().len(), 1, "{docs}");
    assert_eq!(docs[0]["kind"], "district_registry");
    let pdf = docs[0]["pdf"].as_str().unwrap().to_string();
    let (s, bytes) = district.bytes(&pdf).await;
    assert_eq!(s, 200);
    assert!(bytes.starts_with(b"%PDF"));
    let (s, _) = outsider
        .get(&format!("/api/v1/registries/{district_reg}/documents"))
        .await;
    assert_eq!(s, 404, "another region sees no registry of Astana's");
    let citizen = citizen_client(&app, 0).await;
    let (s, _) = citizen
        .get(&format!("/api/v1/registries/{district_reg}/documents"))
        .await;
    assert!(s == 403 || s == 404, "{s}");
    // The registries page and the registry's page link the PDF.
    let html = page(&district, "/ws/registries").await;
    assert!(
        html.contains(&pdf),
        "the registries page links the registry's PDF"
    );
    assert!(html.contains(&format!("/ws/registries/{district_reg}")));
    let html = page(&district, &format!("/ws/registries/{district_reg}")).await;
    assert!(html.contains(&pdf), "the registry's page links its PDF");
    assert!(html.contains(a["number"].as_str().unwrap()));
    let (s, v) = send_and_receive(&district, &region, &district_reg, &signed, "ВХ-1").await;
    assert_eq!(s, 200, "{v}");
    let a = app_now(&region, a).await;
    let (summary, signed) = form_and_sign(&region, &a).await;
    let (s, v) = send_and_receive(&region, &centre, &summary, &signed, "ВХ-1").await;
    assert_eq!(s, 200, "{v}");
    // The centre's step 5: the cover letter to production is made when signed.
    let a = app_now(&centre, &a).await;
    assert_eq!(a["step"], 5);
    let (letter, _) = form_and_sign(&centre, &a).await;
    let (s, docs) = centre
        .get(&format!("/api/v1/registries/{letter}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    assert_eq!(docs[0]["kind"], "cover_letter", "{docs}");
    assert_eq!(docs[0]["title"]["ru"], "Сопроводительное письмо");
    let (s, _) = production.bytes(docs[0]["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200, "production reads the letter it receives");
    // The second application reaches the centre by another summary registry: "ВХ-1" is
    // taken in the centre's book this year, so its receipt is refused (422, in the
    // caller's language) and nothing changes.
    let b = &intake(1).await;
    let (r1, signed) = form_and_sign(&district, b).await;
    let (s, v) = send_and_receive(&district, &region, &r1, &signed, "ВХ-2").await;
    assert_eq!(s, 200, "{v}");
    let b = app_now(&region, b).await;
    let (r2, signed) = form_and_sign(&region, &b).await;
    let (s, v) = send_and_receive(&region, &centre, &r2, &signed, "ВХ-1").await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["error"]["code"], "invalid", "{v}");
    assert_eq!(v["error"]["field"], "incoming_number", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("уже присвоен")
            && message.contains(&summary_number(&centre, &summary).await),
        "{message}"
    );
    let (s, reg) = centre.get(&format!("/api/v1/registries/{r2}")).await;
    assert_eq!(s, 200);
    assert_eq!(reg["status"], "sent");
    assert!(reg["incoming_number"].is_null());
    let (s, v) = centre
        .post(
            &format!("/api/v1/registries/{r2}/receive"),
            json!({ "revision": reg["revision"], "incoming_number": "ВХ-3" }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}

/// A registry's number.
async fn summary_number(c: &Client, id: &str) -> String {
    let (s, r) = c.get(&format!("/api/v1/registries/{id}")).await;
    assert_eq!(s, 200);
    r["number"].as_str().unwrap().to_string()
}

on_both!(
    registries_documents_linked_cover_letter_and_incoming_number_once,
    registries_flow
);
