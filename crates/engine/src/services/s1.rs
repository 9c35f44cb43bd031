//! S1: passports and ID cards (паспорта и удостоверения личности), 2014 and 2018. The
//! generic engine does all of it from the catalog: the counter's intake, the registries
//! up to the production centre and back, the issue at the counter. Its own: the portal's
//! request runs the applicant's steps at once, and the issued document goes into the
//! person's record ([`person_documents`](super::person_documents)).

use drn_core::catalog::StepCheck;
use drn_core::Channel;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::intake::IntakeData;
use super::person_documents::{ID_CARD, ISSUER, PASSPORT};
use super::{AfterAccept, Intake, ServiceRules};
use crate::error::EngineError;
use crate::model::*;
use crate::tx::Ctx;
use crate::Engine;

/// The service code.
pub const SERVICE: &str = "S1";

/// Years a passport or an ID card is valid from its issue. The seeds do not say; the
/// public rule (`../shared/domain/facts.md`, "Later rules": "ID cards are issued from age
/// 16, valid 10 years; passports 10 years") is taken for 2014 and 2018 too (an
/// assumption, issue 28 item 3).
pub const VALID_YEARS: i16 = 10;

/// Which document the application is for. The result of both versions is «Выдача паспорта
/// и (или) удостоверения личности гражданина Республики Казахстан» (2014 and 2018
/// regulations, para 4; the catalog's `result`): the intake names which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum S1Document {
    /// When the intake does not say: the ID card, the document every adult citizen carries
    /// (an assumption, issue 28 item 3).
    #[default]
    IdCard,
    Passport,
}

impl S1Document {
    fn kind(self) -> &'static str {
        match self {
            S1Document::IdCard => ID_CARD,
            S1Document::Passport => PASSPORT,
        }
    }
}

/// The intake data of S1.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S1Intake {
    /// `id_card` (the default) or `passport`.
    #[serde(default)]
    pub document: Option<S1Document>,
}

impl IntakeData for S1Intake {}

/// The rules of S1.
pub(crate) struct Passports;

/// The record of a passport or ID card issued today under `number` (the number the engine
/// gives on issue: production's, when it manufactured one).
pub(crate) fn issued_document(
    e: &Engine,
    kind: &str,
    number: &str,
    now: Timestamp,
) -> Result<serde_json::Value, EngineError> {
    let issued = now.to_zoned(e.tz.clone()).date();
    let expires = issued
        .checked_add(jiff::Span::new().years(VALID_YEARS))
        .map_err(|err| EngineError::Corrupt(format!("the expiry of {number}: {err}")))?;
    Ok(json!({
        "kind": kind,
        "number": number,
        "issued": issued.to_string(),
        "expires": expires.to_string(),
        "issuer": ISSUER,
    }))
}

impl ServiceRules for Passports {
    const CHECKS: &'static [StepCheck] = &[StepCheck::WantedPersons];

    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        S1Intake::parse(data).map(|_| ())
    }

    /// Through the portal the applicant's own steps (sign in, fill in, sign with EDS:
    /// annex 3 table 1 rows 1, 3, 5) are done by the submission; the request then joins
    /// the counter process's chain (the catalog's `joins`).
    fn after_accept(&self, channel: Channel) -> AfterAccept {
        match channel {
            Channel::Portal | Channel::Mobile => AfterAccept::RunApplicantSteps,
            Channel::Counter | Channel::Unit => AfterAccept::Wait,
        }
    }

    /// The centre's check of the applicant against the database of wanted persons: seed
    /// 002 annex 1 table 1 row 6 «Проверка услугополучателя по базе данных лиц, находящихся
    /// в розыске» (2014), seed 000 annex 1 table 1 row 5 «проверка услугополучателей по базе
    /// данных на лиц, находящихся в розыске» (2018). ASSUMPTION: the demo has no separate
    /// wanted-persons database; the special records the centre keeps stand for it, and a
    /// record on the applicant's IIN is a hit.
    async fn check(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        app: &Application,
        check: StepCheck,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        match check {
            StepCheck::WantedPersons => e.special_records_of(c, &[app.applicant.as_str()]).await,
            StepCheck::AddressData | StepCheck::SpecialRecords => {
                Err(EngineError::Corrupt(format!("S1 runs no check {check:?}")))
            }
        }
    }

    /// ASSUMPTION (the seeds are silent): the result is "the passport and (or) the
    /// identity card" (seed 002, the regulation's para 4) and the intake does not say which, so a
    /// citizen may have a passport's and an ID card's application open at once. Were the
    /// intake to name the document, the rule would be one open application per document.
    fn one_open_per_applicant(&self) -> bool {
        false
    }

    /// The new passport or ID card goes into the person's record; the one it replaces is
    /// ended with the application's number.
    async fn issued(
        &self,
        e: &Engine,
        c: &mut Ctx<'_>,
        _actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let kind = S1Intake::of(app)?.document.unwrap_or_default().kind();
        let doc = issued_document(e, kind, document, now)?;
        e.record_document(c, app, doc, now).await
    }
}
