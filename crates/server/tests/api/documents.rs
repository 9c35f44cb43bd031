//! Documents in the running system: talon, receipt, registry, verification and access.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// Documents in the running system: the talon made on acceptance verifies with the CA
/// (our verifier, openssl and pdfsig), the public verification says so and shows no
/// personal data, a one-byte-changed copy fails, the receipt of an intake refusal and a
/// signed registry have their documents, and no one else downloads a person's documents.
async fn documents_flow(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let a = accept_s1(&counter, iin).await;
    let app_id = a["id"].as_str().unwrap().to_string();
    let (s, docs) = counter
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    let docs = docs.as_array().unwrap().clone();
    assert_eq!(docs.len(), 1, "{docs:?}");
    let talon = &docs[0];
    assert_eq!(talon["kind"], "e_registration_talon");
    assert_eq!(talon["number"], a["number"]);
    let doc_id = talon["id"].as_str().unwrap().to_string();
    // The talon is made after the intake's answer, or by the listing if that came first:
    // once either way, with one audit record (the one whose insert won).
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let made = drn_store::query(
        "SELECT (SELECT COUNT(*) FROM documents WHERE application_id = $1), (SELECT COUNT(*) FROM audit WHERE action = 'document_issued' AND subject = $2)",
    )
    .bind(drn_store::Value::uuid(app_id.clone()))
    .bind(format!("application:{app_id}"))
    .fetch_one(app.db.reader())
    .await
    .unwrap();
    {
        assert_eq!(made.try_get::<i64, _>(0).unwrap(), 1);
        assert_eq!(made.try_get::<i64, _>(1).unwrap(), 1);
    }
    assert_eq!(
        talon["verify"].as_str().unwrap(),
        format!("{}/verify/{doc_id}", app.base)
    );
    // The PDF and its detached signature verify against the PKI's CA.
    let (s, pdf) = counter.bytes(talon["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    eprintln!("talon PDF: {} bytes", pdf.len());
    let (s, p7s) = counter.bytes(talon["p7s"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let ca = app.state.pki.ca_der();
    let v = drn_docs::verify(&pdf, ca).unwrap();
    assert!(v.genuine, "{v:?}");
    assert!(drn_docs::verify_detached(&pdf, &p7s, ca).unwrap().genuine);
    // Standard tools agree.
    let dir = std::env::temp_dir().join(format!("drn-api-docs-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pdf_path, p7s_path) = (dir.join("talon.pdf"), dir.join("talon.p7s"));
    std::fs::write(&pdf_path, &pdf).unwrap();
    std::fs::write(&p7s_path, &p7s).unwrap();
    if have_tool("openssl") {
        let out = std::process::Command::new("openssl")
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(&p7s_path)
            .arg("-content")
            .arg(&pdf_path)
            .arg("-CAfile")
            .arg(app.state.pki.ca_path())
            .args(["-purpose", "any", "-out", "/dev/null"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl cms -verify: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if have_tool("pdfsig") {
        let out = std::process::Command::new("pdfsig")
            .arg(&pdf_path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Signature Validation: Signature is Valid"),
            "pdfsig: {text}"
        );
    }
    // Anyone (no sign-in) learns that it is genuine, and nothing personal.
    let anon = reqwest::Client::new();
    let r = anon
        .get(format!("{}/api/v1/verify/{doc_id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (&v["valid"], &v["genuine"], &v["unchanged"], &v["revoked"]),
        (&json!(true), &json!(true), &json!(true), &json!(false)),
        "{v}"
    );
    assert_eq!(v["number"], a["number"]);
    assert!(!text.contains(&iin.to_string()), "no IIN in {text}");
    let r = anon
        .get(format!("{}/verify/{doc_id}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-verdict=\"valid\""), "{html}");
    assert!(!html.contains(&iin.to_string()));
    // The document's date as the pages write dates (it was ISO, 2019-04-02).
    let date = v["date"].as_str().unwrap();
    let (y, rest) = date.split_once('-').unwrap();
    let (m, d) = rest.split_once('-').unwrap();
    assert!(
        html.contains(&format!("<dd>{d}.{m}.{y}</dd>")) && !html.contains(date),
        "{date} as dd.mm.yyyy"
    );
    let r = anon
        .get(format!(
            "{}/api/v1/verify/00000000-0000-4000-8000-000000000000",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // The very file is identical and genuine; a copy with one byte changed is not.
    let upload = |body: Vec<u8>| {
        anon.post(format!("{}/verify/{doc_id}", app.base))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let v: Value = upload(pdf.clone()).await.unwrap().json().await.unwrap();
    assert_eq!((&v["identical"], &v["valid"]), (&json!(true), &json!(true)));
    let mut changed = pdf.clone();
    changed[pdf.len() / 3] ^= 0x01;
    let v: Value = upload(changed.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["genuine"], &v["valid"]),
        (&json!(false), &json!(false), &json!(false)),
        "{v}"
    );
    assert!(!drn_docs::verify(&changed, ca).unwrap().genuine);
    let r = anon
        .post(format!("{}/verify/{doc_id}", app.base))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // The applicant downloads it; another citizen and staff of an unrelated unit do not.
    let owner = citizen_client(&app, 0).await;
    let pdf_url = format!("/api/v1/documents/{doc_id}.pdf");
    assert_eq!(owner.bytes(&pdf_url).await, (StatusCode::OK, pdf.clone()));
    let (s, mine) = owner
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(
        (s, mine.as_array().map(Vec::len)),
        (StatusCode::OK, Some(1))
    );
    let stranger = citizen_client(&app, 1).await;
    assert_eq!(stranger.bytes(&pdf_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        stranger
            .get(&format!("/api/v1/applications/{app_id}/documents"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let production = app.login("production").await;
    assert_eq!(production.bytes(&pdf_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        production
            .bytes(&format!("/api/v1/documents/{doc_id}.p7s"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let anon_dl = anon
        .get(format!("{}{pdf_url}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anon_dl.status(), 401);
    // The download was an audited read of the applicant's data.
    let auditor = app.login("auditor").await;
    let (_, log) = auditor
        .get(&format!("/api/v1/audit?subject=person:{iin}"))
        .await;
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "read_application"
                && r["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("document:{doc_id}"))),
        "{log}"
    );
    // An incomplete package: the receipt of refusal is a document too.
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": app.report.citizens[1].0.to_string(), "missing": ["фотография 3x4"] }))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "intake_refused", "{v}");
    let (s, docs) = counter
        .get(&format!(
            "/api/v1/applications/{}/documents",
            v["application"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200);
    assert_eq!(docs[0]["kind"], "refusal_receipt", "{docs}");
    assert_eq!(docs[0]["number"], v["receipt"]);
    // A signed registry is a document of its units.
    let a = complete_step(&counter, &a).await;
    let district = app.login("district.astana").await;
    let (reg_id, _) = form_and_sign(&district, &a).await;
    let row = drn_store::query("SELECT id, kind FROM documents WHERE registry_id = $1")
        .bind(drn_store::Value::uuid(reg_id.clone()))
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let (rid, kind): (String, String) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    assert_eq!(kind, "district_registry");
    let (s, reg_pdf) = district
        .bytes(&format!("/api/v1/documents/{rid}.pdf"))
        .await;
    assert_eq!(s, 200);
    assert!(drn_docs::verify(&reg_pdf, ca).unwrap().genuine);
    assert_eq!(
        owner.bytes(&format!("/api/v1/documents/{rid}.pdf")).await.0,
        StatusCode::NOT_FOUND,
        "a citizen is refused a registry"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

on_both!(
    documents_talon_receipt_registry_verify_and_access,
    documents_flow
);

/// Issue 32: an application's, a registry's and a document's id is a `uuid` on
/// PostgreSQL (migration 32). An id in a URL that is not one (a unit code, an upper-case
/// UUID, a word) is not found as an unknown UUID is, in each language: the same status, the
/// same error code and the same sentence around the id, never a database error.
async fn an_id_that_is_no_uuid_is_not_found(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let known = accept_s1(&counter, iin).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = counter.get(&format!("/api/v1/applications/{known}")).await;
    assert_eq!(s, 200);
    let unknown = "00000000-0000-4000-8000-000000000000";
    let answer = |path: String, lang: &'static str| {
        let req = counter
            .http
            .get(format!("{}{path}", counter.base))
            .header("accept-language", lang);
        async move {
            let r = req.send().await.unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let paths = [
        "/api/v1/applications/{}",
        "/api/v1/applications/{}/timeline",
        "/api/v1/applications/{}/documents",
        "/api/v1/registries/{}",
        "/api/v1/registries/{}/documents",
        "/api/v1/documents/{}.pdf",
        "/api/v1/verify/{}",
    ];
    let upper = known.to_uppercase();
    for path in paths {
        for lang in ["kk", "ru", "en"] {
            let (s0, v0) = answer(path.replace("{}", unknown), lang).await;
            assert_eq!(s0, StatusCode::NOT_FOUND, "{path} {lang}: {v0}");
            for bad in ["K-1", "not-a-uuid", "0", upper.as_str()] {
                let (s, v) = answer(path.replace("{}", bad), lang).await;
                assert_eq!(s, s0, "{path} with {bad} ({lang}): {v}");
                assert_eq!(v["error"]["code"], v0["error"]["code"], "{path} {bad}: {v}");
                let said = |v: &Value, id: &str| {
                    v["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .replace(id, "ID")
                };
                assert_eq!(said(&v, bad), said(&v0, unknown), "{path} {bad} {lang}");
            }
        }
    }
    // A command on such an id: not found as well.
    let (s, v) = counter
        .post(
            "/api/v1/applications/K-1/complete",
            json!({ "revision": 1 }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["error"]["code"], "not_found", "{v}");
}

on_both!(
    an_id_that_is_no_uuid_is_not_found_as_an_unknown_one,
    an_id_that_is_no_uuid_is_not_found
);
