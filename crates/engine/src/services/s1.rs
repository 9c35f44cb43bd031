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

/// Why the citizen asks for the document. Only one reason matters to a rule: seed 002
/// (2014) para 6 opens the portal only for the replacement of the identity document
/// because its type changed with the new technology of making documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum S1Reason {
    /// «ауыстыру кезінде … құжат дайындаудың жаңа технологиясына сәйкес олардың түрлерінің
    /// өзгеруіне байланысты»: replacement because the document's type changed.
    DocumentTypeChange,
    /// Any other reason (expiry, loss, damage, a change of data, the first document).
    Other,
}

/// The intake data of S1.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S1Intake {
    /// `id_card` (the default) or `passport`.
    #[serde(default)]
    pub document: Option<S1Document>,
    /// Why the document is asked for (required on the 2014 portal).
    #[serde(default)]
    pub reason: Option<S1Reason>,
}

super::outcomes::outcomes! {
    /// The refusals S1's own rules produce (issue 30 item 6).
    pub enum Exit in SERVICE {
        /// Seed 002 para 6: the 2014 portal takes only a replacement because the
        /// document's type changed.
        PortalNotTypeChange => Refusal "portal_only_type_change" at [1] versions ["2014"] process "portal",
    }
}

/// Seed 002 (order 165, 2014) para 6: «көрсетілетін қызметті алушы www.egov.kz «электрондық
/// үкімет» веб-порталы … арқылы жеке басын куәландыратын құжатты, құжат дайындаудың жаңа
/// технологиясына сәйкес олардың түрлерінің өзгеруіне байланысты ауыстыру кезінде жүзеге
/// асырылады»: through the portal only the replacement because the document's type changed.
/// The 2018 text (order 55) does not restate it.
pub const PORTAL_ONLY_TYPE_CHANGE_VERSION: &str = "2014";

/// The refusal of a 2014 portal request for another reason.
pub fn portal_only_type_change() -> drn_core::Text {
    drn_core::Text::new(
        "Портал арқылы жеке басын куәландыратын құжат тек құжат дайындаудың жаңа технологиясына сәйкес оның түрінің өзгеруіне байланысты ауыстырылады (2014 жылғы № 165 бұйрық, 6-тармақ). Басқа себеп бойынша ХҚКО-ға жүгініңіз.",
        "Через портал документ, удостоверяющий личность, заменяется только в связи с изменением его вида в соответствии с новой технологией изготовления документов (приказ № 165 от 2014 г., п. 6). По другой причине обратитесь в ЦОН.",
        "Through the portal an identity document is replaced only because its type changed with the new technology of making documents (order No 165 of 2014, para 6). For any other reason apply at a ЦОН counter.",
    )
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

    /// Seed 000, annex 1 table 1 row 1: the counter's officer registers the request, fills
    /// in the electronic formulary, takes the photo and certifies it with their ЭЦП
    /// («заверение ЭЦП»).
    fn officer_certifies_formulary(&self) -> bool {
        true
    }

    /// The simulation's requests are replacements because the document's type changed, the
    /// one reason every channel of every version takes (seed 002 para 6 limits the 2014
    /// portal to it).
    fn sample_intake(&self) -> super::SampleIntake {
        super::SampleIntake {
            data: serde_json::json!({ "reason": "document_type_change" }),
            ends_registration: false,
        }
    }

    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        let input = S1Intake::parse(data)?;
        let portal = matches!(at.process.channel, Channel::Portal | Channel::Mobile);
        if portal
            && at.version.id == PORTAL_ONLY_TYPE_CHANGE_VERSION
            && input.reason != Some(S1Reason::DocumentTypeChange)
        {
            return Err(EngineError::refused(
                Exit::PortalNotTypeChange.branch_id(),
                portal_only_type_change(),
            ));
        }
        Ok(())
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
