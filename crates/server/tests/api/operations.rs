//! What an operator relies on: the allocator's tuning, and readiness after a storage fault.

use serde_json::{json, Value};

use crate::support::*;

/// The option's number is mimalloc 3's: before the tuning it reads that version's default
/// purge delay (1 s), after it a minute.
#[test]
fn the_allocator_keeps_freed_memory_for_a_minute() {
    assert_eq!(drn_server::freed_memory_kept_ms(), 1_000);
    drn_server::tune_allocator();
    assert_eq!(drn_server::freed_memory_kept_ms(), 60_000);
}

/// After a storage fault (SQLite: the file turned corrupt under the writer, see
/// `testkit::corrupt_sqlite`) the server is not ready (`/readyz` 503 `storage_fault` with
/// the reason), refuses a change with 503 in the caller's language, and says so in the
/// metrics; reads go on. Also once the file is whole again: an administrator must look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storage_fault_makes_the_server_unready_and_refuses_changes() {
    let url = fresh_urls("storage_fault").await.remove(0);
    let app = spawn_app(&url).await;
    let counter = app.login("op.astana.1").await;
    let plain = reqwest::Client::new();
    let get = |path: &str| plain.get(format!("{}{path}", app.base)).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    let path = drn_store::lite::path_of(&url).unwrap();
    let broken = drn_store::testkit::corrupt_sqlite(&path).unwrap();
    // A write through the writer meets the corrupt pages.
    let e = app
        .state
        .engine
        .write_bookkeeping(vec![drn_store::Statement::new(
            "DELETE FROM sessions WHERE id_hash = $1",
            vec![drn_store::Value::from("nobody")],
        )])
        .await
        .unwrap_err();
    assert!(
        matches!(e, drn_engine::EngineError::StorageFault { .. }),
        "{e}"
    );
    broken.restore().unwrap();

    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "storage_fault", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("malformed"), "{message}");

    let (iin, _, _) = &app.report.citizens[0];
    let (s, v) = counter
        .post("/api/v1/applications", json!({ "service": "S1", "channel": "counter", "urgency": "general", "applicant": iin.to_string() }))
        .await;
    assert_eq!(s, 503, "{v}");
    assert_eq!(v["error"]["code"], "storage_fault", "{v}");
    let refused = drn_engine::EngineError::StorageFault {
        reason: String::new(),
    };
    assert_eq!(v["error"]["message"], refused.message(drn_core::Lang::Ru));
    assert_eq!(counter.get("/api/v1/units").await.0, 200);
    let m = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(m.contains("drn_storage_fault 1"), "{m}");
}
