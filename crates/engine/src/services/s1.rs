//! S1: passports and ID cards (паспорта и удостоверения личности), 2014 and 2018. The
//! generic engine does all of it from the catalog: the counter's intake, the registries
//! up to the production centre and back, the issue at the counter. Its own: the portal's
//! request runs the applicant's steps at once.

use drn_core::Channel;

use super::{AfterAccept, ServiceRules};

/// The service code.
pub const SERVICE: &str = "S1";

/// The rules of S1.
pub(crate) struct Passports;

impl ServiceRules for Passports {
    /// Through the portal the applicant's own steps (sign in, fill in, sign with EDS:
    /// annex 3 table 1 rows 1, 3, 5) are done by the submission; the request then joins
    /// the counter process's chain (the catalog's `joins`).
    fn after_accept(&self, channel: Channel) -> AfterAccept {
        match channel {
            Channel::Portal | Channel::Mobile => AfterAccept::RunApplicantSteps,
            Channel::Counter | Channel::Unit => AfterAccept::Wait,
        }
    }

    /// ASSUMPTION (the seeds are silent): the result is "the passport and (or) the
    /// identity card" (seed 002, the regulation's para 4) and the intake does not say which, so a
    /// citizen may have a passport's and an ID card's application open at once. Were the
    /// intake to name the document, the rule would be one open application per document.
    fn one_open_per_applicant(&self) -> bool {
        false
    }
}
