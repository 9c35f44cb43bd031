//! Result documents and receipts in the running system: what the engine's commands
//! produce (the e-registration talon on acceptance, the receipt of refusal at intake, the
//! service's result on issue, paper or electronic, the registries when signed or sent) rendered by `drn_docs`,
//! signed with the PKI of the data directory, stored byte for byte in `documents`, served
//! to those who may see the application, and verified publicly at /verify/{id}.
//!
//! - [`making`]: making, signing and storing a command's documents after it, and healing
//!   the ones a crash lost;
//! - [`handlers`]: the API's listing, download and revocation;
//! - [`verify`]: the public verification page, its API and the upload of a copy.
//!
//! What a service's result shows is the engine's ([`drn_engine::services`], each service's `result_fields`), and
//! so is what is stored ([`drn_engine::documents`]).

use drn_core::Lang;
use drn_engine::{EngineError, Role};

pub mod handlers;
pub mod making;
pub mod revocation;
pub mod signing;
pub mod verify;

pub use drn_engine::documents::Stored;
pub use making::{
    after_command, documents_pending, ensure_for_application, ensure_for_registry, links,
    registry_links,
};

/// Who may ask for documents at all (the engine's visibility rules decide which).
const SIGNED_IN: &[Role] = &[
    Role::CounterOperator,
    Role::DistrictOfficer,
    Role::RegionalOfficer,
    Role::CentralOfficer,
    Role::ProductionOperator,
    Role::Supervisor,
    Role::Auditor,
    Role::Administrator,
    Role::Citizen,
];

/// The largest PDF accepted for comparison at POST /verify/{id}: a registry of many
/// applications exceeds the server-wide body limit ([`crate::BODY_LIMIT`]), so this route
/// has its own.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

fn corrupt(e: impl std::fmt::Display) -> EngineError {
    EngineError::Corrupt(e.to_string())
}

/// Words of the documents' pages, in the visitor's language.
pub fn w(lang: Lang, kk: &'static str, ru: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Kk => kk,
        Lang::Ru => ru,
        Lang::En => en,
    }
}

/// A document as linked from a page.
pub struct DocLink {
    pub title: String,
    pub number: String,
    pub date: String,
    pub pdf: String,
    pub verify: String,
    pub verify_label: &'static str,
    pub revoked: bool,
}

impl DocLink {
    pub fn of(d: &Stored, lang: Lang) -> DocLink {
        DocLink {
            title: d.title().get(lang).to_string(),
            number: d.number.clone(),
            date: d.date.clone(),
            pdf: format!("/api/v1/documents/{}.pdf", d.id),
            verify: format!("/verify/{}", d.id),
            verify_label: w(
                lang,
                "Түпнұсқалығын тексеру",
                "Проверить подлинность",
                "Verify",
            ),
            revoked: d.revoked_at.is_some(),
        }
    }
}
