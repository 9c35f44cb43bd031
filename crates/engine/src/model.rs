//! The engine's domain types: identifiers, roles, actors, units and views.

use std::fmt;

use drn_core::catalog::UnitRole;
use drn_core::{Iin, Text, WorkingHours};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::EngineError;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: 1 to 64 characters of letters, digits, `-`, `_`, `.`, `:`.
            pub fn parse(s: &str) -> Result<Self, EngineError> {
                let ok = !s.is_empty()
                    && s.len() <= 64
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
                if ok {
                    Ok(Self(s.to_string()))
                } else {
                    Err(EngineError::invalid($what, format!("{s:?} is not a valid identifier")))
                }
            }

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

id_type!(
    /// An application (заявление, өтініш).
    ApplicationId, "application"
);
id_type!(
    /// An organisational unit (структурное подразделение).
    UnitId, "unit"
);
id_type!(
    /// A registry passed between units (реестр).
    RegistryId, "registry"
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
                    format!("unknown unit kind {s:?}"),
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
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| EngineError::invalid("role", format!("unknown role {s:?}")))
    }

    /// The staff role that performs a catalog step of this unit role.
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
        serde_json::from_value(serde_json::Value::String(s.to_string()))
            .map_err(|_| EngineError::invalid("status", format!("unknown status {s:?}")))
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
    pub channel: String,
    pub urgency: String,
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

/// One event of an application's history: its own, or one of a registry it was in
/// (formed, sent, received: the registry's event, shown in each of its applications'
/// histories).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The event's place in the history, which is in this order. The step an application
    /// enters on a registry's receipt shares the receipt's place, right after it.
    pub seq: i64,
    pub application: ApplicationId,
    pub kind: String,
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
