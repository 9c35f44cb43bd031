//! A writer for the crash test (crates/engine/tests/engine/durability.rs,
//! `crash_loses_no_acknowledged_command`): it accepts applications and completes their
//! steps from several tasks, printing one line per acknowledged command, until it is
//! killed.
//!
//! Usage: crash_writer DB_URL CATALOG_DIR

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use drn_core::{Channel, Iin, Urgency};
use drn_engine::commands::Accept;
use drn_engine::*;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("DB_URL")?;
    let dir = args.next().ok_or("CATALOG_DIR")?;
    let db = drn_store::Db::open(&url).await?;
    let (cat, cal) = catalog_files::load(Path::new(&dir)).map_err(|e| format!("{e:?}"))?;
    let start = "2019-04-02T10:00:00+06:00".parse::<jiff::Timestamp>()?;
    let engine = Engine::new(db, cat, cal, Arc::new(ManualClock::new(start)))?;
    let counter = Actor::staff("op71", Role::CounterOperator, UnitId::parse("C71-1")?);
    let applicant = Iin::parse("871008401427")?;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let engine = engine.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let cmd = Command::Accept(Accept {
                    process: None,
                    service: "S1".into(),
                    channel: Channel::Counter,
                    urgency: Urgency::General,
                    applicant,
                    documents_presented: vec![],
                    missing: vec![],
                    // S1 takes no intake data of its own (an unknown field is refused).
                    data: serde_json::json!({}),
                });
                let Ok(Outcome::Accepted { application: a }) =
                    engine.execute(&counter, &cmd, None).await
                else {
                    continue;
                };
                ack(&format!("accept {}", a.id));
                let cmd = Command::CompleteStep {
                    application: a.id.clone(),
                    revision: a.revision,
                    note: None,
                };
                if let Ok(Outcome::Application { application: b }) =
                    engine.execute(&counter, &cmd, None).await
                {
                    ack(&format!("complete {} {}", b.id, b.revision));
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    Ok(())
}

/// Prints an acknowledgement only after the command's transaction committed.
fn ack(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ACK {line}");
    let _ = out.flush();
}
