//! Issue 28 items 4 and 11 over HTTP: a mistaken intake is undone by its counter or its
//! district (and by no one else); the workstation's accept form is sent once (a one-time
//! key, Post/Redirect/Get); a second open application of a service is refused.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn undo_an_intake(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let district = app.login("district.astana").await;
    let other_counter = app.login("op.almaty.1").await;
    let region = app.login("region.astana").await;
    let citizen = citizen_client(&app, 0).await;
    let (iin, _, _) = &app.report.citizens[0];
    let accept = || async {
        let (s, v) = counter
            .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
            .await;
        assert_eq!(s, 200, "{v}");
        outcome_app(&v).clone()
    };
    let end = |a: &Value, what: &str| {
        (
            format!("/api/v1/applications/{}/{what}", a["id"].as_str().unwrap()),
            json!({ "revision": a["revision"], "reason": "Ошибка при приёме документов" }),
        )
    };
    let a = accept().await;
    let (annul, body) = end(&a, "annul");
    // Another counter, the region (which does not hold it), a citizen: forbidden.
    for c in [&other_counter, &region, &citizen] {
        let (s, v) = c.post(&annul, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    // The counter cannot refuse at its step 2 (no refusal branch there).
    let (refuse, rbody) = end(&a, "refuse");
    let (s, v) = counter.post(&refuse, rbody).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // The counter that took it annuls it (was 403).
    let (s, v) = counter.post(&annul, body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_app(&v)["status"], "annulled", "{v}");
    // The district above the counter annuls another (was 403).
    let b = accept().await;
    let (annul, body) = end(&b, "annul");
    let (s, v) = district.post(&annul, body).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_app(&v)["status"], "annulled", "{v}");
}

on_both!(
    a_mistaken_intake_is_annulled_over_http_by_its_counter_or_district,
    undo_an_intake
);

/// A browser that does not follow redirects, signed in as `user`; its CSRF token.
async fn browser(app: &App, user: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let c = app.login_on(http, user).await;
    (c.http, c.csrf)
}

/// The form fields of `service`'s accept form on the person page: its one-time key and
/// its checklist's documents.
fn accept_form(html: &str, service: &str) -> (String, Vec<String>) {
    let start = html
        .find(&format!("name=\"service\" value=\"{service}\""))
        .unwrap();
    let form = &html[start..start + html[start..].find("</form>").unwrap()];
    let value_after = |from: &str| {
        let v = &from[from.find("value=\"").unwrap() + 7..];
        v[..v.find('"').unwrap()].to_string()
    };
    let key = value_after(&form[form.find("name=\"idem\"").unwrap()..]);
    let docs = form
        .match_indices("name=\"doc\"")
        .map(|(i, _)| value_after(&form[i..]))
        .collect();
    (key, docs)
}

async fn accept_once(url: &str) {
    let app = spawn_app(url).await;
    let (http, csrf) = browser(&app, "op.astana.1").await;
    let post_with = |token: String, iin: String, key: String, docs: Vec<String>| {
        let mut form = vec![
            ("_csrf".to_string(), token),
            ("iin".to_string(), iin),
            ("service".into(), "S2".into()),
            ("urgency".into(), "general".into()),
            ("idem".into(), key),
            ("d.reason".into(), "удостоверение утеряно".into()),
        ];
        form.extend(docs.into_iter().map(|d| ("doc".to_string(), d)));
        http.post(format!("{}/ws/applications", app.base))
            .form(&form)
            .send()
    };
    let post = |iin, key, docs| post_with(csrf.clone(), iin, key, docs);
    let html = |path: String| {
        let http = http.clone();
        let base = app.base.clone();
        async move {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let page = |iin: String| html(format!("/ws/person?iin={iin}"));
    // The token travels in the form, not in the form's address.
    let first_page = page(app.report.citizens[0].0.to_string()).await;
    assert!(
        first_page.contains("action=\"/ws/applications\"")
            && !first_page.contains("action=\"/ws/applications?"),
        "the accept form's address carries the token"
    );
    // A form with a wrong token makes nothing: back to the sign-in.
    let (key, docs) = accept_form(&first_page, "S2");
    let forged = post_with(
        "0".repeat(64),
        app.report.citizens[0].0.to_string(),
        key,
        docs,
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    assert_eq!(forged.headers()["location"], "/login");
    // The first demo citizen without an open S2.
    let mut found = None;
    for (iin, _, _) in app.report.citizens.iter().take(6) {
        let (key, docs) = accept_form(&page(iin.to_string()).await, "S2");
        assert!(
            key.starts_with("ws-accept-") && key.ends_with("-S2"),
            "{key}"
        );
        let r = post(iin.to_string(), key.clone(), docs.clone())
            .await
            .unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            found = Some((iin.to_string(), key, docs, r));
            break;
        }
    }
    let (iin, key, docs, first) = found.expect("a citizen without an open S2");
    // Post/Redirect/Get: 303 to the application's page, no CSRF token in the address.
    let location = first.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/ws/applications/"), "{location}");
    assert!(!location.contains("_csrf"), "{location}");
    // The same form sent again (a reload of the POST) is the same application.
    let again = post(iin.clone(), key, docs).await.unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let shown = html(location.clone()).await;
    let id = location
        .trim_start_matches("/ws/applications/")
        .split('?')
        .next()
        .unwrap();
    let counter = app.login("op.astana.1").await;
    let (s, v) = counter.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, 200, "{v}");
    let number = v["number"].as_str().unwrap().to_string();
    // The page it lands on shows the talon.
    assert!(
        shown.contains(&format!("<dd><strong>{number}</strong></dd>")),
        "{shown}"
    );
    // A new form (a new key) for the same person and service: refused, naming the open one.
    let (key, docs) = accept_form(&page(iin.clone()).await, "S2");
    let r = post(iin.clone(), key, docs).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains(&number), "{body}");
    // And through the API, in the caller's language.
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S2", "channel": "counter", "urgency": "general", "applicant": iin }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "already_open", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains(&number),
        "{v}"
    );

    // The foreigner's intake form (S9) on the workstation's home page: the same.
    let home = html("/ws".into()).await;
    let form = &home[home.find("action=\"/ws/foreigners\"").unwrap()..];
    let key = &form[form.find("name=\"idem\" value=\"").unwrap() + 20..];
    let key = &key[..key.find('"').unwrap()];
    let foreigner = [
        ("_csrf", csrf.as_str()),
        ("idem", key),
        ("surname", "Petrov"),
        ("given_name", "Ivan"),
        ("birth_date", "1990-05-17"),
        ("sex", "M"),
        ("citizenship", "RU"),
        ("passport", "75ZZ99001"),
    ];
    let mut seen = Vec::new();
    for _ in 0..2 {
        let r = http
            .post(format!("{}/ws/foreigners", app.base))
            .form(&foreigner)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        seen.push(r.headers()["location"].to_str().unwrap().to_string());
    }
    assert!(
        seen[0].starts_with("/ws/applications/") && seen[0] == seen[1],
        "{seen:?}"
    );
}

on_both!(
    the_accept_form_is_sent_once_and_answers_with_a_redirect,
    accept_once
);
