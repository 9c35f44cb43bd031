//! The sandbox: every port answered from seeded person records, like the real systems,
//! with latency and outages injected on demand.
//!
//! How it decides (seed 001 п. 3 step numbers in parentheses):
//!
//! - consent (step 1): granted unless the person's `consent_denied`; unknown IIN: `NotFound`.
//! - ГБД ФЛ (step 2): the record; unknown IIN: `NotFound`. The photo of the current
//!   document: a small PNG portrait drawn from the SHA-256 of the IIN ([`record_photo`]:
//!   the same person always gets the same picture, persons differ in skin, hair, jacket
//!   and background); `no_photo` or unknown IIN: `NotFound`.
//! - БМГ (step 2): registered when the person's phone and the given one have the same digits
//!   (a leading 8 of an 11-digit number read as 7, a 10-digit number prefixed with 7) and
//!   `phone_in_bmg`; unknown IIN: not registered.
//! - Digital-ID (step 3, 11): `liveness_fails` fails identification first. Then the face match:
//!   the person's `photo_match` override if set; else a per-photo override set with
//!   [`Sandbox::override_photo`]; else the **hash rule**: the photo matches unless the
//!   first byte of its SHA-256 is below `0x10` (the hex digest starts with `0`), so 15 of
//!   16 arbitrary photos match and a given photo always gets the same answer
//!   ([`hash_rule_matches`]). An empty image: `Protocol`; unknown IIN: `NotFound`.
//! - legal capacity (step 4): the person's `legal_capacity`; unknown IIN: `NotFound`.
//! - ИС ЗАГС (step 5): the person's `zags_changes` dated on or after the given day; place of
//!   birth: the record, `NotFound` when there is none; unknown IIN: `NotFound`.
//! - АИС СИК (step 14): the person's statuses active on the given day; unknown IIN: none.
//! - payments (step 15): invoices kept in memory, idempotent by `reference`; [`Sandbox::pay`]
//!   stands in for the citizen paying; refund only of a paid invoice (seed 001 п. 11).
//! - special records: the person's `wanted` and `special_records`; unknown IIN: clean.
//!
//! Faults, per port: [`Sandbox::set_latency`] delays every answer (real time, so HTTP
//! timeouts trigger); [`Sandbox::set_outage`] answers `Unavailable` (HTTP 503) while the
//! sandbox's clock is before the given instant.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use drn_core::{Iin, Sex, Text};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::{Port, RegistryError};
use crate::model::*;
use crate::ports::*;

/// Injected faults of one port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Unavailable while the sandbox's clock is before this.
    #[serde(default)]
    pub outage_until: Option<Timestamp>,
    /// Delay before every answer, in milliseconds (real time).
    #[serde(default)]
    pub latency_ms: u64,
}

#[derive(Debug)]
struct Inner {
    clock: Arc<dyn Clock>,
    persons: RwLock<BTreeMap<Iin, SandboxPerson>>,
    faults: Mutex<HashMap<Port, Faults>>,
    invoices: Mutex<HashMap<String, Invoice>>,
    photo_overrides: Mutex<HashMap<String, bool>>,
}

/// The sandbox of all the ports. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// SHA-256 of a photo, hex.
pub fn photo_sha256(photo: &[u8]) -> String {
    hex::encode(Sha256::digest(photo))
}

/// The sandbox's face-match rule when no override applies: the photo matches unless the
/// first byte of its SHA-256 is below `0x10`.
pub fn hash_rule_matches(photo: &[u8]) -> bool {
    Sha256::digest(photo)[0] >= 0x10
}

/// Digits of a phone number in the 11-digit `7XXXXXXXXXX` form, if it has one.
pub fn normalize_phone(phone: &str) -> Option<String> {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    match d.len() {
        10 => Some(format!("7{d}")),
        11 if d.starts_with('8') => Some(format!("7{}", &d[1..])),
        11 if d.starts_with('7') => Some(d),
        _ => None,
    }
}

impl Sandbox {
    /// A sandbox that knows exactly these persons.
    pub fn new(persons: impl IntoIterator<Item = SandboxPerson>, clock: Arc<dyn Clock>) -> Sandbox {
        Sandbox {
            inner: Arc::new(Inner {
                clock,
                persons: RwLock::new(persons.into_iter().map(|p| (p.iin, p)).collect()),
                faults: Mutex::new(HashMap::new()),
                invoices: Mutex::new(HashMap::new()),
                photo_overrides: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A sandbox over `persons` where every branch of the online renewal is reachable:
    /// takes persons who already have a story, or gives one to a plain person
    /// ([`BranchCases::assign`]).
    pub fn with_branch_cases(
        mut persons: Vec<SandboxPerson>,
        today: Date,
        clock: Arc<dyn Clock>,
    ) -> (Sandbox, BranchCases) {
        let cases = BranchCases::assign(&mut persons, today);
        (Sandbox::new(persons, clock), cases)
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.inner.clock.clone()
    }

    pub fn person(&self, iin: Iin) -> Option<SandboxPerson> {
        self.read_persons().get(&iin).cloned()
    }

    pub fn persons(&self) -> Vec<SandboxPerson> {
        self.read_persons().values().cloned().collect()
    }

    /// Adds or replaces a person.
    pub fn upsert(&self, person: SandboxPerson) {
        self.inner
            .persons
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(person.iin, person);
    }

    fn read_persons(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<Iin, SandboxPerson>> {
        self.inner.persons.read().unwrap_or_else(|p| p.into_inner())
    }

    fn known(&self, port: Port, iin: Iin) -> Result<SandboxPerson, RegistryError> {
        self.person(iin)
            .ok_or_else(|| RegistryError::not_found(port, format!("person {iin}")))
    }

    // -- faults ---------------------------------------------------------------------------

    pub fn faults(&self, port: Port) -> Faults {
        lock(&self.inner.faults)
            .get(&port)
            .copied()
            .unwrap_or_default()
    }

    pub fn set_faults(&self, port: Port, faults: Faults) {
        lock(&self.inner.faults).insert(port, faults);
    }

    /// The port answers `Unavailable` until `until` (on the sandbox's clock).
    pub fn set_outage(&self, port: Port, until: Timestamp) {
        lock(&self.inner.faults)
            .entry(port)
            .or_default()
            .outage_until = Some(until);
    }

    /// An outage from now for `d`.
    pub fn set_outage_for(&self, port: Port, d: SignedDuration) {
        let now = self.inner.clock.now();
        self.set_outage(port, now.checked_add(d).unwrap_or(Timestamp::MAX));
    }

    pub fn clear_outage(&self, port: Port) {
        lock(&self.inner.faults)
            .entry(port)
            .or_default()
            .outage_until = None;
    }

    /// Every answer of the port is delayed by `d` (real time).
    pub fn set_latency(&self, port: Port, d: Duration) {
        lock(&self.inner.faults).entry(port).or_default().latency_ms =
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    }

    pub fn clear_faults(&self) {
        lock(&self.inner.faults).clear();
    }

    /// Makes a photo (by its bytes) match or not, for every person.
    pub fn override_photo(&self, photo: &[u8], matched: bool) {
        lock(&self.inner.photo_overrides).insert(photo_sha256(photo), matched);
    }

    /// Latency, then the outage check: what every call goes through first.
    async fn enter(&self, port: Port) -> Result<(), RegistryError> {
        let f = self.faults(port);
        if f.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
        }
        if let Some(until) = f.outage_until {
            if self.inner.clock.now() < until {
                return Err(RegistryError::Unavailable {
                    port,
                    detail: format!("sandbox outage until {until}"),
                });
            }
        }
        Ok(())
    }

    // -- Digital-ID -----------------------------------------------------------------------

    fn face(&self, p: &SandboxPerson, photo: &[u8]) -> (bool, MatchRule) {
        if let Some(v) = p.photo_match {
            return (v, MatchRule::PersonOverride);
        }
        if let Some(v) = lock(&self.inner.photo_overrides).get(&photo_sha256(photo)) {
            return (*v, MatchRule::PhotoOverride);
        }
        (hash_rule_matches(photo), MatchRule::HashRule)
    }

    // -- payments -------------------------------------------------------------------------

    /// The citizen pays the invoice (sandbox only: the real payment happens at a bank).
    /// Paying a paid invoice returns it unchanged; a refunded one is refused.
    pub async fn pay(&self, id: &str) -> Result<Invoice, RegistryError> {
        let port = Port::Payments;
        self.enter(port).await?;
        let now = self.inner.clock.now();
        let mut inv = lock(&self.inner.invoices);
        let i = inv
            .get_mut(id)
            .ok_or_else(|| RegistryError::not_found(port, format!("invoice {id}")))?;
        match i.status {
            InvoiceStatus::Unpaid => {
                i.status = InvoiceStatus::Paid;
                i.paid_at = Some(now);
                Ok(i.clone())
            }
            InvoiceStatus::Paid => Ok(i.clone()),
            InvoiceStatus::Refunded => Err(RegistryError::refused(
                port,
                "Шот бойынша төлем қайтарылды: оны төлеуге болмайды.",
                "Платёж по счёту возвращён: счёт нельзя оплатить.",
                "The invoice was refunded and cannot be paid.",
            )),
        }
    }
}

impl ConsentService for Sandbox {
    fn request_consent(&self, req: ConsentRequest) -> PortFuture<'_, Consent> {
        Box::pin(async move {
            let port = Port::Consent;
            self.enter(port).await?;
            if req.purpose.trim().is_empty() {
                return Err(RegistryError::protocol(port, "purpose is empty"));
            }
            let p = self.known(port, req.iin)?;
            if p.consent_denied {
                return Ok(Consent::Denied {
                    reason: Text::new(
                        "Қызмет алушы дербес деректерге қол жеткізуге келісім бермеді.",
                        "Услугополучатель не дал согласия на доступ к персональным данным.",
                        "The applicant did not consent to access to their personal data.",
                    ),
                });
            }
            Ok(Consent::Granted {
                consent_id: uuid::Uuid::now_v7().to_string(),
                at: self.inner.clock.now(),
            })
        })
    }
}

impl GbdFl for Sandbox {
    fn person(&self, iin: Iin) -> PortFuture<'_, GbdPerson> {
        Box::pin(async move {
            self.enter(Port::GbdFl).await?;
            let p = self.known(Port::GbdFl, iin)?;
            Ok(GbdPerson {
                iin: p.iin,
                surname: p.surname,
                given_name: p.given_name,
                patronymic: p.patronymic,
                birth_date: p.birth_date,
                sex: p.sex,
                citizenship: p.citizenship,
                nationality: p.nationality,
                registration: p.registration,
                id_card: p.id_card,
            })
        })
    }

    fn photo(&self, iin: Iin) -> PortFuture<'_, RecordPhoto> {
        Box::pin(async move {
            let port = Port::GbdFl;
            self.enter(port).await?;
            let p = self.known(port, iin)?;
            if p.no_photo {
                return Err(RegistryError::not_found(port, format!("photo of {iin}")));
            }
            use base64::Engine as _;
            Ok(RecordPhoto {
                iin,
                mime: "image/png".into(),
                image_base64: base64::engine::general_purpose::STANDARD.encode(record_photo(&iin)),
            })
        })
    }
}

/// The sandbox's photo of a person on record: a 150×200 PNG portrait (a head with hair,
/// eyes and mouth over a jacket on a light background) whose colours and proportions come
/// from the SHA-256 of the IIN, so it is the same on every call and differs between
/// persons. Empty if the encoder fails (it does not on a `Vec`).
pub fn record_photo(iin: &Iin) -> Vec<u8> {
    const W: u32 = 150;
    const H: u32 = 200;
    const SKIN: [[u8; 3]; 4] = [
        [236, 200, 170],
        [214, 170, 135],
        [190, 145, 110],
        [160, 115, 85],
    ];
    const HAIR: [[u8; 3]; 4] = [[35, 28, 24], [90, 60, 35], [150, 110, 60], [120, 120, 120]];
    const JACKET: [[u8; 3]; 4] = [[35, 45, 70], [60, 60, 60], [90, 40, 40], [40, 70, 55]];
    const BACK: [[u8; 3]; 3] = [[240, 240, 240], [228, 236, 244], [244, 240, 230]];
    let h = Sha256::digest(iin.to_string().as_bytes());
    let skin = SKIN[usize::from(h[0] % 4)];
    let hair = HAIR[usize::from(h[1] % 4)];
    let jacket = JACKET[usize::from(h[2] % 4)];
    let back = BACK[usize::from(h[3] % 3)];
    // The head's half-width 0.17-0.22 of the width, its half-height 0.18-0.22 of the height.
    let rx = 0.17 + f64::from(h[4] % 6) * 0.01;
    let ry = 0.18 + f64::from(h[5] % 5) * 0.01;
    let (fw, fh) = (f64::from(W), f64::from(H));
    let cx = fw * 0.5;
    let mut data = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            let (xf, yf) = (f64::from(x), f64::from(y));
            let hx = (xf - cx) / (fw * rx);
            let hy = (yf - fh * 0.42) / (fh * ry);
            let px = if hx * hx + hy * hy <= 1.0 {
                let eye = (yf - fh * 0.39).abs() < fh * 0.015
                    && ((xf - (cx - fw * 0.07)).abs() < fw * 0.025
                        || (xf - (cx + fw * 0.07)).abs() < fw * 0.025);
                let mouth = (yf - fh * 0.52).abs() < fh * 0.01 && (xf - cx).abs() < fw * 0.05;
                if eye || mouth {
                    [60, 40, 35]
                } else {
                    skin
                }
            } else if hx.abs() <= 1.08 && yf < fh * 0.36 && {
                let r = (yf - fh * 0.32) / (fh * 0.14);
                r * r + hx * hx <= 1.0
            } {
                hair
            } else if yf > fh * 0.7 && (xf - cx).abs() < fw * (0.3 + (yf - fh * 0.7) / fh) {
                jacket
            } else {
                back
            };
            data.extend_from_slice(&px);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, W, H);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let written = enc
            .write_header()
            .and_then(|mut w| w.write_image_data(&data));
        if written.is_err() {
            return Vec::new();
        }
    }
    out
}

impl Bmg for Sandbox {
    fn phone_registered(&self, iin: Iin, phone: String) -> PortFuture<'_, PhoneCheck> {
        Box::pin(async move {
            let port = Port::Bmg;
            self.enter(port).await?;
            let asked = normalize_phone(&phone)
                .ok_or_else(|| RegistryError::protocol(port, format!("bad phone {phone:?}")))?;
            let registered = self.person(iin).is_some_and(|p| {
                p.phone_in_bmg && p.phone.as_deref().and_then(normalize_phone) == Some(asked)
            });
            Ok(PhoneCheck { registered })
        })
    }
}

impl DigitalId for Sandbox {
    fn identify(&self, iin: Iin, selfie: Vec<u8>) -> PortFuture<'_, Identification> {
        Box::pin(async move {
            let port = Port::DigitalId;
            self.enter(port).await?;
            if selfie.is_empty() {
                return Err(RegistryError::protocol(port, "empty image"));
            }
            let p = self.known(port, iin)?;
            let session_id = uuid::Uuid::now_v7().to_string();
            if p.liveness_fails {
                return Ok(Identification {
                    liveness: false,
                    identified: false,
                    session_id,
                    decided_by: MatchRule::Liveness,
                });
            }
            let (identified, decided_by) = self.face(&p, &selfie);
            Ok(Identification {
                liveness: true,
                identified,
                session_id,
                decided_by,
            })
        })
    }

    fn photo_matches(&self, iin: Iin, photo: Vec<u8>) -> PortFuture<'_, PhotoMatch> {
        Box::pin(async move {
            let port = Port::DigitalId;
            self.enter(port).await?;
            if photo.is_empty() {
                return Err(RegistryError::protocol(port, "empty image"));
            }
            let p = self.known(port, iin)?;
            let (matched, decided_by) = self.face(&p, &photo);
            Ok(PhotoMatch {
                matched,
                photo_sha256: photo_sha256(&photo),
                decided_by,
            })
        })
    }
}

impl LegalCapacityService for Sandbox {
    fn legal_capacity(&self, iin: Iin) -> PortFuture<'_, CapacityAnswer> {
        Box::pin(async move {
            self.enter(Port::LegalCapacity).await?;
            let p = self.known(Port::LegalCapacity, iin)?;
            Ok(CapacityAnswer {
                capacity: p.legal_capacity,
            })
        })
    }
}

impl Zags for Sandbox {
    fn changes_since(&self, iin: Iin, since: Date) -> PortFuture<'_, Vec<ZagsChange>> {
        Box::pin(async move {
            self.enter(Port::Zags).await?;
            let p = self.known(Port::Zags, iin)?;
            Ok(p.zags_changes
                .into_iter()
                .filter(|c| c.date >= since)
                .collect())
        })
    }

    fn place_of_birth(&self, iin: Iin) -> PortFuture<'_, PlaceOfBirth> {
        Box::pin(async move {
            let port = Port::Zags;
            self.enter(port).await?;
            self.known(port, iin)?
                .place_of_birth
                .ok_or_else(|| RegistryError::not_found(port, format!("place of birth of {iin}")))
        })
    }
}

impl Sik for Sandbox {
    fn social_statuses(&self, iin: Iin, on: Date) -> PortFuture<'_, Vec<SocialStatus>> {
        Box::pin(async move {
            self.enter(Port::Sik).await?;
            Ok(self
                .person(iin)
                .map(|p| p.social_statuses)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.active_on(on))
                .collect())
        })
    }
}

impl Payments for Sandbox {
    fn create_invoice(&self, req: InvoiceRequest) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            let port = Port::Payments;
            self.enter(port).await?;
            if req.reference.trim().is_empty() {
                return Err(RegistryError::protocol(port, "reference is empty"));
            }
            if req.amount_tenge == 0 {
                return Err(RegistryError::refused(
                    port,
                    "Шот сомасы нөлден үлкен болуы керек.",
                    "Сумма счёта должна быть больше нуля.",
                    "The invoice amount must be above zero.",
                ));
            }
            let mut inv = lock(&self.inner.invoices);
            if let Some(i) = inv.values().find(|i| i.reference == req.reference) {
                return if i.iin == req.iin
                    && i.amount_tenge == req.amount_tenge
                    && i.purpose == req.purpose
                {
                    Ok(i.clone())
                } else {
                    Err(RegistryError::refused(
                        port,
                        "Бұл сілтеме басқа шотқа берілген.",
                        "Этот идентификатор уже использован для другого счёта.",
                        "This reference is already used for another invoice.",
                    ))
                };
            }
            let i = Invoice {
                id: uuid::Uuid::now_v7().to_string(),
                iin: req.iin,
                amount_tenge: req.amount_tenge,
                purpose: req.purpose,
                reference: req.reference,
                status: InvoiceStatus::Unpaid,
                created_at: self.inner.clock.now(),
                paid_at: None,
                refunded_at: None,
            };
            inv.insert(i.id.clone(), i.clone());
            Ok(i)
        })
    }

    fn invoice(&self, id: String) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            let port = Port::Payments;
            self.enter(port).await?;
            lock(&self.inner.invoices)
                .get(&id)
                .cloned()
                .ok_or_else(|| RegistryError::not_found(port, format!("invoice {id}")))
        })
    }

    fn refund(&self, id: String) -> PortFuture<'_, Invoice> {
        Box::pin(async move {
            let port = Port::Payments;
            self.enter(port).await?;
            let now = self.inner.clock.now();
            let mut inv = lock(&self.inner.invoices);
            let i = inv
                .get_mut(&id)
                .ok_or_else(|| RegistryError::not_found(port, format!("invoice {id}")))?;
            match i.status {
                InvoiceStatus::Unpaid => Err(RegistryError::refused(
                    port,
                    "Шот төленбеген: қайтаратын ештеңе жоқ.",
                    "Счёт не оплачен: возвращать нечего.",
                    "The invoice is not paid: there is nothing to refund.",
                )),
                InvoiceStatus::Paid => {
                    i.status = InvoiceStatus::Refunded;
                    i.refunded_at = Some(now);
                    Ok(i.clone())
                }
                InvoiceStatus::Refunded => Ok(i.clone()),
            }
        })
    }
}

impl SpecialRecords for Sandbox {
    fn check(&self, iin: Iin) -> PortFuture<'_, RecordCheck> {
        Box::pin(async move {
            self.enter(Port::SpecialRecords).await?;
            Ok(self
                .person(iin)
                .map(|p| RecordCheck {
                    wanted: p.wanted,
                    records: p.special_records,
                })
                .unwrap_or(RecordCheck {
                    wanted: false,
                    records: Vec::new(),
                }))
        })
    }
}

// ---------------------------------------------------------------------------------------
// Branch cases

/// The persons through whom each branch of the online renewal is reached on purpose.
/// `None` when the seeded persons had nobody left to give that story to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchCases {
    /// No story: every check passes (the happy path).
    pub plain: Option<Iin>,
    /// Step 1: refuses consent.
    pub consent_denied: Option<Iin>,
    /// Step 2: the phone is not theirs in БМГ.
    pub phone_not_in_bmg: Option<Iin>,
    /// Step 3: Digital-ID liveness fails.
    pub liveness_fails: Option<Iin>,
    /// Step 4: declared incapable.
    pub incapable: Option<Iin>,
    /// Step 5: a change of surname after the ID card was issued.
    pub name_change: Option<Iin>,
    /// Step 6: no permanent registration.
    pub no_registration: Option<Iin>,
    /// Step 11: no photo matches.
    pub photo_mismatch: Option<Iin>,
    /// Step 14: a social status that exempts from the duty.
    pub social_status: Option<Iin>,
    /// On a special record (exit restriction).
    pub special_record: Option<Iin>,
    /// On the wanted list.
    pub wanted: Option<Iin>,
    /// ИС ЗАГС has no place of birth (the historical record is used).
    pub no_zags_birthplace: Option<Iin>,
}

type Case = (
    fn(&mut BranchCases) -> &mut Option<Iin>,
    fn(&SandboxPerson) -> bool,
    fn(&mut SandboxPerson, Date),
);

fn days(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap_or(d)
}

/// The country of birth for a person the demo gives none: Kazakhstan.
pub fn kazakhstan() -> PlaceOfBirth {
    PlaceOfBirth {
        country: "KZ".into(),
        country_name: Text::new("ҚАЗАҚСТАН", "КАЗАХСТАН", "KAZAKHSTAN"),
        region: None,
        locality: None,
        source: PlaceSource::Zags,
    }
}

impl BranchCases {
    /// Picks a person for each case: one who already has that story, else a plain person
    /// (preferring ID cards in the online renewal window, seed 001 п. 7: expiring in 30 or
    /// fewer days or expired 10 or fewer days ago) who is given it. Each person gets at
    /// most one story, so each fails at exactly its own step.
    pub fn assign(persons: &mut [SandboxPerson], today: Date) -> BranchCases {
        let in_window = |p: &SandboxPerson| {
            p.id_card
                .as_ref()
                .is_some_and(|c| days(today, -10) <= c.expires && c.expires <= days(today, 30))
        };
        // Candidates: in-window cards first, then other cards, then the rest.
        let mut order: Vec<usize> = (0..persons.len()).collect();
        order.sort_by_key(|&i| {
            let p = &persons[i];
            (!in_window(p), p.id_card.is_none(), i)
        });

        let cases: [Case; 12] = [
            (
                |c| &mut c.plain,
                |p| p.is_plain() && p.place_of_birth.is_some(),
                |p, _| {
                    if p.place_of_birth.is_none() {
                        p.place_of_birth = Some(kazakhstan());
                    }
                },
            ),
            (
                |c| &mut c.consent_denied,
                |p| p.consent_denied,
                |p, _| p.consent_denied = true,
            ),
            (
                |c| &mut c.phone_not_in_bmg,
                |p| !p.phone_in_bmg,
                |p, _| p.phone_in_bmg = false,
            ),
            (
                |c| &mut c.liveness_fails,
                |p| p.liveness_fails,
                |p, _| p.liveness_fails = true,
            ),
            (
                |c| &mut c.incapable,
                |p| p.legal_capacity != LegalCapacity::Full,
                |p, _| p.legal_capacity = LegalCapacity::Incapable,
            ),
            (
                |c| &mut c.name_change,
                |p| !p.zags_changes.is_empty(),
                |p, today| {
                    let issued = p.id_card.as_ref().map_or(days(today, -365), |c| c.issued);
                    let span = today
                        .since(issued)
                        .map(|s| s.get_days())
                        .unwrap_or(0)
                        .max(2);
                    let old = match (p.sex, p.surname.as_str()) {
                        (Sex::Female, "Омарова") => "Сапарова",
                        (Sex::Female, _) => "Омарова",
                        (Sex::Male, "Омаров") => "Сапаров",
                        (Sex::Male, _) => "Омаров",
                    };
                    p.zags_changes.push(ZagsChange {
                        field: ChangedField::Surname,
                        old: old.into(),
                        new: p.surname.clone(),
                        date: days(issued, i64::from(span / 2)),
                        act_record: format!("{}", 100_000 + p.iin.serial() as u32),
                    });
                },
            ),
            (
                |c| &mut c.no_registration,
                |p| p.registration.is_none(),
                |p, _| p.registration = None,
            ),
            (
                |c| &mut c.photo_mismatch,
                |p| p.photo_match == Some(false),
                |p, _| p.photo_match = Some(false),
            ),
            (
                |c| &mut c.social_status,
                |p| p.social_statuses.iter().any(|s| s.exempts_state_duty),
                |p, today| {
                    p.social_statuses.push(SocialStatus {
                        code: "disability_group_2".into(),
                        name: Text::new(
                            "ІІ топтағы мүгедектігі бар адам",
                            "Лицо с инвалидностью II группы",
                            "Person with a group II disability",
                        ),
                        since: days(today, -730),
                        until: None,
                        exempts_state_duty: true,
                    })
                },
            ),
            (
                |c| &mut c.special_record,
                |p| !p.special_records.is_empty(),
                |p, today| {
                    p.special_records.push(SpecialRecord {
                        code: "exit_restricted".into(),
                        name: Text::new(
                            "Қазақстан Республикасынан шығу құқығы уақытша шектелген адамдар есебі",
                            "Учёт лиц, временно ограниченных в праве выезда из Республики Казахстан",
                            "Persons temporarily restricted from leaving Kazakhstan",
                        ),
                        since: days(today, -100),
                    })
                },
            ),
            (|c| &mut c.wanted, |p| p.wanted, |p, _| p.wanted = true),
            (
                |c| &mut c.no_zags_birthplace,
                |p| p.is_plain() && p.place_of_birth.is_none(),
                |p, _| p.place_of_birth = None,
            ),
        ];

        let mut out = BranchCases::default();
        let mut taken: HashSet<usize> = HashSet::new();
        for (slot, has, give) in cases {
            let found = order
                .iter()
                .copied()
                .find(|&i| !taken.contains(&i) && has(&persons[i]))
                .or_else(|| {
                    order
                        .iter()
                        .copied()
                        .find(|&i| !taken.contains(&i) && persons[i].is_plain())
                });
            if let Some(i) = found {
                give(&mut persons[i], today);
                taken.insert(i);
                *slot(&mut out) = Some(persons[i].iin);
            }
        }
        out
    }

    /// The cases that have a person, by name.
    pub fn all(&self) -> Vec<(&'static str, Iin)> {
        [
            ("plain", self.plain),
            ("consent_denied", self.consent_denied),
            ("phone_not_in_bmg", self.phone_not_in_bmg),
            ("liveness_fails", self.liveness_fails),
            ("incapable", self.incapable),
            ("name_change", self.name_change),
            ("no_registration", self.no_registration),
            ("photo_mismatch", self.photo_mismatch),
            ("social_status", self.social_status),
            ("special_record", self.special_record),
            ("wanted", self.wanted),
            ("no_zags_birthplace", self.no_zags_birthplace),
        ]
        .into_iter()
        .filter_map(|(n, i)| i.map(|i| (n, i)))
        .collect()
    }
}

/// A small set of plain persons for tests and a standalone sandbox: `n` adults with a
/// registration in Astana, a phone, a Kazakh place of birth and an ID card whose expiry
/// runs from 20 days ago by 3 days (so most of them are in the renewal window).
pub fn sample_persons(today: Date, n: usize) -> Vec<SandboxPerson> {
    const NAMES: [(&str, &str, &str, Sex); 4] = [
        ("Ахметов", "Ерлан", "Серикович", Sex::Male),
        ("Жумабаева", "Айгуль", "Нурлановна", Sex::Female),
        ("Касымов", "Данияр", "Маратович", Sex::Male),
        ("Искакова", "Динара", "Болатовна", Sex::Female),
    ];
    let mut out = Vec::new();
    for k in 0..n {
        let (surname, given, patronymic, sex) = NAMES[k % NAMES.len()];
        let birth = days(jiff::civil::date(1970, 1, 15), (k as i64) * 397);
        let Ok(iin) = Iin::form(birth, sex, |_| false) else {
            continue;
        };
        let expires = days(today, (k as i64) * 3 - 20);
        let issued = expires
            .checked_sub(10.years())
            .unwrap_or(days(expires, -3652));
        let mut p = SandboxPerson::new(iin, surname, given, Some(patronymic), birth, sex);
        p.phone = Some(format!("+7 701 555 {:02} {:02}", k / 100, k % 100));
        p.registration = Some(Registration {
            region: "71".into(),
            district: "astana-almaty".into(),
            address: format!("г. Астана, ул. Абая {}, кв. {}", k + 1, k + 10),
            since: days(birth, 18 * 365),
        });
        p.id_card = Some(IdCard {
            number: format!("{:09}", 41_000_000 + k as u64 * 7919),
            issued,
            expires,
            issuer: "МВД РК".into(),
        });
        p.place_of_birth = Some(kazakhstan());
        out.push(p);
    }
    out
}
