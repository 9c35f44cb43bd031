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
    /// The engine's database, for the tests that read it directly.
    db: Db,
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

/// A staff member of unit `u`, named `id`.
fn staff(id: &str, role: Role, u: &str) -> NewStaff {
    NewStaff {
        id: id.into(),
        username: id.into(),
        full_name: id.into(),
        role,
        unit: uid(u),
        iin: None,
        password_hash: "x".into(),
    }
}

async fn world(url: &str, start: &str) -> World {
    let db = Db::open(url).await.unwrap();
    db.migrate().await.unwrap();
    let (cat, cal) = load_catalog();
    let clock = Arc::new(ManualClock::new(at(start)));
    let engine = Engine::new(db.clone(), cat, cal, clock.clone()).unwrap();
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
        db,
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

/// Form a registry at `from`'s unit for the application's step, sign it and, half an hour
/// later, send it: the registry as sent.
async fn form_sign_send(w: &World, from: &Actor, app: &Application) -> Registry {
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
    r
}

/// Form, sign and send a registry at `from`'s unit for `step`, then receive it at `to`'s.
async fn hand_over(w: &World, from: &Actor, to: &Actor, app: &Application) -> Application {
    let e = &w.engine;
    // Waiting for a registry: in the unit's queue, not in its work list.
    let unit = from.unit.clone().unwrap();
    let later = w.clock.now() + SignedDuration::from_mins(1);
    let queue = e.queue(from, &unit, 1000).await.unwrap();
    assert!(queue.iter().any(|q| q.application.id == app.id));
    let work = e.worklist_before(from, &unit, later, 1000).await.unwrap();
    assert!(!work.iter().any(|q| q.application.id == app.id));
    let r = form_sign_send(w, from, app).await;
    // Sent: the application reads as in transit (its registry's state, migration 0015),
    // leaves the sending unit's queue, and nobody there can act on it any more.
    let moving = e.application(from, &app.id, "test").await.unwrap();
    assert_eq!(moving.status, Status::InTransit);
    assert_eq!(moving.registry.as_ref(), Some(&r.id));
    let queue = e.queue(from, &unit, 1000).await.unwrap();
    assert!(!queue.iter().any(|q| q.application.id == app.id));
    let late = Command::CompleteStep {
        application: app.id.clone(),
        revision: moving.revision,
        note: None,
    };
    assert!(matches!(
        e.execute(from, &late, None).await,
        Err(EngineError::Forbidden { .. })
    ));
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
    let arrived = e.application(to, &app.id, "test").await.unwrap();
    assert_eq!(
        (arrived.status, arrived.registry.as_ref()),
        (Status::InProgress, None)
    );
    arrived
}

async fn walk_2018(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let a = accept(&w, Urgency::General).await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "C71-1")
    );
    // A step done one by one is in the work list, from just after it was entered.
    let counter = w.counter.unit.clone().unwrap();
    let listed =
        |work: Vec<drn_engine::queries::QueueItem>| work.iter().any(|q| q.application.id == a.id);
    let at = a.step_entered_at;
    let e = &w.engine;
    assert!(!listed(
        e.worklist_before(&w.counter, &counter, at, 100)
            .await
            .unwrap()
    ));
    let after = at + SignedDuration::from_micros(1);
    assert!(listed(
        e.worklist_before(&w.counter, &counter, after, 100)
            .await
            .unwrap()
    ));
    // Several units' lists read in one snapshot are each what the unit reads alone.
    let district = w.district.unit.clone().unwrap();
    let ids = |work: &[drn_engine::queries::QueueItem]| {
        work.iter()
            .map(|q| q.application.id.clone())
            .collect::<Vec<_>>()
    };
    let together = e
        .worklists_before(
            &[
                (w.counter.clone(), counter.clone()),
                (w.district.clone(), district.clone()),
            ],
            after,
            100,
        )
        .await
        .unwrap();
    assert_eq!(together.len(), 2);
    assert!(listed(together[0].clone()));
    let alone = e
        .worklist_before(&w.district, &district, after, 100)
        .await
        .unwrap();
    assert_eq!(ids(&together[1]), ids(&alone));
    // A unit the actor may not see is refused, whatever the others.
    let refused = e
        .worklists_before(
            &[
                (w.counter.clone(), counter.clone()),
                (w.counter.clone(), district.clone()),
            ],
            after,
            100,
        )
        .await;
    assert!(
        matches!(refused, Err(EngineError::Forbidden { .. })),
        "{refused:?}"
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
    let v = w.engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
    assert!(v.records > 30);
}

/// A registry goes to one unit: the centre's registry of the step after production is one
/// registry per region, each listing that region's applications, with when each entered
/// the step and was due (its item), and each received at its own region.
async fn registry_per_destination(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let sys = Actor::system();
    e.create_staff(
        &sys,
        &[
            staff("op75", Role::CounterOperator, "C75-1"),
            staff("reg75", Role::RegionalOfficer, "R75"),
        ],
    )
    .await
    .unwrap();
    let op75 = Actor::staff("op75", Role::CounterOperator, uid("C75-1"));
    let reg75 = Actor::staff("reg75", Role::RegionalOfficer, uid("R75"));
    let a = accept(&w, Urgency::General).await;
    let b = run(
        &w,
        &op75,
        accept_cmd(
            "S1",
            Channel::Counter,
            Iin::parse("760212350620").unwrap(),
            serde_json::json!({}),
        ),
    )
    .await;
    w.clock.advance(SignedDuration::from_mins(20));
    let a = complete(&w, &w.counter, &a).await;
    let b = complete(&w, &op75, &b).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (3, "D75-1"));
    let a = hand_over(&w, &w.district, &w.region, &a).await;
    let b = hand_over(&w, &w.other_district, &reg75, &b).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (4, "R75"));
    let a = hand_over(&w, &w.region, &w.centre, &a).await;
    let b = hand_over(&w, &reg75, &w.centre, &b).await;
    // Both at the centre, then at production, in one registry each time.
    let a = hand_over(&w, &w.centre, &w.production, &a).await;
    let a = hand_over(&w, &w.production, &w.centre, &a).await;
    let b = e.application(&w.centre, &b.id, "test").await.unwrap();
    assert_eq!((a.step, b.step), (7, 7));
    let (entered, due) = (b.step_entered_at, b.step_due_at);
    w.clock.advance(SignedDuration::from_mins(30));
    let form = Command::FormRegistry {
        service: a.service.clone(),
        version: a.version.clone(),
        process: a.process.clone(),
        step: 7,
    };
    let Outcome::Registries { registries } = e.execute(&w.centre, &form, None).await.unwrap()
    else {
        panic!()
    };
    let to: Vec<(&str, Vec<ApplicationId>)> = registries
        .iter()
        .map(|r| (r.to_unit.as_str(), r.applications.clone()))
        .collect();
    assert_eq!(
        to,
        vec![("R71", vec![a.id.clone()]), ("R75", vec![b.id.clone()])]
    );
    for r in &registries {
        assert_eq!(
            (r.from_unit.as_str(), r.step, r.status.as_str()),
            ("KZ", 7, "formed")
        );
        let moved = e
            .application(&w.centre, &r.applications[0], "test")
            .await
            .unwrap();
        assert_eq!(moved.registry.as_ref(), Some(&r.id));
    }
    // Nothing is left waiting: a second formation finds nothing and writes nothing.
    let again = e.execute(&w.centre, &form, None).await;
    assert!(
        matches!(again, Err(EngineError::Invalid { .. })),
        "{again:?}"
    );
    let items = count_of(
        &w.db,
        &format!(
            "SELECT COUNT(*) FROM registry_items WHERE registry_id = '{}' AND application_id = '{}' AND entered_at = {} AND due_at = {}",
            registries[1].id.as_str(),
            b.id.as_str(),
            entered.as_microsecond(),
            due.unwrap().as_microsecond()
        ),
    )
    .await;
    assert_eq!(items, 1);
    // Each region receives its own: R75's application enters step 8 there.
    let b = hand_over_formed(&w, &w.centre, &reg75, &registries[1], &b).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (8, "R75"));
    let a = e.application(&w.centre, &a.id, "test").await.unwrap();
    assert_eq!((a.step, a.status), (7, Status::InProgress));
    let v = e.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
}

/// Signs, sends and receives an already formed registry; the application as it arrived.
async fn hand_over_formed(
    w: &World,
    from: &Actor,
    to: &Actor,
    r: &Registry,
    app: &Application,
) -> Application {
    let e = &w.engine;
    let mut rev = r.revision;
    for (actor, cmd) in [(from, "sign"), (from, "send"), (to, "receive")] {
        let command = match cmd {
            "sign" => Command::SignRegistry {
                registry: r.id.clone(),
                revision: rev,
            },
            "send" => Command::SendRegistry {
                registry: r.id.clone(),
                revision: rev,
            },
            _ => Command::ReceiveRegistry {
                registry: r.id.clone(),
                revision: rev,
                incoming_number: None,
            },
        };
        let Outcome::Registry { registry } = e.execute(actor, &command, None).await.unwrap() else {
            panic!()
        };
        rev = registry.revision;
        w.clock.advance(SignedDuration::from_mins(30));
    }
    e.application(to, &app.id, "test").await.unwrap()
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
    // Annulled on the way: it reads as annulled, not as in transit, and the receipt
    // moves only what is still in progress.
    let c1 = accept(&w, Urgency::General).await;
    let c1 = complete(&w, &w.counter, &c1).await;
    let r = form_sign_send(&w, &w.district, &c1).await;
    let moving = e.application(&w.district, &c1.id, "test").await.unwrap();
    assert_eq!(moving.status, Status::InTransit);
    let annul = Command::Annul {
        application: c1.id.clone(),
        revision: moving.revision,
        reason: "Заявитель отозвал заявление".into(),
    };
    let c2 = app_of(&e.execute(&Actor::system(), &annul, None).await.unwrap());
    assert_eq!(c2.status, Status::Annulled);
    let seen = e.application(&w.district, &c1.id, "test").await.unwrap();
    assert_eq!(
        (seen.status, seen.revision),
        (Status::Annulled, c2.revision)
    );
    let receive = Command::ReceiveRegistry {
        registry: r.id.clone(),
        revision: r.revision,
        incoming_number: None,
    };
    e.execute(&w.region, &receive, None).await.unwrap();
    let after = e.application(&w.region, &c1.id, "test").await.unwrap();
    assert_eq!(
        (after.status, after.step, after.revision),
        (Status::Annulled, c2.step, c2.revision)
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
    let v = e.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None);
    let denied = e.audit_log(None, 1000).await.unwrap();
    assert!(denied.iter().any(|r| r.action.starts_with("denied:")));
}

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
            .map(|r| drn_store::Row::get::<i64, _>(&r, 0))
            .unwrap()
    };
    let audited = audit_count().await;
    let insert = |id: &str| {
        drn_store::Statement::new(
            "INSERT INTO sessions (id_hash, kind, subject, role, unit_id, iin, csrf, created_at, last_seen) VALUES ($1, 'staff', 'c1', 'counter_operator', NULL, NULL, 'x', 1, 1)",
            vec![drn_store::Value::from(id)],
        )
    };
    let touch = |id: &str, at: i64| {
        drn_store::Statement::new(
            "UPDATE sessions SET last_seen = $1 WHERE id_hash = $2",
            vec![drn_store::Value::from(at), drn_store::Value::from(id)],
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
    let reads = e
        .audit_log(Some(&format!("person:{}", w.applicant)), 100)
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
on_both!(a_registry_per_destination_unit, registry_per_destination);
on_both!(
    intake_refusal_wrong_unit_conflict_annulment_idempotency,
    refusals_and_rights
);
on_both!(audit_verify_detects_tampering, audit_tamper);
on_both!(bookkeeping_writes_go_through_the_writers, bookkeeping);
on_both!(
    citizen_and_unit_scope_and_audited_reads,
    representative_and_scope
);

/// The number a `SELECT COUNT(*) …` reads.
async fn count_of(db: &Db, sql: &str) -> i64 {
    drn_store::query(sql)
        .fetch_one(db.reader())
        .await
        .map(|r| drn_store::Row::get::<i64, _>(&r, 0))
        .unwrap()
}

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
            vec![drn_store::Value::from(kept.id.as_str())],
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
        let step: i64 = drn_store::Row::get(r, 1);
        let last: Option<i64> = drn_store::Row::get(r, 2);
        assert_eq!(Some(step), last);
    }
    let accepts: i64 = drn_store::query("SELECT COUNT(*) FROM audit WHERE action = 'accept'")
        .fetch_one(db.reader())
        .await
        .map(|r| drn_store::Row::get(&r, 0))
        .unwrap();
    assert_eq!(accepts, rows.len() as i64);
    let v = engine.verify_audit().await.unwrap();
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
    let v = engine.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
}

on_both!(demo_seed_fills_an_empty_database_only, demo_seed);

// ---------------------------------------------------------------------------------------
// Issue 7: the services other than passports.

use drn_engine::services::{AcceptForeigner, DistrictAddresses, Foreigner};

/// Seeds D71-1's addresses; returns premises' codes.
async fn addresses(w: &World) -> Vec<String> {
    w.engine
        .seed_addresses(
            &Actor::system(),
            &[DistrictAddresses {
                unit: uid("D71-1"),
                region_kato: "710000000".into(),
                region_name: "Город Астана".into(),
                kato: "710200000".into(),
                name: "Район Алматы".into(),
                settlement: "г. Астана".into(),
            }],
            &["ул. Абая", "ул. Кенесары"],
            3,
            2,
        )
        .await
        .unwrap()
}

fn accept_cmd(service: &str, channel: Channel, applicant: Iin, data: serde_json::Value) -> Command {
    Command::Accept(Accept {
        service: service.into(),
        channel,
        urgency: Urgency::General,
        applicant,
        documents_presented: vec![],
        missing: vec![],
        data,
    })
}

async fn run(w: &World, actor: &Actor, cmd: Command) -> Application {
    app_of(&w.engine.execute(actor, &cmd, None).await.unwrap())
}

async fn run_err(w: &World, actor: &Actor, cmd: Command) -> EngineError {
    w.engine.execute(actor, &cmd, None).await.unwrap_err()
}

async fn issue_to(
    w: &World,
    actor: &Actor,
    a: &Application,
    to: Iin,
) -> Result<Outcome, EngineError> {
    w.engine
        .execute(
            actor,
            &Command::Issue {
                application: a.id.clone(),
                revision: a.revision,
                receiver: to,
                representative: None,
            },
            None,
        )
        .await
}

async fn check(w: &World, actor: &Actor, a: &Application) -> Application {
    run(
        w,
        actor,
        Command::Check {
            application: a.id.clone(),
            revision: a.revision,
        },
    )
    .await
}

async fn refuse(w: &World, actor: &Actor, a: &Application, reason: &str) -> Application {
    run(
        w,
        actor,
        Command::Refuse {
            application: a.id.clone(),
            revision: a.revision,
            reason: reason.into(),
        },
    )
    .await
}

async fn complete_note(
    w: &World,
    actor: &Actor,
    a: &Application,
    note: &str,
) -> Result<Outcome, EngineError> {
    w.engine
        .execute(
            actor,
            &Command::CompleteStep {
                application: a.id.clone(),
                revision: a.revision,
                note: Some(note.into()),
            },
            None,
        )
        .await
}

fn owner() -> Iin {
    Iin::parse("760212350620").unwrap()
}

async fn s3_counter(w: &World, who: Iin, rka: &str) -> Application {
    let a = run(
        w,
        &w.counter,
        accept_cmd(
            "S3",
            Channel::Counter,
            who,
            serde_json::json!({ "kind": "permanent", "rka": rka, "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" }),
        ),
    )
    .await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "D71-1")
    );
    let Outcome::Application { application: done } =
        issue_to(w, &w.district, &a, who).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    done
}

async fn residence(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    // Search by text and by code.
    let found = e
        .search_addresses(&w.counter, "Абая, д. 2, кв. 1", 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, "premise");
    assert_eq!(
        e.address(&w.counter, &found[0].rka).await.unwrap(),
        found[0]
    );
    assert!(!e
        .search_addresses(&w.counter, &rka[0][..12], 50)
        .await
        .unwrap()
        .is_empty());
    let words = e
        .search_addresses(&w.counter, "кенесары кв.", 50)
        .await
        .unwrap();
    assert_eq!(words.len(), 6);
    assert!(words.iter().all(|a| a.full.contains("Кенесары")));
    assert!(e.search_addresses(&w.production, "абая", 5).await.is_err());
    // Without the owner's consent: not accepted.
    let bad = run_err(&w, &w.counter, accept_cmd("S3", Channel::Counter, w.applicant, serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": owner().to_string() }))).await;
    assert_eq!(bad.code(), "invalid");
    // Temporary needs its end.
    let bad = run_err(&w, &w.counter, accept_cmd("S3", Channel::Counter, w.applicant, serde_json::json!({ "kind": "temporary", "rka": rka[0], "owner_iin": w.applicant.to_string() }))).await;
    assert_eq!(bad.code(), "invalid");
    // Registration, then at a new address: the first ends by itself.
    s3_counter(&w, w.applicant, &rka[0]).await;
    w.clock.advance(SignedDuration::from_hours(1));
    let second = s3_counter(&w, w.applicant, &rka[3]).await;
    let regs = e.registrations(&w.counter, &w.applicant).await.unwrap();
    assert_eq!(regs.len(), 2);
    assert_eq!(regs[0].rka.as_deref(), Some(rka[3].as_str()));
    assert!(regs[0].ended_at.is_none());
    assert!(regs[1].ended_at.is_some());
    assert!(regs[1]
        .ended_by
        .as_deref()
        .unwrap()
        .contains(&second.number));
    let p = e.person(&w.counter, &w.applicant, "test").await.unwrap();
    assert_eq!(p.data["registration"]["rka"], rka[3].as_str());
    // 2018: the status "not established at a place of residence".
    let who = Iin::parse("800416300257").unwrap();
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S3",
            Channel::Counter,
            who,
            serde_json::json!({ "kind": "not_established" }),
        ),
    )
    .await;
    issue_to(&w, &w.district, &a, who).await.unwrap();
    assert_eq!(
        e.registrations(&w.counter, &who).await.unwrap()[0].kind,
        "not_established"
    );
    // Refusal by the district, with a motivated reason.
    let a = run(&w, &w.counter, accept_cmd("S3", Channel::Counter, who, serde_json::json!({ "kind": "permanent", "rka": rka[1], "owner_iin": owner().to_string(), "owner_consent": true, "owner_id_document": "045678123" }))).await;
    let r = refuse(&w, &w.district, &a, "the owner's consent was withdrawn").await;
    assert_eq!(r.status, Status::Refused);
    // The portal: only with a chip ID card; the result is a notice and a chip task.
    let citizen = Actor::citizen(who);
    let portal = |rka: &str| {
        accept_cmd(
            "S3",
            Channel::Portal,
            who,
            serde_json::json!({ "unit": "C71-1", "kind": "permanent", "rka": rka }),
        )
    };
    assert_eq!(
        run_err(&w, &citizen, portal(&rka[2])).await.code(),
        "forbidden"
    );
    let mut person = e.person(&w.counter, &who, "test").await.unwrap();
    person.data["documents"] =
        serde_json::json!([{ "kind": "id_card", "number": "040000001", "expires": "2025-01-01" }]);
    e.put_persons(&Actor::system(), &[person]).await.unwrap();
    let a = run(&w, &citizen, portal(&rka[2])).await;
    assert_eq!(a.status, Status::Issued, "{a:?}");
    let tl = e.timeline(&citizen, &a.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == "issued").unwrap();
    assert!(issued.data["result"]["notice"]["ru"]
        .as_str()
        .unwrap()
        .contains("ЦОН"));
    let regs = e.registrations(&citizen, &who).await.unwrap();
    assert_eq!(
        (regs[0].kind.as_str(), regs[0].ended_at),
        ("permanent", None)
    );
    assert!(regs[1].ended_at.is_some(), "the status ended too");
    let tasks = e.counter_tasks(&w.counter, &who).await.unwrap();
    assert_eq!((tasks.len(), tasks[0].kind.as_str()), (1, "chip_rewrite"));
    assert!(e
        .complete_counter_task(&w.district, &tasks[0].id)
        .await
        .is_err());
    e.complete_counter_task(&w.counter, &tasks[0].id)
        .await
        .unwrap();
    assert!(e
        .complete_counter_task(&w.counter, &tasks[0].id)
        .await
        .is_err());
    assert!(e.counter_tasks(&w.counter, &who).await.unwrap()[0]
        .done_at
        .is_some());
    let j = e
        .journal(&w.counter, "chip_rewrite", Some(&uid("C71-1")), 10)
        .await
        .unwrap();
    assert_eq!(j.len(), 1);
    assert_eq!(e.verify_audit().await.unwrap().broken_at, None);
}

async fn residence_2014_and_deregistration(url: &str) {
    // 2014: no "not established" status; deregistration also on a prison sentence.
    let w = world(url, "2014-06-02T10:00").await;
    let rka = addresses(&w).await;
    let bad = run_err(
        &w,
        &w.counter,
        accept_cmd(
            "S3",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "kind": "not_established" }),
        ),
    )
    .await;
    assert_eq!(bad.code(), "invalid");
    let a = run(&w, &w.counter, accept_cmd("S3", Channel::Counter, w.applicant, serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": w.applicant.to_string() }))).await;
    assert_eq!((a.version.as_str(), a.step), ("2014", 2));
    // The step limit comes from the 2014 table: 20 minutes.
    assert_eq!(
        a.step_due_at.unwrap().duration_since(a.step_entered_at),
        SignedDuration::from_mins(20)
    );
    issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "prison" }),
        ),
    )
    .await;
    assert_eq!(
        (d.version.as_str(), d.step, d.holder_unit.as_str()),
        ("2014", 2, "D71-1")
    );
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &d, w.applicant).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let regs = w
        .engine
        .registrations(&w.counter, &w.applicant)
        .await
        .unwrap();
    assert!(regs.iter().all(|r| r.ended_at.is_some()));
    let sheets = w
        .engine
        .journal(&w.district, "departure_sheets", Some(&uid("D71-1")), 10)
        .await
        .unwrap();
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].data["ground"], "prison");
    assert!(sheets[0].data["from"].as_str().unwrap().contains("Абая"));
    // Not registered any more: no second deregistration.
    let bad = run_err(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "abroad" }),
        ),
    )
    .await;
    assert_eq!(bad.code(), "invalid");
}

async fn deregistration_2018(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    s3_counter(&w, w.applicant, &rka[0]).await;
    // 2018: the prison ground is gone; a court decision needs its number.
    for (data, code) in [
        (serde_json::json!({ "ground": "prison" }), "invalid"),
        (serde_json::json!({ "ground": "court" }), "invalid"),
        (serde_json::json!({}), "invalid"),
    ] {
        assert_eq!(
            run_err(
                &w,
                &w.counter,
                accept_cmd("S4", Channel::Counter, w.applicant, data)
            )
            .await
            .code(),
            code
        );
    }
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "ground": "court", "court_decision": "No 2-1234 of 01.03.2019" }),
        ),
    )
    .await;
    // One step, the district's: it waits there with its due time.
    assert_eq!(
        (d.version.as_str(), d.step, d.holder_unit.as_str()),
        ("2018", 1, "D71-1")
    );
    assert!(d.step_due_at.is_some());
    assert!(issue_to(&w, &w.counter, &d, w.applicant).await.is_err());
    issue_to(&w, &w.district, &d, w.applicant).await.unwrap();
    let sheets = w
        .engine
        .journal(&w.centre, "departure_sheets", None, 10)
        .await
        .unwrap();
    assert_eq!(sheets[0].data["ground"], "court");
    assert!(w
        .engine
        .registrations(&w.counter, &w.applicant)
        .await
        .unwrap()[0]
        .ended_at
        .is_some());
    // Refusal.
    let other = Iin::parse("800416300257").unwrap();
    s3_counter(&w, other, &rka[1]).await;
    let d = run(
        &w,
        &w.counter,
        accept_cmd(
            "S4",
            Channel::Counter,
            other,
            serde_json::json!({ "ground": "abroad" }),
        ),
    )
    .await;
    assert_eq!(
        refuse(&w, &w.district, &d, "no proof of departure abroad")
            .await
            .status,
        Status::Refused
    );
    assert!(w.engine.registrations(&w.counter, &other).await.unwrap()[0]
        .ended_at
        .is_none());
}

fn a_bin() -> String {
    (0..10)
        .map(|c| format!("18044000012{c}"))
        .find(|s| drn_core::Bin::parse(s).is_ok())
        .or_else(|| {
            (0..10)
                .map(|c| format!("18044000013{c}"))
                .find(|s| drn_core::Bin::parse(s).is_ok())
        })
        .unwrap()
}

async fn address_certificate(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    s3_counter(&w, w.applicant, &rka[0]).await;
    // Immediate: accepted and issued at the counter, after the check.
    let a = run(
        &w,
        &w.counter,
        accept_cmd("S5", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!((a.step, a.holder_unit.as_str()), (1, "C71-1"));
    assert_eq!(
        issue_to(&w, &w.counter, &a, w.applicant)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let a = check(&w, &w.counter, &a).await;
    let Outcome::Application { application: done } =
        issue_to(&w, &w.counter, &a, w.applicant).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let certs = e
        .journal(&w.counter, "address_certificates", Some(&uid("C71-1")), 5)
        .await
        .unwrap();
    assert_eq!(
        certs[0].data["signatures"],
        serde_json::json!(["MVD", "MoJ"])
    );
    assert_eq!(certs[0].data["rka"], rka[0].as_str());
    // A mismatch (no valid code for the person's address): the detour to the district.
    let other = Iin::parse("800416300257").unwrap();
    let a = run(
        &w,
        &w.counter,
        accept_cmd("S5", Channel::Counter, other, serde_json::json!({})),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    assert_eq!(
        issue_to(&w, &w.counter, &a, other)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let a = run(
        &w,
        &w.counter,
        Command::Return {
            application: a.id.clone(),
            revision: a.revision,
            to_step: 2,
            reason: "address data do not match".into(),
        },
    )
    .await;
    assert_eq!((a.step, a.holder_unit.as_str()), (2, "D71-1"));
    assert_eq!(
        complete_note(&w, &w.district, &a, "corrected")
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    let Outcome::Application { application: a } =
        complete_note(&w, &w.district, &a, &format!("RKA {}", rka[5]))
            .await
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (a.step, a.holder_unit.as_str()),
        (1, "C71-1"),
        "back to the counter"
    );
    let a = check(&w, &w.counter, &a).await;
    issue_to(&w, &w.counter, &a, other).await.unwrap();
    assert_eq!(
        e.registrations(&w.counter, &other).await.unwrap()[0]
            .rka
            .as_deref(),
        Some(rka[5].as_str())
    );
    // A legal entity (BIN) at an address that is not in the register: refused at the counter.
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S5",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "bin": a_bin(), "rka": "7102000009999999" }),
        ),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    let r = refuse(
        &w,
        &w.counter,
        &a,
        "the legal entity's address is not in the register",
    )
    .await;
    assert_eq!(r.status, Status::Refused);
    // A BIN at a registered address.
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S5",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "bin": a_bin(), "rka": rka[1] }),
        ),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    issue_to(&w, &w.counter, &a, w.applicant).await.unwrap();
    assert_eq!(
        run_err(
            &w,
            &w.counter,
            accept_cmd(
                "S5",
                Channel::Counter,
                w.applicant,
                serde_json::json!({ "bin": "123" })
            )
        )
        .await
        .code(),
        "invalid"
    );
}

async fn temporary_id(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S2",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "reason": "ID card lost" }),
        ),
    )
    .await;
    assert_eq!(
        (a.version.as_str(), a.step, a.holder_unit.as_str()),
        ("2018", 2, "D71-1")
    );
    let a = complete(&w, &w.district, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (3, "C71-1"));
    issue_to(&w, &w.counter, &a, w.applicant).await.unwrap();
    let j = e
        .journal(&w.district, "temporary_id", Some(&uid("D71-1")), 10)
        .await
        .unwrap();
    assert_eq!(
        (j.len(), j[0].subject.as_str()),
        (1, w.applicant.to_string().as_str())
    );
    assert!(e
        .journal(&w.district, "temporary_id", Some(&uid("D75-1")), 10)
        .await
        .is_err());
    let b = run(
        &w,
        &w.counter,
        accept_cmd("S2", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!(
        refuse(&w, &w.district, &b, "the identity could not be established")
            .await
            .status,
        Status::Refused
    );
    assert_eq!(
        e.journal(&w.centre, "temporary_id", None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

fn foreigner(passport: &str) -> Foreigner {
    Foreigner {
        surname: "Ivanov".into(),
        given_name: "Petr".into(),
        birth_date: jiff::civil::date(1990, 5, 17),
        sex: Sex::Male,
        citizenship: "RU".into(),
        passport: passport.into(),
    }
}

async fn foreigners_services(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let e = &w.engine;
    for (service, journal, extra) in [
        (
            "S6",
            "border_passes",
            serde_json::json!({ "zone": "Кордай, участок 3" }),
        ),
        (
            "S7",
            "invitations",
            serde_json::json!({ "purpose": "family reunification" }),
        ),
        (
            "S8",
            "foreigner_registration",
            serde_json::json!({ "until": "2014-08-01" }),
        ),
    ] {
        let mut data = extra.clone();
        data["foreigner"] = serde_json::to_value(foreigner("75 1234567")).unwrap();
        // Bad passport data first.
        assert_eq!(
            run_err(
                &w,
                &w.district,
                accept_cmd(service, Channel::Unit, w.applicant, data.clone())
            )
            .await
            .code(),
            "invalid"
        );
        data["foreigner"] = serde_json::to_value(foreigner(&format!("{service}0001"))).unwrap();
        // Only a district officer accepts at the unit.
        assert_eq!(
            run_err(
                &w,
                &w.counter,
                accept_cmd(service, Channel::Unit, w.applicant, data.clone())
            )
            .await
            .code(),
            "forbidden"
        );
        let a = run(
            &w,
            &w.district,
            accept_cmd(service, Channel::Unit, w.applicant, data.clone()),
        )
        .await;
        assert_eq!(
            (a.version.as_str(), a.step, a.holder_unit.as_str()),
            ("2014", 2, "D71-1")
        );
        // Limits in working days, capped by the whole-process limit.
        assert!(a.step_due_at.unwrap() <= a.due_at.unwrap());
        let a = complete(&w, &w.district, &a).await;
        assert_eq!(a.step, 3);
        assert_eq!(
            issue_to(&w, &w.district, &a, w.applicant)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let a = check(&w, &w.district, &a).await;
        issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
        let j = e
            .journal(&w.district, journal, Some(&uid("D71-1")), 10)
            .await
            .unwrap();
        assert_eq!(j.len(), 1, "{service}");
        // The special records hold the next one: the check records it, a motivated refusal.
        data["foreigner"] = serde_json::to_value(foreigner(&format!("{service}0002"))).unwrap();
        e.add_special_record(
            &Actor::system(),
            &format!("{service}0002"),
            "entry banned until 2016",
        )
        .await
        .unwrap();
        let b = run(
            &w,
            &w.district,
            accept_cmd(service, Channel::Unit, w.applicant, data),
        )
        .await;
        let b = complete(&w, &w.district, &b).await;
        let b = check(&w, &w.district, &b).await;
        assert_eq!(
            issue_to(&w, &w.district, &b, w.applicant)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let b = refuse(
            &w,
            &w.district,
            &b,
            "special records: entry banned until 2016",
        )
        .await;
        assert_eq!(b.status, Status::Refused);
        let tl = e.timeline(&w.district, &b.id).await.unwrap();
        let checked = tl.iter().find(|x| x.kind == "checked").unwrap();
        assert_eq!(checked.data["passed"], false);
        assert_eq!(checked.data["detail"]["reason"], "entry banned until 2016");
    }
    // S8 through the portal: the e-signed insert to the passport.
    let citizen = Actor::citizen(w.applicant);
    let a = run(
        &w,
        &citizen,
        accept_cmd(
            "S8",
            Channel::Portal,
            w.applicant,
            serde_json::json!({ "unit": "C71-1", "foreigner": foreigner("P0000777") }),
        ),
    )
    .await;
    assert_eq!(
        (a.process.as_str(), a.step, a.holder_unit.as_str()),
        ("portal", 2, "D71-1")
    );
    issue_to(&w, &w.district, &a, w.applicant).await.unwrap();
    let tl = e.timeline(&citizen, &a.id).await.unwrap();
    let issued = tl.iter().find(|x| x.kind == "issued").unwrap();
    assert_eq!(issued.data["result"]["insert"]["electronic"], true);
    // The two at the unit were entered at step 2 (the refused one too), and the portal's.
    assert_eq!(
        e.journal(&w.centre, "foreigner_registration", None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn s9_to_step5(w: &World, f: Foreigner, data: serde_json::Value) -> Application {
    let a = run(
        w,
        &w.counter,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Counter,
            urgency: Urgency::General,
            foreigner: f,
            documents_presented: vec![],
            missing: vec![],
            data,
        }),
    )
    .await;
    assert_eq!(a.step, 2);
    let a = complete(w, &w.counter, &a).await;
    assert_eq!(a.step, 3);
    // Step 3: the written consent must be recorded.
    assert_eq!(
        complete_note(w, &w.counter, &a, "")
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    let Outcome::Application { application: a } =
        complete_note(w, &w.counter, &a, "consent form No 17")
            .await
            .unwrap()
    else {
        panic!()
    };
    let a = complete(w, &w.counter, &a).await;
    assert_eq!(a.step, 5);
    a
}

async fn iin_for_foreigners(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let sys = Actor::system();
    let a = s9_to_step5(&w, foreigner("AB1234567"), serde_json::json!({})).await;
    assert!(a.applicant.starts_with("F:RU:"));
    // The operator's processing within 4 hours.
    // (4 working hours of the unit: the lunch break does not count)
    let took = a.step_due_at.unwrap().duration_since(a.step_entered_at);
    assert!(
        took >= SignedDuration::from_hours(4) && took <= SignedDuration::from_hours(5),
        "{took:?}"
    );
    // Only the system (the MVD operator) processes it.
    assert!(w
        .engine
        .execute(
            &w.counter,
            &Command::CompleteStep {
                application: a.id.clone(),
                revision: a.revision,
                note: None
            },
            None
        )
        .await
        .is_err());
    let a = e.application(&sys, &a.id, "test").await.unwrap();
    let a = complete(&w, &sys, &a).await;
    assert_eq!((a.step, a.holder_unit.as_str()), (6, "D71-1"));
    let iin = Iin::parse(&a.applicant).unwrap();
    assert_eq!(iin.encoded_birth(), Some(jiff::civil::date(1990, 5, 17)));
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &a, iin).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let p = e.person(&w.counter, &iin, "test").await.unwrap();
    assert_eq!(
        (p.surname.as_str(), p.citizenship.as_str()),
        ("Ivanov", "RU")
    );
    assert_eq!(
        e.journal(&w.centre, "iin_formed", None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // The same person again: an error message, the application ends.
    let b = s9_to_step5(&w, foreigner("AB1234567"), serde_json::json!({})).await;
    let b = complete(&w, &sys, &b).await;
    assert_eq!(b.status, Status::Refused);
    let tl = e.timeline(&w.counter, &b.id).await.unwrap();
    assert_eq!(tl.last().unwrap().kind, "error_message");
    assert_eq!(tl.last().unwrap().data["ground"], "has_iin");
    // Data that do not match the questionnaire: an error message.
    let mut f = foreigner("CD7654321");
    f.given_name = "Pavel".into();
    let c = s9_to_step5(
        &w,
        f,
        serde_json::json!({ "questionnaire": { "surname": "Ivanov", "given_name": "Pyotr" } }),
    )
    .await;
    let c = complete(&w, &sys, &c).await;
    assert_eq!(c.status, Status::Refused);
    let tl = e.timeline(&w.counter, &c.id).await.unwrap();
    assert_eq!(tl.last().unwrap().data["ground"], "mismatch");
    // Incomplete documents: the counter refuses (step 1's refusal branch is the counter's).
    let d = run(
        &w,
        &w.counter,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Counter,
            urgency: Urgency::General,
            foreigner: foreigner("EF0000001"),
            documents_presented: vec![],
            missing: vec!["migration card".into()],
            data: serde_json::json!({}),
        }),
    )
    .await;
    assert_eq!(d.status, Status::IntakeRefused);
    // At the unit: the district accepts.
    let u = run(
        &w,
        &w.district,
        Command::AcceptForeigner(AcceptForeigner {
            service: "S9".into(),
            channel: Channel::Unit,
            urgency: Urgency::General,
            foreigner: Foreigner {
                surname: "Sidorov".into(),
                ..foreigner("GH0000002")
            },
            documents_presented: vec![],
            missing: vec![],
            data: serde_json::json!({}),
        }),
    )
    .await;
    assert_eq!((u.process.as_str(), u.step), ("unit", 2));
    // Para 6 is the provider's own sequence: the district that holds the application passes
    // the request to the MVD system itself (the step did not stop at a counter that does not
    // hold it), the operator forms the IIN and the district issues the certificate.
    assert_eq!(u.holder_unit.as_str(), "D71-1");
    let u = complete(&w, &w.district, &u).await;
    assert_eq!((u.step, u.holder_unit.as_str()), (3, "D71-1"));
    let u = complete(&w, &sys, &u).await;
    assert_eq!((u.step, u.holder_unit.as_str()), (4, "D71-1"));
    let iin = Iin::parse(&u.applicant).unwrap();
    let Outcome::Application { application: done } =
        issue_to(&w, &w.district, &u, iin).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
}

/// Many tasks form IINs for one birth date and sex at once: never one IIN twice.
async fn iin_forming_concurrency(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let sys = Actor::system();
    let n = 24;
    let mut apps = Vec::new();
    for i in 0..n {
        let mut f = foreigner(&format!("ZZ{i:07}"));
        f.surname = format!("Person{i}");
        apps.push(s9_to_step5(&w, f, serde_json::json!({})).await);
    }
    let mut tasks = Vec::new();
    for a in apps {
        let e = w.engine.clone();
        let sys = sys.clone();
        tasks.push(tokio::spawn(async move {
            let cmd = Command::CompleteStep {
                application: a.id.clone(),
                revision: a.revision,
                note: None,
            };
            app_of(&e.execute(&sys, &cmd, None).await.unwrap())
        }));
    }
    let mut iins = std::collections::BTreeSet::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.step, 6);
        assert!(
            iins.insert(a.applicant.clone()),
            "IIN {} formed twice",
            a.applicant
        );
    }
    assert_eq!(iins.len(), n);
    let rows = drn_store::query("SELECT COUNT(*) FROM persons WHERE citizenship = 'RU'")
        .fetch_one(w.db.reader())
        .await
        .unwrap();
    use drn_store::Row;
    assert_eq!(rows.try_get::<i64, _>(0).unwrap(), n as i64);
}

on_both!(s3_registration_counter_portal_history_status, residence);
on_both!(
    s3_2014_and_s4_deregistration_with_prison_ground,
    residence_2014_and_deregistration
);
on_both!(
    s4_deregistration_2018_grounds_and_refusal,
    deregistration_2018
);
on_both!(
    s5_address_certificate_detour_and_refusal,
    address_certificate
);
on_both!(s2_temporary_id_with_journal, temporary_id);
on_both!(
    s6_s7_s8_special_records_journals_and_portal_insert,
    foreigners_services
);
on_both!(
    s9_iin_for_foreigners_consent_forming_errors,
    iin_for_foreigners
);
on_both!(
    s9_concurrent_forming_gives_unique_iins,
    iin_forming_concurrency
);

// ---------------------------------------------------------------------------------------
// Issue 6: the 2025 pilot, online renewal of an ID card (S1E, seed 001 п. 3 steps 1-19),
// through the sandboxed state systems on a simulated clock.

mod pilot {
    use super::*;
    use base64::Engine as _;
    use drn_engine::online_renewal::{self as orn, photo, RenewalRequest, RenewalStatus, Review};
    use drn_registries::{BranchCases, InvoiceStatus, Port, Sandbox, SandboxPerson};
    use jiff::civil::{date, Date};
    use jiff::ToSpan;

    pub struct Pilot {
        pub w: World,
        pub sandbox: Sandbox,
        pub cases: BranchCases,
        pub pki: drn_docs::Pki,
        /// Plain persons no case took, in DRN.
        pub spare: Vec<Iin>,
        /// A plain person the sandbox knows and DRN does not.
        pub unknown_to_drn: Iin,
        pub photo: Vec<u8>,
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    pub const TODAY: (i16, i8, i8) = (2025, 11, 20);

    pub fn today() -> Date {
        date(TODAY.0, TODAY.1, TODAY.2)
    }

    pub async fn pilot(url: &str) -> Pilot {
        let w = world(url, "2025-11-20T10:00").await;
        let mut persons = drn_registries::sandbox::sample_persons(today(), 24);
        for p in &mut persons {
            if let Some(c) = p.id_card.as_mut() {
                c.expires = today().checked_add(5.days()).unwrap();
                c.issued = c.expires.checked_sub(10.years()).unwrap();
            }
        }
        let clock = orn::bridge_clock(w.clock.clone());
        let (sandbox, cases) = Sandbox::with_branch_cases(persons, today(), clock);
        let taken: Vec<Iin> = cases.all().into_iter().map(|(_, i)| i).collect();
        let mut spare: Vec<Iin> = sandbox
            .persons()
            .into_iter()
            .filter(|p| !taken.contains(&p.iin) && p.is_plain())
            .map(|p| p.iin)
            .collect();
        let unknown_to_drn = spare.pop().unwrap();
        let drn: Vec<Person> = sandbox
            .persons()
            .into_iter()
            .filter(|p| p.iin != unknown_to_drn)
            .map(|p| Person {
                iin: p.iin,
                surname: p.surname,
                given_name: p.given_name,
                patronymic: p.patronymic,
                birth_date: p.birth_date,
                sex: p.sex,
                citizenship: "KZ".into(),
                data: serde_json::json!({}),
            })
            .collect();
        w.engine.put_persons(&Actor::system(), &drn).await.unwrap();
        let dir = std::env::temp_dir().join(format!("drn-pilot-pki-{}", uuid::Uuid::now_v7()));
        let pki = drn_docs::Pki::open_or_create(&dir).unwrap();
        w.engine.set_online_renewal(
            orn::Setup::sandboxed(sandbox.clone()).with_citizen_ca(pki.ca_der().to_vec()),
        );
        let photo = photo::synthetic_photo(360, 480, [245, 245, 245], 0.0);
        sandbox.override_photo(&photo, true);
        Pilot {
            w,
            sandbox,
            cases,
            pki,
            spare,
            unknown_to_drn,
            photo,
        }
    }

    impl Pilot {
        pub fn person(&self, iin: Iin) -> SandboxPerson {
            self.sandbox.person(iin).unwrap()
        }

        /// A request signed by `signer`'s certificate (the applicant's by default).
        pub fn request_by(&self, iin: Iin, photo: &[u8], signer: Iin) -> RenewalRequest {
            let sig = photo::synthetic_signature();
            let phone = self
                .person(iin)
                .phone
                .unwrap_or_else(|| "+7 701 000 00 00".into());
            let content = orn::request_to_sign(&iin, "C71-1", &phone, photo, &sig);
            let cert = self.pki.officer(&signer, "Citizen").unwrap();
            let cms = drn_docs::cms::sign_detached(&content, &[&cert]).unwrap();
            RenewalRequest {
                channel: Channel::Portal,
                reason: "expiry".into(),
                phone,
                unit: "C71-1".into(),
                photo: b64(photo),
                signature_sample: b64(&sig),
                selfie: None,
                request_signature: b64(&cms),
            }
        }

        pub fn request(&self, iin: Iin) -> RenewalRequest {
            self.request_by(iin, &self.photo, iin)
        }

        pub async fn submit(&self, req: RenewalRequest, iin: Iin) -> orn::Renewal {
            self.w
                .engine
                .renewal_submit(&Actor::citizen(iin), req)
                .await
                .unwrap()
        }

        pub fn set_expiry(&self, iin: Iin, days: i64) {
            let mut p = self.person(iin);
            let c = p.id_card.as_mut().unwrap();
            c.expires = today().checked_add(days.days()).unwrap();
            self.sandbox.upsert(p);
        }
    }

    /// Sent to the counter at `step`, nothing charged, no application.
    pub fn at_counter(r: &orn::Renewal, step: u32) {
        assert_eq!(r.status, RenewalStatus::ToCounter, "{r:?}");
        assert_eq!(r.step, step, "{r:?}");
        assert!(r.duty.is_none(), "charged: {r:?}");
        assert!(r.application.is_none());
        assert!(r.reason.as_ref().is_some_and(|t| !t.ru.is_empty()));
        let last = r.checks.last().unwrap();
        assert_eq!((last.step, last.outcome), (step, orn::CheckOutcome::Failed));
    }

    pub async fn happy_path_and_every_branch(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let c = &p.cases;

        // Happy path: steps 1-16 online, the duty 0.2 МРП of 2025 = 786 ₸ paid.
        let iin = c.plain.unwrap();
        let who = Actor::citizen(iin);
        let el = e.renewal_eligibility(&who, &iin).await.unwrap();
        assert!(el.available && el.duty_tenge == Some(786), "{el:?}");
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert_eq!(r.step, 15);
        let duty = r.duty.clone().unwrap();
        assert_eq!((duty.amount_tenge, duty.mrp, duty.year), (786, 3932, 2025));
        assert!(r.talon.as_deref().unwrap().starts_with("C71-1-2025-"));
        // A second renewal cannot start beside it.
        let again = e.renewal_submit(&who, p.request(iin)).await.unwrap_err();
        assert_eq!(again.code(), "forbidden");
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        assert_eq!(
            (r.status, r.step),
            (RenewalStatus::UnderReview, 17),
            "{r:?}"
        );
        assert_eq!(r.duty.as_ref().unwrap().status, "paid");
        let app_id = r.application.clone().unwrap();
        let app = e.application(&p.w.region, &app_id, "test").await.unwrap();
        assert_eq!(
            (app.service.as_str(), app.holder_unit.as_str()),
            ("S1E", "R71")
        );
        // Only the regional officer reviews.
        let wrong = e
            .renewal_review(
                &p.w.counter,
                &app_id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), "forbidden");
        let app = app_of(
            &e.renewal_review(
                &p.w.region,
                &app_id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap(),
        );
        assert_eq!((app.step, app.holder_unit.as_str()), (18, "IPC"));
        let app = complete(&p.w, &p.w.production, &app).await;
        assert_eq!((app.step, app.holder_unit.as_str()), (19, "C71-1"));
        assert_eq!(
            e.renewal(&who, &r.id).await.unwrap().status,
            RenewalStatus::ReadyForIssue
        );
        // No proxy in the pilot; in person at the chosen point.
        let proxy = Command::Issue {
            application: app.id.clone(),
            revision: app.revision,
            receiver: p.spare[0],
            representative: Some(Representative {
                iin: p.spare[0],
                authority: "доверенность № 1".into(),
            }),
        };
        assert_eq!(
            e.execute(&p.w.counter, &proxy, None)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let issue = Command::Issue {
            application: app.id.clone(),
            revision: app.revision,
            receiver: iin,
            representative: None,
        };
        e.execute(&p.w.counter, &issue, None).await.unwrap();
        assert_eq!(
            e.renewal(&who, &r.id).await.unwrap().status,
            RenewalStatus::Issued
        );
        // Every one of the 19 steps is on the timeline.
        let tl = e.timeline(&p.w.centre, &app_id).await.unwrap();
        for n in 1..=19u32 {
            assert!(
                tl.iter()
                    .any(|ev| ev.step == Some(n) && ev.kind == "step_completed"),
                "step {n} not completed on the timeline: {tl:?}"
            );
        }
        assert!(tl.iter().any(|ev| ev.kind == "issued"));

        // Each failed check: to the counter at its step, nothing charged.
        at_counter(
            &p.submit(
                p.request(c.consent_denied.unwrap()),
                c.consent_denied.unwrap(),
            )
            .await,
            1,
        );
        at_counter(
            &p.submit(
                p.request(c.phone_not_in_bmg.unwrap()),
                c.phone_not_in_bmg.unwrap(),
            )
            .await,
            2,
        );
        at_counter(
            &p.submit(
                p.request(c.liveness_fails.unwrap()),
                c.liveness_fails.unwrap(),
            )
            .await,
            3,
        );
        at_counter(
            &p.submit(p.request(c.incapable.unwrap()), c.incapable.unwrap())
                .await,
            4,
        );
        let r = p
            .submit(p.request(c.name_change.unwrap()), c.name_change.unwrap())
            .await;
        at_counter(&r, 5);
        assert!(r.checks.last().unwrap().detail["changes"][0] == "surname");
        at_counter(
            &p.submit(
                p.request(c.no_registration.unwrap()),
                c.no_registration.unwrap(),
            )
            .await,
            6,
        );

        // The reason must be expiry (п. 7).
        let s = p.spare[0];
        let mut other = p.request(s);
        other.reason = "loss".into();
        let r = p.submit(other, s).await;
        assert_eq!(r.status, RenewalStatus::ToCounter);
        assert_eq!(
            r.reason.unwrap().ru,
            "оформление не доступно, обратитесь в ЦОН"
        );

        // Step 9: an unusable signature sample.
        let mut bad_sig = p.request(s);
        bad_sig.signature_sample = b64(&p.photo);
        at_counter(&p.submit(bad_sig, s).await, 9);
        // Step 10: the photo fails the requirements (subject off-centre).
        let off = photo::synthetic_photo(360, 480, [245, 245, 245], 0.3);
        p.sandbox.override_photo(&off, true);
        let r = p.submit(p.request_by(s, &off, s), s).await;
        at_counter(&r, 10);
        let issues = r.checks.last().unwrap().detail["issues"].clone();
        assert!(
            issues
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "face"),
            "{issues}"
        );
        // Step 11: Digital-ID identifies the selfie, but the photo is not ГБД ФЛ's.
        let other_photo = photo::synthetic_photo(360, 480, [238, 238, 238], 0.0);
        p.sandbox.override_photo(&other_photo, false);
        let mut req = p.request_by(s, &other_photo, s);
        req.selfie = Some(b64(&p.photo));
        at_counter(&p.submit(req, s).await, 11);
        // Step 12: signed with another person's certificate; a broken signature.
        at_counter(
            &p.submit(p.request_by(s, &p.photo, p.spare[1]), s).await,
            12,
        );
        let mut broken = p.request(s);
        broken.request_signature = b64(b"not a CMS");
        at_counter(&p.submit(broken, s).await, 12);
        // Step 13: DRN has no such person: the registration is refused.
        let u = p.unknown_to_drn;
        let r = p.submit(p.request(u), u).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Refused, 13), "{r:?}");
        assert!(r.duty.is_none());
        // Step 14: a social status exempts: no invoice, straight to the review.
        let x = c.social_status.unwrap();
        let r = p.submit(p.request(x), x).await;
        assert_eq!(
            (r.status, r.step),
            (RenewalStatus::UnderReview, 17),
            "{r:?}"
        );
        let d = r.duty.unwrap();
        assert_eq!((d.status.as_str(), d.invoice), ("exempt", None));
        // Place of birth: no ЗАГС record, the historical one.
        let h = c.no_zags_birthplace.unwrap();
        let r = p.submit(p.request(h), h).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert_eq!(
            r.place_of_birth.unwrap().source,
            drn_registries::PlaceSource::Historical
        );
    }

    /// п. 7's window, at its edges: 30 days ahead and 10 days expired are in; 31 and 11
    /// are not.
    pub async fn window_edges(url: &str) {
        let p = pilot(url).await;
        let s = &p.spare;
        for (iin, days, ok) in [
            (s[0], 30, true),
            (s[1], 31, false),
            (s[2], -10, true),
            (s[3], -11, false),
        ] {
            p.set_expiry(iin, days);
            let el =
                p.w.engine
                    .renewal_eligibility(&Actor::citizen(iin), &iin)
                    .await
                    .unwrap();
            assert_eq!(el.available, ok, "{days}: {el:?}");
            let r = p.submit(p.request(iin), iin).await;
            if ok {
                assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{days}: {r:?}");
            } else {
                at_counter(&r, 7);
                assert_eq!(
                    r.reason.unwrap().ru,
                    "оформление не доступно, обратитесь в ЦОН"
                );
            }
        }
        // Outside the pilot's period (after 31 March 2026): not available online.
        p.w.clock.set(at("2026-04-01T10:00"));
        let iin = s[4];
        let el =
            p.w.engine
                .renewal_eligibility(&Actor::citizen(iin), &iin)
                .await
                .unwrap();
        assert!(!el.available);
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::NotAvailable);
    }

    /// An administrator extends the pilot's period past the catalog's 31 March 2026; the
    /// renewal runs through the extension (the intake uses the catalog's last version) and
    /// stops after it. Only an administrator, only later days, audited.
    pub async fn pilot_extension(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let admin = Actor::staff("admin", Role::Administrator, uid("KZ"));
        let until = date(2026, 6, 30);
        // Not a clerk's business; not a day inside the period; a cite is needed.
        assert_eq!(
            e.extend_pilot(&p.w.region, until, "Приказ № 1 от 01.03.2026")
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        for (day, cite) in [
            (date(2026, 3, 31), "Приказ № 1 от 01.03.2026"),
            (until, "x"),
        ] {
            assert_eq!(
                e.extend_pilot(&admin, day, cite).await.unwrap_err().code(),
                "invalid",
                "{day} {cite}"
            );
        }
        assert_eq!(
            e.pilot_period().await.unwrap(),
            (Some(date(2026, 3, 31)), None)
        );
        // Before the extension, 1 April 2026 is outside the pilot.
        p.w.clock.set(at("2026-04-01T10:00"));
        let iin = p.spare[0];
        p.set_expiry(iin, -130);
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        p.w.clock.set(at("2025-11-20T10:00"));
        e.extend_pilot(&admin, until, "Совместный приказ МВД № 100 от 20.03.2026")
            .await
            .unwrap();
        assert_eq!(
            e.pilot_period().await.unwrap(),
            (Some(date(2026, 3, 31)), Some(until))
        );
        let ext = e.pilot_extensions().await.unwrap();
        assert_eq!(
            (ext.len(), ext[0].until, ext[0].added_by.as_str()),
            (1, until, "admin")
        );
        let audit = e.audit_log(Some("service:S1E"), 10).await.unwrap();
        assert_eq!(audit[0].action, "extend_pilot");
        // Inside the catalog's period the extension shows as the last day.
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert_eq!(el.pilot_until, Some(until));
        // In the extension: available, and the application is registered and paid.
        p.w.clock.set(at("2026-04-15T10:00"));
        let mut pp = p.person(iin);
        pp.id_card.as_mut().unwrap().expires = date(2026, 4, 20);
        p.sandbox.upsert(pp);
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert!(el.available, "{el:?}");
        assert_eq!(el.pilot_until, Some(until));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        let r = e
            .renewal_pay_in_sandbox(&Actor::citizen(iin), &r.id)
            .await
            .unwrap();
        assert_eq!(r.status, RenewalStatus::UnderReview, "{r:?}");
        // After the extension: not available online again.
        p.w.clock.set(at("2026-07-01T10:00"));
        let other = p.spare[1];
        let el = e
            .renewal_eligibility(&Actor::citizen(other), &other)
            .await
            .unwrap();
        assert!(!el.available);
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        let r = p.submit(p.request(other), other).await;
        assert_eq!(r.status, RenewalStatus::NotAvailable);
    }

    /// Annulment at the review refunds the paid duty; the person applies and pays again.
    pub async fn annulment_refunds(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let iin = p.spare[0];
        let who = Actor::citizen(iin);
        let r = p.submit(p.request(iin), iin).await;
        let first_invoice = r.duty.as_ref().unwrap().invoice.clone().unwrap();
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        let app = e
            .application(&p.w.region, r.application.as_ref().unwrap(), "test")
            .await
            .unwrap();
        let out = e
            .renewal_review(
                &p.w.region,
                &app.id,
                &Review::Annul {
                    revision: app.revision,
                    ground: orn::AnnulGround::PhotoOrSignature,
                    reason: "фото не соответствует требованиям".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(app_of(&out).status, Status::Annulled);
        let r = e.renewal(&who, &r.id).await.unwrap();
        assert_eq!(r.status, RenewalStatus::Annulled);
        assert_eq!(r.duty.as_ref().unwrap().status, "refunded");
        let inv = drn_registries::Payments::invoice(&p.sandbox, first_invoice.clone())
            .await
            .unwrap();
        assert_eq!(inv.status, InvoiceStatus::Refunded);
        // Again, paying again.
        let r2 = p.submit(p.request(iin), iin).await;
        assert_eq!(r2.status, RenewalStatus::AwaitingPayment);
        assert_ne!(r2.duty.unwrap().invoice.unwrap(), first_invoice);
    }

    /// п. 12 on the simulated clock: Digital-ID down 11 minutes sends the person to the
    /// counter; down 2 minutes, the retry succeeds.
    pub async fn digital_id_outages(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        // Down for 11 minutes.
        let iin = p.spare[0];
        p.sandbox
            .set_outage_for(Port::DigitalId, SignedDuration::from_mins(11));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_mins(5));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_secs(5 * 60 + 30));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        at_counter(&r, 3);
        assert!(r.reason.unwrap().en.contains("more than 10 minutes"));
        // Back up: the next session goes through and closes the breaker.
        p.w.clock.advance(SignedDuration::from_mins(1));
        let up = p.spare[2];
        let r = p.submit(p.request(up), up).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        // Down for 2 minutes: the retry after it succeeds and the session goes on.
        let iin = p.spare[1];
        p.sandbox
            .set_outage_for(Port::DigitalId, SignedDuration::from_mins(2));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_mins(2));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert!(r
            .checks
            .iter()
            .any(|c| c.step == 3 && c.outcome == orn::CheckOutcome::Technical));
    }
}

use pilot::{
    annulment_refunds, digital_id_outages, happy_path_and_every_branch, pilot_extension,
    window_edges,
};
on_both!(
    s1e_online_renewal_19_steps_and_branches,
    happy_path_and_every_branch
);
on_both!(s1e_window_edges_and_pilot_period, window_edges);
on_both!(s1e_annulment_refunds_and_reapply, annulment_refunds);
on_both!(s1e_administrator_extends_the_pilot, pilot_extension);
on_both!(s1e_digital_id_outage_11_and_2_minutes, digital_id_outages);

/// The photo checks on committed image files (a JPEG that passes, a PNG on a dark
/// background that fails). `DRN_WRITE_FIXTURES=1` writes them again.
#[test]
fn s1e_photo_checks_on_fixture_files() {
    use drn_engine::online_renewal::photo;
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    if std::env::var_os("DRN_WRITE_FIXTURES").is_some() {
        let ok = photo::synthetic_photo(300, 400, [242, 242, 242], 0.0);
        let img = image::load_from_memory(&ok).unwrap();
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        std::fs::write(dir.join("photo_ok.jpg"), jpeg.into_inner()).unwrap();
        std::fs::write(
            dir.join("photo_dark_background.png"),
            photo::synthetic_photo(300, 400, [30, 30, 40], 0.0),
        )
        .unwrap();
        std::fs::write(dir.join("signature.png"), photo::synthetic_signature()).unwrap();
    }
    let ok = std::fs::read(dir.join("photo_ok.jpg")).unwrap();
    assert!(
        photo::check_photo(&ok).is_ok(),
        "{:?}",
        photo::check_photo(&ok)
    );
    let dark = std::fs::read(dir.join("photo_dark_background.png")).unwrap();
    let issues = photo::check_photo(&dark).unwrap_err();
    assert!(issues.iter().any(|i| i.code == "background"), "{issues:?}");
    let sig = std::fs::read(dir.join("signature.png")).unwrap();
    assert!(photo::check_signature(&sig).is_ok());
}

/// Step times and the daily trend on a known set: three applications accepted at 10:00,
/// 11:00 and 13:00 and completed together at 14:00 spent 4 h, 3 h and 1 h at step 2.
async fn supervision_step_times(url: &str) {
    let w = world(url, "2019-04-02T10:00:00").await;
    let a1 = accept(&w, Urgency::General).await;
    w.clock.advance(SignedDuration::from_hours(1));
    let a2 = accept(&w, Urgency::General).await;
    w.clock.advance(SignedDuration::from_hours(2));
    let a3 = accept(&w, Urgency::General).await;
    assert_eq!(a1.step, 2);
    w.clock.advance(SignedDuration::from_hours(1));
    let sent = w.engine.now();
    for a in [&a1, &a2, &a3] {
        assert_eq!(complete(&w, &w.counter, a).await.step, 3);
    }
    let within = [&a1, &a2, &a3]
        .iter()
        .filter(|a| a.step_due_at.is_none_or(|d| sent <= d))
        .count() as i64;
    let sup = Actor::staff("sup", Role::Supervisor, uid("KZ"));
    let day: jiff::civil::Date = "2019-04-02".parse().unwrap();
    let times = w.engine.step_times(&sup, None, day, day).await.unwrap();
    assert_eq!(times.len(), 1, "{times:?}");
    let t = &times[0];
    assert_eq!((t.service.as_str(), t.step), ("S1", 2));
    assert_eq!(t.completed, 3);
    assert_eq!(t.mean_secs, (4 + 3 + 1) * 3600 / 3);
    assert_eq!(t.p90_secs, 4 * 3600);
    assert_eq!(t.within_limit, within);
    let limits: Vec<i64> = [&a1, &a2, &a3]
        .iter()
        .filter_map(|a| {
            a.step_due_at
                .map(|d| d.duration_since(a.step_entered_at).as_secs())
        })
        .collect();
    assert_eq!(
        t.mean_limit_secs,
        limits.iter().sum::<i64>() / limits.len() as i64
    );
    // Area-scoped: the region of the counter has them, the other region none.
    let in71 = w
        .engine
        .step_times(&sup, Some(&uid("R71")), day, day)
        .await
        .unwrap();
    assert_eq!(in71[0].completed, 3);
    assert!(w
        .engine
        .step_times(&sup, Some(&uid("R75")), day, day)
        .await
        .unwrap()
        .is_empty());
    let sup75 = Actor::staff("sup75", Role::Supervisor, uid("R75"));
    assert!(matches!(
        w.engine
            .step_times(&sup75, Some(&uid("R71")), day, day)
            .await,
        Err(EngineError::Forbidden { .. })
    ));
    assert!(w
        .engine
        .step_times(&sup75, None, day, day)
        .await
        .unwrap()
        .is_empty());
    // Another day: nothing completed then.
    let before: jiff::civil::Date = "2019-04-01".parse().unwrap();
    assert!(w
        .engine
        .step_times(&sup, None, before, before)
        .await
        .unwrap()
        .is_empty());
    // The trend: three accepted on the 2nd, none issued, the late steps as computed.
    let trend = w.engine.trend(&sup, None, before, day).await.unwrap();
    assert_eq!(trend.len(), 2);
    assert_eq!(
        (trend[0].accepted, trend[0].issued, trend[0].late),
        (0, 0, 0)
    );
    assert_eq!(
        (
            trend[1].day,
            trend[1].accepted,
            trend[1].issued,
            trend[1].late
        ),
        (day, 3, 0, 3 - within)
    );
    // By region: all three are open at the district in R71.
    let s = w.engine.supervision(&sup).await.unwrap();
    assert_eq!(s.by_region.len(), 1);
    assert_eq!(s.by_region[0].unit.id, uid("R71"));
    assert_eq!(s.by_region[0].counts.open, 3);
}

on_both!(supervision_step_times_and_trend, supervision_step_times);
