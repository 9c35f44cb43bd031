//! The engine on both backends: SQLite always, PostgreSQL when DRN_TEST_POSTGRES holds a
//! URL (CI sets it). Each scenario gets a fresh database.

use std::path::Path;
use std::sync::Arc;

use drn_core::{Calendar, Catalog, Channel, Iin, Sex, Text, Urgency, WorkingHours};
use drn_engine::commands::{Accept, Representative};
use drn_engine::setup::{NewStaff, NewUnit};
use drn_engine::*;
use drn_store::Db;
use jiff::{SignedDuration, Timestamp};

fn catalog_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"))
}

fn load_catalog() -> (Catalog, Calendar) {
    catalog_files::load(catalog_dir()).unwrap()
}

/// Fresh databases: a SQLite file, and a new PostgreSQL database when configured.
async fn fresh_urls(name: &str) -> Vec<String> {
    drn_store::testkit::fresh_urls(name).await.unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(drn_core::kz_tz().unwrap())
        .unwrap()
        .timestamp()
}

fn unit(id: &str, kind: UnitKind, parent: Option<&str>, region: &str) -> NewUnit {
    NewUnit {
        id: UnitId::parse(id).unwrap(),
        kind,
        parent: parent.map(|p| UnitId::parse(p).unwrap()),
        region_code: Some(region.into()),
        kato: None,
        name: Text::new(id, id, id),
        hours: WorkingHours::default(),
    }
}

struct World {
    engine: Engine,
    clock: Arc<ManualClock>,
    counter: Actor,
    district: Actor,
    region: Actor,
    centre: Actor,
    production: Actor,
    other_district: Actor,
    applicant: Iin,
}

fn uid(s: &str) -> UnitId {
    UnitId::parse(s).unwrap()
}

async fn world(url: &str, start: &str) -> World {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = load_catalog();
    let clock = Arc::new(ManualClock::new(at(start)));
    let engine = Engine::new(db, cat, cal, clock.clone()).unwrap();
    let sys = Actor::system();
    engine
        .create_units(
            &sys,
            &[
                unit("KZ", UnitKind::Centre, None, "00"),
                unit("IPC", UnitKind::Production, Some("KZ"), "00"),
                unit("R71", UnitKind::Region, Some("KZ"), "71"),
                unit("D71-1", UnitKind::District, Some("R71"), "71"),
                unit("C71-1", UnitKind::Counter, Some("D71-1"), "71"),
                unit("R75", UnitKind::Region, Some("KZ"), "75"),
                unit("D75-1", UnitKind::District, Some("R75"), "75"),
                unit("C75-1", UnitKind::Counter, Some("D75-1"), "75"),
            ],
        )
        .await
        .unwrap();
    let staff = |id: &str, role: Role, u: &str| NewStaff {
        id: id.into(),
        username: id.into(),
        full_name: id.into(),
        role,
        unit: uid(u),
        iin: None,
        password_hash: "x".into(),
    };
    engine
        .create_staff(
            &sys,
            &[
                staff("op71", Role::CounterOperator, "C71-1"),
                staff("dist71", Role::DistrictOfficer, "D71-1"),
                staff("reg71", Role::RegionalOfficer, "R71"),
                staff("centre", Role::CentralOfficer, "KZ"),
                staff("ipc", Role::ProductionOperator, "IPC"),
                staff("dist75", Role::DistrictOfficer, "D75-1"),
            ],
        )
        .await
        .unwrap();
    let applicant = Iin::parse("871008401427").unwrap();
    let persons: Vec<Person> = [
        "871008401427",
        "760212350620",
        "800416300257",
        "680503450037",
    ]
    .iter()
    .map(|s| {
        let iin = Iin::parse(s).unwrap();
        Person {
            iin,
            surname: "Әбілқасымова".into(),
            given_name: "Гүлнұр".into(),
            patronymic: None,
            birth_date: iin.encoded_birth().unwrap(),
            sex: iin.encoded_sex().unwrap_or(Sex::Female),
            citizenship: "KZ".into(),
            data: serde_json::json!({}),
        }
    })
    .collect();
    engine.put_persons(&sys, &persons).await.unwrap();
    World {
        engine,
        clock,
        counter: Actor::staff("op71", Role::CounterOperator, uid("C71-1")),
        district: Actor::staff("dist71", Role::DistrictOfficer, uid("D71-1")),
        region: Actor::staff("reg71", Role::RegionalOfficer, uid("R71")),
        centre: Actor::staff("centre", Role::CentralOfficer, uid("KZ")),
        production: Actor::staff("ipc", Role::ProductionOperator, uid("IPC")),
        other_district: Actor::staff("dist75", Role::DistrictOfficer, uid("D75-1")),
        applicant,
    }
}

fn app_of(o: &Outcome) -> Application {
    match o {
        Outcome::Accepted { application }
        | Outcome::Application { application }
        | Outcome::IntakeRefused { application, .. } => application.clone(),
        other => panic!("not an application outcome: {other:?}"),
    }
}

async fn accept(w: &World, urgency: Urgency) -> Application {
    let cmd = Command::Accept(Accept {
        service: "S1".into(),
        channel: Channel::Counter,
        urgency,
        applicant: w.applicant,
        documents_presented: vec![],
        missing: vec![],
        data: serde_json::json!({}),
    });
    app_of(&w.engine.execute(&w.counter, &cmd, None).await.unwrap())
}

async fn complete(w: &World, actor: &Actor, app: &Application) -> Application {
    let cmd = Command::CompleteStep {
        application: app.id.clone(),
        revision: app.revision,
        note: None,
    };
    app_of(&w.engine.execute(actor, &cmd, None).await.unwrap())
}

/// Form, sign and send a registry at `from`'s unit for `step`, then receive it at `to`'s.
async fn hand_over(w: &World, from: &Actor, to: &Actor, app: &Application) -> Application {
    let e = &w.engine;
    let form = Command::FormRegistry {
        service: app.service.clone(),
        version: app.version.clone(),
        process: app.process.clone(),
        step: app.step,
    };
    let Outcome::Registries { registries } = e.execute(from, &form, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(registries.len(), 1);
    let r = &registries[0];
    assert!(r.applications.contains(&app.id));
    let Outcome::Registry { registry: r } = e
        .execute(
            from,
            &Command::SignRegistry {
                registry: r.id.clone(),
                revision: r.revision,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "signed");
    w.clock.advance(SignedDuration::from_mins(30));
    let Outcome::Registry { registry: r } = e
        .execute(
            from,
            &Command::SendRegistry {
                registry: r.id.clone(),
                revision: r.revision,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "sent");
    w.clock.advance(SignedDuration::from_hours(2));
    let Outcome::Registry { registry: r } = e
        .execute(
            to,
            &Command::ReceiveRegistry {
                registry: r.id.clone(),
                revision: r.revision,
                incoming_number: None,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "received");
    assert!(r.incoming_number.is_some());
    e.application(to, &app.id, "test").await.unwrap()
}

async fn walk_2018(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let a = accept(&w, Urgency::General).await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "C71-1")
    );
    w.clock.advance(SignedDuration::from_mins(20));
    let a = complete(&w, &w.counter, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (3, "D71-1"));
    // Step 3 entered Wed 20.03.2019: 2 working days skip Nauryz (21-22, 25 March).
    assert_eq!(
        drn_core::kz_time(&a.step_due_at.unwrap().to_zoned(w.engine.tz.clone())),
        "2019-03-27T18:00:00+06:00"
    );
    let a = hand_over(&w, &w.district, &w.region, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (4, "R71"));
    let a = hand_over(&w, &w.region, &w.centre, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (5, "KZ"));
    let a = hand_over(&w, &w.centre, &w.production, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (6, "IPC"));
    let a = hand_over(&w, &w.production, &w.centre, &a).await;
    assert_eq!(a.step, 7);
    let a = hand_over(&w, &w.centre, &w.region, &a).await;
    assert_eq!(a.step, 8);
    let a = hand_over(&w, &w.region, &w.district, &a).await;
    assert_eq!(a.step, 9);
    let a = hand_over(&w, &w.district, &w.counter, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (10, "C71-1"));
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    let done = app_of(&w.engine.execute(&w.counter, &issue, None).await.unwrap());
    assert_eq!(done.status, Status::Issued);
    let tl = w.engine.timeline(&w.counter, &a.id).await.unwrap();
    let entered: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == "step_entered")
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(entered, (2..=10).collect::<Vec<_>>());
    let completed: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == "step_completed")
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(completed, (1..=10).collect::<Vec<_>>());
    assert!(tl
        .iter()
        .filter(|e| e.kind == "step_entered")
        .all(|e| e.due_at.is_some()));
    let v = audit::verify(&w.engine.db).await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(v.records > 30);
}

async fn walk_2014(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let a = accept(&w, Urgency::Two).await;
    assert_eq!((a.version.as_str(), a.step), ("2014", 2));
    let a = complete(&w, &w.counter, &a).await;
    assert_eq!(a.step, 3);
    let a = hand_over(&w, &w.district, &w.region, &a).await; // 3 -> 4
    let a = hand_over(&w, &w.region, &w.centre, &a).await; // 4 -> 5 (incoming book)
    assert_eq!(a.step, 5);
    let a = complete(&w, &w.centre, &a).await; // 5 -> 6
    let a = complete(&w, &w.centre, &a).await; // 6 -> 7
    assert_eq!(a.step, 7);
    let a = hand_over(&w, &w.centre, &w.production, &a).await; // 7 -> 8
    let a = hand_over(&w, &w.production, &w.centre, &a).await; // 8 -> 9
    let a = complete(&w, &w.centre, &a).await; // 9 -> 10
    let a = hand_over(&w, &w.centre, &w.region, &a).await; // 10 -> 11
    let a = complete(&w, &w.region, &a).await; // 11 -> 12
    let a = hand_over(&w, &w.region, &w.district, &a).await; // 12 -> 13
    let a = hand_over(&w, &w.district, &w.counter, &a).await; // 13 -> 14
    assert_eq!((a.step, a.holder_unit.as_str()), (14, "C71-1"));
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    assert_eq!(
        app_of(&w.engine.execute(&w.counter, &issue, None).await.unwrap()).status,
        Status::Issued
    );
    let tl = w.engine.timeline(&w.centre, &a.id).await.unwrap();
    let completed: Vec<u32> = tl
        .iter()
        .filter(|e| e.kind == "step_completed")
        .filter_map(|e| e.step)
        .collect();
    assert_eq!(completed, (1..=14).collect::<Vec<_>>());
}

async fn refusals_and_rights(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    // Intake refusal: the operator lists what is missing; a receipt, no due date.
    let cmd = Command::Accept(Accept {
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: w.applicant,
        documents_presented: vec![],
        missing: vec!["Свидетельство о рождении / birth certificate".into()],
        data: serde_json::json!({}),
    });
    let Outcome::IntakeRefused {
        application,
        receipt,
        missing,
    } = e.execute(&w.counter, &cmd, None).await.unwrap()
    else {
        panic!()
    };
    assert!(receipt.starts_with("R-"));
    assert_eq!(missing.len(), 1);
    assert_eq!(application.status, Status::IntakeRefused);
    // An unknown person cannot apply; a wrong urgency is refused with the field named.
    let mut bad = Accept {
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: Iin::parse("821214240093").unwrap_or(w.applicant),
        documents_presented: vec![],
        missing: vec![],
        data: serde_json::json!({}),
    };
    bad.applicant = Iin::form(jiff::civil::date(1999, 1, 1), Sex::Male, |_| false).unwrap();
    let err = e
        .execute(&w.counter, &Command::Accept(bad), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let a = accept(&w, Urgency::One).await;
    let a = complete(&w, &w.counter, &a).await;
    // A district officer of another district cannot act on it, and nothing changes.
    let wrong = Command::CompleteStep {
        application: a.id.clone(),
        revision: a.revision,
        note: None,
    };
    let err = e
        .execute(&w.other_district, &wrong, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "forbidden");
    assert!(err.message(drn_core::Lang::Kk).contains("рұқсат"));
    assert!(err.message(drn_core::Lang::Ru).contains("не разрешено"));
    // A registry step cannot be completed one by one.
    let err = e.execute(&w.district, &wrong, None).await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let same = e.application(&w.district, &a.id, "test").await.unwrap();
    assert_eq!(same.revision, a.revision);
    // Concurrent officers: the first wins, the second gets a conflict.
    let refuse = Command::Refuse {
        application: a.id.clone(),
        revision: a.revision,
        reason: "Формуляр заполнен неверно".into(),
    };
    let ret = Command::Return {
        application: a.id.clone(),
        revision: a.revision,
        to_step: 2,
        reason: "Переснять фотографию".into(),
    };
    let (r1, r2) = tokio::join!(
        e.execute(&w.district, &refuse, None),
        e.execute(&w.district, &ret, None)
    );
    let oks = [r1.is_ok(), r2.is_ok()];
    assert_eq!(oks.iter().filter(|x| **x).count(), 1, "{r1:?} {r2:?}");
    let loser = match (r1, r2) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(loser.code(), "conflict");
    // Annulment is not a district's decision; at the region it is.
    let b = accept(&w, Urgency::General).await;
    let b = complete(&w, &w.counter, &b).await;
    let b = hand_over(&w, &w.district, &w.region, &b).await;
    let annul = Command::Annul {
        application: b.id.clone(),
        revision: b.revision,
        reason: "Требуется дополнительная проверка".into(),
    };
    let err = e.execute(&w.district, &annul, None).await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let b2 = app_of(&e.execute(&w.region, &annul, None).await.unwrap());
    assert_eq!(b2.status, Status::Annulled);
    let again = Command::CompleteStep {
        application: b.id.clone(),
        revision: b2.revision,
        note: None,
    };
    assert_eq!(
        e.execute(&w.region, &again, None).await.unwrap_err().code(),
        "closed"
    );
    // Idempotency: a retried command returns the first answer and does not run twice.
    let c = accept(&w, Urgency::General).await;
    let cmd = Command::CompleteStep {
        application: c.id.clone(),
        revision: c.revision,
        note: None,
    };
    let first = e.execute(&w.counter, &cmd, Some("key-1")).await.unwrap();
    let second = e.execute(&w.counter, &cmd, Some("key-1")).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        e.application(&w.counter, &c.id, "t")
            .await
            .unwrap()
            .revision,
        c.revision + 1
    );
    assert_eq!(
        e.execute(&w.district, &cmd, Some("key-1"))
            .await
            .unwrap_err()
            .code(),
        "idempotency_key_reused"
    );
    // Issue only to the applicant (or a representative with authority).
    // Deadlines: overdue after the due instant.
    w.clock.advance(SignedDuration::from_hours(24 * 10));
    let over = e
        .due_before(&w.district, Some(&uid("D71-1")), e.now(), 100)
        .await
        .unwrap();
    assert!(over.iter().all(|q| q.overdue) && !over.is_empty());
    // The audit chain is whole, and denied attempts are in it.
    let v = audit::verify(&e.db).await.unwrap();
    assert_eq!(v.broken_at, None);
    let denied = audit::list(&e.db, None, 1000).await.unwrap();
    assert!(denied.iter().any(|r| r.action.starts_with("denied:")));
}

async fn audit_tamper(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let a = accept(&w, Urgency::General).await;
    let _ = complete(&w, &w.counter, &a).await;
    let db = &w.engine.db;
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
    let db = &w.engine.db;
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
    let db = &w.engine.db;
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
        .map(|r| drn_store::Row::get(&r, 0))
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

async fn representative_and_scope(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let a = accept(&w, Urgency::General).await;
    // A citizen sees their own application; another citizen gets not found.
    let me = Actor::citizen(w.applicant);
    assert!(e.application(&me, &a.id, "portal").await.is_ok());
    let other = Actor::citizen(Iin::parse("760212350620").unwrap());
    assert_eq!(
        e.application(&other, &a.id, "portal")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    // Staff of another region do not see it.
    assert_eq!(
        e.application(&w.other_district, &a.id, "card")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    // The read was audited against the person.
    let reads = audit::list(&e.db, Some(&format!("person:{}", w.applicant)), 100)
        .await
        .unwrap();
    assert!(reads
        .iter()
        .any(|r| r.action == "read_application" && r.actor == me.id));
    let _ = Representative {
        iin: w.applicant,
        authority: String::new(),
    };
}

macro_rules! on_both {
    ($name:ident, $scenario:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            for url in fresh_urls(stringify!($name)).await {
                eprintln!("backend: {}", drn_store::testkit::backend_name(&url));
                $scenario(&url).await;
            }
        }
    };
}

on_both!(passport_2018_through_ten_actions_and_five_users, walk_2018);
on_both!(passport_2014_through_fourteen_actions, walk_2014);
on_both!(
    intake_refusal_wrong_unit_conflict_annulment_idempotency,
    refusals_and_rights
);
on_both!(audit_verify_detects_tampering, audit_tamper);
on_both!(
    citizen_and_unit_scope_and_audited_reads,
    representative_and_scope
);

/// A child process writes commands under load and is killed with SIGKILL; after reopening,
/// every acknowledged command is there, none is half-applied, and the audit chain verifies.
/// Repeated three times on each backend.
async fn crash(url: &str) {
    use std::io::BufRead;
    let w = world(url, "2019-04-02T10:00").await;
    w.engine.db.close().await;
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
        db,
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
        .fetch_all(engine.db.reader())
        .await
        .unwrap();
    for r in &rows {
        let step: i64 = drn_store::Row::get(r, 1);
        let last: Option<i64> = drn_store::Row::get(r, 2);
        assert_eq!(Some(step), last);
    }
    let accepts: i64 = drn_store::query("SELECT COUNT(*) FROM audit WHERE action = 'accept'")
        .fetch_one(engine.db.reader())
        .await
        .map(|r| drn_store::Row::get(&r, 0))
        .unwrap();
    assert_eq!(accepts, rows.len() as i64);
    let v = audit::verify(&engine.db).await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(!accepted.is_empty());
}

on_both!(crash_loses_no_acknowledged_command, crash);

/// Demo data: 2,000 persons with valid, unique IINs, every staff role, the 20 regions,
/// about 5% of ID cards in the online renewal window; a second seed is refused and
/// changes nothing.
async fn demo_seed(url: &str) {
    use drn_engine::demo::{self, DemoOptions};
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = load_catalog();
    let clock = Arc::new(ManualClock::new(at("2026-03-10T10:00")));
    let engine = Engine::new(db, cat, cal, clock).unwrap();
    let opts = DemoOptions {
        persons: 2_000,
        seed: 42,
    };
    let hash = |p: &str| format!("hash:{p}");
    let started = std::time::Instant::now();
    let report = demo::seed(&engine, &opts, &hash).await.unwrap();
    eprintln!("seeded 2,000 persons in {:?}", started.elapsed());
    assert_eq!(report.persons, 2_000);

    let count = |sql: &'static str| {
        let db = engine.db.clone();
        async move {
            drn_store::query(sql)
                .fetch_one(db.reader())
                .await
                .map(|r| drn_store::Row::get::<i64, _>(&r, 0))
                .unwrap()
        }
    };
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
        .fetch_all(engine.db.reader())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2_000);
    let today = jiff::civil::date(2026, 3, 10);
    let mut seen = std::collections::HashSet::new();
    let mut window = 0;
    for r in &rows {
        let iin: String = drn_store::Row::get(r, 0);
        let iin = Iin::parse(&iin).unwrap();
        assert!(seen.insert(iin), "duplicate {iin}");
        let birth: String = drn_store::Row::get(r, 1);
        let sex: String = drn_store::Row::get(r, 2);
        let w = iin.check_person(birth.parse().unwrap(), Sex::parse(&sex).unwrap());
        assert!(w.is_empty(), "{iin}: {w:?}");
        let data: String = drn_store::Row::get(r, 3);
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
    let v = audit::verify(&engine.db).await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
}

on_both!(demo_seed_fills_an_empty_database_only, demo_seed);
