//! The test world of the engine's tests, shared with the benches (`#[path]` from
//! `benches/*.rs`): an engine on a fresh database per scenario (`world`), with the units,
//! staff and persons every scenario starts from; the catalog; the commands most scenarios
//! send; and `on_both!`, which runs a scenario on SQLite and, when DRN_TEST_POSTGRES holds
//! a URL, on PostgreSQL.

use std::path::Path;
use std::sync::Arc;

use drn_core::{Calendar, Catalog, Channel, Iin, Sex, Text, Urgency, WorkingHours};
use drn_engine::commands::Accept;
use drn_engine::services::DistrictAddresses;
use drn_engine::setup::{NewStaff, NewUnit};
use drn_engine::*;
use drn_store::Db;
use jiff::Timestamp;

pub fn catalog_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"))
}

pub fn load_catalog() -> (Catalog, Calendar) {
    catalog_files::load(catalog_dir()).unwrap()
}

/// Fresh databases: a SQLite file, and a new PostgreSQL database when configured.
pub async fn fresh_urls(name: &str) -> Vec<String> {
    drn_store::testkit::fresh_urls(name).await.unwrap()
}

pub fn at(s: &str) -> Timestamp {
    s.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(drn_core::kz_tz().unwrap())
        .unwrap()
        .timestamp()
}

pub fn unit(id: &str, kind: UnitKind, parent: Option<&str>, region: &str) -> NewUnit {
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

pub struct World {
    pub engine: Engine,
    /// The engine's database, for the tests that look at its rows.
    pub db: Db,
    pub clock: Arc<ManualClock>,
    pub counter: Actor,
    pub district: Actor,
    pub region: Actor,
    pub centre: Actor,
    pub production: Actor,
    pub other_district: Actor,
    pub applicant: Iin,
}

pub fn uid(s: &str) -> UnitId {
    UnitId::parse(s).unwrap()
}

/// A staff member of unit `u`, named `id`.
pub fn staff(id: &str, role: Role, u: &str) -> NewStaff {
    NewStaff {
        id: id.into(),
        username: id.into(),
        full_name: id.into(),
        role,
        unit: uid(u),
        iin: None,
        position: None,
        password_hash: "x".into(),
    }
}

pub async fn world(url: &str, start: &str) -> World {
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
            // Registered in the district of the test counter (S1, S2 and S4 of 2014 are
            // given at the place of registration).
            data: serde_json::json!({ "registration": { "region": "71", "district": "D71-1", "address": "г. Астана, ул. Кенесары, 1, кв. 1" } }),
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

pub fn app_of(o: &Outcome) -> Application {
    match o {
        Outcome::Accepted { application }
        | Outcome::Application { application }
        | Outcome::IntakeRefused { application, .. } => application.clone(),
        other => panic!("not an application outcome: {other:?}"),
    }
}

pub async fn accept(w: &World, urgency: Urgency) -> Application {
    let cmd = Command::Accept(Accept {
        process: None,
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

pub async fn complete(w: &World, actor: &Actor, app: &Application) -> Application {
    let cmd = Command::CompleteStep {
        application: app.id.clone(),
        revision: app.revision,
        note: None,
    };
    app_of(&w.engine.execute(actor, &cmd, None).await.unwrap())
}

/// `on_both!(test_name, scenario)`: the scenario on each backend, a fresh database each.
pub(crate) use drn_store::on_both;

/// The number a `SELECT COUNT(*) …` reads.
pub async fn count_of(db: &Db, sql: &str) -> i64 {
    drn_store::query(sql)
        .fetch_one(db.reader())
        .await
        .map(|r| r.get::<i64, _>(0))
        .unwrap()
}

/// Seeds D71-1's addresses; returns premises' codes.
pub async fn addresses(w: &World) -> Vec<String> {
    w.engine
        .seed_addresses(
            &Actor::system(),
            &[DistrictAddresses {
                unit: uid("D71-1"),
                region_kato: "710000000".into(),
                region_name: ["Астана қаласы", "Город Астана", "Astana city"].map(String::from),
                kato: "710200000".into(),
                name: ["Алматы ауданы", "Район Алматы", "Almaty District"].map(String::from),
                settlement: "г. Астана".into(),
            }],
            &["ул. Абая", "ул. Кенесары"],
            3,
            2,
        )
        .await
        .unwrap()
}

pub fn accept_cmd(
    service: &str,
    channel: Channel,
    applicant: Iin,
    data: serde_json::Value,
) -> Command {
    Command::Accept(Accept {
        process: None,
        service: service.into(),
        channel,
        urgency: Urgency::General,
        applicant,
        documents_presented: vec![],
        missing: vec![],
        data,
    })
}

/// `data` naming the test counter C71-1: the State Corporation counter where the ОМС
/// officer takes S2 and S3 of 2018 in (issue 28 item 9).
pub fn at_c71(mut data: serde_json::Value) -> serde_json::Value {
    data["unit"] = serde_json::json!("C71-1");
    data
}

pub async fn run(w: &World, actor: &Actor, cmd: Command) -> Application {
    app_of(&w.engine.execute(actor, &cmd, None).await.unwrap())
}

pub async fn run_err(w: &World, actor: &Actor, cmd: Command) -> EngineError {
    w.engine.execute(actor, &cmd, None).await.unwrap_err()
}

pub async fn issue_to(
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

pub async fn check(w: &World, actor: &Actor, a: &Application) -> Application {
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

pub async fn refuse(w: &World, actor: &Actor, a: &Application, reason: &str) -> Application {
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

pub async fn complete_note(
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
