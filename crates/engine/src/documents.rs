//! The stored documents (`documents`): talons, receipts, results and registries, signed
//! PDFs kept byte for byte with their detached signatures; and the reads a document's
//! content needs (a person's line, the `issued` event, a journal entry, registrations, an
//! address's text; a registry's lines are `registry_print`'s). The server renders and
//! signs; what it keeps and reads is here.

use drn_core::Text;
use drn_docs::DocumentKind;
use drn_store::{DbRow, Statement, Value};
use jiff::Timestamp;
use serde_json::json;

use crate::error::EngineError;
use crate::model::{Actor, ApplicationId, EventKind};
use crate::Engine;

const COLS: &str = "id, application_id, registry_id, kind, number, doc_date, issuer_json, sha256, issued_at, revoked_at, revoked_reason";

/// A stored document without its bytes.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: String,
    pub application: Option<String>,
    pub registry: Option<String>,
    pub kind: String,
    pub number: String,
    pub date: String,
    pub issuer: Text,
    pub sha256: String,
    pub issued_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub revoked_reason: Option<String>,
}

impl Stored {
    pub fn kind(&self) -> Option<DocumentKind> {
        DocumentKind::ALL
            .into_iter()
            .find(|k| k.code() == self.kind)
    }

    /// The document's title (its kind's), the code itself for an unknown kind.
    pub fn title(&self) -> Text {
        self.kind()
            .map(DocumentKind::title)
            .unwrap_or_else(|| Text::new(&self.kind, &self.kind, &self.kind))
    }

    /// The audit subject of the document: its application's, or its registry's.
    pub fn subject(&self) -> String {
        match (&self.application, &self.registry) {
            (Some(a), _) => format!("application:{a}"),
            (None, Some(r)) => format!("registry:{r}"),
            _ => format!("document:{}", self.id),
        }
    }
}

/// Which of a document's stored files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentPart {
    /// The signed PDF.
    Pdf,
    /// The detached CMS signature.
    P7s,
}

/// A signed document to store.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: String,
    pub application: Option<String>,
    pub registry: Option<String>,
    pub kind: String,
    pub number: String,
    pub date: String,
    /// The issuer, as JSON ([`Text`]).
    pub issuer_json: String,
    pub sha256: String,
    pub pdf: Vec<u8>,
    pub p7s: Vec<u8>,
    pub issued_at: Timestamp,
}

/// A person's name as printed, their date of birth and the address of their registration.
#[derive(Debug, Clone)]
pub struct PersonLine {
    pub name: String,
    pub birth: String,
    pub address: Option<String>,
}

/// A registration: kind, РКА, valid from, valid to.
pub type RegRow = (String, Option<String>, Timestamp, Option<Timestamp>);

pub(crate) fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(e.to_string())
}

/// A stored instant (microseconds) back as a timestamp.
pub(crate) fn ts(v: i64) -> Result<Timestamp, EngineError> {
    Timestamp::from_microsecond(v).map_err(corrupt)
}

fn stored(r: &DbRow) -> Result<Stored, EngineError> {
    Ok(Stored {
        id: r.try_get(0)?,
        application: r.try_get(1)?,
        registry: r.try_get(2)?,
        kind: r.try_get(3)?,
        number: r.try_get(4)?,
        date: r.try_get(5)?,
        issuer: serde_json::from_str(&r.try_get::<String, _>(6)?).map_err(corrupt)?,
        sha256: r.try_get(7)?,
        issued_at: ts(r.try_get(8)?)?,
        revoked_at: r.try_get::<Option<i64>, _>(9)?.map(ts).transpose()?,
        revoked_reason: r.try_get(10)?,
    })
}

impl Engine {
    /// The first row of a read through the store's read side.
    async fn first_doc_row(
        &self,
        sql: impl Into<String>,
        args: Vec<Value>,
    ) -> Result<Option<DbRow>, EngineError> {
        Ok(self
            .db
            .rows(Statement::new(sql, args))
            .await?
            .into_iter()
            .next())
    }

    /// Document records read by `sql` with one parameter.
    async fn stored_rows(&self, sql: String, arg: Value) -> Result<Vec<Stored>, EngineError> {
        self.db
            .rows(Statement::new(sql, vec![arg]))
            .await?
            .iter()
            .map(stored)
            .collect()
    }

    /// Document records read by `sql` with one identifier that is always a UUID: none
    /// when `id` is not one (it names no row; see [`crate::uuid_value`]).
    async fn stored_rows_of(&self, sql: String, id: &str) -> Result<Vec<Stored>, EngineError> {
        match crate::uuid_value(id) {
            Some(v) => self.stored_rows(sql, v).await,
            None => Ok(Vec::new()),
        }
    }

    // ------------------------------------------------------------ stored documents

    /// One document's record.
    pub async fn document(&self, id: &str) -> Result<Option<Stored>, EngineError> {
        let sql = format!("SELECT {COLS} FROM documents WHERE id = $1");
        Ok(self.stored_rows_of(sql, id).await?.pop())
    }

    /// The documents of an application, oldest first.
    pub async fn documents_of_application(&self, id: &str) -> Result<Vec<Stored>, EngineError> {
        let sql = format!(
            "SELECT {COLS} FROM documents WHERE application_id = $1 ORDER BY issued_at, kind"
        );
        self.stored_rows_of(sql, id).await
    }

    /// The documents of a registry.
    pub async fn documents_of_registry(&self, id: &str) -> Result<Vec<Stored>, EngineError> {
        let sql =
            format!("SELECT {COLS} FROM documents WHERE registry_id = $1 ORDER BY issued_at, kind");
        self.stored_rows_of(sql, id).await
    }

    /// The documents of a person's applications (the portal's "my documents"), newest first.
    pub async fn documents_of_person(&self, iin: &str) -> Result<Vec<Stored>, EngineError> {
        let cols: Vec<String> = COLS.split(", ").map(|c| format!("d.{c}")).collect();
        let sql = format!(
            "SELECT {} FROM documents d JOIN applications a ON a.id = d.application_id WHERE a.applicant_iin = $1 ORDER BY d.issued_at DESC LIMIT 200",
            cols.join(", ")
        );
        self.stored_rows(sql, Value::from(iin)).await
    }

    /// The PDF or the detached signature of a document.
    pub async fn document_bytes(
        &self,
        id: &str,
        part: DocumentPart,
    ) -> Result<Option<Vec<u8>>, EngineError> {
        let col = match part {
            DocumentPart::P7s => "p7s",
            DocumentPart::Pdf => "pdf",
        };
        let Some(id) = crate::uuid_value(id) else {
            return Ok(None);
        };
        let row = self
            .first_doc_row(
                format!("SELECT {col} FROM documents WHERE id = $1"),
                vec![id],
            )
            .await?;
        Ok(row.map(|r| r.try_get::<Vec<u8>, _>(0)).transpose()?)
    }

    /// Stores a signed document with its audit record (`document_issued`) through the
    /// writers' group commit (one fsync shared with the commands of the moment): durable
    /// when this returns. A document of this kind stored meanwhile for the same owner wins
    /// (the unique (application, kind) and (registry, kind) indexes), and this one is
    /// dropped without an audit record: false then.
    pub async fn store_document(
        &self,
        actor: &Actor,
        doc: NewDocument,
    ) -> Result<bool, EngineError> {
        let subject = match (&doc.application, &doc.registry) {
            (Some(a), _) => format!("application:{a}"),
            (None, Some(r)) => format!("registry:{r}"),
            _ => format!("document:{}", doc.id),
        };
        let detail = json!({ "document": doc.id, "kind": doc.kind, "number": doc.number, "sha256": doc.sha256 });
        let insert = Statement::new(
            "INSERT INTO documents (id, application_id, registry_id, kind, number, doc_date, issuer_json, sha256, pdf, p7s, issued_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL) ON CONFLICT DO NOTHING",
            vec![
                Value::uuid(doc.id),
                Value::uuid_opt(doc.application),
                Value::uuid_opt(doc.registry),
                doc.kind.into(),
                doc.number.into(),
                Value::date_text(doc.date),
                Value::json(doc.issuer_json),
                doc.sha256.into(),
                doc.pdf.into(),
                doc.p7s.into(),
                Value::from(doc.issued_at),
            ],
        );
        self.record_made(insert, actor, "document_issued", &subject, detail)
            .await
    }

    /// Marks a document revoked at `at` with `reason`, with its audit record
    /// (`document_revoked`), in one transaction; false (and nothing written) when it was
    /// revoked already.
    pub async fn revoke_document(
        &self,
        actor: &Actor,
        d: &Stored,
        reason: &str,
        at: Timestamp,
    ) -> Result<bool, EngineError> {
        let mut tx = self.db.begin().await?;
        let done = drn_store::query(
            "UPDATE documents SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(reason.to_string())
        .bind(Value::uuid(d.id.clone()))
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        crate::audit::append(
            &mut tx,
            at,
            &actor.id,
            "document_revoked",
            &d.subject(),
            &json!({ "document": d.id, "kind": d.kind, "number": d.number, "reason": reason }),
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(true)
    }

    /// The units that issued a stored document: the application's accepting and holding
    /// units, or the registry's sender (twice).
    pub async fn issuing_units(&self, d: &Stored) -> Result<Vec<String>, EngineError> {
        let (sql, id) = match (&d.application, &d.registry) {
            (Some(a), _) => (
                "SELECT accepted_unit, holder_unit FROM applications WHERE id = $1",
                a,
            ),
            (None, Some(r)) => (
                "SELECT from_unit, from_unit FROM registries WHERE id = $1",
                r,
            ),
            _ => return Ok(Vec::new()),
        };
        let r = self
            .first_doc_row(sql, vec![Value::uuid(id.clone())])
            .await?;
        Ok(match r {
            Some(r) => vec![r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?],
            None => Vec::new(),
        })
    }

    // ------------------------------------------------------------ what a document shows

    /// A person's name as printed (not an audited read: the document is the command's
    /// effect, and the command itself is audited); dashes for an unknown person.
    pub async fn person_line(&self, iin: &str) -> Result<PersonLine, EngineError> {
        let r = self
            .first_doc_row(
                "SELECT surname, given_name, patronymic, birth_date, data_json FROM persons WHERE iin = $1",
                vec![Value::from(iin.to_string())],
            )
            .await?;
        let Some(r) = r else {
            return Ok(PersonLine {
                name: "—".into(),
                birth: "—".into(),
                address: None,
            });
        };
        let name = crate::model::printed_name(
            &[
                r.try_get::<String, _>(0)?,
                r.try_get::<String, _>(1)?,
                r.try_get::<Option<String>, _>(2)?.unwrap_or_default(),
            ]
            .join(" "),
        );
        let birth: String = r.try_get(3)?;
        let birth = birth
            .parse::<jiff::civil::Date>()
            .map(|d| d.strftime("%d.%m.%Y").to_string())
            .unwrap_or(birth);
        let data: serde_json::Value =
            serde_json::from_str(&r.try_get::<String, _>(4)?).unwrap_or_default();
        let address = data
            .pointer("/registration/address")
            .and_then(|v| v.as_str())
            .map(String::from);
        Ok(PersonLine {
            name,
            birth,
            address,
        })
    }

    /// The number of the latest document recorded as issued for an application.
    pub async fn issued_document_number(
        &self,
        id: &ApplicationId,
    ) -> Result<Option<String>, EngineError> {
        Ok(self
            .first_doc_row(
                "SELECT number FROM issued_documents WHERE application_id = $1 ORDER BY issued_at DESC LIMIT 1",
                vec![Value::from(id)],
            )
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?)
    }

    /// The `issued` event of an application: its time and the service's result details.
    pub async fn issued_event(
        &self,
        id: &ApplicationId,
    ) -> Result<(Option<Timestamp>, serde_json::Value), EngineError> {
        let r = self
            .first_doc_row(
                "SELECT at, data_json FROM events WHERE application_id = $1 AND kind = 'issued' ORDER BY seq DESC LIMIT 1",
                vec![Value::from(id)],
            )
            .await?;
        let Some(r) = r else {
            return Ok((None, json!(null)));
        };
        let at = ts(r.try_get::<i64, _>(0)?)?;
        let data: serde_json::Value =
            serde_json::from_str(&r.try_get::<String, _>(1)?).map_err(corrupt)?;
        Ok((Some(at), data["result"].clone()))
    }

    /// The event that ended an application after intake (a motivated refusal, an
    /// annulment, S9's error message), the latest: its kind, time, unit and data.
    pub async fn ending_event(
        &self,
        id: &ApplicationId,
    ) -> Result<Option<(EventKind, Timestamp, Option<String>, serde_json::Value)>, EngineError>
    {
        let r = self
            .first_doc_row(
                "SELECT kind, at, unit_id, data_json FROM events WHERE application_id = $1 AND kind IN ('refused', 'annulled', 'error_message') ORDER BY seq DESC LIMIT 1",
                vec![Value::from(id)],
            )
            .await?;
        r.map(|r| {
            Ok((
                EventKind::parse(&r.try_get::<String, _>(0)?)?,
                ts(r.try_get::<i64, _>(1)?)?,
                r.try_get::<Option<String>, _>(2)?,
                serde_json::from_str(&r.try_get::<String, _>(3)?).map_err(corrupt)?,
            ))
        })
        .transpose()
    }

    /// The application's latest entry in a service journal: its number, time and data.
    pub async fn journal_entry_of(
        &self,
        id: &ApplicationId,
        journal: &str,
    ) -> Result<Option<(String, Timestamp, serde_json::Value)>, EngineError> {
        let r = self
            .first_doc_row(
                "SELECT number, at, data_json FROM journal_entries WHERE application_id = $1 AND journal = $2 ORDER BY at DESC LIMIT 1",
                vec![
                    Value::from(id),
                    Value::from(journal.to_string()),
                ],
            )
            .await?;
        r.map(|r| {
            Ok((
                r.try_get::<String, _>(0)?,
                ts(r.try_get::<i64, _>(1)?)?,
                serde_json::from_str(&r.try_get::<String, _>(2)?).map_err(corrupt)?,
            ))
        })
        .transpose()
    }

    async fn registration_where(
        &self,
        sql: &str,
        args: Vec<Value>,
    ) -> Result<Option<RegRow>, EngineError> {
        let r = self.first_doc_row(sql, args).await?;
        r.map(|r| {
            Ok((
                r.try_get::<String, _>(0)?,
                r.try_get::<Option<String>, _>(1)?,
                ts(r.try_get::<i64, _>(2)?)?,
                r.try_get::<Option<i64>, _>(3)?.map(ts).transpose()?,
            ))
        })
        .transpose()
    }

    /// The person's open registration, the latest.
    pub async fn open_registration(&self, iin: &str) -> Result<Option<RegRow>, EngineError> {
        self.registration_where(
            "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE person_iin = $1 AND ended_at IS NULL ORDER BY valid_from DESC LIMIT 1",
            vec![Value::from(iin.to_string())],
        )
        .await
    }

    /// The registration an application made, the latest.
    pub async fn registration_made_by(
        &self,
        id: &ApplicationId,
    ) -> Result<Option<RegRow>, EngineError> {
        self.registration_where(
            "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE application_id = $1 ORDER BY valid_from DESC LIMIT 1",
            vec![Value::from(id)],
        )
        .await
    }

    /// The person's registration that the application numbered `number` ended, the latest.
    pub async fn registration_ended_by(
        &self,
        iin: &str,
        number: &str,
    ) -> Result<Option<RegRow>, EngineError> {
        self.registration_where(
            "SELECT kind, rka, valid_from, valid_to FROM registrations WHERE person_iin = $1 AND ended_by = $2 ORDER BY valid_from DESC LIMIT 1",
            vec![
                Value::from(iin.to_string()),
                Value::from(format!("application:{number}")),
            ],
        )
        .await
    }

    /// The full text of an address of the register.
    pub async fn address_text(&self, rka: &str) -> Result<Option<String>, EngineError> {
        Ok(self
            .first_doc_row(
                "SELECT full_text FROM ar_addresses WHERE rka = $1",
                vec![Value::from(rka.to_string())],
            )
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?)
    }
}
