//! The result document of every service (issue 8), its signatures, and revocation.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// The text of a PDF as `pdftotext` reads it, whitespace runs collapsed to one space.
pub(crate) fn pdf_text(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("drn-api-text-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext failed");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `pdfsig`'s report on a PDF.
fn pdfsig_report(pdf: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("drn-api-sig-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfsig")
        .arg(&path)
        .output()
        .expect("pdfsig (poppler-utils) is installed");
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The application's document of `kind`: its listing, its PDF (genuine) and its text.
pub(crate) async fn doc_of(
    app: &App,
    c: &Client,
    app_id: &str,
    kind: &str,
) -> (Value, Vec<u8>, String) {
    let (s, docs) = c
        .get(&format!("/api/v1/applications/{app_id}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    let d = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {docs}"))
        .clone();
    let (s, pdf) = c.bytes(d["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    let v = drn_docs::verify(&pdf, app.state.pki.ca_der()).unwrap();
    assert!(v.genuine, "{kind}: {v:?}");
    let text = pdf_text(&pdf);
    (d, pdf, text)
}

pub(crate) fn has_all(kind: &str, text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{kind}: no {w:?} in {text}");
    }
}

pub(crate) async fn step(c: &Client, a: &Value, action: &str, extra: Value) -> Value {
    let mut body = json!({ "revision": a["revision"] });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (s, v) = c
        .post(
            &format!(
                "/api/v1/applications/{}/{action}",
                a["id"].as_str().unwrap()
            ),
            body,
        )
        .await;
    assert_eq!(s, 200, "{action} {}: {v}", a["service"]);
    outcome_app(&v).clone()
}

pub(crate) async fn accept_at(
    c: &Client,
    service: &str,
    channel: &str,
    iin: &str,
    data: Value,
) -> Value {
    let (s, v) = c
        .post(
            "/api/v1/applications",
            json!({ "service": service, "channel": channel, "urgency": "general", "applicant": iin, "data": data }),
        )
        .await;
    assert_eq!(s, 200, "{service}: {v}");
    outcome_app(&v).clone()
}

/// Every service's result is a signed PDF with its own content in Kazakh and Russian;
/// the address certificate carries two signatures (pdfsig); a revoked document is said
/// to be revoked by the public verification; the upload at /verify/{id} takes more than
/// the server-wide body limit.
async fn service_results(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let iin = app.report.citizens[2].0.to_string();
    let district = app.login("district.astana").await;
    let foreigner = |passport: &str| json!({ "surname": "Ivanov", "given_name": "Petr", "birth_date": "1990-05-17", "sex": "M", "citizenship": "RU", "passport": passport });
    // 2014: the services for foreigners, at the unit.
    let mut foreign = Vec::new();
    for (service, data) in [
        (
            "S6",
            json!({ "foreigner": foreigner("S6000001"), "zone": "Кордай, участок 3", "until": "2014-07-15" }),
        ),
        (
            "S7",
            json!({ "foreigner": foreigner("S7000001"), "purpose": "воссоединение семьи", "until": "2014-09-01" }),
        ),
        (
            "S8",
            json!({ "foreigner": foreigner("S8000001"), "until": "2014-08-01" }),
        ),
    ] {
        let a = accept_at(&district, service, "unit", &iin, data).await;
        let a = step(&district, &a, "complete", json!({})).await;
        let a = step(&district, &a, "check", json!({})).await;
        let a = step(&district, &a, "issue", json!({ "receiver": iin })).await;
        assert_eq!(a["status"], "issued", "{a}");
        foreign.push(a);
    }
    let (pass, _, t) = doc_of(
        &app,
        &district,
        foreign[0]["id"].as_str().unwrap(),
        "border_zone_pass",
    )
    .await;
    has_all(
        "pass",
        &t,
        &[
            "Шекаралық аймаққа кіруге рұқсатнама",
            "Пропуск на въезд в пограничную зону",
            "Шекаралық аймақ",
            "Пограничная зона",
            "Кордай, участок 3",
            "Срок действия",
            "Жарамдылық мерзімі",
            "02.06.2014 – 15.07.2014",
            "IVANOV PETR",
            "S6000001",
            "BZP",
        ],
    );
    let (_, _, t) = doc_of(
        &app,
        &district,
        foreign[1]["id"].as_str().unwrap(),
        "invitation",
    )
    .await;
    has_all(
        "invitation",
        &t,
        &[
            "Қазақстан Республикасына келуге шақыру",
            "Приглашение на въезд в Республику Казахстан",
            "Шақырушы тарап",
            "Приглашающая сторона",
            &iin,
            "воссоединение семьи",
            "Срок пребывания",
            "01.09.2014",
            "IVANOV PETR",
            "INV",
        ],
    );
    let (_, _, t) = doc_of(
        &app,
        &district,
        foreign[2]["id"].as_str().unwrap(),
        "foreigner_registration_insert",
    )
    .await;
    has_all(
        "insert",
        &t,
        &[
            "Шетелдікті тіркеу туралы паспортқа қосымша парақ",
            "Вкладыш к паспорту о регистрации иностранца",
            "Тіркелген мерзімі",
            "Срок регистрации",
            "02.06.2014 – 01.08.2014",
            "Принимающая сторона",
            "S8000001",
            "FR",
        ],
    );
    // Five years on: the other services (2018 rules), and S9 (2019).
    app.clock.set("2019-04-02T10:00:00+06:00".parse().unwrap());
    let counter = app.login("op.astana.1").await;
    let district = app.login("district.astana").await;
    // S2 and S3 of 2018 are taken in by the ОМС officer at this State Corporation counter
    // (issue 28 item 9).
    let workstation = counter.get("/api/v1/me").await.1["unit"].clone();
    let row = drn_store::query("SELECT a.rka, a.full_text FROM ar_addresses a JOIN ar_ate t ON t.kato = a.ate_kato WHERE t.unit_id = 'D71-1' AND a.kind = 'premise' AND a.active = 1 ORDER BY a.rka LIMIT 1")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    let (rka, full): (String, String) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
    // S3: registration at the place of residence.
    let a = accept_at(
        &district,
        "S3",
        "counter",
        &iin,
        json!({ "unit": workstation, "kind": "permanent", "rka": rka, "owner_iin": iin }),
    )
    .await;
    let s3 = step(&district, &a, "issue", json!({ "receiver": iin })).await;
    let (_, _, t) = doc_of(
        &app,
        &district,
        s3["id"].as_str().unwrap(),
        "residence_registration_notice",
    )
    .await;
    let street = full
        .split(", ")
        .find(|p| p.starts_with("ул."))
        .unwrap_or(&full)
        .to_string();
    has_all(
        "notice",
        &t,
        &[
            "Тұрғылықты жері бойынша тіркеу туралы хабарлама",
            "Уведомление о регистрации по месту жительства",
            "Регистрационный код адреса (РКА)",
            "Мекенжайдың тіркеу коды",
            &rka,
            &street,
            "постоянная (по месту жительства)",
            "Дата регистрации",
            "02.04.2019",
        ],
    );
    // S5: the address certificate, signed by the MVD and the Ministry of Justice.
    let a = accept_at(&counter, "S5", "counter", &iin, json!({})).await;
    let a = step(&counter, &a, "check", json!({})).await;
    let s5 = step(&counter, &a, "issue", json!({ "receiver": iin })).await;
    let (cert, cert_pdf, t) = doc_of(
        &app,
        &counter,
        s5["id"].as_str().unwrap(),
        "address_certificate",
    )
    .await;
    has_all(
        "certificate",
        &t,
        &[
            "Тұрғылықты жерінен мекенжай анықтамасы",
            "Адресная справка с места жительства",
            &iin,
            &rka,
            &street,
            "РКА",
            "AS",
            "Министерства юстиции",
            "Әділет министрлігінің",
        ],
    );
    let v = drn_docs::verify(&cert_pdf, app.state.pki.ca_der()).unwrap();
    assert_eq!(v.signatures.len(), 2, "{v:?}");
    if have_tool("pdfsig") {
        let report = pdfsig_report(&cert_pdf);
        assert_eq!(
            report
                .matches("Signature Validation: Signature is Valid")
                .count(),
            2,
            "pdfsig: {report}"
        );
    }
    // S2: the temporary ID card.
    let a = accept_at(
        &district,
        "S2",
        "counter",
        &iin,
        json!({ "unit": workstation, "reason": "утеря удостоверения личности", "valid_until": "2019-05-02" }),
    )
    .await;
    let a = step(&district, &a, "complete", json!({})).await;
    let s2 = step(&counter, &a, "issue", json!({ "receiver": iin })).await;
    let (_, _, t) = doc_of(
        &app,
        &counter,
        s2["id"].as_str().unwrap(),
        "temporary_id_card",
    )
    .await;
    has_all(
        "temporary id",
        &t,
        &[
            "Уақытша жеке куәлік",
            "Временное удостоверение личности",
            "Основание выдачи",
            "Беру негізі",
            "утеря удостоверения личности",
            "Действительно до",
            "02.05.2019",
            &iin,
            "TID",
        ],
    );
    // S4: deregistration, with the departure address sheet.
    let a = accept_at(
        &counter,
        "S4",
        "counter",
        &iin,
        json!({ "ground": "abroad", "destination": "Германия" }),
    )
    .await;
    let s4 = step(&district, &a, "issue", json!({ "receiver": iin })).await;
    let (sheet, _, t) = doc_of(
        &app,
        &district,
        s4["id"].as_str().unwrap(),
        "departure_sheet",
    )
    .await;
    has_all(
        "departure sheet",
        &t,
        &[
            "Мекенжайдан кету парағы",
            "Адресный листок убытия",
            "Основание снятия с регистрации",
            "Тіркеуден шығару негізі",
            "выезд на постоянное жительство",
            "шетелге тұрақты тұруға",
            "Германия",
            &rka,
            &street,
            "ALU",
        ],
    );
    // S9: the IIN formed for a foreigner; the talon of acceptance first.
    let (s, v) = counter
        .post("/api/v1/foreigners/applications", json!({ "service": "S9", "channel": "counter", "urgency": "general", "foreigner": { "surname": "Smith", "given_name": "John", "birth_date": "1988-12-12", "sex": "M", "citizenship": "GB", "passport": "GB1234567" } }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = outcome_app(&v).clone();
    let (_, _, t) = doc_of(
        &app,
        &counter,
        a["id"].as_str().unwrap(),
        "acceptance_talon",
    )
    .await;
    has_all(
        "acceptance talon",
        &t,
        &[
            "Құжаттарды қабылдау туралы талон",
            "Талон о приеме документов",
            "SMITH JOHN",
            "GB1234567",
            "Гражданство",
            "GB",
        ],
    );
    let a = step(&counter, &a, "complete", json!({})).await;
    let a = step(
        &counter,
        &a,
        "complete",
        json!({ "note": "consent form No 17" }),
    )
    .await;
    let a = step(&counter, &a, "complete", json!({})).await;
    let sys = drn_engine::Actor::system();
    let o = app
        .state
        .execute(
            &sys,
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
    let formed = a["applicant"].as_str().unwrap().to_string();
    assert_eq!(formed.len(), 12, "{a}");
    let s9 = step(&district, &a, "issue", json!({ "receiver": formed })).await;
    let (_, _, t) = doc_of(
        &app,
        &district,
        s9["id"].as_str().unwrap(),
        "iin_certificate",
    )
    .await;
    has_all(
        "IIN certificate",
        &t,
        &[
            "Жеке сәйкестендіру нөмірін қалыптастыру туралы куәлік",
            "Свидетельство о формировании индивидуального идентификационного номера",
            "Индивидуальный идентификационный номер (ИИН)",
            &formed,
            "SMITH JOHN",
            "12.12.1988",
            "GB1234567",
            "Дата формирования ИИН",
            "02.04.2019",
        ],
    );
    // Revocation: not by a role that does not revoke, nor by another unit; by the centre.
    let cert_id = cert["id"].as_str().unwrap();
    let revoke = |id: &str| format!("/api/v1/documents/{id}/revoke");
    let production = app.login("production").await;
    let (s, v) = production
        .post(&revoke(cert_id), json!({ "reason": "выдана по ошибке" }))
        .await;
    assert_eq!(
        (s, &v["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("forbidden_role")),
        "{v}"
    );
    let pass_id = pass["id"].as_str().unwrap();
    let (s, v) = counter
        .post(&revoke(pass_id), json!({ "reason": "выдан по ошибке" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another unit's document: {v}");
    let centre = app.login("centre").await;
    let (s, v) = centre
        .post(&revoke(cert_id), json!({ "reason": "x" }))
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required: {v}"
    );
    let (s, v) = centre
        .post(
            &revoke(cert_id),
            json!({ "reason": "адрес указан с ошибкой" }),
        )
        .await;
    assert_eq!((s, &v["revoked"]), (StatusCode::OK, &json!(true)), "{v}");
    let (s, _) = centre
        .post(
            &revoke(cert_id),
            json!({ "reason": "адрес указан с ошибкой" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "revoked once");
    // The issuing unit revokes its own.
    let (s, v) = district
        .post(
            &revoke(sheet["id"].as_str().unwrap()),
            json!({ "reason": "ошибка в основании" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let anon = reqwest::Client::new();
    let v: Value = anon
        .get(format!("{}/api/v1/verify/{cert_id}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&v["revoked"], &v["valid"], &v["genuine"], &v["unchanged"]),
        (&json!(true), &json!(false), &json!(true), &json!(true)),
        "{v}"
    );
    let html = anon
        .get(format!("{}/verify/{cert_id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Документ отозван")
            || html.contains("Құжаттың күші жойылған")
            || html.contains("revoked"),
        "{html}"
    );
    let (n,): (i64,) = {
        let r = drn_store::query("SELECT COUNT(*) FROM audit WHERE action = 'document_revoked'")
            .fetch_one(app.db.reader())
            .await
            .unwrap();
        (r.try_get(0).unwrap(),)
    };
    assert_eq!(n, 2, "each revocation is audited");
    // The upload of a copy may exceed the server-wide limit; other routes keep it.
    let upload = |body: Vec<u8>| {
        anon.post(format!("{}/verify/{cert_id}", app.base))
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let mut big = cert_pdf.clone();
    big.resize(1024 * 1024, b' ');
    let r = upload(big).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["revoked"]),
        (&json!(false), &json!(true)),
        "{v}"
    );
    let r = upload(cert_pdf.clone()).await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["identical"], &v["genuine"], &v["valid"]),
        (&json!(true), &json!(true), &json!(false)),
        "{v}"
    );
    // Too large: 413, or the connection closed before the whole body was sent.
    let refused = |r: Result<reqwest::Response, reqwest::Error>| match r {
        Ok(r) => r.status() == StatusCode::PAYLOAD_TOO_LARGE,
        Err(e) => e.is_request(),
    };
    assert!(refused(upload(vec![b' '; 6 * 1024 * 1024]).await));
    let r = anon
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 300 * 1024])
        .send()
        .await;
    assert!(refused(r), "the server-wide limit stays");
    let r = anon
        .post(format!("{}/portal/verify", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await;
    assert!(refused(r), "the server-wide limit stays for the pages");
}

on_both!(
    service_results_pdf_content_signatures_and_revocation,
    service_results
);
