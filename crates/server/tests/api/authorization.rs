//! The authorization matrix: every route of the OpenAPI document, every role.

use std::collections::BTreeMap;

use drn_engine::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// Who may call what: for each route of the OpenAPI document, the roles this issue
/// allows. Unit-scoped routes are tried on the caller's own unit and on another unit.
async fn authorization_matrix(url: &str) {
    let app = spawn_app(url).await;
    let doc: Value = reqwest::get(format!("{}/api/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let users: &[(&str, Role, &str)] = &[
        ("op.astana.1", Role::CounterOperator, "C71-1-1"),
        ("district.astana", Role::DistrictOfficer, "D71-1"),
        ("region.astana", Role::RegionalOfficer, "R71"),
        ("centre", Role::CentralOfficer, "KZ"),
        ("production", Role::ProductionOperator, "IPC"),
        ("supervisor.astana", Role::Supervisor, "R71"),
        ("auditor", Role::Auditor, "KZ"),
        ("admin", Role::Administrator, "KZ"),
    ];
    use Role::*;
    let officers = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        ProductionOperator,
    ];
    let staff = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        ProductionOperator,
        Supervisor,
        Auditor,
        Administrator,
    ];
    let public: Vec<Role> = staff.clone();
    // (method, path) -> roles allowed past the role check.
    let mut allowed: BTreeMap<(&str, &str), Vec<Role>> = BTreeMap::new();
    allowed.insert(("post", "/api/v1/auth/login"), public.clone());
    allowed.insert(("post", "/api/v1/auth/logout"), staff.clone());
    allowed.insert(("post", "/api/v1/auth/citizen/login"), public.clone());
    allowed.insert(("post", "/api/v1/auth/citizen/verify"), public.clone());
    allowed.insert(("get", "/api/v1/me"), staff.clone());
    allowed.insert(("get", "/api/v1/catalog"), public.clone());
    allowed.insert(("get", "/api/v1/catalog/{spec}"), public.clone());
    allowed.insert(("get", "/api/v1/catalog/{spec}/plan"), public.clone());
    allowed.insert(("get", "/api/v1/calendar"), public.clone());
    allowed.insert(
        ("post", "/api/v1/applications"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(
        ("post", "/api/v1/applications/formulary"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(("get", "/api/v1/applications/{id}"), staff.clone());
    allowed.insert(("get", "/api/v1/applications/{id}/timeline"), staff.clone());
    allowed.insert(
        ("post", "/api/v1/applications/{id}/complete"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/refuse"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/check"),
        vec![CounterOperator, DistrictOfficer, CentralOfficer],
    );
    // Issue 30 item 12: the unit that hands the result over records the applicant's arrival.
    allowed.insert(
        ("post", "/api/v1/applications/{id}/applicant-arrived"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(
        ("post", "/api/v1/foreigners/applications"),
        vec![CounterOperator, DistrictOfficer],
    );
    let address_readers = vec![
        CounterOperator,
        DistrictOfficer,
        RegionalOfficer,
        CentralOfficer,
        Supervisor,
    ];
    allowed.insert(("get", "/api/v1/addresses"), address_readers.clone());
    allowed.insert(("get", "/api/v1/addresses/{rka}"), address_readers);
    allowed.insert(
        ("get", "/api/v1/journals/{journal}"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
            Supervisor,
            Auditor,
        ],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/annul"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/return"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/issue"),
        vec![CounterOperator, DistrictOfficer],
    );
    allowed.insert(("get", "/api/v1/my/applications"), vec![]);
    allowed.insert(("get", "/api/v1/my/reads"), vec![]);
    allowed.insert(("get", "/api/v1/units"), staff.clone());
    allowed.insert(("get", "/api/v1/units/{id}/queue"), officers.clone());
    allowed.insert(
        ("get", "/api/v1/units/{id}/overdue"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
            ProductionOperator,
            Supervisor,
        ],
    );
    allowed.insert(("get", "/api/v1/units/{id}/registries"), officers.clone());
    allowed.insert(("post", "/api/v1/registries"), officers.clone());
    allowed.insert(("get", "/api/v1/registries/{id}"), staff.clone());
    // A registry's documents: whoever may see the registry (issue 28 item 6).
    allowed.insert(("get", "/api/v1/registries/{id}/documents"), staff.clone());
    allowed.insert(("post", "/api/v1/registries/{id}/sign"), officers.clone());
    allowed.insert(("post", "/api/v1/registries/{id}/send"), officers.clone());
    // An officer's own signature of a registry or an application's document (issue 33).
    allowed.insert(
        ("post", "/api/v1/registries/{id}/signature-draft"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/signature-draft"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/applications/{id}/signature"),
        officers.clone(),
    );
    allowed.insert(
        ("post", "/api/v1/registries/{id}/receive"),
        officers.clone(),
    );
    allowed.insert(
        ("get", "/api/v1/persons/{iin}"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(("get", "/api/v1/audit"), vec![Auditor, Administrator]);
    allowed.insert(
        ("get", "/api/v1/audit/verify"),
        vec![Auditor, Administrator],
    );
    allowed.insert(
        ("post", "/api/v1/audit/anchor"),
        vec![Auditor, Administrator],
    );
    allowed.insert(("get", "/api/v1/sandbox/sms"), public.clone());
    allowed.insert(("get", "/api/v1/online-renewal"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal"), vec![]);
    allowed.insert(("get", "/api/v1/online-renewal/{id}"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal/{id}/retry"), vec![]);
    allowed.insert(("post", "/api/v1/online-renewal/{id}/pay"), vec![]);
    allowed.insert(
        ("post", "/api/v1/applications/{id}/online-review"),
        vec![RegionalOfficer],
    );
    allowed.insert(
        ("get", "/api/v1/applications/{id}/documents"),
        staff.clone(),
    );
    allowed.insert(("get", "/api/v1/documents/{file}"), staff.clone());
    allowed.insert(
        ("post", "/api/v1/documents/{file}/revoke"),
        vec![
            CounterOperator,
            DistrictOfficer,
            RegionalOfficer,
            CentralOfficer,
        ],
    );
    allowed.insert(("get", "/api/v1/verify/{id}"), public.clone());
    allowed.insert(("get", "/healthz"), public.clone());
    allowed.insert(("get", "/readyz"), public.clone());
    // Every route of the document is in the matrix, and nothing else.
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    let listed: Vec<(String, String)> = allowed
        .keys()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    documented.sort();
    assert_eq!(
        documented, listed,
        "the matrix must list exactly the documented routes"
    );
    let (iin, _, _) = &app.report.citizens[0];
    // Unit scope: own unit is allowed past the role check, another unit is not.
    let other_unit = |own: &str| {
        if own.starts_with("C75") || own == "R75" {
            "C71-1-1"
        } else {
            "C75-1-1"
        }
    };
    for (user, role, own) in users {
        let c = app.login(user).await;
        for ((method, path), roles) in &allowed {
            let units: Vec<&str> = if path.starts_with("/api/v1/units/{id}") {
                vec![own, other_unit(own)]
            } else {
                vec![own]
            };
            for unit in units {
                let concrete = path
                    .replace("{spec}", "S1")
                    .replace("{iin}", &iin.to_string())
                    .replace("{file}", "00000000-0000-0000-0000-000000000000.pdf")
                    .replace(
                        "{id}",
                        if path.starts_with("/api/v1/units") {
                            unit
                        } else {
                            "00000000-0000-0000-0000-000000000000"
                        },
                    );
                let concrete = if path.ends_with("/plan") {
                    format!("{concrete}?accepted=2019-04-02T10:00:00%2B06:00")
                } else if *path == "/api/v1/calendar" {
                    format!("{concrete}?from=2019-01-01&to=2019-01-31")
                } else {
                    concrete
                };
                if path.contains("logout") {
                    continue; // would end this session; covered in sign_in_rules
                }
                let payload = match *path {
                    "/api/v1/auth/login" => json!({ "username": "nobody", "password": "x" }),
                    "/api/v1/auth/citizen/login" => {
                        json!({ "iin": iin.to_string(), "password": "x" })
                    }
                    "/api/v1/auth/citizen/verify" => json!({ "challenge": "x", "code": "1" }),
                    "/api/v1/applications" | "/api/v1/applications/formulary" => {
                        json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() })
                    }
                    "/api/v1/applications/{id}/refuse" | "/api/v1/applications/{id}/annul" => {
                        json!({ "revision": 1, "reason": "причина решения" })
                    }
                    "/api/v1/applications/{id}/return" => {
                        json!({ "revision": 1, "to_step": 1, "reason": "исправить данные" })
                    }
                    "/api/v1/foreigners/applications" => {
                        json!({ "service": "S9", "channel": "counter", "urgency": "general", "foreigner": { "surname": "Ivanov", "given_name": "Petr", "birth_date": "1990-05-17", "sex": "M", "citizenship": "RU", "passport": "75AB12345" } })
                    }
                    "/api/v1/applications/{id}/issue" => {
                        json!({ "revision": 1, "receiver": iin.to_string() })
                    }
                    "/api/v1/registries" => {
                        json!({ "service": "S1", "version": "2018", "process": "main", "step": 3 })
                    }
                    "/api/v1/documents/{file}/revoke" => {
                        json!({ "reason": "выдан по ошибке" })
                    }
                    "/api/v1/applications/{id}/signature" => {
                        json!({ "draft": "00000000-0000-0000-0000-000000000000", "signature": "MA==" })
                    }
                    "/api/v1/applications/{id}/online-review" => {
                        json!({ "decision": "approve", "revision": 1 })
                    }
                    "/api/v1/online-renewal" => json!({
                        "channel": "portal", "phone": "+7 701 000 00 00", "unit": "C71-1-1",
                        "photo": "", "signature_sample": "", "request_signature": ""
                    }),
                    _ => json!({ "revision": 1 }),
                };
                let (status, body) = if *method == "get" {
                    c.get(&concrete).await
                } else {
                    c.post(&concrete, payload).await
                };
                if path.starts_with("/api/v1/auth/") {
                    continue; // open to all: its answers are about credentials, not roles
                }
                assert!(
                    status.as_u16() < 500,
                    "{user} {method} {concrete}: {status} {body}"
                );
                let role_ok = roles.contains(role);
                let scoped_out = path.starts_with("/api/v1/units/{id}")
                    && unit != *own
                    && !matches!(role, CentralOfficer | Auditor);
                let code = body["error"]["code"].as_str().unwrap_or("");
                let role_denied = status == StatusCode::UNAUTHORIZED || code == "forbidden_role";
                if !role_ok {
                    assert!(
                        role_denied,
                        "{user} must not {method} {concrete}: {status} {body}"
                    );
                } else if scoped_out {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{user} must not {method} {concrete} of another unit: {body}"
                    );
                } else {
                    let unit_denied =
                        path.starts_with("/api/v1/units/{id}") && status == StatusCode::FORBIDDEN;
                    assert!(
                        !(role_denied || unit_denied),
                        "{user} may {method} {concrete}: {status} {body}"
                    );
                }
            }
        }
    }
}

on_both!(
    authorization_matrix_every_route_every_role,
    authorization_matrix
);
