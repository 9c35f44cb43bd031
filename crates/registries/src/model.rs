//! The data the ports exchange, and the person record the sandbox is seeded with.

use drn_core::{Iin, Sex, Text};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// The sandbox's seed record

/// One person as all the sandboxed systems together know them. The engine builds these
/// from its demo `Person` (`data.registration`, `data.documents`, `data.phone`) through a
/// small adapter; the fields the demo lacks default to a person with no special story
/// (capable, no statuses, no records, consent given, phone in БМГ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxPerson {
    pub iin: Iin,
    pub surname: String,
    pub given_name: String,
    #[serde(default)]
    pub patronymic: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    /// ISO 3166-1 alpha-2, "KZ" for citizens.
    pub citizenship: String,
    #[serde(default)]
    pub nationality: Option<String>,
    /// Mobile phone as the person gave it (any formatting; compared by digits).
    #[serde(default)]
    pub phone: Option<String>,
    /// False: the phone is not registered to this person in БМГ.
    #[serde(default = "yes")]
    pub phone_in_bmg: bool,
    /// Permanent registration at the place of residence (step 6); `None`: none.
    #[serde(default)]
    pub registration: Option<Registration>,
    #[serde(default)]
    pub id_card: Option<IdCard>,
    #[serde(default)]
    pub legal_capacity: LegalCapacity,
    /// АИС СИК.
    #[serde(default)]
    pub social_statuses: Vec<SocialStatus>,
    /// ИС ЗАГС: changes of surname, name, patronymic, date of birth, nationality.
    #[serde(default)]
    pub zags_changes: Vec<ZagsChange>,
    /// ИС ЗАГС's place of birth; `None`: ЗАГС has no record (the engine falls back to the
    /// historical one, seed 001 п. 5 4)).
    #[serde(default)]
    pub place_of_birth: Option<PlaceOfBirth>,
    /// On the wanted-persons list (лица, находящиеся в розыске).
    #[serde(default)]
    pub wanted: bool,
    /// Special records (специальные учёты).
    #[serde(default)]
    pub special_records: Vec<SpecialRecord>,
    /// The person refuses the personal-data access request.
    #[serde(default)]
    pub consent_denied: bool,
    /// Digital-ID override: `Some(v)` makes every photo of this person match (`true`) or
    /// not (`false`); `None`: the hash rule decides ([`crate::Sandbox`]).
    #[serde(default)]
    pub photo_match: Option<bool>,
    /// Digital-ID: the liveness check fails for this person.
    #[serde(default)]
    pub liveness_fails: bool,
    /// ГБД ФЛ holds no photo of this person (of their current document): the photo read
    /// answers `NotFound`. Otherwise the sandbox draws one from the IIN ([`crate::sandbox`]).
    #[serde(default)]
    pub no_photo: bool,
}

fn yes() -> bool {
    true
}

impl SandboxPerson {
    /// A person with no special story.
    pub fn new(
        iin: Iin,
        surname: &str,
        given_name: &str,
        patronymic: Option<&str>,
        birth_date: Date,
        sex: Sex,
    ) -> SandboxPerson {
        SandboxPerson {
            iin,
            surname: surname.into(),
            given_name: given_name.into(),
            patronymic: patronymic.map(Into::into),
            birth_date,
            sex,
            citizenship: "KZ".into(),
            nationality: None,
            phone: None,
            phone_in_bmg: true,
            registration: None,
            id_card: None,
            legal_capacity: LegalCapacity::Full,
            social_statuses: Vec::new(),
            zags_changes: Vec::new(),
            place_of_birth: None,
            wanted: false,
            special_records: Vec::new(),
            consent_denied: false,
            photo_match: None,
            liveness_fails: false,
            no_photo: false,
        }
    }

    /// Nothing in the record would stop the online renewal before the document checks.
    pub fn is_plain(&self) -> bool {
        self.registration.is_some()
            && self.legal_capacity == LegalCapacity::Full
            && self.social_statuses.is_empty()
            && self.zags_changes.is_empty()
            && !self.wanted
            && self.special_records.is_empty()
            && !self.consent_denied
            && self.phone.is_some()
            && self.phone_in_bmg
            && self.photo_match != Some(false)
            && !self.liveness_fails
    }
}

/// Permanent registration at the place of residence (постоянная регистрация).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// KATO region code (AB).
    pub region: String,
    #[serde(default)]
    pub district: String,
    pub address: String,
    pub since: Date,
}

/// An ID card (удостоверение личности).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdCard {
    pub number: String,
    pub issued: Date,
    pub expires: Date,
    #[serde(default)]
    pub issuer: String,
}

/// Legal capacity (дееспособность / әрекет қабілеттілігі).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalCapacity {
    /// Полная дееспособность.
    #[default]
    Full,
    /// Ограниченно дееспособный (by a court).
    Limited,
    /// Недееспособный (by a court).
    Incapable,
}

/// What changed in an act of civil status (seed 001 п. 3 step 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangedField {
    Surname,
    GivenName,
    Patronymic,
    BirthDate,
    Nationality,
}

/// A change recorded by ИС ЗАГС (перемена фамилии, имени, отчества, даты рождения,
/// национальности).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZagsChange {
    pub field: ChangedField,
    pub old: String,
    pub new: String,
    /// Date of the act record.
    pub date: Date,
    /// Number of the act record (номер актовой записи).
    pub act_record: String,
}

/// Where the record of the place of birth comes from (seed 001 п. 5 4)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceSource {
    /// ИС ЗАГС.
    Zags,
    /// The historical record of the documented population.
    Historical,
}

/// Place of birth. The blank prints the country only (seed 001 п. 5 and п. 5 4)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceOfBirth {
    /// ISO 3166-1 alpha-2 (or a historical code such as "SU").
    pub country: String,
    /// The country's name as printed on the blank.
    pub country_name: Text,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub locality: Option<String>,
    pub source: PlaceSource,
}

/// A social status in АИС СИК.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialStatus {
    pub code: String,
    pub name: Text,
    pub since: Date,
    #[serde(default)]
    pub until: Option<Date>,
    /// The sandbox's label: this status exempts from the state duty for an ID card (Tax
    /// Code art. 622, seed 001 п. 3 step 14). The list of exempting statuses is the Tax
    /// Code's; the engine should keep it as dated data and may ignore this label.
    pub exempts_state_duty: bool,
}

impl SocialStatus {
    pub fn active_on(&self, day: Date) -> bool {
        self.since <= day && self.until.is_none_or(|u| day <= u)
    }
}

/// A special record (специальный учёт) other than the wanted list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialRecord {
    pub code: String,
    pub name: Text,
    pub since: Date,
}

// ---------------------------------------------------------------------------------------
// Requests and answers

/// A request to the personal-data access-control service (step 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    pub iin: Iin,
    /// What the data is for (shown to the person).
    pub purpose: String,
}

/// The person's answer to a consent request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Consent {
    Granted { consent_id: String, at: Timestamp },
    Denied { reason: Text },
}

impl Consent {
    pub fn is_granted(&self) -> bool {
        matches!(self, Consent::Granted { .. })
    }
}

/// ГБД ФЛ's record of a person (step 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GbdPerson {
    pub iin: Iin,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: Date,
    pub sex: Sex,
    pub citizenship: String,
    pub nationality: Option<String>,
    pub registration: Option<Registration>,
    pub id_card: Option<IdCard>,
}

/// The photo ГБД ФЛ holds of a person: the one of their current identity document, which
/// the regional officer compares with the attached photo at step 17 of S1E (seed 001 п. 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordPhoto {
    pub iin: Iin,
    /// `image/png` or `image/jpeg`.
    pub mime: String,
    /// The image, base64 (standard alphabet).
    pub image_base64: String,
}

/// БМГ's answer (step 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCheck {
    pub registered: bool,
}

/// Digital-ID's identification of a person (step 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identification {
    /// The selfie is of a live person.
    pub liveness: bool,
    /// The selfie matches the person's photo in ГБД ФЛ (and liveness passed).
    pub identified: bool,
    pub session_id: String,
    pub decided_by: MatchRule,
}

/// Digital-ID's comparison of an attached photo with ГБД ФЛ's (step 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoMatch {
    pub matched: bool,
    /// SHA-256 of the photo, hex.
    pub photo_sha256: String,
    pub decided_by: MatchRule,
}

/// What decided a sandbox face match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchRule {
    /// The person's seeded override.
    PersonOverride,
    /// An override for this photo's hash.
    PhotoOverride,
    /// The hash rule.
    HashRule,
    /// Liveness failed first.
    Liveness,
}

/// Legal capacity's answer (step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityAnswer {
    pub capacity: LegalCapacity,
}

/// A new invoice for a state duty (step 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRequest {
    pub iin: Iin,
    /// Whole tenge (₸).
    pub amount_tenge: u64,
    pub purpose: String,
    /// The caller's idempotency key (e.g. the application id): a repeated request with the
    /// same reference returns the first invoice.
    pub reference: String,
}

/// An invoice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Unpaid,
    Paid,
    Refunded,
}

/// An invoice for a state duty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub iin: Iin,
    pub amount_tenge: u64,
    pub purpose: String,
    pub reference: String,
    pub status: InvoiceStatus,
    pub created_at: Timestamp,
    pub paid_at: Option<Timestamp>,
    pub refunded_at: Option<Timestamp>,
}

/// The wanted-persons and special-records check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCheck {
    pub wanted: bool,
    pub records: Vec<SpecialRecord>,
}

impl RecordCheck {
    /// On the wanted list or on any special record.
    pub fn on_record(&self) -> bool {
        self.wanted || !self.records.is_empty()
    }
}
