//! The citizen's portal as citizens walk it in Kazakh and Russian (the portal's QA walk):
//! my applications lead to each application's page, a wrong address or id is said in the
//! page's language (no English word, no engine name), a wrong one-time code is not called
//! a wrong password, and the apply page points to the online renewal when it is in force.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// `path` as the signed-in `c` sees it in `lang` (by Accept-Language: no cookie set).
async fn get_in(c: &Client, path: &str, lang: &str) -> (StatusCode, String) {
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The text of `html`'s `<main>`, tags dropped.
fn main_text(html: &str) -> String {
    let from = html.find("<main").unwrap();
    let to = html.find("</main>").unwrap();
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html[from..to].chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The Latin words of a kk/ru page's main text (hex runs of ids aside, which a wrong
/// address repeats).
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(String::from)
        .collect()
}

async fn portal_walk(url: &str) {
    let app = spawn_app(url).await;
    let citizen = citizen_client(&app, 3).await;
    // Apply for S1 through the portal's form; the talon's page is the application's own.
    let html = page(&citizen, "/portal/apply").await;
    assert!(
        !main_text(&html).contains("Заменить удостоверение личности онлайн")
            && !main_text(&html).contains("Renew my ID card online"),
        "in 2019 (no pilot) the apply page does not point to the online renewal"
    );
    let unit = crate::intake::first_unit_option(&html);
    let form: Vec<(&'static str, String)> = [
        ("service", "S1"),
        ("idem", "portal-walk-1"),
        ("unit", unit.as_str()),
        ("urgency", "general"),
    ]
    .into_iter()
    .map(|(n, v)| (n, v.to_string()))
    .collect();
    let r = portal_apply(&citizen, form).await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mine = my_applications(&citizen, "S1").await;
    let id = mine[0]["id"].as_str().unwrap().to_string();
    for lang in ["kk", "ru"] {
        // My applications: the number links to the application's page (status, talon,
        // documents); before, the list was a dead end.
        let (s, home) = get_in(&citizen, "/portal", lang).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            home.contains(&format!("href=\"/portal/applications/{id}\"")),
            "{lang}: my applications link to the application's page"
        );
        // The application's page says where it stands now (it said only "submitted").
        let (s, html) = get_in(&citizen, &format!("/portal/applications/{id}"), lang).await;
        assert_eq!(s, StatusCode::OK);
        let status = if lang == "kk" {
            "Орындалуда"
        } else {
            "В работе"
        };
        assert!(
            main_text(&html).contains(status),
            "{lang}: the status on the application's page: {}",
            main_text(&html)
        );
        // The language switch on the application's page comes back to it.
        assert!(
            html.contains(&format!("/lang/kk?back=/portal/applications/{id}\""))
                || html.contains(&format!("/lang/kk?back=%2Fportal%2Fapplications%2F{id}\"")),
            "{lang}: the language switch keeps the page"
        );
        // An unknown application and a mistyped id: "not found" in the page's language,
        // with no English word (the engine's "application") and a way back.
        for path in [
            "/portal/applications/00000000-0000-4000-8000-000000000000".to_string(),
            "/portal/applications/nonsense".to_string(),
            "/portal/renewal/nonsense".to_string(),
            "/portal/no-such-page".to_string(),
        ] {
            let (s, html) = get_in(&citizen, &path, lang).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
            let text = main_text(&html);
            let latin: Vec<String> = latin_words(&text)
                .into_iter()
                .filter(|w| w != "nonsense")
                .collect();
            assert!(latin.is_empty(), "{lang} {path}: {latin:?} in {text}");
            let title = if lang == "kk" {
                "Табылмады"
            } else {
                "Не найдено"
            };
            assert!(
                html.contains(&format!("<h1>{title}</h1>")),
                "{lang} {path}: titled as not found: {text}"
            );
            assert!(
                html.contains("<a href=\"/portal\">"),
                "{lang} {path}: a way back to the portal"
            );
        }
    }
    // The online renewal out of its pilot (2019): no "provided online as a pilot until"
    // with no date after it.
    let (s, html) = get_in(&citizen, "/portal/renewal", "ru").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !html.contains("в рамках пилотного проекта по"),
        "{}",
        main_text(&html)
    );
    // The API's unknown address keeps its JSON error.
    let (s, v) = citizen.get("/api/v1/no-such-thing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found", "{v}");
}

on_both!(the_portal_walk_in_kazakh_and_russian, portal_walk);

/// A wrong one-time code is said as such (it was "wrong login or password", which sends
/// the citizen back to a password that was right), the form keeps no "code sent to: "
/// with nothing after it, and the page offers a way back to the first step; a mistyped
/// IIN names the field as people know it.
async fn wrong_code(url: &str) {
    let app = spawn_app(url).await;
    let http = jar_client();
    let challenge = citizen_challenge(&app, 2, &http).await;
    for (lang, said) in [
        ("kk", "Бір реттік код қате"),
        ("ru", "Неверный или просроченный одноразовый код"),
    ] {
        let r = http
            .post(format!("{}/portal/verify", app.base))
            .header("accept-language", lang)
            .form(&[("challenge", challenge.as_str()), ("code", "000000")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let html = r.text().await.unwrap();
        assert!(html.contains(said), "{lang}: {}", main_text(&html));
        assert!(
            !html.contains("пароль") && !html.contains("құпиясөз"),
            "{lang}: not a password's fault"
        );
        assert!(!html.contains(": </p>"), "{lang}: no empty phone line");
        assert!(
            html.contains("<a href=\"/portal/login\">"),
            "{lang}: a way back to the first step"
        );
    }
    // An IIN of 5 digits: the field named for people (it was «iin», the API's key).
    for (lang, said) in [("kk", "«ЖСН» өрісі"), ("ru", "Поле «ИИН»")] {
        let r = http
            .post(format!("{}/portal/login", app.base))
            .header("accept-language", lang)
            .form(&[("iin", "12345"), ("password", "x")])
            .send()
            .await
            .unwrap();
        let html = r.text().await.unwrap();
        assert!(html.contains(said), "{lang}: {}", main_text(&html));
        assert!(!html.contains("«iin»"), "{lang}: no API key");
    }
    // The API says the same, its code unchanged.
    let r = http
        .post(format!("{}/api/v1/auth/citizen/verify", app.base))
        .header("accept-language", "en")
        .json(&json!({ "challenge": challenge, "code": "000000" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "bad_credentials", "{v}");
    assert_eq!(
        v["error"]["message"], "Wrong or expired one-time code",
        "{v}"
    );
}

on_both!(a_wrong_one_time_code_is_said_as_such, wrong_code);

/// In the 2025 pilot the portal's apply page had no service to offer and said so, while
/// the online renewal was open on a tab of its own: the page points to it (in 2019, with
/// no pilot, it does not: [`portal_walk`]).
async fn apply_points_to_renewal(url: &str) {
    let app = spawn_app_at(url, "2025-11-20T10:00:00+05:00").await;
    let citizen = citizen_client(&app, 3).await;
    let (s, html) = get_in(&citizen, "/portal/apply", "ru").await;
    assert_eq!(s, StatusCode::OK);
    // In the page's own content, not only in the menu.
    let main = &html[html.find("<main").unwrap()..];
    assert!(
        main.contains("<a href=\"/portal/renewal\">Заменить удостоверение личности онлайн</a>"),
        "{}",
        main_text(&html)
    );
}

on_both!(
    the_apply_page_points_to_the_online_renewal_in_its_pilot,
    apply_points_to_renewal
);
