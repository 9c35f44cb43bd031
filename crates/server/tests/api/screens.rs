//! Issue 29: the screens officers and citizens work in: the whole case on the card, the
//! district's way in by a foreigner's passport, names validated as names, and the API's
//! refusals (a JSON body it cannot read, a body over the limit) in the one error shape in
//! the caller's language.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// A client that keeps cookies and does not follow redirects, with its CSRF token.
async fn browser(app: &App, user: &str) -> (reqwest::Client, String) {
    let http = jar_client_no_redirects();
    let c = app.login_on(http, user).await;
    (c.http, c.csrf)
}

/// A page's HTML whatever its status (an error page's too).
async fn any_text(http: &reqwest::Client, url: String) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

async fn text(http: &reqwest::Client, url: String) -> String {
    let r = http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// S9 at the counter: the card names the foreigner by name and passport (not by the key
/// `F:IE:…`), lists what was entered, names units by name; the district finds the
/// application by the passport from its workstation; the sex is offered in words.
async fn case_on_card(url: &str) {
    let app = spawn_app(url).await;
    let (http, csrf) = browser(&app, "op.astana.1").await;
    let home = text(&http, format!("{}/ws", app.base)).await;
    assert!(home.contains("id=\"passport-q\""), "the search by passport");
    assert!(
        !home.contains("<option value=\"M\">M</option>"),
        "the sex in words"
    );
    let form = &home[home.find("action=\"/ws/foreigners\"").unwrap()..];
    let key = &form[form.find("name=\"idem\" value=\"").unwrap() + 20..];
    let key = &key[..key.find('"').unwrap()];
    let r = http
        .post(format!("{}/ws/foreigners", app.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("idem", key),
            ("surname", "O'Neil"),
            ("given_name", "Mary-Ann"),
            ("birth_date", "1990-04-05"),
            ("sex", "F"),
            ("citizenship", "IE"),
            ("passport", "PA1234567"),
            ("migration_card", "MK 55501"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let card_url = r.headers()["location"].to_str().unwrap().to_string();
    let card = text(&http, format!("{}{card_url}", app.base)).await;
    assert!(card.contains("Neil Mary-Ann"), "{card}");
    assert!(
        card.contains("PA1234567") && card.contains("MK 55501"),
        "{card}"
    );
    assert!(
        card.contains("05.04.1990"),
        "the birth date as people write it"
    );
    assert!(!card.contains("F:IE:PA1234567"), "not the applicant's key");
    assert!(!card.contains(">C71-1-1<"), "the unit by name, not code");
    // The district's and the counter's way in: by the passport.
    let (district, _) = browser(&app, "district.astana").await;
    let home = text(&district, format!("{}/ws", app.base)).await;
    assert!(home.contains("id=\"passport-q\"") && home.contains("action=\"/ws/person\""));
    let found = text(&http, format!("{}/ws?passport=pa1234567", app.base)).await;
    let found = &found[found.find("id=\"passport-found\"").unwrap()..];
    let found = &found[..found.find("</div>").unwrap()];
    assert!(
        found.contains(&card_url.replace("?intake=1", "")),
        "{found}"
    );
    assert!(found.contains("Neil Mary-Ann"));
    let none = text(&http, format!("{}/ws?passport=ZZ0000000", app.base)).await;
    let none = &none[none.find("id=\"passport-found\"").unwrap()..];
    let none = &none[..none.find("</div>").unwrap()];
    assert!(!none.contains("PA1234567"), "{none}");
}

on_both!(the_card_shows_the_whole_case, case_on_card);

/// Names are names, in each language's words: HTML, digits and a 5,000-letter surname
/// are refused with what is wrong and the field; a JSON body the parser cannot read gets
/// the one error shape in the caller's language with the field, not the parser's English;
/// a body over the limit too.
async fn refusals_in_words(url: &str) {
    let app = spawn_app(url).await;
    let c = app.login("op.astana.1").await;
    let foreigner = |surname: &str| {
        json!({ "service": "S9", "channel": "counter", "urgency": "general",
            "foreigner": { "surname": surname, "given_name": "John", "birth_date": "1990-01-01",
                "sex": "M", "citizenship": "GB", "passport": "GB1234567" } })
    };
    let post_ru = |body: Value| {
        let c = &c;
        async move {
            let r = c
                .http
                .post(format!("{}/api/v1/foreigners/applications", c.base))
                .header("x-csrf-token", &c.csrf)
                .header("accept-language", "ru")
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, v) = post_ru(foreigner("<IMG SRC=X ONERROR=ALERT(1)>")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "foreigner.surname", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("Фамилия") && m.contains("только буквы"), "{m}");
    let (s, v) = post_ru(foreigner(&"Я".repeat(5000))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("длиннее 60"),
        "{v}"
    );
    // Kazakh, Russian and Latin letters, hyphens, apostrophes, spaces: taken.
    let (s, v) = post_ru(foreigner("Әбілқасымова-O'Brien")).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A JSON body of the wrong shape: the field and a message in the caller's language.
    let r = c
        .http
        .post(format!("{}/api/v1/applications", c.base))
        .header("x-csrf-token", &c.csrf)
        .header("accept-language", "kk")
        .header("content-type", "application/json")
        .body(r#"{"service":"S1","channel":"counter","urgency":"general","applicant":12}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "applicant", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("өрісі") && !m.contains("deserialize"), "{m}");
    // Not JSON at all.
    let r = c
        .http
        .post(format!("{}/api/v1/applications", c.base))
        .header("x-csrf-token", &c.csrf)
        .header("accept-language", "ru")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid");
    assert!(v["error"]["message"].as_str().unwrap().contains("JSON"));
    // Over the limit: 413 in the same shape.
    let r = c
        .http
        .post(format!("{}/api/v1/applications", c.base))
        .header("x-csrf-token", &c.csrf)
        .header("accept-language", "ru")
        .header("content-type", "application/json")
        .body(format!(r#"{{"service":"{}"}}"#, "x".repeat(400 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "too_large", "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("слишком большой"));
}

on_both!(
    refusals_say_what_is_wrong_in_the_callers_language,
    refusals_in_words
);

/// An intake form refused for its content comes back on the person page with the message
/// at the form, the field at fault marked, and what was typed kept (issue 29); nothing is
/// made.
async fn form_keeps_input(url: &str) {
    let app = spawn_app(url).await;
    let (iin, _, _) = &app.report.citizens[0];
    let (http, csrf) = browser(&app, "op.astana.1").await;
    let page = text(&http, format!("{}/ws/person?iin={iin}", app.base)).await;
    assert!(page.contains("name=\"service\" value=\"S4\""));
    assert!(
        !page.contains("value=\"prison\""),
        "the 2014-only ground is not offered under the 2018 order"
    );
    // Over the bound of a text field (300 characters).
    let court = format!("Решение № 2-555/19 {}", "я".repeat(300));
    let r = http
        .post(format!("{}/ws/applications", app.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("iin", &iin.to_string()),
            ("service", "S4"),
            ("idem", "keep-input-1"),
            ("channel", "counter"),
            ("urgency", "general"),
            ("d.ground", "court"),
            ("d.court_decision", &court),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"err-S4\""), "the error at the form");
    assert!(html.contains(&court), "what was typed is kept");
    assert!(
        html.contains("aria-invalid=\"true\""),
        "the field at fault marked"
    );
    let (s, v) = app
        .login("centre")
        .await
        .get(&format!("/api/v1/persons/{iin}/applications"))
        .await;
    assert!(
        s != StatusCode::OK
            || v.as_array()
                .is_none_or(|a| a.iter().all(|x| x["service"] != "S4")),
        "nothing made: {v}"
    );
}

on_both!(a_refused_form_keeps_what_was_typed, form_keeps_input);

/// Issue 29 (time): S1 of 2018, general, taken in on Friday 03.01.2020 at 17:45 (a day off
/// by the 2020 transfer; Sunday 05.01 works instead) at an Astana ЦОН, which opens on
/// Saturdays. The talon's due date (the application's `due_at`) and the plan of `drn
/// catalog plan` and of the API (the standard hours, a ЦОН's Saturday included) are one
/// computation and agree: counter steps on Saturday 04.01 (09:00-10:00), the district's
/// 2 wd after Saturday end Monday 06.01 (Sunday 05.01 works), ... the hand-over's
/// 10 minutes on Wednesday 05.02 at 09:10. Before, the talon said 05.02 and the plan 06.02
/// (the plan took the counter as closed on Saturday; the engine took the counter's hours
/// for every unit).
async fn friday_evening(url: &str) {
    let app = spawn_app_at(url, "2020-01-03T17:45:00+06:00").await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let a = accept_s1(&counter, iin).await;
    let tz = drn_core::kz_tz().unwrap();
    let talon: jiff::Timestamp = a["due_at"].as_str().unwrap().parse().unwrap();
    let talon = drn_core::kz_time(&talon.to_zoned(tz.clone()));
    // The API's plan.
    let (s, p) = counter
        .get("/api/v1/catalog/S1/plan?accepted=2020-01-03T17:45:00%2B06:00")
        .await;
    assert_eq!(s, 200, "{p}");
    // The CLI's plan (`drn catalog plan S1 --accepted "2020-01-03 17:45"`): drn_core's.
    let (cat, cal) = drn_engine::catalog_files::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../catalog"
    )))
    .unwrap();
    let hours = drn_core::UnitHours::standard();
    let basis = drn_core::PlanBasis {
        calendar: &cal,
        tz: &tz,
        hours: &hours,
    };
    let cli = drn_core::plan(
        &cat,
        "S1",
        drn_core::Urgency::General,
        "2020-01-03T17:45:00+06:00".parse().unwrap(),
        None,
        &basis,
    )
    .unwrap();
    let cli_due = drn_core::kz_time(&cli.due);
    assert_eq!(talon, "2020-02-05T09:10:00+06:00");
    assert_eq!(p["due"], talon, "the API's plan");
    assert_eq!(cli_due, talon, "the CLI's plan");
    assert_eq!(
        drn_core::kz_time(&cli.steps[2].due),
        "2020-01-06T18:00:00+06:00",
        "the district's 2 wd after Saturday 04.01"
    );
    // The card and the talon print it as 05.02.2020.
    let card = page(
        &counter,
        &format!("/ws/applications/{}", a["id"].as_str().unwrap()),
    )
    .await;
    assert!(card.contains("05.02.2020"), "the card's due date");
}
on_both!(a_friday_evening_talon_and_plan_agree, friday_evening);

/// Issue 29 (names and text on signed PDFs): a name stored before names were checked (or
/// given so by ГБД ФЛ) with markup and a direction override prints on the talon without
/// them; an intake refusal's missing documents in the officer's words are bounded (a
/// 200,000-character item is refused with the field named, in Russian too), so no receipt
/// runs on for pages.
async fn names_on_pdfs(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    drn_store::query("UPDATE persons SET surname = $1, given_name = $2 WHERE iin = $3")
        .bind("<IMG SRC=X ONERROR=ALERT(1)>".to_string())
        .bind("Ай\u{202E}гүл".to_string())
        .bind(iin.to_string())
        .execute(app.db.writer())
        .await
        .unwrap();
    let (_, pdf) = talon_of(&counter, &iin.to_string()).await;
    let text = crate::results::pdf_text(&pdf);
    assert!(text.contains("IMG SRC X ONERROR ALERT Айгүл"), "{text}");
    assert!(
        !text.contains('<') && !text.contains("=") && !text.contains('\u{202E}'),
        "{text}"
    );
    // The missing documents: bounded in length (was taken whole and printed) and number.
    let r = counter
        .http
        .post(format!("{}/api/v1/applications", app.base))
        .header("x-csrf-token", &counter.csrf)
        .header("accept-language", "ru")
        .json(&json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": app.report.citizens[1].0.to_string(), "missing": ["ф".repeat(5_000)] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "missing", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("не более 300 символов"), "{m}");
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": app.report.citizens[1].0.to_string(), "missing": vec!["фото"; 11] }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "missing", "{v}");
}
on_both!(names_and_texts_print_safely, names_on_pdfs);

/// S1 taken in at the counter for `iin`: its talon's id and PDF.
async fn talon_of(counter: &Client, iin: &str) -> (String, Vec<u8>) {
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin }))
        .await;
    assert_eq!(s, 200, "{v}");
    let id = outcome_app(&v)["id"].as_str().unwrap().to_string();
    let (s, docs) = counter
        .get(&format!("/api/v1/applications/{id}/documents"))
        .await;
    assert_eq!(s, 200, "{docs}");
    let (s, pdf) = counter.bytes(docs[0]["pdf"].as_str().unwrap()).await;
    assert_eq!(s, 200);
    (docs[0]["id"].as_str().unwrap().to_string(), pdf)
}

/// A `multipart/form-data` body with one file field, as a browser's form sends it.
fn form_with_file(boundary: &str, field: &str, file: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"doc.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

/// Issue 29: the verify page works without a script: its form posts the file as
/// `multipart/form-data` and the answer is the page with the result, in the reader's
/// language; a form without a file is told to choose one. The JSON answer to a PDF body
/// stays as it was.
async fn verify_without_script(url: &str) {
    let app = spawn_app(url).await;
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let (doc_id, pdf) = talon_of(&counter, &iin.to_string()).await;
    let anon = reqwest::Client::new();
    let url = format!("{}/verify/{doc_id}", app.base);
    let page = anon
        .get(&url)
        .header("accept-language", "ru")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "<form method=\"post\" action=\"/verify/{doc_id}\" enctype=\"multipart/form-data\">"
        )) && page.contains("name=\"file\"")
            && page.contains("type=\"submit\""),
        "a form that posts without a script"
    );
    let send = |body: Vec<u8>| {
        anon.post(&url)
            .header("accept-language", "ru")
            .header("content-type", "multipart/form-data; boundary=XyZ123")
            .body(body)
            .send()
    };
    let r = send(form_with_file("XyZ123", "file", &pdf)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("data-upload=\"identical\""), "{page}");
    assert!(page.contains("Файл подлинный и совпадает с зарегистрированным документом"));
    let mut changed = pdf.clone();
    changed[pdf.len() / 3] ^= 0x01;
    let page = send(form_with_file("XyZ123", "file", &changed))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-upload=\"not_identical\""), "{page}");
    assert!(page.contains("Файл не совпадает с зарегистрированным документом"));
    let page = send(form_with_file("XyZ123", "file", b""))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Выберите PDF-файл"), "{page}");
    // The script's (and programs') PDF body: JSON as before.
    let v: Value = anon
        .post(&url)
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["valid"], true, "{v}");
}
on_both!(
    the_verify_page_works_without_a_script,
    verify_without_script
);

/// Issue 29: the S9 form on the workstation's home comes back with its error beside the
/// field at fault (marked `aria-invalid`) and what was typed kept, in the officer's
/// language (was: a separate error page with only "Назад").
async fn s9_form_keeps_input(url: &str) {
    let app = spawn_app(url).await;
    let (http, csrf) = browser(&app, "op.astana.1").await;
    let home = text(&http, format!("{}/ws", app.base)).await;
    let form = &home[home.find("action=\"/ws/foreigners\"").unwrap()..];
    let key = &form[form.find("name=\"idem\" value=\"").unwrap() + 20..];
    let key = &key[..key.find('"').unwrap()];
    let r = http
        .post(format!("{}/ws/foreigners", app.base))
        .header("accept-language", "ru")
        .form(&[
            ("_csrf", csrf.as_str()),
            ("idem", key),
            ("surname", "Smith2"),
            ("given_name", "Mary-Ann"),
            ("birth_date", "1990-04-05"),
            ("sex", "F"),
            ("citizenship", "IE"),
            ("passport", "PA7654321"),
            ("migration_card", "MK 55502"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    let surname = &page[page.find("id=\"f-surname\"").unwrap()..];
    let surname = &surname[..surname.find("</p>").unwrap()];
    assert!(
        surname.contains("value=\"Smith2\"") && surname.contains("aria-invalid=\"true\""),
        "{surname}"
    );
    assert!(
        surname.contains("id=\"err-surname\""),
        "the message beside the field: {surname}"
    );
    for kept in [
        "value=\"Mary-Ann\"",
        "value=\"1990-04-05\"",
        "value=\"IE\"",
        "value=\"PA7654321\"",
        "value=\"MK 55502\"",
        "<option value=\"F\" selected>",
    ] {
        assert!(page.contains(kept), "{kept} kept");
    }
    assert!(!page.contains("id=\"err-passport\""), "one field at fault");
    // Nothing was taken in.
    let r = http
        .get(format!("{}/ws?passport=PA7654321", app.base))
        .send()
        .await
        .unwrap();
    assert!(!r.text().await.unwrap().contains("Smith2"));
}
on_both!(the_s9_form_keeps_what_was_typed, s9_form_keeps_input);

/// Issue 29 (the portal's forms): a refused application comes back on the apply form with
/// the reason beside the field at fault and what was typed kept (not a page with only
/// "Назад"), status 422, nothing made; an accepted one answers Post/Redirect/Get (303 to
/// its talon's own page), and the same form sent again (a reload) makes no second one.
async fn portal_form_keeps_input(url: &str) {
    let app = spawn_app_at(url, "2014-06-02T10:00:00+06:00").await;
    let http = jar_client_no_redirects();
    let citizen = citizen_client_on(&app, 3, http).await;
    let html = page(&citizen, "/portal/apply").await;
    let unit = crate::intake::first_unit_option(&html);
    let post = |citizenship: &str, idem: &str| {
        let foreigner = ["Шмидт", "Анна", citizenship, "C01X00T47"];
        portal_apply(
            &citizen,
            s8_portal_form(&unit, idem, foreigner, "2014-07-15"),
        )
    };
    let count = || async { my_applications(&citizen, "S8").await.len() };
    // Refused: a citizenship that is no country's code.
    let r = post("Q1", "portal-keep-1").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-S8-citizenship\""),
        "the reason beside the field"
    );
    assert!(
        html.contains(
            "name=\"d.foreigner.citizenship\" required value=\"Q1\" aria-invalid=\"true\""
        ),
        "the field at fault keeps what was typed and is marked"
    );
    assert!(
        html.contains("value=\"Шмидт\"") && html.contains("value=\"C01X00T47\""),
        "the other fields keep what was typed"
    );
    assert!(
        html.contains("<option value=\"F\" selected>"),
        "the sex chosen is kept"
    );
    assert!(
        html.contains("id=\"apply-S8\" open"),
        "the refused form is the open one"
    );
    assert_eq!(count().await, 0, "nothing made");
    // Accepted: 303 to the talon's page.
    let r = post("DEU", "portal-keep-2").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/portal/applications/"), "{to}");
    let talon = page(&citizen, &to).await;
    let (_, mine) = citizen.get("/api/v1/my/applications").await;
    let number = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["service"] == "S8")
        .unwrap()["number"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(talon.contains(&number), "the talon's page shows {number}");
    // The same form again (a reload of the POST, a double click): the first application.
    let r = post("DEU", "portal-keep-2").await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"].to_str().unwrap(), to);
    assert_eq!(count().await, 1, "one application");
    // Another citizen does not see it.
    let other = citizen_client(&app, 4).await;
    let r = other
        .http
        .get(format!("{}{to}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

on_both!(
    the_portal_form_keeps_input_and_redirects_after_success,
    portal_form_keeps_input
);

/// Issue 29: a card's action refused comes back on the card, beside its form, with what was
/// typed (no separate page with only "Назад"); nothing changes; a success answers 303 to the
/// card (Post/Redirect/Get).
async fn card_actions_keep_input(url: &str) {
    let app = spawn_app(url).await;
    let iin = app.report.citizens[1].0.to_string();
    let counter = app.login("op.astana.1").await;
    let a = crate::results::accept_at(&counter, "S5", "counter", &iin, json!({})).await;
    let id = a["id"].as_str().unwrap().to_string();
    let (http, csrf) = browser(&app, "op.astana.1").await;
    let post = |action: &str, fields: Vec<(&str, String)>| {
        let mut form = vec![
            ("_csrf", csrf.clone()),
            ("revision", a["revision"].to_string()),
        ];
        form.extend(fields);
        http.post(format!("{}/ws/applications/{id}/{action}", app.base))
            .form(&form)
            .send()
    };
    // A reason over 1,000 characters: refused beside the refusal's form, the text kept.
    let long = format!("Адрес не найден {}", "ж".repeat(1000));
    let r = post("refuse", vec![("reason", long.clone())])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-refuse\""),
        "the error beside the form"
    );
    assert!(html.contains(&long), "what was typed is kept");
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(!html.contains(">Назад<"), "the card, not an error page");
    // Nothing changed.
    let (_, now) = counter.get(&format!("/api/v1/applications/{id}")).await;
    assert_eq!(now["status"], "in_progress", "{now}");
    assert_eq!(now["revision"], a["revision"]);
    // A stale revision (the application moved on meanwhile) is said at the top of the card.
    let r = http
        .post(format!("{}/ws/applications/{id}/refuse", app.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("revision", "99"),
            ("reason", "Адрес не найден в регистре"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("id=\"err-refuse\"") || html.contains("id=\"err-card\""),
        "the conflict is said on the card"
    );
    // A good refusal: 303 to the card.
    let r = post(
        "refuse",
        vec![("reason", "Адрес не найден в регистре".into())],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(r
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .ends_with(&format!("/ws/applications/{id}")));
}

on_both!(
    a_refused_card_action_keeps_what_was_typed,
    card_actions_keep_input
);

/// Issue 29: a registry's action refused comes back on the registries page beside that
/// registry, with the incoming number typed; nothing changes.
async fn registry_actions_keep_input(url: &str) {
    let app = spawn_app(url).await;
    let [counter, district, region, _, _] = app.s1_chain().await;
    let iin = app.report.citizens[0].0.to_string();
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin }))
        .await;
    assert_eq!(s, 200, "{v}");
    let a = complete_step(&counter, outcome_app(&v)).await;
    let (id, signed) = form_and_sign(&district, &a).await;
    let (s, v) = district
        .post(
            &format!("/api/v1/registries/{id}/send"),
            json!({ "revision": signed["revision"] }),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (http, csrf) = browser(&app, "region.astana").await;
    let typed = "ВХ-77";
    let r = http
        .post(format!("{}/ws/registries/{id}/receive", app.base))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("revision", "99"),
            ("incoming_number", typed),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"err-{id}\"")),
        "the error beside the registry"
    );
    assert!(
        html.contains(&format!("value=\"{typed}\"")),
        "the number typed is kept"
    );
    let (_, reg) = region.get(&format!("/api/v1/registries/{id}")).await;
    assert_eq!(reg["status"], "sent", "nothing changed: {reg}");
}

on_both!(
    a_refused_registry_action_keeps_what_was_typed,
    registry_actions_keep_input
);

/// A staff member's day in Russian (qa-staff walk): the queue and the registries name the
/// service («S1 · Выдача паспортов…», not a bare "S1"), the intake form offers the
/// urgencies as the seeds name them («1-я категория срочности», not "1"), the audit log
/// names the engine's commands in words (not "complete_step", "document_issued"), and
/// the supervisor's period and the administrator's calendar read dd.mm.yyyy like the rest.
async fn staff_screens_in_words(url: &str) {
    let app = spawn_app(url).await;
    let ru = |user: &'static str| {
        let app = &app;
        async move {
            let (http, _) = browser(app, user).await;
            let r = http
                .get(format!("{}/lang/ru", app.base))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_redirection() || r.status().is_success());
            http
        }
    };
    let counter = app.login("op.astana.1").await;
    let (iin, _, _) = &app.report.citizens[0];
    let a = accept_s1(&counter, iin).await;
    let name = "S1 · Выдача паспортов, удостоверений личности гражданам Республики Казахстан";
    let op = ru("op.astana.1").await;
    let home = text(&op, format!("{}/ws", app.base)).await;
    assert!(home.contains(name), "the queue names the service: {home}");
    // An IIN typed short or with a wrong check digit: said in Russian, not the parser's
    // English behind «Неверный запрос:».
    for typed in ["123", "000101500017"] {
        let html = any_text(&op, format!("{}/ws/person?iin={typed}", app.base)).await;
        assert!(
            html.contains(&format!(
                "ИИН указан неверно: нужно 12 цифр с верной контрольной цифрой (введено: «{typed}»)"
            )),
            "{html}"
        );
        assert!(
            !html.contains("must have") && !html.contains("check digit"),
            "{html}"
        );
    }
    // S5's check against the address register, on the card: the finding in words.
    let (iin5, _, _) = &app.report.citizens[2];
    let s5 =
        crate::results::accept_at(&counter, "S5", "counter", &iin5.to_string(), json!({})).await;
    let s5 = crate::results::step(&counter, &s5, "check", json!({})).await;
    let html = text(
        &op,
        format!(
            "{}/ws/applications/{}",
            app.base,
            s5["id"].as_str().unwrap()
        ),
    )
    .await;
    let check = &html[html.find("id=\"check-result\"").unwrap()..];
    let check = &check[..check.find("</p>").unwrap()];
    assert!(check.contains("Проверка выявила несоответствие"), "{check}");
    assert!(
        check.contains("У адреса регистрации нет действующего кода (РКА) в адресном регистре")
            && check.contains(&format!("ИИН: {iin5}")),
        "{check}"
    );
    assert!(
        !check.contains("mismatch") && !check.contains("iin:"),
        "{check}"
    );
    // A card not there (or not this unit's): what was not found, in words.
    let html = any_text(
        &op,
        format!(
            "{}/ws/applications/01a2534c-40f2-742a-b275-7f31857b0d3d",
            app.base
        ),
    )
    .await;
    assert!(html.contains("Не найдено: заявление "), "{html}");
    // Nothing waits for a registry at the counter yet: the page says when something will.
    let regs = text(&op, format!("{}/ws/registries", app.base)).await;
    assert!(
        regs.contains("Здесь появятся заявления, у которых завершён шаг"),
        "{regs}"
    );
    let person = text(&op, format!("{}/ws/person?iin={iin}", app.base)).await;
    assert!(
        person.contains(">1-я категория срочности</option>"),
        "{person}"
    );
    assert!(!person.contains("\">1</option>"), "not the catalog's code");
    // The counter's step done, the district forms a registry of it.
    let a = complete_step(&counter, &a).await;
    let district = ru("district.astana").await;
    let regs = text(&district, format!("{}/ws/registries", app.base)).await;
    assert!(
        regs.contains(name),
        "the registries name the service: {regs}"
    );
    // A command refused is in the log too, in words.
    let (st, _) = try_complete_step(&counter, &a).await;
    assert_eq!(st, 403, "the district's step, not the counter's");
    // A receiver's IIN typed wrong on the card: the same words, not «receiver».
    let (card, csrf) = browser(&app, "district.astana").await;
    card.get(format!("{}/lang/ru", app.base))
        .send()
        .await
        .unwrap();
    let r = card
        .post(format!(
            "{}/ws/applications/{}/issue?_csrf={csrf}",
            app.base,
            a["id"].as_str().unwrap()
        ))
        .form(&[
            ("revision", a["revision"].to_string()),
            ("receiver", "12".into()),
        ])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(
        html.contains("ИИН указан неверно") && html.contains("(введено: «12»)"),
        "{html}"
    );
    assert!(!html.contains("«receiver»"), "{html}");
    let auditor = ru("auditor").await;
    let log = text(&auditor, format!("{}/ws/audit?limit=200", app.base)).await;
    assert!(
        log.contains("Приём заявления") && log.contains("Завершение шага"),
        "{log}"
    );
    assert!(
        !log.contains(">complete_step<") && !log.contains(">accept<"),
        "{log}"
    );
    let supervisor = ru("supervisor").await;
    let dash = text(
        &supervisor,
        format!("{}/ws/supervision?from=2019-10-22&to=2019-11-20", app.base),
    )
    .await;
    assert!(dash.contains("период: 22.10.2019 – 20.11.2019."), "{dash}");
    let unit = text(
        &supervisor,
        format!("{}/ws/supervision/unit/D71-1", app.base),
    )
    .await;
    assert!(unit.contains(&format!("<td>{name}</td>")), "{unit}");
    // The administrator's calendar of transferred days off, in the same form.
    let admin = ru("admin").await;
    let page = text(&admin, format!("{}/ws/admin", app.base)).await;
    assert!(page.contains("<td>28.12.2013</td>"), "{page}");
    assert!(!page.contains("<td>2013-12-28</td>"), "not ISO");
    // The registry's page names the service too; the journals name the unit.
    let (reg, _) = form_and_sign(&app.login("district.astana").await, &a).await;
    let detail = text(&district, format!("{}/ws/registries/{reg}", app.base)).await;
    assert!(detail.contains(&format!("<td>{name}</td>")), "{detail}");
    let journals = text(&district, format!("{}/ws/journals", app.base)).await;
    assert!(
        journals.contains("Подразделение: Район Алматы<"),
        "{journals}"
    );
}

on_both!(staff_screens_name_things_in_words, staff_screens_in_words);
