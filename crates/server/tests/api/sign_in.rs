//! Sign-in: lockout, CSRF, the error shape, security headers and session expiry.

use serde_json::{json, Value};

use crate::support::*;

async fn sign_in_rules(url: &str) {
    let app = spawn_app(url).await;
    let http = jar_client();
    let login = |pw: &str| {
        http.post(format!("{}/api/v1/auth/login", app.base))
            .header("accept-language", "kk")
            .json(&json!({ "username": "op.astana.1", "password": pw }))
            .send()
    };
    for _ in 0..5 {
        let r = login("wrong").await.unwrap();
        assert_eq!(r.status(), 401);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "bad_credentials");
        assert!(v["error"]["message"].as_str().unwrap().contains("қате"));
    }
    // Locked: even the right password waits.
    let r = login(&app.password("op.astana.1")).await.unwrap();
    assert_eq!(r.status(), 429);
    app.clock.advance(jiff::SignedDuration::from_mins(16));
    assert_eq!(
        login(&app.password("op.astana.1")).await.unwrap().status(),
        200
    );
    // Without the CSRF header a cookie session cannot write.
    let c = app.login("op.astana.1").await;
    let r = c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Malformed input is a 4xx in the one error shape, never a 5xx.
    let r = c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "invalid");
    // A body over the limit is refused; the server may close the connection before the
    // client has sent it all, which the client sees as a failed send.
    let big = "x".repeat(300 * 1024);
    match c
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
    {
        Ok(r) => assert!(r.status().is_client_error(), "{}", r.status()),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    // The session's client may keep the connection the server closed in its pool: a
    // request that fails on it drops it, so the session's next requests open a new one
    // (without this, `/api/v1/me` below failed now and then with a broken pipe).
    for _ in 0..2 {
        let _ = c.http.get(format!("{}/healthz", app.base)).send().await;
    }
    // Security headers and a request id on every response (a fresh connection: the one
    // above may have been closed).
    let r = reqwest::Client::new()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(r.headers().contains_key(h), "missing {h}");
    }
    // Sessions expire after inactivity.
    app.clock.advance(jiff::SignedDuration::from_mins(31));
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    // Sign-out ends the session.
    let c = app.login("centre").await;
    assert_eq!(c.post("/api/v1/auth/logout", json!({})).await.0, 204);
    assert_eq!(c.get("/api/v1/me").await.0, 401);
    let _ = &app.state;
}

on_both!(sign_in_lockout_csrf_errors_headers_expiry, sign_in_rules);
