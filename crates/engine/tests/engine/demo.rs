//! The demo seed.

use std::sync::Arc;

use drn_core::{Iin, Sex};
use drn_engine::*;
use drn_store::Db;

use crate::support::*;

/// Demo data: 2,000 persons with valid, unique IINs, every staff role, the 20 regions,
/// about 5% of ID cards in the online renewal window; a second seed is refused and
/// changes nothing.
async fn demo_seed(url: &str) {
    use drn_engine::demo::{self, DemoOptions};
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = load_catalog();
    let clock = Arc::new(ManualClock::new(at("2026-03-10T10:00")));
    let engine = Engine::new(db.clone(), cat, cal, clock).unwrap();
    let opts = DemoOptions {
        persons: 2_000,
        seed: 42,
    };
    let hash = |p: &str| format!("hash:{p}");
    let started = std::time::Instant::now();
    let report = demo::seed(&engine, &opts, &hash).await.unwrap();
    eprintln!("seeded 2,000 persons in {:?}", started.elapsed());
    assert_eq!(report.persons, 2_000);

    let count = |sql: &'static str| count_of(&db, sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM units").await,
        report.units as i64
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM units WHERE kind = 'region'").await,
        20
    );

    for role in [
        Role::CounterOperator,
        Role::DistrictOfficer,
        Role::RegionalOfficer,
        Role::CentralOfficer,
        Role::ProductionOperator,
        Role::Supervisor,
        Role::Auditor,
        Role::Administrator,
    ] {
        assert!(
            report.accounts.iter().any(|a| a.role == role),
            "no account with role {role:?}"
        );
    }
    assert_eq!(
        count("SELECT COUNT(*) FROM staff").await,
        report.accounts.len() as i64
    );

    let rows = drn_store::query("SELECT iin, birth_date, sex, data_json FROM persons")
        .fetch_all(db.reader())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2_000);
    let today = jiff::civil::date(2026, 3, 10);
    let mut seen = std::collections::HashSet::new();
    let mut window = 0;
    for r in &rows {
        let iin: String = r.get(0);
        let iin = Iin::parse(&iin).unwrap();
        assert!(seen.insert(iin), "duplicate {iin}");
        let birth: String = r.get(1);
        let sex: String = r.get(2);
        let w = iin.check_person(birth.parse().unwrap(), Sex::parse(&sex).unwrap());
        assert!(w.is_empty(), "{iin}: {w:?}");
        let data: String = r.get(3);
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert!(data["registration"]["region"].is_string());
        if let Some(card) = data["documents"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["kind"] == "id_card"))
        {
            let expires: jiff::civil::Date = card["expires"].as_str().unwrap().parse().unwrap();
            let days = today.until(expires).unwrap().get_days();
            if (-10..=30).contains(&days) {
                window += 1;
            }
        }
    }
    let share = f64::from(window) / 2_000.0;
    assert!(
        (0.02..=0.10).contains(&share),
        "renewal window share {share}"
    );
    assert!(report.citizens.len() >= 4, "{:?}", report.citizens);
    for (iin, _, _) in &report.citizens {
        assert!(seen.contains(iin));
    }

    let before = (
        count("SELECT COUNT(*) FROM units").await,
        count("SELECT COUNT(*) FROM staff").await,
        count("SELECT COUNT(*) FROM persons").await,
        count("SELECT COUNT(*) FROM audit").await,
    );
    let again = demo::seed(&engine, &opts, &hash).await.unwrap_err();
    assert_eq!(again.code(), "forbidden", "{again}");
    let after = (
        count("SELECT COUNT(*) FROM units").await,
        count("SELECT COUNT(*) FROM staff").await,
        count("SELECT COUNT(*) FROM persons").await,
        count("SELECT COUNT(*) FROM audit").await,
    );
    assert_eq!(before, after);
    let v = engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
}

on_both!(demo_seed_fills_an_empty_database_only, demo_seed);
