//! The 2025 pilot: online renewal of an ID card on expiry (service S1E, seed 001
//! `001_052b1371f3c073b6.txt`, п. 3 steps 1-19 and п. 4-12), run through the ports of
//! `drn_registries` and the engine's normal commands.
//!
//! A **renewal** is the citizen's online session. Steps 1-12 are checks made before DRN
//! knows of an application; when they pass, step 13 registers the application in DRN
//! (an [`Accept`](crate::model::Accept) through [`Engine::execute`], so the application,
//! its talon number, its timeline and its audit exist), and steps 2-16 are then completed
//! on the application with what each check found (the timeline holds every step, 1-19).
//!
//! | step | what runs | failure |
//! |------|-----------|---------|
//! | - | the pilot is in force (the catalog's S1E version on today) | "the service is not available online" |
//! | - | the reason is expiry of the ID card (п. 7) | "оформление не доступно, обратитесь в ЦОН" |
//! | 1 | [`ConsentService`](drn_registries::ConsentService) | to the counter |
//! | 2 | ГБД ФЛ record; БМГ: the phone is the person's | to the counter |
//! | 3 | Digital-ID identification (the selfie, or the photo when none) | to the counter |
//! | 4 | legal capacity is full | to the counter |
//! | 5 | no change of surname, name, patronymic, birth date, nationality in ИС ЗАГС (any, the seed sets no period); place of birth from ИС ЗАГС or else the place DRN's record of the person holds (п. 5 4)) | to the counter |
//! | 6 | permanent registration | to the counter |
//! | 7 | the ID card expires in ≤ 30 calendar days or expired ≤ 10 days ago; no earlier renewal for this card annulled for further checks | "оформление не доступно, обратитесь в ЦОН" |
//! | 8 | the application's fields (phone, registration point) | to the counter |
//! | 9 | photo and signature sample attached; the signature sample usable ([`photo::check_signature`]) | to the counter |
//! | 10 | the photo meets the document-photo requirements ([`photo::check_photo`]) | to the counter |
//! | 11 | Digital-ID: the photo matches ГБД ФЛ's | to the counter |
//! | 12 | the request's CMS signature verifies against the citizen CA, and its certificate's IIN is the applicant's | to the counter |
//! | 13 | registration in DRN: the application and its talon | refused (step 13's branch) |
//! | 14 | АИС СИК: a social status that exempts from the duty | - |
//! | 15 | the duty, the Tax Code's rate times the year's МРП from the catalog's duty data ([`drn_core::duty`], `catalog/duty/kz.toml`), invoiced and paid through [`Payments`](drn_registries::Payments) unless exempt | - |
//! | 16 | the portal receives the result of the registration | - |
//! | 17 | review by the regional directorate of the chosen registration point: approve ([`Engine::renewal_review`]) or annul (for a poor photo or signature the paid duty is refunded and the person may apply and pay again; for further checks neither, п. 11) | annulled |
//! | 18 | production ([`Command::CompleteStep`](crate::Command) by production) | - |
//! | 19 | issue at the chosen registration point by the territorial migration unit's officer (the district above it, п. 4 3) and п. 11) to the applicant in person (the engine's `Issue` refuses a representative for S1E) | - |
//!
//! Every failed check ends the session with the seed's outcome and charges nothing (the
//! duty is invoiced at step 15, after every check).
//!
//! **Technical failures** (п. 12): a port call that fails technically (unavailable, timed
//! out, circuit open) records a failure on that port's circuit breaker, kept here on the
//! engine's clock ([`bridge_clock`]); the session waits at the step and may be retried
//! ([`Engine::renewal_retry`]). When the breaker has been open for more than 10 minutes
//! ([`drn_registries::failure_sends_to_counter`]) the session is sent to the counter. The
//! rule applies only to the systems п. 12 names (БМГ and biometric identification, besides
//! the portal and the applications themselves: [`outage_rule_applies`]); a failure of any
//! other system keeps the session waiting to be retried, and a retry after step 13 goes on
//! with the application step 13 registered (never a second one).

pub mod photo;

use std::sync::Arc;

use base64::Engine as _;
use drn_core::{Channel, Iin, Text, Urgency};
use drn_registries::{
    failure_sends_to_counter, BreakerConfig, CircuitBreaker, ConsentRequest, GbdPerson,
    InvoiceRequest, InvoiceStatus, LegalCapacity, PlaceOfBirth, PlaceSource, Port, Registries,
    RegistryError, Sandbox, SandboxPerson,
};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::EngineError;
use crate::model::Accept;
use crate::model::*;
use crate::Refusal;
use crate::{rows, Command, Engine, Outcome};

/// The service code of the pilot.
pub const SERVICE: &str = "S1E";
/// п. 7: the window of the ID card's expiry, in calendar days from today.
pub const WINDOW_AHEAD_DAYS: i64 = 30;
pub const WINDOW_EXPIRED_DAYS: i64 = 10;

/// The step of the regional directorate's review (п. 3, step 17).
pub const REVIEW_STEP: u32 = 17;

/// Whether the application is an online renewal at the regional directorate's
/// review.
pub fn awaits_review(a: &Application) -> bool {
    a.service == SERVICE && a.step == REVIEW_STEP
}

/// The intake data of S1E: what the online session registers its application with (step
/// 13), for the record; the session keeps its own, so no step reads these.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "checked at intake and stored; no step reads them")]
pub(crate) struct S1eIntake {
    /// The online renewal's id.
    #[serde(default)]
    pub online_renewal: Option<String>,
    /// The citizen's phone for the SMS.
    #[serde(default)]
    pub phone: Option<String>,
    /// The place of birth the state systems gave.
    #[serde(default)]
    pub place_of_birth: Option<PlaceOfBirth>,
}

impl super::intake::IntakeData for S1eIntake {}

/// The rules of S1E as the generic engine sees them; the online session itself is
/// [`Engine::renewal_submit`] and the rest of this module.
pub(crate) struct OnlineRenewal;

impl super::ServiceRules for OnlineRenewal {
    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut crate::tx::Ctx<'_>,
        _at: &super::Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        use super::intake::IntakeData;
        S1eIntake::parse(data).map(|_| ())
    }

    /// The session runs steps 1 to 16 itself, each with what its check found.
    fn drives_its_own_steps(&self) -> bool {
        true
    }

    /// Seed 001, para 3 subpara 19: issued in person only, never to a proxy.
    fn representative_may_receive(&self) -> bool {
        false
    }

    /// The new ID card goes into the person's record and ends the one it renews (issue 28
    /// item 3); ГБД ФЛ learns of it when the issue is committed ([`Engine::after_issue`]),
    /// so a second renewal meets п. 7's window with the new card.
    async fn issued(
        &self,
        e: &Engine,
        c: &mut crate::tx::Ctx<'_>,
        _actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        let doc = super::s1::issued_document(e, super::person_documents::ID_CARD, document, now)?;
        e.record_document(c, app, doc, now).await
    }

    /// The pilot's period extended by an administrator (issue 6).
    async fn version_beyond_catalog<'s>(
        &self,
        c: &mut crate::tx::Ctx<'_>,
        svc: &'s drn_core::Service,
        today: Date,
    ) -> Result<Option<&'s drn_core::Version>, EngineError> {
        extended_version(c, svc, today).await
    }
}

/// п. 7's message, verbatim in Russian.
pub fn not_available_here() -> Text {
    Text::new(
        "ресімдеу қолжетімді емес, ХҚКО-ға жүгініңіз",
        "оформление не доступно, обратитесь в ЦОН",
        "processing is not available online, please apply at a ЦОН (public service centre)",
    )
}

/// Outside the pilot's period.
pub fn not_online() -> Text {
    Text::new(
        "Қызмет онлайн форматта қолжетімді емес.",
        "Услуга не доступна в онлайн формате.",
        "The service is not available online.",
    )
}

fn to_counter(detail_kk: &str, detail_ru: &str, detail_en: &str) -> Text {
    Text::new(
        format!("{detail_kk} Өтінішті ХҚКО арқылы беріңіз."),
        format!("{detail_ru} Подайте заявление через ЦОН."),
        format!("{detail_en} Please apply at a ЦОН counter."),
    )
}

// ---------------------------------------------------------------------------------------
// Clock bridge and the wiring

/// The engine's clock as the ports' clock, so the breakers, the sandbox's outages and the
/// application's steps run on one time.
pub fn bridge_clock(c: Arc<dyn crate::Clock>) -> Arc<dyn drn_registries::Clock> {
    Arc::new(Bridged(c))
}

struct Bridged(Arc<dyn crate::Clock>);

impl std::fmt::Debug for Bridged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bridged(engine clock)")
    }
}

impl drn_registries::Clock for Bridged {
    fn now(&self) -> Timestamp {
        self.0.now()
    }
}

/// The ports and the trust the pilot runs with.
pub struct Setup {
    pub registries: Registries,
    /// The sandbox behind the ports, when they are sandboxed (the demo's "pay" button).
    pub sandbox: Option<Sandbox>,
    /// The CA that issues citizens' signing certificates (DER or PEM).
    pub citizen_ca: Option<Vec<u8>>,
    breakers: Vec<CircuitBreaker>,
}

impl Setup {
    /// `clock`: the engine's clock through [`bridge_clock`].
    pub fn new(registries: Registries, clock: Arc<dyn drn_registries::Clock>) -> Setup {
        // One failed call starts the failure; every later call is a probe.
        let cfg = BreakerConfig {
            failure_threshold: 1,
            cool_down: std::time::Duration::ZERO,
        };
        Setup {
            registries,
            sandbox: None,
            citizen_ca: None,
            breakers: Port::ALL
                .iter()
                .map(|_| CircuitBreaker::new(cfg, clock.clone()))
                .collect(),
        }
    }

    /// Every port answered by `sandbox`.
    pub fn sandboxed(sandbox: Sandbox) -> Setup {
        let mut s = Setup::new(
            Registries::from_one(Arc::new(sandbox.clone())),
            sandbox.clock(),
        );
        s.sandbox = Some(sandbox);
        s
    }

    pub fn with_citizen_ca(mut self, ca: Vec<u8>) -> Setup {
        self.citizen_ca = Some(ca);
        self
    }

    /// The engine-side breaker of a port (failures as the pilot saw them).
    pub fn breaker(&self, port: Port) -> Option<&CircuitBreaker> {
        self.breakers.get(port as usize)
    }
}

/// The sandbox's record of a DRN person (`data.registration`, `data.documents`,
/// `data.phone`); what the demo lacks defaults to a person with no special story.
pub fn sandbox_person(p: &Person) -> SandboxPerson {
    let mut s = SandboxPerson::new(
        p.iin,
        &p.surname,
        &p.given_name,
        p.patronymic.as_deref(),
        p.birth_date,
        p.sex,
    );
    s.citizenship = p.citizenship.clone();
    s.phone = p.data["phone"].as_str().map(String::from);
    let reg = &p.data["registration"];
    if let (Some(region), Some(address)) = (reg["region"].as_str(), reg["address"].as_str()) {
        s.registration = Some(drn_registries::Registration {
            region: region.into(),
            district: reg["district"].as_str().unwrap_or_default().into(),
            address: address.into(),
            since: reg["since"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .unwrap_or(p.birth_date),
        });
    }
    if let Some(card) = super::person_documents::current(&p.data, super::person_documents::ID_CARD)
    {
        let date = |k: &str| card[k].as_str().and_then(|d| d.parse::<Date>().ok());
        if let (Some(issued), Some(expires)) = (date("issued"), date("expires")) {
            s.id_card = Some(drn_registries::IdCard {
                number: card["number"].as_str().unwrap_or_default().into(),
                issued,
                expires,
                issuer: card["issuer"].as_str().unwrap_or_default().into(),
            });
        }
    }
    if p.citizenship == "KZ" {
        s.place_of_birth = Some(drn_registries::sandbox::kazakhstan());
    }
    s
}

/// The columns [`person_of_row`] reads, in its order.
const PERSON_COLUMNS: &str =
    "iin, surname, given_name, patronymic, birth_date, sex, citizenship, data_json";

/// A DRN person from a row of [`PERSON_COLUMNS`]; `None` when its IIN does not parse.
fn person_of_row(r: &drn_store::DbRow) -> Result<Option<Person>, EngineError> {
    let iin: String = r.try_get(0)?;
    let Ok(iin) = Iin::parse(&iin) else {
        return Ok(None);
    };
    Ok(Some(Person {
        iin,
        surname: r.try_get(1)?,
        given_name: r.try_get(2)?,
        patronymic: r.try_get(3)?,
        birth_date: r
            .try_get::<String, _>(4)?
            .parse()
            .map_err(|e: jiff::Error| EngineError::Corrupt(e.to_string()))?,
        sex: drn_core::Sex::parse(&r.try_get::<String, _>(5)?)
            .map_err(|e| EngineError::Corrupt(e.to_string()))?,
        citizenship: r.try_get(6)?,
        data: rows::json(&r.try_get::<String, _>(7)?)?,
    }))
}

/// Every DRN person as a sandbox record.
pub async fn sandbox_persons(engine: &Engine) -> Result<Vec<SandboxPerson>, EngineError> {
    let rows = drn_store::query(format!("SELECT {PERSON_COLUMNS} FROM persons"))
        .fetch_all(engine.db.reader())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(p) = person_of_row(r)? {
            out.push(sandbox_person(&p));
        }
    }
    Ok(out)
}

impl Engine {
    /// After a result was issued and committed: the sandboxed ГБД ФЛ receives the
    /// person's ID card in force from DRN's record, as the real one receives the documents
    /// DRN issues (the ports have no such call: the real systems' exchange is theirs). Only
    /// the card changes; the sandbox's other data (a branch case's story) stay. Without a
    /// sandbox, nothing to do.
    pub(crate) async fn sync_sandbox_person(&self, iin: &str) -> Result<(), EngineError> {
        let Some(sandbox) = self.online_renewal().ok().and_then(|s| s.sandbox.clone()) else {
            return Ok(());
        };
        let row = drn_store::query(format!(
            "SELECT {PERSON_COLUMNS} FROM persons WHERE iin = $1"
        ))
        .bind(iin.to_string())
        .fetch_optional(self.db.reader())
        .await?;
        let Some(fresh) = row
            .as_ref()
            .map(person_of_row)
            .transpose()?
            .flatten()
            .map(|p| sandbox_person(&p))
        else {
            return Ok(());
        };
        match sandbox.person(fresh.iin) {
            Some(mut known) if fresh.id_card.is_some() && known.id_card != fresh.id_card => {
                known.id_card = fresh.id_card;
                sandbox.upsert(known);
            }
            Some(_) => {}
            None => sandbox.upsert(fresh),
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// The session

/// What the citizen sends (step 8's fields, step 9's attachments, step 12's signature).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalRequest {
    /// `portal` or `mobile`.
    pub channel: Channel,
    /// The reason for a new ID card; online only `expiry` (п. 7).
    #[serde(default = "expiry")]
    pub reason: String,
    /// The mobile phone registered in БМГ.
    pub phone: String,
    /// The registration point (a counter unit) where the card will be issued; its region's
    /// directorate reviews the application.
    pub unit: String,
    /// The photo, JPEG or PNG, base64.
    pub photo: String,
    /// The signature sample, JPEG or PNG, base64.
    pub signature_sample: String,
    /// A live selfie for Digital-ID, base64; the photo is used when absent.
    #[serde(default)]
    pub selfie: Option<String>,
    /// Detached CMS signature (DER, base64) over [`request_to_sign`].
    pub request_signature: String,
}

fn expiry() -> String {
    "expiry".into()
}

/// The bytes the citizen signs at step 12: the applicant, the registration point, the
/// phone and SHA-256 of the photo and of the signature sample.
pub fn request_to_sign(
    applicant: &Iin,
    unit: &str,
    phone: &str,
    photo: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    format!(
        "DRN S1E online renewal\napplicant: {applicant}\nunit: {unit}\nphone: {phone}\nphoto-sha256: {}\nsignature-sha256: {}\n",
        hex::encode(Sha256::digest(photo)),
        hex::encode(Sha256::digest(signature)),
    )
    .into_bytes()
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenewalStatus {
    /// Outside the pilot's period.
    NotAvailable,
    /// A system failed technically; the step may be retried (within 10 minutes).
    Retry,
    /// A check failed: apply at a ЦОН counter (`reason` says why).
    ToCounter,
    /// DRN refused to register the application (step 13).
    Refused,
    /// The duty is invoiced and waits to be paid (step 15).
    AwaitingPayment,
    /// With the regional directorate (step 17).
    UnderReview,
    /// Being manufactured (step 18).
    InProduction,
    /// Ready at the registration point (step 19).
    ReadyForIssue,
    Issued,
    /// Annulled at the review; a paid duty is refunded.
    Annulled,
}

impl RenewalStatus {
    pub fn code(self) -> &'static str {
        match self {
            RenewalStatus::NotAvailable => "not_available",
            RenewalStatus::Retry => "retry",
            RenewalStatus::ToCounter => "to_counter",
            RenewalStatus::Refused => "refused",
            RenewalStatus::AwaitingPayment => "awaiting_payment",
            RenewalStatus::UnderReview => "under_review",
            RenewalStatus::InProduction => "in_production",
            RenewalStatus::ReadyForIssue => "ready_for_issue",
            RenewalStatus::Issued => "issued",
            RenewalStatus::Annulled => "annulled",
        }
    }

    fn parse(s: &str) -> Result<RenewalStatus, EngineError> {
        serde_json::from_value(serde_json::Value::String(s.into()))
            .map_err(|_| EngineError::Corrupt(format!("renewal status {s:?}")))
    }

    /// Still going (a new renewal cannot start beside it).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RenewalStatus::Retry
                | RenewalStatus::AwaitingPayment
                | RenewalStatus::UnderReview
                | RenewalStatus::InProduction
                | RenewalStatus::ReadyForIssue
        )
    }
}

/// How a step's check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// A technical failure of a system.
    Technical,
}

/// One step's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepCheck {
    pub step: u32,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub outcome: CheckOutcome,
    /// What was found, in words (and data).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// The state duty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Duty {
    pub year: i16,
    pub mrp: u64,
    pub amount_tenge: u64,
    /// Exempt by a social status in АИС СИК (its code).
    pub exempt_by: Option<String>,
    pub invoice: Option<String>,
    /// `unpaid`, `paid`, `refunded`, or `exempt`.
    pub status: String,
}

/// A renewal session as the citizen (and staff) see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Renewal {
    pub id: String,
    #[schema(value_type = String)]
    pub applicant: Iin,
    pub channel: Channel,
    pub unit: UnitId,
    pub status: RenewalStatus,
    /// The step reached.
    pub step: u32,
    /// Why it stopped (to the counter, refused, not available, retry), in three languages.
    #[schema(value_type = Option<Object>)]
    pub reason: Option<Text>,
    /// The catalog branch it ended in (to a ЦОН, refused), when it did.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub outcome: Option<Exit>,
    pub checks: Vec<StepCheck>,
    pub application: Option<ApplicationId>,
    /// The registration talon (the application's number).
    pub talon: Option<String>,
    pub duty: Option<Duty>,
    #[schema(value_type = Option<Object>)]
    pub place_of_birth: Option<PlaceOfBirth>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    pub revision: i64,
}

/// The session's inputs and what the checks brought, kept with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    view: Renewal,
    request: RenewalRequest,
    #[serde(default)]
    gbd: Option<GbdPerson>,
    /// The ground of an annulment at step 17 (п. 11), which decides the refund.
    #[serde(default)]
    annul_ground: Option<AnnulGround>,
}

/// The photo of the applicant's current document as ГБД ФЛ holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoOnRecord {
    /// The image: its type and its bytes in base64.
    Found { mime: String, base64: String },
    /// ГБД ФЛ holds no photo of the person.
    Missing,
    /// ГБД ФЛ did not answer (or no state systems are configured).
    Unavailable,
}

/// What the regional officer compares at step 17 ([`Engine::renewal_review_material`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewMaterial {
    pub iin: Iin,
    /// ГБД ФЛ's record as read at step 2; `None` when the session did not reach it.
    pub surname: Option<String>,
    pub given_name: Option<String>,
    pub patronymic: Option<String>,
    pub birth_date: Option<Date>,
    /// The attached photo and signature sample, base64 as sent.
    pub photo: String,
    pub signature: String,
    pub on_record: PhotoOnRecord,
}

/// Can this citizen renew online today, before they fill anything in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Eligibility {
    pub available: bool,
    #[schema(value_type = Option<Object>)]
    pub message: Option<Text>,
    #[schema(value_type = Option<String>, format = Date)]
    pub card_expires: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub pilot_until: Option<Date>,
    /// The duty today (tenge).
    pub duty_tenge: Option<u64>,
}

/// The regional officer's decision at step 17.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "decision", rename_all = "snake_case", deny_unknown_fields)]
pub enum Review {
    /// Certify and send to production.
    Approve { revision: i64 },
    /// Annul (п. 11): the photo or signature does not meet the requirements, or further
    /// checks are needed.
    Annul {
        revision: i64,
        ground: AnnulGround,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnulGround {
    PhotoOrSignature,
    FurtherChecks,
}

super::outcomes::outcomes! {
    /// Every way the online session ends short of its result (to a ЦОН, or refused at step
    /// 13): each is a branch of the catalog (its `id`), cited or marked as an assumption
    /// (issue 30 item 6).
    pub enum Exit in SERVICE {
        /// п. 7: the reason is not the card's expiry.
        NotExpiry => ToCounter "not_expiry" at [1],
        /// Step 1: the person refuses access to their personal data (not stated).
        ConsentDenied => ToCounter "consent_denied" at [1],
        /// A state system answers that it cannot serve the request (no such person, a bad
        /// request): not a technical failure, not stated.
        SystemRejected => ToCounter "system_rejected" at [1, 2, 3, 4, 5, 11, 14, 15],
        /// Step 2: the phone is not the person's in БМГ (not stated).
        PhoneNotInBmg => ToCounter "phone_not_in_bmg" at [2],
        /// Step 3: Digital-ID does not identify the person (not stated).
        NotIdentified => ToCounter "not_identified" at [3],
        /// Step 4: legal capacity not full (not stated).
        Incapable => ToCounter "incapable" at [4],
        /// Step 5: a change of name, birth date or nationality in ИС ЗАГС (п. 3 step 5).
        CivilStatusChange => ToCounter "civil_status_change" at [5],
        /// Step 6: no permanent registration (п. 3 step 6).
        NoRegistration => ToCounter "no_registration" at [6],
        /// Step 7: the card outside п. 7's window.
        OutOfWindow => ToCounter "out_of_window" at [7],
        /// Step 7: an earlier application for this card was annulled for further checks
        /// (п. 11 gives a new online application only after a poor photo or signature).
        ReapplyAfterFurtherChecks => ToCounter "reapply_after_further_checks" at [7],
        /// Step 8: the registration point or the phone is wrong (not stated).
        FieldsInvalid => ToCounter "fields_invalid" at [8],
        /// Step 9: no photo, or an unusable signature sample (not stated).
        AttachmentsInvalid => ToCounter "attachments_invalid" at [9],
        /// Step 10: the photo fails the requirements (not stated at this step).
        PhotoRequirements => ToCounter "photo_requirements" at [10],
        /// Step 11: the photo does not match ГБД ФЛ's (not stated).
        PhotoMismatch => ToCounter "photo_mismatch" at [11],
        /// Step 12: the request's EDS signature does not verify (not stated).
        SignatureInvalid => ToCounter "signature_invalid" at [12],
        /// п. 12: БМГ or biometric identification failing for more than 10 minutes.
        Outage => ToCounter "outage" at [2, 3, 11],
        /// Step 13: DRN refuses to register the application.
        RegistrationRefused => Refusal "registration_refused" at [13],
    }
}

/// Why a step stopped.
enum Halt {
    Counter(Exit, Text, serde_json::Value),
    Retry(Text, serde_json::Value),
    Engine(EngineError),
}

impl From<EngineError> for Halt {
    fn from(e: EngineError) -> Halt {
        Halt::Engine(e)
    }
}

fn b64(field: &str, s: &str) -> Result<Vec<u8>, EngineError> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| EngineError::invalid(field, Refusal::NotBase64))
}

/// An administrator's extension of the pilot's period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PilotExtension {
    #[schema(value_type = String, format = Date)]
    pub until: Date,
    pub cite: String,
    pub added_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
}

/// The latest day an administrator extended `service` to.
async fn extended_until<R: crate::rows::Reads>(
    c: &mut R,
    service: &str,
) -> Result<Option<Date>, EngineError> {
    let rows = c
        .rows(drn_store::Statement::new(
            "SELECT until_day FROM service_extensions WHERE service = $1",
            vec![drn_store::Value::from(service)],
        ))
        .await?;
    let mut best: Option<Date> = None;
    for r in &rows {
        let d: Date = r
            .try_get::<String, _>(0)?
            .parse()
            .map_err(|e: jiff::Error| EngineError::Corrupt(e.to_string()))?;
        best = best.max(Some(d));
    }
    Ok(best)
}

fn is_last(svc: &drn_core::Service, v: &drn_core::Version) -> bool {
    svc.versions
        .iter()
        .max_by_key(|x| x.effective_from)
        .is_some_and(|x| x.id == v.id)
}

/// The version of `svc` that applies on `today` only through an administrator's extension
/// of the pilot's period (the catalog's last version, ended before `today`); `None` for
/// other services and outside any extension. The engine's intake uses it when the catalog
/// has no version in force.
pub(crate) async fn extended_version<'a, R: crate::rows::Reads>(
    c: &mut R,
    svc: &'a drn_core::Service,
    today: Date,
) -> Result<Option<&'a drn_core::Version>, EngineError> {
    if svc.code != SERVICE {
        return Ok(None);
    }
    let Some(last) = svc.versions.iter().max_by_key(|v| v.effective_from) else {
        return Ok(None);
    };
    let Some(to) = last.effective_to else {
        return Ok(None);
    };
    if today <= to {
        return Ok(None);
    }
    Ok(extended_until(c, SERVICE)
        .await?
        .filter(|x| today <= *x)
        .map(|_| last))
}

/// Days from `today` to `expires` (negative: expired).
pub fn days_to_expiry(today: Date, expires: Date) -> i64 {
    today
        .until(expires)
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(i64::MIN)
}

/// п. 7: is a card expiring on `expires` in the window on `today`.
pub fn in_window(today: Date, expires: Date) -> bool {
    (-WINDOW_EXPIRED_DAYS..=WINDOW_AHEAD_DAYS).contains(&days_to_expiry(today, expires))
}

impl Engine {
    /// Installs the ports the pilot runs with.
    pub fn set_online_renewal(&self, setup: Setup) {
        let s = Some(Arc::new(setup));
        match self.online.write() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    /// The ports the pilot runs with.
    pub fn online_renewal(&self) -> Result<Arc<Setup>, EngineError> {
        let g = match self.online.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        g.ok_or_else(|| EngineError::forbidden(Refusal::OnlineNotConfigured))
    }

    fn today(&self) -> Date {
        self.now().to_zoned(self.tz.clone()).date()
    }

    /// The pilot's version in force today, with its last day (an administrator's
    /// extension, when there is one, moves the last day).
    async fn pilot_in_force(&self) -> Result<Option<(String, Option<Date>)>, EngineError> {
        let Some(svc) = self.catalog.service(SERVICE) else {
            return Ok(None);
        };
        let mut c = self.db.reader().acquire().await?;
        let ext = extended_until(&mut c, SERVICE).await?;
        let today = self.today();
        if let Some(v) = svc.version_on(today) {
            let until = match (v.effective_to, ext) {
                (Some(to), Some(x)) if x > to && is_last(svc, v) => Some(x),
                (to, _) => to,
            };
            return Ok(Some((v.id.clone(), until)));
        }
        Ok(extended_version(&mut c, svc, today)
            .await?
            .map(|v| (v.id.clone(), ext)))
    }

    /// The extensions of the pilot's period an administrator stored, oldest first.
    pub async fn pilot_extensions(&self) -> Result<Vec<PilotExtension>, EngineError> {
        let rows = drn_store::query("SELECT until_day, cite, added_by, added_at FROM service_extensions WHERE service = $1 ORDER BY id")
            .bind(SERVICE)
            .fetch_all(self.db.reader())
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(PilotExtension {
                until: r
                    .try_get::<String, _>(0)?
                    .parse()
                    .map_err(|e: jiff::Error| EngineError::Corrupt(e.to_string()))?,
                cite: r.try_get(1)?,
                added_by: r.try_get(2)?,
                added_at: Timestamp::from_microsecond(r.try_get(3)?)
                    .map_err(|e| EngineError::Corrupt(e.to_string()))?,
            });
        }
        Ok(out)
    }

    /// The pilot's last day from the catalog, and with the administrator's extensions.
    pub async fn pilot_period(&self) -> Result<(Option<Date>, Option<Date>), EngineError> {
        let catalog = self
            .catalog
            .service(SERVICE)
            .and_then(|s| s.versions.iter().max_by_key(|v| v.effective_from))
            .and_then(|v| v.effective_to);
        let mut c = self.db.reader().acquire().await?;
        let ext = extended_until(&mut c, SERVICE).await?;
        Ok((catalog, ext.filter(|x| catalog.is_some_and(|c| x > &c))))
    }

    /// An administrator extends the pilot's period to `until` (inclusive): the catalog's
    /// last version of S1E goes on applying. `until` must be later than the period's end
    /// (the catalog's or an earlier extension's); `cite` names the act. Audited.
    pub async fn extend_pilot(
        &self,
        actor: &Actor,
        until: Date,
        cite: &str,
    ) -> Result<(), EngineError> {
        if actor.role != Role::Administrator {
            return Err(EngineError::forbidden(Refusal::PilotByAdministrator));
        }
        if cite.trim().chars().count() < 5 {
            return Err(EngineError::invalid("cite", Refusal::CiteThePilotAct));
        }
        let (catalog, ext) = self.pilot_period().await?;
        let Some(end) = ext.or(catalog) else {
            return Err(EngineError::invalid("until", Refusal::PilotHasNoEnd));
        };
        if until <= end {
            return Err(EngineError::invalid("until", Refusal::PilotAlreadyRuns));
        }
        let now = self.now();
        let mut tx = self.db.begin().await?;
        drn_store::query("INSERT INTO service_extensions (service, until_day, cite, added_by, added_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(SERVICE)
            .bind(until)
            .bind(cite.trim().to_string())
            .bind(actor.id.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let detail = json!({ "service": SERVICE, "until": until.to_string(), "was": end.to_string(), "cite": cite.trim() });
        crate::audit::append(
            &mut tx,
            now,
            &actor.id,
            "extend_pilot",
            &format!("service:{SERVICE}"),
            &detail,
        )
        .await?;
        tx.commit().await.map_err(drn_store::StoreError::from)?;
        Ok(())
    }

    /// The state duty for an ID card today, from the catalog's duty data (the Tax Code's
    /// rate times the year's МРП, `catalog/duty/kz.toml`); `None` when the data lack it.
    pub fn id_card_duty(&self) -> Option<u64> {
        self.catalog
            .duty
            .as_ref()?
            .duty(super::person_documents::ID_CARD, self.today())
    }

    /// Whether `iin` may renew online today (the pilot's period and п. 7's window), asked
    /// of ГБД ФЛ.
    pub async fn renewal_eligibility(
        &self,
        actor: &Actor,
        iin: &Iin,
    ) -> Result<Eligibility, EngineError> {
        own(actor, iin)?;
        let Some((_, until)) = self.pilot_in_force().await? else {
            return Ok(Eligibility {
                available: false,
                message: Some(not_online()),
                card_expires: None,
                pilot_until: None,
                duty_tenge: None,
            });
        };
        let setup = self.online_renewal()?;
        let expires = match setup.registries.gbd_fl.person(*iin).await {
            Ok(p) => p.id_card.map(|c| c.expires),
            Err(e) if e.is_technical() => {
                return Ok(Eligibility {
                    available: false,
                    message: Some(e.message()),
                    card_expires: None,
                    pilot_until: until,
                    duty_tenge: self.id_card_duty(),
                })
            }
            Err(_) => None,
        };
        let ok = expires.is_some_and(|e| in_window(self.today(), e));
        Ok(Eligibility {
            available: ok,
            message: (!ok).then(not_available_here),
            card_expires: expires,
            pilot_until: until,
            duty_tenge: self.id_card_duty(),
        })
    }

    /// Starts a renewal and runs it as far as it goes (to the review, the payment, a
    /// retry, or the counter).
    pub async fn renewal_submit(
        &self,
        actor: &Actor,
        req: RenewalRequest,
    ) -> Result<Renewal, EngineError> {
        let iin = actor
            .iin
            .filter(|_| actor.role == Role::Citizen)
            .ok_or_else(|| EngineError::forbidden(Refusal::CitizenAppliesOnline))?;
        if !matches!(req.channel, Channel::Portal | Channel::Mobile) {
            return Err(EngineError::invalid("channel", Refusal::PortalOrMobile));
        }
        let unit = UnitId::parse(&req.unit)?;
        for (f, v) in [
            ("photo", &req.photo),
            ("signature_sample", &req.signature_sample),
            ("request_signature", &req.request_signature),
        ] {
            b64(f, v)?;
        }
        if let Some(s) = &req.selfie {
            b64("selfie", s)?;
        }
        // One application for a new ID card at a time (issue 28 item 3): a second renewal
        // beside an open one would invoice the duty twice for one card.
        for r in self.renewals_of(actor, &iin).await? {
            if r.status.is_active() {
                let n = r.talon.as_deref().unwrap_or(&r.id);
                return Err(EngineError::forbidden(Text::new(
                    format!("жеке куәлікті онлайн ауыстыру өтінішіңіз (№ {n}) қаралуда: нәтижесін күтіңіз; жаңа өтініш пен шот жасалмайды"),
                    format!("у вас уже есть заявка на онлайн-замену удостоверения (№ {n}): дождитесь её результата; новое заявление и счёт не создаются"),
                    format!(
                        "you already have an online renewal of your ID card in progress (application {n}, {}): wait for its result; no new application or invoice is made",
                        r.status.code()
                    ),
                )));
            }
        }
        if let Some(number) = self.open_id_card_application(&iin).await? {
            return Err(EngineError::forbidden(Text::new(
                format!("жаңа жеке куәлікке № {number} өтінішіңіз қаралуда: нәтижесін күтіңіз; жаңа өтініш пен шот жасалмайды"),
                format!("у вас уже есть заявление № {number} на новое удостоверение личности: дождитесь его результата; новое заявление и счёт не создаются"),
                format!("you already have an application for a new ID card in progress (application {number}): wait for its result; no new application or invoice is made"),
            )));
        }
        let now = self.now();
        let mut view = Renewal {
            id: uuid::Uuid::now_v7().to_string(),
            applicant: iin,
            channel: req.channel,
            unit,
            status: RenewalStatus::Retry,
            step: 1,
            reason: None,
            outcome: None,
            checks: Vec::new(),
            application: None,
            talon: None,
            duty: None,
            place_of_birth: None,
            created_at: now,
            updated_at: now,
            revision: 0,
        };
        if self.pilot_in_force().await?.is_none() {
            view.status = RenewalStatus::NotAvailable;
            view.reason = Some(not_online());
        } else if req.reason != "expiry" {
            view.status = RenewalStatus::ToCounter;
            view.outcome = Some(Exit::NotExpiry);
            view.reason = Some(not_available_here());
        }
        let mut st = Stored {
            view,
            request: req,
            gbd: None,
            annul_ground: None,
        };
        self.save_renewal(&mut st, true).await?;
        if st.view.status == RenewalStatus::Retry {
            self.advance(actor, &mut st).await?;
        }
        Ok(st.view)
    }

    /// The number of an open application of the applicant for a passport or an ID card
    /// (S1 at a counter or on the portal, or S1E), if any.
    async fn open_id_card_application(&self, iin: &Iin) -> Result<Option<String>, EngineError> {
        let row = drn_store::query("SELECT number FROM applications WHERE applicant_iin = $1 AND service IN ($2, $3) AND status IN ('in_progress', 'in_transit') ORDER BY number LIMIT 1")
            .bind(iin.to_string())
            .bind(super::s1::SERVICE)
            .bind(SERVICE)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Runs a renewal waiting after a technical failure again from its step.
    pub async fn renewal_retry(&self, actor: &Actor, id: &str) -> Result<Renewal, EngineError> {
        let mut st = self.load_renewal(id).await?;
        own(actor, &st.view.applicant)?;
        if st.view.status != RenewalStatus::Retry {
            return Err(EngineError::forbidden(Refusal::RenewalNotRetrying));
        }
        self.advance(actor, &mut st).await?;
        Ok(st.view)
    }

    /// Step 15: the invoice is paid (asked of the payment port); the application goes on
    /// to the regional directorate.
    pub async fn renewal_confirm_payment(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Renewal, EngineError> {
        let mut st = self.load_renewal(id).await?;
        own(actor, &st.view.applicant)?;
        if st.view.status != RenewalStatus::AwaitingPayment {
            return Err(EngineError::forbidden(Refusal::RenewalNotAwaitingPayment));
        }
        self.advance(actor, &mut st).await?;
        Ok(st.view)
    }

    /// Demo and tests: the citizen pays the invoice at the sandbox's bank, then the
    /// payment is confirmed.
    pub async fn renewal_pay_in_sandbox(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<Renewal, EngineError> {
        let st = self.load_renewal(id).await?;
        own(actor, &st.view.applicant)?;
        let setup = self.online_renewal()?;
        let (Some(sandbox), Some(inv)) = (
            setup.sandbox.as_ref(),
            st.view.duty.as_ref().and_then(|d| d.invoice.clone()),
        ) else {
            return Err(EngineError::forbidden(Refusal::NoSandboxInvoice));
        };
        sandbox
            .pay(&inv)
            .await
            .map_err(|e| EngineError::invalid("invoice", e.message()))?;
        self.renewal_confirm_payment(actor, id).await
    }

    /// A renewal, with its status brought up to date from its application (and a refund
    /// made when it was annulled with the duty paid).
    pub async fn renewal(&self, actor: &Actor, id: &str) -> Result<Renewal, EngineError> {
        let mut st = self.load_renewal(id).await?;
        may_see(actor, &st.view)?;
        self.settle(&mut st).await?;
        Ok(st.view)
    }

    /// The photo and the signature sample of a renewal (base64, as sent), for the
    /// regional officer's review at step 17 (and the applicant).
    pub async fn renewal_attachments(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(String, String), EngineError> {
        let st = self.load_renewal(id).await?;
        match actor.role {
            Role::RegionalOfficer | Role::System => {}
            _ => own(actor, &st.view.applicant)?,
        }
        Ok((st.request.photo, st.request.signature_sample))
    }

    /// What the regional officer compares at step 17 (issue 29): the attached photo and
    /// signature sample, the applicant's name and birth date as ГБД ФЛ gave them at step 2,
    /// and the photo of the applicant's current document as ГБД ФЛ holds it now (read
    /// through the port; the read is audited as a read of the person).
    pub async fn renewal_review_material(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<ReviewMaterial, EngineError> {
        if !matches!(actor.role, Role::RegionalOfficer | Role::System) {
            return Err(EngineError::forbidden(Refusal::ReviewByRegion));
        }
        let st = self.load_renewal(id).await?;
        let iin = st.view.applicant;
        let on_record = match self.online_renewal() {
            Err(_) => PhotoOnRecord::Unavailable,
            Ok(setup) => match setup.registries.gbd_fl.photo(iin).await {
                Ok(p) => PhotoOnRecord::Found {
                    mime: p.mime,
                    base64: p.image_base64,
                },
                Err(RegistryError::NotFound { .. }) => PhotoOnRecord::Missing,
                Err(e) => {
                    tracing::warn!(error = %e, "ГБД ФЛ photo read failed");
                    PhotoOnRecord::Unavailable
                }
            },
        };
        self.audit_read(
            actor,
            "read_person_photo",
            &format!("person:{iin}"),
            json!({ "screen": "online_review", "renewal": id,
                    "found": matches!(on_record, PhotoOnRecord::Found { .. }) }),
        )
        .await?;
        let gbd = st.gbd.as_ref();
        Ok(ReviewMaterial {
            iin,
            surname: gbd.map(|g| g.surname.clone()),
            given_name: gbd.map(|g| g.given_name.clone()),
            patronymic: gbd.and_then(|g| g.patronymic.clone()),
            birth_date: gbd.map(|g| g.birth_date),
            photo: st.request.photo,
            signature: st.request.signature_sample,
            on_record,
        })
    }

    /// The renewal of an application, if it came from one.
    pub async fn renewal_of_application(
        &self,
        actor: &Actor,
        app: &ApplicationId,
    ) -> Result<Option<Renewal>, EngineError> {
        let row = drn_store::query("SELECT id FROM online_renewals WHERE application_id = $1")
            .bind(app)
            .fetch_optional(self.db.reader())
            .await?;
        match row {
            Some(r) => {
                let id: String = r.try_get(0)?;
                self.renewal(actor, &id).await.map(Some)
            }
            None => Ok(None),
        }
    }

    /// Whether an earlier renewal of `iin` for the same ID card (`card`) was annulled at
    /// step 17 because the officer needed further checks (п. 11): the seed gives a new
    /// online application only after an annulment for a poor photo or signature.
    async fn annulled_for_further_checks(
        &self,
        iin: &Iin,
        card: &str,
        except: &str,
    ) -> Result<bool, EngineError> {
        let rows = drn_store::query(
            "SELECT id FROM online_renewals WHERE applicant_iin = $1 AND status = 'annulled' AND id <> $2",
        )
        .bind(iin.to_string())
        .bind(except.to_string())
        .fetch_all(self.db.reader())
        .await?;
        for r in &rows {
            let st = self.load_renewal(&r.try_get::<String, _>(0)?).await?;
            let same_card = st
                .gbd
                .as_ref()
                .and_then(|g| g.id_card.as_ref())
                .is_some_and(|c| c.number == card);
            if same_card && st.annul_ground == Some(AnnulGround::FurtherChecks) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The id of the renewal that registered `app`, if any.
    async fn renewal_id_of(&self, app: &ApplicationId) -> Result<Option<String>, EngineError> {
        let row = drn_store::query("SELECT id FROM online_renewals WHERE application_id = $1")
            .bind(app)
            .fetch_optional(self.db.reader())
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// A citizen's renewals, newest first.
    pub async fn renewals_of(&self, actor: &Actor, iin: &Iin) -> Result<Vec<Renewal>, EngineError> {
        own(actor, iin)?;
        let rows = drn_store::query("SELECT id FROM online_renewals WHERE applicant_iin = $1 ORDER BY created_at DESC, id DESC LIMIT 50")
            .bind(iin.to_string())
            .fetch_all(self.db.reader())
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: String = r.try_get(0)?;
            let mut st = self.load_renewal(&id).await?;
            self.settle(&mut st).await?;
            out.push(st.view);
        }
        Ok(out)
    }

    /// Step 17: the regional officer approves (the application goes to production) or
    /// annuls (п. 11; a paid duty is refunded).
    pub async fn renewal_review(
        &self,
        actor: &Actor,
        app: &ApplicationId,
        review: &Review,
    ) -> Result<Outcome, EngineError> {
        self.renewal_review_certified(actor, app, review, None)
            .await
    }

    /// [`Engine::renewal_review`] with the officer's verified signature of the approval
    /// (issue 33: its signer, certificate, signing time and the digest of what was signed,
    /// kept with the step's completion in its transaction).
    pub async fn renewal_review_certified(
        &self,
        actor: &Actor,
        app: &ApplicationId,
        review: &Review,
        certified: Option<&serde_json::Value>,
    ) -> Result<Outcome, EngineError> {
        if !matches!(actor.role, Role::RegionalOfficer | Role::System) {
            return Err(EngineError::forbidden(Refusal::ReviewByRegion));
        }
        let a = self.load_app(app).await?;
        if !awaits_review(&a) {
            return Err(EngineError::WrongStep {
                expected: "an S1E application at step 17".into(),
                actual: a.step,
            });
        }
        let out = match review {
            Review::Approve { revision } => {
                let note = match certified {
                    Some(c) => format!(
                        "certified with the EDS of {} (certificate {}, signed {}, SHA-256 {}) and sent to production (п. 3.17)",
                        c["name"].as_str().unwrap_or_default(),
                        c["certificate"].as_str().unwrap_or_default(),
                        c["signing_time"].as_str().unwrap_or_default(),
                        c["sha256"].as_str().unwrap_or_default(),
                    ),
                    None => "certified with EDS and sent to production (п. 3.17)".into(),
                };
                let cmd = Command::CompleteStep {
                    application: app.clone(),
                    revision: *revision,
                    note: Some(note),
                };
                self.execute(actor, &cmd, None).await?
            }
            Review::Annul {
                revision,
                ground,
                reason,
            } => {
                let g = match ground {
                    AnnulGround::PhotoOrSignature => {
                        "photo or signature does not meet the requirements"
                    }
                    AnnulGround::FurtherChecks => "further verification needed",
                };
                let cmd = Command::Annul {
                    application: app.clone(),
                    revision: *revision,
                    reason: format!("{g}: {reason}"),
                };
                self.execute(actor, &cmd, None).await?
            }
        };
        if let Some(id) = self.renewal_id_of(app).await? {
            let mut st = self.load_renewal(&id).await?;
            if let Review::Annul { ground, .. } = review {
                st.annul_ground = Some(*ground);
            }
            self.settle(&mut st).await?;
        }
        Ok(out)
    }

    // -- the steps --------------------------------------------------------------------

    async fn advance(&self, actor: &Actor, st: &mut Stored) -> Result<(), EngineError> {
        let setup = self.online_renewal()?;
        while st.view.step <= 12 {
            let n = st.view.step;
            match self.check_step(&setup, st, n).await {
                Ok(detail) => {
                    self.record(st, n, CheckOutcome::Passed, detail);
                    st.view.step = n + 1;
                }
                Err(Halt::Counter(exit, why, detail)) => {
                    self.record(st, n, CheckOutcome::Failed, with_outcome(detail, exit));
                    st.view.status = RenewalStatus::ToCounter;
                    st.view.outcome = Some(exit);
                    st.view.reason = Some(why);
                    return self.save_renewal(st, false).await;
                }
                Err(Halt::Retry(why, detail)) => {
                    self.record(st, n, CheckOutcome::Technical, detail);
                    st.view.status = RenewalStatus::Retry;
                    st.view.reason = Some(why);
                    return self.save_renewal(st, false).await;
                }
                Err(Halt::Engine(e)) => return Err(e),
            }
        }
        match self.after_checks(&setup, actor, st).await {
            Ok(()) => {}
            Err(Halt::Counter(exit, why, detail)) => {
                let n = st.view.step;
                self.record(st, n, CheckOutcome::Failed, with_outcome(detail, exit));
                st.view.outcome = Some(exit);
                st.view.status = if n == 13 {
                    RenewalStatus::Refused
                } else {
                    RenewalStatus::ToCounter
                };
                // An application step 13 registered ends with the session: it never stays
                // in progress behind a session sent to the counter (issue 30 item 2).
                if let Some(id) = st.view.application.clone() {
                    self.end_with_session(&id, &why).await?;
                }
                st.view.reason = Some(why);
            }
            Err(Halt::Retry(why, detail)) => {
                let n = st.view.step;
                self.record(st, n, CheckOutcome::Technical, detail);
                st.view.status = RenewalStatus::Retry;
                st.view.reason = Some(why);
            }
            Err(Halt::Engine(e)) => {
                self.save_renewal(st, false).await?;
                return Err(e);
            }
        }
        self.save_renewal(st, false).await
    }

    /// Annuls the application of a session that ended after step 13 registered it (by the
    /// system, with the session's reason), when it is still open.
    async fn end_with_session(&self, id: &ApplicationId, why: &Text) -> Result<(), EngineError> {
        let app = self.load_app(id).await?;
        if !matches!(app.status, Status::InProgress | Status::InTransit) {
            return Ok(());
        }
        let cmd = Command::Annul {
            application: app.id.clone(),
            revision: app.revision,
            reason: why.en.clone(),
        };
        self.execute(&Actor::system(), &cmd, None).await?;
        Ok(())
    }

    fn record(&self, st: &mut Stored, step: u32, outcome: CheckOutcome, detail: serde_json::Value) {
        st.view.checks.push(StepCheck {
            step,
            at: self.now(),
            outcome,
            detail,
        });
    }

    /// A port's answer, its technical failure judged by п. 12.
    async fn port<T>(
        &self,
        setup: &Setup,
        port: Port,
        call: drn_registries::PortFuture<'_, T>,
    ) -> Result<T, Halt> {
        let breaker = setup.breaker(port);
        let call = call.await;
        crate::metrics::port_call(
            port.code(),
            match &call {
                Ok(_) => "ok",
                Err(e) => e.kind(),
            },
        );
        match call {
            Ok(v) => {
                if let Some(b) = breaker {
                    b.record_success();
                }
                Ok(v)
            }
            Err(e) if e.is_technical() => {
                let now = self.now();
                let snap = breaker.map(|b| {
                    b.record_failure();
                    b.snapshot_at(now)
                });
                let since = snap.and_then(|s| s.opened_at);
                let detail =
                    json!({ "system": port.code(), "error": e.kind(), "failing_since": since });
                if outage_rule_applies(port)
                    && snap.is_some_and(|s| failure_sends_to_counter(&s, now))
                {
                    let n = port.name();
                    Err(Halt::Counter(
                        Exit::Outage,
                        Text::new(
                            format!("«{}» 10 минуттан астам жұмыс істемейді. Өтінішті ХҚКО арқылы беріңіз.", n.kk),
                            format!("Технический сбой «{}» длится более 10 минут. Подайте заявление через ЦОН.", n.ru),
                            format!("The {} has been failing for more than 10 minutes. Please apply at a ЦОН counter.", n.en),
                        ),
                        detail,
                    ))
                } else {
                    Err(Halt::Retry(e.message(), detail))
                }
            }
            Err(e @ RegistryError::NotFound { .. }) => Err(Halt::Counter(
                Exit::SystemRejected,
                to_counter(&e.message().kk, &e.message().ru, &e.message().en),
                json!({ "system": port.code(), "error": e.kind() }),
            )),
            Err(e) => Err(Halt::Counter(
                Exit::SystemRejected,
                to_counter(&e.message().kk, &e.message().ru, &e.message().en),
                json!({ "system": port.code(), "error": e.kind(), "detail": e.to_string() }),
            )),
        }
    }

    async fn gbd(&self, setup: &Setup, st: &mut Stored) -> Result<GbdPerson, Halt> {
        if let Some(p) = &st.gbd {
            return Ok(p.clone());
        }
        let iin = st.view.applicant;
        let p = self
            .port(setup, Port::GbdFl, setup.registries.gbd_fl.person(iin))
            .await?;
        st.gbd = Some(p.clone());
        Ok(p)
    }

    async fn check_step(
        &self,
        setup: &Setup,
        st: &mut Stored,
        n: u32,
    ) -> Result<serde_json::Value, Halt> {
        let iin = st.view.applicant;
        let r = &setup.registries;
        let today = self.today();
        let photo = b64("photo", &st.request.photo)?;
        match n {
            1 => {
                let c = self
                    .port(
                        setup,
                        Port::Consent,
                        r.consent.request_consent(ConsentRequest {
                            iin,
                            purpose: "S1E: online renewal of the ID card (seed 001 п. 3)".into(),
                        }),
                    )
                    .await?;
                match c {
                    drn_registries::Consent::Granted { consent_id, .. } => {
                        Ok(json!({ "consent": consent_id }))
                    }
                    drn_registries::Consent::Denied { reason } => Err(Halt::Counter(
                        Exit::ConsentDenied,
                        to_counter(&reason.kk, &reason.ru, &reason.en),
                        json!({ "consent": "denied" }),
                    )),
                }
            }
            2 => {
                st.gbd = None;
                let p = self.gbd(setup, st).await?;
                let phone = st.request.phone.clone();
                let c = self
                    .port(setup, Port::Bmg, r.bmg.phone_registered(iin, phone))
                    .await?;
                if !c.registered {
                    return Err(Halt::Counter(
                        Exit::PhoneNotInBmg,
                        to_counter(
                            "Телефон нөмірі азаматтардың мобильді базасында сіздің атыңызға тіркелмеген.",
                            "Номер телефона не зарегистрирован на вас в базе мобильных граждан.",
                            "The phone number is not registered to you in the citizens' mobile database.",
                        ),
                        json!({ "gbd_fl": "found", "bmg": "not_registered" }),
                    ));
                }
                Ok(json!({ "gbd_fl": "found", "surname": p.surname, "bmg": "registered" }))
            }
            3 => {
                let selfie = match &st.request.selfie {
                    Some(s) => b64("selfie", s)?,
                    None => photo,
                };
                let id = self
                    .port(setup, Port::DigitalId, r.digital_id.identify(iin, selfie))
                    .await?;
                if !(id.liveness && id.identified) {
                    return Err(Halt::Counter(
                        Exit::NotIdentified,
                        to_counter(
                            "Digital-ID арқылы тұлғаны сәйкестендіру мүмкін болмады.",
                            "Не удалось идентифицировать личность посредством Digital-ID.",
                            "Digital-ID could not identify you.",
                        ),
                        json!({ "liveness": id.liveness, "identified": id.identified }),
                    ));
                }
                Ok(json!({ "session": id.session_id }))
            }
            4 => {
                let c = self
                    .port(
                        setup,
                        Port::LegalCapacity,
                        r.legal_capacity.legal_capacity(iin),
                    )
                    .await?;
                if c.capacity != LegalCapacity::Full {
                    return Err(Halt::Counter(
                        Exit::Incapable,
                        to_counter(
                            "Әрекет қабілеттілігі туралы мәліметтер онлайн ресімдеуге мүмкіндік бермейді.",
                            "Сведения о дееспособности не позволяют оформление в онлайн формате.",
                            "Your legal capacity record does not allow online processing.",
                        ),
                        json!({ "capacity": c.capacity }),
                    ));
                }
                Ok(json!({ "capacity": "full" }))
            }
            5 => {
                let p = self.gbd(setup, st).await?;
                // п. 3 step 5: «Проверка у Услугополучателя наличия перемены фамилии, имени,
                // отчества (при его наличии), даты рождения, национальности в ИС ЗАГС»: the
                // seed sets no period, so every change ИС ЗАГС holds counts (from birth),
                // not only those since the current card was issued (issue 30 item 5).
                let changes = self
                    .port(setup, Port::Zags, r.zags.changes_since(iin, p.birth_date))
                    .await?;
                if !changes.is_empty() {
                    return Err(Halt::Counter(
                        Exit::CivilStatusChange,
                        to_counter(
                            "АХАЖ АЖ-да тегінің, атының, әкесінің атының, туған күнінің немесе ұлтының ауысуы бар.",
                            "В ИС ЗАГС есть перемена фамилии, имени, отчества, даты рождения или национальности.",
                            "ИС ЗАГС records a change of surname, name, patronymic, date of birth or nationality.",
                        ),
                        json!({ "changes": changes.iter().map(|c| c.field).collect::<Vec<_>>() }),
                    ));
                }
                let place = match r.zags.place_of_birth(iin).await {
                    Ok(pl) => Some(pl),
                    Err(RegistryError::NotFound { .. }) => self.historical_place(&iin).await?,
                    Err(e) => Some(
                        self.port::<PlaceOfBirth>(
                            setup,
                            Port::Zags,
                            Box::pin(async move { Err(e) }),
                        )
                        .await?,
                    ),
                };
                // Neither record: the place stays empty for the regional directorate's input
                // control (п. 5 4): «принять во внимание невозможность автоматического
                // внесения сведений о месте рождения»).
                let detail = json!({
                    "changes": 0,
                    "place_of_birth": place.as_ref().map(|p| p.country.clone()),
                    "source": place.as_ref().map(|p| p.source),
                });
                st.view.place_of_birth = place;
                Ok(detail)
            }
            6 => {
                let p = self.gbd(setup, st).await?;
                match p.registration {
                    Some(reg) => Ok(json!({ "region": reg.region })),
                    None => Err(Halt::Counter(
                        Exit::NoRegistration,
                        to_counter(
                            "Тұрғылықты жері бойынша тұрақты тіркеу жоқ.",
                            "Отсутствует постоянная регистрация по месту жительства.",
                            "You have no permanent registration at a place of residence.",
                        ),
                        json!({ "registration": null }),
                    )),
                }
            }
            7 => {
                let p = self.gbd(setup, st).await?;
                if let Some(card) = &p.id_card {
                    if self
                        .annulled_for_further_checks(&iin, &card.number, &st.view.id)
                        .await?
                    {
                        return Err(Halt::Counter(
                            Exit::ReapplyAfterFurtherChecks,
                            further_checks_text(),
                            json!({ "card": card.number, "annulled_before": "further_checks" }),
                        ));
                    }
                }
                match p.id_card {
                    Some(c) if in_window(today, c.expires) => Ok(json!({
                        "expires": c.expires, "days": days_to_expiry(today, c.expires)
                    })),
                    c => Err(Halt::Counter(
                        Exit::OutOfWindow,
                        not_available_here(),
                        json!({ "expires": c.as_ref().map(|c| c.expires),
                                "days": c.map(|c| days_to_expiry(today, c.expires)) }),
                    )),
                }
            }
            8 => {
                let unit = self.load_unit(&st.view.unit).await;
                let phone_ok =
                    drn_registries::sandbox::normalize_phone(&st.request.phone).is_some();
                match unit {
                    Some(u) if u.kind == UnitKind::Counter && phone_ok => {
                        Ok(json!({ "unit": u.id, "phone": "ok" }))
                    }
                    _ => Err(Halt::Counter(
                        Exit::FieldsInvalid,
                        to_counter(
                            "Өтініш жолдары дұрыс толтырылмаған (тіркеу пункті немесе телефон).",
                            "Поля заявления заполнены неверно (регистрационный пункт или телефон).",
                            "The application's fields are wrong (registration point or phone).",
                        ),
                        json!({ "unit": st.view.unit, "phone_ok": phone_ok }),
                    )),
                }
            }
            9 => {
                let sig = b64("signature_sample", &st.request.signature_sample)?;
                if photo.is_empty() {
                    return Err(Halt::Counter(
                        Exit::AttachmentsInvalid,
                        to_counter(
                            "Фото бекітілмеген.",
                            "Фото не прикреплено.",
                            "No photo attached.",
                        ),
                        json!({ "photo": 0 }),
                    ));
                }
                match photo::check_signature(&sig) {
                    Ok(()) => {
                        Ok(json!({ "photo_bytes": photo.len(), "signature_bytes": sig.len() }))
                    }
                    Err(issues) => Err(Halt::Counter(
                        Exit::AttachmentsInvalid,
                        to_counter(
                            &issues[0].message.kk,
                            &issues[0].message.ru,
                            &issues[0].message.en,
                        ),
                        json!({ "issues": issues }),
                    )),
                }
            }
            10 => match photo::check_photo(&photo) {
                Ok(m) => Ok(json!({ "measured": m })),
                Err(issues) => {
                    let join = |f: fn(&Text) -> &String| {
                        issues
                            .iter()
                            .map(|i| f(&i.message).as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    };
                    Err(Halt::Counter(
                        Exit::PhotoRequirements,
                        to_counter(&join(|t| &t.kk), &join(|t| &t.ru), &join(|t| &t.en)),
                        json!({ "issues": issues }),
                    ))
                }
            },
            11 => {
                let m = self
                    .port(
                        setup,
                        Port::DigitalId,
                        r.digital_id.photo_matches(iin, photo),
                    )
                    .await?;
                if !m.matched {
                    return Err(Halt::Counter(
                        Exit::PhotoMismatch,
                        to_counter(
                            "Фото ЖТ МДҚ-дағы фотосуретке сәйкес келмейді.",
                            "Фото не соответствует фотоизображению в ГБД ФЛ.",
                            "The photo does not match your photo in ГБД ФЛ.",
                        ),
                        json!({ "matched": false }),
                    ));
                }
                Ok(json!({ "matched": true, "photo_sha256": m.photo_sha256 }))
            }
            12 => {
                let sig = b64("signature_sample", &st.request.signature_sample)?;
                let cms = b64("request_signature", &st.request.request_signature)?;
                let content =
                    request_to_sign(&iin, st.view.unit.as_str(), &st.request.phone, &photo, &sig);
                check_request_signature(setup, &iin, &content, &cms)
            }
            _ => Err(Halt::Engine(EngineError::Corrupt(format!(
                "no check for step {n}"
            )))),
        }
    }

    /// Steps 13-16: registration, the exemption, the duty, the result to the portal.
    async fn after_checks(
        &self,
        setup: &Setup,
        actor: &Actor,
        st: &mut Stored,
    ) -> Result<(), Halt> {
        let sys = Actor::system();
        let citizen = Actor::citizen(st.view.applicant);
        let rid = st.view.id.clone();
        let key = |n: u32| format!("s1e:{rid}:{n}");
        // 13: registration in DRN.
        let mut app = match &st.view.application {
            Some(id) => self.load_app(id).await?,
            None => {
                let accept = Command::Accept(Accept {
                    process: None,
                    service: SERVICE.into(),
                    channel: st.view.channel,
                    urgency: Urgency::General,
                    applicant: st.view.applicant,
                    documents_presented: vec![0, 1, 2, 3],
                    missing: vec![],
                    data: json!({
                        "unit": st.view.unit,
                        "online_renewal": st.view.id,
                        "phone": st.request.phone,
                        "place_of_birth": st.view.place_of_birth,
                    }),
                });
                let acting = if actor.role == Role::Citizen {
                    actor
                } else {
                    &citizen
                };
                match self.execute(acting, &accept, Some(&key(0))).await {
                    Ok(Outcome::Accepted { application }) => {
                        st.view.application = Some(application.id.clone());
                        st.view.talon = Some(application.number.clone());
                        application
                    }
                    Ok(_) => {
                        return Err(Halt::Counter(
                            Exit::RegistrationRefused,
                            refused_text(),
                            json!({ "registered": false }),
                        ))
                    }
                    Err(e)
                        if matches!(
                            e,
                            EngineError::Store(_)
                                | EngineError::Corrupt(_)
                                | EngineError::StorageFault { .. }
                        ) =>
                    {
                        return Err(Halt::Engine(e))
                    }
                    Err(e) => {
                        return Err(Halt::Counter(
                            Exit::RegistrationRefused,
                            refused_text(),
                            json!({ "registered": false, "error": e.code(), "detail": e.to_string() }),
                        ))
                    }
                }
            }
        };
        // Steps 2-12 on the application: what each check found.
        while app.status == Status::InProgress && app.step <= 16 {
            let n = app.step;
            let note = match n {
                2..=12 => st
                    .view
                    .checks
                    .iter()
                    .rev()
                    .find(|c| c.step == n && c.outcome == CheckOutcome::Passed)
                    .map(|c| json!({ "checked_at": c.at, "found": c.detail }).to_string()),
                13 => Some(format!("registered, talon {}", app.number)),
                14 => {
                    st.view.step = 14;
                    let on = self.today();
                    let statuses = self
                        .port(
                            setup,
                            Port::Sik,
                            setup.registries.sik.social_statuses(app_iin(&app)?, on),
                        )
                        .await?;
                    let exempt = statuses.iter().find(|s| exempts(s)).map(|s| s.code.clone());
                    let year = self.now().to_zoned(self.tz.clone()).year();
                    let table = self.catalog.duty.as_ref();
                    let mrp = table.and_then(|t| t.mrp(year)).unwrap_or(0);
                    let amount = self.id_card_duty().unwrap_or(0);
                    st.view.duty = Some(Duty {
                        year,
                        mrp,
                        amount_tenge: amount,
                        exempt_by: exempt.clone(),
                        invoice: None,
                        status: if exempt.is_some() {
                            "exempt".into()
                        } else {
                            "unpaid".into()
                        },
                    });
                    self.record(st, 14, CheckOutcome::Passed, json!({ "exempt_by": exempt }));
                    Some(json!({ "exempt_by": exempt, "statuses": statuses.len() }).to_string())
                }
                15 => {
                    st.view.step = 15;
                    let duty = st.view.duty.clone().ok_or_else(|| {
                        Halt::Engine(EngineError::Corrupt("no duty computed at step 14".into()))
                    })?;
                    if duty.exempt_by.is_some() {
                        self.record(st, 15, CheckOutcome::Passed, json!({ "duty": "exempt" }));
                        Some("exempt from the state duty (АИС СИК)".into())
                    } else {
                        if duty.amount_tenge == 0 {
                            return Err(Halt::Engine(EngineError::Corrupt(format!(
                                "no МРП for {}",
                                duty.year
                            ))));
                        }
                        let inv = match &duty.invoice {
                            Some(id) => {
                                self.port(
                                    setup,
                                    Port::Payments,
                                    setup.registries.payments.invoice(id.clone()),
                                )
                                .await?
                            }
                            None => {
                                let inv = self
                                    .port(
                                        setup,
                                        Port::Payments,
                                        setup.registries.payments.create_invoice(InvoiceRequest {
                                            iin: st.view.applicant,
                                            amount_tenge: duty.amount_tenge,
                                            purpose: format!(
                                                "S1E state duty for an ID card ({} ₸, МРП of {} {} ₸)",
                                                duty.amount_tenge, duty.year, duty.mrp
                                            ),
                                            reference: format!("s1e:{}", st.view.id),
                                        }),
                                    )
                                    .await?;
                                if let Some(d) = st.view.duty.as_mut() {
                                    d.invoice = Some(inv.id.clone());
                                }
                                inv
                            }
                        };
                        if inv.status != InvoiceStatus::Paid {
                            st.view.status = RenewalStatus::AwaitingPayment;
                            st.view.reason = None;
                            return Ok(());
                        }
                        if let Some(d) = st.view.duty.as_mut() {
                            d.status = "paid".into();
                        }
                        self.record(
                            st,
                            15,
                            CheckOutcome::Passed,
                            json!({ "invoice": inv.id, "paid": inv.amount_tenge }),
                        );
                        Some(format!("paid {} ₸, invoice {}", inv.amount_tenge, inv.id))
                    }
                }
                16 => Some("the portal received the registration's result".into()),
                _ => None,
            };
            let acting = if matches!(n, 8 | 9 | 12 | 15) {
                &citizen
            } else {
                &sys
            };
            let cmd = Command::CompleteStep {
                application: app.id.clone(),
                revision: app.revision,
                note,
            };
            app = match self.execute(acting, &cmd, Some(&key(n))).await? {
                Outcome::Application { application } => application,
                _ => return Err(Halt::Engine(EngineError::Corrupt("complete_step".into()))),
            };
            // A replayed key answers with the old state: read the current one.
            app = self.load_app(&app.id).await?;
        }
        st.view.step = app.step;
        st.view.status = status_of(&app);
        st.view.reason = None;
        Ok(())
    }

    /// Brings the status up to date from the application; refunds a paid duty of an
    /// annulled application (п. 11).
    async fn settle(&self, st: &mut Stored) -> Result<(), EngineError> {
        let Some(id) = st.view.application.clone() else {
            return Ok(());
        };
        if matches!(
            st.view.status,
            RenewalStatus::Retry
                | RenewalStatus::AwaitingPayment
                | RenewalStatus::Refused
                | RenewalStatus::ToCounter
        ) {
            return Ok(());
        }
        let app = self.load_app(&id).await?;
        let status = status_of(&app);
        let mut changed = status != st.view.status || app.step != st.view.step;
        st.view.status = status;
        st.view.step = app.step;
        if status == RenewalStatus::Annulled {
            // п. 11: «В случае аннулировании заявки, по причине некачественного
            // фотоизображения или подписи, услугополучатель может оформить новую заявку, при
            // этом повторно оплачивает государственную пошлину. Ранее оплаченная
            // государственная пошлина возвращается»: the refund (and the new paid
            // application) only on that ground (issue 30 item 3).
            let photo = st.annul_ground == Some(AnnulGround::PhotoOrSignature);
            let inv = st
                .view
                .duty
                .as_ref()
                .filter(|d| photo && d.status == "paid")
                .and_then(|d| d.invoice.clone());
            if let Some(inv) = inv {
                let setup = self.online_renewal()?;
                match setup.registries.payments.refund(inv.clone()).await {
                    Ok(i) if i.status == InvoiceStatus::Refunded => {
                        if let Some(d) = st.view.duty.as_mut() {
                            d.status = "refunded".into();
                        }
                        self.record(
                            st,
                            17,
                            CheckOutcome::Passed,
                            json!({ "refunded": inv, "amount": i.amount_tenge }),
                        );
                        changed = true;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, invoice = %inv, "refund failed; retried on the next read")
                    }
                }
            }
            if st.view.reason.is_none() {
                st.view.reason = Some(if photo {
                    Text::new(
                        "Өтінім сапасыз фотосурет немесе қолтаңба себебінен жойылды. Жаңа өтінім ресімдеп, бажды қайта төлей аласыз; бұрын төленген баж қайтарылады.",
                        "Заявка аннулирована по причине некачественного фотоизображения или подписи. Вы можете оформить новую заявку и повторно оплатить пошлину; ранее оплаченная пошлина возвращается.",
                        "The application was annulled because of a poor-quality photo or signature. You may apply again and pay the duty again; the duty paid earlier is refunded.",
                    )
                } else {
                    further_checks_text()
                });
                changed = true;
            }
        }
        if changed {
            self.save_renewal(st, false).await?;
        }
        Ok(())
    }

    // -- storage ----------------------------------------------------------------------

    async fn save_renewal(&self, st: &mut Stored, new: bool) -> Result<(), EngineError> {
        let now = self.now();
        st.view.updated_at = now;
        let expected = st.view.revision;
        st.view.revision = expected + 1;
        let json = serde_json::to_string(&*st).map_err(|e| EngineError::Corrupt(e.to_string()))?;
        let done = if new {
            drn_store::query("INSERT INTO online_renewals (id, applicant_iin, status, step, application_id, created_at, updated_at, revision, data_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(st.view.id.clone())
                .bind(st.view.applicant.to_string())
                .bind(st.view.status.code())
                .bind(i64::from(st.view.step))
                .bind(ApplicationId::value_opt(st.view.application.as_ref()))
                .bind(st.view.created_at)
                .bind(now)
                .bind(st.view.revision)
                .bind(drn_store::Value::json(json))
                .execute(self.db.writable()?)
                .await?
        } else {
            drn_store::query("UPDATE online_renewals SET status = $1, step = $2, application_id = $3, updated_at = $4, revision = $5, data_json = $6 WHERE id = $7 AND revision = $8")
                .bind(st.view.status.code())
                .bind(i64::from(st.view.step))
                .bind(ApplicationId::value_opt(st.view.application.as_ref()))
                .bind(now)
                .bind(st.view.revision)
                .bind(drn_store::Value::json(json))
                .bind(st.view.id.clone())
                .bind(expected)
                .execute(self.db.writable()?)
                .await?
        };
        if done.rows_affected() != 1 {
            return Err(EngineError::Conflict {
                what: "online renewal",
                current: expected + 1,
                expected,
            });
        }
        Ok(())
    }

    async fn load_renewal(&self, id: &str) -> Result<Stored, EngineError> {
        let r = drn_store::query(
            "SELECT data_json, status, revision FROM online_renewals WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(self.db.reader())
        .await?
        .ok_or_else(|| EngineError::not_found("online renewal", id))?;
        let mut st: Stored = serde_json::from_str(&r.try_get::<String, _>(0)?)
            .map_err(|e| EngineError::Corrupt(e.to_string()))?;
        st.view.status = RenewalStatus::parse(&r.try_get::<String, _>(1)?)?;
        st.view.revision = r.try_get(2)?;
        Ok(st)
    }

    /// п. 5 4): where ИС ЗАГС has no record, the place of birth is the historical one
    /// «хранящуюся в базе данных документированного населения»: the place of birth DRN's
    /// record of the person holds (never the citizenship, issue 30 item 1). `None` when the
    /// record holds none.
    async fn historical_place(&self, iin: &Iin) -> Result<Option<PlaceOfBirth>, Halt> {
        let row = drn_store::query("SELECT data_json FROM persons WHERE iin = $1")
            .bind(iin.to_string())
            .fetch_optional(self.db.reader())
            .await
            .map_err(EngineError::from)?;
        let Some(r) = row else {
            return Ok(None);
        };
        let data = rows::json(&r.try_get::<String, _>(0).map_err(EngineError::from)?)?;
        Ok(recorded_place_of_birth(&data))
    }

    async fn load_app(&self, id: &ApplicationId) -> Result<Application, EngineError> {
        let mut c = self.db.reader().acquire().await?;
        rows::load_application(&mut c, id).await
    }

    async fn load_unit(&self, id: &UnitId) -> Option<Unit> {
        self.units().await.ok()?.into_iter().find(|u| &u.id == id)
    }
}

/// п. 12 names the systems whose failure for more than 10 minutes sends the citizen to a
/// ЦОН: «по причинам, связанным с работой систем ПЭП, мобильных приложений, БМГ,
/// биометрической идентификации». Of the ports the session calls these are БМГ and
/// Digital-ID (biometric identification, п. 2 9)); the portal and the mobile applications
/// are the session itself. A failure of any other system (ГБД ФЛ, the consent service,
/// the legal-capacity record, ИС ЗАГС, АИС СИК, the payments) keeps the session waiting
/// at its step to be retried: ASSUMPTION (the seed states no outcome for them; the
/// catalog's `outage_other_system` branch, issue 30 item 2).
pub fn outage_rule_applies(port: Port) -> bool {
    matches!(port, Port::Bmg | Port::DigitalId)
}

fn app_iin(app: &Application) -> Result<Iin, Halt> {
    Iin::parse(&app.applicant).map_err(|e| Halt::Engine(EngineError::Corrupt(e.to_string())))
}

/// The Tax Code's exempting statuses (art. 622), as dated data would hold them; the
/// sandbox's label stands in for the list.
fn exempts(s: &drn_registries::SocialStatus) -> bool {
    s.exempts_state_duty
}

/// п. 11: annulled because the УМС ДП officer needs further checks. The seed gives the new
/// online application and the refund only for a poor photo or signature, so neither is
/// offered here: the citizen applies at a ЦОН (the step 7 branch
/// `reapply_after_further_checks`).
pub fn further_checks_text() -> Text {
    Text::new(
        "Өтінім жойылды: ПД КҚБ қызметкеріне қосымша тексеру әрекеттерін жүргізу қажет. Төленген баж онлайн қайтарылмайды (пилоттық жоба оны тек сапасыз фотосурет немесе қолтаңба себебінен жойылғанда қайтарады). Өтінішті ХҚКО арқылы беріңіз.",
        "Заявка аннулирована: сотруднику УМС ДП необходимо проведение дополнительных проверочных действий. Оплаченная пошлина онлайн не возвращается (пилотный проект предусматривает возврат только при аннулировании по причине некачественного фотоизображения или подписи). Подайте заявление через ЦОН.",
        "The application was annulled: the migration directorate's officer needs further checks. The duty paid is not refunded online (the pilot gives the refund only for an annulment because of a poor-quality photo or signature). Please apply at a ЦОН counter.",
    )
}

/// A failed check's detail with the outcome (the catalog branch) it ended in.
fn with_outcome(mut detail: serde_json::Value, exit: Exit) -> serde_json::Value {
    if let Some(o) = detail.as_object_mut() {
        o.insert("outcome".into(), json!(exit.branch_id()));
    }
    detail
}

fn refused_text() -> Text {
    to_counter(
        "Өтінім ХҚТ ТП ҚБҚ-да тіркелмеді.",
        "Заявка не зарегистрирована в ППО РП ДРН.",
        "DRN did not register the application.",
    )
}

/// The place of birth a DRN person's record holds (`data.place_of_birth`: an object with
/// `country` and optionally `country_name` {kk, ru, en}, `region`, `locality`; or just the
/// country's code), as the historical record of п. 5 4).
pub fn recorded_place_of_birth(data: &serde_json::Value) -> Option<PlaceOfBirth> {
    let v = data.get("place_of_birth")?;
    let (country, name, region, locality) = match v {
        serde_json::Value::String(c) => (c.clone(), None, None, None),
        serde_json::Value::Object(o) => (
            o.get("country")?.as_str()?.to_string(),
            o.get("country_name")
                .and_then(|n| serde_json::from_value::<Text>(n.clone()).ok()),
            o.get("region").and_then(|x| x.as_str()).map(String::from),
            o.get("locality").and_then(|x| x.as_str()).map(String::from),
        ),
        _ => return None,
    };
    let country = country.trim().to_uppercase();
    if country.is_empty() {
        return None;
    }
    let country_name = name.unwrap_or_else(|| Text::new(&country, &country, &country));
    Some(PlaceOfBirth {
        country,
        country_name,
        region,
        locality,
        source: PlaceSource::Historical,
    })
}

fn status_of(app: &Application) -> RenewalStatus {
    match app.status {
        Status::Annulled => RenewalStatus::Annulled,
        Status::Refused | Status::IntakeRefused => RenewalStatus::Refused,
        Status::Issued => RenewalStatus::Issued,
        Status::InProgress | Status::InTransit => match app.step {
            0..=15 => RenewalStatus::AwaitingPayment,
            16 | 17 => RenewalStatus::UnderReview,
            18 => RenewalStatus::InProduction,
            _ => RenewalStatus::ReadyForIssue,
        },
    }
}

fn own(actor: &Actor, iin: &Iin) -> Result<(), EngineError> {
    match actor.role {
        Role::System => Ok(()),
        Role::Citizen if actor.iin.as_ref() == Some(iin) => Ok(()),
        _ => Err(EngineError::forbidden(Refusal::OnlyTheApplicant)),
    }
}

fn may_see(actor: &Actor, r: &Renewal) -> Result<(), EngineError> {
    match actor.role {
        Role::Citizen if actor.iin.as_ref() != Some(&r.applicant) => {
            Err(EngineError::not_found("online renewal", r.id.clone()))
        }
        _ => Ok(()),
    }
}

/// Step 12: the CMS signature verifies over `content` against the citizen CA, and the
/// signer certificate's subject serialNumber is `IIN` + the applicant's IIN.
fn check_request_signature(
    setup: &Setup,
    iin: &Iin,
    content: &[u8],
    cms: &[u8],
) -> Result<serde_json::Value, Halt> {
    let fail = |why: &str, detail: serde_json::Value| {
        Halt::Counter(
            Exit::SignatureInvalid,
            to_counter(
                &format!("Сұрау салуға ЭЦҚ-мен қол қою тексерілмеді ({why})."),
                &format!("Подпись запроса ЭЦП не прошла проверку ({why})."),
                &format!("The EDS signature of the request did not verify ({why})."),
            ),
            detail,
        )
    };
    let Some(ca) = &setup.citizen_ca else {
        return Err(fail("no CA", json!({ "ca": null })));
    };
    let v = drn_docs::verify_detached(content, cms, ca)
        .map_err(|e| fail("malformed", json!({ "error": e.to_string() })))?;
    let Some(s) = v.signatures.first() else {
        return Err(fail("no signature", json!({ "error": v.error })));
    };
    if !v.genuine {
        return Err(fail(
            "invalid",
            json!({ "valid": s.valid, "trusted": s.trusted, "error": s.error }),
        ));
    }
    let want = format!("IIN{iin}");
    if s.serial_number.as_deref() != Some(want.as_str()) {
        return Err(fail(
            "another person's certificate",
            json!({ "signer": s.serial_number }),
        ));
    }
    Ok(json!({ "signer": s.subject, "certificate": s.certificate_serial }))
}
