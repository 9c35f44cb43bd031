//! Reads for the supervisor, the auditor, the administrator and the citizen's documents:
//! open and overdue applications by unit and by step within a supervisor's area, one
//! unit's open applications, the audit log searched and paged, the staff list, and the
//! documents issued to a person.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;

use crate::audit::AuditRecord;
use crate::error::EngineError;
use crate::model::*;
use crate::queries::QueueItem;
use crate::rows::{self, OPEN_EVERYWHERE};
use crate::Engine;
use crate::Refusal;

/// Counts of open applications (in progress or in a registry on the way).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub open: i64,
    /// Not yet overdue, but the current step is due before the end of today.
    pub due_today: i64,
    pub overdue: i64,
    /// The result is ready and waits for the applicant to come for it (a hand-over step
    /// whose clock has not started: issue 30 item 12). Not late, whatever the wait.
    pub awaiting_applicant: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.open += o.open;
        self.due_today += o.due_today;
        self.overdue += o.overdue;
        self.awaiting_applicant += o.awaiting_applicant;
    }
}

/// One unit's open applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitLoad {
    pub unit: Unit,
    pub counts: Counts,
}

/// Open applications at one step of one process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepLoad {
    pub service: String,
    pub version: String,
    pub process: String,
    pub step: u32,
    pub counts: Counts,
}

/// What a supervisor sees: their area's open applications by unit and by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Supervision {
    /// The root of the area (the supervisor's unit).
    pub root: Unit,
    pub total: Counts,
    /// The regions (or the root, for units above the regions) the area's open
    /// applications are in, most overdue first.
    pub by_region: Vec<UnitLoad>,
    /// Units holding open applications, most overdue first.
    pub by_unit: Vec<UnitLoad>,
    /// Steps with open applications, by service and step.
    pub by_step: Vec<StepLoad>,
}

/// What the audit log is searched by; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The subject, or its beginning (`person:` finds every person).
    pub subject: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// From this day (Kazakhstan time) inclusive.
    pub from: Option<Date>,
    /// To this day (Kazakhstan time) inclusive.
    pub to: Option<Date>,
}

/// A staff user as the administrator sees them (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffUser {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub unit: UnitId,
    pub active: bool,
}

/// A document issued to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedDocument {
    pub number: String,
    /// The service whose result it is.
    pub kind: String,
    pub application: ApplicationId,
    pub issued_at: Timestamp,
}

const OPEN: &str = "status IN ('in_progress', 'in_transit')";

/// Most overdue first, then most due today, then most open, then by id.
fn sort_loads(v: &mut [UnitLoad]) {
    v.sort_by(|a, b| {
        (b.counts.overdue, b.counts.due_today, b.counts.open)
            .cmp(&(a.counts.overdue, a.counts.due_today, a.counts.open))
            .then_with(|| a.unit.id.cmp(&b.unit.id))
    });
}

/// How long one step of one process took, over the steps completed in a date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepTime {
    pub service: String,
    pub version: String,
    pub process: String,
    pub step: u32,
    /// Steps completed in the range (re-entries after a return count again). A refusal
    /// ends its step too, with the service's result: it counts, against the same limit.
    pub completed: i64,
    /// Of them, completed by their due instant (the catalog's limit on the calendar).
    pub within_limit: i64,
    /// Mean time from entering the step to completing it, in seconds (wall clock).
    pub mean_secs: i64,
    /// The 90th percentile of it (nearest rank), in seconds.
    pub p90_secs: i64,
    /// The mean limit, entering to due instant, in seconds (wall clock: the catalog's
    /// working days and hours laid on the calendar).
    pub mean_limit_secs: i64,
}

/// One day of the area's work (Kazakhstan time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayTrend {
    pub day: Date,
    /// Applications accepted that day.
    pub accepted: i64,
    /// Results issued that day (applications completed).
    pub issued: i64,
    /// Steps completed that day after their due instant.
    pub late: i64,
}

/// The nearest-rank percentile `p` (0..=100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
fn like_prefix(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Engine {
    /// The units of the area under `root` (itself included).
    async fn area(&self, root: &UnitId) -> Result<(Vec<Unit>, HashSet<UnitId>), EngineError> {
        let units = self.units().await?;
        let mut children: HashMap<&UnitId, Vec<&UnitId>> = HashMap::new();
        for u in &units {
            if let Some(p) = &u.parent {
                children.entry(p).or_default().push(&u.id);
            }
        }
        let mut area = HashSet::new();
        let mut stack = vec![root];
        while let Some(u) = stack.pop() {
            if area.insert(u.clone()) {
                stack.extend(children.get(u).into_iter().flatten().copied());
            }
        }
        if !units.iter().any(|u| &u.id == root) {
            return Err(EngineError::not_found("unit", root.as_str()));
        }
        Ok((units, area))
    }

    /// The root of the actor's supervision area: a supervisor's own unit (the centre's
    /// supervisor sees the whole country); the system sees from the centre down too.
    fn supervision_root(actor: &Actor) -> Result<UnitId, EngineError> {
        if !matches!(actor.role, Role::Supervisor | Role::System) {
            return Err(EngineError::forbidden(Refusal::SupervisionForSupervisors));
        }
        actor
            .unit
            .clone()
            .ok_or_else(|| EngineError::forbidden(Refusal::NoUnit))
    }

    /// The end of today (Kazakhstan time): the next midnight.
    fn end_of_today(&self) -> Result<Timestamp, EngineError> {
        let today = self.now().to_zoned(self.tz.clone()).date();
        let tomorrow = today
            .tomorrow()
            .map_err(|e| EngineError::Corrupt(e.to_string()))?;
        Ok(tomorrow
            .to_zoned(self.tz.clone())
            .map_err(|e| EngineError::Corrupt(e.to_string()))?
            .timestamp())
    }

    /// The units and the area a supervisor looks at: their own area, or the part of it
    /// under `unit` (which must be in it).
    async fn scope(
        &self,
        actor: &Actor,
        unit: Option<&UnitId>,
    ) -> Result<(Vec<Unit>, HashSet<UnitId>, UnitId), EngineError> {
        let root = Self::supervision_root(actor)?;
        let (units, area) = self.area(&root).await?;
        match unit {
            Some(u) if u != &root => {
                if !area.contains(u) {
                    if units.iter().any(|x| &x.id == u) {
                        return Err(EngineError::forbidden(Refusal::UnitNotInArea));
                    }
                    return Err(EngineError::not_found("unit", u.as_str()));
                }
                let (units, sub) = self.area(u).await?;
                Ok((units, sub, u.clone()))
            }
            _ => Ok((units, area, root)),
        }
    }

    /// Open applications of the supervisor's area by unit and by step, with how many are
    /// due today and how many are overdue.
    pub async fn supervision(&self, actor: &Actor) -> Result<Supervision, EngineError> {
        self.supervision_at(actor, None).await
    }

    /// [`Engine::supervision`] for the part of the area under `unit` (a region, a
    /// district...), or the whole area.
    pub async fn supervision_at(
        &self,
        actor: &Actor,
        unit: Option<&UnitId>,
    ) -> Result<Supervision, EngineError> {
        let (units, area, root) = self.scope(actor, unit).await?;
        let now = self.now();
        let eod = self.end_of_today()?;
        let rows = drn_store::query(format!(
            "SELECT holder_unit, service, version, process, step, COUNT(*), \
             CAST(SUM(CASE WHEN step_due_at < $1 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN step_due_at >= $2 AND step_due_at < $3 THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN step_due_at IS NULL AND status = 'in_progress' THEN 1 ELSE 0 END) AS BIGINT) \
             FROM applications WHERE {OPEN_EVERYWHERE} GROUP BY holder_unit, service, version, process, step"
        ))
        .bind(now)
        .bind(now)
        .bind(eod)
        .fetch_all(self.db.reader())
        .await?;
        let mut by_unit: HashMap<UnitId, Counts> = HashMap::new();
        let mut by_step: BTreeMap<(String, String, String, u32), Counts> = BTreeMap::new();
        let mut total = Counts::default();
        for r in &rows {
            let unit = UnitId::from_db(r.try_get(0)?);
            if !area.contains(&unit) {
                continue;
            }
            let key = (
                r.try_get::<String, _>(1)?,
                r.try_get::<String, _>(2)?,
                r.try_get::<String, _>(3)?,
                r.try_get::<i64, _>(4)? as u32,
            );
            let hand_over = self
                .locate(&key.0, &key.1, &key.2)
                .is_ok_and(|(_, p)| p.waits_for_applicant(key.3));
            let c = Counts {
                open: r.try_get(5)?,
                overdue: r.try_get::<Option<i64>, _>(6)?.unwrap_or(0),
                due_today: r.try_get::<Option<i64>, _>(7)?.unwrap_or(0),
                awaiting_applicant: if hand_over {
                    r.try_get::<Option<i64>, _>(8)?.unwrap_or(0)
                } else {
                    0
                },
            };
            by_unit.entry(unit).or_default().add(&c);
            by_step.entry(key).or_default().add(&c);
            total.add(&c);
        }
        let root_unit = units
            .iter()
            .find(|u| u.id == root)
            .cloned()
            .ok_or_else(|| EngineError::not_found("unit", root.as_str()))?;
        let by_region = {
            let parent: HashMap<&UnitId, &Unit> = units.iter().map(|u| (&u.id, u)).collect();
            let mut sums: BTreeMap<UnitId, Counts> = BTreeMap::new();
            for (id, c) in &by_unit {
                // The nearest region at or above the unit; the area's root if none is.
                let mut at = parent.get(id).copied();
                let mut region = None;
                while let Some(u) = at {
                    if u.kind == UnitKind::Region || u.id == root {
                        region = Some(u.id.clone());
                        break;
                    }
                    at = u.parent.as_ref().and_then(|p| parent.get(p).copied());
                }
                sums.entry(region.unwrap_or_else(|| root.clone()))
                    .or_default()
                    .add(c);
            }
            let mut v: Vec<UnitLoad> = units
                .iter()
                .filter_map(|u| {
                    sums.remove(&u.id).map(|counts| UnitLoad {
                        unit: u.clone(),
                        counts,
                    })
                })
                .collect();
            sort_loads(&mut v);
            v
        };
        let mut by_unit: Vec<UnitLoad> = units
            .into_iter()
            .filter_map(|u| {
                by_unit
                    .remove(&u.id)
                    .map(|counts| UnitLoad { unit: u, counts })
            })
            .collect();
        sort_loads(&mut by_unit);
        let by_step = by_step
            .into_iter()
            .map(|((service, version, process, step), counts)| StepLoad {
                service,
                version,
                process,
                step,
                counts,
            })
            .collect();
        Ok(Supervision {
            root: root_unit,
            total,
            by_region,
            by_unit,
            by_step,
        })
    }

    /// The units of the supervisor's area, its root first, then by id.
    pub async fn supervision_area(&self, actor: &Actor) -> Result<Vec<Unit>, EngineError> {
        let (units, area, root) = self.scope(actor, None).await?;
        let mut v: Vec<Unit> = units.into_iter().filter(|u| area.contains(&u.id)).collect();
        v.sort_by(|a, b| (a.id != root, &a.id).cmp(&(b.id != root, &b.id)));
        Ok(v)
    }

    /// The start of a day (Kazakhstan time).
    fn day_start(&self, d: Date) -> Result<Timestamp, EngineError> {
        Ok(d.to_zoned(self.tz.clone())
            .map_err(|_| EngineError::invalid("date", Refusal::DateOutOfRange))?
            .timestamp())
    }

    /// The range `from..=to` as instants `[start, end)`, checked.
    fn day_range(&self, from: Date, to: Date) -> Result<(Timestamp, Timestamp), EngineError> {
        if to < from {
            return Err(EngineError::invalid("to", Refusal::DateRangeReversed));
        }
        if from.until(to).map_or(true, |s| s.get_days() > 366) {
            return Err(EngineError::invalid("from", Refusal::RangeAtMost366));
        }
        let end = to
            .tomorrow()
            .map_err(|_| EngineError::invalid("to", Refusal::DateOutOfRange))?;
        Ok((self.day_start(from)?, self.day_start(end)?))
    }

    /// Step times in the area (or the part under `unit`) over the steps completed from
    /// `from` to `to` inclusive (Kazakhstan days): for each completion, the time since the
    /// application last entered that step (the entry instant a `step_completed` or
    /// `refused` carries, or for older rows the last `step_entered` event before it; for a
    /// step ended by sending a registry, the registry's event and
    /// the application's item, which keeps when it entered the step and when that was
    /// due). The intake step, done by accepting, has no time and is left out.
    pub async fn step_times(
        &self,
        actor: &Actor,
        unit: Option<&UnitId>,
        from: Date,
        to: Date,
    ) -> Result<Vec<StepTime>, EngineError> {
        let (units, area, _) = self.scope(actor, unit).await?;
        let (start, end) = self.day_range(from, to)?;
        // Aggregated in the database: a national month is over a million completions,
        // too many to carry to the server one row each. The mean and the nearest-rank
        // 90th percentile are over whole seconds, as `percentile` takes them.
        let mut ids: Vec<&UnitId> = Vec::new();
        let in_area = if area.len() >= units.len() {
            "c.unit_id IS NOT NULL".to_string()
        } else {
            ids = area.iter().collect();
            ids.sort();
            let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
            format!("c.unit_id IN ({})", marks.join(", "))
        };
        let sql = format!(
            "WITH d AS (\
               SELECT a.service AS s, a.version AS v, a.process AS p, c.step AS st, c.at AS at, c.due_at AS due, \
                 COALESCE(c.entered_at, (SELECT MAX(e.at) FROM events e WHERE e.application_id = c.application_id \
                   AND e.kind = 'step_entered' AND e.step = c.step AND e.seq < c.seq)) AS en \
               FROM events c JOIN applications a ON a.id = c.application_id \
               WHERE c.kind IN ('step_completed', 'refused') AND c.at >= $1 AND c.at < $2 AND {in_area} \
               UNION ALL \
               SELECT a.service, a.version, a.process, c.step, c.at, i.due_at, i.entered_at \
               FROM events c JOIN registry_items i ON i.registry_id = c.registry_id \
                 JOIN applications a ON a.id = i.application_id \
               WHERE c.kind = 'step_completed' AND c.registry_id IS NOT NULL \
                 AND c.at >= $1 AND c.at < $2 AND {in_area}), \
             t AS (\
               SELECT s, v, p, st, {secs} AS secs, \
                 CASE WHEN due IS NULL THEN NULL ELSE {lim} END AS lim, \
                 CASE WHEN due IS NULL OR at <= due THEN 1 ELSE 0 END AS ok \
               FROM d WHERE en IS NOT NULL), \
             r AS (\
               SELECT s, v, p, st, secs, lim, ok, \
                 ROW_NUMBER() OVER (PARTITION BY s, v, p, st ORDER BY secs) AS rn, \
                 COUNT(*) OVER (PARTITION BY s, v, p, st) AS n \
               FROM t) \
             SELECT s, v, p, st, COUNT(*), CAST(SUM(ok) AS BIGINT), \
               CAST(SUM(secs) AS BIGINT) / COUNT(*), \
               CASE WHEN COUNT(lim) = 0 THEN 0 ELSE CAST(SUM(lim) AS BIGINT) / COUNT(lim) END, \
               MAX(CASE WHEN rn = (90 * n + 99) / 100 THEN secs END) \
             FROM r GROUP BY s, v, p, st",
            secs = self.db.backend.seconds_between("at", "en"),
            lim = self.db.backend.seconds_between("due", "en"),
        );
        let mut q = drn_store::query(&sql).bind(start).bind(end);
        for u in ids {
            q = q.bind(u.as_str().to_string());
        }
        let rows = q.fetch_all(self.db.reader()).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(StepTime {
                    service: r.try_get(0)?,
                    version: r.try_get(1)?,
                    process: r.try_get(2)?,
                    step: r.try_get::<Option<i64>, _>(3)?.unwrap_or(0) as u32,
                    completed: r.try_get(4)?,
                    within_limit: r.try_get::<Option<i64>, _>(5)?.unwrap_or(0),
                    mean_secs: r.try_get::<Option<i64>, _>(6)?.unwrap_or(0),
                    p90_secs: r.try_get::<Option<i64>, _>(8)?.unwrap_or(0),
                    mean_limit_secs: r.try_get::<Option<i64>, _>(7)?.unwrap_or(0),
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        out.sort_by(|a, b| {
            (&a.service, &a.version, &a.process, a.step)
                .cmp(&(&b.service, &b.version, &b.process, b.step))
        });
        Ok(out)
    }

    /// The area's work by day from `from` to `to` inclusive: applications accepted,
    /// results issued and steps completed late, every day of the range present. Days are
    /// counted as 24 hours from the start of `from` in Kazakhstan time.
    pub async fn trend(
        &self,
        actor: &Actor,
        unit: Option<&UnitId>,
        from: Date,
        to: Date,
    ) -> Result<Vec<DayTrend>, EngineError> {
        let (_, area, _) = self.scope(actor, unit).await?;
        let (start, end) = self.day_range(from, to)?;
        let rows = drn_store::query(format!(
            "SELECT kind, unit_id, {day}, \
             CAST(SUM(CASE WHEN kind = 'step_completed' AND due_at IS NOT NULL AND at > due_at THEN 1 ELSE 0 END) AS BIGINT), \
             COUNT(*) FROM (\
               SELECT kind, unit_id, at, due_at FROM events \
               WHERE kind IN ('accepted', 'issued', 'step_completed') AND at >= $2 AND at < $3 \
                 AND application_id IS NOT NULL \
               UNION ALL \
               SELECT c.kind, c.unit_id, c.at, i.due_at \
               FROM events c JOIN registry_items i ON i.registry_id = c.registry_id \
               WHERE c.kind = 'step_completed' AND c.registry_id IS NOT NULL AND c.at >= $2 AND c.at < $3) AS d \
             GROUP BY kind, unit_id, 3",
            day = self.db.backend.days_between("at", "$1"),
        ))
        .bind(start)
        .bind(start)
        .bind(end)
        .fetch_all(self.db.reader())
        .await?;
        let mut days = Vec::new();
        let mut d = from;
        while d <= to {
            days.push(DayTrend {
                day: d,
                accepted: 0,
                issued: 0,
                late: 0,
            });
            d = d
                .tomorrow()
                .map_err(|_| EngineError::invalid("to", Refusal::DateOutOfRange))?;
        }
        for r in &rows {
            let Some(unit) = r.try_get::<Option<String>, _>(1)? else {
                continue;
            };
            if !area.contains(&UnitId::from_db(unit)) {
                continue;
            }
            let i: i64 = r.try_get(2)?;
            let Some(day) = usize::try_from(i).ok().and_then(|i| days.get_mut(i)) else {
                continue;
            };
            let n: i64 = r.try_get(4)?;
            match EventKind::parse(&r.try_get::<String, _>(0)?)? {
                EventKind::Accepted => day.accepted += n,
                EventKind::Issued => day.issued += n,
                _ => day.late += r.try_get::<Option<i64>, _>(3)?.unwrap_or(0),
            }
        }
        Ok(days)
    }

    /// Open overdue applications by the kind of unit holding them, the whole country (for
    /// the metrics).
    pub async fn overdue_by_unit_kind(&self) -> Result<Vec<(UnitKind, i64)>, EngineError> {
        let rows = drn_store::query(format!(
            "SELECT holder_unit, COUNT(*) FROM applications WHERE {OPEN_EVERYWHERE} AND step_due_at < $1 GROUP BY holder_unit"
        ))
        .bind(self.now())
        .fetch_all(self.db.reader())
        .await?;
        let units = self.units().await?;
        let kind: HashMap<&UnitId, UnitKind> = units.iter().map(|u| (&u.id, u.kind)).collect();
        let mut by: BTreeMap<&'static str, (UnitKind, i64)> = BTreeMap::new();
        for k in [
            UnitKind::Counter,
            UnitKind::District,
            UnitKind::Region,
            UnitKind::Centre,
            UnitKind::Production,
        ] {
            by.insert(k.code(), (k, 0));
        }
        for r in &rows {
            let id = UnitId::from_db(r.try_get(0)?);
            let n: i64 = r.try_get(1)?;
            if let Some(k) = kind.get(&id) {
                if let Some(e) = by.get_mut(k.code()) {
                    e.1 += n;
                }
            }
        }
        Ok(by.into_values().collect())
    }

    /// The open applications a unit of the supervisor's area holds, earliest due first,
    /// with the unit itself.
    pub async fn supervised_unit(
        &self,
        actor: &Actor,
        unit: &UnitId,
        limit: i64,
    ) -> Result<(Unit, Vec<QueueItem>), EngineError> {
        let root = Self::supervision_root(actor)?;
        let (units, area) = self.area(&root).await?;
        let Some(u) = units.into_iter().find(|u| &u.id == unit) else {
            return Err(EngineError::not_found("unit", unit.as_str()));
        };
        if !area.contains(unit) {
            return Err(EngineError::forbidden(Refusal::UnitNotInArea));
        }
        let sql = format!(
            "SELECT {} FROM applications WHERE holder_unit = $1 AND {OPEN} ORDER BY step_due_at, step_entered_at LIMIT $2",
            *rows::APP_COLS
        );
        let rows = drn_store::query(&sql)
            .bind(unit.as_str().to_string())
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        let now = self.now();
        let items = rows
            .iter()
            .map(|r| {
                let a = rows::application(r)?;
                Ok(QueueItem {
                    overdue: a.step_due_at.is_some_and(|d| d < now),
                    application: a,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok((u, items))
    }

    /// The audit log, newest first, filtered and paged; for auditors and administrators.
    /// Returns the page and whether more records follow it.
    pub async fn audit_search(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AuditRecord>, bool), EngineError> {
        if !matches!(
            actor.role,
            Role::Auditor | Role::Administrator | Role::System
        ) {
            return Err(EngineError::forbidden(Refusal::AuditForAuditors));
        }
        let limit = limit.clamp(1, 500);
        let offset = offset.max(0);
        let mut sql = String::from(
            "SELECT seq, at, actor, action, subject, detail_json, prev_hash, hash FROM audit WHERE 1 = 1",
        );
        let mut text: Vec<String> = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if let Some(s) = f
            .subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            sql.push_str(&format!(" AND subject LIKE ${} ESCAPE '\\'", next()));
            text.push(like_prefix(s));
        }
        if let Some(a) = f.actor.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND actor = ${}", next()));
            text.push(a.to_string());
        }
        if let Some(a) = f.action.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            sql.push_str(&format!(" AND action = ${}", next()));
            text.push(a.to_string());
        }
        let bad = |_: jiff::Error| EngineError::invalid("date", Refusal::DateOutOfRange);
        let mut bounds: Vec<Timestamp> = Vec::new();
        if let Some(d) = f.from {
            sql.push_str(&format!(" AND at >= ${}", next()));
            bounds.push(d.to_zoned(self.tz.clone()).map_err(bad)?.timestamp());
        }
        if let Some(d) = f.to {
            sql.push_str(&format!(" AND at < ${}", next()));
            bounds.push(
                d.tomorrow()
                    .and_then(|t| t.to_zoned(self.tz.clone()))
                    .map_err(bad)?
                    .timestamp(),
            );
        }
        let (l, o) = (next(), next());
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${l} OFFSET ${o}"));
        let mut q = drn_store::query(&sql);
        for t in text {
            q = q.bind(t);
        }
        for b in bounds {
            q = q.bind(b);
        }
        let rows = q
            .bind(limit + 1)
            .bind(offset)
            .fetch_all(self.db.reader())
            .await?;
        let more = rows.len() as i64 > limit;
        let out = rows
            .iter()
            .take(limit as usize)
            .map(|r| {
                Ok(AuditRecord {
                    seq: r.try_get(0)?,
                    at: rows::ts(r.try_get(1)?)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    subject: r.try_get(4)?,
                    detail: r.try_get(5)?,
                    prev_hash: r.try_get(6)?,
                    hash: r.try_get(7)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        Ok((out, more))
    }

    /// Every staff user, by username; for administrators.
    pub async fn staff_users(&self, actor: &Actor) -> Result<Vec<StaffUser>, EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::UsersForAdministrators));
        }
        let rows = drn_store::query(
            "SELECT id, username, full_name, role, unit_id, active FROM staff ORDER BY username",
        )
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StaffUser {
                    id: r.try_get(0)?,
                    username: r.try_get(1)?,
                    full_name: r.try_get(2)?,
                    role: Role::parse(&r.try_get::<String, _>(3)?)?,
                    unit: UnitId::from_db(r.try_get(4)?),
                    active: r.try_get::<i64, _>(5)? == 1,
                })
            })
            .collect()
    }

    /// The documents issued to a person, newest first: for the person themself (the
    /// portal) and the system.
    pub async fn documents_of(
        &self,
        actor: &Actor,
        iin: &drn_core::Iin,
    ) -> Result<Vec<IssuedDocument>, EngineError> {
        let own = actor.iin.as_ref() == Some(iin);
        if !(own || actor.role == Role::System) {
            return Err(EngineError::forbidden(Refusal::OwnDocumentsOnly));
        }
        let rows = drn_store::query(
            "SELECT number, kind, application_id, issued_at FROM issued_documents WHERE holder_iin = $1 ORDER BY issued_at DESC LIMIT 200",
        )
        .bind(iin.to_string())
        .fetch_all(self.db.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IssuedDocument {
                    number: r.try_get(0)?,
                    kind: r.try_get(1)?,
                    application: ApplicationId::from_db(r.try_get(2)?),
                    issued_at: rows::ts(r.try_get(3)?)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        assert_eq!(percentile(&[], 90), 0);
        assert_eq!(percentile(&[5], 90), 5);
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 90), 9);
        assert_eq!(percentile(&v, 100), 10);
        assert_eq!(percentile(&v, 50), 5);
    }

    #[test]
    fn like_prefix_escapes_wildcards() {
        assert_eq!(like_prefix("person:"), "person:%");
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }
}
