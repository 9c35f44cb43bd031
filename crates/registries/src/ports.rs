//! The ports: one trait per state system. Methods return boxed futures so the engine can
//! hold `Arc<dyn Port>` and choose the sandbox or the HTTP client at start-up.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use drn_core::Iin;
use jiff::civil::Date;

use crate::error::RegistryError;
use crate::model::*;

/// What every port method returns.
pub type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, RegistryError>> + Send + 'a>>;

/// Государственный сервис контроля доступа к персональным данным (Дербес деректерге қол
/// жеткізуді бақылаудың мемлекеттік сервисі): seed 001 п. 3 step 1.
pub trait ConsentService: Send + Sync {
    /// Asks the person for consent to access their data for `purpose`.
    fn request_consent(&self, req: ConsentRequest) -> PortFuture<'_, Consent>;
}

/// ГБД ФЛ, государственная база данных «Физические лица» («Жеке тұлғалар» мемлекеттік
/// дерекқоры): seed 001 п. 3 step 2.
pub trait GbdFl: Send + Sync {
    /// The person by IIN; `NotFound` when there is none.
    fn person(&self, iin: Iin) -> PortFuture<'_, GbdPerson>;
    /// The photo of the person's current document; `NotFound` when ГБД ФЛ holds none.
    fn photo(&self, iin: Iin) -> PortFuture<'_, RecordPhoto>;
}

/// БМГ, база мобильных граждан (азаматтардың мобильді базасы): seed 001 п. 2 8), п. 3 step 2.
pub trait Bmg: Send + Sync {
    /// Is `phone` registered to the person with `iin`.
    fn phone_registered(&self, iin: Iin, phone: String) -> PortFuture<'_, PhoneCheck>;
}

/// Digital-ID, биометрическая идентификация (биометриялық сәйкестендіру): seed 001 п. 2 9),
/// п. 3 steps 3 and 11.
pub trait DigitalId: Send + Sync {
    /// Identifies the person from a live selfie (liveness and face match).
    fn identify(&self, iin: Iin, selfie: Vec<u8>) -> PortFuture<'_, Identification>;
    /// Does `photo` match the person's photo in ГБД ФЛ.
    fn photo_matches(&self, iin: Iin, photo: Vec<u8>) -> PortFuture<'_, PhotoMatch>;
}

/// Сведения о дееспособности (әрекет қабілеттілігі): seed 001 п. 3 step 4.
pub trait LegalCapacityService: Send + Sync {
    fn legal_capacity(&self, iin: Iin) -> PortFuture<'_, CapacityAnswer>;
}

/// ИС ЗАГС (АХАЖ ақпараттық жүйесі): seed 001 п. 3 step 5, п. 5 4).
pub trait Zags: Send + Sync {
    /// Changes of surname, name, patronymic, date of birth or nationality recorded on or
    /// after `since`.
    fn changes_since(&self, iin: Iin, since: Date) -> PortFuture<'_, Vec<ZagsChange>>;
    /// The place of birth; `NotFound` when ЗАГС has no record.
    fn place_of_birth(&self, iin: Iin) -> PortFuture<'_, PlaceOfBirth>;
}

/// АИС СИК, social statuses (әлеуметтік мәртебелер): seed 001 п. 2 11), п. 3 step 14.
pub trait Sik: Send + Sync {
    /// The person's social statuses active on `on`.
    fn social_statuses(&self, iin: Iin, on: Date) -> PortFuture<'_, Vec<SocialStatus>>;
}

/// Payment of the state duty (мемлекеттік баж): seed 001 п. 3 step 15; refund п. 11.
pub trait Payments: Send + Sync {
    /// Creates an invoice (idempotent by `reference`).
    fn create_invoice(&self, req: InvoiceRequest) -> PortFuture<'_, Invoice>;
    /// The invoice and its status.
    fn invoice(&self, id: String) -> PortFuture<'_, Invoice>;
    /// Refunds a paid invoice (idempotent); refused for an unpaid one.
    fn refund(&self, id: String) -> PortFuture<'_, Invoice>;
}

/// Розыск и специальные учёты (іздестіру және арнайы есепке алу): seed 000 (the check
/// against the database of wanted persons), seed 003 (проверка по специальным учетам).
pub trait SpecialRecords: Send + Sync {
    fn check(&self, iin: Iin) -> PortFuture<'_, RecordCheck>;
}

/// All the ports, as the engine holds them.
#[derive(Clone)]
pub struct Registries {
    pub consent: Arc<dyn ConsentService>,
    pub gbd_fl: Arc<dyn GbdFl>,
    pub bmg: Arc<dyn Bmg>,
    pub digital_id: Arc<dyn DigitalId>,
    pub legal_capacity: Arc<dyn LegalCapacityService>,
    pub zags: Arc<dyn Zags>,
    pub sik: Arc<dyn Sik>,
    pub payments: Arc<dyn Payments>,
    pub special_records: Arc<dyn SpecialRecords>,
}

impl Registries {
    /// Every port from one implementation (the sandbox, or the HTTP clients).
    pub fn from_one<T>(imp: Arc<T>) -> Registries
    where
        T: ConsentService
            + GbdFl
            + Bmg
            + DigitalId
            + LegalCapacityService
            + Zags
            + Sik
            + Payments
            + SpecialRecords
            + 'static,
    {
        Registries {
            consent: imp.clone(),
            gbd_fl: imp.clone(),
            bmg: imp.clone(),
            digital_id: imp.clone(),
            legal_capacity: imp.clone(),
            zags: imp.clone(),
            sik: imp.clone(),
            payments: imp.clone(),
            special_records: imp,
        }
    }
}
