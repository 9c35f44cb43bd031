//! The journals the services keep (журналы учёта), numbered per unit and year: temporary
//! ID cards (S2), chip rewrites (S3), departure sheets (S4), address certificates (S5),
//! border-zone passes (S6), invitations (S7), registered foreigners (S8), formed IINs (S9).

use drn_store::Value;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;

/// An entry of a service journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JournalEntry {
    pub journal: String,
    pub number: String,
    pub application: Option<ApplicationId>,
    pub service: String,
    pub unit: UnitId,
    pub subject: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What a result's new journal entry records of the intake: the foreigner and the border
/// zone (S6 to S9; none for S2).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EntryIntake<'a> {
    pub foreigner: Option<&'a Foreigner>,
    pub zone: Option<&'a str>,
}

/// The journals the services keep.
pub const JOURNALS: &[(&str, &str)] = &[
    ("temporary_id", "S2"),
    ("chip_rewrite", "S3"),
    ("departure_sheets", "S4"),
    ("address_certificates", "S5"),
    ("border_passes", "S6"),
    ("invitations", "S7"),
    ("foreigner_registration", "S8"),
    ("iin_formed", "S9"),
];

pub(crate) fn journal_prefix(journal: &str) -> &'static str {
    match journal {
        "temporary_id" => "TID",
        "chip_rewrite" => "CHIP",
        "departure_sheets" => "ALU",
        "address_certificates" => "AS",
        "border_passes" => "BZP",
        "invitations" => "INV",
        "foreigner_registration" => "FR",
        "iin_formed" => "IIN",
        _ => "J",
    }
}

impl Engine {
    pub(crate) async fn journal_number(
        &self,
        c: &mut Ctx<'_>,
        journal: &str,
        unit: &UnitId,
        now: Timestamp,
    ) -> Result<String, EngineError> {
        let year = now.to_zoned(self.tz.clone()).year();
        let seq = c
            .next_counter(&format!("journal:{journal}:{unit}:{year}"))
            .await?;
        Ok(format!("{unit}-{year}-{}{seq:06}", journal_prefix(journal)))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write_journal(
        &self,
        c: &mut Ctx<'_>,
        journal: &str,
        app: &Application,
        unit: &UnitId,
        subject: &str,
        data: serde_json::Value,
        now: Timestamp,
    ) -> Result<String, EngineError> {
        let number = self.journal_number(c, journal, unit, now).await?;
        c.push(
            "INSERT INTO journal_entries (id, journal, number, application_id, service, unit_id, subject, at, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                Value::from(uuid::Uuid::now_v7().to_string()),
                Value::from(journal),
                Value::from(number.clone()),
                Value::from(&app.id),
                Value::from(app.service.as_str()),
                Value::from(unit.as_str()),
                Value::from(subject),
                Value::from(now),
                Value::json(data.to_string()),
            ],
        );
        Ok(number)
    }

    /// A journal of a service (the temporary ID cards, departure sheets, …), newest first:
    /// a unit's or the actor's area's (all for the centre and auditors); the read is
    /// audited against each person shown.
    pub async fn journal(
        &self,
        actor: &Actor,
        journal: &str,
        unit: Option<&UnitId>,
        limit: i64,
    ) -> Result<Vec<JournalEntry>, EngineError> {
        if !JOURNALS.iter().any(|(j, _)| *j == journal) {
            return Err(EngineError::not_found("journal", journal));
        }
        // The units whose entries the actor may read: the same scope as applications'
        // (issue 31 item 2): everything for the centre, auditors and the system; a unit's
        // own and its area's (a region's districts) for other staff, supervisors too.
        let area: Option<Vec<String>> = match actor.role {
            Role::System | Role::CentralOfficer | Role::Auditor => None,
            Role::Citizen => return Err(EngineError::forbidden(Refusal::JournalsForStaff)),
            _ => {
                let Some(own) = actor.unit.as_ref() else {
                    return Err(EngineError::forbidden(Refusal::JournalsForUnitStaff));
                };
                let mut c = &self.db;
                let mut ids = Vec::new();
                for u in self.units().await? {
                    if self.in_area(&mut c, own, &u.id).await? {
                        ids.push(u.id.as_str().to_string());
                    }
                }
                Some(ids)
            }
        };
        let units: Option<Vec<String>> = match (unit, area) {
            (Some(u), Some(area)) if !area.iter().any(|a| a == u.as_str()) => {
                return Err(EngineError::forbidden(Refusal::UnitOfYourArea))
            }
            (Some(u), _) => Some(vec![u.as_str().to_string()]),
            (None, area) => area,
        };
        let limit = limit.clamp(1, 500);
        let base = "SELECT journal, number, application_id, service, unit_id, subject, at, data_json FROM journal_entries WHERE journal = $1";
        let rows = match &units {
            Some(ids) if ids.is_empty() => Vec::new(),
            Some(ids) => {
                let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "{base} AND unit_id IN ({}) ORDER BY at DESC, number DESC LIMIT ${}",
                    marks.join(", "),
                    ids.len() + 2
                );
                let mut q = drn_store::query(&sql).bind(journal.to_string());
                for id in ids {
                    q = q.bind(id.clone());
                }
                q.bind(limit).fetch_all(self.db.reader()).await?
            }
            None => {
                drn_store::query(format!("{base} ORDER BY at DESC, number DESC LIMIT $2"))
                    .bind(journal.to_string())
                    .bind(limit)
                    .fetch_all(self.db.reader())
                    .await?
            }
        };
        let entries = rows
            .iter()
            .map(|r| {
                Ok(JournalEntry {
                    journal: r.try_get(0)?,
                    number: r.try_get(1)?,
                    application: r
                        .try_get::<Option<String>, _>(2)?
                        .map(ApplicationId::from_db),
                    service: r.try_get(3)?,
                    unit: UnitId::from_db(r.try_get(4)?),
                    subject: r.try_get(5)?,
                    at: crate::rows::ts(r.try_get(6)?)?,
                    data: crate::rows::json(&r.try_get::<String, _>(7)?)?,
                })
            })
            .collect::<Result<Vec<_>, EngineError>>()?;
        self.audit_journal_read(actor, journal, &entries).await?;
        Ok(entries)
    }

    /// Audits a journal's read: one record per person whose data it showed, against that
    /// person (what the citizen's "who read my data" lists), naming the journal and the
    /// entries (issue 31 item 2). Written together through the writers' group commit.
    async fn audit_journal_read(
        &self,
        actor: &Actor,
        journal: &str,
        entries: &[JournalEntry],
    ) -> Result<(), EngineError> {
        let mut by_subject: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for e in entries {
            by_subject
                .entry(e.subject.as_str())
                .or_default()
                .push(e.number.as_str());
        }
        let mut reads = tokio::task::JoinSet::new();
        for (subject, numbers) in by_subject {
            let engine = self.clone();
            let actor = actor.clone();
            let subject = format!("person:{subject}");
            let detail = json!({ "journal": journal, "entries": numbers });
            reads.spawn(async move {
                engine
                    .audit_read(&actor, "read_journal", &subject, detail)
                    .await
            });
        }
        while let Some(done) = reads.join_next().await {
            done.map_err(|e| EngineError::Corrupt(format!("an audit write stopped: {e}")))??;
        }
        Ok(())
    }

    /// The journal entry of an issued result: the one written when the journal's step was
    /// done (S2, S8, S9), or a new one now.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn result_journal_entry(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        journal: &str,
        subject: &str,
        about: EntryIntake<'_>,
        document: &str,
        e_signed_insert: bool,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let already = c
            .fetch_optional(
                "SELECT number FROM journal_entries WHERE application_id = $1 AND journal = $2",
                vec![Value::from(&app.id), Value::from(journal)],
            )
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        let number = match already {
            Some(n) => n,
            None => {
                self.write_journal(
                    c,
                    journal,
                    app,
                    &app.holder_unit,
                    subject,
                    json!({ "foreigner": about.foreigner, "zone": about.zone, "document": document, "e_signed_insert": e_signed_insert }),
                    now,
                )
                .await?
            }
        };
        Ok(json!({ "journal": journal, "entry": number }))
    }
}
