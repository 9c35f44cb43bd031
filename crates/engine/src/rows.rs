//! Reading and writing the engine's rows.

use drn_core::{Channel, Urgency, WorkingHours};
use drn_store::{Conn, DbRow, Statement, Value};
use jiff::Timestamp;

use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;

/// Open applications of every unit, read unit by unit through the open-work index
/// (migration 0012).
pub(crate) const OPEN_EVERYWHERE: &str =
    "holder_unit IN (SELECT id FROM units) AND status IN ('in_progress', 'in_transit')";

/// Where reads go: a plain connection, or a writer's batch ([`Ctx`], which sends its
/// buffered writes first).
pub(crate) trait Reads {
    async fn rows(&mut self, stmt: Statement) -> Result<Vec<DbRow>, EngineError>;
}

impl Reads for Conn {
    async fn rows(&mut self, stmt: Statement) -> Result<Vec<DbRow>, EngineError> {
        Ok(drn_store::fetch(self, &stmt).await?)
    }
}

/// Reads from the database's read side, one statement at a time ([`drn_store::Db::rows`]).
impl Reads for &drn_store::Db {
    async fn rows(&mut self, stmt: Statement) -> Result<Vec<DbRow>, EngineError> {
        Ok(drn_store::Db::rows(self, stmt).await?)
    }
}

impl Reads for drn_store::PoolConn {
    async fn rows(&mut self, stmt: Statement) -> Result<Vec<DbRow>, EngineError> {
        Ok(drn_store::fetch(self, &stmt).await?)
    }
}

impl Reads for Ctx<'_> {
    async fn rows(&mut self, stmt: Statement) -> Result<Vec<DbRow>, EngineError> {
        self.fetch_all(&stmt.sql, stmt.args).await
    }
}

pub(crate) fn ts(us: i64) -> Result<Timestamp, EngineError> {
    Timestamp::from_microsecond(us).map_err(|e| EngineError::Corrupt(e.to_string()))
}

pub(crate) fn ts_opt(us: Option<i64>) -> Result<Option<Timestamp>, EngineError> {
    us.map(ts).transpose()
}

pub(crate) fn json(s: &str) -> Result<serde_json::Value, EngineError> {
    serde_json::from_str(s).map_err(|e| EngineError::Corrupt(e.to_string()))
}

/// The stored columns of `applications`, in the order [`application`] reads them.
pub(crate) const APP_COLUMNS: &str = "id, number, service, version, process, channel, urgency, applicant_iin, accepted_unit, accepted_at, status, step, holder_unit, step_entered_at, step_due_at, due_at, registry_id, revision, data_json";

/// Whether the registry an application of table (or alias) `t` is in has been sent and not
/// yet received: it is then in transit (в пути) to the next unit. That is the registry's
/// state, written once on its row: sending used to rewrite each of its applications (some
/// 300) and move each one's entry in the open-applications index.
fn sent_registry(t: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM registries r WHERE r.id = {t}.registry_id AND r.status = 'sent')"
    )
}

/// What [`application`] reads of the table `applications` ([`app_cols`]), built once: a
/// work list or an application's load asks for it thousands of times a second.
pub(crate) static APP_COLS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| app_cols("applications"));

/// What [`application`] reads, of the table or alias `t`: the stored columns, with the
/// status `in_transit` while the application's registry is on its way ([`sent_registry`]).
/// Only an application in progress is in transit (annulment clears the registry as well;
/// this does not rely on it).
pub(crate) fn app_cols(t: &str) -> String {
    APP_COLUMNS
        .split(", ")
        .map(|c| match c {
            "status" => format!(
                "CASE WHEN {t}.status = 'in_progress' AND {t}.registry_id IS NOT NULL AND {} THEN 'in_transit' ELSE {t}.status END",
                sent_registry(t)
            ),
            _ => format!("{t}.{c}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A filter on `applications` (not aliased) for what a unit holds and can work on or
/// hand over: not in a registry on its way (whose status reads `in_transit`).
pub(crate) static NOT_IN_TRANSIT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "(applications.registry_id IS NULL OR NOT {})",
        sent_registry("applications")
    )
});

pub(crate) fn application(r: &DbRow) -> Result<Application, EngineError> {
    Ok(Application {
        id: ApplicationId::from_db(r.try_get(0)?),
        number: r.try_get(1)?,
        service: r.try_get(2)?,
        version: r.try_get(3)?,
        process: r.try_get(4)?,
        channel: Channel::parse(&r.try_get::<String, _>(5)?)
            .map_err(|e| EngineError::Corrupt(e.to_string()))?,
        urgency: Urgency::parse(&r.try_get::<String, _>(6)?)
            .map_err(|e| EngineError::Corrupt(e.to_string()))?,
        applicant: r.try_get(7)?,
        accepted_unit: UnitId::from_db(r.try_get(8)?),
        accepted_at: ts(r.try_get(9)?)?,
        status: Status::parse(&r.try_get::<String, _>(10)?)?,
        step: r.try_get::<i64, _>(11)? as u32,
        holder_unit: UnitId::from_db(r.try_get(12)?),
        step_entered_at: ts(r.try_get(13)?)?,
        step_due_at: ts_opt(r.try_get(14)?)?,
        due_at: ts_opt(r.try_get(15)?)?,
        registry: r.try_get::<Option<String>, _>(16)?.map(RegistryId::from_db),
        revision: r.try_get(17)?,
        data: json(&r.try_get::<String, _>(18)?)?,
    })
}

pub(crate) async fn load_application<R: Reads>(
    c: &mut R,
    id: &ApplicationId,
) -> Result<Application, EngineError> {
    let sql = format!("SELECT {} FROM applications WHERE id = $1", *APP_COLS);
    let rows = c.rows(Statement::new(sql, vec![Value::from(id)])).await?;
    application(
        rows.first()
            .ok_or_else(|| EngineError::not_found("application", id.as_str()))?,
    )
}

/// The applications of a registry, in its order, in one read (a registry may carry
/// thousands: one query for them, not one each).
pub(crate) async fn load_registry_applications<R: Reads>(
    c: &mut R,
    registry: &RegistryId,
) -> Result<Vec<Application>, EngineError> {
    let sql = format!(
        "SELECT {} FROM registry_items i JOIN applications a ON a.id = i.application_id WHERE i.registry_id = $1 ORDER BY i.application_id",
        app_cols("a")
    );
    c.rows(Statement::new(sql, vec![Value::from(registry)]))
        .await?
        .iter()
        .map(application)
        .collect()
}

pub(crate) const UNIT_COLS: &str =
    "id, kind, parent_id, region_code, kato, name_kk, name_ru, name_en, hours_json";

pub(crate) fn unit(r: &DbRow) -> Result<Unit, EngineError> {
    let hours: WorkingHours = serde_json::from_str(&r.try_get::<String, _>(8)?)
        .map_err(|e| EngineError::Corrupt(e.to_string()))?;
    Ok(Unit {
        id: UnitId::from_db(r.try_get(0)?),
        kind: UnitKind::parse(&r.try_get::<String, _>(1)?)?,
        parent: r.try_get::<Option<String>, _>(2)?.map(UnitId::from_db),
        region_code: r.try_get(3)?,
        kato: r.try_get(4)?,
        name: drn_core::Text {
            kk: r.try_get(5)?,
            ru: r.try_get(6)?,
            en: r.try_get(7)?,
        },
        hours,
    })
}

pub(crate) const REG_COLS: &str = "id, number, kind, service, version, process, step, from_unit, to_unit, status, formed_by, formed_at, signed_by, signed_at, sent_at, received_by, received_at, incoming_number, revision";

/// A registry with its applications.
pub(crate) async fn load_registry<R: Reads>(
    c: &mut R,
    id: &RegistryId,
) -> Result<Registry, EngineError> {
    read_registry(c, id, true).await
}

/// A registry's row alone, its `applications` left empty: what a command checks before
/// it acts (status, revision, units, step). A registry may list thousands.
pub(crate) async fn load_registry_head<R: Reads>(
    c: &mut R,
    id: &RegistryId,
) -> Result<Registry, EngineError> {
    read_registry(c, id, false).await
}

async fn read_registry<R: Reads>(
    c: &mut R,
    id: &RegistryId,
    with_items: bool,
) -> Result<Registry, EngineError> {
    let (head, items) = registry_reads(id);
    let head = c.rows(head).await?;
    let items = if with_items {
        c.rows(items).await?
    } else {
        Vec::new()
    };
    registry(id, head.first(), &items)
}

/// The two reads of a registry: its row, and its applications' ids.
fn registry_reads(id: &RegistryId) -> (drn_store::Statement, drn_store::Statement) {
    (
        drn_store::Statement::new(
            format!("SELECT {REG_COLS} FROM registries WHERE id = $1"),
            vec![Value::from(id)],
        ),
        drn_store::Statement::new(
            "SELECT application_id FROM registry_items WHERE registry_id = $1 ORDER BY application_id",
            vec![Value::from(id)],
        ),
    )
}

fn registry(id: &RegistryId, r: Option<&DbRow>, items: &[DbRow]) -> Result<Registry, EngineError> {
    let r = r.ok_or_else(|| EngineError::not_found("registry", id.as_str()))?;
    Ok(Registry {
        id: RegistryId::from_db(r.try_get(0)?),
        number: r.try_get(1)?,
        kind: r.try_get(2)?,
        service: r.try_get(3)?,
        version: r.try_get(4)?,
        process: r.try_get(5)?,
        step: r.try_get::<i64, _>(6)? as u32,
        from_unit: UnitId::from_db(r.try_get(7)?),
        to_unit: UnitId::from_db(r.try_get(8)?),
        status: r.try_get(9)?,
        formed_by: r.try_get(10)?,
        formed_at: ts(r.try_get(11)?)?,
        signed_by: r.try_get(12)?,
        signed_at: ts_opt(r.try_get(13)?)?,
        sent_at: ts_opt(r.try_get(14)?)?,
        received_by: r.try_get(15)?,
        received_at: ts_opt(r.try_get(16)?)?,
        incoming_number: r.try_get(17)?,
        revision: r.try_get(18)?,
        applications: items
            .iter()
            .map(|i| i.try_get::<String, _>(0).map(ApplicationId::from_db))
            .collect::<Result<_, _>>()?,
    })
}

/// One row of `events`: every event is written by [`push_event`], whichever its subject.
struct NewEvent<'a> {
    /// The application's id, or (`registry`) the registry's.
    subject: &'a str,
    registry: bool,
    kind: EventKind,
    step: Option<u32>,
    actor: &'a str,
    unit: Option<&'a str>,
    at: Timestamp,
    due_at: Option<Timestamp>,
    entered_at: Option<Timestamp>,
    data: &'a serde_json::Value,
}

fn push_event(c: &mut Ctx<'_>, e: NewEvent<'_>) {
    let (app, reg) = if e.registry {
        (None, Some(e.subject))
    } else {
        (Some(e.subject), None)
    };
    c.push(
        "INSERT INTO events (application_id, registry_id, kind, step, actor, unit_id, at, due_at, entered_at, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            Value::uuid_opt(app.map(str::to_string)),
            Value::uuid_opt(reg.map(str::to_string)),
            Value::from(e.kind.code()),
            Value::from(e.step.map(i64::from)),
            Value::from(e.actor),
            Value::from(e.unit.map(str::to_string)),
            Value::from(e.at),
            Value::from(e.due_at),
            Value::from(e.entered_at),
            Value::json(e.data.to_string()),
        ],
    );
}

/// Appends an event to an application's history (buffered with the command's writes).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    c: &mut Ctx<'_>,
    app: &ApplicationId,
    kind: EventKind,
    step: Option<u32>,
    actor: &str,
    unit: Option<&UnitId>,
    at: Timestamp,
    due_at: Option<Timestamp>,
    data: &serde_json::Value,
) -> Result<(), EngineError> {
    push_event(
        c,
        NewEvent {
            subject: app.as_str(),
            registry: false,
            kind,
            step,
            actor,
            unit: unit.map(UnitId::as_str),
            at,
            due_at,
            entered_at: None,
            data,
        },
    );
    Ok(())
}

/// An event of a registry as a whole (formed, sent, received): one row, which each of its
/// applications' timelines shows (through `registry_items`; migration 0011).
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_registry_event(
    c: &mut Ctx<'_>,
    registry: &RegistryId,
    kind: EventKind,
    step: u32,
    actor: &str,
    unit: &UnitId,
    at: Timestamp,
    data: &serde_json::Value,
) {
    push_event(
        c,
        NewEvent {
            subject: registry.as_str(),
            registry: true,
            kind,
            step: Some(step),
            actor,
            unit: Some(unit.as_str()),
            at,
            due_at: None,
            entered_at: None,
            data,
        },
    );
}

/// The end of the application's current step (completed, refused…), with when the step
/// was entered and when it was due (the step times read them; migration 0013).
pub(crate) fn insert_step_end(
    c: &mut Ctx<'_>,
    app: &Application,
    kind: EventKind,
    actor: &str,
    at: Timestamp,
    data: &serde_json::Value,
) {
    push_event(
        c,
        NewEvent {
            subject: app.id.as_str(),
            registry: false,
            kind,
            step: Some(app.step),
            actor,
            unit: Some(app.holder_unit.as_str()),
            at,
            due_at: app.step_due_at,
            entered_at: Some(app.step_entered_at),
            data,
        },
    );
}
