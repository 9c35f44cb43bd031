//! Registrations at a place of residence or of stay (регистрационный учёт): written by S3,
//! ended by S3 and S4, corrected by S5, and the person record's address kept in step.

use drn_core::Iin;
use drn_store::{Statement, Value};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::writer::Work;
use crate::Engine;
use crate::Refusal;

use super::addresses::Address;
use super::is_staff;

/// A person's registration at a place of residence or of stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub id: String,
    pub person: String,
    /// permanent | temporary | not_established
    pub kind: String,
    pub rka: Option<String>,
    pub address: Option<String>,
    pub application: Option<ApplicationId>,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub ended_by: Option<String>,
}

/// One registration row to write.
pub(crate) struct RegistrationRow<'a> {
    pub id: &'a str,
    pub person: &'a str,
    pub kind: &'a str,
    pub rka: Option<&'a str>,
    pub app: &'a Application,
    pub owner: Option<&'a Iin>,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
}

/// What a registration ended by `app` records as `ended_by`.
fn ended_by(app: &Application) -> String {
    format!("application:{}", app.number)
}

impl Engine {
    /// A version's place rule (the catalog's `provided_at`): the unit that accepts must
    /// be in the district where the applicant is registered (the person record's
    /// registration, kept in step with the registrations). A version whose act states no
    /// place accepts anywhere (issue 28 item 8: seed 002 states it for S1, S2 and S4 of
    /// 2014; order 55 of 2018 does not restate it).
    pub(crate) async fn check_place(
        &self,
        c: &mut Ctx<'_>,
        ver: &drn_core::Version,
        unit: &UnitId,
        applicant: &str,
    ) -> Result<(), EngineError> {
        let Some(rule) = &ver.provided_at else {
            return Ok(());
        };
        let registered = self
            .person_row(c, applicant)
            .await?
            .and_then(|d| d["registration"]["district"].as_str().map(String::from));
        let place = match rule.place {
            drn_core::catalog::Place::PermanentRegistration => {
                "the place of permanent registration"
            }
            drn_core::catalog::Place::Residence => "the place of residence",
        };
        let Some(registered) = registered else {
            return Err(EngineError::invalid(
                "applicant",
                Refusal::NotRegisteredForService,
            ));
        };
        let here = self
            .resolve_holder(c, unit, drn_core::catalog::UnitRole::District)
            .await?;
        if here.as_str() != registered {
            let name = |id: &str, lang: drn_core::Lang| {
                UnitId::parse(id)
                    .ok()
                    .and_then(|u| self.cached_unit(&u))
                    .map_or_else(|| id.to_string(), |u| u.name.get(lang).to_string())
            };
            let (kk_place, ru_place) = match rule.place {
                drn_core::catalog::Place::PermanentRegistration => {
                    ("тұрақты тіркелген жері", "месту постоянной регистрации")
                }
                drn_core::catalog::Place::Residence => ("тұрғылықты жері", "месту жительства"),
            };
            use drn_core::Lang::{En, Kk, Ru};
            return Err(EngineError::invalid(
                "applicant",
                drn_core::Text::new(
                    format!(
                        "қызмет {kk_place} бойынша көрсетіледі: адам «{}» бөлімшесінде тіркелген, ал бұл бөлімше «{}» құрамында; сонда жүгініңіз",
                        name(&registered, Kk),
                        name(here.as_str(), Kk)
                    ),
                    format!(
                        "услуга оказывается по {ru_place}: лицо зарегистрировано в «{}», а это подразделение относится к «{}»; обратитесь туда",
                        name(&registered, Ru),
                        name(here.as_str(), Ru)
                    ),
                    format!(
                        "the service is given at {place}: the person is registered in {}, and this unit is in {}; apply there",
                        name(&registered, En),
                        name(here.as_str(), En)
                    ),
                ),
            ));
        }
        Ok(())
    }

    /// The person's open permanent registration, with its address.
    pub(crate) async fn open_permanent(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
    ) -> Result<Option<(String, Option<String>)>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT id, rka FROM registrations WHERE person_iin = $1 AND kind = 'permanent' AND ended_at IS NULL ORDER BY valid_from DESC LIMIT 1",
                vec![Value::from(iin)],
            )
            .await?;
        r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

    /// Writes a registration; `owner` is the dwelling owner S3's intake named (para 5).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn insert_registration(
        &self,
        c: &mut Ctx<'_>,
        person: &str,
        kind: &str,
        rka: Option<&str>,
        app: &Application,
        owner: Option<&Iin>,
        valid_to: Option<Timestamp>,
        now: Timestamp,
        data: serde_json::Value,
    ) -> Result<String, EngineError> {
        let id = uuid::Uuid::now_v7().to_string();
        self.insert_registration_row(
            c,
            RegistrationRow {
                id: &id,
                person,
                kind,
                rka,
                app,
                owner,
                valid_from: now,
                valid_to,
            },
            data,
        );
        Ok(id)
    }

    /// Writes one registration row as given (S5's correction keeps the date the person was
    /// registered on).
    pub(crate) fn insert_registration_row(
        &self,
        c: &mut Ctx<'_>,
        r: RegistrationRow<'_>,
        data: serde_json::Value,
    ) {
        let RegistrationRow {
            id,
            person,
            kind,
            rka,
            app,
            owner,
            valid_from: now,
            valid_to,
        } = r;
        c.push(
            "INSERT INTO registrations (id, person_iin, kind, rka, application_id, owner_iin, valid_from, valid_to, ended_at, ended_by, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9)",
            vec![
                Value::from(id),
                Value::from(person),
                Value::from(kind),
                Value::from(rka.map(String::from)),
                Value::from(&app.id),
                Value::from(owner.map(Iin::to_string)),
                Value::from(now),
                Value::from(valid_to),
                Value::json(data.to_string()),
            ],
        );
    }

    /// Keeps the person record's registration (what the screens show) in step.
    pub(crate) async fn set_person_address(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
        addr: &Address,
        now: Timestamp,
    ) -> Result<(), EngineError> {
        let since = now.to_zoned(self.tz.clone()).date();
        self.set_person_address_since(c, iin, addr, since).await
    }

    /// The person record's registration at `addr`, registered since `since` (S5's
    /// correction of the address data keeps the day the person was registered on).
    pub(crate) async fn set_person_address_since(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
        addr: &Address,
        since: jiff::civil::Date,
    ) -> Result<(), EngineError> {
        let Some(mut d) = self.person_row(c, iin).await? else {
            return Ok(());
        };
        let district = c
            .fetch_optional(
                "SELECT unit_id, parent_kato FROM ar_ate WHERE kato = $1",
                vec![Value::from(addr.kato.as_str())],
            )
            .await?;
        let (unit, region) = match district {
            Some(r) => (
                r.try_get::<Option<String>, _>(0)?,
                r.try_get::<Option<String>, _>(1)?
                    .map(|k| k.chars().take(2).collect::<String>()),
            ),
            None => (None, None),
        };
        if !d.is_object() {
            d = json!({});
        }
        d["registration"] = json!({
            "region": region,
            "district": unit,
            "address": addr.full,
            "rka": addr.rka,
            "since": since.to_string(),
        });
        c.push(
            "UPDATE persons SET data_json = $1 WHERE iin = $2",
            vec![Value::json(d.to_string()), Value::from(iin)],
        );
        Ok(())
    }

    /// Ends a person's open registrations (permanent and the 2018 status; `all` also
    /// temporary ones); returns how many.
    pub(crate) async fn end_registrations(
        &self,
        c: &mut Ctx<'_>,
        person: &str,
        app: &Application,
        now: Timestamp,
        all: bool,
    ) -> Result<i64, EngineError> {
        let recorded = self.end_recorded_registration(c, person, app, now).await?;
        let kinds = if all {
            "('permanent', 'temporary', 'not_established')"
        } else {
            "('permanent', 'not_established')"
        };
        let n = c
            .execute_counted(Statement::new(
                format!("UPDATE registrations SET ended_at = $1, ended_by = $2 WHERE person_iin = $3 AND ended_at IS NULL AND kind IN {kinds}"),
                vec![
                    Value::from(now),
                    Value::from(ended_by(app)),
                    Value::from(person.to_string()),
                ],
            ))
            .await?;
        Ok(n as i64 + recorded)
    }

    /// Ends the registration the person's record holds when no open row of this register
    /// backs it (the demo loads persons' registrations into their record only): it is
    /// written here as a row ended by the application, so that this register stays the one
    /// history of a person's registrations and the record's `registration` only the
    /// current one (issue 28 item 3: "the previous one is ended with a reference to the
    /// application"). Returns 1 when it ended one.
    async fn end_recorded_registration(
        &self,
        c: &mut Ctx<'_>,
        person: &str,
        app: &Application,
        now: Timestamp,
    ) -> Result<i64, EngineError> {
        let backed = c
            .fetch_optional(
                "SELECT id FROM registrations WHERE person_iin = $1 AND ended_at IS NULL AND kind IN ('permanent', 'not_established') LIMIT 1",
                vec![Value::from(person)],
            )
            .await?
            .is_some();
        if backed {
            return Ok(0);
        }
        let Some(reg) = self
            .person_row(c, person)
            .await?
            .and_then(|d| d.get("registration").cloned())
            .filter(|r| r.get("address").and_then(|a| a.as_str()).is_some())
        else {
            return Ok(0);
        };
        let since = reg["since"]
            .as_str()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| d.to_zoned(self.tz.clone()).ok())
            .map(|z| z.timestamp())
            .filter(|t| *t <= now)
            .unwrap_or(now);
        // Its РКА, if the record has one, stays in the data: the register's column refers
        // to the address register, which the record's need not be in.
        c.push(
            "INSERT INTO registrations (id, person_iin, kind, rka, application_id, owner_iin, valid_from, valid_to, ended_at, ended_by, data_json) VALUES ($1, $2, 'permanent', NULL, NULL, NULL, $3, NULL, $4, $5, $6)",
            vec![
                Value::from(uuid::Uuid::now_v7().to_string()),
                Value::from(person),
                Value::from(since),
                Value::from(now),
                Value::from(ended_by(app)),
                Value::json(json!({ "address": reg["address"], "rka": reg["rka"], "region": reg["region"], "district": reg["district"], "source": "person_record" }).to_string()),
            ],
        );
        Ok(1)
    }

    /// A person's registrations, newest first (staff, audited; or the person).
    pub async fn registrations(
        &self,
        actor: &Actor,
        iin: &Iin,
    ) -> Result<Vec<Registration>, EngineError> {
        let own = actor.iin.as_ref() == Some(iin);
        if !(own || is_staff(actor.role) || actor.role == Role::System) {
            return Err(EngineError::forbidden(Refusal::OwnRegistrationsOnly));
        }
        let rows = drn_store::query("SELECT r.id, r.person_iin, r.kind, r.rka, a.full_text, r.application_id, r.valid_from, r.valid_to, r.ended_at, r.ended_by, r.data_json FROM registrations r LEFT JOIN ar_addresses a ON a.rka = r.rka WHERE r.person_iin = $1 ORDER BY r.valid_from DESC, r.id DESC")
            .bind(iin.to_string())
            .fetch_all(self.db.reader())
            .await?;
        let out = rows
            .iter()
            .map(|r| {
                Ok(Registration {
                    id: r.try_get(0)?,
                    person: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    rka: r.try_get(3)?,
                    // A registration taken over from the person's record keeps its
                    // address as the record gave it.
                    address: match r.try_get::<Option<String>, _>(4)? {
                        Some(a) => Some(a),
                        None => crate::rows::json(&r.try_get::<String, _>(10)?)?["address"]
                            .as_str()
                            .map(String::from),
                    },
                    application: r
                        .try_get::<Option<String>, _>(5)?
                        .map(ApplicationId::from_db),
                    valid_from: crate::rows::ts(r.try_get(6)?)?,
                    valid_to: crate::rows::ts_opt(r.try_get(7)?)?,
                    ended_at: crate::rows::ts_opt(r.try_get(8)?)?,
                    ended_by: r.try_get(9)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        if !own {
            self.submit(Work::Audit {
                actor: actor.id.clone(),
                action: "read_registrations".into(),
                subject: format!("person:{iin}"),
                detail: json!({ "count": out.len() }),
            })
            .await?;
        }
        Ok(out)
    }
}
