//! Issue 28 items 4 and 11 over HTTP: a mistaken intake is undone by its counter or its
//! district (and by no one else); the workstation's accept form is sent once (a one-time
//! key, Post/Redirect/Get); a second open application of a service is refused; the
//! portal's form sends the service's own fields (S3's address, S8's foreigner).

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
    // Another counter, which may not read it: not found, as for its read (issue 31
    // item 11). The region (which does not hold it) and the applicant: forbidden.
    let (s, v) = other_counter.post(&annul, body.clone()).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let read = other_counter
        .get(&format!(
            "/api/v1/applications/{}",
            a["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!((read.0, &read.1["error"]["code"]), (s, &v["error"]["code"]));
    for c in [&region, &citizen] {
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

/// An accept form's one-time key, documents and further fields (see [`accept_form`]).
type Form = (String, Vec<String>, Vec<(String, String)>);

/// A browser that does not follow redirects, signed in as `user`; its CSRF token.
async fn browser(app: &App, user: &str) -> (reqwest::Client, String) {
    let http = jar_client_no_redirects();
    let c = app.login_on(http, user).await;
    (c.http, c.csrf)
}

/// The form fields of `service`'s accept form on the person page: its one-time key, its
/// checklist's documents, its channel and the first State Corporation counter it offers
/// (the ОМС officer's intake of S2 and S3 of 2018, issue 28 item 9).
fn accept_form(html: &str, service: &str) -> Form {
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
    let mut fields = vec![(
        "channel".to_string(),
        value_after(&form[form.find("name=\"channel\"").unwrap()..]),
    )];
    if let Some(i) = form.find("name=\"d.unit\"") {
        fields.push(("d.unit".into(), value_after(&form[i..])));
    }
    (key, docs, fields)
}

async fn accept_once(url: &str) {
    let app = spawn_app(url).await;
    // S2 of 2018 is taken in by the ОМС officer at a State Corporation counter.
    let (http, csrf) = browser(&app, "district.astana").await;
    let post_with = |token: String, iin: String, (key, docs, fields): Form| {
        let mut form = vec![
            ("_csrf".to_string(), token),
            ("iin".to_string(), iin),
            ("service".into(), "S2".into()),
            ("urgency".into(), "general".into()),
            ("idem".into(), key),
            ("d.reason".into(), "удостоверение утеряно".into()),
        ];
        form.extend(docs.into_iter().map(|d| ("doc".to_string(), d)));
        form.extend(fields);
        http.post(format!("{}/ws/applications", app.base))
            .form(&form)
            .send()
    };
    let post = |iin, form| post_with(csrf.clone(), iin, form);
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
    let form = accept_form(&first_page, "S2");
    assert_eq!(form.2[0].1, "counter", "{:?}", form.2);
    let workstation = form.2[1].1.clone();
    let forged = post_with("0".repeat(64), app.report.citizens[0].0.to_string(), form)
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    assert_eq!(forged.headers()["location"], "/login");
    // The first demo citizen without an open S2.
    let mut found = None;
    for (iin, _, _) in app.report.citizens.iter().take(6) {
        let form = accept_form(&page(iin.to_string()).await, "S2");
        assert!(
            form.0.starts_with("ws-accept-") && form.0.ends_with("-S2"),
            "{}",
            form.0
        );
        let r = post(iin.to_string(), form.clone()).await.unwrap();
        if r.status() == StatusCode::SEE_OTHER {
            found = Some((iin.to_string(), form, r));
            break;
        }
    }
    let (iin, form, first) = found.expect("a citizen without an open S2");
    // Post/Redirect/Get: 303 to the application's page, no CSRF token in the address.
    let location = first.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/ws/applications/"), "{location}");
    assert!(!location.contains("_csrf"), "{location}");
    // The same form sent again (a reload of the POST) is the same application.
    let again = post(iin.clone(), form).await.unwrap();
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
    let r = post(iin.clone(), accept_form(&page(iin.clone()).await, "S2"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains(&number), "{body}");
    // And through the API, in the caller's language.
    let (s, v) = app
        .login("district.astana")
        .await
        .post("/api/v1/applications", json!({ "service": "S2", "channel": "counter", "urgency": "general", "applicant": iin, "data": { "unit": workstation } }))
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

/// Issue 28 item 9 over HTTP: S2 and S3 of 2018 are the ОМС officer's intake at a State
/// Corporation workstation (seed 000 paras 6 and 7). The district officer's person page
/// offers them with a choice of the counters of their district; the counter operator's no
/// longer does, and the API refuses the operator with the reason, in the caller's language.
async fn oms_intake(url: &str) {
    let app = spawn_app(url).await;
    let (iin, _, _) = &app.report.citizens[0];
    let page = |user: &'static str| {
        let app = &app;
        async move {
            let (http, _) = browser(app, user).await;
            let r = http
                .get(format!("{}/ws/person?iin={iin}", app.base))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let offers =
        |html: &str, code: &str| html.contains(&format!("name=\"service\" value=\"{code}\""));
    let counter_page = page("op.astana.1").await;
    assert!(offers(&counter_page, "S1"));
    assert!(!offers(&counter_page, "S2") && !offers(&counter_page, "S3"));
    let district_page = page("district.astana").await;
    let district = app.login("district.astana").await;
    let (s, me) = district.get("/api/v1/me").await;
    assert_eq!(s, 200, "{me}");
    let mine = me["unit"].as_str().unwrap().to_string();
    let (_, units) = district.get("/api/v1/units").await;
    let units = units.as_array().unwrap();
    let under = |c: &Value| c["kind"] == "counter" && c["parent"] == mine.as_str();
    let own: Vec<&str> = units
        .iter()
        .filter(|u| under(u))
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(!own.is_empty(), "{mine}");
    for code in ["S2", "S3"] {
        assert!(offers(&district_page, code), "{code}");
        let (_, _, fields) = accept_form(&district_page, code);
        assert_eq!(fields[0], ("channel".into(), "counter".into()), "{code}");
        assert!(own.contains(&fields[1].1.as_str()), "{code}: {fields:?}");
    }
    // Only counters of the officer's district are offered.
    let others = units.iter().filter(|u| u["kind"] == "counter" && !under(u));
    for u in others {
        let id = u["id"].as_str().unwrap();
        assert!(
            !district_page.contains(&format!("<option value=\"{id}\">")),
            "{id}"
        );
    }
    // The operator through the API: 403 with the reason and the seed, in Russian.
    let counter = app.login("op.astana.1").await;
    let r = counter
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &counter.csrf)
        .header("accept-language", "ru")
        .json(&json!({ "service": "S2", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    let m = v["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("Сотрудник ОМС")
            && m.contains("Приказ № 55 от 26.01.2018")
            && !m.contains(".txt"),
        "{v}"
    );
    // The district officer at a counter of another district: refused, naming the field.
    let elsewhere = units
        .iter()
        .find(|u| u["kind"] == "counter" && !under(u))
        .unwrap()["id"]
        .clone();
    let (s, v) = district
        .post("/api/v1/applications", json!({ "service": "S2", "channel": "counter", "urgency": "general", "applicant": iin.to_string(), "data": { "unit": elsewhere } }))
        .await;
    assert_eq!(
        (s.as_u16(), &v["error"]["field"]),
        (422, &json!("data.unit")),
        "{v}"
    );
}

on_both!(
    the_oms_officer_takes_s2_and_s3_in_at_a_counter_of_their_district,
    oms_intake
);

/// The first `<option value="…">` after `name="unit"` on a page.
/// The demo's citizen who lives in Almaty (a region the demo staffs down to its districts).
fn almaty_resident(app: &App) -> usize {
    app.report
        .citizens
        .iter()
        .position(|c| c.2.starts_with("Almaty resident"))
        .expect("the demo's Almaty resident")
}

pub(crate) fn first_unit_option(html: &str) -> String {
    let from = html.find("name=\"unit\"").expect("a unit select");
    let rest = &html[from..];
    let at = rest.find("<option value=\"").expect("an option") + "<option value=\"".len();
    rest[at..].split('"').next().unwrap().to_string()
}

/// Issue 28: S3 and S8 of 2014 through the portal's own form. The form sent only the unit,
/// so S3's address and S8's foreigner never reached the intake and the citizen got an error.
async fn portal_form_sends_the_service_fields(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let staff = app.login("op.astana.1").await;
    let (s, found) = staff
        .get("/api/v1/addresses?q=%D0%90%D0%B1%D0%B0%D1%8F&limit=20")
        .await;
    assert_eq!(s, 200, "{found}");
    let rka = found
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["full"].as_str().unwrap_or("").contains("кв."))
        .expect("a dwelling in the register")["rka"]
        .as_str()
        .unwrap()
        .to_string();
    // The citizen with a valid ID card (the portal's S3 is for chip holders, 2014 para 6).
    let citizen = citizen_client(&app, 3).await;
    let html = page(&citizen, "/portal/apply").await;
    assert!(
        html.contains("name=\"d.rka\""),
        "S3's address on the portal form"
    );
    assert!(
        html.contains("name=\"d.foreigner.passport\""),
        "S8's foreigner on the portal form"
    );
    let unit = first_unit_option(&html);
    let post = |fields: Vec<(&'static str, String)>| {
        let mut form = vec![("unit", unit.clone()), ("urgency", "general".to_string())];
        form.extend(fields);
        citizen
            .http
            .post(format!("{}/portal/apply?_csrf={}", app.base, citizen.csrf))
            .form(&form)
            .send()
    };
    // S8 first: S3 moves the citizen, and the units offered with them.
    let r = post(vec![
        ("service", "S8".into()),
        ("d.foreigner.surname", "Schmidt".into()),
        ("d.foreigner.given_name", "Anna".into()),
        ("d.foreigner.birth_date", "1990-07-01".into()),
        ("d.foreigner.sex", "F".into()),
        ("d.foreigner.citizenship", "DE".into()),
        ("d.foreigner.passport", "C01X00T47".into()),
        ("d.until", "2014-07-15".into()),
    ])
    .await
    .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let r = post(vec![
        ("service", "S3".into()),
        ("d.kind", "permanent".into()),
        ("d.rka", rka.clone()),
    ])
    .await
    .unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    let (s, mine) = citizen.get("/api/v1/my/applications").await;
    assert_eq!(s, 200, "{mine}");
    let of = |code: &str| {
        mine.as_array()
            .unwrap()
            .iter()
            .find(|a| a["service"] == code)
            .unwrap_or_else(|| panic!("{code} was taken in through the portal form: {mine}"))
            .clone()
    };
    // S3: the portal's steps ran, the registration is made at the chosen address.
    let s3 = of("S3");
    assert_eq!(s3["status"], "issued", "{s3}");
    assert_eq!(s3["data"]["input"]["rka"], rka.as_str(), "{s3}");
    // S8: with the district, the foreigner's data as sent.
    let s8 = of("S8");
    assert_eq!(s8["status"], "in_progress", "{s8}");
    assert_eq!(
        s8["data"]["input"]["foreigner"]["passport"], "C01X00T47",
        "{s8}"
    );
}

on_both!(
    portal_form_sends_the_service_fields_s3_s8_2014,
    portal_form_sends_the_service_fields
);

/// S8 through the portal with the last day of the registered stay (`d.until`, which the
/// e-signed insert prints): none, or a day not after the day of application, comes back on
/// the form beside the field in the citizen's language with what was typed, nothing made;
/// a good one reaches the application's data, and the insert the district issues to the
/// personal cabinet prints the term.
async fn portal_s8_until(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let http = jar_client_no_redirects();
    // A resident of a region the demo staffs, so the district above the counter has an
    // officer to issue the insert.
    let idx = almaty_resident(&app);
    let citizen = citizen_client_on(&app, idx, http).await;
    let iin = app.report.citizens[idx].0.to_string();
    let html = page(&citizen, "/portal/apply").await;
    assert!(
        html.contains(
            "id=\"p-s8-until\" type=\"date\" name=\"d.until\" required min=\"2014-06-03\""
        ),
        "S8's last day of the stay on the portal form, a day after today at the least"
    );
    let unit = first_unit_option(&html);
    let post = |until: &str, idem: &str| {
        let form = s8_portal_form(&unit, idem, ["Novak", "Petra", "CZ", "C01X00T48"], until);
        portal_apply(&citizen, form)
    };
    let mine = || my_applications(&citizen, "S8");
    for (until, idem, why) in [
        (
            "2014-06-02",
            "s8-until-1",
            ["бүгіннен кейінгі күн", "позже сегодняшнего"],
        ),
        (
            "2014-05-01",
            "s8-until-2",
            ["бүгіннен кейінгі күн", "позже сегодняшнего"],
        ),
        (
            "",
            "s8-until-3",
            ["уақытша болудың соңғы күні", "последний день временного"],
        ),
        ("15.13.2014", "s8-until-4", ["", ""]),
    ] {
        let r = post(until, idem).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{until}");
        let html = r.text().await.unwrap();
        let at = html
            .find("id=\"err-S8-until\"")
            .unwrap_or_else(|| panic!("{until}: the reason beside the field: {html}"));
        let reason = &html[at..at + html[at..].find("</p>").unwrap()];
        assert!(why.iter().any(|w| reason.contains(w)), "{until}: {reason}");
        assert!(
            html.contains(&format!(
                "name=\"d.until\" required min=\"2014-06-03\" value=\"{until}\" aria-invalid=\"true\""
            )),
            "{until}: the field keeps what was typed and is marked"
        );
        assert!(
            html.contains("value=\"C01X00T48\"") && html.contains("id=\"apply-S8\" open"),
            "{until}: the other fields keep what was typed"
        );
    }
    assert!(mine().await.is_empty(), "nothing made");
    // A day after today: taken in, the last day in the application's data.
    let r = post("2014-07-15", "s8-until-5").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let made = mine().await;
    assert_eq!(made.len(), 1, "{made:?}");
    let id = made[0]["id"].as_str().unwrap().to_string();
    // The district above the chosen counter signs the insert at step 2.
    let holder = made[0]["holder_unit"].as_str().unwrap().to_string();
    let officer = app
        .report
        .accounts
        .iter()
        .find(|a| a.unit.as_str() == holder && a.role == drn_engine::Role::DistrictOfficer)
        .unwrap_or_else(|| panic!("an officer of {holder}"))
        .username
        .clone();
    let district = app.login(&officer).await;
    let (s, a) = district.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(
        (
            a["process"].as_str(),
            a["step"].as_i64(),
            a["status"].as_str()
        ),
        (Some("portal"), Some(2), Some("in_progress")),
        "{a}"
    );
    assert_eq!(a["data"]["input"]["until"], "2014-07-15", "{a}");
    let a = crate::results::step(&district, &a, "issue", json!({ "receiver": iin })).await;
    assert_eq!(a["status"], "issued", "{a}");
    let (_, _, t) =
        crate::results::doc_of(&app, &citizen, &id, "foreigner_registration_insert").await;
    crate::results::has_all(
        "insert",
        &t,
        &[
            "Вкладыш к паспорту о регистрации иностранца",
            "Тіркелген мерзімі",
            "Срок регистрации",
            "02.06.2014 – 15.07.2014",
            "C01X00T48",
        ],
    );
    // The citizen's cabinet lists it.
    let docs = page(&citizen, "/portal/documents").await;
    assert!(docs.contains("data-doc-pdf"), "{docs}");
}

on_both!(
    portal_s8_takes_the_last_day_of_the_stay_2014,
    portal_s8_until
);

on_both!(
    portal_s5_refusal_says_where_the_address_is_corrected_2014,
    portal_s5_without_a_register_address
);

/// S5 through the portal for a person whose address the register does not hold (a demo
/// person before any registration): the portal refuses the request (seed 002, the S5
/// regulation's annex 3 table 1 rows 5 and 6), nothing is made, and the message tells the
/// citizen, in their language, where the address is corrected: at a State Corporation
/// counter, by the migration service (the counter's route, annex 1 table 1 row 2).
async fn portal_s5_without_a_register_address(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let idx = almaty_resident(&app);
    let citizen = citizen_client_on(&app, idx, jar_client_no_redirects()).await;
    for (lang, words) in [
        (
            "ru",
            "через портал справка не может быть выдана; обратитесь в ЦОН, миграционная служба исправит адрес",
        ),
        (
            "kk",
            "анықтама портал арқылы берілмейді; ХҚКО-ға жүгініңіз, көші-қон қызметі мекенжайды түзетеді",
        ),
    ] {
        citizen
            .http
            .get(format!("{}/lang/{lang}?back=/portal/apply", citizen.base))
            .send()
            .await
            .unwrap();
        let html = page(&citizen, "/portal/apply").await;
        let form = vec![
            ("service", "S5".to_string()),
            ("idem", format!("s5-portal-{lang}")),
            ("unit", first_unit_option(&html)),
            ("urgency", "general".to_string()),
        ];
        let r = portal_apply(&citizen, form).await.unwrap();
        assert!(r.status().is_client_error(), "{lang}: {}", r.status());
        let html = r.text().await.unwrap();
        assert!(html.contains(words), "{lang}: {html}");
    }
    assert!(
        my_applications(&citizen, "S5").await.is_empty(),
        "nothing made"
    );
}

on_both!(
    portal_s3_finds_the_address_in_the_register_2014,
    portal_s3_address_search
);

/// S3 through the portal: no citizen knows their flat's 16-digit code (РКА), so the form
/// searches the address register, lists the addresses found with a "choose" link, and the
/// code chosen fills the form, which registers the citizen at that address. A search of
/// one letter is refused in the citizen's language.
async fn portal_s3_address_search(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let citizen = citizen_client(&app, 3).await;
    // "Абая": the street every demo district has.
    let html = page(&citizen, "/portal/apply?addr_q=%D0%90%D0%B1%D0%B0%D1%8F").await;
    assert!(html.contains("id=\"p-addr-results\""), "{html}");
    let row = html
        .split("<tr>")
        .find(|r| r.contains("кв.") && r.contains("rka="))
        .expect("a flat among the addresses found");
    let at = row.find("rka=").unwrap() + 4;
    let rka: String = row[at..].chars().take_while(char::is_ascii_digit).collect();
    assert_eq!(rka.len(), 16, "{row}");
    // Each address with its district: a city's districts have streets of the same name.
    assert!(row.contains("район</td>"), "{row}");
    assert!(
        !html
            .split("<tr>")
            .any(|r| r.contains("rka=") && !r.contains("д. ")),
        "only buildings and premises to choose: {html}"
    );
    let chosen = page(
        &citizen,
        &format!("/portal/apply?addr_q=%D0%90%D0%B1%D0%B0%D1%8F&rka={rka}"),
    )
    .await;
    assert!(
        chosen.contains(&format!("name=\"d.rka\" size=\"18\" inputmode=\"numeric\" pattern=\"[0-9]{{16}}\" required value=\"{rka}\"")),
        "the code chosen fills the form: {chosen}"
    );
    assert!(
        chosen.contains("id=\"apply-S3\" open"),
        "the S3 form is open"
    );
    assert!(chosen.contains("Регистрационный код адреса"), "{chosen}");
    let short = page(&citizen, "/portal/apply?addr_q=%D0%B0").await;
    assert!(short.contains("role=\"alert\""), "{short}");
    assert!(!short.contains("p-addr-results"), "nothing listed");
    citizen
        .http
        .get(format!("{}/lang/kk?back=/portal/apply", citizen.base))
        .send()
        .await
        .unwrap();
    let kk_found = page(&citizen, "/portal/apply?addr_q=%D0%90%D0%B1%D0%B0%D1%8F").await;
    assert!(
        kk_found.contains("ауданы</td>"),
        "the district in Kazakh: {kk_found}"
    );
    let kk = page(&citizen, &format!("/portal/apply?rka={rka}")).await;
    assert!(kk.contains("Мекенжайдың тіркеу коды"), "{kk}");
    let form = vec![
        ("service", "S3".to_string()),
        ("idem", "s3-search".to_string()),
        ("unit", first_unit_option(&chosen)),
        ("urgency", "general".to_string()),
        ("d.kind", "permanent".to_string()),
        ("d.rka", rka.clone()),
    ];
    let r = portal_apply(&citizen, form).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mine = my_applications(&citizen, "S3").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0].to_string().contains(&rka), "{}", mine[0]);
}
