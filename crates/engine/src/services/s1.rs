//! S1: passports and ID cards (паспорта и удостоверения личности), 2014 and 2018. The
//! generic engine does all of it from the catalog: the counter's intake, the registries
//! up to the production centre and back, the issue at the counter. Nothing of its own yet.

use super::ServiceRules;

/// The service code.
pub const SERVICE: &str = "S1";

/// The rules of S1.
pub(crate) struct Passports;

impl ServiceRules for Passports {
    /// ASSUMPTION (the seeds are silent): the result is "the passport and (or) the
    /// identity card" (seed 002, the regulation's para 4) and the intake does not say which, so a
    /// citizen may have a passport's and an ID card's application open at once. Were the
    /// intake to name the document, the rule would be one open application per document.
    fn one_open_per_applicant(&self) -> bool {
        false
    }
}
