//! Storage faults stop every change; a killed writer loses no acknowledged command.

use std::sync::Arc;

use drn_core::{Channel, Urgency};
use drn_engine::commands::Accept;
use drn_engine::*;
use drn_store::Db;

use crate::support::*;

/// Fail-stop on a storage fault (SQLite; PostgreSQL has none of its own here): the
/// database file turns corrupt under the writer (its pages overwritten in place, see
/// `testkit::corrupt_sqlite`). The command that meets it is refused with `StorageFault`
/// and nothing of it is kept; every later change is refused too, also once the file is
/// whole again and also outside the writer (`Db::begin`); reads go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_stops_every_change_and_reads_go_on() {
    let url = fresh_urls("storage_fault").await.remove(0);
    let w = world(&url, "2019-04-02T10:00").await;
    let kept = accept(&w, Urgency::General).await;
    assert_eq!(w.engine.storage_fault(), None);
    let count = |sql: &'static str| count_of(&w.db, sql);
    let audit_before = count("SELECT COUNT(*) FROM audit").await;

    let path = drn_store::lite::path_of(&url).unwrap();
    let broken = drn_store::testkit::corrupt_sqlite(&path).unwrap();
    let second = Command::Accept(Accept {
        process: None,
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: w.applicant,
        documents_presented: vec![],
        missing: vec![],
        data: serde_json::json!({}),
    });
    let e = w
        .engine
        .execute(&w.counter, &second, Some("after-the-fault"))
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::StorageFault { .. }), "{e}");
    assert_eq!(e.code(), "storage_fault");
    let reason = w.engine.storage_fault().unwrap();
    assert!(reason.contains("malformed"), "{reason}");
    broken.restore().unwrap();

    // Refused from now on, the same command again and another one.
    let again = w
        .engine
        .execute(&w.counter, &second, Some("after-the-fault"));
    assert!(matches!(again.await, Err(EngineError::StorageFault { .. })));
    let complete = Command::CompleteStep {
        application: kept.id.clone(),
        revision: kept.revision,
        note: None,
    };
    let e = w
        .engine
        .execute(&w.counter, &complete, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EngineError::StorageFault { reason: r } if *r == reason),
        "{e}"
    );
    let units = [unit("D71-2", UnitKind::District, Some("R71"), "71")];
    let e = w
        .engine
        .create_units(&Actor::system(), &units)
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::StorageFault { .. }), "{e}");
    // And so is a write outside both (the online renewal's own row, the persons' load).
    assert!(matches!(
        w.db.writable(),
        Err(drn_store::StoreError::Fault(_))
    ));

    // Nothing of them was kept; reads go on.
    assert_eq!(count("SELECT COUNT(*) FROM applications").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM audit").await, audit_before);
    assert_eq!(count("SELECT COUNT(*) FROM units").await, 8);
    let row =
        w.db.rows(drn_store::Statement::new(
            "SELECT step FROM applications WHERE id = $1",
            vec![drn_store::Value::from(&kept.id)],
        ))
        .await
        .unwrap();
    assert_eq!(row[0].try_get::<i64, _>(0).unwrap(), i64::from(kept.step));

    // A restart keeps the fault (its marker beside the file), until an administrator who
    // has checked the database deletes the marker.
    let restart = || async {
        let (cat, cal) = load_catalog();
        let db = Db::open(&url).await.unwrap();
        Engine::new(db, cat, cal, w.clock.clone()).unwrap()
    };
    let e = restart()
        .await
        .execute(&w.counter, &complete, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, EngineError::StorageFault { reason: r } if r.contains("before the restart") && r.contains(&reason)),
        "{e}"
    );
    std::fs::remove_file(drn_store::Fault::marker_path(&path)).unwrap();
    let engine = restart().await;
    assert_eq!(engine.storage_fault(), None);
    engine.execute(&w.counter, &complete, None).await.unwrap();
}

/// A child process writes commands under load and is killed with SIGKILL; after reopening,
/// every acknowledged command is there, none is half-applied, and the audit chain verifies.
/// Repeated three times on each backend.
async fn crash(url: &str) {
    use std::io::BufRead;
    let w = world(url, "2019-04-02T10:00").await;
    w.db.close().await;
    let exe = std::env::current_exe().unwrap();
    let writer = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("crash_writer");
    if !writer.exists() {
        // `cargo test` builds examples; `cargo test --test engine` does not.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = std::process::Command::new(cargo)
            .args([
                "build",
                "-q",
                "-p",
                "drn-engine",
                "--example",
                "crash_writer",
            ])
            .status()
            .unwrap();
        assert!(
            ok.success() && writer.exists(),
            "could not build {}",
            writer.display()
        );
    }
    let mut accepted = Vec::new();
    let mut completed = Vec::new();
    for round in 0..3 {
        let mut child = std::process::Command::new(&writer)
            .arg(url)
            .arg(catalog_dir())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let started = std::time::Instant::now();
        let mut lines = Vec::new();
        while lines.len() < 60 + round * 40
            && started.elapsed() < std::time::Duration::from_secs(60)
        {
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(1)) {
                lines.push(line);
            }
        }
        let seen = lines.len();
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        // Every line the writer printed before it died was acknowledged.
        lines.extend(std::iter::from_fn(|| rx.try_recv().ok()));
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                ["ACK", "accept", id] => accepted.push(id.to_string()),
                ["ACK", "complete", id, rev] => {
                    completed.push((id.to_string(), rev.parse::<i64>().unwrap()))
                }
                _ => {}
            }
        }
        assert!(seen > 0, "round {round}: the writer acknowledged nothing");
    }
    let db = Db::open(url).await.unwrap();
    let (cat, cal) = load_catalog();
    let engine = Engine::new(
        db.clone(),
        cat,
        cal,
        Arc::new(ManualClock::new(at("2019-04-02T11:00"))),
    )
    .unwrap();
    let sys = Actor::system();
    for id in &accepted {
        let a = engine
            .application(&sys, &ApplicationId::parse(id).unwrap(), "crash-test")
            .await
            .unwrap();
        assert_eq!(a.status, Status::InProgress);
    }
    for (id, rev) in &completed {
        let a = engine
            .application(&sys, &ApplicationId::parse(id).unwrap(), "crash-test")
            .await
            .unwrap();
        assert!(a.revision >= *rev && a.step == 3, "{id}: {a:?}");
    }
    // No half-applied command: each application's last entered step is its step, and
    // there is one audited accept per application.
    let rows = drn_store::query("SELECT a.id, a.step, (SELECT e.step FROM events e WHERE e.application_id = a.id AND e.kind = 'step_entered' ORDER BY e.seq DESC LIMIT 1) FROM applications a")
        .fetch_all(db.reader())
        .await
        .unwrap();
    for r in &rows {
        let step: i64 = r.get(1);
        let last: Option<i64> = r.get(2);
        assert_eq!(Some(step), last);
    }
    let accepts: i64 = drn_store::query("SELECT COUNT(*) FROM audit WHERE action = 'accept'")
        .fetch_one(db.reader())
        .await
        .map(|r| r.get(0))
        .unwrap();
    assert_eq!(accepts, rows.len() as i64);
    let v = engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(!accepted.is_empty());
}

on_both!(crash_loses_no_acknowledged_command, crash);
