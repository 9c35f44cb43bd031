//! The engine's domain types: identifiers, roles, actors, units and views.

use std::fmt;

use drn_core::catalog::UnitRole;
use drn_core::{Channel, Iin, Sex, Text, Urgency, WorkingHours};
use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::Refusal;

/// Whether `s` is a UUID in its canonical text (lower-case, hyphenated): what the engine
/// writes and what PostgreSQL's `uuid` prints back, so that a lookup finds the same rows on
/// both backends.
pub fn is_canonical_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

/// `s` bound as a UUID (PostgreSQL's `uuid`, migration 32) when it is one (see
/// [`is_canonical_uuid`]); `None` when it is not, and so names no row: the caller answers
/// "not found" without asking the database, which would refuse the statement.
pub fn uuid_value(s: &str) -> Option<drn_store::Value> {
    is_canonical_uuid(s).then(|| drn_store::Value::uuid(s))
}

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`.
            pub fn parse(s: &str) -> Result<Self, EngineError> {
                if is_identifier(s) {
                    Ok(Self(s.to_string()))
                } else {
                    Err(EngineError::invalid($what, $crate::Refusal::NotAnIdentifier))
                }
            }
        }

        id_type!(@common $name);
    };
    ($(#[$m:meta])* uuid $name:ident, $what:literal) => {
        $(#[$m])*
        ///
        /// Always a UUID (the engine makes it, UUIDv7): PostgreSQL keeps it as `uuid`
        /// (migration 32), and it is bound as one.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier as [`Self::parse`] of any identifier did before
            /// migration 32: text that is no identifier at all is refused as such; an
            /// identifier that is not a UUID (lower-case, hyphenated: see
            /// [`is_canonical_uuid`]) names no row, and is refused as an unknown one is,
            /// "not found", without asking the database (whose `uuid` would refuse it).
            pub fn parse(s: &str) -> Result<Self, EngineError> {
                if !is_identifier(s) {
                    Err(EngineError::invalid($what, $crate::Refusal::NotAnIdentifier))
                } else if !is_canonical_uuid(s) {
                    Err(EngineError::not_found($what, s))
                } else {
                    Ok(Self(s.to_string()))
                }
            }
        }

        /// Read from JSON (a command, a stored view) only as a UUID: see [`Self::parse`].
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                if is_canonical_uuid(&s) {
                    Ok(Self(s))
                } else {
                    Err(serde::de::Error::custom(format!("{} id {s:?} is not a UUID", $what)))
                }
            }
        }

        impl From<&$name> for drn_store::Value {
            fn from(id: &$name) -> drn_store::Value {
                drn_store::Value::uuid(id.0.clone())
            }
        }

        impl $name {
            /// The id or NULL, bound as a UUID.
            pub fn value_opt(id: Option<&$name>) -> drn_store::Value {
                drn_store::Value::uuid_opt(id.map(|i| i.0.clone()))
            }
        }

        id_type!(@common $name);
    };
    (@common $name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub(crate) fn from_db(s: String) -> Self {
                Self(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`.
fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
}

id_type!(
    /// An application (заявление, өтініш).
    uuid ApplicationId, "application"
);
id_type!(
    /// An organisational unit (структурное подразделение).
    UnitId, "unit"
);
id_type!(
    /// A registry passed between units (реестр).
    uuid RegistryId, "registry"
);

impl ApplicationId {
    pub fn new() -> ApplicationId {
        ApplicationId(uuid::Uuid::now_v7().to_string())
    }
}

impl RegistryId {
    pub fn new() -> RegistryId {
        RegistryId(uuid::Uuid::now_v7().to_string())
    }
}

impl Default for ApplicationId {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for RegistryId {
    fn default() -> Self {
        Self::new()
    }
}

/// A kind of organisational unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Counter of the State Corporation (ЦОН).
    Counter,
    /// District/city migration unit.
    District,
    /// Regional migration directorate.
    Region,
    /// Central migration body (the republic).
    Centre,
    /// Document production (РГП «ИПЦ»).
    Production,
}

impl UnitKind {
    pub fn code(self) -> &'static str {
        match self {
            UnitKind::Counter => "counter",
            UnitKind::District => "district",
            UnitKind::Region => "region",
            UnitKind::Centre => "centre",
            UnitKind::Production => "production",
        }
    }

    pub fn parse(s: &str) -> Result<UnitKind, EngineError> {
        Ok(match s {
            "counter" => UnitKind::Counter,
            "district" => UnitKind::District,
            "region" => UnitKind::Region,
            "centre" => UnitKind::Centre,
            "production" => UnitKind::Production,
            _ => {
                return Err(EngineError::invalid(
                    "kind",
                    crate::Reason::note(format!("unknown unit kind {s:?}")),
                ))
            }
        })
    }
}

/// A role of a user. Permissions are scoped to the user's unit and what lies under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CounterOperator,
    DistrictOfficer,
    RegionalOfficer,
    CentralOfficer,
    ProductionOperator,
    Supervisor,
    Auditor,
    Administrator,
    Citizen,
    /// The system itself (automated steps, state-system callbacks).
    System,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::CounterOperator => "counter_operator",
            Role::DistrictOfficer => "district_officer",
            Role::RegionalOfficer => "regional_officer",
            Role::CentralOfficer => "central_officer",
            Role::ProductionOperator => "production_operator",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
            Role::Citizen => "citizen",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Result<Role, EngineError> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            EngineError::invalid("role", crate::Reason::note(format!("unknown role {s:?}")))
        })
    }

    /// The staff role that performs a catalog step of this unit role.
    /// The role that does a step of `unit`'s role at a unit of `kind`: the step's own,
    /// except a counter's step held by a district. That happens to an application taken in
    /// at the migration unit itself (channel `unit`): the document comes back to that unit,
    /// whose officer hands it over. ASSUMPTION: the seeds draw the hand-over at a counter
    /// only (S1 2018, annex 1 table 1 row 10); the unit-channel route of annex 3 table 2
    /// names no counter, so the unit that took the request in issues.
    pub fn for_step_at(unit: UnitRole, kind: UnitKind) -> Role {
        match (unit, kind) {
            (UnitRole::Counter, UnitKind::District) => Role::DistrictOfficer,
            _ => Role::for_step(unit),
        }
    }

    pub fn for_step(unit: UnitRole) -> Role {
        match unit {
            UnitRole::Counter => Role::CounterOperator,
            UnitRole::District => Role::DistrictOfficer,
            UnitRole::Region => Role::RegionalOfficer,
            UnitRole::Centre => Role::CentralOfficer,
            UnitRole::Production => Role::ProductionOperator,
            UnitRole::Applicant => Role::Citizen,
            UnitRole::Portal | UnitRole::System => Role::System,
        }
    }
}

/// Who performs a command or a read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Actor {
    /// Staff username, `citizen:IIN`, `client:NAME` or `system`.
    pub id: String,
    pub role: Role,
    pub unit: Option<UnitId>,
    pub iin: Option<Iin>,
}

impl Actor {
    pub fn staff(id: &str, role: Role, unit: UnitId) -> Actor {
        Actor {
            id: id.to_string(),
            role,
            unit: Some(unit),
            iin: None,
        }
    }

    pub fn citizen(iin: Iin) -> Actor {
        Actor {
            id: format!("citizen:{iin}"),
            role: Role::Citizen,
            unit: None,
            iin: Some(iin),
        }
    }

    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            role: Role::System,
            unit: None,
            iin: None,
        }
    }
}

/// An organisational unit with its place in the tree and its working hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Unit {
    pub id: UnitId,
    pub kind: UnitKind,
    pub parent: Option<UnitId>,
    /// KATO region code (AB), e.g. "71" Astana.
    pub region_code: Option<String>,
    pub kato: Option<String>,
    pub name: Text,
    #[schema(value_type = Object)]
    pub hours: WorkingHours,
}

/// Status of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InProgress,
    /// In a registry sent to the next unit, not yet received.
    InTransit,
    Refused,
    Annulled,
    Issued,
    /// The package was incomplete: refused at intake with a receipt.
    IntakeRefused,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::InProgress => "in_progress",
            Status::InTransit => "in_transit",
            Status::Refused => "refused",
            Status::Annulled => "annulled",
            Status::Issued => "issued",
            Status::IntakeRefused => "intake_refused",
        }
    }

    /// The status as the `applications` table keeps it: in transit is the state of the
    /// application's registry (sent, not yet received), so its row says in progress.
    pub fn stored(self) -> &'static str {
        match self {
            Status::InTransit => Status::InProgress.code(),
            s => s.code(),
        }
    }

    pub fn parse(s: &str) -> Result<Status, EngineError> {
        serde_json::from_value(serde_json::Value::String(s.to_string())).map_err(|_| {
            EngineError::invalid(
                "status",
                crate::Reason::note(format!("unknown status {s:?}")),
            )
        })
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::InProgress | Status::InTransit)
    }
}

/// An application as stored: its service version, where it is and when it is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Application {
    pub id: ApplicationId,
    /// The number on the talon.
    pub number: String,
    pub service: String,
    pub version: String,
    pub process: String,
    pub channel: Channel,
    pub urgency: Urgency,
    pub applicant: String,
    pub accepted_unit: UnitId,
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: Timestamp,
    pub status: Status,
    pub step: u32,
    pub holder_unit: UnitId,
    #[schema(value_type = String, format = DateTime)]
    pub step_entered_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub step_due_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    pub registry: Option<RegistryId>,
    pub revision: i64,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What an event of an application's history records. The `events` table and the API
/// keep the same snake_case text (the serde form, [`EventKind::code`]). The set is closed:
/// these are all the kinds the engine has ever written (migration 0011 copied the older
/// rows unchanged), so a stored kind outside it is a corrupt row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Accepted (приём заявления): the talon is given; its data name the talon, the
    /// version and the version's act.
    Accepted,
    /// Refused at intake, the package being incomplete: the receipt (расписка об отказе
    /// в приёме документов) and what was missing.
    IntakeRefused,
    /// The application entered a step at the unit that performs it, due at `due_at`.
    StepEntered,
    /// A step was done: by its unit, or, for a registry's applications, by sending the
    /// registry (then a registry's event).
    StepCompleted,
    /// A step's check ran (S5 the address data, S6-S8 the special records): whether it
    /// passed, and what it found.
    Checked,
    /// Motivated refusal (мотивированный отказ).
    Refused,
    /// Annulment (аннулирование).
    Annulled,
    /// Returned for correction to an earlier step.
    Returned,
    /// The result was handed to the applicant or a representative (выдача результата).
    Issued,
    /// Put in a registry (реестр) formed at a handover step: a registry's event.
    InRegistry,
    /// A registry was received with its incoming number: a registry's event.
    RegistryReceived,
    /// The service ended with an error message (S9, seed 004: the data do not match, or
    /// an IIN could not be formed).
    ErrorMessage,
    /// The applicant's written consent was recorded (S9, seed 004 para 9.3; письменное
    /// согласие).
    ConsentObtained,
    /// An IIN was formed for a foreigner and written in the journal (S9, seed 004 paras
    /// 6.3, 9.5; формирование ИИН).
    IinFormed,
    /// The district corrected the address data (S5; the corrected РКА).
    AddressCorrected,
}

impl EventKind {
    pub const ALL: [EventKind; 15] = [
        EventKind::Accepted,
        EventKind::IntakeRefused,
        EventKind::StepEntered,
        EventKind::StepCompleted,
        EventKind::Checked,
        EventKind::Refused,
        EventKind::Annulled,
        EventKind::Returned,
        EventKind::Issued,
        EventKind::InRegistry,
        EventKind::RegistryReceived,
        EventKind::ErrorMessage,
        EventKind::ConsentObtained,
        EventKind::IinFormed,
        EventKind::AddressCorrected,
    ];

    /// The kind as the `events` table and the API spell it (its serde form).
    pub fn code(self) -> &'static str {
        match self {
            EventKind::Accepted => "accepted",
            EventKind::IntakeRefused => "intake_refused",
            EventKind::StepEntered => "step_entered",
            EventKind::StepCompleted => "step_completed",
            EventKind::Checked => "checked",
            EventKind::Refused => "refused",
            EventKind::Annulled => "annulled",
            EventKind::Returned => "returned",
            EventKind::Issued => "issued",
            EventKind::InRegistry => "in_registry",
            EventKind::RegistryReceived => "registry_received",
            EventKind::ErrorMessage => "error_message",
            EventKind::ConsentObtained => "consent_obtained",
            EventKind::IinFormed => "iin_formed",
            EventKind::AddressCorrected => "address_corrected",
        }
    }

    /// A stored kind; one the engine never writes is a corrupt row.
    pub fn parse(s: &str) -> Result<EventKind, EngineError> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or_else(|| EngineError::Corrupt(format!("unknown event kind {s:?}")))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod id_tests {
    use super::{ApplicationId, RegistryId, UnitId};

    /// An application's and a registry's id is a UUID (migration 32): another identifier
    /// names none and is "not found", as an unknown one is; text that is no identifier at
    /// all is refused as before. A unit's id stays any identifier.
    #[test]
    fn uuid_ids_parse_only_uuids() {
        let id = ApplicationId::new();
        assert_eq!(ApplicationId::parse(id.as_str()).unwrap(), id);
        let r = RegistryId::new();
        assert_eq!(RegistryId::parse(r.as_str()).unwrap(), r);
        for other in [
            "K-1",
            "0",
            &id.as_str().to_uppercase(),
            &id.as_str().replace('-', ""),
        ] {
            assert_eq!(
                ApplicationId::parse(other).unwrap_err().code(),
                "not_found",
                "{other}"
            );
            assert_eq!(
                RegistryId::parse(other).unwrap_err().code(),
                "not_found",
                "{other}"
            );
        }
        assert_eq!(ApplicationId::parse("a b").unwrap_err().code(), "invalid");
        assert_eq!(UnitId::parse("C71-1").unwrap().as_str(), "C71-1");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ApplicationId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ApplicationId>("\"K-1\"").is_err());
    }
}

#[cfg(test)]
mod event_kind_tests {
    use super::EventKind;

    #[test]
    fn code_is_the_serde_form() {
        for k in EventKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.code());
            assert_eq!(EventKind::parse(k.code()).unwrap(), k);
        }
        assert!(EventKind::parse("sent").is_err());
    }
}

/// One event of an application's history: its own, or one of a registry it was in
/// (formed, sent, received: the registry's event, shown in each of its applications'
/// histories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The event's place in the history, which is in this order. The step an application
    /// enters on a registry's receipt shares the receipt's place, right after it.
    pub seq: i64,
    pub application: ApplicationId,
    pub kind: EventKind,
    pub step: Option<u32>,
    pub actor: String,
    pub unit: Option<UnitId>,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Timestamp>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A registry between two units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registry {
    pub id: RegistryId,
    pub number: String,
    pub kind: String,
    pub service: String,
    pub version: String,
    pub process: String,
    pub step: u32,
    pub from_unit: UnitId,
    pub to_unit: UnitId,
    pub status: String,
    pub formed_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub formed_at: Timestamp,
    pub signed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signed_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    pub received_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub received_at: Option<Timestamp>,
    pub incoming_number: Option<String>,
    pub revision: i64,
    pub applications: Vec<ApplicationId>,
}

/// A person in the state database of individuals, as DRN keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub iin: Iin,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub birth_date: jiff::civil::Date,
    pub sex: drn_core::Sex,
    pub citizenship: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

// The commands and what they produce.

/// Intake of an application (приём заявления).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    pub service: String,
    pub channel: Channel,
    pub urgency: Urgency,
    pub applicant: Iin,
    /// Which of the version's processes for this channel (`catalog`'s process id), where a
    /// channel has more than one (the 2014 and 2018 texts describe the counter's work both
    /// as the basic process and as the electronic service through the State Corporation,
    /// annex 3 table 2): the first one when absent.
    #[serde(default)]
    pub process: Option<String>,
    /// Indices (from 0) of the catalog checklist's documents that were presented.
    #[serde(default)]
    pub documents_presented: Vec<usize>,
    /// Documents the operator found missing or defective, in words (for the receipt).
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Who receives a result in place of the applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    pub iin: Iin,
    /// The power of attorney or other document that allows it.
    pub authority: String,
}

/// The longest reason of a refusal or an annulment, in characters: it is printed whole on
/// the refusal's document and shown on the application's card.
pub const MAX_REASON: usize = 1000;

/// The most missing documents an intake refusal names in the officer's own words (each at
/// most `MAX_FIELD_TEXT` characters): they are printed on the receipt (issue 29).
pub const MAX_MISSING: usize = 10;

/// A command of the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    Accept(Accept),
    /// Intake for a foreigner without an IIN (S9), identified by passport.
    AcceptForeigner(AcceptForeigner),
    /// Runs the service's check at the application's current step (S5 address data, S6-S8
    /// special records) and records its outcome.
    Check {
        application: ApplicationId,
        revision: i64,
    },
    /// The applicant came for the result: the hand-over step's limit starts (issue 30
    /// item 12).
    ApplicantArrived {
        application: ApplicationId,
        revision: i64,
    },
    CompleteStep {
        application: ApplicationId,
        revision: i64,
        #[serde(default)]
        note: Option<String>,
    },
    /// Motivated refusal (мотивированный отказ).
    Refuse {
        application: ApplicationId,
        revision: i64,
        reason: String,
    },
    Annul {
        application: ApplicationId,
        revision: i64,
        reason: String,
    },
    /// Return for correction to an earlier step.
    Return {
        application: ApplicationId,
        revision: i64,
        to_step: u32,
        reason: String,
    },
    /// Hand the result to the applicant (the last step).
    Issue {
        application: ApplicationId,
        revision: i64,
        receiver: Iin,
        #[serde(default)]
        representative: Option<Representative>,
    },
    /// Form registries of the applications waiting at the actor's unit at a handover step,
    /// one per destination unit.
    FormRegistry {
        service: String,
        version: String,
        process: String,
        step: u32,
    },
    SignRegistry {
        registry: RegistryId,
        revision: i64,
    },
    SendRegistry {
        registry: RegistryId,
        revision: i64,
    },
    /// Receive a registry with an incoming number: its applications enter the next step.
    ReceiveRegistry {
        registry: RegistryId,
        revision: i64,
        #[serde(default)]
        incoming_number: Option<String>,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Accept(_) => "accept",
            Command::AcceptForeigner(_) => "accept_foreigner",
            Command::Check { .. } => "check",
            Command::ApplicantArrived { .. } => "applicant_arrived",
            Command::CompleteStep { .. } => "complete_step",
            Command::Refuse { .. } => "refuse",
            Command::Annul { .. } => "annul",
            Command::Return { .. } => "return",
            Command::Issue { .. } => "issue",
            Command::FormRegistry { .. } => "form_registry",
            Command::SignRegistry { .. } => "sign_registry",
            Command::SendRegistry { .. } => "send_registry",
            Command::ReceiveRegistry { .. } => "receive_registry",
        }
    }

    pub(crate) fn subject(&self) -> String {
        match self {
            Command::Accept(a) => format!("person:{}", a.applicant),
            Command::AcceptForeigner(f) => format!("foreigner:{}", f.foreigner.key()),
            Command::Check { application, .. } | Command::ApplicantArrived { application, .. } => {
                format!("application:{application}")
            }
            Command::CompleteStep { application, .. }
            | Command::Refuse { application, .. }
            | Command::Annul { application, .. }
            | Command::Return { application, .. }
            | Command::Issue { application, .. } => format!("application:{application}"),
            Command::FormRegistry { service, step, .. } => format!("registry:{service}:{step}"),
            Command::SignRegistry { registry, .. }
            | Command::SendRegistry { registry, .. }
            | Command::ReceiveRegistry { registry, .. } => format!("registry:{registry}"),
        }
    }
}

/// What a command produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Accepted: the talon number is the application's number.
    Accepted {
        application: Application,
    },
    /// Refused at intake, with the receipt (расписка об отказе в приёме документов).
    IntakeRefused {
        application: Application,
        receipt: String,
        missing: Vec<String>,
    },
    Application {
        application: Application,
    },
    Registries {
        registries: Vec<Registry>,
        /// The applications the step's check stopped (S1's wanted persons): left out of
        /// the registries, they stay at the step for a motivated refusal.
        #[serde(default)]
        left_out: Vec<ApplicationId>,
    },
    Registry {
        registry: Registry,
    },
}

impl Outcome {
    pub(crate) fn subject(&self) -> Option<String> {
        match self {
            Outcome::Accepted { application } | Outcome::IntakeRefused { application, .. } => {
                Some(format!("application:{}", application.id))
            }
            _ => None,
        }
    }
}

/// A foreigner's identity data, as in the passport (S6-S9).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Foreigner {
    pub surname: String,
    pub given_name: String,
    #[schema(value_type = String, format = Date)]
    pub birth_date: Date,
    pub sex: Sex,
    /// ISO 3166-1 alpha-3 code (an alpha-2 code is taken and held as its alpha-3).
    pub citizenship: String,
    pub passport: String,
}

impl Foreigner {
    /// The foreigner's key while they have no IIN: citizenship and passport.
    pub fn key(&self) -> String {
        format!(
            "F:{}:{}",
            self.citizenship_code(),
            self.passport.trim().to_uppercase()
        )
    }

    /// The citizenship as its ISO 3166-1 alpha-3 code (as given when it is none).
    pub fn citizenship_code(&self) -> String {
        drn_core::country::alpha3(&self.citizenship)
            .map(String::from)
            .unwrap_or_else(|| self.citizenship.trim().to_uppercase())
    }

    /// The oldest age taken as plausible for a living applicant (ASSUMPTION: the seeds set
    /// none; the oldest verified human lived 122 years).
    pub const MAX_AGE_YEARS: i16 = 120;

    /// Checks the passport data against `today` (the day of intake) and writes the
    /// citizenship as its alpha-3 code: seed 004 para 9.5 answers an application «не
    /// соответствует идентификационным данным заявителя» with an error message; data no
    /// passport can hold (a citizenship that is no country, a birth after the intake, an
    /// age past any living person's) are refused at intake (issue 30 item 10).
    pub(crate) fn validate_on(&mut self, field: &str, today: Date) -> Result<(), EngineError> {
        self.validate(field)?;
        let Some(code) = drn_core::country::alpha3(&self.citizenship) else {
            return Err(EngineError::invalid(
                format!("{field}.citizenship"),
                Refusal::CitizenshipIso,
            ));
        };
        self.citizenship = code.to_string();
        if self.birth_date > today {
            return Err(EngineError::invalid(
                format!("{field}.birth_date"),
                Refusal::BirthAfterIntake,
            ));
        }
        let oldest = today
            .checked_sub(jiff::Span::new().years(Self::MAX_AGE_YEARS))
            .map_err(|e| EngineError::Corrupt(e.to_string()))?;
        if self.birth_date < oldest {
            return Err(EngineError::invalid(
                format!("{field}.birth_date"),
                Refusal::BirthTooEarly,
            ));
        }
        Ok(())
    }

    pub(crate) fn validate(&self, field: &str) -> Result<(), EngineError> {
        if self.surname.trim().is_empty() || self.given_name.trim().is_empty() {
            return Err(EngineError::invalid(field, Refusal::SurnameAndNameRequired));
        }
        check_name(&format!("{field}.surname"), &self.surname)?;
        check_name(&format!("{field}.given_name"), &self.given_name)?;
        let c = self.citizenship.trim();
        if !(2..=3).contains(&c.len()) || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            return Err(EngineError::invalid(
                format!("{field}.citizenship"),
                Refusal::CitizenshipCode,
            ));
        }
        if c.eq_ignore_ascii_case("KZ") || c.eq_ignore_ascii_case("KAZ") {
            return Err(EngineError::invalid(
                format!("{field}.citizenship"),
                Refusal::ForForeignersOnly,
            ));
        }
        let p = self.passport.trim();
        if !(5..=20).contains(&p.len()) || !p.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            return Err(EngineError::invalid(
                format!("{field}.passport"),
                Refusal::PassportNumberForm,
            ));
        }
        Ok(())
    }
}

/// The longest name (a surname, a given name) taken: longer is a typing error, not a name.
pub const MAX_NAME: usize = 60;

/// Whether `c` may stand in a person's name: a Kazakh, Russian or Latin letter (with the
/// Latin letters' diacritics), a hyphen, an apostrophe or a space.
fn name_char(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c, '\u{00C0}'..='\u{024F}' if c.is_alphabetic())
        || matches!(c, '\u{0400}'..='\u{04FF}' if c.is_alphabetic())
        || matches!(c, '-' | '\'' | '’' | ' ')
}

/// A name as a document prints it (issue 29): the name characters only, spaces collapsed,
/// at most [`MAX_NAME`] characters a part. Names are checked at intake ([`check_name`]),
/// but a name stored before that or given by ГБД ФЛ may hold anything; a signed document
/// prints no markup, control or direction characters from it. A name with nothing left
/// prints as "—".
pub fn printed_name(name: &str) -> String {
    // Invisible characters (direction overrides, zero-width) go; others become spaces.
    let kept: String = drn_docs::render::printable(name, 4 * MAX_NAME)
        .chars()
        .map(|c| if name_char(c) || c == '.' { c } else { ' ' })
        .collect();
    let parts: Vec<String> = kept
        .split_whitespace()
        .map(|w| w.chars().take(MAX_NAME).collect())
        .collect();
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" ")
    }
}

/// A name as a name (issue 29): 1 to [`MAX_NAME`] characters, letters (Kazakh, Russian,
/// Latin), hyphens, apostrophes and spaces, beginning with a letter. Each fault has its
/// own message.
pub fn check_name(field: &str, name: &str) -> Result<(), EngineError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(EngineError::invalid(field, Refusal::NameRequired));
    }
    if n.chars().count() > MAX_NAME {
        return Err(EngineError::invalid(field, Refusal::NameTooLong));
    }
    if !n.chars().all(name_char) {
        return Err(EngineError::invalid(field, Refusal::NameLetters));
    }
    if !n.chars().next().is_some_and(char::is_alphabetic) {
        return Err(EngineError::invalid(field, Refusal::NameBeginsWithLetter));
    }
    Ok(())
}

/// Intake of an application of a foreigner who has no IIN (S9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptForeigner {
    pub service: String,
    pub channel: Channel,
    pub urgency: Urgency,
    pub foreigner: Foreigner,
    #[serde(default)]
    pub documents_presented: Vec<usize>,
    #[serde(default)]
    pub missing: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
