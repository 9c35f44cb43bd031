//! What each service adds to the generic engine, in one home per service (as kanidm keeps
//! one file per plugin): the engine moves every application through the steps of its
//! catalog version, and calls the service's [`ServiceRules`] at fixed moments:
//!
//! * at intake, to check and complete the intake data ([`ServiceRules::intake`]);
//! * right after acceptance ([`ServiceRules::after_accept`]: the portal's own steps);
//! * when a step that names a hook in the catalog is done (`hook = "…"` on the step,
//!   [`ServiceRules::step_hook`]), and before a step that names a check is done
//!   (`check = "…"`, [`ServiceRules::check`]);
//! * when the result is issued ([`ServiceRules::issued`]): what goes into the person's
//!   record and the service's journal.
//!
//! The modules, one per service or family:
//!
//! | module | service |
//! |---|---|
//! | [`s1`] | S1 passports and ID cards (2014, 2018) |
//! | [`s1e`] | S1E the 2025 online renewal of an ID card on expiry (and its photo checks) |
//! | [`s2`] | S2 temporary ID cards |
//! | [`s3`] | S3 registration at the place of residence (and the chip rewrite task) |
//! | [`s4`] | S4 deregistration |
//! | [`s5`] | S5 address certificates |
//! | [`foreigners`] | S6 border-zone passes, S7 invitations, S8 registration of foreigners |
//! | [`s9`] | S9 IIN for foreigners |
//!
//! and the registers several of them keep: [`addresses`] (the address register),
//! [`registrations`] (registrations at a place of residence), [`person_documents`] (the
//! identity documents in the person's record), [`journals`] (the services' journals). Each module's intake data is a typed struct (`S3Intake`, `ForeignerIntake`,
//! …) that its intake hook parses with unknown fields refused and its later hooks read
//! back from the stored input (`intake::IntakeData`). Nothing outside this folder matches
//! on a service code or a step number: the catalog names the hook or check a step runs,
//! and [`rules`] finds a service's rules by its code.

pub mod addresses;
pub mod foreigners;
pub(crate) mod intake;
pub use intake::FORMULARY_SIGNATURE;
pub mod journals;
pub mod outcomes;
pub mod person_documents;
pub mod print;
pub mod registrations;
pub mod s1;
pub mod s1e;
pub mod s2;
pub mod s3;
pub mod s4;
pub mod s5;
pub mod s9;

use drn_core::catalog::{Process, Step, StepCheck, StepHook, Version};
use drn_core::{Channel, Service, Text};
use drn_docs::{DocumentKind, Field};
use drn_store::Value;
use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::json;

use crate::error::EngineError;
use crate::model::Outcome;
use crate::model::*;
use crate::rows::insert_event;
use crate::tx::Ctx;
use crate::Engine;
use crate::Refusal;
use intake::{IntakeData, NoIntake};

pub use crate::model::{AcceptForeigner, Foreigner};
pub use addresses::{Address, DistrictAddresses};
pub use journals::{JournalEntry, JOURNALS};
pub use registrations::Registration;
pub use s3::CounterTask;
pub use s9::applicant_foreigner;

/// How a step's service hook ended the application (S9: an error message).
#[derive(Debug, Clone)]
pub(crate) struct Ending {
    pub event: EventKind,
    pub data: serde_json::Value,
}

/// What the intake of a service is checked against.
pub(crate) struct Intake<'a> {
    pub version: &'a Version,
    pub process: &'a Process,
    /// The applicant: an IIN, or a foreigner's key (S9).
    pub applicant: &'a str,
}

/// A step being done, as a hook sees it.
pub(crate) struct StepDone<'a> {
    pub actor: &'a Actor,
    pub step: &'a Step,
    /// The officer's note on the step (S5's corrected РКА, S9's consent form).
    pub note: Option<&'a str>,
    pub now: Timestamp,
}

/// What happens right after an application is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAccept {
    /// It waits at its first step for the unit that holds it.
    Wait,
    /// The applicant's own steps on the portal (sign in, fill in, sign) were done by the
    /// submission, so they are completed at once, and a portal's last step gives the
    /// result at once.
    RunApplicantSteps,
}

/// What a service may add to the generic engine. Every method has the generic behaviour
/// as its default, so a service's module says only what is its own.
pub(crate) trait ServiceRules {
    /// The catalog hooks this service runs (a test checks the catalog names no other).
    const HOOKS: &'static [StepHook] = &[];
    /// The catalog checks this service runs.
    const CHECKS: &'static [StepCheck] = &[];

    /// Checks and completes the intake data (the `data` of the intake, an object): parses
    /// it into the service's [`IntakeData`] struct and validates it. A service that reads
    /// no data of its own takes none.
    async fn intake(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        NoIntake::parse(data).map(|_| ())
    }

    /// What happens right after acceptance on `channel`.
    fn after_accept(&self, _channel: Channel) -> AfterAccept {
        AfterAccept::Wait
    }

    /// Runs the catalog hook of a step being done. `Some` ends the application with that
    /// event.
    async fn step_hook(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _app: &mut Application,
        _done: &StepDone<'_>,
        hook: StepHook,
    ) -> Result<Option<Ending>, EngineError> {
        Err(EngineError::Corrupt(format!(
            "the catalog names hook {hook:?}, which this service does not run"
        )))
    }

    /// Runs the catalog check of the current step: whether it passed, and what it found.
    async fn check(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _app: &Application,
        check: StepCheck,
    ) -> Result<(bool, serde_json::Value), EngineError> {
        Err(EngineError::Corrupt(format!(
            "the catalog names check {check:?}, which this service does not run"
        )))
    }

    /// Writes what the result is into the registers when it is issued; returns its
    /// details for the `issued` event.
    async fn issued(
        &self,
        _e: &Engine,
        _c: &mut Ctx<'_>,
        _actor: &Actor,
        _app: &Application,
        _document: &str,
        _now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        Ok(json!(null))
    }

    /// Whether the service drives its own system and portal steps (the online renewal's
    /// session does, step by step with what each check found); otherwise the engine runs
    /// them by themselves.
    fn drives_its_own_steps(&self) -> bool {
        false
    }

    /// Whether a representative with a power of attorney may receive the result.
    fn representative_may_receive(&self) -> bool {
        true
    }

    /// Whether the officer who takes the application in certifies its electronic formulary
    /// with their own ЭЦП (issue 33): only where the seed says so.
    fn officer_certifies_formulary(&self) -> bool {
        false
    }

    /// The kind of the service's result document, when it has one. A paper result (the
    /// temporary ID card, the departure sheet, the invitation, the pass, the IIN
    /// certificate) gets its PDF too, signed by the issuing authority like an electronic
    /// one: the paper the person carries away is printed from it, and it is still a
    /// document the system produced, so its QR code and /verify/{id} prove it genuine.
    fn result_kind(&self) -> Option<DocumentKind> {
        None
    }

    /// The talon the application gets at intake: the e-registration talon.
    fn talon_kind(&self) -> DocumentKind {
        DocumentKind::ERegistrationTalon
    }

    /// The fields of the service's result document after the service and the application's
    /// number: what the engine recorded on issue (the registers, journals and the `issued`
    /// event), dates in Kazakhstan time.
    async fn result_fields(
        &self,
        _e: &Engine,
        _app: &Application,
        _kind: DocumentKind,
        parts: ResultParts<'_>,
    ) -> Result<(), EngineError> {
        parts.out.push(parts.issued_on);
        Ok(())
    }

    /// Whether an applicant may have only one open application (in progress or in
    /// transit) of this service at a time: a second is refused at intake, naming the
    /// first (issue 28 item 11). ASSUMPTION: the seeds do not say; a second open
    /// application for the same document, registration or deregistration makes no sense,
    /// so this is the default, and a service where a second one can make sense says so.
    fn one_open_per_applicant(&self) -> bool {
        true
    }

    /// Whether `e`, the engine's answer to a submission through the portal, is the
    /// portal's refusal of the request on a ground of the act, with nothing registered
    /// (`drn simulate` counts it refused at intake, not an error).
    fn refused_on_the_portal(&self, _e: &EngineError) -> bool {
        false
    }

    /// What `drn simulate` submits at a counter for this service.
    fn sample_intake(&self) -> SampleIntake {
        SampleIntake {
            data: json!({}),
            ends_registration: false,
        }
    }

    /// The version in force on `today` when the catalog has none then.
    async fn version_beyond_catalog<'s>(
        &self,
        _c: &mut Ctx<'_>,
        _svc: &'s Service,
        _today: Date,
    ) -> Result<Option<&'s Version>, EngineError> {
        Ok(None)
    }
}

/// What a service's result document is made of, for its module to fill in.
pub(crate) struct ResultParts<'a> {
    /// What the `issued` event recorded.
    pub result: &'a serde_json::Value,
    /// When it was issued.
    pub issued: Timestamp,
    /// The "issued on" field, for the module to place.
    pub issued_on: Field,
    /// The fields, in order.
    pub out: &'a mut Vec<Field>,
    /// A note under the fields.
    pub note: &'a mut Option<Text>,
}

/// What the simulation submits at a counter for a service.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleIntake {
    /// The intake's `data`. The simulation replaces these strings: `@applicant` by the
    /// applicant's IIN, `@month` by the day a month after the intake, `@dwelling` by a
    /// dwelling's code (РКА) from the address register; and gives a `foreigner`'s
    /// passport a number of its own.
    pub data: serde_json::Value,
    /// The result ends the person's registration (S4): each such application needs a
    /// person of its own.
    pub ends_registration: bool,
}

/// A service without rules of its own: the generic engine does everything.
pub(crate) struct Generic;
impl ServiceRules for Generic {}

/// The rules of one service, found by its code.
pub(crate) enum Rules {
    S1(s1::Passports),
    S1e(s1e::OnlineRenewal),
    S2(s2::TemporaryId),
    S3(s3::ResidenceRegistration),
    S4(s4::Deregistration),
    S5(s5::AddressCertificate),
    Foreigners(foreigners::ForeignerService),
    S9(s9::IinForForeigners),
    Generic(Generic),
}

/// The rules of the service with this code.
pub(crate) fn rules(code: &str) -> Rules {
    match code {
        "S1" => Rules::S1(s1::Passports),
        s1e::SERVICE => Rules::S1e(s1e::OnlineRenewal),
        "S2" => Rules::S2(s2::TemporaryId),
        "S3" => Rules::S3(s3::ResidenceRegistration),
        "S4" => Rules::S4(s4::Deregistration),
        s5::SERVICE => Rules::S5(s5::AddressCertificate),
        "S6" => Rules::Foreigners(foreigners::ForeignerService::BorderZonePass),
        "S7" => Rules::Foreigners(foreigners::ForeignerService::Invitation),
        foreigners::REGISTRATION => Rules::Foreigners(foreigners::ForeignerService::Registration),
        "S9" => Rules::S9(s9::IinForForeigners),
        _ => Rules::Generic(Generic),
    }
}

/// Runs `$body` with `$r` bound to the concrete rules of `$rules` (static dispatch: the
/// trait's async methods need no boxing).
macro_rules! with_rules {
    ($rules:expr, $r:ident => $body:expr) => {
        match $rules {
            Rules::S1($r) => $body,
            Rules::S1e($r) => $body,
            Rules::S2($r) => $body,
            Rules::S3($r) => $body,
            Rules::S4($r) => $body,
            Rules::S5($r) => $body,
            Rules::Foreigners($r) => $body,
            Rules::S9($r) => $body,
            Rules::Generic($r) => $body,
        }
    };
}

pub(crate) use with_rules;

/// What happens right after an application of the service with this code is accepted on
/// `channel`.
pub fn after_accept(code: &str, channel: Channel) -> AfterAccept {
    with_rules!(rules(code), r => r.after_accept(channel))
}

/// Whether the service with this code drives its own system and portal steps.
pub fn drives_its_own_steps(code: &str) -> bool {
    with_rules!(rules(code), r => r.drives_its_own_steps())
}

/// The kind of the result document of the service with this code, when it has one.
pub fn result_kind(code: &str) -> Option<DocumentKind> {
    with_rules!(rules(code), r => r.result_kind())
}

/// The talon an application of the service with this code gets at intake.
pub fn talon_kind(code: &str) -> DocumentKind {
    with_rules!(rules(code), r => r.talon_kind())
}

impl Rules {
    /// The catalog hooks these rules run.
    pub(crate) fn hooks(&self) -> &'static [StepHook] {
        fn of<R: ServiceRules>(_: &R) -> &'static [StepHook] {
            R::HOOKS
        }
        with_rules!(self, r => of(r))
    }

    /// The catalog checks these rules run.
    pub(crate) fn checks(&self) -> &'static [StepCheck] {
        fn of<R: ServiceRules>(_: &R) -> &'static [StepCheck] {
            R::CHECKS
        }
        with_rules!(self, r => of(r))
    }

    /// Whether a representative may receive the result.
    pub(crate) fn representative_may_receive(&self) -> bool {
        with_rules!(self, r => r.representative_may_receive())
    }

    /// Whether the intake's officer certifies the formulary with their own ЭЦП.
    pub(crate) fn officer_certifies_formulary(&self) -> bool {
        with_rules!(self, r => r.officer_certifies_formulary())
    }
}

/// The default mix of `drn simulate`: (service, channel, weight). ASSUMPTION (the seeds
/// give no volumes): passports (S1) first, most at the counter; registrations (S3, S4) and
/// the temporary card (S2) next; the address certificate (S5: in the demo the register
/// holds no person's address, so at a counter the district corrects it first, and through
/// the portal the request is refused) and the foreigners' services (S6 to S9) a few each. ASSUMPTION: S3 through the portal a third of S3 (the seeds give the
/// channel, orders 165 and 55 annex 3, not its share); S1E (the 2025 pilot, seed 001, in
/// force 28.05.2025-31.03.2026, when no other version of the catalog is: it is the whole
/// mix then) half through the portal, half through the mobile applications (seed 001 para
/// 9 gives both one process, not their shares), weighted like S1's portal. ASSUMPTION: S5
/// through the portal a third of S5 and S8 through the portal a third of S8, like S3 (the
/// seeds give the channel, not its share: seed 002 S5 para 6 and annex 3 table 1, seed 003
/// S8 para 4; both portals exist under the 2014 acts only, the 2018 text of S5 restating
/// no portal process). Every service whose catalog has a portal process is simulated there.
pub fn sample_mix() -> Vec<(&'static str, Channel, u64)> {
    vec![
        (s1::SERVICE, Channel::Counter, 50),
        (s1::SERVICE, Channel::Unit, 5),
        (s1::SERVICE, Channel::Portal, 10),
        (s1e::SERVICE, Channel::Portal, 5),
        (s1e::SERVICE, Channel::Mobile, 5),
        ("S2", Channel::Counter, 8),
        ("S3", Channel::Counter, 8),
        ("S3", Channel::Portal, 4),
        ("S4", Channel::Counter, 8),
        (s5::SERVICE, Channel::Counter, 2),
        (s5::SERVICE, Channel::Portal, 1),
        ("S6", Channel::Unit, 2),
        ("S7", Channel::Unit, 2),
        (foreigners::REGISTRATION, Channel::Unit, 2),
        (foreigners::REGISTRATION, Channel::Portal, 1),
        (s9::SERVICE, Channel::Counter, 2),
        (s9::SERVICE, Channel::Unit, 1),
    ]
}

/// What the simulation submits at a counter for the service with this code.
pub fn sample_intake(code: &str) -> SampleIntake {
    with_rules!(rules(code), r => r.sample_intake())
}

/// Whether `e`, the engine's answer to a submission of the service with this code through
/// the portal, is the portal's refusal on a ground of the act (S5: the address data do not
/// match the register), with nothing registered.
pub fn refused_on_the_portal(code: &str, e: &EngineError) -> bool {
    with_rules!(rules(code), r => r.refused_on_the_portal(e))
}

/// A foreigner's passport data for the simulation's intakes (S6 to S9): it replaces the
/// passport number with one of its own per intake.
pub(crate) fn sample_foreigner() -> serde_json::Value {
    json!({
        "surname": "Ivanov", "given_name": "Petr", "birth_date": "1990-05-17", "sex": "M",
        "citizenship": "RU", "passport": "SIM0000000"
    })
}

/// The service applied for without an IIN by a foreigner who has none (S9), if the
/// catalog has it: the screens offer its intake from a foreigner's passport data.
pub fn applied_for_without_iin() -> &'static str {
    s9::SERVICE
}

/// Whether the service's intake names an address of the address register (S3, S5): the
/// screens offer the register's search with its form.
pub fn uses_address_register(code: &str) -> bool {
    matches!(rules(code), Rules::S3(_) | Rules::S5(_))
}

/// Whether the service leaves tasks at the counter (S3's chip rewrite after a portal
/// registration): the application's page lists them.
pub fn leaves_counter_tasks(code: &str) -> bool {
    matches!(rules(code), Rules::S3(_))
}

/// Whether a representative with a power of attorney may receive the service's result
/// (not S1E: seed 001 para 3 subpara 19): the issue form offers the field only then.
pub fn representative_may_receive(code: &str) -> bool {
    rules(code).representative_may_receive()
}

/// Whether the officer who takes an application of the service in certifies its electronic
/// formulary with their own ЭЦП (the page asks their signing application at intake).
pub fn officer_certifies_formulary(code: &str) -> bool {
    rules(code).officer_certifies_formulary()
}

/// The journal the service keeps, if any.
pub fn journal_of(code: &str) -> Option<&'static str> {
    JOURNALS.iter().find(|(_, s)| *s == code).map(|(j, _)| *j)
}

pub(crate) fn is_staff(role: Role) -> bool {
    !matches!(role, Role::Citizen | Role::System)
}

impl Engine {
    /// Whether the application's result waits for the applicant to come for it (a hand-over
    /// step whose clock has not started: issue 30 item 12).
    pub fn awaits_applicant(&self, app: &Application) -> bool {
        app.status == Status::InProgress
            && app.step_due_at.is_none()
            && self
                .locate(&app.service, &app.version, &app.process)
                .is_ok_and(|(_, p)| p.waits_for_applicant(app.step))
    }

    /// The check the application's current step needs before it is done (the step's
    /// `check` in the catalog); `None` when it needs none.
    pub fn check_needed(&self, app: &Application) -> Option<&'static str> {
        let (_, p) = self.locate(&app.service, &app.version, &app.process).ok()?;
        p.step(app.step)?.check.map(StepCheck::as_str)
    }

    /// The detour step the application's current step returns it to for correction (a
    /// `return` branch to a detour: S5's address data corrected by the district, seed 002,
    /// the S5 regulation's annex 1 table 1 row 2 and para 5), if its process has one.
    pub fn correction_step(&self, app: &Application) -> Option<u32> {
        let (_, p) = self.locate(&app.service, &app.version, &app.process).ok()?;
        p.step(app.step)?
            .branches
            .iter()
            .filter_map(|b| b.to)
            .find(|to| p.detour_from(app.step, *to).is_some())
    }

    pub(crate) async fn person_row(
        &self,
        c: &mut Ctx<'_>,
        iin: &str,
    ) -> Result<Option<serde_json::Value>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT data_json FROM persons WHERE iin = $1",
                vec![Value::from(iin)],
            )
            .await?;
        r.map(|r| crate::rows::json(&r.try_get::<String, _>(0)?))
            .transpose()
    }

    /// The version of a service in force on `today` when its catalog has none then (the
    /// online renewal's pilot extended by an administrator).
    pub(crate) async fn version_beyond_catalog<'s>(
        &self,
        c: &mut Ctx<'_>,
        svc: &'s Service,
        today: Date,
    ) -> Result<Option<&'s Version>, EngineError> {
        with_rules!(rules(&svc.code), r => r.version_beyond_catalog(c, svc, today).await)
    }

    /// Checks and completes the intake data of a service (the `data` of the intake).
    pub(crate) async fn service_intake(
        &self,
        c: &mut Ctx<'_>,
        code: &str,
        at: &Intake<'_>,
        data: &mut serde_json::Value,
    ) -> Result<(), EngineError> {
        if !data.is_object() {
            *data = json!({});
        }
        with_rules!(rules(code), r => r.intake(self, c, at, data).await)
    }

    /// Whether the service allows one open application per applicant at a time.
    pub(crate) fn service_one_open(&self, code: &str) -> bool {
        with_rules!(rules(code), r => r.one_open_per_applicant())
    }

    /// What happens after the application was accepted, as its service says.
    pub(crate) fn service_after_accept(&self, app: &Application) -> AfterAccept {
        with_rules!(rules(&app.service), r => r.after_accept(app.channel))
    }

    /// Called when a step is done (completed, or the last step by issuing): the step's
    /// check must have passed, and its hook runs. `Some` ends the application with that
    /// event (S9's error message).
    pub(crate) async fn service_step_done(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &mut Application,
        step: &Step,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Ending>, EngineError> {
        if let Some(check) = step.check {
            let mut passed = self.last_check(c, app, step.n).await?;
            // A lookup the officer need not ask for first runs now, recorded like the
            // `check` command's; on a hit the step is refused below (and the refusal,
            // rolled back with the check, keeps its `denied:` audit record).
            if check.runs_when_done() && passed != Some(true) {
                passed = Some(self.record_check(c, actor, app, step, check, now).await?);
            }
            if passed != Some(true) {
                return Err(EngineError::forbidden(match (check, passed) {
                    (StepCheck::AddressData, None) => Refusal::CheckAddressFirst,
                    (StepCheck::AddressData, _) => Refusal::AddressMismatchReturnOrRefuse,
                    (StepCheck::SpecialRecords, None) => Refusal::CheckSpecialRecordsFirst,
                    (StepCheck::SpecialRecords, _) => Refusal::SpecialRecordsGround,
                    (StepCheck::WantedPersons, None) => Refusal::CheckWantedFirst,
                    (StepCheck::WantedPersons, _) => Refusal::ApplicantWanted,
                }));
            }
        }
        let Some(hook) = step.hook else {
            return Ok(None);
        };
        let done = StepDone {
            actor,
            step,
            note,
            now,
        };
        with_rules!(rules(&app.service), r => r.step_hook(self, c, app, &done, hook).await)
    }

    /// The outcome of the last check recorded at this step: `Some(true)` passed.
    pub(crate) async fn last_check(
        &self,
        c: &mut Ctx<'_>,
        app: &Application,
        step: u32,
    ) -> Result<Option<bool>, EngineError> {
        let r = c
            .fetch_optional(
                "SELECT data_json FROM events WHERE application_id = $1 AND kind = 'checked' AND step = $2 AND at >= $3 ORDER BY seq DESC LIMIT 1",
                vec![
                    Value::from(&app.id),
                    Value::from(i64::from(step)),
                    Value::from(app.step_entered_at),
                ],
            )
            .await?;
        r.map(|r| {
            let d = crate::rows::json(&r.try_get::<String, _>(0)?)?;
            Ok(d["passed"].as_bool().unwrap_or(false))
        })
        .transpose()
    }

    /// The `check` command: the service's check at the current step, recorded as an event.
    pub(crate) async fn check(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        id: &ApplicationId,
        revision: i64,
        now: Timestamp,
    ) -> Result<Outcome, EngineError> {
        let (mut app, _, step) = self.at_current_step(c, actor, id, revision).await?;
        let kind = step
            .check
            .ok_or_else(|| EngineError::invalid("step", Refusal::StepHasNoCheck))?;
        self.record_check(c, actor, &app, step, kind, now).await?;
        app.revision = revision + 1;
        self.save_state(c, &app, revision).await?;
        Ok(Outcome::Application { application: app })
    }

    /// Runs the service's check of a step and records it as a `checked` event in the
    /// timeline (the `check` command, a step done without one recorded, a registry's
    /// formation); whether it passed.
    pub(crate) async fn record_check(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &Application,
        step: &Step,
        kind: StepCheck,
        now: Timestamp,
    ) -> Result<bool, EngineError> {
        let (passed, detail) =
            with_rules!(rules(&app.service), r => r.check(self, c, app, kind).await)?;
        insert_event(
            c,
            &app.id,
            EventKind::Checked,
            Some(step.n),
            &actor.id,
            Some(&app.holder_unit),
            now,
            None,
            &json!({ "check": kind.as_str(), "passed": passed, "detail": detail }),
        )
        .await?;
        Ok(passed)
    }

    /// After a command was committed (never inside its transaction, which may still roll
    /// back): an issued result reaches the state systems that keep the person (the
    /// sandboxed ГБД ФЛ, [`s1e`]). A failure there is logged, not the command's: DRN's
    /// record is the source, and the next issue sends it again.
    pub(crate) async fn after_committed(&self, outcome: &Outcome) {
        if let Outcome::Application { application: app } = outcome {
            if app.status == Status::Issued {
                if let Err(e) = self.sync_sandbox_person(&app.applicant).await {
                    tracing::warn!(error = %e, application = %app.id, "the sandbox's person was not updated");
                }
            }
        }
    }

    /// Writes what the result of a service is, when it is issued; returns its details for
    /// the `issued` event.
    pub(crate) async fn service_issued(
        &self,
        c: &mut Ctx<'_>,
        actor: &Actor,
        app: &Application,
        document: &str,
        now: Timestamp,
    ) -> Result<serde_json::Value, EngineError> {
        with_rules!(rules(&app.service), r => r.issued(self, c, actor, app, document, now).await)
    }
}

/// Every refusal, referral and error message the services' own rules produce, each with
/// the catalog branch it is ([`outcomes::check_outcomes`] proves they are all there).
pub fn produced_outcomes() -> Vec<outcomes::OutcomeAt> {
    let mut out: Vec<outcomes::OutcomeAt> = Vec::new();
    out.extend(s1e::Exit::ALL.iter().map(|x| x.at()));
    out.extend(s1::Exit::ALL.iter().map(|x| x.at()));
    out.extend(s3::Exit::ALL.iter().map(|x| x.at()));
    out.extend(s9::Exit::ALL.iter().map(|x| x.at()));
    out
}

/// Every hook and check the catalog names must be run by its service's module: a catalog
/// that names another is refused when the engine starts (the catalog's own loader knows
/// the names, not which service runs which).
pub fn check_catalog(catalog: &drn_core::Catalog) -> Result<usize, EngineError> {
    let mut named = 0;
    for s in catalog.services.values() {
        let r = rules(&s.code);
        for v in &s.versions {
            for p in &v.processes {
                for step in &p.steps {
                    let unknown = step
                        .hook
                        .filter(|h| !r.hooks().contains(h))
                        .map(|h| format!("hook {h:?}"))
                        .or_else(|| {
                            step.check
                                .filter(|k| !r.checks().contains(k))
                                .map(|k| format!("check {k:?}"))
                        });
                    if let Some(what) = unknown {
                        return Err(EngineError::Corrupt(format!(
                            "catalog: {} {} {} step {} names {what}, which the service does not run",
                            s.code, v.id, p.id, step.n
                        )));
                    }
                    named += usize::from(step.hook.is_some()) + usize::from(step.check.is_some());
                }
            }
        }
    }
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> drn_core::Catalog {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../catalog");
        crate::catalog_files::load(std::path::Path::new(dir))
            .unwrap()
            .0
    }

    /// Every hook and check the catalog names is run by its service's module.
    #[test]
    fn the_catalog_names_only_hooks_its_services_run() {
        assert_eq!(check_catalog(&catalog()).unwrap(), 16);
    }

    /// A hook given to a service that does not run it is refused.
    #[test]
    fn a_hook_on_the_wrong_service_is_refused() {
        let mut cat = catalog();
        let s1 = cat.services.get_mut("S1").unwrap();
        s1.versions[0].processes[0].steps[0].hook = Some(StepHook::FormIin);
        let e = check_catalog(&cat).unwrap_err().to_string();
        assert!(e.contains("S1") && e.contains("FormIin"), "{e}");
    }
}
