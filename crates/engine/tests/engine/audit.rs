//! The audit chain and its tampering checks, and the bookkeeping writes that are not audited.

use drn_core::Urgency;
use drn_engine::*;

use crate::support::*;

async fn audit_tamper(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let a = accept(&w, Urgency::General).await;
    let _ = complete(&w, &w.counter, &a).await;
    let db = &w.db;
    assert_eq!(audit::verify(db).await.unwrap().broken_at, None);
    // Changed record.
    drn_store::query("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        .execute(db.writer())
        .await
        .unwrap();
    let v = audit::verify(db).await.unwrap();
    assert_eq!(v.broken_at, Some(3), "{v:?}");
    drn_store::query(
        "UPDATE audit SET actor = (SELECT actor FROM audit WHERE seq = 2) WHERE seq = 3",
    )
    .execute(db.writer())
    .await
    .ok();
    // Deleted record (a fresh world to start whole).
    let w = world(
        &fresh_urls("tamper2").await[if url.starts_with("sqlite") { 0 } else { 1 }],
        "2019-04-02T10:00",
    )
    .await;
    let a = accept(&w, Urgency::General).await;
    let _ = complete(&w, &w.counter, &a).await;
    let db = &w.db;
    drn_store::query("DELETE FROM audit WHERE seq = 2")
        .execute(db.writer())
        .await
        .unwrap();
    assert_eq!(audit::verify(db).await.unwrap().broken_at, Some(2));
    // Reordered: swap two records' contents.
    let w = world(
        &fresh_urls("tamper3").await[if url.starts_with("sqlite") { 0 } else { 1 }],
        "2019-04-02T10:00",
    )
    .await;
    let a = accept(&w, Urgency::General).await;
    let _ = complete(&w, &w.counter, &a).await;
    let db = &w.db;
    drn_store::query("UPDATE audit SET seq = -1 WHERE seq = 2")
        .execute(db.writer())
        .await
        .unwrap();
    drn_store::query("UPDATE audit SET seq = 2 WHERE seq = 3")
        .execute(db.writer())
        .await
        .unwrap();
    drn_store::query("UPDATE audit SET seq = 3 WHERE seq = -1")
        .execute(db.writer())
        .await
        .unwrap();
    assert_eq!(audit::verify(db).await.unwrap().broken_at, Some(2));
    // Removed from the end.
    let last: i64 = drn_store::query("SELECT MAX(seq) FROM audit")
        .fetch_one(db.reader())
        .await
        .map(|r| r.get(0))
        .unwrap();
    drn_store::query("DELETE FROM audit WHERE seq = $1")
        .bind(last)
        .execute(db.writer())
        .await
        .unwrap();
    drn_store::query("UPDATE audit SET seq = 3 WHERE seq = 2")
        .execute(db.writer())
        .await
        .ok();
    assert!(audit::verify(db).await.unwrap().broken_at.is_some());
}

/// Bookkeeping writes (sessions, sign-in failures, one-time codes) go through the writers:
/// they change their rows, answer how many each, write no audit record, and a set of them
/// that fails keeps nothing of any.
async fn bookkeeping(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let audit_count = || async {
        drn_store::query("SELECT COUNT(*) FROM audit")
            .fetch_one(w.db.reader())
            .await
            .map(|r| r.get::<i64, _>(0))
            .unwrap()
    };
    let audited = audit_count().await;
    let insert = |id: &str| {
        drn_store::Statement::new(
            "INSERT INTO sessions (id_hash, kind, subject, role, unit_id, iin, csrf, created_at, last_seen) VALUES ($1, 'staff', 'c1', 'counter_operator', NULL, NULL, 'x', $2, $2)",
            vec![drn_store::Value::from(id), drn_store::Value::Instant(Some(1))],
        )
    };
    let touch = |id: &str, at: i64| {
        drn_store::Statement::new(
            "UPDATE sessions SET last_seen = $1 WHERE id_hash = $2",
            vec![
                drn_store::Value::Instant(Some(at)),
                drn_store::Value::from(id),
            ],
        )
    };
    assert_eq!(e.write_bookkeeping(vec![insert("h1")]).await.unwrap(), [1]);
    assert_eq!(
        e.write_bookkeeping(vec![touch("h1", 42), touch("none", 43)])
            .await
            .unwrap(),
        [1, 0]
    );
    // A new row, then the same key again: refused, and the first is not kept either.
    assert!(e
        .write_bookkeeping(vec![insert("h2"), insert("h1")])
        .await
        .is_err());
    let rows =
        w.db.rows(drn_store::Statement::new(
            "SELECT id_hash, last_seen FROM sessions ORDER BY id_hash",
            vec![],
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].try_get::<String, _>(0).unwrap(), "h1");
    assert_eq!(rows[0].try_get::<i64, _>(1).unwrap(), 42);
    assert_eq!(audit_count().await, audited, "bookkeeping is not audited");
    // Commands still run after the failed write.
    let _ = accept(&w, Urgency::General).await;
}

on_both!(audit_verify_detects_tampering, audit_tamper);
on_both!(bookkeeping_writes_go_through_the_writers, bookkeeping);
