//! Documents waiting for an officer's own signature (issue 33): where the seeds make the
//! officer certify a document with their ЭЦП (each registry, a result, a motivated
//! refusal), the server renders it with an empty signature value in the officer's name, the
//! officer's signing application signs it, and the server finishes it with the
//! authorities' signatures after the officer's. What is kept between those requests is
//! here (`document_drafts`), with the staff member's record the signature is checked
//! against (IIN, name, position).

use drn_core::{Iin, Text};
use drn_store::{DbRow, Statement, Value};
use jiff::Timestamp;
use serde_json::json;

use crate::documents::{corrupt, ts};
use crate::error::EngineError;
use crate::model::{Actor, Role};
use crate::Engine;

/// A staff member as their signature names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerOnRecord {
    pub username: String,
    pub full_name: String,
    /// The IIN their certificate must carry (`SERIALNUMBER=IIN…`); without one on record
    /// they cannot sign.
    pub iin: Option<Iin>,
    /// Their position (должность), printed beside their signature.
    pub position: Text,
    /// An API client's system: the BIN its organisation's certificate must carry
    /// (`OU=BIN…`) instead of an IIN.
    pub bin: Option<drn_core::Bin>,
}

/// A staff member's position when their record names none: their role's usual title.
/// Assumption (README): the seeds name the officers by unit and function ("сотрудник
/// ЦОН", "сотрудник МИО/РПУ", "ДМС"), not by job title.
pub fn role_position(role: Role) -> Text {
    match role {
        Role::CounterOperator => Text::new(
            "ХҚКО қызметкері",
            "Сотрудник ЦОН",
            "Public service centre officer",
        ),
        Role::DistrictOfficer => Text::new(
            "Аудандық көші-қон қызметінің қызметкері",
            "Сотрудник районного подразделения миграционной службы",
            "District migration service officer",
        ),
        Role::RegionalOfficer => Text::new(
            "Облыстық көші-қон қызметінің қызметкері",
            "Сотрудник областного подразделения миграционной службы",
            "Regional migration service officer",
        ),
        Role::CentralOfficer => Text::new(
            "ІІМ Көші-қон қызметі департаментінің қызметкері",
            "Сотрудник Департамента миграционной службы МВД",
            "Officer of the MVD migration service department",
        ),
        Role::ProductionOperator => Text::new(
            "Құжаттарды дайындау орталығының қызметкері",
            "Сотрудник центра изготовления документов",
            "Document production centre officer",
        ),
        _ => Text::new("Қызметкер", "Сотрудник", "Officer"),
    }
}

/// A draft to keep.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub id: String,
    pub application: Option<String>,
    pub registry: Option<String>,
    pub kind: String,
    pub number: String,
    pub date: String,
    pub document_json: String,
    pub pdf: Vec<u8>,
    pub layout_json: String,
    pub placeholder_json: String,
    pub expires_at: Timestamp,
}

/// A kept draft.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: String,
    pub application: Option<String>,
    pub registry: Option<String>,
    pub kind: String,
    pub number: String,
    pub date: String,
    pub document_json: String,
    /// The officer who is to sign it.
    pub staff: String,
    pub pdf: Vec<u8>,
    pub layout_json: String,
    pub placeholder_json: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The officer's verified CMS, once signed.
    pub cms: Option<Vec<u8>>,
    pub signer_json: Option<String>,
}

impl Draft {
    /// The audit subject: the draft's application or registry.
    pub fn subject(&self) -> String {
        match (&self.application, &self.registry) {
            (Some(a), _) => format!("application:{a}"),
            (None, Some(r)) => format!("registry:{r}"),
            _ => format!("document:{}", self.id),
        }
    }
}

const COLS: &str = "id, application_id, registry_id, kind, number, doc_date, document_json, staff_id, pdf, layout_json, placeholder_json, created_at, expires_at, cms, signer_json";

fn draft(r: &DbRow) -> Result<Draft, EngineError> {
    Ok(Draft {
        id: r.try_get(0)?,
        application: r.try_get(1)?,
        registry: r.try_get(2)?,
        kind: r.try_get(3)?,
        number: r.try_get(4)?,
        date: r.try_get(5)?,
        document_json: r.try_get(6)?,
        staff: r.try_get(7)?,
        pdf: r.try_get(8)?,
        layout_json: r.try_get(9)?,
        placeholder_json: r.try_get(10)?,
        created_at: ts(r.try_get(11)?)?,
        expires_at: ts(r.try_get(12)?)?,
        cms: r.try_get(13)?,
        signer_json: r.try_get(14)?,
    })
}

impl Engine {
    /// The staff member `username` as their signature names them.
    pub async fn officer_on_record(
        &self,
        username: &str,
    ) -> Result<Option<OfficerOnRecord>, EngineError> {
        // An API client acts as `client:NAME` under its system's certificate.
        if let Some(name) = username.strip_prefix("client:") {
            return Ok(self.api_client_named(name).await?.map(|c| OfficerOnRecord {
                username: username.to_string(),
                full_name: c.name,
                iin: None,
                position: Text::new(
                    "Мемлекеттік органның ақпараттық жүйесі",
                    "Информационная система государственного органа",
                    "A state body's information system",
                ),
                bin: c.bin,
            }));
        }
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT username, full_name, iin, role, position_json FROM staff WHERE username = $1",
                vec![Value::from(username)],
            ))
            .await?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let role: String = r.try_get(3)?;
        let position = match r.try_get::<Option<String>, _>(4)? {
            Some(j) => serde_json::from_str(&j).map_err(corrupt)?,
            None => role_position(Role::parse(&role).unwrap_or(Role::System)),
        };
        Ok(Some(OfficerOnRecord {
            username: r.try_get(0)?,
            full_name: r.try_get(1)?,
            iin: r
                .try_get::<Option<String>, _>(2)?
                .and_then(|i| Iin::parse(&i).ok()),
            position,
            bin: None,
        }))
    }

    /// Sets a staff member's IIN and position (an administrator's act, audited).
    pub async fn set_officer_record(
        &self,
        actor: &Actor,
        username: &str,
        iin: &Iin,
        position: &Text,
    ) -> Result<(), EngineError> {
        if !matches!(actor.role, Role::Administrator | Role::System) {
            return Err(EngineError::forbidden(
                crate::refusal::Refusal::StaffRecordsByAdministrator,
            ));
        }
        let update = Statement::new(
            "UPDATE staff SET iin = $1, position_json = $2 WHERE username = $3",
            vec![
                Value::from(iin.to_string()),
                Value::json(serde_json::to_string(position).map_err(corrupt)?),
                Value::from(username),
            ],
        );
        let changed = self
            .record_made(
                update,
                actor,
                "staff_record_set",
                &format!("staff:{username}"),
                json!({ "iin": iin.to_string(), "position": position }),
            )
            .await?;
        if !changed {
            return Err(EngineError::not_found("staff", username.to_string()));
        }
        Ok(())
    }

    /// Keeps a draft for `actor` to sign (audited: `document_draft_prepared`).
    pub async fn put_draft(&self, actor: &Actor, d: NewDraft) -> Result<(), EngineError> {
        let subject = match (&d.application, &d.registry) {
            (Some(a), _) => format!("application:{a}"),
            (None, Some(r)) => format!("registry:{r}"),
            _ => format!("document:{}", d.id),
        };
        let detail = json!({ "draft": d.id, "kind": d.kind, "number": d.number });
        let insert = Statement::new(
            format!("INSERT INTO document_drafts ({COLS}, signed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, NULL)"),
            vec![
                Value::uuid(d.id),
                Value::uuid_opt(d.application),
                Value::uuid_opt(d.registry),
                d.kind.into(),
                d.number.into(),
                Value::date_text(d.date),
                Value::json(d.document_json),
                actor.id.clone().into(),
                d.pdf.into(),
                Value::json(d.layout_json),
                Value::json(d.placeholder_json),
                Value::from(self.now()),
                Value::from(d.expires_at),
            ],
        );
        self.record_made(insert, actor, "document_draft_prepared", &subject, detail)
            .await?;
        Ok(())
    }

    /// A draft by id.
    pub async fn draft(&self, id: &str) -> Result<Option<Draft>, EngineError> {
        // An id that is not a UUID names no draft (see `crate::uuid_value`).
        let Some(id) = crate::uuid_value(id) else {
            return Ok(None);
        };
        let rows = self
            .db
            .rows(Statement::new(
                format!("SELECT {COLS} FROM document_drafts WHERE id = $1"),
                vec![id],
            ))
            .await?;
        rows.first().map(draft).transpose()
    }

    /// The latest draft of `kind` for an application or a registry that its officer
    /// signed: the one its document is finished from.
    pub async fn signed_draft(
        &self,
        application: Option<&str>,
        registry: Option<&str>,
        kind: &str,
    ) -> Result<Option<Draft>, EngineError> {
        let (col, id) = match (application, registry) {
            (Some(a), _) => ("application_id", a),
            (None, Some(r)) => ("registry_id", r),
            _ => return Ok(None),
        };
        let Some(id) = crate::uuid_value(id) else {
            return Ok(None);
        };
        let rows = self
            .db
            .rows(Statement::new(
                format!("SELECT {COLS} FROM document_drafts WHERE {col} = $1 AND kind = $2 AND cms IS NOT NULL ORDER BY signed_at DESC LIMIT 1"),
                vec![id, Value::from(kind)],
            ))
            .await?;
        rows.first().map(draft).transpose()
    }

    /// Records the officer's verified signature of a draft (audited: `document_signed`
    /// with the signer's subject and signing time), in one transaction. False when the
    /// draft was signed already.
    pub async fn record_draft_signature(
        &self,
        actor: &Actor,
        d: &Draft,
        cms: Vec<u8>,
        signer: serde_json::Value,
    ) -> Result<bool, EngineError> {
        let update = Statement::new(
            "UPDATE document_drafts SET cms = $1, signer_json = $2, signed_at = $3 WHERE id = $4 AND cms IS NULL",
            vec![
                Value::from(cms),
                Value::json(signer.to_string()),
                Value::from(self.now()),
                Value::uuid(d.id.clone()),
            ],
        );
        self.record_made(
            update,
            actor,
            "document_signed",
            &d.subject(),
            json!({ "draft": d.id, "kind": d.kind, "number": d.number, "signer": signer }),
        )
        .await
    }
}

impl Engine {
    /// Is a draft of `kind` kept for the application (signed or waiting for its officer)?
    pub async fn has_draft(&self, application: &str, kind: &str) -> Result<bool, EngineError> {
        let Some(application) = crate::uuid_value(application) else {
            return Ok(false);
        };
        Ok(!self
            .db
            .rows(Statement::new(
                "SELECT id FROM document_drafts WHERE application_id = $1 AND kind = $2 LIMIT 1",
                vec![application, Value::from(kind)],
            ))
            .await?
            .is_empty())
    }
}
