//! S1: passports and ID cards (паспорта и удостоверения личности), 2014 and 2018. The
//! generic engine does all of it from the catalog: the counter's intake, the registries
//! up to the production centre and back, the issue at the counter. Nothing of its own yet.

use super::ServiceRules;

/// The service code.
pub const SERVICE: &str = "S1";

/// The rules of S1.
pub(crate) struct Passports;

impl ServiceRules for Passports {}
