//! The service catalog: every service of the seeds as data, versioned by the legal act
//! that set it (`catalog/services/*.toml`, format in `catalog/SCHEMA.md`).
//!
//! The loader is pure: it takes file names and texts and returns a validated catalog or
//! errors naming file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::civil::Date;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::calendar::WorkingDays;
use crate::text::Text;

/// Urgency category of an application (категория срочности): 1, 2, 3 or the general order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Urgency {
    #[serde(rename = "1")]
    One,
    #[serde(rename = "2")]
    Two,
    #[serde(rename = "3")]
    Three,
    /// The general order (общий порядок).
    #[serde(rename = "general")]
    General,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [Urgency::One, Urgency::Two, Urgency::Three, Urgency::General];

    pub fn parse(s: &str) -> Result<Urgency, CatalogError> {
        match s.trim() {
            "1" => Ok(Urgency::One),
            "2" => Ok(Urgency::Two),
            "3" => Ok(Urgency::Three),
            "general" | "g" => Ok(Urgency::General),
            other => Err(CatalogError::bare(format!(
                "urgency must be 1, 2, 3 or general, got {other:?}"
            ))),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Urgency::One => "1",
            Urgency::Two => "2",
            Urgency::Three => "3",
            Urgency::General => "general",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The role of an organisational unit in a service. The seeds name these differently
/// across years (see `unit_name` on each step); the engine works with the role.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UnitRole {
    /// The applicant, in the portal's processes.
    Applicant,
    /// The e-government portal (ПЭП) or mobile app, acting automatically.
    Portal,
    /// This system (ИС РП ДРН), acting automatically.
    System,
    /// Counter of the State Corporation (ЦОН, ХҚКО).
    Counter,
    /// District or city migration unit (ОМС ГОРРОВД, КҚПб).
    District,
    /// Regional migration directorate (УМС ДВД, КҚПБ).
    Region,
    /// Central migration body (КМС, КҚПД, ДМП).
    Centre,
    /// Document production (РГП «ИПЦ», «АӨО» РМК).
    Production,
}

impl UnitRole {
    pub fn code(self) -> &'static str {
        match self {
            UnitRole::Applicant => "applicant",
            UnitRole::Portal => "portal",
            UnitRole::System => "system",
            UnitRole::Counter => "counter",
            UnitRole::District => "district",
            UnitRole::Region => "region",
            UnitRole::Centre => "centre",
            UnitRole::Production => "production",
        }
    }
}

/// A channel through which an application comes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Counter,
    Portal,
    Mobile,
    /// At the migration unit itself (live queue).
    Unit,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Counter,
        Channel::Portal,
        Channel::Mobile,
        Channel::Unit,
    ];

    /// The channel as the catalog, the API and the `applications` table spell it (its
    /// serde form).
    pub fn code(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Portal => "portal",
            Channel::Mobile => "mobile",
            Channel::Unit => "unit",
        }
    }

    pub fn parse(s: &str) -> Result<Channel, CatalogError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| {
                CatalogError::bare(format!(
                    "channel must be counter, portal, mobile or unit, got {s:?}"
                ))
            })
    }
}

#[cfg(test)]
mod channel_tests {
    use super::*;

    #[test]
    fn code_is_the_serde_form() {
        for c in Channel::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
            assert_eq!(Channel::parse(c.code()).unwrap(), c);
        }
        for u in Urgency::ALL {
            assert_eq!(serde_json::to_value(u).unwrap(), u.code());
        }
        assert!(Channel::parse("fax").is_err());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultForm {
    Paper,
    Electronic,
    PaperAndElectronic,
}

/// What a branch does to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchKind {
    /// Motivated refusal (мотивированный отказ).
    Refusal,
    /// Annulment (аннулирование).
    Annulment,
    /// An error message (e.g. seed 004, step 5).
    ErrorMessage,
    /// Returned for correction to an earlier step.
    Return,
    /// The applicant is sent to a counter (ЦОН).
    ToCounter,
}

/// A registry (реестр) a step forms or passes between units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryKind {
    /// District registry (реестр ГОРРОВД).
    District,
    /// Summary registry (сводный реестр).
    Summary,
    /// Registration in the book of incoming summary registries.
    Incoming,
    /// Cover letter (сопроводительное письмо) to production.
    CoverLetter,
    /// Registry of manufactured documents.
    Manufactured,
    /// Dispatch registry (реестр отправки).
    Dispatch,
    /// Accompanying registry (сопроводительный реестр).
    Accompanying,
}

/// What a service's own module does when a step is done (`hook = "…"` on the step): the
/// generic engine runs the named hook, so no code outside the service's module matches on
/// a service code or a step number. A name the engine does not know is a catalog error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepHook {
    /// S2: the entry in the journal of temporary ID cards (журнал учёта временных
    /// удостоверений), the form of completion of the district's step.
    TemporaryIdJournal,
    /// S5: the district corrects the address data (a detour step); the note names the
    /// right registration code of the address (РКА).
    AddressCorrection,
    /// S8 (unit): the entry in the journal of registered foreigners and the stamp.
    ForeignerRegistrationJournal,
    /// S9 (counter): the applicant's written consent (письменное согласие) is recorded.
    WrittenConsent,
    /// S9: the operator's processing by the system: an IIN formed, or an error message.
    FormIin,
}

/// A check a step needs passed before it is done (`check = "…"` on the step), recorded
/// as a `checked` event by the `check` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepCheck {
    /// S5: the address data against the address register (адресный регистр).
    AddressData,
    /// S6–S8: the subject against the special records (специальные учёты).
    SpecialRecords,
    /// S1 at the centre: the applicant against the database of wanted persons (база
    /// данных лиц, находящихся в розыске; seed 002 annex 1 table 1 row 6, seed 000 annex 1
    /// table 1 row 5).
    WantedPersons,
}

impl StepCheck {
    /// The name stored in the `checked` event and shown by the API.
    pub fn as_str(self) -> &'static str {
        match self {
            StepCheck::AddressData => "address_data",
            StepCheck::SpecialRecords => "special_records",
            StepCheck::WantedPersons => "wanted_persons",
        }
    }

    /// Whether doing the step runs the check itself when no passed one was recorded. A
    /// database lookup with nothing for the officer to weigh (the wanted persons) need not
    /// be asked for first; a check whose failure the officer acts on (the address data
    /// sent back for correction, the special records' ground) stays the officer's own
    /// step, as before.
    pub fn runs_when_done(self) -> bool {
        matches!(self, StepCheck::WantedPersons)
    }
}

/// Where a version's act says the service is given (the seed's "место оказания"), when
/// it says so: the accepting unit must be in the district where the applicant is
/// registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// At the place of permanent registration (тұрақты тіркеу орны бойынша).
    PermanentRegistration,
    /// At the place of residence (тұрғылықты жері бойынша), where the person is
    /// registered.
    Residence,
}

/// A version's place rule with its citation (`provided_at = { place = "…", cite = … }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidedAt {
    pub place: Place,
    pub cite: Cite,
}

/// A step after which the application goes on in another process of the same version
/// (`joins = { process = "main", step = 3, note = "…" }`): the portal's process of S1
/// describes the applicant's part only, and the document is made by the counter process's
/// chain. The note says where this comes from (a seed, or why it is assumed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Join {
    pub process: String,
    pub step: u32,
    pub note: String,
}

/// Where a rule comes from in the seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cite {
    pub seed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annex: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl fmt::Display for Cite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.seed)?;
        for (label, v) in [
            ("annex", &self.annex),
            ("table", &self.table),
            ("row", &self.row),
            ("para.", &self.paragraph),
        ] {
            if let Some(v) = v {
                write!(f, ", {label} {v}")?;
            }
        }
        Ok(())
    }
}

impl Cite {
    /// The citation as a lawyer writes it, with the act that set the version, e.g.
    /// «Приказ № 55 от 26.01.2018, прил. 1, табл. 1, строка 3»; the file of the legal text
    /// is not shown to users.
    pub fn legal_text(&self, act: &Act, lang: crate::Lang) -> String {
        use crate::Lang::{En, Kk, Ru};
        let d = act.date.0;
        let date = format!("{:02}.{:02}.{}", d.day(), d.month(), d.year());
        let mut out = match lang {
            Kk => format!("{date} № {} бұйрық", act.number),
            Ru => format!("Приказ № {} от {date}", act.number),
            En => format!("Order No {} of {date}", act.number),
        };
        let parts: [(&Option<String>, [&str; 3]); 4] = [
            (&self.annex, ["қосымша", "прил.", "annex"]),
            (&self.table, ["кесте", "табл.", "table"]),
            (&self.row, ["жол", "строка", "row"]),
            (&self.paragraph, ["тармақ", "п.", "para."]),
        ];
        for (v, [kk, ru, en]) in parts {
            if let Some(v) = v {
                out.push_str(&match lang {
                    Kk => format!(", {v}-{kk}"),
                    Ru => format!(", {ru} {v}"),
                    En => format!(", {en} {v}"),
                });
            }
        }
        out
    }
}

/// The legal act that set a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Act {
    pub title: Text,
    pub number: String,
    pub date: CatDate,
    pub registration: Option<String>,
    pub registered: Option<CatDate>,
}

/// A date in the catalog: a TOML string `"2018-02-23"` or a TOML local date `2018-02-23`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CatDate(pub Date);

impl<'de> Deserialize<'de> for CatDate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            S(String),
            T(toml::value::Datetime),
        }
        let s = match Repr::deserialize(d)? {
            Repr::S(s) => s,
            Repr::T(t) => t.to_string(),
        };
        s.parse::<Date>()
            .map(CatDate)
            .map_err(|e| serde::de::Error::custom(format!("bad date {s:?}: {e}")))
    }
}

impl Serialize for CatDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

/// The amount of a time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Seconds(u32),
    Minutes(u32),
    /// Hours of the unit's working time.
    Hours(u32),
    WorkingDays(WorkingDays),
    CalendarDays(u16),
}

impl Amount {
    /// The working time, for amounts that run within working hours.
    pub fn working_time(self) -> Option<SignedDuration> {
        match self {
            Amount::Seconds(s) => Some(SignedDuration::from_secs(i64::from(s))),
            Amount::Minutes(m) => Some(SignedDuration::from_mins(i64::from(m))),
            Amount::Hours(h) => Some(SignedDuration::from_hours(i64::from(h))),
            _ => None,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Seconds(s) => write!(f, "{s} s"),
            Amount::Minutes(m) => write!(f, "{m} min"),
            Amount::Hours(h) => write!(f, "{h} h"),
            Amount::WorkingDays(d) => write!(f, "{} wd", d.0),
            Amount::CalendarDays(d) => write!(f, "{d} cd"),
        }
    }
}

impl Amount {
    /// The amount as a person reads it in `lang` ("15 мин", "2 рабочих дня", "2 жұмыс күні").
    pub fn text(self, lang: crate::Lang) -> String {
        use crate::Lang::{En, Kk, Ru};
        // Russian plural of a count: one, few (2–4), many.
        let ru = |n: u64, one: &str, few: &str, many: &str| -> String {
            let form = match (n % 10, n % 100) {
                (1, m) if m != 11 => one,
                (2..=4, m) if !(12..=14).contains(&m) => few,
                _ => many,
            };
            format!("{n} {form}")
        };
        match (self, lang) {
            (Amount::Seconds(s), Kk) => format!("{s} секунд"),
            (Amount::Seconds(s), Ru) => format!("{s} сек."),
            (Amount::Seconds(s), En) => format!("{s} s"),
            (Amount::Minutes(m), Kk) => format!("{m} минут"),
            (Amount::Minutes(m), Ru) => format!("{m} мин."),
            (Amount::Minutes(m), En) => format!("{m} min"),
            (Amount::Hours(h), Kk) => format!("{h} сағат"),
            (Amount::Hours(h), Ru) => ru(u64::from(h), "час", "часа", "часов"),
            (Amount::Hours(h), En) => format!("{h} h"),
            (Amount::WorkingDays(d), Kk) => format!("{} жұмыс күні", d.0),
            (Amount::WorkingDays(d), Ru) => ru(
                u64::from(d.0),
                "рабочий день",
                "рабочих дня",
                "рабочих дней",
            ),
            (Amount::WorkingDays(d), En) => format!("{} working days", d.0),
            (Amount::CalendarDays(d), Kk) => format!("{d} күнтізбелік күн"),
            (Amount::CalendarDays(d), Ru) => ru(
                u64::from(d),
                "календарный день",
                "календарных дня",
                "календарных дней",
            ),
            (Amount::CalendarDays(d), En) => format!("{d} calendar days"),
        }
    }
}

/// A step's time limit (срок исполнения).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub amount: Amount,
    /// The first working day is the day of entry ("день оформления").
    pub day_of_entry: bool,
    /// Lower bound where the seed gives a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<Amount>,
    /// The seed's own words, where they are not a plain amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<Text>,
    /// False when the seed does not state this limit: `amount` is then the fallback.
    pub stated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl Limit {
    /// The limit as a person reads it in `lang`: the amount, the day of entry, and, where
    /// the act states none, that the limit is the one DRN applies.
    pub fn text(&self, lang: crate::Lang) -> String {
        use crate::Lang::{En, Kk, Ru};
        let mut out = String::new();
        if let Some(min) = self.min {
            out.push_str(&min.text(lang));
            out.push_str(match lang {
                Kk => " – ",
                Ru => " – ",
                En => " to ",
            });
        }
        out.push_str(&self.amount.text(lang));
        if self.day_of_entry {
            out.push_str(match lang {
                Kk => " (ресімдеу күні)",
                Ru => " (день оформления)",
                En => " (the day of entry)",
            });
        }
        if !self.stated {
            out.push_str(match lang {
                Kk => " (актіде көрсетілмеген, қолданылатын мерзім)",
                Ru => " (в акте не указан, применяемый срок)",
                En => " (not stated in the act; the limit applied)",
            });
        }
        out
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(min) = self.min {
            write!(f, "{min} to ")?;
        }
        write!(f, "{}", self.amount)?;
        if self.day_of_entry {
            f.write_str(" (day of entry)")?;
        }
        if !self.stated {
            f.write_str(" [not stated; fallback]")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    seconds: Option<u32>,
    minutes: Option<u32>,
    hours: Option<u32>,
    working_days: Option<u16>,
    calendar_days: Option<u16>,
    day_of_entry: Option<bool>,
    min_seconds: Option<u32>,
    min_minutes: Option<u32>,
    text: Option<Text>,
    stated: Option<bool>,
    fallback: Option<String>,
}

impl RawLimit {
    fn validate(self) -> Result<Limit, String> {
        let amounts: Vec<Amount> = [
            self.seconds.map(Amount::Seconds),
            self.minutes.map(Amount::Minutes),
            self.hours.map(Amount::Hours),
            self.working_days
                .map(|d| Amount::WorkingDays(WorkingDays(d))),
            self.calendar_days.map(Amount::CalendarDays),
        ]
        .into_iter()
        .flatten()
        .collect();
        let amount = match amounts.as_slice() {
            [a] => *a,
            [] => return Err(
                "a limit needs one amount (seconds, minutes, hours, working_days or calendar_days)"
                    .into(),
            ),
            _ => return Err("a limit has more than one amount".into()),
        };
        let day_of_entry = self.day_of_entry.unwrap_or(false);
        if day_of_entry && !matches!(amount, Amount::WorkingDays(_)) {
            return Err("day_of_entry goes only with working_days".into());
        }
        let min = match (self.min_seconds, self.min_minutes) {
            (Some(_), Some(_)) => return Err("give min_seconds or min_minutes, not both".into()),
            (Some(s), None) => Some(Amount::Seconds(s)),
            (None, Some(m)) => Some(Amount::Minutes(m)),
            (None, None) => None,
        };
        if let (Some(min), Some(max)) = (min.and_then(Amount::working_time), amount.working_time())
        {
            if min > max {
                return Err("the lower bound of the range exceeds the limit".into());
            }
        }
        let stated = self.stated.unwrap_or(true);
        if !stated && self.fallback.as_deref().is_none_or(|f| f.trim().is_empty()) {
            return Err("a limit with stated = false needs a fallback reason".into());
        }
        if let Some(t) = &self.text {
            if t.has_blank() {
                return Err("the limit's text needs kk, ru and en".into());
            }
        }
        Ok(Limit {
            amount,
            day_of_entry,
            min,
            text: self.text,
            stated,
            fallback: self.fallback,
        })
    }
}

/// A step's limit: one for every urgency, or one per urgency category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepLimit {
    Single(Limit),
    ByUrgency(BTreeMap<Urgency, Limit>),
}

impl StepLimit {
    pub fn for_urgency(&self, u: Urgency) -> Option<&Limit> {
        match self {
            StepLimit::Single(l) => Some(l),
            StepLimit::ByUrgency(m) => m.get(&u),
        }
    }
}

/// A branch out of a step: refusal, annulment, error message, return, or to the counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    pub kind: BranchKind,
    /// The step it goes to; `None` ends the application.
    pub to: Option<u32>,
    pub when: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cite: Option<Cite>,
    /// The key the engine names this branch by when it produces its outcome (the engine's
    /// outcomes each name one: `drn catalog check` proves every one is a branch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Some(reason)` when the seed does not state this outcome and it is an assumption:
    /// why it was chosen (the branch's `cite`, if any, names where its words come from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
}

impl Branch {
    /// Whether the branch is grounded: a citation of the seed that states it, or a marked
    /// assumption with its reason.
    pub fn grounded(&self) -> bool {
        self.assumption.is_some() || self.cite.is_some()
    }
}

/// A numbered step (действие) of a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub n: u32,
    pub unit: UnitRole,
    pub unit_name: Text,
    pub action: Text,
    /// Form of completion (форма завершения).
    pub form: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryKind>,
    /// How many copies of the step's registry are made, where the seed says
    /// («в 3-х экземплярах», «3 данада»): printed on the registry's document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<u32>,
    pub limit: StepLimit,
    pub cite: Cite,
    pub branches: Vec<Branch>,
    /// Set on a step that is itself an outcome (the portal "forms a refusal message"):
    /// reached only through a branch, it ends the application with this outcome, and
    /// the main path passes it by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<BranchKind>,
    /// Set on a detour step (S5: the district corrects the address data): reached only
    /// through a branch (`to = N`) of an earlier step, and when it is completed the
    /// application goes back to the step that branched to it. The main path passes it by.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub detour: bool,
    /// Set on the step that hands the result over to the applicant in person, who must come
    /// for it: the application waits for the applicant with no clock, and the step's limit
    /// starts when they come (issue 30 item 12).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub awaits_applicant: bool,
    /// The service's hook run when this step is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<StepHook>,
    /// The check this step needs passed before it is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<StepCheck>,
    /// After this step the application goes on in another process (see [`Join`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub joins: Option<Join>,
}

/// A channel's sequence of steps within a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    pub id: String,
    pub channel: Channel,
    pub name: Text,
    pub cite: Cite,
    /// The limit of the whole process from acceptance, where the seed states one for the
    /// service as a whole (seed 003: "Семь рабочих дней" in every row): no step is due
    /// later than it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<Limit>,
    pub steps: Vec<Step>,
}

impl Process {
    pub fn step(&self, n: u32) -> Option<&Step> {
        self.steps.iter().find(|s| s.n == n)
    }

    /// The step that follows step `n` when it completes normally: the next step that is
    /// not an outcome step; `None` after an outcome step or the last step.
    /// Is step `n` where the result is given: the last of its path, neither an outcome nor
    /// a step that joins another process's chain (S1 through the unit's own system goes
    /// on in the counter process after its step 5).
    pub fn gives_result_at(&self, n: u32) -> bool {
        self.step(n)
            .is_some_and(|s| s.outcome.is_none() && s.joins.is_none())
            && self.next_after(n).is_none()
    }

    pub fn next_after(&self, n: u32) -> Option<&Step> {
        let step = self.step(n)?;
        if step.outcome.is_some() || step.joins.is_some() {
            return None;
        }
        if step.detour {
            return self.detour_origin(n);
        }
        self.steps
            .iter()
            .find(|s| s.n > n && s.outcome.is_none() && !s.detour)
    }

    /// The step a detour step was branched to from (where the application goes back).
    pub fn detour_origin(&self, n: u32) -> Option<&Step> {
        self.steps
            .iter()
            .find(|s| s.n != n && s.branches.iter().any(|b| b.to == Some(n)))
    }

    /// The detour step that step `from` may branch to as `to`.
    pub fn detour_from(&self, from: u32, to: u32) -> Option<&Step> {
        let origin = self.step(from)?;
        self.step(to).filter(|d| {
            d.detour
                && origin
                    .branches
                    .iter()
                    .any(|b| b.to == Some(to) && b.kind == BranchKind::Return)
        })
    }

    /// The next step when step `n` hands the application over to another unit by a
    /// registry (its `registry` is set and the next step is another unit's): such a step is
    /// completed by forming, signing, sending and receiving a registry, not one by one.
    pub fn handover_after(&self, n: u32) -> Option<&Step> {
        let step = self.step(n)?;
        self.next_after(n)
            .filter(|next| step.registry.is_some() && next.unit != step.unit)
    }

    /// Whose staff take an application in at a State Corporation counter on this process:
    /// the first step's unit where accepting does that step (a step follows it) and it is a
    /// migration unit's, else the counter's (a process of one step waits in it after
    /// intake). S2 and S3 of 2018 give the intake to the migration unit's officer (сотрудник
    /// ОМС) «на рабочих местах в Государственной корпорации» (seed 000, paras 6 and 7 of
    /// their regulations as restated by order 55).
    pub fn counter_intake(&self) -> UnitRole {
        match self.main_path().first() {
            Some(s)
                if self.next_after(s.n).is_some()
                    && matches!(
                        s.unit,
                        UnitRole::District | UnitRole::Region | UnitRole::Centre
                    ) =>
            {
                s.unit
            }
            _ => UnitRole::Counter,
        }
    }

    /// The main path: from the first step through `next_after`.
    /// Whether step `n` hands the result over to the applicant, who must come for it: the
    /// last step, marked `awaits_applicant` in the catalog (the result arrives there from
    /// another unit and waits). Its limit («Выдача услугополучателю изготовленных
    /// документов – 10 минут», seed 000 annex 1 table 1 row 10) is the officer's once the
    /// applicant has come: until then the application waits for the applicant, with no
    /// clock (issue 30 item 12).
    pub fn waits_for_applicant(&self, n: u32) -> bool {
        self.step(n).is_some_and(|s| s.awaits_applicant) && self.next_after(n).is_none()
    }

    pub fn main_path(&self) -> Vec<&Step> {
        let mut out = Vec::new();
        let mut cur = self.steps.iter().find(|s| s.outcome.is_none() && !s.detour);
        while let Some(s) = cur {
            if out.iter().any(|o: &&Step| o.n == s.n) {
                break;
            }
            out.push(s);
            cur = self.next_after(s.n);
        }
        out
    }
}

/// A version of a service: the rules one legal act set, and when they applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub id: String,
    pub act: Act,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repealed_by: Option<String>,
    pub effective_from: Date,
    /// Last day it applies (inclusive); `None` while in force.
    pub effective_to: Option<Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_note: Option<String>,
    pub cite: Cite,
    pub channels: Vec<Channel>,
    pub result: Text,
    pub result_form: ResultForm,
    pub urgencies: Vec<Urgency>,
    pub documents: Vec<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents_cite: Option<Cite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents_note: Option<String>,
    /// Where the act says the service is given, when it says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provided_at: Option<ProvidedAt>,
    pub processes: Vec<Process>,
}

impl Version {
    pub fn in_force_on(&self, d: Date) -> bool {
        d >= self.effective_from && self.effective_to.is_none_or(|to| d <= to)
    }

    pub fn process(&self, id: &str) -> Option<&Process> {
        self.processes.iter().find(|p| p.id == id)
    }

    /// The main path of a process followed through its join into another process (see
    /// [`Join`]): each step with the process it belongs to.
    pub fn path<'a>(&'a self, process: &'a Process) -> Vec<(&'a Process, &'a Step)> {
        let mut out: Vec<(&'a Process, &'a Step)> = process
            .main_path()
            .into_iter()
            .map(|s| (process, s))
            .collect();
        let join = out.last().and_then(|(_, s)| s.joins.as_ref());
        if let Some(j) = join {
            if let Some(t) = self.process(&j.process) {
                let rest = t.main_path().into_iter().skip_while(|s| s.n != j.step);
                out.extend(rest.map(|s| (t, s)));
            }
        }
        out
    }

    /// The first process of a channel.
    pub fn process_for(&self, channel: Channel) -> Option<&Process> {
        self.processes.iter().find(|p| p.channel == channel)
    }

    /// The units taking part, in the order they first act.
    pub fn units(&self) -> Vec<UnitRole> {
        let mut seen = Vec::new();
        for s in self.processes.iter().flat_map(|p| &p.steps) {
            if !seen.contains(&s.unit) {
                seen.push(s.unit);
            }
        }
        seen
    }
}

/// A service (государственная услуга) and its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub code: String,
    pub name: Text,
    pub file: String,
    pub versions: Vec<Version>,
}

impl Service {
    /// The version in force on a date (Kazakhstan time).
    pub fn version_on(&self, d: Date) -> Option<&Version> {
        self.versions.iter().find(|v| v.in_force_on(d))
    }

    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }
}

/// The whole validated catalog.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    pub services: BTreeMap<String, Service>,
    /// The state duty's data (`duty/kz.toml`), when the catalog has it.
    #[serde(skip)]
    pub duty: Option<crate::duty::DutyTable>,
}

/// A catalog error, located at a file and line where possible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}", file.as_deref().map(|f| format!("{f}:")).unwrap_or_default(), line.map(|l| format!("{l}: ")).unwrap_or_else(|| if file.is_some() { " ".into() } else { String::new() }))]
pub struct CatalogError {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl CatalogError {
    pub fn bare(message: impl Into<String>) -> CatalogError {
        CatalogError {
            file: None,
            line: None,
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    service: RawService,
    #[serde(default)]
    version: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    code: Spanned<String>,
    name: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    id: Spanned<String>,
    act: Act,
    amends: Option<String>,
    repealed_by: Option<String>,
    effective_from: Spanned<CatDate>,
    effective_to: Option<CatDate>,
    effective_note: Option<String>,
    cite: Cite,
    channels: Vec<Channel>,
    result: Text,
    result_form: ResultForm,
    urgencies: Vec<Urgency>,
    #[serde(default)]
    documents: Vec<Text>,
    documents_cite: Option<Cite>,
    documents_note: Option<String>,
    provided_at: Option<ProvidedAt>,
    #[serde(default)]
    process: Vec<RawProcess>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProcess {
    id: Spanned<String>,
    channel: Spanned<Channel>,
    name: Text,
    cite: Cite,
    total: Option<RawLimit>,
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    n: Spanned<u32>,
    unit: UnitRole,
    unit_name: Text,
    action: Text,
    form: Text,
    registry: Option<RegistryKind>,
    copies: Option<u32>,
    limit: Option<RawLimit>,
    limits: Option<BTreeMap<Urgency, RawLimit>>,
    cite: Cite,
    outcome: Option<BranchKind>,
    #[serde(default)]
    detour: bool,
    #[serde(default)]
    awaits_applicant: bool,
    hook: Option<StepHook>,
    check: Option<StepCheck>,
    joins: Option<Join>,
    #[serde(default)]
    branch: Vec<RawBranch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBranch {
    kind: BranchKind,
    to: Option<Spanned<u32>>,
    when: Text,
    cite: Option<Cite>,
    #[serde(default)]
    id: Option<String>,
    /// `false` when the seed does not state the outcome (then `assumption` says why).
    #[serde(default)]
    stated: Option<bool>,
    #[serde(default)]
    assumption: Option<String>,
}

/// Turns byte offsets into line numbers for one file.
struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn err_at(&self, offset: usize, message: impl Into<String>) -> CatalogError {
        let line = self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|b| *b == b'\n')
            .count()
            + 1;
        CatalogError {
            file: Some(self.file.to_string()),
            line: Some(line),
            message: message.into(),
        }
    }

    fn err<T>(&self, s: &Spanned<T>, message: impl Into<String>) -> CatalogError {
        self.err_at(s.span().start, message)
    }
}

fn check_text(loc: &Locator, at: usize, what: &str, t: &Text) -> Result<(), CatalogError> {
    if t.has_blank() {
        return Err(loc.err_at(at, format!("{what} needs kk, ru and en")));
    }
    Ok(())
}

impl Catalog {
    /// The act whose text is the seed file `seed` (a citation's `seed`), as some version of
    /// the catalog names it.
    pub fn act_of_seed(&self, seed: &str) -> Option<&Act> {
        self.services
            .values()
            .flat_map(|s| &s.versions)
            .find(|v| v.cite.seed == seed)
            .map(|v| &v.act)
    }

    /// Loads service files given as (file name, text). All errors are collected.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalog, Vec<CatalogError>> {
        let mut cat = Catalog::default();
        let mut errors = Vec::new();
        let mut code_files: BTreeMap<String, String> = BTreeMap::new();
        for (file, text) in sources {
            let loc = Locator { file, text };
            match load_file(&loc) {
                Ok(service) => {
                    if let Some(other) = code_files.insert(service.code.clone(), file.to_string()) {
                        errors.push(loc.err_at(
                            0,
                            format!("service {} is also defined in {other}", service.code),
                        ));
                    } else {
                        cat.services.insert(service.code.clone(), service);
                    }
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(cat)
        } else {
            Err(errors)
        }
    }

    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.get(code)
    }

    /// Resolves `SERVICE` or `SERVICE@VERSION`.
    pub fn resolve(&self, spec: &str) -> Result<(&Service, Option<&Version>), CatalogError> {
        let (code, version) = match spec.split_once('@') {
            Some((c, v)) => (c, Some(v)),
            None => (spec, None),
        };
        let service = self
            .service(code)
            .ok_or_else(|| CatalogError::bare(format!("no service {code:?} in the catalog")))?;
        match version {
            None => Ok((service, None)),
            Some(v) => {
                let ver = service.version(v).ok_or_else(|| {
                    CatalogError::bare(format!("service {code} has no version {v:?}"))
                })?;
                Ok((service, Some(ver)))
            }
        }
    }
}

fn load_file(loc: &Locator) -> Result<Service, Vec<CatalogError>> {
    let raw: RawFile = toml::from_str(loc.text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        vec![loc.err_at(at, e.message().to_string())]
    })?;
    let mut errors = Vec::new();
    let code = raw.service.code.get_ref().clone();
    if let Err(e) = check_text(
        loc,
        raw.service.code.span().start,
        "service name",
        &raw.service.name,
    ) {
        errors.push(e);
    }
    let mut versions = Vec::new();
    let mut seen_ids = BTreeSet::new();
    for v in raw.version {
        if !seen_ids.insert(v.id.get_ref().clone()) {
            errors.push(loc.err(&v.id, format!("duplicate version id {:?}", v.id.get_ref())));
            continue;
        }
        match load_version(loc, v) {
            Ok(v) => versions.push(v),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if versions.is_empty() && errors.is_empty() {
        errors.push(loc.err(&raw.service.code, format!("service {code} has no version")));
    }
    // Periods of one service must not overlap: an application is pinned to exactly one.
    versions.sort_by_key(|(v, _): &(Version, usize)| v.effective_from);
    for w in versions.windows(2) {
        let (a, _) = &w[0];
        let (b, at) = &w[1];
        if a.effective_to.is_none_or(|to| to >= b.effective_from) {
            errors.push(loc.err_at(
                *at,
                format!(
                "version {} (from {}) overlaps version {} (from {} to {})",
                b.id,
                b.effective_from,
                a.id,
                a.effective_from,
                a.effective_to.map(|d| d.to_string()).unwrap_or_else(|| "open end".into())
            ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Service {
        code,
        name: raw.service.name,
        file: loc.file.to_string(),
        versions: versions.into_iter().map(|(v, _)| v).collect(),
    })
}

fn load_version(loc: &Locator, v: RawVersion) -> Result<(Version, usize), Vec<CatalogError>> {
    let at = v.id.span().start;
    let from_at = v.effective_from.span().start;
    let mut errors = Vec::new();
    let effective_from = v.effective_from.get_ref().0;
    let effective_to = v.effective_to.map(|d| d.0);
    if effective_to.is_some_and(|to| to < effective_from) {
        errors.push(loc.err_at(from_at, "effective_to is before effective_from"));
    }
    for (what, t) in [("act title", &v.act.title), ("result", &v.result)] {
        if let Err(e) = check_text(loc, at, what, t) {
            errors.push(e);
        }
    }
    for (i, d) in v.documents.iter().enumerate() {
        if let Err(e) = check_text(loc, at, &format!("document {}", i + 1), d) {
            errors.push(e);
        }
    }
    let urgencies: BTreeSet<Urgency> = v.urgencies.iter().copied().collect();
    if urgencies.is_empty() || urgencies.len() != v.urgencies.len() {
        errors.push(loc.err_at(at, "urgencies must list each category once, at least one"));
    }
    if v.channels.is_empty() {
        errors.push(loc.err_at(at, "a version needs at least one channel"));
    }
    if v.process.is_empty() {
        errors.push(loc.err_at(at, "a version needs at least one process"));
    }
    let mut processes = Vec::new();
    let mut pids = BTreeSet::new();
    for p in v.process {
        if !pids.insert(p.id.get_ref().clone()) {
            errors.push(loc.err(&p.id, format!("duplicate process id {:?}", p.id.get_ref())));
        }
        if !v.channels.contains(p.channel.get_ref()) {
            errors.push(loc.err(
                &p.channel,
                "the process's channel is not among the version's channels",
            ));
        }
        match load_process(loc, p, &urgencies) {
            Ok(p) => processes.push(p),
            Err(mut e) => errors.append(&mut e),
        }
    }
    // A join goes to a main-path step of another process of this version, which joins
    // no further.
    for p in &processes {
        for s in p.steps.iter() {
            let Some(j) = &s.joins else { continue };
            let target = processes.iter().find(|t| t.id == j.process);
            let what = match target {
                None => Some(format!(
                    "joins process {:?}, which this version does not have",
                    j.process
                )),
                Some(t) if t.id == p.id => Some("a step cannot join its own process".to_string()),
                Some(t) if !t.main_path().iter().any(|m| m.n == j.step) => Some(format!(
                    "joins step {} of {:?}, not on its main path",
                    j.step, j.process
                )),
                Some(t) if t.steps.iter().any(|m| m.joins.is_some()) => Some(format!(
                    "joins {:?}, which itself joins another process",
                    j.process
                )),
                Some(_) if j.note.trim().is_empty() => {
                    Some("a join needs a note saying where it comes from".to_string())
                }
                _ => None,
            };
            if let Some(w) = what {
                errors.push(loc.err_at(at, format!("process {:?} step {}: {w}", p.id, s.n)));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok((
        Version {
            id: v.id.into_inner(),
            act: v.act,
            amends: v.amends,
            repealed_by: v.repealed_by,
            effective_from,
            effective_to,
            effective_note: v.effective_note,
            cite: v.cite,
            channels: v.channels,
            result: v.result,
            result_form: v.result_form,
            urgencies: v.urgencies,
            documents: v.documents,
            documents_cite: v.documents_cite,
            documents_note: v.documents_note,
            provided_at: v.provided_at,
            processes,
        },
        from_at,
    ))
}

fn load_process(
    loc: &Locator,
    p: RawProcess,
    urgencies: &BTreeSet<Urgency>,
) -> Result<Process, Vec<CatalogError>> {
    let mut errors = Vec::new();
    let at = p.id.span().start;
    if let Err(e) = check_text(loc, at, "process name", &p.name) {
        errors.push(e);
    }
    if p.step.is_empty() {
        errors.push(loc.err(&p.id, "a process needs at least one step"));
    }
    let total = match p.total.map(RawLimit::validate).transpose() {
        Ok(t) => t,
        Err(m) => {
            errors.push(loc.err(&p.id, format!("total: {m}")));
            None
        }
    };
    let numbers: BTreeSet<u32> = p.step.iter().map(|s| *s.n.get_ref()).collect();
    let mut steps = Vec::new();
    for (i, s) in p.step.into_iter().enumerate() {
        let n = *s.n.get_ref();
        let expected = i as u32 + 1;
        if n != expected {
            errors.push(loc.err(
                &s.n,
                format!("step numbers must run 1, 2, 3 …: expected {expected}, found {n}"),
            ));
        }
        for (what, t) in [
            ("unit_name", &s.unit_name),
            ("action", &s.action),
            ("form", &s.form),
        ] {
            if let Err(e) = check_text(loc, s.n.span().start, &format!("step {n}: {what}"), t) {
                errors.push(e);
            }
        }
        let limit = match (s.limit, s.limits) {
            (Some(l), None) => l.validate().map(StepLimit::Single),
            (None, Some(m)) => {
                let keys: BTreeSet<Urgency> = m.keys().copied().collect();
                if let Some(missing) = urgencies.difference(&keys).next() {
                    Err(format!("no limit for urgency {missing}"))
                } else if let Some(extra) = keys.difference(urgencies).next() {
                    Err(format!(
                        "limit for urgency {extra}, which the version does not have"
                    ))
                } else {
                    m.into_iter()
                        .map(|(u, l)| l.validate().map(|l| (u, l)))
                        .collect::<Result<BTreeMap<_, _>, _>>()
                        .map(StepLimit::ByUrgency)
                }
            }
            (Some(_), Some(_)) => Err("give `limit` or `limits`, not both".into()),
            (None, None) => Err("a step needs a limit (`limit` or `limits`)".into()),
        };
        let limit = match limit {
            Ok(l) => Some(l),
            Err(m) => {
                errors.push(loc.err(&s.n, format!("step {n}: {m}")));
                None
            }
        };
        let mut branches = Vec::new();
        for b in s.branch {
            if let Some(to) = &b.to {
                if !numbers.contains(to.get_ref()) {
                    errors.push(loc.err(
                        to,
                        format!(
                            "step {n}: branch goes to step {}, which this process does not have",
                            to.get_ref()
                        ),
                    ));
                }
            }
            if let Err(e) = check_text(
                loc,
                s.n.span().start,
                &format!("step {n}: branch `when`"),
                &b.when,
            ) {
                errors.push(e);
            }
            let stated = b.stated.unwrap_or(true);
            let reason = b.assumption.filter(|r| !r.trim().is_empty());
            match (stated, &reason) {
                (false, None) => errors.push(loc.err(
                    &s.n,
                    format!("step {n}: a branch with stated = false needs its `assumption` (why it was chosen)"),
                )),
                (true, Some(_)) => errors.push(loc.err(
                    &s.n,
                    format!("step {n}: a branch with an `assumption` must say stated = false"),
                )),
                (true, None) if b.cite.is_none() => errors.push(loc.err(
                    &s.n,
                    format!("step {n}: a branch needs the `cite` of the seed that states it, or stated = false with its `assumption`"),
                )),
                _ => {}
            }
            branches.push(Branch {
                kind: b.kind,
                to: b.to.map(Spanned::into_inner),
                when: b.when,
                cite: b.cite,
                id: b.id,
                assumption: if stated { None } else { reason },
            });
        }
        if let Some(limit) = limit {
            steps.push(Step {
                n,
                unit: s.unit,
                unit_name: s.unit_name,
                action: s.action,
                form: s.form,
                registry: s.registry,
                copies: s.copies,
                limit,
                cite: s.cite,
                branches,
                outcome: s.outcome,
                detour: s.detour,
                awaits_applicant: s.awaits_applicant,
                hook: s.hook,
                check: s.check,
                joins: s.joins,
            });
        }
    }
    // A detour step: not an outcome, reached by a `return` branch of an earlier main
    // step, and no main step comes after it only through it.
    for d in steps.iter().filter(|s| s.detour) {
        let from: Vec<&Step> = steps
            .iter()
            .filter(|s| s.n < d.n && s.branches.iter().any(|b| b.to == Some(d.n)))
            .collect();
        let what = if d.outcome.is_some() {
            Some("a detour step cannot also be an outcome step")
        } else if from.is_empty() {
            Some("a detour step must be the `to` of a branch of an earlier step")
        } else if from.iter().any(|s| {
            s.detour
                || s.branches
                    .iter()
                    .any(|b| b.to == Some(d.n) && b.kind != BranchKind::Return)
        }) {
            Some("a detour step is reached only by `return` branches of main-path steps")
        } else {
            None
        };
        if let Some(m) = what {
            errors.push(loc.err_at(at, format!("step {}: {m}", d.n)));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Process {
        id: p.id.into_inner(),
        channel: *p.channel.get_ref(),
        name: p.name,
        cite: p.cite,
        total,
        steps,
    })
}

/// One change between two versions of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Act {
        from: String,
        to: String,
    },
    Channels {
        from: Vec<Channel>,
        to: Vec<Channel>,
    },
    UnitAdded {
        unit: UnitRole,
    },
    UnitRemoved {
        unit: UnitRole,
    },
    ProcessAdded {
        process: String,
    },
    ProcessRemoved {
        process: String,
    },
    StepAdded {
        process: String,
        n: u32,
        unit: UnitRole,
        action: String,
    },
    StepRemoved {
        process: String,
        n: u32,
        unit: UnitRole,
        action: String,
    },
    StepUnit {
        process: String,
        n: u32,
        from: UnitRole,
        to: UnitRole,
    },
    StepAction {
        process: String,
        n: u32,
        from: String,
        to: String,
    },
    StepForm {
        process: String,
        n: u32,
        from: String,
        to: String,
    },
    StepLimit {
        process: String,
        n: u32,
        urgency: Urgency,
        from: String,
        to: String,
    },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Act { from, to } => write!(f, "act: {from} -> {to}"),
            Change::Channels { from, to } => write!(f, "channels: {from:?} -> {to:?}"),
            Change::UnitAdded { unit } => write!(f, "+ unit {}", unit.code()),
            Change::UnitRemoved { unit } => write!(f, "- unit {}", unit.code()),
            Change::ProcessAdded { process } => write!(f, "+ process {process}"),
            Change::ProcessRemoved { process } => write!(f, "- process {process}"),
            Change::StepAdded {
                process,
                n,
                unit,
                action,
            } => {
                write!(f, "+ {process} step {n} ({}): {action}", unit.code())
            }
            Change::StepRemoved {
                process,
                n,
                unit,
                action,
            } => {
                write!(f, "- {process} step {n} ({}): {action}", unit.code())
            }
            Change::StepUnit {
                process,
                n,
                from,
                to,
            } => {
                write!(
                    f,
                    "~ {process} step {n} unit: {} -> {}",
                    from.code(),
                    to.code()
                )
            }
            Change::StepAction {
                process,
                n,
                from,
                to,
            } => {
                write!(f, "~ {process} step {n} action: {from} -> {to}")
            }
            Change::StepForm {
                process,
                n,
                from,
                to,
            } => {
                write!(f, "~ {process} step {n} form: {from} -> {to}")
            }
            Change::StepLimit {
                process,
                n,
                urgency,
                from,
                to,
            } => {
                write!(f, "~ {process} step {n} limit [{urgency}]: {from} -> {to}")
            }
        }
    }
}

fn limit_text(l: Option<&Limit>) -> String {
    l.map(|l| l.to_string()).unwrap_or_else(|| "none".into())
}

/// What changed from version `a` to version `b`: act, channels, units, and per process
/// the steps (matched by number), their units, texts and limits per urgency.
pub fn diff(a: &Version, b: &Version) -> Vec<Change> {
    let mut out = Vec::new();
    let act = |v: &Version| format!("No {} of {}", v.act.number, v.act.date.0);
    if act(a) != act(b) {
        out.push(Change::Act {
            from: act(a),
            to: act(b),
        });
    }
    if a.channels != b.channels {
        out.push(Change::Channels {
            from: a.channels.clone(),
            to: b.channels.clone(),
        });
    }
    let (ua, ub) = (a.units(), b.units());
    out.extend(
        ub.iter()
            .filter(|u| !ua.contains(u))
            .map(|u| Change::UnitAdded { unit: *u }),
    );
    out.extend(
        ua.iter()
            .filter(|u| !ub.contains(u))
            .map(|u| Change::UnitRemoved { unit: *u }),
    );
    for pa in &a.processes {
        let Some(pb) = b.process(&pa.id) else {
            out.push(Change::ProcessRemoved {
                process: pa.id.clone(),
            });
            continue;
        };
        let process = pa.id.clone();
        let ns: BTreeSet<u32> = pa.steps.iter().chain(&pb.steps).map(|s| s.n).collect();
        for n in ns {
            match (pa.step(n), pb.step(n)) {
                (Some(sa), None) => out.push(Change::StepRemoved {
                    process: process.clone(),
                    n,
                    unit: sa.unit,
                    action: sa.action.en.clone(),
                }),
                (None, Some(sb)) => out.push(Change::StepAdded {
                    process: process.clone(),
                    n,
                    unit: sb.unit,
                    action: sb.action.en.clone(),
                }),
                (Some(sa), Some(sb)) => {
                    if sa.unit != sb.unit {
                        out.push(Change::StepUnit {
                            process: process.clone(),
                            n,
                            from: sa.unit,
                            to: sb.unit,
                        });
                    }
                    if sa.action.en != sb.action.en {
                        out.push(Change::StepAction {
                            process: process.clone(),
                            n,
                            from: sa.action.en.clone(),
                            to: sb.action.en.clone(),
                        });
                    }
                    if sa.form.en != sb.form.en {
                        out.push(Change::StepForm {
                            process: process.clone(),
                            n,
                            from: sa.form.en.clone(),
                            to: sb.form.en.clone(),
                        });
                    }
                    let urgencies: BTreeSet<Urgency> =
                        a.urgencies.iter().chain(&b.urgencies).copied().collect();
                    for u in urgencies {
                        let (la, lb) = (sa.limit.for_urgency(u), sb.limit.for_urgency(u));
                        if la.map(|l| (l.amount, l.day_of_entry))
                            != lb.map(|l| (l.amount, l.day_of_entry))
                        {
                            out.push(Change::StepLimit {
                                process: process.clone(),
                                n,
                                urgency: u,
                                from: limit_text(la),
                                to: limit_text(lb),
                            });
                        }
                    }
                }
                (None, None) => {}
            }
        }
    }
    out.extend(
        b.processes
            .iter()
            .filter(|p| a.process(&p.id).is_none())
            .map(|p| Change::ProcessAdded {
                process: p.id.clone(),
            }),
    );
    out
}

#[cfg(test)]
mod reading_tests {
    use super::*;
    use crate::Lang;

    #[test]
    fn amounts_read_in_each_language_with_russian_plurals() {
        let wd = |n| Amount::WorkingDays(WorkingDays(n)).text(Lang::Ru);
        assert_eq!(wd(1), "1 рабочий день");
        assert_eq!(wd(2), "2 рабочих дня");
        assert_eq!(wd(5), "5 рабочих дней");
        assert_eq!(wd(11), "11 рабочих дней");
        assert_eq!(wd(21), "21 рабочий день");
        assert_eq!(Amount::Minutes(15).text(Lang::Kk), "15 минут");
        assert_eq!(Amount::Hours(4).text(Lang::Ru), "4 часа");
        let l = Limit {
            amount: Amount::Minutes(15),
            day_of_entry: false,
            min: None,
            text: None,
            stated: false,
            fallback: Some("…".into()),
        };
        assert_eq!(
            l.text(Lang::Ru),
            "15 мин. (в акте не указан, применяемый срок)"
        );
        assert!(!l.text(Lang::Kk).contains("fallback"));
    }

    #[test]
    fn a_citation_reads_as_a_lawyer_writes_it() {
        let act = Act {
            title: Text::new("к", "р", "e"),
            number: "55".into(),
            date: CatDate(jiff::civil::date(2018, 1, 26)),
            registration: None,
            registered: None,
        };
        let cite = Cite {
            seed: "000_c01110eb500af984.txt".into(),
            annex: Some("1".into()),
            table: Some("1".into()),
            row: Some("3".into()),
            paragraph: None,
            note: None,
        };
        assert_eq!(
            cite.legal_text(&act, Lang::Ru),
            "Приказ № 55 от 26.01.2018, прил. 1, табл. 1, строка 3"
        );
        assert_eq!(
            cite.legal_text(&act, Lang::Kk),
            "26.01.2018 № 55 бұйрық, 1-қосымша, 1-кесте, 3-жол"
        );
        assert!(!cite.legal_text(&act, Lang::En).contains(".txt"));
    }
}
