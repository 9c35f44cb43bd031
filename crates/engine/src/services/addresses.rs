//! The address register (адресный регистр): regions and districts by KATO, settlements,
//! streets, buildings and premises, each with its registration code (РКА), its search, and
//! its seeding and retirement by an administrator. S3 and S5 read it.

use drn_store::{DbRow, Value};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;

/// An address of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Address {
    /// Registration code of the address (РКА).
    pub rka: String,
    /// settlement | street | building | premise
    pub kind: String,
    pub parent: Option<String>,
    /// KATO code of the district.
    pub kato: String,
    pub name: String,
    pub full: String,
    pub active: bool,
}

/// A district of the address register to seed: its migration unit, KATO codes, names and
/// the settlement.
#[derive(Debug, Clone)]
pub struct DistrictAddresses {
    pub unit: UnitId,
    pub region_kato: String,
    /// The region's name in Kazakh, Russian and English.
    pub region_name: [String; 3],
    pub kato: String,
    /// The district's name in Kazakh, Russian and English.
    pub name: [String; 3],
    pub settlement: String,
}

pub(crate) fn address_row(r: &DbRow) -> Result<Address, EngineError> {
    Ok(Address {
        rka: r.try_get(0)?,
        kind: r.try_get(1)?,
        parent: r.try_get(2)?,
        kato: r.try_get(3)?,
        name: r.try_get(4)?,
        full: r.try_get(5)?,
        active: r.try_get::<i64, _>(6)? != 0,
    })
}

impl Engine {
    pub(crate) async fn address_in(
        &self,
        c: &mut Ctx<'_>,
        rka: &str,
    ) -> Result<Option<Address>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka = $1",
                vec![Value::from(rka)],
            )
            .await?;
        r.as_ref().map(address_row).transpose()
    }

    /// Searches the address register by words of the address (all must occur), or by a
    /// code (РКА) prefix. Counter, district, regional and central staff, supervisors and
    /// citizens (who choose their address on the portal).
    pub async fn search_addresses(
        &self,
        actor: &Actor,
        q: &str,
        limit: i64,
    ) -> Result<Vec<Address>, EngineError> {
        Self::may_read_addresses(actor)?;
        let q = q.trim().to_lowercase();
        if q.chars().count() < 2 || q.len() > 200 {
            return Err(EngineError::invalid("q", Refusal::SearchQueryLength));
        }
        let limit = limit.clamp(1, 200);
        let phrase = drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE active = 1 AND search_text LIKE $1 ORDER BY full_text LIMIT $2")
            .bind(format!("%{}%", q.replace(['%', '_'], "")))
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?;
        if !phrase.is_empty() {
            return phrase.iter().map(address_row).collect();
        }
        let rows = if q.chars().all(|c| c.is_ascii_digit()) {
            drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka LIKE $1 ORDER BY rka LIMIT $2")
                .bind(format!("{q}%"))
                .bind(limit)
                .fetch_all(self.db.reader())
                .await?
        } else {
            let words: Vec<String> = q
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .take(6)
                .map(|w| format!("%{}%", w.replace(['%', '_'], "")))
                .collect();
            let mut sql = String::from("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE active = 1");
            for i in 0..words.len() {
                sql.push_str(&format!(" AND search_text LIKE ${}", i + 1));
            }
            sql.push_str(&format!(" ORDER BY full_text LIMIT ${}", words.len() + 1));
            let mut qy = drn_store::query(&sql);
            for w in &words {
                qy = qy.bind(w.clone());
            }
            qy.bind(limit).fetch_all(self.db.reader()).await?
        };
        rows.iter().map(address_row).collect()
    }

    /// The names of the districts with these KATO codes, in Kazakh, Russian and English:
    /// a list of addresses names each one's district, as the register's full text does
    /// not (a city's districts have streets of the same name).
    pub async fn district_names(
        &self,
        actor: &Actor,
        katos: &[String],
    ) -> Result<std::collections::HashMap<String, [String; 3]>, EngineError> {
        Self::may_read_addresses(actor)?;
        let mut out = std::collections::HashMap::new();
        if katos.is_empty() {
            return Ok(out);
        }
        let marks: Vec<String> = (1..=katos.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT kato, name_kk, name_ru, name_en FROM ar_ate WHERE kato IN ({})",
            marks.join(", ")
        );
        let mut q = drn_store::query(&sql);
        for k in katos {
            q = q.bind(k.clone());
        }
        for r in q.fetch_all(self.db.reader()).await? {
            out.insert(
                r.try_get::<String, _>(0)?,
                [r.try_get(1)?, r.try_get(2)?, r.try_get(3)?],
            );
        }
        Ok(out)
    }

    /// One address by its code.
    pub async fn address(&self, actor: &Actor, rka: &str) -> Result<Address, EngineError> {
        Self::may_read_addresses(actor)?;
        let r = drn_store::query("SELECT rka, kind, parent_rka, ate_kato, name, full_text, active FROM ar_addresses WHERE rka = $1")
            .bind(rka.to_string())
            .fetch_optional(self.db.reader())
            .await?
            .ok_or_else(|| EngineError::not_found("address", rka))?;
        address_row(&r)
    }

    pub(crate) fn may_read_addresses(actor: &Actor) -> Result<(), EngineError> {
        match actor.role {
            Role::CounterOperator
            | Role::DistrictOfficer
            | Role::RegionalOfficer
            | Role::CentralOfficer
            | Role::Supervisor
            | Role::Citizen
            | Role::System => Ok(()),
            _ => Err(EngineError::forbidden(Refusal::AddressRegisterForStaff)),
        }
    }

    /// Seeds the address register for districts: the region and the district (KATO), the
    /// settlement, `streets` streets, `buildings` buildings on each and `premises` flats in
    /// each building. Returns the premises' codes. Codes (РКА) are 16 digits: the district's
    /// KATO (9) and a serial (7).
    pub async fn seed_addresses(
        &self,
        actor: &Actor,
        districts: &[DistrictAddresses],
        streets: &[&str],
        buildings: u32,
        premises: u32,
    ) -> Result<Vec<String>, EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(Refusal::AddressRegisterBySystem));
        }
        let mut tx = self.db.begin().await?;
        let mut out = Vec::new();
        for d in districts {
            for (kato, level, parent, unit, name) in [
                (&d.region_kato, 1i64, None, None, &d.region_name),
                (
                    &d.kato,
                    2,
                    Some(d.region_kato.clone()),
                    Some(d.unit.as_str().to_string()),
                    &d.name,
                ),
            ] {
                let have = drn_store::query("SELECT kato FROM ar_ate WHERE kato = $1")
                    .bind(kato.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if have.is_none() {
                    drn_store::query("INSERT INTO ar_ate (kato, level, parent_kato, unit_id, name_kk, name_ru, name_en) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                        .bind(kato.clone())
                        .bind(level)
                        .bind(parent)
                        .bind(unit)
                        .bind(name[0].clone())
                        .bind(name[1].clone())
                        .bind(name[2].clone())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let mut serial = 0u32;
            let mut code = || {
                serial += 1;
                format!("{}{serial:07}", d.kato)
            };
            let mut rows: Vec<(String, &str, Option<String>, String, String)> = Vec::new();
            let settlement = code();
            rows.push((
                settlement.clone(),
                "settlement",
                None,
                d.settlement.clone(),
                d.settlement.clone(),
            ));
            for st in streets {
                let street = code();
                let street_full = format!("{}, {st}", d.settlement);
                rows.push((
                    street.clone(),
                    "street",
                    Some(settlement.clone()),
                    st.to_string(),
                    street_full.clone(),
                ));
                for b in 1..=buildings {
                    let building = code();
                    let b_full = format!("{street_full}, д. {b}");
                    rows.push((
                        building.clone(),
                        "building",
                        Some(street.clone()),
                        b.to_string(),
                        b_full.clone(),
                    ));
                    for f in 1..=premises {
                        let premise = code();
                        rows.push((
                            premise.clone(),
                            "premise",
                            Some(building.clone()),
                            f.to_string(),
                            format!("{b_full}, кв. {f}"),
                        ));
                        out.push(premise);
                    }
                }
            }
            for chunk in rows.chunks(200) {
                let mut sql = String::from("INSERT INTO ar_addresses (rka, kind, parent_rka, ate_kato, name, full_text, search_text, active) VALUES ");
                for i in 0..chunk.len() {
                    let b = i * 7;
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}, ${}, 1)",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7
                    ));
                }
                let mut q = drn_store::query(&sql);
                for (rka, kind, parent, name, full) in chunk {
                    q = q
                        .bind(rka.clone())
                        .bind(kind.to_string())
                        .bind(parent.clone())
                        .bind(d.kato.clone())
                        .bind(name.clone())
                        .bind(full.clone())
                        .bind(full.to_lowercase());
                }
                q.execute(&mut *tx).await?;
            }
        }
        crate::audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "seed_addresses",
            "addresses",
            &json!({ "districts": districts.len(), "premises": out.len() }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(out)
    }

    /// Records `owner` as an owner of the dwelling `rka` (a building or a premise) in the
    /// address register: the districts keep the register (issue 30 item 9: S3 of 2014 takes
    /// the owner's consent only from the dwelling's owner). Audited.
    pub async fn record_dwelling_owner(
        &self,
        actor: &Actor,
        rka: &str,
        owner: &drn_core::Iin,
    ) -> Result<(), EngineError> {
        if !matches!(
            actor.role,
            Role::System | Role::DistrictOfficer | Role::Administrator
        ) {
            return Err(EngineError::forbidden(Refusal::AddressesByDistricts));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let kind: Option<String> =
            drn_store::query("SELECT kind FROM ar_addresses WHERE rka = $1 AND active = 1")
                .bind(rka.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        if !matches!(kind.as_deref(), Some("building" | "premise")) {
            return Err(EngineError::invalid("rka", Refusal::NotADwelling));
        }
        let person = drn_store::query("SELECT iin FROM persons WHERE iin = $1")
            .bind(owner.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if person.is_none() {
            return Err(EngineError::not_found("person", owner.to_string()));
        }
        drn_store::query("INSERT INTO ar_owners (rka, owner_iin, since, added_by) VALUES ($1, $2, $3, $4) ON CONFLICT (rka, owner_iin) DO NOTHING")
            .bind(rka.to_string())
            .bind(owner.to_string())
            .bind(now)
            .bind(actor.id.clone())
            .execute(&mut *tx)
            .await?;
        crate::audit::append(
            &mut tx,
            now,
            &actor.id,
            "record_dwelling_owner",
            &format!("address:{rka}"),
            &json!({ "owner": owner.to_string() }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// Whether `owner` owns the dwelling `rka` in the address register (as the owner of the
    /// premise or of its building).
    pub(crate) async fn owns_dwelling(
        &self,
        c: &mut Ctx<'_>,
        rka: &str,
        owner: &str,
    ) -> Result<bool, EngineError> {
        let mut at = Some(rka.to_string());
        // The premise, then its building.
        for _ in 0..2 {
            let Some(code) = at.take() else {
                break;
            };
            let hit = c
                .fetch_optional(
                    "SELECT 1 FROM ar_owners WHERE rka = $1 AND owner_iin = $2",
                    vec![Value::from(code.as_str()), Value::from(owner)],
                )
                .await?;
            if hit.is_some() {
                return Ok(true);
            }
            at = self
                .address_in(c, &code)
                .await?
                .filter(|a| a.kind == "premise")
                .and_then(|a| a.parent);
        }
        Ok(false)
    }

    /// Marks an address as no longer valid (demolished, renumbered): certificates and
    /// registrations that name it need correcting.
    pub async fn retire_address(&self, actor: &Actor, rka: &str) -> Result<(), EngineError> {
        if !matches!(
            actor.role,
            Role::System | Role::DistrictOfficer | Role::Administrator
        ) {
            return Err(EngineError::forbidden(Refusal::AddressesByDistricts));
        }
        let mut tx = self.db.begin().await?;
        let n = drn_store::query("UPDATE ar_addresses SET active = 0 WHERE rka = $1")
            .bind(rka.to_string())
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() != 1 {
            return Err(EngineError::not_found("address", rka));
        }
        crate::audit::append(
            &mut tx,
            self.now(),
            &actor.id,
            "retire_address",
            &format!("address:{rka}"),
            &json!({}),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }
}
