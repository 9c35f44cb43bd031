//! Issue 31: the attacks a national system meets, each reproduced against a demo server.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::support::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Item 1: sixty parallel guesses at one account, the right password among them (the
/// 56th), get no more than the limit's passwords checked: the rest are refused before
/// argon2 runs. Then the source address: failures over many accounts lock it too.
async fn parallel_guesses(url: &str) {
    let app = spawn_app(url).await;
    let right = app.password("op.astana.1");
    let http = reqwest::Client::new();
    let mut tries = tokio::task::JoinSet::new();
    for i in 0..60 {
        let pw = if i == 55 {
            right.clone()
        } else {
            format!("wrong-{i}")
        };
        let (http, base) = (http.clone(), app.base.clone());
        tries.spawn(async move {
            http.post(format!("{base}/api/v1/auth/login"))
                .json(&json!({ "username": "op.astana.1", "password": pw }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    let mut statuses = Vec::new();
    while let Some(s) = tries.join_next().await {
        statuses.push(s.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401 || **s == 200).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert!(
        checked <= 5,
        "{checked} passwords checked of 60 parallel guesses: {statuses:?}"
    );
    assert_eq!(checked + locked, 60, "{statuses:?}");

    // The address: wrong passwords for twenty other accounts from one address lock it,
    // also for an account never tried.
    for i in 0..20 {
        let r = http
            .post(format!("{}/api/v1/auth/login", app.base))
            .json(&json!({ "username": format!("nobody.{i}"), "password": "x" }))
            .send()
            .await
            .unwrap();
        assert!([401, 429].contains(&r.status().as_u16()), "{}", r.status());
    }
    let r = http
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({ "username": "centre", "password": app.password("centre") }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the address is locked");
}

on_both!(
    parallel_guesses_get_no_more_than_the_limit,
    parallel_guesses
);

/// Item 4: a wrong password for an unknown user takes as long as for a known one (both
/// run argon2): before, 6 ms against 46 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_takes_as_long_as_a_wrong_password() {
    let url = fresh_urls("sec_timing").await.remove(0);
    let app = spawn_app(&url).await;
    let http = reqwest::Client::new();
    let time = |user: String| {
        let (http, base) = (http.clone(), app.base.clone());
        async move {
            let t = std::time::Instant::now();
            let r = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({ "username": user, "password": "wrong" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            t.elapsed()
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // Four each (an account locks at five); different accounts so none locks.
    for (i, user) in ["op.astana.1", "district.astana", "region.astana", "centre"]
        .iter()
        .enumerate()
    {
        known.push(time(user.to_string()).await);
        unknown.push(time(format!("no.such.user.{i}")).await);
    }
    // The fastest of each: the least disturbed by other tests running beside this one.
    let (k, u) = (
        known.iter().min().copied().unwrap(),
        unknown.iter().min().copied().unwrap(),
    );
    assert!(
        u * 2 >= k,
        "unknown user {u:?} against a known one {k:?}: the name shows by timing"
    );
}

/// Item 8: one-time codes are limited per account and hour, and wrong codes count toward
/// the account's lock (a right password does not wipe them).
async fn one_time_codes(url: &str) {
    let app = spawn_app(url).await;
    let (iin, pw, _) = &app.report.citizens[1];
    let http = reqwest::Client::new();
    let first = || {
        http.post(format!("{}/api/v1/auth/citizen/login", app.base))
            .json(&json!({ "iin": iin.to_string(), "password": pw }))
            .send()
    };
    // Wrong codes: five of them lock the account, the right password notwithstanding.
    let r: Value = first().await.unwrap().json().await.unwrap();
    let challenge = r["challenge"].as_str().unwrap().to_string();
    for _ in 0..5 {
        let r = http
            .post(format!("{}/api/v1/auth/citizen/verify", app.base))
            .json(&json!({ "challenge": challenge, "code": "000000x" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = first().await.unwrap();
    assert_eq!(r.status(), 429, "wrong codes count toward the lock");
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "locked");

    // Codes per hour: another citizen asks again and again.
    let (iin, pw, _) = &app.report.citizens[2];
    let ask = || {
        http.post(format!("{}/api/v1/auth/citizen/login", app.base))
            .json(&json!({ "iin": iin.to_string(), "password": pw }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(ask().await.unwrap().status(), 200);
    }
    let r = ask().await.unwrap();
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "too_many_codes", "{v}");
    // An hour later, a code again.
    app.clock.advance(jiff::SignedDuration::from_mins(61));
    assert_eq!(ask().await.unwrap().status(), 200);
}

on_both!(
    one_time_codes_are_limited_and_wrong_ones_lock,
    one_time_codes
);

/// Item 2: a regional supervisor reads the journals of their region only (API and
/// page), and every read of a journal's personal data is audited against the person.
async fn journal_scope(url: &str) {
    let app = spawn_app(url).await;
    let astana_iin = app.report.citizens[0].0.to_string();
    let almaty_iin = app.report.citizens[3].0.to_string();
    for (id, unit, iin) in [("j1", "D71-1", &astana_iin), ("j2", "D75-1", &almaty_iin)] {
        drn_store::query(
            "INSERT INTO journal_entries (id, journal, number, application_id, service, unit_id, subject, at, data_json) VALUES ($1, 'temporary_id', $2, NULL, 'S2', $3, $4, $5, '{}')",
        )
        .bind(id)
        .bind(format!("TID-{id}"))
        .bind(unit)
        .bind(iin.clone())
        .bind(app.clock_now())
        .execute(app.db.writer())
        .await
        .unwrap();
    }
    let sup = app.login("supervisor.astana").await;
    let (s, v) = sup.get("/api/v1/journals/temporary_id?unit=D75-1").await;
    assert_eq!(s, 403, "another region's journal: {v}");
    let (s, v) = sup.get("/api/v1/journals/temporary_id").await;
    assert_eq!(s, 200, "{v}");
    let text = v.to_string();
    assert!(
        text.contains(&astana_iin) && !text.contains(&almaty_iin),
        "{v}"
    );
    let html = sup
        .http
        .get(format!(
            "{}/ws/journals?journal=temporary_id&unit=D75-1",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains(&almaty_iin),
        "the page shows another region's entry"
    );

    // The centre reads both: the Almaty citizen sees the read.
    let centre = app.login("centre").await;
    let (s, v) = centre.get("/api/v1/journals/temporary_id").await;
    assert_eq!(s, 200, "{v}");
    assert!(v.to_string().contains(&almaty_iin), "{v}");
    let citizen = citizen_client(&app, 3).await;
    let (s, reads) = citizen.get("/api/v1/my/reads").await;
    assert_eq!(s, 200, "{reads}");
    assert!(
        reads
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "read_journal" && r["actor"] == "centre"),
        "{reads}"
    );
}

on_both!(
    journals_follow_the_unit_scope_and_are_audited,
    journal_scope
);

impl App {
    fn clock_now(&self) -> jiff::Timestamp {
        use drn_engine::Clock;
        self.clock.now()
    }
}

/// Item 3: the language switch goes back only to a page of this site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_switch_is_no_open_redirect() {
    let url = fresh_urls("sec_redirect").await.remove(0);
    let app = spawn_app(&url).await;
    let http = no_redirects();
    for (back, want) in [
        ("/%5Cevil.example/phish", "/"),
        ("//evil.example/", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("/%255Cevil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\tevil", "/"),
        ("/ws/applications/abc?x=1", "/ws/applications/abc?x=1"),
        ("/portal", "/portal"),
    ] {
        let r = http
            .get(format!("{}/lang/en", app.base))
            .query(&[("back", back)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], want, "back={back}");
    }
}

/// Item 7: a sign-in form posted from another site opens no session; the site's own does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_sign_in_is_refused() {
    let url = fresh_urls("sec_origin").await.remove(0);
    let app = spawn_app(&url).await;
    let http = no_redirects();
    let form = [
        ("username", "op.astana.1".to_string()),
        ("password", app.password("op.astana.1")),
    ];
    let post = |headers: Vec<(&'static str, String)>| {
        let mut r = http.post(format!("{}/login", app.base)).form(&form);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send()
    };
    let r = post(vec![("origin", "https://evil.example".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    let r = post(vec![("sec-fetch-site", "cross-site".into())])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(format!("{}/portal/login", app.base))
        .header("origin", "https://evil.example")
        .form(&[("iin", "000000000000"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let own = app.base.clone();
    let r = post(vec![
        ("origin", own),
        ("sec-fetch-site", "same-origin".into()),
    ])
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers().get("set-cookie").is_some());
    // The API too, with a session: a cross-site write is refused before its handler.
    let c = app.login("op.astana.1").await;
    let r = c
        .http
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("x-csrf-token", &c.csrf)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "cross_site"
    );
}

/// The server's router over `app`'s state with `config` changed, for requests made
/// without a socket (the source address set by hand).
fn router_with(app: &App, f: impl FnOnce(&mut drn_server::Config)) -> axum::Router {
    let mut st = app.state.clone();
    f(&mut st.config);
    drn_server::router(st).0
}

fn from(addr: &str, req: axum::http::request::Builder) -> axum::http::Request<axum::body::Body> {
    let mut r = req.body(axum::body::Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo(addr.parse::<SocketAddr>().unwrap()));
    r
}

/// Items 9 and 12: HSTS and a Secure language cookie behind TLS; the demo's sandbox
/// only over the loopback interface.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_behind_tls_and_the_sandbox_from_loopback_only() {
    let url = fresh_urls("sec_headers").await.remove(0);
    let app = spawn_app(&url).await;
    // The state systems' sandbox, as `drn serve` installs it.
    drn_server::renewal::install(&app.state.engine, app.state.pki.ca_der().to_vec())
        .await
        .unwrap();
    let tls = router_with(&app, |c| c.secure_cookies = true);
    let r = tls
        .clone()
        .oneshot(from("127.0.0.1:5000", axum::http::Request::get("/healthz")))
        .await
        .unwrap();
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="),);
    let r = tls
        .oneshot(from("127.0.0.1:5000", axum::http::Request::get("/lang/kk")))
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("drn_lang=kk") && cookie.contains("Secure"),
        "{cookie}"
    );
    let plain = router_with(&app, |_| {});
    let r = plain
        .clone()
        .oneshot(from("127.0.0.1:5000", axum::http::Request::get("/healthz")))
        .await
        .unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());

    let iin = app.report.citizens[0].0.to_string();
    for path in [
        "/api/v1/sandbox/sms".to_string(),
        format!("/sandbox/gbd-fl/persons/{iin}"),
    ] {
        let far = plain
            .clone()
            .oneshot(from("203.0.113.7:5000", axum::http::Request::get(&path)))
            .await
            .unwrap();
        assert_eq!(far.status(), 404, "{path} from afar");
        let near = plain
            .clone()
            .oneshot(from("127.0.0.1:5000", axum::http::Request::get(&path)))
            .await
            .unwrap();
        assert_eq!(near.status(), 200, "{path} from loopback");
    }
    let no_demo = router_with(&app, |c| c.demo = false);
    let r = no_demo
        .oneshot(from(
            "127.0.0.1:5000",
            axum::http::Request::get("/api/v1/sandbox/sms"),
        ))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Item 11: no path of the server's disk, another region's application is as absent
/// for a write as for a read, and a chunked body over the limit is 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_leaks_are_closed() {
    let url = fresh_urls("sec_leaks").await.remove(0);
    let app = spawn_app(&url).await;
    let r = reqwest::get(format!("{}/api/v1/catalog/S1", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!r.contains("catalog/") && !r.contains(".toml"), "{r}");

    let almaty = app.login("op.almaty.1").await;
    let (iin, _, _) = &app.report.citizens[3];
    let a = accept_s1(&almaty, iin).await;
    let id = a["id"].as_str().unwrap();
    let astana = app.login("op.astana.1").await;
    let (read, rv) = astana.get(&format!("/api/v1/applications/{id}")).await;
    let (write, wv) = astana
        .post(
            &format!("/api/v1/applications/{id}/complete"),
            json!({ "revision": a["revision"] }),
        )
        .await;
    assert_eq!((read.as_u16(), write.as_u16()), (404, 404), "{rv} {wv}");
    assert_eq!(rv["error"]["code"], wv["error"]["code"]);
    assert!(!wv.to_string().contains("C75"), "{wv}");

    // A whole-number float is an integer (item 10): the revision as 1.0.
    let (s, v) = almaty
        .post(
            &format!("/api/v1/applications/{id}/complete"),
            json!({ "revision": a["revision"].as_i64().unwrap() as f64 }),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // Chunked, 300 KiB: over the limit, with no length to refuse it by.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let chunk = "x".repeat(16 * 1024);
    for _ in 0..20 {
        let piece = format!("{:x}\r\n{chunk}\r\n", chunk.len());
        if sock.write_all(piece.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 64];
    let n = sock.read(&mut answer).await.unwrap();
    let status = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
}

/// Recomputes the audit chain from record `from` on, `from` itself changed: what someone
/// who can write the database can do, and `verify` alone does not see.
async fn rewrite_chain_from(db: &drn_store::Db, from: i64) {
    let rows = drn_store::query(
        "SELECT seq, at, actor, action, subject, detail_json, prev_hash FROM audit ORDER BY seq",
    )
    .fetch_all(db.reader())
    .await
    .unwrap();
    let mut prev = drn_engine::audit::GENESIS.to_string();
    for r in rows {
        let seq: i64 = r.try_get(0).unwrap();
        let at: i64 = r.try_get(1).unwrap();
        let mut actor: String = r.try_get(2).unwrap();
        let action: String = r.try_get(3).unwrap();
        let subject: String = r.try_get(4).unwrap();
        let detail: String = r.try_get(5).unwrap();
        if seq < from {
            prev = drn_engine::audit::hash_of(seq, at, &actor, &action, &subject, &detail, &prev);
            continue;
        }
        if seq == from {
            actor = "mallory".into();
        }
        let hash = drn_engine::audit::hash_of(seq, at, &actor, &action, &subject, &detail, &prev);
        drn_store::query("UPDATE audit SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(actor)
            .bind(prev.clone())
            .bind(hash.clone())
            .bind(seq)
            .execute(db.writer())
            .await
            .unwrap();
        prev = hash;
    }
}

/// Item 5: the chain's head signed outside the database; both rewrites that `verify`
/// alone takes for whole (a record changed and every later hash recomputed; the last
/// records dropped and the counter lowered) fail against the signed heads.
async fn anchored_chain(url: &str) {
    for rewrite in ["recompute", "truncate"] {
        let url = if rewrite == "recompute" {
            url.to_string()
        } else {
            let urls = fresh_urls("sec_anchor_truncate").await;
            urls[if url.starts_with("sqlite") { 0 } else { 1 }].clone()
        };
        let app = spawn_app(&url).await;
        let auditor = app.login("auditor").await;
        let _ = app.login("op.astana.1").await;
        let (s, head) = auditor.post("/api/v1/audit/anchor", json!({})).await;
        assert_eq!(s, 200, "{head}");
        let seq = head["seq"].as_i64().unwrap();
        assert!(seq >= 2, "{head}");
        let dir = app.state.config.audit_anchors.clone().unwrap();
        assert!(dir.join(format!("head-{seq:012}.json.p7s")).exists());
        let ca = app.state.pki.ca_der().to_vec();
        let engine = &app.state.engine;
        let (v, n) = drn_server::anchor::verify_with_anchors(engine, &dir, &ca)
            .await
            .unwrap();
        assert_eq!((v.broken_at, n), (None, 1), "{v:?}");
        match rewrite {
            "recompute" => rewrite_chain_from(&app.db, seq - 1).await,
            _ => {
                drn_store::query("DELETE FROM audit WHERE seq >= $1")
                    .bind(seq)
                    .execute(app.db.writer())
                    .await
                    .unwrap();
                drn_store::query("UPDATE counters SET value = $1 WHERE name = 'audit'")
                    .bind(seq - 1)
                    .execute(app.db.writer())
                    .await
                    .unwrap();
            }
        }
        let alone = engine.verify_audit().await.unwrap();
        assert_eq!(
            alone.broken_at, None,
            "{rewrite}: the chain alone looks whole"
        );
        let (v, _) = drn_server::anchor::verify_with_anchors(engine, &dir, &ca)
            .await
            .unwrap();
        assert_eq!(v.broken_at, Some(seq), "{rewrite}: {v:?}");
        // A head whose signature does not match is refused, not believed.
        let file = dir.join(format!("head-{seq:012}.json"));
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace(&format!("\"seq\": {seq}"), "\"seq\": 1"),
        )
        .unwrap();
        assert!(drn_server::anchor::verify_with_anchors(engine, &dir, &ca)
            .await
            .is_err());
    }
}

on_both!(
    the_audit_chain_is_anchored_outside_the_database,
    anchored_chain
);

/// Item 6: a storage fault whose marker could not be written (a full disk) is found at
/// the next start; sign-in then answers 503 `storage_fault`, not 500, and `/readyz` 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_finds_the_fault_without_its_marker() {
    let url = fresh_urls("sec_fault_start").await.remove(0);
    let app = spawn_app(&url).await;
    let password = app.password("op.astana.1");
    let path = drn_store::lite::path_of(&url).unwrap();
    // The second half of the file: the schema and the first tables stay readable.
    let _broken =
        drn_store::testkit::corrupt_sqlite_from(&path, |len| len / 2 / 4096 * 4096).unwrap();
    assert!(!drn_store::Fault::marker_path(&path).exists());

    let db = drn_store::Db::open(&url).await.unwrap();
    db.migrate().await.unwrap();
    assert!(db.fault().is_some(), "the start-up check finds the damage");
    let (cat, cal) = drn_engine::catalog_files::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalog"
    )))
    .unwrap();
    let engine = drn_engine::Engine::new(db, cat, cal, app.clock.clone()).unwrap();
    let mut st = app.state.clone();
    st.engine = engine;
    let router = drn_server::router(st).0;
    let login = axum::http::Request::post("/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({ "username": "op.astana.1", "password": password }).to_string(),
        ))
        .unwrap();
    let r = router.clone().oneshot(login).await.unwrap();
    assert_eq!(r.status(), 503);
    let body = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["error"]["code"], "storage_fault", "{v}");
    let r = router
        .oneshot(
            axum::http::Request::get("/readyz")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}
