//! Officers sign with their own keys (issue 33), over HTTP with signatures required. The
//! keys here are the test's own: officers' certificates from the server's demo CA (what the
//! demo's signer holds), another officer's, and a foreign CA's; CMS made in the test as
//! NCALayer makes it (detached, SHA-256, signing time, the signer's certificate).
//!
//! - A registry is not signed without its officer's signature; a signature by another
//!   officer's key, by a certificate outside the chain, by an expired certificate, over
//!   other bytes, or dated far from
//!   the server's clock is refused in the officer's language and changes nothing; the
//!   officer's own is accepted, and the registry's PDF carries the officer's signature and
//!   then the MVD's, both valid.
//! - A motivated refusal waits for its officer's signature and is released when signed.

use base64::Engine as _;
use drn_core::{Iin, Sex, Text};
use drn_docs::{cms, Pki};
use drn_engine::{Actor, Clock};
use serde_json::{json, Value};

use crate::results::{accept_at, step};
use crate::support::*;

fn iin(seed: u32, sex: Sex) -> Iin {
    let birth = jiff::civil::date(1980 + (seed % 15) as i16, 1 + (seed % 12) as i8, 3);
    drn_docs::sample::sample_iin(birth, sex).unwrap()
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// A detached CMS over `data` by `signer`, signed at `at`.
fn cms_over(data: &[u8], signer: &drn_docs::Signer, at: jiff::Timestamp) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(data);
    b64(&cms::sign_digest_at(&digest, &[signer], at).unwrap())
}

async fn prepared(c: &Client, path: &str) -> (Value, Vec<u8>) {
    prepared_with(c, path, json!({})).await
}

/// What to sign, as `path` answers `body`: the answer, and the bytes.
async fn prepared_with(c: &Client, path: &str, body: Value) -> (Value, Vec<u8>) {
    let (s, p) = c.post(path, body).await;
    assert_eq!(s, 200, "{p}");
    let data = base64::engine::general_purpose::STANDARD
        .decode(p["data"].as_str().unwrap())
        .unwrap();
    (p, data)
}

/// What [`formed_registry`] made.
struct Formed {
    counter: Client,
    district: Client,
    registry: Value,
    id: String,
}

/// An S1 intake at Astana's counter whose district has formed its registry, the district's
/// and the counter's officers on record with their IINs (signatures required, as of 2019).
async fn formed_registry(app: &App, district_iin: &Iin, counter_iin: &Iin) -> Formed {
    let position = Text::new("Инспектор", "Инспектор", "Inspector");
    for (user, i) in [
        ("district.astana", district_iin),
        ("op.astana.1", counter_iin),
    ] {
        app.state
            .engine
            .set_officer_record(&Actor::system(), user, i, &position)
            .await
            .unwrap();
    }
    let counter = app.login("op.astana.1").await;
    let district = app.login("district.astana").await;
    let citizen = app.report.citizens[0].0.to_string();
    // The counter officer certifies the S1 formulary with their own key.
    let mut intake = json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": citizen });
    let (p, bytes) =
        prepared_with(&counter, "/api/v1/applications/formulary", intake.clone()).await;
    assert_eq!(p["signer"], counter_iin.to_string());
    let key = app
        .state
        .pki
        .officer(counter_iin, "Counter Officer")
        .unwrap();
    intake["data"] = json!({ "formulary_signature": cms_over(&bytes, &key, app.clock.now()) });
    let (s, v) = counter.post("/api/v1/applications", intake).await;
    assert_eq!(s, 200, "{v}");
    let a = complete_step(&counter, outcome_app(&v)).await;
    let (s, v) = district
        .post("/api/v1/registries", json!({ "service": a["service"], "version": a["version"], "process": a["process"], "step": a["step"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let registry = v["registries"][0].clone();
    let id = registry["id"].as_str().unwrap().to_string();
    Formed {
        counter,
        district,
        registry,
        id,
    }
}

async fn officers_sign(url: &str) {
    // As of 2019, when the seeds' acts were in force: the demo PKI's certificates cover
    // 2014 to 2026.
    let app = spawn_app_with(url, "2019-04-02T10:00:00+06:00", |c| {
        c.signatures.required = true
    })
    .await;
    let pki = &app.state.pki;
    let (district_iin, counter_iin, other_iin) =
        (iin(1, Sex::Male), iin(2, Sex::Female), iin(3, Sex::Male));
    let w = formed_registry(&app, &district_iin, &counter_iin).await;
    let (counter, district, reg, id) = (w.counter, w.district, w.registry, w.id);
    let sign = |body: Value| {
        let district = &district;
        let id = id.clone();
        async move {
            district
                .post(&format!("/api/v1/registries/{id}/sign"), body)
                .await
        }
    };
    let unchanged = |why: &'static str| {
        let district = &district;
        let id = id.clone();
        async move {
            let (_, r) = district.get(&format!("/api/v1/registries/{id}")).await;
            assert_eq!(r["status"], "formed", "{why}: the registry stays formed");
            let (_, docs) = district
                .get(&format!("/api/v1/registries/{id}/documents"))
                .await;
            assert_eq!(docs.as_array().map(Vec::len), Some(0), "{why}: {docs}");
        }
    };

    // Without a signature: refused, in the officer's language.
    let (s, v) = sign(json!({ "revision": reg["revision"] })).await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_required")),
        "{v}"
    );
    unchanged("no signature").await;

    let path = format!("/api/v1/registries/{id}/signature-draft");
    let own = pki.officer(&district_iin, "District Officer").unwrap();
    let other = pki.officer(&other_iin, "Another Officer").unwrap();
    let foreign_dir = std::env::temp_dir().join(format!("drn-foreign-{}", uuid::Uuid::new_v4()));
    let foreign = Pki::open_or_create(&foreign_dir).unwrap();
    let outsider = foreign
        .officer(&district_iin, "Same IIN, foreign CA")
        .unwrap();
    let expired =
        drn_docs::pki::testing::expired_officer(pki, &district_iin, "District Officer").unwrap();
    let cases: [(&str, &drn_docs::Signer, bool, jiff::SignedDuration, &str); 5] = [
        (
            "an expired certificate",
            &expired,
            false,
            jiff::SignedDuration::ZERO,
            "signature_certificate_expired",
        ),
        (
            "another officer's key",
            &other,
            false,
            jiff::SignedDuration::ZERO,
            "signature_another_person",
        ),
        (
            "a certificate outside the chain",
            &outsider,
            false,
            jiff::SignedDuration::ZERO,
            "signature_untrusted",
        ),
        (
            "other bytes",
            &own,
            true,
            jiff::SignedDuration::ZERO,
            "signature_other_content",
        ),
        (
            "a signing time an hour away",
            &own,
            false,
            jiff::SignedDuration::from_hours(1),
            "signature_time_skew",
        ),
    ];
    for (why, signer, other_bytes, shift, code) in cases {
        let (p, mut data) = prepared(&district, &path).await;
        if other_bytes {
            data.extend_from_slice(b"%tampered");
        }
        let at = app.clock.now() + shift;
        let (s, v) = sign(json!({ "revision": reg["revision"], "draft": p["draft"], "signature": cms_over(&data, signer, at) })).await;
        assert_eq!(
            (s.as_u16(), &v["error"]["code"]),
            (422, &json!(code)),
            "{why}: {v}"
        );
        assert_eq!(v["error"]["field"], "signature", "{why}");
        unchanged(why).await;
    }
    // Refusals read in the officer's language.
    let (p, data) = prepared(&district, &path).await;
    let r = district
        .http
        .post(format!("{}/api/v1/registries/{id}/sign", district.base))
        .header("x-csrf-token", &district.csrf)
        .header("accept-language", "kk")
        .json(&json!({ "revision": reg["revision"], "draft": p["draft"], "signature": cms_over(&data, &other, app.clock.now()) }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("басқа адамның кілтімен"),
        "{v}"
    );

    // The officer's own signature: accepted; the registry's PDF carries it, then the MVD's.
    let (p, data) = prepared(&district, &path).await;
    assert_eq!(p["iin"], district_iin.to_string());
    let (s, v) = sign(json!({ "revision": reg["revision"], "draft": p["draft"], "signature": cms_over(&data, &own, app.clock.now()) })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["registry"]["status"], "signed");
    let (_, docs) = district
        .get(&format!("/api/v1/registries/{id}/documents"))
        .await;
    assert_eq!(docs[0]["id"], p["draft"], "{docs}");
    let (_, pdf) = district.bytes(docs[0]["pdf"].as_str().unwrap()).await;
    let v = drn_docs::verify(&pdf, pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    let names: Vec<_> = v
        .signatures
        .iter()
        .map(|s| s.serial_number.clone())
        .collect();
    assert_eq!(names.len(), 2, "{v:?}");
    assert_eq!(
        names[0],
        Some(format!("IIN{district_iin}")),
        "the officer first"
    );
    assert_eq!(
        v.signatures[1].common_name.as_deref(),
        Some("Министерство внутренних дел Республики Казахстан"),
        "{v:?}"
    );
    // The draft's signature cannot be used twice.
    let (s, v) = sign(json!({ "revision": reg["revision"], "draft": p["draft"], "signature": cms_over(&data, &own, app.clock.now()) })).await;
    assert!(s == 409 || s == 422, "{s} {v}");

    // A motivated refusal waits for its officer's signature.
    let s5 = accept_at(
        &counter,
        "S5",
        "counter",
        &app.report.citizens[1].0.to_string(),
        json!({}),
    )
    .await;
    let r = step(
        &counter,
        &s5,
        "refuse",
        json!({ "reason": "Адрес не найден в регистре" }),
    )
    .await;
    let app_id = r["id"].as_str().unwrap();
    let kinds = |docs: &Value| -> Vec<String> {
        docs.as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, docs) = counter
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert!(
        !kinds(&docs).contains(&"motivated_refusal".to_string()),
        "{docs}"
    );
    let html = page(&counter, &format!("/ws/applications/{app_id}")).await;
    assert!(
        html.contains("Документ ожидает вашей подписи ЭЦП") || html.contains("ЭЦҚ"),
        "the card asks for the signature"
    );
    let (p, data) = prepared(
        &counter,
        &format!("/api/v1/applications/{app_id}/signature-draft"),
    )
    .await;
    let counter_key = pki.officer(&counter_iin, "Counter Officer").unwrap();
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{app_id}/signature"),
            json!({ "draft": p["draft"], "signature": cms_over(&data, &other, app.clock.now()) }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_another_person")),
        "{v}"
    );
    let (s, v) = counter
        .post(
            &format!("/api/v1/applications/{app_id}/signature"),
            json!({ "draft": p["draft"], "signature": cms_over(&data, &counter_key, app.clock.now()) }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, docs) = counter
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert!(
        kinds(&docs).contains(&"motivated_refusal".to_string()),
        "{docs}"
    );
    // Every refusal and signature is in the audit log.
    let (_, audit) = app
        .login("auditor")
        .await
        .get("/api/v1/audit?limit=500")
        .await;
    let actions = audit.to_string();
    assert!(
        actions.contains("signature_refused") && actions.contains("document_signed"),
        "{audit}"
    );
    let _ = std::fs::remove_dir_all(foreign_dir);
}

on_both!(officers_sign_registries_and_refusals, officers_sign);

/// A distribution point of the НУЦ's revocation lists, as the test's stand-in: it serves
/// what `published` holds and is down (503) while that is empty. Its address.
async fn distribution_point(
    published: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
) -> String {
    use axum::http::StatusCode;
    let app = axum::Router::new().route(
        "/crl/nca.crl",
        axum::routing::get(move || {
            let published = published.clone();
            async move {
                match published.lock().unwrap().clone() {
                    Some(b) => (StatusCode::OK, b),
                    None => (StatusCode::SERVICE_UNAVAILABLE, Vec::new()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/crl/nca.crl")
}

/// Revocation lists fetched from a configured address (`--crl URL`), with revocation
/// required: a list naming the officer, fetched when a signature is checked, refuses it; a
/// list past its next update is not enough; a current list without the officer lets the
/// signature through; the last list survives a restart while the address is down.
async fn revocation_from_a_distribution_point(url: &str) {
    use drn_server::documents::revocation::CrlFeed;
    use std::sync::{Arc, Mutex};
    let published = Arc::new(Mutex::new(None));
    let crl_url = distribution_point(published.clone()).await;
    let cache = std::env::temp_dir().join(format!("drn-crl-{}", uuid::Uuid::new_v4()));
    let feed = Arc::new(CrlFeed::new(vec![crl_url.clone()], Some(cache.clone())));
    let app = spawn_app_with(url, "2019-04-02T10:00:00+06:00", |c| {
        c.signatures.required = true;
        c.signatures.revocation_required = true;
        c.signatures.crl_feed = feed.clone();
    })
    .await;
    let pki = &app.state.pki;
    let (district_iin, counter_iin, other_iin) =
        (iin(4, Sex::Male), iin(5, Sex::Female), iin(6, Sex::Male));
    let own = pki.officer(&district_iin, "District Officer").unwrap();
    let other = pki.officer(&other_iin, "Another Officer").unwrap();
    let list = |revoked: &[&drn_docs::Signer], next: jiff::civil::Date| {
        drn_docs::pki::testing::revocation_list(pki, revoked, jiff::civil::date(2019, 3, 1), next)
            .unwrap()
    };
    let current = jiff::civil::date(2019, 5, 1);

    // Published, not fetched yet: the first check (the counter officer's formulary at
    // intake) fetches it; it names the district's officer, whose signature is refused.
    *published.lock().unwrap() = Some(list(&[&own], current));
    let w = formed_registry(&app, &district_iin, &counter_iin).await;
    let path = format!("/api/v1/registries/{}/signature-draft", w.id);
    let sign = || async {
        let (p, data) = prepared(&w.district, &path).await;
        w.district
            .post(
                &format!("/api/v1/registries/{}/sign", w.id),
                json!({ "revision": w.registry["revision"], "draft": p["draft"], "signature": cms_over(&data, &own, app.clock.now()) }),
            )
            .await
    };
    let (s, v) = sign().await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_revoked")),
        "{v}"
    );
    // A list whose next update has passed (1 April, the clock is at 2 April) is not enough.
    *published.lock().unwrap() = Some(list(&[&other], jiff::civil::date(2019, 4, 1)));
    assert_eq!(feed.refresh().await, 1);
    let (s, v) = sign().await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_revocation_unknown")),
        "{v}"
    );
    let (_, r) = w
        .district
        .get(&format!("/api/v1/registries/{}", w.id))
        .await;
    assert_eq!(r["status"], "formed", "refused signatures change nothing");
    // A current list without the officer: accepted.
    *published.lock().unwrap() = Some(list(&[&other], current));
    assert_eq!(feed.refresh().await, 1);
    let (s, v) = sign().await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["registry"]["status"], "signed");
    // The address goes down; a restarted server still has the last list.
    *published.lock().unwrap() = None;
    let restarted = CrlFeed::new(vec![crl_url], Some(cache.clone()));
    assert_eq!(restarted.lists().len(), 1);
    assert_eq!(restarted.refresh().await, 0, "the address is down");
    assert_eq!(restarted.lists().len(), 1, "the copy is kept");
    assert!(!restarted.wants_refresh("2019-04-02T04:00:00Z".parse().unwrap()));
    // A page instead of a list is not taken.
    *published.lock().unwrap() = Some(b"<html>maintenance</html>".to_vec());
    assert_eq!(restarted.refresh().await, 0);
    assert_eq!(restarted.lists().len(), 1);
    let _ = std::fs::remove_dir_all(cache);
}

on_both!(
    revocation_lists_are_fetched_from_their_address,
    revocation_from_a_distribution_point
);

/// An API client of another state system acts under its own certificate (issue 33): its
/// record names its organisation's BIN, and where an officer would sign (the S1 formulary at
/// intake, a registry) the client signs with its system's key (`OU=BIN…`). Without the
/// signature, with a forged "certified" value, or with a person's key, the intake is
/// refused and nothing is accepted; with its own key it goes through, and the registry's
/// PDF names the system, then the MVD.
async fn api_clients_sign(url: &str) {
    let app = spawn_app_with(url, "2019-04-02T10:00:00+06:00", |c| {
        c.signatures.required = true
    })
    .await;
    let pki = &app.state.pki;
    let bin = drn_core::Bin::parse("990440100004").unwrap();
    let system = pki.information_system(&bin, "АИС ЦОН (тест)").unwrap();
    let someone = pki.officer(&iin(7, Sex::Female), "Some Officer").unwrap();
    let counter = app
        .api_client(
            "ais-con-astana",
            drn_engine::Role::CounterOperator,
            &app.unit_of("op.astana.1"),
            Some(&bin),
        )
        .await;
    let district = app
        .api_client(
            "ais-district-astana",
            drn_engine::Role::DistrictOfficer,
            &app.unit_of("district.astana"),
            Some(&bin),
        )
        .await;
    let citizen = app.report.citizens[0].0.to_string();
    let intake = json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": citizen });
    let with_signature = |sig: Value| {
        let mut i = intake.clone();
        i["data"] = json!({ "formulary_signature": sig });
        i
    };
    let applications = || async {
        let rows = app
            .db
            .rows(drn_store::Statement::new(
                "SELECT COUNT(*) FROM applications",
                vec![],
            ))
            .await
            .unwrap();
        rows[0].try_get::<i64, _>(0).unwrap()
    };
    let before = applications().await;

    // Not signed; a forged "certified" value; a person's key: refused, nothing accepted.
    let (s, v) = counter.post("/api/v1/applications", intake.clone()).await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_required")),
        "{v}"
    );
    let (s, v) = counter
        .post(
            "/api/v1/applications",
            with_signature(json!({ "name": "forged", "subject": "OU=BIN990440100004" })),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_malformed")),
        "{v}"
    );
    let (p, bytes) =
        prepared_with(&counter, "/api/v1/applications/formulary", intake.clone()).await;
    assert_eq!(p["signer"], format!("BIN{bin}"));
    assert_eq!(p["required"], true);
    let (s, v) = counter
        .post(
            "/api/v1/applications",
            with_signature(json!(cms_over(&bytes, &someone, app.clock.now()))),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_another_person")),
        "{v}"
    );
    assert_eq!(
        applications().await,
        before,
        "refused intakes accept nothing"
    );

    // The system's own key: accepted, the certification kept with the intake.
    let (s, v) = counter
        .post(
            "/api/v1/applications",
            with_signature(json!(cms_over(&bytes, &system, app.clock.now()))),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v);
    let kept = &a["data"]["input"]["formulary_signature"];
    assert!(
        kept["subject"]
            .as_str()
            .unwrap()
            .contains("OU=BIN990440100004"),
        "{kept}"
    );
    assert_eq!(
        kept["position"]["ru"],
        "Информационная система государственного органа"
    );

    // The registry: the district's system signs it.
    let a = complete_step(&counter, a).await;
    let (s, v) = district
        .post("/api/v1/registries", json!({ "service": a["service"], "version": a["version"], "process": a["process"], "step": a["step"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    let reg = v["registries"][0].clone();
    let id = reg["id"].as_str().unwrap();
    let (s, v) = district
        .post(
            &format!("/api/v1/registries/{id}/sign"),
            json!({ "revision": reg["revision"] }),
        )
        .await;
    assert_eq!(
        (s.as_u16(), &v["error"]["code"]),
        (422, &json!("signature_required")),
        "{v}"
    );
    let (p, data) = prepared(
        &district,
        &format!("/api/v1/registries/{id}/signature-draft"),
    )
    .await;
    assert_eq!(p["iin"], format!("BIN{bin}"));
    let (s, v) = district
        .post(
            &format!("/api/v1/registries/{id}/sign"),
            json!({ "revision": reg["revision"], "draft": p["draft"], "signature": cms_over(&data, &system, app.clock.now()) }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, docs) = district
        .get(&format!("/api/v1/registries/{id}/documents"))
        .await;
    let r = district
        .http
        .get(format!(
            "{}{}",
            district.base,
            docs[0]["pdf"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let pdf = r.bytes().await.unwrap();
    let v = drn_docs::verify(&pdf, pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    assert!(
        v.signatures[0].subject.contains("OU=BIN990440100004"),
        "{v:?}"
    );
    assert_eq!(
        v.signatures[1].common_name.as_deref(),
        Some("Министерство внутренних дел Республики Казахстан")
    );
    // The audit names the client.
    let (_, trail) = app
        .login("auditor")
        .await
        .get(&format!("/api/v1/audit?subject=registry:{id}"))
        .await;
    assert!(
        trail.to_string().contains("client:ais-district-astana"),
        "{trail}"
    );
}

on_both!(
    api_clients_sign_under_their_own_certificate,
    api_clients_sign
);
