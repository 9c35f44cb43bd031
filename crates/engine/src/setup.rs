//! Setting up reference data: units, staff and persons (used by the demo, the
//! administrator's screens and tests). Each call is one transaction and audited.

use drn_core::{Text, WorkingHours};
use serde_json::json;

use crate::audit;
use crate::error::EngineError;
use crate::model::*;
use crate::Engine;
use crate::Refusal;

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub id: UnitId,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
    pub region_code: Option<String>,
    pub kato: Option<String>,
    pub name: Text,
    pub hours: WorkingHours,
}

/// A staff user to create; the password is already hashed by the caller (the server).
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub id: String,
    pub username: String,
    pub full_name: String,
    pub role: Role,
    pub unit: UnitId,
    pub iin: Option<String>,
    /// Their position (должность), printed beside their signature; the role's usual title
    /// when none ([`crate::drafts::role_position`]).
    pub position: Option<drn_core::Text>,
    pub password_hash: String,
}

impl Engine {
    /// Creates units in one transaction (parents before children).
    pub async fn create_units(&self, actor: &Actor, units: &[NewUnit]) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::UnitsForAdministrators));
        }
        let mut tx = self.db.begin().await?;
        for u in units {
            u.hours.validate()?;
            if u.name.has_blank() {
                return Err(EngineError::invalid(
                    "name",
                    Refusal::UnitNameInThreeLanguages,
                ));
            }
            drn_store::query("INSERT INTO units (id, kind, parent_id, region_code, kato, name_kk, name_ru, name_en, hours_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(u.id.as_str().to_string())
                .bind(u.kind.code())
                .bind(u.parent.as_ref().map(|p| p.as_str().to_string()))
                .bind(u.region_code.clone())
                .bind(u.kato.clone())
                .bind(u.name.kk.clone())
                .bind(u.name.ru.clone())
                .bind(u.name.en.clone())
                .bind(drn_store::Value::json(serde_json::to_string(&u.hours).map_err(|e| EngineError::Corrupt(e.to_string()))?))
                .execute(&mut *tx)
                .await?;
        }
        let ids: Vec<&str> = units.iter().map(|u| u.id.as_str()).collect();
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "create_units",
            "units",
            &json!({ "units": ids }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        self.forget_units();
        Ok(())
    }

    /// Creates staff users in one transaction.
    pub async fn create_staff(&self, actor: &Actor, staff: &[NewStaff]) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::UsersByAdministrators));
        }
        let mut tx = self.db.begin().await?;
        for s in staff {
            let taken = drn_store::query("SELECT id FROM staff WHERE username = $1 OR id = $2")
                .bind(s.username.clone())
                .bind(s.id.clone())
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_some() {
                return Err(EngineError::invalid("username", Refusal::UsernameTaken));
            }
            let position = s
                .position
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| EngineError::Corrupt(e.to_string()))?;
            drn_store::query("INSERT INTO staff (id, username, full_name, role, unit_id, iin, password_hash, active, position_json) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8)")
                .bind(s.id.clone())
                .bind(s.username.clone())
                .bind(s.full_name.clone())
                .bind(s.role.code())
                .bind(s.unit.as_str().to_string())
                .bind(s.iin.clone())
                .bind(s.password_hash.clone())
                .bind(drn_store::Value::json_opt(position))
                .execute(&mut *tx)
                .await?;
        }
        let names: Vec<&str> = staff.iter().map(|s| s.username.as_str()).collect();
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "create_staff",
            "staff",
            &json!({ "users": names }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// Deactivates a staff user: they can no longer sign in, and their open sessions end.
    /// An administrator cannot deactivate themself.
    pub async fn deactivate_staff(&self, actor: &Actor, username: &str) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::DeactivateByAdministrator));
        }
        if actor.id == username {
            return Err(EngineError::forbidden(Refusal::CannotDeactivateSelf));
        }
        let mut tx = self.db.begin().await?;
        let done =
            drn_store::query("UPDATE staff SET active = 0 WHERE username = $1 AND active = 1")
                .bind(username.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if done == 0 {
            return Err(EngineError::not_found("active user", username));
        }
        let ended = drn_store::query("DELETE FROM sessions WHERE kind = 'staff' AND subject = $1")
            .bind(username.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "deactivate_staff",
            &format!("staff:{username}"),
            &json!({ "sessions_ended": ended }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// Inserts or replaces persons in one transaction (demo data, registry imports).
    pub async fn put_persons(&self, actor: &Actor, persons: &[Person]) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::PersonsBySystem));
        }
        let mut tx = self.db.begin().await?;
        for p in persons {
            drn_store::query("DELETE FROM persons WHERE iin = $1")
                .bind(p.iin.to_string())
                .execute(&mut *tx)
                .await?;
            drn_store::query("INSERT INTO persons (iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(p.iin.to_string())
                .bind(p.surname.clone())
                .bind(p.given_name.clone())
                .bind(p.patronymic.clone())
                .bind(p.birth_date)
                .bind(p.sex.code())
                .bind(p.citizenship.clone())
                .bind(drn_store::Value::json(p.data.to_string()))
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "put_persons",
            "persons",
            &json!({ "count": persons.len() }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }
}

/// Rows per INSERT statement in `insert_persons` (8 parameters each: well under the
/// parameter limits of SQLite and PostgreSQL).
const PERSONS_PER_STATEMENT: usize = 250;

impl Engine {
    /// Inserts new persons in one transaction with multi-row statements, much faster than
    /// `put_persons` for bulk loads (demo data). Fails, changing nothing, when one of the
    /// IINs is already there.
    pub async fn insert_persons(
        &self,
        actor: &Actor,
        persons: &[Person],
    ) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::PersonsBySystem));
        }
        let mut tx = self.db.begin().await?;
        for rows in persons.chunks(PERSONS_PER_STATEMENT) {
            let mut sql = String::from("INSERT INTO persons (iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json) VALUES ");
            for i in 0..rows.len() {
                let b = i * 8;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                ));
            }
            let mut q = drn_store::query(&sql);
            for p in rows {
                q = q
                    .bind(p.iin.to_string())
                    .bind(p.surname.clone())
                    .bind(p.given_name.clone())
                    .bind(p.patronymic.clone())
                    .bind(p.birth_date)
                    .bind(p.sex.code())
                    .bind(p.citizenship.clone())
                    .bind(drn_store::Value::json(p.data.to_string()));
            }
            q.execute(&mut *tx).await?;
        }
        audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "insert_persons",
            "persons",
            &json!({ "count": persons.len() }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }
}
