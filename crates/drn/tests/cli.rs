//! The `drn` command as a user runs it: exit codes and the documented JSON formats.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn drn(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drn"))
        .args(args)
        .env(
            "DRN_CATALOG",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn iin_check_lines_and_exit_status() {
    let (code, out, _) = drn(&["iin", "check", "871008401427", "760212350620"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["871008401427 valid", "760212350620 valid"]
    );
    let (code, out, _) = drn(&["iin", "check", "871008401427", "821214240092"]);
    assert_eq!(code, 1);
    assert!(out.contains("821214240092 invalid: not issued"), "{out}");
}

#[test]
fn iin_form_prints_a_valid_iin() {
    let (code, out, _) = drn(&["iin", "form", "--birth", "2001-12-31", "--sex", "F"]);
    assert_eq!(code, 0);
    let iin = drn_core::Iin::parse(out.trim()).unwrap();
    assert_eq!(iin.encoded_birth(), Some(jiff::civil::date(2001, 12, 31)));
    assert_eq!(iin.encoded_sex(), Some(drn_core::Sex::Female));
}

#[test]
fn calendar_days_json_format() {
    let (code, out, _) = drn(&[
        "calendar",
        "days",
        "--from",
        "2020-03-20",
        "--to",
        "2020-03-27",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let days = v.as_array().unwrap();
    assert_eq!(days.len(), 8);
    let d24 = &days[4];
    assert_eq!(d24["date"], "2020-03-24");
    assert_eq!(d24["working"], false);
    assert_eq!(d24["reason"], "moved_holiday");
    assert_eq!(d24["moved_from"], "2020-03-21");
    assert_eq!(days[0]["reason"], "weekday");
    assert_eq!(days[1]["reason"], "holiday");
    let (code, out, _) = drn(&[
        "calendar",
        "add",
        "--from",
        "2019-03-20",
        "--working-days",
        "2",
    ]);
    assert_eq!((code, out.trim()), (0, "2019-03-27"));
}

#[test]
fn catalog_check_list_show_diff_plan() {
    let (code, out, _) = drn(&["catalog", "check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("catalog ok: 10 services"), "{out}");
    let (code, out, _) = drn(&["catalog", "show", "S1@2018", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["processes"][0]["steps"].as_array().unwrap().len(), 10);
    let (code, out, _) = drn(&["catalog", "diff", "S1@2014", "S1@2018", "--json"]);
    assert_eq!(code, 0);
    let changes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(changes
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["change"] == "step_limit"));
    let (code, out, _) = drn(&[
        "catalog",
        "plan",
        "S1",
        "--urgency",
        "general",
        "--accepted",
        "2019-03-20 10:00",
        "--json",
    ]);
    assert_eq!(code, 0);
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["version"], "2018");
    assert_eq!(p["steps"][2]["due"], "2019-03-27T18:00:00+06:00");
    assert_eq!(p["due"], "2019-04-25T09:10:00+06:00");
    let (code, _, err) = drn(&["catalog", "plan", "S1", "--accepted", "2016-06-01 10:00"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no version of S1 was in force on 2016-06-01"),
        "{err}"
    );
}

#[test]
fn verify_a_signed_document_and_a_changed_one() {
    let dir = std::env::temp_dir().join(format!("drn-cli-verify-{}", std::process::id()));
    let pki = drn_docs::Pki::open_or_create(&dir.join("pki")).unwrap();
    let doc = drn_docs::sample::sample(
        drn_docs::DocumentKind::AddressCertificate,
        "doc-1",
        "AC-2019-0000001",
    );
    let issued = drn_docs::issue(&doc, &pki, "http://127.0.0.1:8080").unwrap();
    let pdf = dir.join("ac.pdf");
    std::fs::write(&pdf, &issued.pdf).unwrap();
    std::fs::write(dir.join("ac.p7s"), &issued.p7s).unwrap();
    let ca = pki.ca_path();
    let (code, out, _) = drn(&[
        "verify",
        pdf.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("genuine, unchanged") && out.contains("detached signature valid"),
        "{out}"
    );
    let mut bytes = issued.pdf.clone();
    let i = bytes.len() / 3;
    bytes[i] ^= 0x20;
    std::fs::write(&pdf, &bytes).unwrap();
    let (code, out, _) = drn(&[
        "verify",
        pdf.to_str().unwrap(),
        "--ca",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NOT genuine"), "{out}");
}

/// `drn simulate --json`: the counts add up, and the supervisor's dashboard over the same
/// database at the simulation's end agrees with the simulation's own open and overdue.
#[test]
fn simulate_counts_agree_with_supervision() {
    // A simulated month (January 2019: the New Year and Christmas holidays at its start).
    let r = simulate_and_compare("a", 31, &["--start", "2019-01-01", "--per-day", "30"]);
    assert_eq!(r["per_day"], 30);
    // 31 days less 8 weekend days and 1, 2 and 7 January (catalog/calendar/EXPECTED.md).
    assert_eq!(r["working_days"], 20, "{r}");
    // S2 of 2018 is taken in by the ОМС officer at a State Corporation counter (issue 28
    // item 9), without errors (checked below).
    assert!(
        r["by_service"]["S2"]["accepted"].as_u64().unwrap() > 0,
        "{r}"
    );
    // The default mix in force in January 2019: S1 at the counter, the unit and the
    // portal, S2 to S5, S3 through the portal too (S6 to S8 exist under the 2014 acts
    // only, S9 from 17 March 2019, S1E in its pilot of 2025 only).
    let accepted = |s: &str, ch: &str| r["by_service"][s]["by_channel"][ch].as_u64().unwrap_or(0);
    for (s, ch) in [
        ("S1", "counter"),
        ("S1", "unit"),
        ("S1", "portal"),
        ("S2", "counter"),
        ("S3", "counter"),
        ("S3", "portal"),
        ("S4", "counter"),
    ] {
        assert!(accepted(s, ch) > 0, "{s} {ch}: {}", r["by_service"]);
    }
    assert!(r["counter_tasks_done"].as_u64().unwrap() > 0, "{r}");
    for s in ["S6", "S7", "S8", "S9", "S1E"] {
        assert!(r["by_service"].get(s).is_none(), "{s}: {}", r["by_service"]);
    }
    // Too few officers (one a unit, one step an hour): some steps end up overdue, and
    // the dashboard counts the same ones.
    let r = simulate_and_compare(
        "b",
        5,
        &[
            "--per-day",
            "150",
            "--staff-per-unit",
            "1",
            "--steps-per-hour",
            "1",
        ],
    );
    assert!(r["overdue"].as_u64().unwrap() > 0, "{r}");
}

/// Under the 2014 acts the foreigners' services S6 to S8 are in the mix (at the unit);
/// a mix file sets the proportions and the rates: here only S1 at the counter and S6, with
/// many annulments and refusals, and the counts still agree with the dashboard.
#[test]
fn simulate_the_2014_mix_and_a_mix_file() {
    let r = simulate_and_compare("c", 4, &["--start", "2014-06-02", "--per-day", "60"]);
    for s in ["S6", "S7", "S8"] {
        assert!(
            r["by_service"][s]["by_channel"]["unit"]
                .as_u64()
                .unwrap_or(0)
                > 0,
            "{s}: {}",
            r["by_service"]
        );
    }
    assert!(
        r["by_service"]["S6"]["name"]
            .as_str()
            .unwrap()
            .contains("border"),
        "{}",
        r["by_service"]
    );
    let dir = std::env::temp_dir().join(format!("drn-mix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mix = dir.join("mix.toml");
    std::fs::write(
        &mix,
        "refusal = 0.2\nannulment = 0.3\nincomplete = 0.1\n\n[[line]]\nservice = \"S1\"\nchannel = \"counter\"\nweight = 3\n\n[[line]]\nservice = \"S6\"\nchannel = \"unit\"\nweight = 1\n",
    )
    .unwrap();
    let r = simulate_and_compare(
        "d",
        4,
        &[
            "--start",
            "2014-06-02",
            "--per-day",
            "60",
            "--mix",
            mix.to_str().unwrap(),
        ],
    );
    let services: Vec<&String> = r["by_service"].as_object().unwrap().keys().collect();
    assert_eq!(services, ["S1", "S6"], "{}", r["by_service"]);
    let n = |k: &str| r[k].as_u64().unwrap();
    assert!(
        n("annulled") > 0 && n("refused") > 0 && n("intake_refused") > 0,
        "{r}"
    );
    assert_eq!(r["mix"]["annulment"].as_f64(), Some(0.3));
    // S9 from its act of 2019, at the counter and at the unit (beside S1, whose
    // registries the comparison wants).
    std::fs::write(
        &mix,
        "[[line]]\nservice = \"S9\"\nchannel = \"counter\"\nweight = 1\n\n[[line]]\nservice = \"S9\"\nchannel = \"unit\"\nweight = 1\n\n[[line]]\nservice = \"S1\"\nchannel = \"counter\"\nweight = 1\n",
    )
    .unwrap();
    let r = simulate_and_compare(
        "e",
        4,
        &[
            "--start",
            "2019-04-02",
            "--per-day",
            "20",
            "--mix",
            mix.to_str().unwrap(),
        ],
    );
    for ch in ["counter", "unit"] {
        assert!(
            r["by_service"]["S9"]["by_channel"][ch]
                .as_u64()
                .unwrap_or(0)
                > 0,
            "{r}"
        );
    }
    assert!(r["by_service"]["S9"]["issued"].as_u64().unwrap() > 0, "{r}");
    // A line the simulation cannot submit is refused before the run, naming it (S1's
    // mobile applications: only S1E's process is theirs).
    std::fs::write(
        &mix,
        "[[line]]\nservice = \"S1\"\nchannel = \"mobile\"\nweight = 1\n",
    )
    .unwrap();
    let (code, _, err) = drn(&[
        "simulate",
        "--days",
        "1",
        "--db",
        &format!("sqlite://{}", dir.join("x.db").display()),
        "--data",
        dir.join("data").to_str().unwrap(),
        "--mix",
        mix.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("S1") && err.contains("Mobile"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// In the 2025 pilot's period the default mix is S1E (no other version of the catalog is
/// in force then), through the portal and the mobile applications: signed requests
/// through the sandboxed state systems, the regional review, production and issue, and
/// the dashboard counts the same.
#[test]
fn simulate_the_pilot_period() {
    let r = simulate_and_compare("f", 6, &["--start", "2025-11-20", "--per-day", "25"]);
    let s1e = &r["by_service"]["S1E"];
    assert!(
        s1e["name"].as_str().unwrap().contains("online renewal"),
        "{s1e}"
    );
    for ch in ["portal", "mobile"] {
        assert!(s1e["by_channel"][ch].as_u64().unwrap_or(0) > 0, "{s1e}");
    }
    assert!(s1e["issued"].as_u64().unwrap() > 0, "{s1e}");
    // The printed report names it.
    let db = std::env::temp_dir().join(format!("drn-sim-{}-g.db", std::process::id()));
    let (code, out, err) = drn(&[
        "simulate",
        "--days",
        "1",
        "--start",
        "2025-11-20",
        "--per-day",
        "5",
        "--db",
        &format!("sqlite://{}", db.display()),
    ]);
    for f in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{f}", db.display()));
    }
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("S1E") && out.contains("online renewal"),
        "{out}"
    );
}

/// Runs `drn simulate --days N … --json` on a fresh database, checks its counts and
/// compares them with the supervisor's dashboard (totals, open by unit, accepted and
/// issued by day); returns the report.
fn simulate_and_compare(name: &str, days: u32, extra: &[&str]) -> serde_json::Value {
    let days = days.to_string();
    let dir = std::env::temp_dir().join(format!("drn-sim-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("sim.db").display());
    let data = dir.join("data");
    let mut args = vec![
        "simulate",
        "--days",
        &days,
        "--db",
        &db,
        "--data",
        data.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = drn(&args);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k} in {r}"));
    assert_eq!(n("errors"), 0, "{}", r["error_samples"]);
    assert_eq!(n("preexisting_open"), 0);
    assert!(n("working_days") >= 3, "{r}");
    assert_eq!(n("submitted"), n("working_days") * n("per_day"));
    assert_eq!(n("submitted"), n("accepted") + n("intake_refused"));
    assert_eq!(
        n("accepted"),
        n("issued") + n("refused") + n("annulled") + n("open")
    );
    // The CPU time the run took, per command (user and system).
    let cpu = &r["cpu"];
    let us = |k: &str| cpu[k].as_f64().unwrap_or_else(|| panic!("cpu.{k} in {r}"));
    assert!(us("user_seconds") > 0.0, "{r}");
    assert!(
        (us("total_us_per_command") - us("user_us_per_command") - us("system_us_per_command"))
            .abs()
            < 1e-6
    );
    assert!(
        (us("user_us_per_command") * n("commands") as f64 / 1e6 - us("user_seconds")).abs() < 1e-6
    );
    let day_cpu: f64 = r["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["cpu_user_seconds"].as_f64().unwrap())
        .sum();
    assert!(day_cpu <= us("user_seconds") + 0.011, "{day_cpu} {r}");
    // The report names the services, and each service's channels add up.
    for (code, c) in r["by_service"].as_object().unwrap() {
        assert!(!c["name"].as_str().unwrap().is_empty(), "{code}");
        let by: u64 = c["by_channel"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by, c["accepted"].as_u64().unwrap(), "{code}");
    }
    assert_eq!(n("open"), n("open_tracked"));
    assert!(n("issued") > 0 && n("open") > 0, "{r}");
    assert!(n("overdue") <= n("open"));
    let reg = &r["registries"];
    // Registries pass between units (not S1E's: one directorate reviews, production makes
    // and the district issues, no handover between them).
    assert!(
        reg["sent"].as_u64().unwrap() > 0 || r["by_service"].get("S1").is_none(),
        "{r}"
    );
    assert!(reg["received"].as_u64().unwrap() <= reg["sent"].as_u64().unwrap());
    let by: u64 = r["by_service"]
        .as_object()
        .unwrap()
        .values()
        .map(|c| c["accepted"].as_u64().unwrap())
        .sum();
    assert_eq!(by, n("accepted"));

    // The dashboard at the simulation's end, read-only over the same database.
    let end: jiff::Timestamp = r["end"].as_str().unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(async {
        let cat_dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"));
        let (cat, cal) = drn_engine::catalog_files::load(cat_dir).unwrap();
        let db = drn_store::Db::open(&db).await.unwrap();
        let clock = std::sync::Arc::new(drn_engine::ManualClock::new(end));
        let engine = drn_engine::Engine::new(db, cat, cal, clock).unwrap();
        let sup = drn_engine::Actor::staff(
            "supervisor",
            drn_engine::Role::Supervisor,
            drn_engine::UnitId::parse("KZ").unwrap(),
        );
        let from: jiff::civil::Date = r["start"].as_str().unwrap().parse().unwrap();
        let to = end.to_zoned(engine.tz.clone()).date();
        let trend = engine.trend(&sup, None, from, to).await.unwrap();
        let times = engine.step_times(&sup, None, from, to).await.unwrap();
        (engine.supervision(&sup).await.unwrap(), trend, times)
    });
    let (s, trend, times) = s;
    // Step times: the steps completed, and of them on time, by service and step, as the
    // simulation counted them (its officers' steps and its registries' sendings).
    let mut sim_steps: std::collections::BTreeMap<(String, u32), (u64, u64)> = Default::default();
    for c in r["compliance"].as_array().unwrap() {
        let e = sim_steps
            .entry((
                c["service"].as_str().unwrap().to_string(),
                c["step"].as_u64().unwrap() as u32,
            ))
            .or_default();
        e.0 += c["completed"].as_u64().unwrap();
        e.1 += c["on_time"].as_u64().unwrap();
    }
    let mut dashboard_steps: std::collections::BTreeMap<(String, u32), (u64, u64)> =
        Default::default();
    for t in &times {
        let e = dashboard_steps
            .entry((t.service.clone(), t.step))
            .or_default();
        e.0 += t.completed as u64;
        e.1 += t.within_limit as u64;
    }
    assert!(sim_steps.keys().any(|(_, n)| *n > 2), "{sim_steps:?}");
    assert_eq!(dashboard_steps, sim_steps);
    assert_eq!(s.total.open as u64, n("open"), "{r}");
    assert_eq!(s.total.overdue as u64, n("overdue"), "{r}");
    // Open work by unit: the dashboard's rows against the simulation's last sight.
    let mut dashboard_open = std::collections::BTreeMap::new();
    for u in &s.by_unit {
        if u.counts.open > 0 {
            dashboard_open.insert(u.unit.id.to_string(), u.counts.open as u64);
        }
    }
    let sim_open: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(r["open_by_unit"].clone()).unwrap();
    assert_eq!(dashboard_open, sim_open, "{r}");
    // The daily trend: every simulated day's accepted and issued, and nothing on others.
    let by_day = r["by_day"].as_array().unwrap();
    assert!(!by_day.is_empty());
    for t in &trend {
        let sim = by_day
            .iter()
            .find(|d| d["day"].as_str() == Some(&t.day.to_string()));
        let (a, i) = sim.map_or((0, 0), |d| {
            (
                d["accepted"].as_u64().unwrap(),
                d["issued"].as_u64().unwrap(),
            )
        });
        assert_eq!((t.accepted as u64, t.issued as u64), (a, i), "{}", t.day);
    }
    let trend_accepted: i64 = trend.iter().map(|t| t.accepted).sum();
    let trend_issued: i64 = trend.iter().map(|t| t.issued).sum();
    assert_eq!(trend_accepted as u64, n("accepted"));
    assert_eq!(trend_issued as u64, n("issued"));
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// `drn audit anchor` signs the chain's head outside the database and `drn audit verify
/// --anchors` checks the chain extends it; a forged head (its signature no longer matches)
/// fails the check (issue 31 item 5; the rewrites themselves: the server's API tests).
#[test]
fn audit_heads_are_signed_and_checked() {
    let dir = std::env::temp_dir().join(format!("drn-anchor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("a.db").display());
    let data = dir.join("data");
    let data = data.to_str().unwrap();
    let anchors = dir.join("anchors");
    let anchors = anchors.to_str().unwrap();
    let ca = format!("{data}/pki/ca.pem");
    let (code, _, err) = drn(&[
        "simulate",
        "--days",
        "1",
        "--per-day",
        "5",
        "--db",
        &db,
        "--data",
        data,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = drn(&[
        "audit",
        "anchor",
        "--db",
        &db,
        "--data",
        data,
        "--anchors",
        anchors,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("signed head "), "{out}");
    let verify = || {
        drn(&[
            "audit",
            "verify",
            "--db",
            &db,
            "--anchors",
            anchors,
            "--ca",
            &ca,
        ])
    };
    let (code, out, err) = verify();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("extending all 1 signed heads"), "{out}");
    let head = std::fs::read_dir(anchors)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&head).unwrap();
    std::fs::write(&head, text.replacen("\"hash\": \"", "\"hash\": \"0", 1)).unwrap();
    let (code, _, err) = verify();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not genuine"), "{err}");
}

/// `drn signer` (issue 33) listens on loopback only, and without the demo's keys says how
/// to make them.
#[test]
fn signer_refuses_a_non_loopback_address_and_missing_keys() {
    let dir = std::env::temp_dir().join(format!("drn-cli-signer-{}", std::process::id()));
    let data = dir.to_str().unwrap();
    let (code, _, err) = drn(&["signer", "--data", data, "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 1);
    assert!(err.contains("loopback interface only"), "{err}");
    let (code, _, err) = drn(&["signer", "--data", data, "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 1);
    assert!(err.contains("drn serve --demo --data"), "{err}");
}

/// `drn client add` (issue 33): an API client of another state system, with the BIN its
/// signing certificate carries; a bad BIN, an unknown unit or a taken name is refused with
/// what is wrong, and the audit chain stays whole.
#[test]
fn client_add_registers_an_api_client_and_names_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("drn-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("c.db").display());
    let data = dir.join("data");
    let (code, _, err) = drn(&[
        "simulate",
        "--days",
        "0",
        "--db",
        &db,
        "--data",
        data.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let add = |name: &str, unit: &str, bin: &str| {
        drn(&[
            "client",
            "add",
            "--db",
            &db,
            "--name",
            name,
            "--role",
            "district_officer",
            "--unit",
            unit,
            "--bin",
            bin,
        ])
    };
    let (code, out, err) = add("ais-test", "KZ", "990440100004");
    assert_eq!(code, 0, "{err}");
    let token = out.trim().rsplit(' ').next().unwrap();
    assert_eq!(token.len(), 64, "{out}");
    let (code, _, err) = add("ais-test", "KZ", "990440100004");
    assert_eq!(code, 1);
    assert!(err.contains("an API client named ais-test exists"), "{err}");
    let (code, _, err) = add("ais-other", "ZZ", "990440100004");
    assert_eq!(code, 1);
    assert!(err.contains("no unit ZZ"), "{err}");
    let (code, _, err) = add("ais-other", "KZ", "990440100005");
    assert_eq!(code, 1);
    assert!(err.contains("check digit"), "{err}");
    let (code, out, err) = drn(&["audit", "verify", "--db", &db]);
    assert_eq!(code, 0, "{out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
