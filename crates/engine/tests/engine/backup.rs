//! Backups of a running database (`drn_store::backup`): taken under write load, restored
//! into an empty database, they hold every command acknowledged before the backup began,
//! none half, and a whole audit chain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use drn_engine::*;
use drn_store::Db;

use crate::support::*;

/// Four tasks accept applications and complete their first step without pause; once some
/// are acknowledged, the acknowledged ones are noted and a backup is taken while the tasks
/// go on. Restored into a fresh database: each noted accept is there (and each noted
/// completion at its revision or later), every application has its one audited accept and
/// its last entered step is its step (no command half there), and the chain is whole.
/// A backup never overwrites a file, and a restore refuses a database that holds data.
async fn backup_under_load(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let acked: Arc<Mutex<Vec<(ApplicationId, i64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (engine, counter, applicant) = (w.engine.clone(), w.counter.clone(), w.applicant);
        let (acked, stop) = (acked.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let cmd = accept_cmd(
                    "S1",
                    drn_core::Channel::Counter,
                    applicant,
                    serde_json::json!({}),
                );
                let a = app_of(&engine.execute(&counter, &cmd, None).await.unwrap());
                acked.lock().unwrap().push((a.id.clone(), a.revision));
                let cmd = Command::CompleteStep {
                    application: a.id.clone(),
                    revision: a.revision,
                    note: None,
                };
                let b = app_of(&engine.execute(&counter, &cmd, None).await.unwrap());
                acked.lock().unwrap().push((b.id.clone(), b.revision));
            }
        }));
    }
    while acked.lock().unwrap().len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: Vec<(ApplicationId, i64)> = acked.lock().unwrap().clone();
    let dir = std::env::temp_dir().join(format!(
        "drn-backup-{}-{}",
        std::process::id(),
        before.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(match w.db.backend {
        drn_store::Backend::Sqlite => "drn.backup.db",
        drn_store::Backend::Postgres => "drn.backup.pgdump",
    });
    let info = drn_store::backup::backup(url, &file).await.unwrap();
    assert!(info.bytes > 0);
    // The load went on during the backup.
    let during = acked.lock().unwrap().len();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(during >= before.len());
    // A backup is written to a new file only.
    let e = drn_store::backup::backup(url, &file).await.unwrap_err();
    assert!(e.to_string().contains("exists"), "{e}");

    let target = restored_url(url, &dir).await;
    drn_store::backup::restore(&file, &target).await.unwrap();
    // Into a database that holds data: refused, nothing changed.
    let e = drn_store::backup::restore(&file, &target)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("restore into"), "{e}");

    let db = Db::open(&target).await.unwrap();
    assert_eq!(
        db.migrate().await.unwrap(),
        0,
        "the backup has the whole schema"
    );
    let (cat, cal) = load_catalog();
    let engine = Engine::new(db.clone(), cat, cal, w.clock.clone()).unwrap();
    let sys = Actor::system();
    for (id, rev) in &before {
        let a = engine.application(&sys, id, "backup-test").await.unwrap();
        assert!(a.revision >= *rev, "{id}: {a:?}");
    }
    let apps = count_of(&db, "SELECT COUNT(*) FROM applications").await;
    assert!(apps as usize >= before.len() / 2, "{apps}");
    assert_eq!(
        count_of(&db, "SELECT COUNT(*) FROM audit WHERE action = 'accept'").await,
        apps
    );
    assert_eq!(
        count_of(&db, "SELECT COUNT(*) FROM applications a WHERE a.step <> (SELECT e.step FROM events e WHERE e.application_id = a.id AND e.kind = 'step_entered' ORDER BY e.seq DESC LIMIT 1)").await,
        0
    );
    let v = engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(v.records > 0);
    // The restored database takes commands.
    app_of(
        &engine
            .execute(
                &w.counter,
                &accept_cmd(
                    "S1",
                    drn_core::Channel::Counter,
                    w.applicant,
                    serde_json::json!({}),
                ),
                None,
            )
            .await
            .unwrap(),
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

on_both!(
    a_backup_under_load_restores_every_acknowledged_command,
    backup_under_load
);

/// An empty database of the same backend as `url` to restore into: a new file in `dir`,
/// or a new PostgreSQL database.
async fn restored_url(url: &str, dir: &std::path::Path) -> String {
    if url.starts_with("sqlite:") {
        return format!("sqlite://{}", dir.join("restored.db").display());
    }
    fresh_urls("backup_restored")
        .await
        .into_iter()
        .find(|u| !u.starts_with("sqlite:"))
        .unwrap()
}
