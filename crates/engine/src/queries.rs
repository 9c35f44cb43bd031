//! Queries: an application and its timeline, a unit's queue, what is due soon or overdue,
//! registries, and persons. A read of a person's data is audited (who, when, what).

use drn_store::{DbRow, Statement, Value};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::error::EngineError;
use crate::model::*;
use crate::rows::{self, load_application, load_registry, Reads};
use crate::writer::Work;
use crate::Engine;
use crate::Refusal;

/// An application in a queue, with whether it is overdue now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QueueItem {
    pub application: Application,
    pub overdue: bool,
}

impl Engine {
    /// Is `unit` the same as `root` or below it in the tree.
    pub(crate) async fn in_area<R: Reads>(
        &self,
        c: &mut R,
        root: &UnitId,
        unit: &UnitId,
    ) -> Result<bool, EngineError> {
        let mut cur = Some(unit.clone());
        while let Some(u) = cur {
            if &u == root {
                return Ok(true);
            }
            cur = self.unit_on(c, &u).await?.parent;
        }
        Ok(false)
    }

    /// May the actor see this application: the applicant; staff whose unit holds it or
    /// whose area contains the unit that accepted it; the centre, auditors and the system.
    pub(crate) async fn may_see<R: Reads>(
        &self,
        c: &mut R,
        actor: &Actor,
        app: &Application,
    ) -> Result<bool, EngineError> {
        Ok(match actor.role {
            Role::System | Role::Auditor | Role::CentralOfficer => true,
            Role::Citizen => actor
                .iin
                .as_ref()
                .is_some_and(|i| i.to_string() == app.applicant),
            _ => match &actor.unit {
                None => false,
                Some(u) => &app.holder_unit == u || self.in_area(c, u, &app.accepted_unit).await?,
            },
        })
    }

    pub(crate) async fn audit_read(
        &self,
        actor: &Actor,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<(), EngineError> {
        // A write: through the writers, committed with their batch.
        self.submit(Work::Audit {
            actor: actor.id.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            detail,
        })
        .await
        .map(|_| ())
    }

    /// Writes one row made outside a command (a signed document) with its audit record,
    /// through the writers' group commit: durable when this returns. `insert` must be an
    /// `INSERT … ON CONFLICT DO NOTHING`; false when its row was already there (then no
    /// audit record is written).
    pub async fn record_made(
        &self,
        insert: drn_store::Statement,
        actor: &Actor,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<bool, EngineError> {
        let entry = crate::audit::entry(
            self.now(),
            &actor.id,
            action.to_string(),
            subject.to_string(),
            &detail,
        );
        match self.submit(Work::Record { insert, entry }).await? {
            crate::writer::Reply::Recorded(inserted) => Ok(inserted),
            _ => Err(EngineError::Corrupt("a record without its answer".into())),
        }
    }

    /// Writes the server's own bookkeeping (sessions, sign-in failures, one-time codes)
    /// through the writers, in one transaction, without an audit record; answers the rows
    /// each statement changed. On SQLite a second connection writing beside the one writer
    /// made each wait for the other's write lock: under HTTP load the sessions' touches of
    /// one minute stalled requests for seconds.
    pub async fn write_bookkeeping(&self, writes: Vec<Statement>) -> Result<Vec<u64>, EngineError> {
        match self.submit(Work::Bookkeeping { writes }).await? {
            crate::writer::Reply::Written(n) => Ok(n),
            _ => Err(EngineError::Corrupt(
                "a bookkeeping write without its answer".into(),
            )),
        }
    }

    /// One application; the read is audited against the applicant.
    pub async fn application(
        &self,
        actor: &Actor,
        id: &ApplicationId,
        screen: &str,
    ) -> Result<Application, EngineError> {
        let mut c = &self.db;
        let app = load_application(&mut c, id).await?;
        if !self.may_see(&mut c, actor, &app).await? {
            return Err(EngineError::not_found("application", id.as_str()));
        }
        self.audit_read(
            actor,
            "read_application",
            &format!("person:{}", app.applicant),
            json!({ "application": id, "screen": screen }),
        )
        .await?;
        Ok(app)
    }

    /// The application's history, oldest first: its own events and those of the
    /// registries it was in (formed, sent, received), in the order they were written. A
    /// registry's sending completes the step for each application in it, due when that
    /// application's item says.
    pub async fn timeline(
        &self,
        actor: &Actor,
        id: &ApplicationId,
    ) -> Result<Vec<Event>, EngineError> {
        let app = self.application(actor, id, "timeline").await?;
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT seq, kind, step, actor, unit_id, at, due_at, data_json, NULL, NULL FROM events WHERE application_id = $1 \
                 UNION ALL \
                 SELECT e.seq, e.kind, e.step, e.actor, e.unit_id, e.at, CASE WHEN e.kind = 'step_completed' THEN i.due_at END, e.data_json, \
                   CASE WHEN e.kind = 'registry_received' THEN i.received_step END, i.received_due_at \
                 FROM registry_items i JOIN events e ON e.registry_id = i.registry_id \
                 WHERE i.application_id = $1 AND e.registry_id IS NOT NULL \
                 ORDER BY 1",
                vec![Value::from(&app.id)],
            ))
            .await?;
        let (_, p) = self.locate(&app.service, &app.version, &app.process)?;
        let mut out = Vec::with_capacity(rows.len() + 8);
        for r in &rows {
            let e = Event {
                seq: r.try_get(0)?,
                application: app.id.clone(),
                kind: EventKind::parse(&r.try_get::<String, _>(1)?)?,
                step: r.try_get::<Option<i64>, _>(2)?.map(|s| s as u32),
                actor: r.try_get(3)?,
                unit: r.try_get::<Option<String>, _>(4)?.map(UnitId::from_db),
                at: rows::ts(r.try_get(5)?)?,
                due_at: rows::ts_opt(r.try_get(6)?)?,
                data: rows::json(&r.try_get::<String, _>(7)?)?,
            };
            // The step entered on the registry's receipt, kept on the item (migration
            // 0013): shown right after the receipt, under its number.
            let entry = match r.try_get::<Option<i64>, _>(8)? {
                Some(n) => Some(Event {
                    kind: EventKind::StepEntered,
                    step: Some(n as u32),
                    due_at: rows::ts_opt(r.try_get(9)?)?,
                    data: json!({ "unit_role": p.step(n as u32).map(|s| s.unit.code()) }),
                    ..e.clone()
                }),
                None => None,
            };
            out.push(e);
            out.extend(entry);
        }
        Ok(out)
    }

    fn check_unit_scope(actor: &Actor, unit: &UnitId) -> Result<(), EngineError> {
        match actor.role {
            Role::System | Role::CentralOfficer | Role::Auditor => Ok(()),
            Role::Citizen => Err(EngineError::forbidden(Refusal::QueuesForStaff)),
            _ if actor.unit.as_ref() == Some(unit) => Ok(()),
            _ => Err(EngineError::forbidden(Refusal::UnitNotYours)),
        }
    }

    /// The applications a unit holds now (in progress), earliest due first.
    pub async fn queue(
        &self,
        actor: &Actor,
        unit: &UnitId,
        limit: i64,
    ) -> Result<Vec<QueueItem>, EngineError> {
        Self::check_unit_scope(actor, unit)?;
        let sql = format!("SELECT {} FROM applications WHERE holder_unit = $1 AND status = 'in_progress' AND {} ORDER BY step_due_at IS NULL, step_due_at, step_entered_at LIMIT $2", *rows::APP_COLS, *rows::NOT_IN_TRANSIT);
        let args = vec![Value::from(unit.as_str()), Value::from(limit)];
        self.queue_rows(Statement::new(sql, args), None).await
    }

    /// The unit's work list as it stood just before `at`: its queue ([`Engine::queue`]) less
    /// what waits for a registry (that goes on by the registry screen's list,
    /// [`Engine::waiting_for_registry`]), so the steps its officers do one by one, and less
    /// what entered it at `at` or later. A simulation's units read their lists while other
    /// units' steps of the same instant are being written; this keeps what they see
    /// independent of that order.
    pub async fn worklist_before(
        &self,
        actor: &Actor,
        unit: &UnitId,
        at: Timestamp,
        limit: i64,
    ) -> Result<Vec<QueueItem>, EngineError> {
        Self::check_unit_scope(actor, unit)?;
        self.queue_rows(self.worklist_read(unit, at, limit), Some(at))
            .await
    }

    /// The work lists of several units as [`Engine::worklist_before`] reads each one, in
    /// one snapshot (one read transaction): a simulation's slot reads its units so, since
    /// on SQLite a read that starts after a commit starts with a cold page cache. Each
    /// actor must see its unit; the lists come back in the order of `units`.
    pub async fn worklists_before(
        &self,
        units: &[(Actor, UnitId)],
        at: Timestamp,
        limit: i64,
    ) -> Result<Vec<Vec<QueueItem>>, EngineError> {
        let mut reads = Vec::with_capacity(units.len());
        for (actor, unit) in units {
            Self::check_unit_scope(actor, unit)?;
            reads.push(self.worklist_read(unit, at, limit));
        }
        self.db
            .rows_together(reads)
            .await?
            .iter()
            .map(|rows| Self::queue_items(rows, at))
            .collect()
    }

    /// The read of a unit's work list before `at`.
    fn worklist_read(&self, unit: &UnitId, at: Timestamp, limit: i64) -> Statement {
        let mut args = vec![
            Value::from(unit.as_str()),
            Value::from(limit),
            Value::from(at),
        ];
        let handover: Vec<String> = self
            .handover_keys()
            .iter()
            .enumerate()
            .map(|(i, key)| {
                args.push(Value::from(key.as_str()));
                format!("${}", i + 4)
            })
            .collect();
        let not_handover = if handover.is_empty() {
            String::new()
        } else {
            format!(
                " AND service || '/' || version || '/' || process || '/' || step NOT IN ({})",
                handover.join(", ")
            )
        };
        let sql = format!("SELECT {} FROM applications WHERE holder_unit = $1 AND status = 'in_progress' AND step_entered_at < $3 AND registry_id IS NULL{not_handover} ORDER BY step_due_at IS NULL, step_due_at, step_entered_at LIMIT $2", *rows::APP_COLS);
        Statement::new(sql, args)
    }

    async fn queue_rows(
        &self,
        read: Statement,
        entered_before: Option<Timestamp>,
    ) -> Result<Vec<QueueItem>, EngineError> {
        let rows = self.db.rows(read).await?;
        Self::queue_items(&rows, entered_before.unwrap_or_else(|| self.now()))
    }

    /// Queue items from applications' rows, overdue as of `now`.
    fn queue_items(rows: &[DbRow], now: Timestamp) -> Result<Vec<QueueItem>, EngineError> {
        rows.iter()
            .map(|r| {
                let a = rows::application(r)?;
                Ok(QueueItem {
                    overdue: a.step_due_at.is_some_and(|d| d < now),
                    application: a,
                })
            })
            .collect()
    }

    /// Open applications whose current step is due before `before` (overdue ones when
    /// `before` is now), for one unit or, for the centre and supervisors' areas, all.
    pub async fn due_before(
        &self,
        actor: &Actor,
        unit: Option<&UnitId>,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<QueueItem>, EngineError> {
        match unit {
            Some(u) => Self::check_unit_scope(actor, u)?,
            None if matches!(
                actor.role,
                Role::System | Role::CentralOfficer | Role::Auditor | Role::Supervisor
            ) => {}
            None => return Err(EngineError::forbidden(Refusal::NameYourUnit)),
        }
        let before = Value::from(before);
        let read = match unit {
            Some(u) => Statement::new(
                format!("SELECT {} FROM applications WHERE holder_unit = $2 AND status IN ('in_progress', 'in_transit') AND step_due_at < $1 ORDER BY step_due_at, step_entered_at LIMIT $3", *rows::APP_COLS),
                vec![before, Value::from(u.as_str()), Value::from(limit)],
            ),
            None => Statement::new(
                format!(
                    "SELECT {} FROM applications WHERE {} AND step_due_at < $1 ORDER BY step_due_at, step_entered_at LIMIT $2",
                    *rows::APP_COLS,
                    rows::OPEN_EVERYWHERE
                ),
                vec![before, Value::from(limit)],
            ),
        };
        let rows = self.db.rows(read).await?;
        let now = self.now();
        let mut out = Vec::new();
        let mut c = &self.db;
        for r in &rows {
            let a = rows::application(r)?;
            // A supervisor sees only the area of their unit.
            if actor.role == Role::Supervisor && unit.is_none() {
                let root = actor
                    .unit
                    .clone()
                    .ok_or_else(|| EngineError::forbidden(Refusal::NoUnit))?;
                if !self.in_area(&mut c, &root, &a.holder_unit).await? {
                    continue;
                }
            }
            out.push(QueueItem {
                overdue: a.step_due_at.is_some_and(|d| d < now),
                application: a,
            });
        }
        Ok(out)
    }

    /// A registry, for its two units and the centre.
    pub async fn registry(&self, actor: &Actor, id: &RegistryId) -> Result<Registry, EngineError> {
        let mut c = self.db.reader().acquire().await?;
        let r = load_registry(&mut c, id).await?;
        let ok = matches!(
            actor.role,
            Role::System | Role::CentralOfficer | Role::Auditor
        ) || actor
            .unit
            .as_ref()
            .is_some_and(|u| u == &r.from_unit || u == &r.to_unit);
        if !ok {
            return Err(EngineError::not_found("registry", id.as_str()));
        }
        Ok(r)
    }

    /// The applications a registry carries, in its order (the receiving unit's list of
    /// what came in, with each one's current step and due instant); for whoever may see
    /// the registry.
    pub async fn registry_applications(
        &self,
        actor: &Actor,
        id: &RegistryId,
    ) -> Result<Vec<Application>, EngineError> {
        self.registry(actor, id).await?;
        rows::load_registry_applications(&mut &self.db, id).await
    }

    /// Registries a unit sent or is to receive, newest first.
    pub async fn registries(
        &self,
        actor: &Actor,
        unit: &UnitId,
        limit: i64,
    ) -> Result<Vec<Registry>, EngineError> {
        Self::check_unit_scope(actor, unit)?;
        let rows = drn_store::query("SELECT id FROM registries WHERE from_unit = $1 OR to_unit = $2 ORDER BY formed_at DESC LIMIT $3")
            .bind(unit.as_str().to_string())
            .bind(unit.as_str().to_string())
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        let mut c = self.db.reader().acquire().await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(load_registry(&mut c, &RegistryId::from_db(r.try_get(0)?)).await?);
        }
        Ok(out)
    }

    /// A person's record; the read is audited. Staff of any unit may look a person up
    /// (the counter identifies applicants); a citizen only themself.
    pub async fn person(
        &self,
        actor: &Actor,
        iin: &drn_core::Iin,
        screen: &str,
    ) -> Result<Person, EngineError> {
        if actor.role == Role::Citizen && actor.iin.as_ref() != Some(iin) {
            return Err(EngineError::not_found("person", iin.to_string()));
        }
        let r = drn_store::query("SELECT iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json FROM persons WHERE iin = $1")
            .bind(iin.to_string())
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| EngineError::not_found("person", iin.to_string()))?;
        let person = Person {
            iin: *iin,
            surname: r.try_get(1)?,
            given_name: r.try_get(2)?,
            patronymic: r.try_get(3)?,
            birth_date: r
                .try_get::<String, _>(4)?
                .parse()
                .map_err(|e: jiff::Error| EngineError::Corrupt(e.to_string()))?,
            sex: drn_core::Sex::parse(&r.try_get::<String, _>(5)?)
                .map_err(|e| EngineError::Corrupt(e.to_string()))?,
            citizenship: r.try_get(6)?,
            data: rows::json(&r.try_get::<String, _>(7)?)?,
        };
        self.audit_read(
            actor,
            "read_person",
            &format!("person:{iin}"),
            json!({ "screen": screen }),
        )
        .await?;
        Ok(person)
    }

    /// A citizen's own applications (or any person's, for the system), newest first.
    pub async fn applications_of(
        &self,
        actor: &Actor,
        iin: &drn_core::Iin,
    ) -> Result<Vec<Application>, EngineError> {
        let own = actor.iin.as_ref() == Some(iin);
        if !(own || matches!(actor.role, Role::System | Role::CentralOfficer)) {
            return Err(EngineError::forbidden(Refusal::OwnApplicationsOnly));
        }
        let sql = format!("SELECT {} FROM applications WHERE applicant_iin = $1 ORDER BY accepted_at DESC LIMIT 200", *rows::APP_COLS);
        let rows = self
            .db
            .rows(Statement::new(sql, vec![Value::from(iin.to_string())]))
            .await?;
        let out = rows
            .iter()
            .map(rows::application)
            .collect::<Result<Vec<_>, _>>()?;
        if !own {
            self.audit_read(
                actor,
                "read_applications",
                &format!("person:{iin}"),
                json!({ "count": out.len() }),
            )
            .await?;
        }
        Ok(out)
    }

    /// The applications of a foreigner found by their passport number, newest first, that
    /// the actor may see (their unit holds it or took it in): those of a foreigner without
    /// an IIN (S9, whose applicant key ends with the passport) and those whose intake data
    /// name the foreigner's passport (S6-S8). The district's way in (issue 29); audited.
    pub async fn applications_by_passport(
        &self,
        actor: &Actor,
        passport: &str,
    ) -> Result<Vec<Application>, EngineError> {
        if actor.role == Role::Citizen {
            return Err(EngineError::forbidden(Refusal::SearchForStaff));
        }
        let passport = passport.trim().to_uppercase();
        if !(5..=20).contains(&passport.len())
            || !passport.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(EngineError::invalid(
                "passport",
                Refusal::PassportNumberForm,
            ));
        }
        let backend = self.db.backend;
        let sql = format!(
            "SELECT {} FROM applications WHERE applicant_iin LIKE $1 OR {} LIKE $2 ORDER BY accepted_at DESC LIMIT 200",
            *rows::APP_COLS,
            backend.json_text("data_json"),
        );
        let rows = self
            .db
            .rows(Statement::new(
                sql,
                vec![
                    Value::from(format!("F:%:{passport}")),
                    Value::from(backend.json_pair_pattern("passport", &passport)),
                ],
            ))
            .await?;
        let mut c = &self.db;
        let mut out = Vec::new();
        for r in &rows {
            let app = rows::application(r)?;
            if self.may_see(&mut c, actor, &app).await? {
                out.push(app);
            }
        }
        self.audit_read(
            actor,
            "find_by_passport",
            &format!("passport:{passport}"),
            json!({ "count": out.len() }),
        )
        .await?;
        Ok(out)
    }

    /// All units, by id (from the engine's cache of units; every document names one).
    pub async fn units(&self) -> Result<Vec<Unit>, EngineError> {
        let map = match self.cached_units() {
            Some(m) => m,
            None => self.load_units(&mut &self.db).await?,
        };
        let mut units: Vec<Unit> = map.values().cloned().collect();
        units.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(units)
    }

    /// One unit (from the cache).
    pub async fn unit(&self, id: &UnitId) -> Result<Unit, EngineError> {
        self.unit_on(&mut &self.db, id).await
    }

    /// Groups of applications waiting at a unit at a step that passes them on by a
    /// registry: (service, version, process, step, count).
    pub async fn waiting_for_registry(
        &self,
        actor: &Actor,
        unit: &UnitId,
    ) -> Result<Vec<(String, String, String, u32, i64)>, EngineError> {
        Self::check_unit_scope(actor, unit)?;
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT service, version, process, step, COUNT(*) FROM applications WHERE holder_unit = $1 AND status = 'in_progress' AND registry_id IS NULL GROUP BY service, version, process, step ORDER BY service, step",
                vec![Value::from(unit.as_str())],
            ))
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let (service, version, process): (String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let step = r.try_get::<i64, _>(3)? as u32;
            let Ok((_, p)) = self.locate(&service, &version, &process) else {
                continue;
            };
            if p.handover_after(step).is_some() {
                out.push((service, version, process, step, r.try_get(4)?));
            }
        }
        Ok(out)
    }

    /// Does this step pass applications on by a registry (not one by one).
    pub fn is_handover(&self, service: &str, version: &str, process: &str, step: u32) -> bool {
        self.locate(service, version, process)
            .is_ok_and(|(_, p)| p.handover_after(step).is_some())
    }
}
