//! Transfers of days off that an administrator adds (a government decree that came after
//! the data file): validated against the national calendar, kept in the database, audited,
//! merged into the calendar when the server starts.

use drn_core::calendar::TransferDef;
use drn_core::Calendar;
use drn_store::Db;
use serde_json::json;

use crate::audit;
use crate::error::EngineError;
use crate::model::{Actor, Role};
use crate::Engine;
use crate::Refusal;

/// The transfers kept in the database, oldest first.
pub async fn stored_transfers(db: &Db) -> Result<Vec<TransferDef>, EngineError> {
    let rows = drn_store::query(
        "SELECT year, off_day, work_day, cite FROM calendar_transfers ORDER BY id",
    )
    .fetch_all(db.reader())
    .await?;
    rows.iter()
        .map(|r| {
            let date = |s: Option<String>| -> Result<Option<jiff::civil::Date>, EngineError> {
                s.map(|d| {
                    d.parse()
                        .map_err(|e: jiff::Error| EngineError::Corrupt(e.to_string()))
                })
                .transpose()
            };
            Ok(TransferDef {
                year: r.try_get::<i64, _>(0)? as i16,
                off: date(r.try_get(1)?)?,
                work: date(r.try_get(2)?)?,
                cite: r.try_get(3)?,
            })
        })
        .collect()
}

/// The calendar of the data file with the database's transfers.
pub async fn with_stored_transfers(db: &Db, calendar: &Calendar) -> Result<Calendar, EngineError> {
    let extra = stored_transfers(db).await?;
    Ok(calendar.with_transfers(&extra)?)
}

impl Engine {
    /// Adds a transfer (administrator only). It must fit the calendar: the day made off a
    /// working weekday of that year, the day made working a day off. It applies from the
    /// next start of the server.
    pub async fn add_transfer(&self, actor: &Actor, t: TransferDef) -> Result<(), EngineError> {
        if actor.role != Role::Administrator {
            return Err(EngineError::forbidden(Refusal::CalendarForAdministrators));
        }
        if t.cite.trim().len() < 5 {
            return Err(EngineError::invalid("cite", Refusal::CiteTheAct));
        }
        let stored = stored_transfers(&self.db).await?;
        let mut all = stored.clone();
        all.push(t.clone());
        self.calendar
            .with_transfers(&all)
            .map_err(|e| {
                EngineError::invalid(
                    "transfer",
                    drn_core::Text::new(
                        "ауыстыру күнтізбеге сәйкес емес: демалыс етіп жұмыс күні, жұмыс күні етіп сол жылдың демалыс күні белгіленеді".to_string(),
                        "перенос не согласуется с календарём: выходным делается рабочий день, рабочим — выходной день того же года".to_string(),
                        e.to_string(),
                    ),
                )
            })?;
        let mut tx = self.db.begin().await?;
        drn_store::query("INSERT INTO calendar_transfers (year, off_day, work_day, cite, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(i64::from(t.year))
            .bind(t.off)
            .bind(t.work)
            .bind(t.cite.clone())
            .bind(actor.id.clone())
            .bind(self.now())
            .execute(&mut *tx)
            .await?;
        let detail = json!({ "year": t.year, "off": t.off.map(|d| d.to_string()), "work": t.work.map(|d| d.to_string()), "cite": t.cite });
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "add_calendar_transfer",
            "calendar",
            &detail,
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_administrator_adds_a_valid_transfer_only() {
        for url in drn_store::testkit::fresh_urls("transfers").await.unwrap() {
            let db = Db::open(&url).await.unwrap();
            db.migrate().await.unwrap();
            let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog"));
            let (cat, cal) = crate::catalog_files::load(dir).unwrap();
            let clock = Arc::new(crate::ManualClock::new(
                "2026-11-21T10:00:00+05:00".parse().unwrap(),
            ));
            let engine = Engine::new(db.clone(), cat, cal, clock).unwrap();
            let admin = Actor {
                id: "admin".into(),
                role: Role::Administrator,
                unit: None,
                iin: None,
            };
            // 2027: Friday 5 March off, Saturday 13 March worked.
            let t = TransferDef {
                year: 2027,
                off: "2027-03-05".parse().ok(),
                work: "2027-03-13".parse().ok(),
                cite: "Order of the Minister of Labour No 1 (test)".into(),
            };
            let clerk = Actor {
                role: Role::DistrictOfficer,
                ..admin.clone()
            };
            assert_eq!(
                engine
                    .add_transfer(&clerk, t.clone())
                    .await
                    .unwrap_err()
                    .code(),
                "forbidden"
            );
            // A Saturday cannot be "made a day off".
            let bad = TransferDef {
                off: "2027-03-06".parse().ok(),
                ..t.clone()
            };
            let refused = engine.add_transfer(&admin, bad).await.unwrap_err();
            assert_eq!(refused.code(), "invalid");
            // Said in Russian, not the calendar's English (issue 29).
            let ru = refused.message(drn_core::Lang::Ru);
            assert!(ru.contains("перенос не согласуется с календарём"), "{ru}");
            assert!(!ru.chars().any(|c| c.is_ascii_lowercase()), "{ru}");
            assert!(stored_transfers(&db).await.unwrap().is_empty());
            engine.add_transfer(&admin, t).await.unwrap();
            let merged = with_stored_transfers(&db, &engine.calendar).await.unwrap();
            assert!(!merged.is_working("2027-03-05".parse().unwrap()).unwrap());
            assert!(merged.is_working("2027-03-13".parse().unwrap()).unwrap());
            assert!(
                engine
                    .calendar
                    .is_working("2027-03-05".parse().unwrap())
                    .unwrap(),
                "in force from the next start"
            );
            assert_eq!(crate::audit::verify(&db).await.unwrap().broken_at, None);
        }
    }
}
