//! What a registry's document shows (реестр, ілеспе хат): who sends it to whom, its
//! applications, the copies the seed requires, the numbers of the documents production
//! made, and for the cover letter the summary registries it sends on. The server renders
//! and signs it (`crates/server/src/documents/making.rs`).

use drn_core::Text;
use drn_docs::{Column, DocumentKind, Field, Table};
use drn_store::{Statement, Value};
use jiff::Timestamp;

use crate::error::EngineError;
use crate::model::Registry;
use crate::services::print::{both, dmy_hm, f, registry_kind, urgency_text};
use crate::Engine;

/// A registry's document: its kind, issuer and day, fields, table and note.
#[derive(Debug, Clone)]
pub struct RegistryPrint {
    pub kind: DocumentKind,
    /// The sending unit.
    pub issuer: Text,
    /// When it was signed (formed, if not yet).
    pub when: Timestamp,
    pub fields: Vec<Field>,
    pub table: Table,
    pub note: Option<Text>,
}

/// One application's line in a registry.
struct Line {
    number: String,
    iin: String,
    urgency: String,
    document: Option<String>,
}

fn col(kk: &str, ru: &str, en: &str, width: f32) -> Column {
    Column {
        title: Text::new(kk, ru, en),
        width,
    }
}

impl Engine {
    /// The document of a registry whose kind has one (every registry kind, and the cover
    /// letter); `None` for the incoming book's entry.
    pub async fn registry_print(
        &self,
        reg: &Registry,
    ) -> Result<Option<RegistryPrint>, EngineError> {
        let Some(kind) = registry_kind(&reg.kind) else {
            return Ok(None);
        };
        let from = self.unit_name(reg.from_unit.as_str()).await?;
        let to = self.unit_name(reg.to_unit.as_str()).await?;
        let service = self.service_name(&reg.service);
        let tz = &self.tz;
        let lines = self.registry_lines(reg).await?;
        let manufactured = kind == DocumentKind::ManufacturedRegistry;
        let mut rows = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let person = self.person_line(&line.iin).await?;
            let mut row = vec![
                (i + 1).to_string(),
                line.number.clone(),
                line.iin.clone(),
                person.name,
                urgency_text(&line.urgency),
            ];
            if manufactured {
                row.push(line.document.clone().unwrap_or_else(|| "—".into()));
            }
            rows.push(row);
        }
        let mut columns = vec![
            col("№", "№", "No", 0.6),
            col("Өтініш", "Заявление", "Application", 2.8),
            col("ЖСН", "ИИН", "IIN", 2.0),
            col("Тегі, аты", "Фамилия, имя", "Name", 3.4),
            col("Жеделдік", "Срочность", "Urgency", 1.6),
        ];
        if manufactured {
            columns.push(col("Құжат нөмірі", "Номер документа", "Document No", 2.4));
        }
        let when = reg.signed_at.unwrap_or(reg.formed_at);
        let mut fields = vec![
            f("Жіберуші", "Отправитель", "From", both(&from)),
            f("Алушы", "Получатель", "To", both(&to)),
            f(
                "Мемлекеттік қызмет",
                "Государственная услуга",
                "Service",
                format!("{} · {}", reg.service, both(&service)),
            ),
            f(
                "Өтініштер саны",
                "Количество заявлений",
                "Applications",
                rows.len().to_string(),
            ),
        ];
        let mut note = None;
        if kind == DocumentKind::CoverLetter {
            // Seed 000 annex 1 table 1 row 5: the centre sends the summary registries it
            // received, with the district registries and the formularies, to production.
            let sent_on = self.registries_received_for(reg).await?;
            fields.push(f(
                "Жолданатын жиынтық тізілімдер",
                "Направляемые сводные реестры",
                "Summary registries sent",
                if sent_on.is_empty() {
                    "—".to_string()
                } else {
                    sent_on.join("; ")
                },
            ));
            note = Some(Text::new(
                "Тізімдегі өтініштер бойынша құжаттарды дайындау үшін жиынтық тізілімдер аудандық тізілімдермен және формулярлармен бірге жолданады.",
                "Для изготовления документов по перечисленным заявлениям направляются сводные реестры вместе с районными реестрами и формулярами.",
                "The summary registries are sent with the district registries and the formularies for the documents of the listed applications to be manufactured.",
            ));
        }
        if let Some(n) = self.registry_copies(reg) {
            fields.push(f(
                "Даналар саны",
                "Количество экземпляров",
                "Copies",
                n.to_string(),
            ));
            note = Some(Text::new(
                format!("Тізілім {n} данада жасалды."),
                format!("Реестр сформирован в {n} экземплярах."),
                format!("The registry is made in {n} copies."),
            ));
        }
        fields.push(f(
            "Қол қойылды",
            "Подписан",
            "Signed",
            format!(
                "{} {}",
                reg.signed_by.clone().unwrap_or_default(),
                dmy_hm(tz, when)
            ),
        ));
        Ok(Some(RegistryPrint {
            kind,
            issuer: from,
            when,
            fields,
            table: Table { columns, rows },
            note,
        }))
    }

    /// The copies of the registry the catalog's step requires (`copies`), if it says.
    fn registry_copies(&self, reg: &Registry) -> Option<u32> {
        let (_, p) = self.locate(&reg.service, &reg.version, &reg.process).ok()?;
        p.step(reg.step)?.copies
    }

    /// A registry's applications in its order, each with the number of the document
    /// production made for it (the registry of manufactured documents).
    async fn registry_lines(&self, reg: &Registry) -> Result<Vec<Line>, EngineError> {
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT a.number, a.applicant_iin, a.urgency, i.document_number FROM registry_items i JOIN applications a ON a.id = i.application_id WHERE i.registry_id = $1 ORDER BY i.application_id",
                vec![Value::from(&reg.id)],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Line {
                    number: r.try_get(0)?,
                    iin: r.try_get(1)?,
                    urgency: r.try_get(2)?,
                    document: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// The registries by which the applications of `reg` came to its sending unit, each
    /// as `number (incoming number)`.
    async fn registries_received_for(&self, reg: &Registry) -> Result<Vec<String>, EngineError> {
        let rows = self
            .db
            .rows(Statement::new(
                "SELECT DISTINCT r.number, r.incoming_number FROM registry_items i JOIN registry_items j ON j.application_id = i.application_id JOIN registries r ON r.id = j.registry_id WHERE i.registry_id = $1 AND r.id <> $1 AND r.to_unit = $2 AND r.status = 'received' ORDER BY r.number",
                vec![
                    Value::from(&reg.id),
                    Value::from(reg.from_unit.as_str()),
                ],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let number: String = r.try_get(0)?;
                let incoming: Option<String> = r.try_get(1)?;
                Ok(match incoming {
                    Some(n) => format!("№ {number} (вх. / кіріс № {n})"),
                    None => format!("№ {number}"),
                })
            })
            .collect()
    }
}
