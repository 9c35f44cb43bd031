//! `drn simulate` over the whole mix (issue 32): S1E in its pilot's period and S3 through
//! the portal, their steps worked, and the counts the supervisor's dashboard shows.

use std::collections::BTreeMap;
use std::sync::Arc;

use drn_core::Channel;
use drn_engine::simulate::{self, Mix, MixLine, SimOptions, SimReport};
use drn_engine::*;
use drn_store::Db;

use crate::support::*;

/// An engine on a fresh database at `start` 09:00 with the demo's units and persons.
async fn demo_engine(url: &str, start: &str) -> (Engine, Db, Arc<ManualClock>) {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = load_catalog();
    let clock = Arc::new(ManualClock::new(at(&format!("{start}T09:00"))));
    let engine = Engine::new(db.clone(), cat, cal, clock.clone()).unwrap();
    let opts = demo::DemoOptions {
        persons: 1_500,
        seed: 7,
    };
    demo::seed(&engine, &opts, &|p: &str| format!("hash:{p}"))
        .await
        .unwrap();
    (engine, db, clock)
}

fn options(start: &str, days: u32, per_day: u32, mix: Mix) -> SimOptions {
    SimOptions {
        start: start.parse().unwrap(),
        days,
        per_day,
        staff_per_unit: 2,
        steps_per_hour: 6,
        seed: 11,
        mix,
    }
}

/// The report's counts add up and agree with the supervisor's dashboard over the same
/// database at the simulation's end: open and overdue, open by unit, the steps completed
/// and on time by service and step, accepted and issued by day.
async fn agrees_with_dashboard(engine: &Engine, r: &SimReport) {
    assert_eq!(r.errors, 0, "{:?}", r.error_samples);
    assert_eq!(r.submitted, u64::from(r.working_days * r.per_day));
    assert_eq!(r.submitted, r.accepted + r.intake_refused);
    assert_eq!(r.accepted, r.issued + r.refused + r.annulled + r.open);
    assert_eq!(r.open, r.open_tracked);
    let sup = Actor::staff("supervisor", Role::Supervisor, uid("KZ"));
    let s = engine.supervision(&sup).await.unwrap();
    assert_eq!(s.total.open as u64, r.open);
    assert_eq!(s.total.overdue as u64, r.overdue);
    let dashboard_open: BTreeMap<String, u64> = s
        .by_unit
        .iter()
        .filter(|u| u.counts.open > 0)
        .map(|u| (u.unit.id.to_string(), u.counts.open as u64))
        .collect();
    assert_eq!(dashboard_open, r.open_by_unit);
    let from: jiff::civil::Date = r.start.parse().unwrap();
    let to = r.end.to_zoned(engine.tz.clone()).date();
    let mut dashboard_steps: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
    for t in engine.step_times(&sup, None, from, to).await.unwrap() {
        let e = dashboard_steps.entry((t.service, t.step)).or_default();
        e.0 += t.completed as u64;
        e.1 += t.within_limit as u64;
    }
    let mut sim_steps: BTreeMap<(String, u32), (u64, u64)> = BTreeMap::new();
    for c in &r.compliance {
        let e = sim_steps.entry((c.service.clone(), c.step)).or_default();
        e.0 += c.completed;
        e.1 += c.on_time;
    }
    assert_eq!(dashboard_steps, sim_steps);
    let trend = engine.trend(&sup, None, from, to).await.unwrap();
    for t in &trend {
        let (a, i) = r
            .by_day
            .iter()
            .find(|d| d.day == t.day)
            .map_or((0, 0), |d| (d.accepted, d.issued));
        assert_eq!((t.accepted as u64, t.issued as u64), (a, i), "{}", t.day);
    }
}

/// In the pilot's period (seed 001: 28.05.2025 to 31.03.2026) the default mix is S1E, the
/// only version in force then: the citizens' signed requests pass the sandboxed state
/// systems' checks, the regional directorates review them (annulling some), production
/// makes the cards and the districts issue them; the report names the service and the
/// dashboard counts the same.
async fn pilot_period(url: &str) {
    let (engine, db, clock) = demo_engine(url, "2025-11-20").await;
    let r = simulate::run(
        &engine,
        clock,
        &options("2025-11-20", 6, 25, Mix::default()),
    )
    .await
    .unwrap();
    let s1e = &r.by_service["S1E"];
    assert!(s1e.name.contains("online renewal"), "{}", s1e.name);
    assert!(s1e.name_ru.contains("онлайн"), "{}", s1e.name_ru);
    for ch in ["portal", "mobile"] {
        assert!(s1e.by_channel.get(ch).is_some_and(|n| *n > 0), "{r:?}");
    }
    assert_eq!(r.by_service.len(), 1, "{:?}", r.by_service.keys());
    // Reviewed at step 17 by the region, made at 18, issued at 19.
    for (step, kind) in [(17, "R"), (18, "IPC"), (19, "D")] {
        assert!(
            r.compliance
                .iter()
                .any(|c| c.service == "S1E" && c.step == step && c.unit.starts_with(kind)),
            "step {step}: {:?}",
            r.compliance
        );
    }
    assert!(s1e.issued > 0, "{s1e:?}");
    // The session's checks (steps 1 to 16) are done and counted at once.
    assert!(r
        .compliance
        .iter()
        .any(|c| c.service == "S1E" && c.step == 12));
    agrees_with_dashboard(&engine, &r).await;
    // Each person renews once: no second session beside an open one.
    let renewed: i64 = count_of(
        &db,
        "SELECT COUNT(DISTINCT applicant_iin) FROM applications WHERE service = 'S1E'",
    )
    .await;
    assert_eq!(renewed as u64, s1e.accepted);
}

/// S3 through the portal: under the 2014 text only a holder of an ID card in force
/// applies (order 165 para 6), is registered at once and comes to the chosen counter for
/// the chip rewrite, which the counter does; under order 55 (2019) likewise without the
/// card rule.
async fn s3_through_the_portal(url: &str, start: &str) {
    let mix = Mix {
        lines: vec![
            MixLine {
                service: "S3".into(),
                channel: Channel::Portal,
                weight: 2,
            },
            MixLine {
                service: "S3".into(),
                channel: Channel::Counter,
                weight: 1,
            },
        ],
        ..Mix::default()
    };
    let (engine, db, clock) = demo_engine(url, start).await;
    let r = simulate::run(&engine, clock, &options(start, 3, 20, mix))
        .await
        .unwrap();
    let s3 = &r.by_service["S3"];
    assert!(s3.name.contains("Registration"), "{}", s3.name);
    let portal = s3.by_channel.get("portal").copied().unwrap_or(0);
    assert!(portal > 0, "{start}: {s3:?}");
    assert!(s3.by_channel.get("counter").is_some_and(|n| *n > 0));
    assert!(s3.issued >= portal, "{start}: {s3:?}");
    // Every portal registration's chip rewrite is done at a counter (those the run's
    // last slot left wait for the next day).
    assert!(
        r.counter_tasks_done > 0 && r.counter_tasks_done <= portal,
        "{r:?}"
    );
    let done = count_of(
        &db,
        "SELECT COUNT(*) FROM counter_tasks WHERE done_at IS NOT NULL",
    )
    .await;
    assert_eq!(done as u64, r.counter_tasks_done);
    agrees_with_dashboard(&engine, &r).await;
}

on_both!(simulate_s1e_in_the_pilot_period, pilot_period);
async fn s3_portal_2014(url: &str) {
    s3_through_the_portal(url, "2014-06-02").await;
}

async fn s3_portal_2019(url: &str) {
    s3_through_the_portal(url, "2019-04-02").await;
}

on_both!(simulate_s3_through_the_portal_2014, s3_portal_2014);
on_both!(simulate_s3_through_the_portal_2019, s3_portal_2019);
