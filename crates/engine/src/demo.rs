//! Demo data: the unit tree of the whole country (centre, production, 20 regions, their
//! districts and counters), staff users of every role, and synthetic persons with valid
//! IINs, registrations and ID cards. Deterministic from a seed (and today's date, which
//! places the ID cards' expiry dates), and only ever written into an empty database.
//!
//! Sources: regions and KATO region codes, IIN rules and the ID card's 10-year validity
//! from age 16 as in `shared/domain/facts.md`.

use std::collections::HashMap;

use drn_core::{Iin, Sex, Text, WorkingHours};
use jiff::civil::Date;
use jiff::ToSpan;
use serde_json::json;

use crate::error::EngineError;
use crate::model::*;
use crate::setup::{NewStaff, NewUnit};
use crate::Engine;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// How many synthetic persons.
    pub persons: usize,
    /// The seed of everything random.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            persons: 10_000,
            seed: 2025,
        }
    }
}

/// A staff account created by the demo, with its password in clear (demo only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub unit: UnitId,
    pub unit_name: String,
    /// The officer's IIN (the subject serialNumber `IIN…` of their signing certificate).
    pub iin: Iin,
    /// "Surname Name Patronymic".
    pub full_name: String,
}

/// What the demo created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub accounts: Vec<DemoAccount>,
    /// Citizens for the portal: IIN, password, and why this one is interesting.
    pub citizens: Vec<(Iin, String, String)>,
    pub units: usize,
    pub persons: usize,
}

/// Persons per transaction.
const CHUNK: usize = 2_000;

/// The online renewal window of an ID card: expiring within 30 days, or expired up to 10
/// days ago (days relative to today).
pub const RENEWAL_WINDOW: std::ops::RangeInclusive<i64> = -10..=30;

/// Fills an empty database with demo data. Refuses when it holds any data.
pub async fn seed(
    engine: &Engine,
    opts: &DemoOptions,
    hash_password: &(dyn Fn(&str) -> String + Sync),
) -> Result<DemoReport, EngineError> {
    if !engine.db.is_empty().await? || holds_rows(engine).await? {
        return Err(EngineError::forbidden(crate::Reason::note(
            "the database already holds data: demo data goes only into an empty database",
        )));
    }
    let sys = Actor::system();
    let mut rng = SplitMix64::new(opts.seed);
    let today = engine.now().to_zoned(engine.tz.clone()).date();

    let tree = unit_tree();
    engine.create_units(&sys, &tree.units).await?;

    // The synthetic data stays reproducible from the seed (the draw the password once
    // took is still made), the password comes from the OS's random source: different on
    // every installation (issue 31 item 13).
    let _ = rng.token(6);
    let password = format!("demo-{}", os_token(10));
    let hash = hash_password(&password);
    let mut staff = Vec::new();
    let mut accounts = Vec::new();
    // The officers' IINs come from a generator of their own, so the persons drawn after
    // them stay what they were.
    let mut staff_iins = StaffIins::new(opts.seed);
    for (username, role, unit) in staff_plan(&tree) {
        let male = rng.chance(0.5);
        let sex = if male { Sex::Male } else { Sex::Female };
        let name = person_name(&mut rng, sex);
        let iin = staff_iins.next(sex)?;
        staff.push(NewStaff {
            id: username.clone(),
            username: username.clone(),
            full_name: name.full(),
            role,
            unit: unit.clone(),
            iin: Some(iin.to_string()),
            position: None,
            password_hash: hash.clone(),
        });
        let unit_name = tree
            .units
            .iter()
            .find(|u| u.id == unit)
            .map(|u| u.name.ru.clone())
            .unwrap_or_default();
        accounts.push(DemoAccount {
            username,
            password: password.clone(),
            role,
            unit,
            unit_name,
            iin,
            full_name: name.full(),
        });
    }
    engine.create_staff(&sys, &staff).await?;

    let persons = generate_persons(&mut rng, opts.persons, today, &tree)?;
    // The passwords go back to the caller only (the server keeps citizens' accounts):
    // no credential goes into a person's data, which staff screens show.
    let mut citizens = Vec::new();
    for (index, note) in pick_citizens(&persons, today) {
        let _ = rng.token(6);
        let pw = format!("citizen-{}", os_token(10));
        citizens.push((persons[index].iin, pw, note));
    }
    for chunk in persons.chunks(CHUNK) {
        engine.insert_persons(&sys, chunk).await?;
    }
    seed_address_register(engine, &sys).await?;
    Ok(DemoReport {
        accounts,
        citizens,
        units: tree.units.len(),
        persons: persons.len(),
    })
}

/// The address register (issue 7) for every district of the demo: the district's
/// settlement, three streets, four buildings on each, three flats in each.
async fn seed_address_register(engine: &Engine, sys: &Actor) -> Result<(), EngineError> {
    let tree = unit_tree();
    let mut districts = Vec::new();
    for (r, ds) in REGIONS.iter().zip(&tree.districts) {
        for (i, ((unit, _), dd)) in ds.iter().zip(r.districts).enumerate() {
            districts.push(crate::services::DistrictAddresses {
                unit: unit.clone(),
                region_kato: format!("{}0000000", r.code),
                region_name: r.name.map(str::to_string),
                kato: format!("{}{:02}00000", r.code, (i + 1) * 2),
                name: dd.name.map(str::to_string),
                settlement: dd.place.to_string(),
            });
        }
    }
    engine
        .seed_addresses(sys, &districts, &STREETS[..3], 4, 3)
        .await?;
    Ok(())
}

/// Regions whose counters get demo applications accepted in the past (not Astana, whose
/// queues the walkthrough starts empty).
const HISTORY_REGIONS: &[&str] = &["75", "35"];

/// Days before today that each region's demo applications were accepted, and how many
/// counter steps were completed after intake: one waits overdue at the counter, the others
/// went on to the district (with the demo's default date, one is due today and two are
/// overdue).
const HISTORY: &[(i64, usize)] = &[(1, 0), (2, 5), (7, 5), (12, 5)];

/// Adds a short history to a freshly seeded demo: passport applications (S1) accepted at
/// counters of two regions on earlier days, with a simulated clock, so that the
/// supervisor's screens show open, due-today and overdue work. The records carry the
/// days they were made (so the audit log's times go back after the seed's own records).
/// Returns how many applications were accepted; none when S1 has no counter process in
/// force on those days.
pub async fn seed_history(engine: &Engine, report: &DemoReport) -> Result<usize, EngineError> {
    use crate::model::Accept;
    use crate::{Command, ManualClock, Outcome};
    use drn_core::{Channel, UnitRole, Urgency};

    let today = engine.now().to_zoned(engine.tz.clone()).date();
    let skip: std::collections::HashSet<Iin> = report.citizens.iter().map(|c| c.0).collect();
    let Some(svc) = engine.catalog.service(crate::services::s1::SERVICE) else {
        return Ok(0);
    };
    let mut accepted = 0;
    for code in HISTORY_REGIONS {
        let counters: Vec<&DemoAccount> = report
            .accounts
            .iter()
            .filter(|a| {
                a.role == Role::CounterOperator && a.unit.as_str().starts_with(&format!("C{code}-"))
            })
            .collect();
        if counters.is_empty() {
            continue;
        }
        let rows = drn_store::query(
            "SELECT iin, data_json FROM persons WHERE birth_date < $1 ORDER BY iin LIMIT 2000",
        )
        .bind(add_years(today, -18)?)
        .fetch_all(engine.db.reader())
        .await?;
        let mut applicants = Vec::new();
        for r in &rows {
            let data: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
            if data["registration"]["region"] != *code {
                continue;
            }
            // A counter of the applicant's own district: the 2014 acts give S1 at the
            // place of registration (the catalog's `provided_at`).
            let district = data["registration"]["district"]
                .as_str()
                .unwrap_or_default();
            let Some(op) = counters.iter().find(|a| {
                a.unit
                    .as_str()
                    .strip_prefix('C')
                    .and_then(|c| c.rsplit_once('-'))
                    .is_some_and(|(d, _)| district.strip_prefix('D') == Some(d))
            }) else {
                continue;
            };
            if let Ok(iin) = Iin::parse(&r.try_get::<String, _>(0)?) {
                if !skip.contains(&iin) {
                    applicants.push((iin, *op));
                }
            }
        }
        for ((days_ago, steps), (applicant, op)) in HISTORY.iter().zip(applicants) {
            let day = add_days(today, -days_ago)?;
            let Some(ver) = svc.version_on(day) else {
                continue;
            };
            if ver.process_for(Channel::Counter).is_none() {
                continue;
            }
            let at = day
                .at(10, 0, 0, 0)
                .to_zoned(engine.tz.clone())
                .map_err(date_err)?
                .timestamp();
            let clock = std::sync::Arc::new(ManualClock::new(at));
            // Its own writers: the writer tasks stamp commands with the clock of the
            // engine that started them, so sharing the server's would either date these
            // in the present or, started here first, leave the server in the past.
            let past = Engine {
                clock: clock.clone(),
                writer: Default::default(),
                ..engine.clone()
            };
            let actor = Actor::staff(&op.username, Role::CounterOperator, op.unit.clone());
            let cmd = Command::Accept(Accept {
                process: None,
                service: svc.code.clone(),
                channel: Channel::Counter,
                urgency: Urgency::General,
                applicant,
                documents_presented: (0..ver.documents.len()).collect(),
                missing: vec![],
                data: json!({}),
            });
            let Outcome::Accepted { application } = past.execute(&actor, &cmd, None).await? else {
                continue;
            };
            accepted += 1;
            let mut app = application;
            for _ in 0..*steps {
                clock.advance(jiff::SignedDuration::from_mins(20));
                let at_counter = past
                    .locate(&app.service, &app.version, &app.process)
                    .ok()
                    .and_then(|(_, p)| p.step(app.step).map(|s| s.unit))
                    .is_some_and(|u| u == UnitRole::Counter);
                if !at_counter || app.holder_unit != op.unit {
                    break;
                }
                let cmd = Command::CompleteStep {
                    application: app.id.clone(),
                    revision: app.revision,
                    note: None,
                };
                match past.execute(&actor, &cmd, None).await? {
                    Outcome::Application { application } => app = application,
                    _ => break,
                }
            }
        }
    }
    Ok(accepted)
}

/// Rows in the tables `is_empty` does not look at (staff, persons, applications, audit).
async fn holds_rows(engine: &Engine) -> Result<bool, EngineError> {
    for table in ["staff", "persons", "applications", "audit"] {
        let row = drn_store::query(format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(engine.db.reader())
            .await?;
        let n: i64 = row.try_get(0)?;
        if n > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------------------
// Randomness

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fast generator, good enough for demo
/// data and identical on every platform.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when n is 0), by the multiply-high method.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (lo when hi < lo).
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Lower-case letters and digits without look-alikes (0/o, 1/l).
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
        (0..len).map(|_| char::from(*self.pick(ALPHABET))).collect()
    }
}

/// `len` characters of the demo's alphabet from the operating system's random source
/// (v4 UUIDs are drawn from it): passwords no one can derive from the seed.
fn os_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for (i, b) in uuid::Uuid::new_v4().as_bytes().iter().enumerate() {
            // Not the bytes that carry the UUID's version and variant; only bytes below
            // the largest multiple of the alphabet's size: no bias.
            let random = i != 6 && i != 8;
            if random && (*b as usize) < 256 - 256 % ALPHABET.len() && out.len() < len {
                out.push(char::from(ALPHABET[*b as usize % ALPHABET.len()]));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Units

struct RegionDef {
    code: &'static str,
    /// For usernames.
    slug: &'static str,
    name: [&'static str; 3],
    /// Rough population in thousands, to spread persons.
    weight: u32,
    districts: &'static [DistrictDef],
}

struct DistrictDef {
    name: [&'static str; 3],
    /// The settlement of addresses, in Russian as addresses are written.
    place: &'static str,
    counters: usize,
}

const fn d(
    kk: &'static str,
    ru: &'static str,
    en: &'static str,
    place: &'static str,
) -> DistrictDef {
    DistrictDef {
        name: [kk, ru, en],
        place,
        counters: 1,
    }
}

/// A district of a city: two counters.
const fn c(
    kk: &'static str,
    ru: &'static str,
    en: &'static str,
    place: &'static str,
) -> DistrictDef {
    DistrictDef {
        name: [kk, ru, en],
        place,
        counters: 2,
    }
}

/// The 17 regions and 3 cities of republican significance (since 8 June 2022), by KATO
/// region code, with some of their districts (city districts for the cities).
#[rustfmt::skip]
const REGIONS: &[RegionDef] = &[
    RegionDef { code: "10", slug: "abai", name: ["Абай облысы", "Абайская область", "Abai Region"], weight: 600, districts: &[
        d("Аягөз ауданы", "Аягозский район", "Ayagoz District", "г. Аягоз"),
        d("Бесқарағай ауданы", "Бескарагайский район", "Beskaragai District", "с. Бескарагай"),
        d("Жарма ауданы", "Жарминский район", "Zharma District", "п. Калбатау"),
    ]},
    RegionDef { code: "11", slug: "akmola", name: ["Ақмола облысы", "Акмолинская область", "Akmola Region"], weight: 790, districts: &[
        d("Бурабай ауданы", "Бурабайский район", "Burabay District", "г. Щучинск"),
        d("Целиноград ауданы", "Целиноградский район", "Tselinograd District", "с. Акмол"),
        d("Шортанды ауданы", "Шортандинский район", "Shortandy District", "п. Шортанды"),
    ]},
    RegionDef { code: "15", slug: "aktobe", name: ["Ақтөбе облысы", "Актюбинская область", "Aktobe Region"], weight: 930, districts: &[
        d("Мәртөк ауданы", "Мартукский район", "Martuk District", "с. Мартук"),
        d("Хромтау ауданы", "Хромтауский район", "Khromtau District", "г. Хромтау"),
    ]},
    RegionDef { code: "19", slug: "almaty-region", name: ["Алматы облысы", "Алматинская область", "Almaty Region"], weight: 1500, districts: &[
        d("Қарасай ауданы", "Карасайский район", "Karasai District", "г. Каскелен"),
        d("Талғар ауданы", "Талгарский район", "Talgar District", "г. Талгар"),
        d("Еңбекшіқазақ ауданы", "Енбекшиказахский район", "Enbekshikazakh District", "г. Есик"),
    ]},
    RegionDef { code: "23", slug: "atyrau", name: ["Атырау облысы", "Атырауская область", "Atyrau Region"], weight: 690, districts: &[
        d("Жылыой ауданы", "Жылыойский район", "Zhylyoi District", "г. Кульсары"),
        d("Исатай ауданы", "Исатайский район", "Isatai District", "с. Аккистау"),
    ]},
    RegionDef { code: "27", slug: "west-kazakhstan", name: [
            "Батыс Қазақстан облысы",
            "Западно-Казахстанская область",
            "West Kazakhstan Region",
        ], weight: 690, districts: &[
        d("Бөрлі ауданы", "Бурлинский район", "Burli District", "г. Аксай"),
        d("Теректі ауданы", "Теректинский район", "Terekti District", "с. Федоровка"),
    ]},
    RegionDef { code: "31", slug: "zhambyl", name: ["Жамбыл облысы", "Жамбылская область", "Zhambyl Region"], weight: 1220, districts: &[
        d("Байзақ ауданы", "Байзакский район", "Baizak District", "с. Сарыкемер"),
        d("Меркі ауданы", "Меркенский район", "Merke District", "с. Мерке"),
        d("Шу ауданы", "Шуский район", "Shu District", "г. Шу"),
    ]},
    RegionDef { code: "33", slug: "zhetysu", name: ["Жетісу облысы", "Область Жетісу", "Zhetysu Region"], weight: 700, districts: &[
        d("Қаратал ауданы", "Каратальский район", "Karatal District", "г. Уштобе"),
        d("Алакөл ауданы", "Алакольский район", "Alakol District", "г. Ушарал"),
    ]},
    RegionDef { code: "35", slug: "karaganda", name: [
            "Қарағанды облысы",
            "Карагандинская область",
            "Karaganda Region",
        ], weight: 1130, districts: &[
        d("Бұқар жырау ауданы", "Район Бухар-Жырау", "Bukhar-Zhyrau District", "п. Ботакара"),
        d("Абай ауданы", "Абайский район", "Abai District", "г. Абай"),
        d("Осакаров ауданы", "Осакаровский район", "Osakarovka District", "п. Осакаровка"),
    ]},
    RegionDef { code: "39", slug: "kostanay", name: ["Қостанай облысы", "Костанайская область", "Kostanay Region"], weight: 830, districts: &[
        d("Қостанай ауданы", "Костанайский район", "Kostanay District", "г. Тобыл"),
        d("Федоров ауданы", "Федоровский район", "Fyodorovka District", "с. Федоровка"),
    ]},
    RegionDef { code: "43", slug: "kyzylorda", name: [
            "Қызылорда облысы",
            "Кызылординская область",
            "Kyzylorda Region",
        ], weight: 830, districts: &[
        d("Арал ауданы", "Аральский район", "Aral District", "г. Аральск"),
        d("Қазалы ауданы", "Казалинский район", "Kazaly District", "г. Айтеке би"),
    ]},
    RegionDef { code: "47", slug: "mangystau", name: [
            "Маңғыстау облысы",
            "Мангистауская область",
            "Mangystau Region",
        ], weight: 780, districts: &[
        d("Қарақия ауданы", "Каракиянский район", "Karakiya District", "с. Курык"),
        d("Мұнайлы ауданы", "Мунайлинский район", "Munaily District", "с. Мангистау"),
    ]},
    RegionDef { code: "55", slug: "pavlodar", name: ["Павлодар облысы", "Павлодарская область", "Pavlodar Region"], weight: 750, districts: &[
        d("Ертіс ауданы", "Иртышский район", "Irtysh District", "с. Иртышск"),
        d("Баянауыл ауданы", "Баянаульский район", "Bayanaul District", "с. Баянаул"),
    ]},
    RegionDef { code: "59", slug: "north-kazakhstan", name: [
            "Солтүстік Қазақстан облысы",
            "Северо-Казахстанская область",
            "North Kazakhstan Region",
        ], weight: 530, districts: &[
        d("Қызылжар ауданы", "Кызылжарский район", "Kyzylzhar District", "с. Бесколь"),
        d("Есіл ауданы", "Есильский район", "Yesil District", "с. Явленка"),
    ]},
    RegionDef { code: "61", slug: "turkestan", name: [
            "Түркістан облысы",
            "Туркестанская область",
            "Turkistan Region",
        ], weight: 2100, districts: &[
        d("Сайрам ауданы", "Сайрамский район", "Sairam District", "с. Аксукент"),
        d("Мақтаарал ауданы", "Мактааральский район", "Maktaaral District", "г. Мырзакент"),
        d("Төле би ауданы", "Толебийский район", "Tole Bi District", "г. Ленгер"),
    ]},
    RegionDef { code: "62", slug: "ulytau", name: ["Ұлытау облысы", "Область Ұлытау", "Ulytau Region"], weight: 220, districts: &[
        d("Ұлытау ауданы", "Улытауский район", "Ulytau District", "с. Улытау"),
        d("Жаңаарқа ауданы", "Жанааркинский район", "Zhanaarka District", "п. Атасу"),
    ]},
    RegionDef { code: "63", slug: "east-kazakhstan", name: [
            "Шығыс Қазақстан облысы",
            "Восточно-Казахстанская область",
            "East Kazakhstan Region",
        ], weight: 720, districts: &[
        d("Глубокое ауданы", "Глубоковский район", "Glubokoye District", "п. Глубокое"),
        d("Зайсан ауданы", "Зайсанский район", "Zaisan District", "г. Зайсан"),
    ]},
    RegionDef { code: "71", slug: "astana", name: ["Астана қаласы", "Город Астана", "Astana"], weight: 1400, districts: &[
        c("Алматы ауданы", "Район Алматы", "Almaty District", "г. Астана"),
        c("Байқоңыр ауданы", "Район Байконур", "Baikonyr District", "г. Астана"),
        c("Есіл ауданы", "Район Есиль", "Yesil District", "г. Астана"),
        c("Сарыарқа ауданы", "Район Сарыарка", "Saryarka District", "г. Астана"),
    ]},
    RegionDef { code: "75", slug: "almaty", name: ["Алматы қаласы", "Город Алматы", "Almaty"], weight: 2250, districts: &[
        c("Алмалы ауданы", "Алмалинский район", "Almaly District", "г. Алматы"),
        c("Әуезов ауданы", "Ауэзовский район", "Auezov District", "г. Алматы"),
        c("Бостандық ауданы", "Бостандыкский район", "Bostandyk District", "г. Алматы"),
        c("Медеу ауданы", "Медеуский район", "Medeu District", "г. Алматы"),
    ]},
    RegionDef { code: "79", slug: "shymkent", name: ["Шымкент қаласы", "Город Шымкент", "Shymkent"], weight: 1250, districts: &[
        c("Абай ауданы", "Абайский район", "Abai District", "г. Шымкент"),
        c("Әл-Фараби ауданы", "Район Аль-Фараби", "Al-Farabi District", "г. Шымкент"),
        c("Еңбекші ауданы", "Енбекшинский район", "Enbekshi District", "г. Шымкент"),
    ]},
];

/// Regions whose whole chain (counters, districts, region) gets staff.
const STAFFED: &[&str] = &["71", "75", "35"];

pub(crate) struct Tree {
    units: Vec<NewUnit>,
    /// Per region (in `REGIONS` order): its districts, each with its unit id and counters.
    districts: Vec<Vec<(UnitId, Vec<UnitId>)>>,
}

fn id(s: String) -> UnitId {
    // Identifiers built here are always valid; fall back to a raw one just in case.
    UnitId::parse(&s).unwrap_or_else(|_| UnitId::from_db(s))
}

fn text(n: &[&str; 3]) -> Text {
    Text::new(n[0], n[1], n[2])
}

pub(crate) fn unit_tree() -> Tree {
    let centre = id("KZ".into());
    let mut units = vec![
        NewUnit {
            id: centre.clone(),
            kind: UnitKind::Centre,
            parent: None,
            region_code: None,
            kato: None,
            name: Text::new(
                "Көші-қон қызметі комитеті",
                "Комитет миграционной службы",
                "Migration Service Committee",
            ),
            hours: WorkingHours::default(),
        },
        NewUnit {
            id: id("IPC".into()),
            kind: UnitKind::Production,
            parent: Some(centre.clone()),
            region_code: None,
            kato: None,
            name: Text::new(
                "«Ақпараттық-өндірістік орталық» РМК",
                "РГП «Информационно-производственный центр»",
                "Information and Production Centre (RSE)",
            ),
            hours: WorkingHours::default(),
        },
    ];
    // The counters' standard hours (Saturday too), which `drn catalog plan` assumes.
    let counter_hours = drn_core::UnitHours::standard()
        .of(drn_core::catalog::UnitRole::Counter)
        .clone();
    let mut districts = Vec::new();
    for r in REGIONS {
        let region = id(format!("R{}", r.code));
        units.push(NewUnit {
            id: region.clone(),
            kind: UnitKind::Region,
            parent: Some(centre.clone()),
            region_code: Some(r.code.into()),
            kato: Some(format!("{}0000000", r.code)),
            name: text(&r.name),
            hours: WorkingHours::default(),
        });
        let mut ds = Vec::new();
        let mut counter_no = 0;
        for (i, dd) in r.districts.iter().enumerate() {
            let district = id(format!("D{}-{}", r.code, i + 1));
            units.push(NewUnit {
                id: district.clone(),
                kind: UnitKind::District,
                parent: Some(region.clone()),
                region_code: Some(r.code.into()),
                kato: None,
                name: text(&dd.name),
                hours: WorkingHours::default(),
            });
            let mut cs = Vec::new();
            for j in 0..dd.counters {
                counter_no += 1;
                let counter = id(format!("C{}-{}-{}", r.code, i + 1, j + 1));
                units.push(NewUnit {
                    id: counter.clone(),
                    kind: UnitKind::Counter,
                    parent: Some(district.clone()),
                    region_code: Some(r.code.into()),
                    kato: None,
                    name: Text::new(
                        format!("ХҚКО №{counter_no}, {}", dd.name[0]),
                        format!("ЦОН №{counter_no}, {}", dd.name[1]),
                        format!("PSC No {counter_no}, {}", dd.name[2]),
                    ),
                    hours: counter_hours.clone(),
                });
                cs.push(counter);
            }
            ds.push((district, cs));
        }
        districts.push(ds);
    }
    Tree { units, districts }
}

/// The staff to create: username, role, unit.
fn staff_plan(tree: &Tree) -> Vec<(String, Role, UnitId)> {
    let mut plan = vec![
        ("centre".to_string(), Role::CentralOfficer, id("KZ".into())),
        (
            "production".into(),
            Role::ProductionOperator,
            id("IPC".into()),
        ),
        ("supervisor".into(), Role::Supervisor, id("KZ".into())),
        ("auditor".into(), Role::Auditor, id("KZ".into())),
        ("admin".into(), Role::Administrator, id("KZ".into())),
    ];
    for code in STAFFED {
        let Some((r, ds)) = REGIONS
            .iter()
            .zip(&tree.districts)
            .find(|(r, _)| r.code == *code)
        else {
            continue;
        };
        let slug = r.slug;
        plan.push((
            format!("region.{slug}"),
            Role::RegionalOfficer,
            id(format!("R{}", r.code)),
        ));
        plan.push((
            format!("supervisor.{slug}"),
            Role::Supervisor,
            id(format!("R{}", r.code)),
        ));
        let mut op = 0;
        for (i, (district, counters)) in ds.iter().enumerate() {
            let name = if i == 0 {
                format!("district.{slug}")
            } else {
                format!("district.{slug}.{}", i + 1)
            };
            plan.push((name, Role::DistrictOfficer, district.clone()));
            for counter in counters {
                op += 1;
                plan.push((
                    format!("op.{slug}.{op}"),
                    Role::CounterOperator,
                    counter.clone(),
                ));
            }
        }
    }
    plan
}

// ---------------------------------------------------------------------------------------
// Names

const KK_MALE: &[&str] = &[
    "Нұрлан",
    "Асқар",
    "Ерлан",
    "Серік",
    "Бауыржан",
    "Дәурен",
    "Ержан",
    "Қайрат",
    "Мұрат",
    "Арман",
    "Абай",
    "Айдос",
    "Бекзат",
    "Дастан",
    "Ерболат",
    "Жандос",
    "Нұрсұлтан",
    "Олжас",
    "Санжар",
    "Талғат",
    "Темірлан",
    "Әлихан",
    "Ахмет",
    "Бақытжан",
    "Ғалым",
    "Дархан",
    "Ербол",
    "Жасұлан",
    "Қанат",
    "Мақсат",
    "Нұржан",
    "Ринат",
    "Самат",
    "Тимур",
    "Әділ",
    "Алмас",
];
const KK_FEMALE: &[&str] = &[
    "Айгүл",
    "Гүлнұр",
    "Әсем",
    "Динара",
    "Жанар",
    "Айжан",
    "Ақмарал",
    "Ботагөз",
    "Гүлжан",
    "Дана",
    "Жібек",
    "Зарина",
    "Қарлығаш",
    "Мадина",
    "Назерке",
    "Нұргүл",
    "Салтанат",
    "Сәуле",
    "Томирис",
    "Әйгерім",
    "Айым",
    "Ақбота",
    "Аружан",
    "Балнұр",
    "Гүлмира",
    "Индира",
    "Күләш",
    "Мөлдір",
    "Перизат",
    "Шынар",
    "Ләззат",
    "Арайлым",
];
/// Kazakh surnames in the masculine form (-ов, -ев, -ин); the feminine adds -а.
const KK_SURNAMES: &[&str] = &[
    "Серікбаев",
    "Ахметов",
    "Жақсылықов",
    "Тоқаев",
    "Сүлейменов",
    "Омаров",
    "Оспанов",
    "Әбдірахманов",
    "Бекмұханов",
    "Қасымов",
    "Нұрланов",
    "Исаев",
    "Жұмабаев",
    "Бейсенов",
    "Мұхамедиев",
    "Тұрсынов",
    "Кенжебаев",
    "Смағұлов",
    "Есенов",
    "Ержанов",
    "Байжанов",
    "Құдайбергенов",
    "Сәрсенбаев",
    "Әлиев",
    "Мамыров",
    "Нұрпейісов",
    "Ибраев",
    "Қалиев",
    "Төлегенов",
    "Абдуллин",
    "Мұсин",
    "Жұбанов",
    "Оразбаев",
    "Дүйсенов",
];
/// Russian given names (male) with the patronymics they give (son, daughter).
const RU_MALE: &[(&str, &str, &str)] = &[
    ("Александр", "Александрович", "Александровна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Павел", "Павлович", "Павловна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
];
const RU_FEMALE: &[&str] = &[
    "Елена",
    "Ольга",
    "Наталья",
    "Татьяна",
    "Ирина",
    "Светлана",
    "Анна",
    "Мария",
    "Екатерина",
    "Людмила",
    "Галина",
    "Юлия",
    "Марина",
    "Оксана",
    "Валентина",
];
const RU_SURNAMES: &[&str] = &[
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Соколов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Павлов",
    "Семенов",
    "Федоров",
    "Никитин",
    "Белов",
    "Зайцев",
    "Ковалев",
];

/// A generated full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub surname: String,
    pub given: String,
    pub patronymic: Option<String>,
}

impl Name {
    /// Surname, given name, patronymic.
    pub fn full(&self) -> String {
        match &self.patronymic {
            Some(p) => format!("{} {} {}", self.surname, self.given, p),
            None => format!("{} {}", self.surname, self.given),
        }
    }
}

fn surname_for(masculine: &str, sex: Sex) -> String {
    match sex {
        Sex::Male => masculine.to_string(),
        Sex::Female => format!("{masculine}а"),
    }
}

/// A Kazakh name (four in five) or a Russian one, with a patronymic: -ұлы/-қызы from the
/// father's name for Kazakh names (one in ten without), -ович/-овна (-евич/-евна) for
/// Russian ones.
pub fn person_name(rng: &mut SplitMix64, sex: Sex) -> Name {
    if rng.chance(0.8) {
        let given = match sex {
            Sex::Male => *rng.pick(KK_MALE),
            Sex::Female => *rng.pick(KK_FEMALE),
        };
        let father = *rng.pick(KK_MALE);
        let patronymic = if rng.chance(0.9) {
            Some(match sex {
                Sex::Male => format!("{father}ұлы"),
                Sex::Female => format!("{father}қызы"),
            })
        } else {
            None
        };
        Name {
            surname: surname_for(rng.pick::<&str>(KK_SURNAMES), sex),
            given: given.to_string(),
            patronymic,
        }
    } else {
        let given = match sex {
            Sex::Male => rng.pick(RU_MALE).0,
            Sex::Female => *rng.pick(RU_FEMALE),
        };
        let (_, son, daughter) = *rng.pick(RU_MALE);
        Name {
            surname: surname_for(rng.pick::<&str>(RU_SURNAMES), sex),
            given: given.to_string(),
            patronymic: Some(match sex {
                Sex::Male => son.to_string(),
                Sex::Female => daughter.to_string(),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Persons

const STREETS: &[&str] = &[
    "ул. Абая",
    "ул. Сейфуллина",
    "ул. Кунаева",
    "ул. Бокейхана",
    "ул. Толе би",
    "ул. Жамбыла",
    "ул. Ауэзова",
    "ул. Байтурсынова",
    "ул. Абылай хана",
    "ул. Момышулы",
    "ул. Сатпаева",
    "ул. Желтоксан",
    "ул. Пушкина",
    "ул. Гагарина",
    "ул. Мира",
    "пр. Республики",
];

const MOBILE_CODES: &[u16] = &[700, 701, 702, 705, 707, 708, 747, 771, 775, 776, 777, 778];

fn date_err(e: jiff::Error) -> EngineError {
    EngineError::invalid("date", crate::Reason::note(e.to_string()))
}

fn add_days(d: Date, n: i64) -> Result<Date, EngineError> {
    d.checked_add(n.days()).map_err(date_err)
}

fn add_years(d: Date, n: i16) -> Result<Date, EngineError> {
    d.checked_add(n.years()).map_err(date_err)
}

/// Days from `a` to `b`.
fn days_between(a: Date, b: Date) -> Result<i64, EngineError> {
    Ok(i64::from(b.since(a).map_err(date_err)?.get_days()))
}

/// Unique IINs: for each birth date and sex, serials above the last one taken (the first
/// one of a date starts at a random serial, as real ones do).
/// The demo officers' IINs: born 1970..1995, serials from 9000 up, above those the
/// persons' generator reaches (it starts below 4000 and counts up one per person born that
/// day), so an officer's IIN is never a synthetic person's. An assumption of the demo: the
/// seeds give officers no IIN rule beyond every resident's (seed 004).
struct StaffIins {
    rng: SplitMix64,
    last: HashMap<(Date, Sex), u16>,
}

impl StaffIins {
    fn new(seed: u64) -> StaffIins {
        StaffIins {
            rng: SplitMix64::new(seed ^ 0x5EED_0FF1_CE25),
            last: HashMap::new(),
        }
    }

    fn next(&mut self, sex: Sex) -> Result<Iin, EngineError> {
        let first = jiff::civil::date(1970, 1, 1);
        let span = days_between(first, jiff::civil::date(1995, 12, 31))?;
        let birth = add_days(first, self.rng.between(0, span))?;
        let last = *self.last.get(&(birth, sex)).unwrap_or(&8999);
        let iin = Iin::form(birth, sex, |s| s <= last).map_err(|e| {
            EngineError::invalid("iin", crate::refusal::Reason::note(e.to_string()))
        })?;
        self.last.insert((birth, sex), iin.serial());
        Ok(iin)
    }
}

#[derive(Debug, Default)]
pub struct IinForm {
    last: HashMap<(Date, Sex), u16>,
}

impl IinForm {
    pub fn next(
        &mut self,
        rng: &mut SplitMix64,
        birth: Date,
        sex: Sex,
    ) -> Result<Iin, EngineError> {
        let last = *self
            .last
            .entry((birth, sex))
            .or_insert_with(|| rng.below(4000) as u16);
        let iin = Iin::form(birth, sex, |s| s <= last)
            .map_err(|e| EngineError::invalid("iin", crate::Reason::note(e.to_string())))?;
        self.last.insert((birth, sex), iin.serial());
        Ok(iin)
    }
}

/// The person's ID card's expiry date, if they are 16 or older: about 5% in the online
/// renewal window, 4% expired long ago, the rest valid (within the 10 years of validity,
/// never issued before age 16).
fn card_expiry(
    rng: &mut SplitMix64,
    birth: Date,
    today: Date,
) -> Result<Option<Date>, EngineError> {
    let sixteen = add_years(birth, 16)?;
    if sixteen > today {
        return Ok(None);
    }
    // The earliest possible expiry: a card issued on the 16th birthday.
    let earliest = days_between(today, add_years(sixteen, 10)?)?;
    let latest = days_between(today, add_years(today, 10)?)? - 1;
    let roll = rng.below(1000);
    let offset = if roll < 58 && earliest <= *RENEWAL_WINDOW.end() {
        rng.between(earliest.max(*RENEWAL_WINDOW.start()), *RENEWAL_WINDOW.end())
    } else if roll >= 958 && earliest < RENEWAL_WINDOW.start() - 1 {
        rng.between(earliest.max(-3650), RENEWAL_WINDOW.start() - 1)
    } else {
        rng.between(earliest.max(RENEWAL_WINDOW.end() + 1), latest)
    };
    Ok(Some(add_days(today, offset)?))
}

fn generate_persons(
    rng: &mut SplitMix64,
    count: usize,
    today: Date,
    tree: &Tree,
) -> Result<Vec<Person>, EngineError> {
    let first = jiff::civil::date(1940, 1, 1);
    let span = days_between(first, jiff::civil::date(2010, 12, 31))?;
    let total_weight = total_region_weight();
    let mut iins = IinForm::default();
    let mut persons = Vec::with_capacity(count);
    for n in 0..count {
        let sex = if rng.chance(0.5) {
            Sex::Male
        } else {
            Sex::Female
        };
        let birth = add_days(first, rng.between(0, span))?;
        let iin = iins.next(rng, birth, sex)?;
        persons.push(fill_person(
            rng,
            n as u64,
            iin,
            birth,
            sex,
            today,
            tree,
            total_weight,
        )?);
    }
    Ok(persons)
}

/// A person's details after their IIN, birth date and sex: name, registration, ID card and
/// phone (the demo's shapes). `n` makes the ID card number unique.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_person(
    rng: &mut SplitMix64,
    n: u64,
    iin: Iin,
    birth: Date,
    sex: Sex,
    today: Date,
    tree: &Tree,
    total_weight: u64,
) -> Result<Person, EngineError> {
    let name = person_name(rng, sex);

    let mut w = rng.below(total_weight);
    let mut ri = 0;
    for (i, r) in REGIONS.iter().enumerate() {
        if w < u64::from(r.weight) {
            ri = i;
            break;
        }
        w -= u64::from(r.weight);
    }
    let region = &REGIONS[ri];
    let di = rng.below(region.districts.len() as u64) as usize;
    let district_id = tree.districts[ri]
        .get(di)
        .map(|(d, _)| d.as_str().to_string())
        .unwrap_or_default();
    let address = format!(
        "{}, {} {}, кв. {}",
        region.districts[di].place,
        rng.pick(STREETS),
        rng.between(1, 180),
        rng.between(1, 240)
    );
    let since = add_days(birth, rng.between(0, days_between(birth, today)?.max(0)))?;

    let mut documents = Vec::new();
    if let Some(expires) = card_expiry(rng, birth, today)? {
        let issued = add_years(expires, -10)?;
        // A bijection of 0..10^9 (the multiplier is prime to 10): unique numbers.
        let number = n.wrapping_mul(387_420_489).wrapping_add(41_000_000) % 1_000_000_000;
        documents.push(json!({
            "kind": "id_card",
            "number": format!("{number:09}"),
            "issued": issued.to_string(),
            "expires": expires.to_string(),
            "issuer": "МВД РК",
        }));
    }
    let phone = format!(
        "+7 {} {:03} {:02} {:02}",
        rng.pick(MOBILE_CODES),
        rng.below(1000),
        rng.below(100),
        rng.below(100)
    );
    Ok(Person {
        iin,
        surname: name.surname,
        given_name: name.given,
        patronymic: name.patronymic,
        birth_date: birth,
        sex,
        citizenship: "KZ".into(),
        data: json!({
            "registration": {
                "region": region.code,
                "district": district_id,
                "address": address,
                "since": since.to_string(),
            },
            "documents": documents,
            "phone": phone,
        }),
    })
}

/// The sum of the regions' weights (for [`fill_person`]).
pub(crate) fn total_region_weight() -> u64 {
    REGIONS.iter().map(|r| u64::from(r.weight)).sum()
}

/// The expiry date of a person's ID card, if any.
pub fn id_card_expiry(p: &Person) -> Option<Date> {
    crate::services::person_documents::id_card_expiry(&p.data)
}

/// Interesting persons for the portal: index and note.
fn pick_citizens(persons: &[Person], today: Date) -> Vec<(usize, String)> {
    let offset = |p: &Person| id_card_expiry(p).and_then(|e| days_between(today, e).ok());
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut take = |pred: &dyn Fn(&Person) -> Option<String>| {
        if let Some((i, note)) = persons
            .iter()
            .enumerate()
            .filter(|(i, _)| !out.iter().any(|(j, _)| j == i))
            .find_map(|(i, p)| pred(p).map(|n| (i, n)))
        {
            out.push((i, note));
            return true;
        }
        false
    };
    // The window's citizens preferably where the demo has a regional officer to review
    // their online renewal (Astana, Almaty, Karaganda).
    let staffed = |p: &Person| {
        matches!(
            p.data["registration"]["region"].as_str(),
            Some("71" | "75" | "35")
        )
    };
    let expires_soon = |p: &Person| match offset(p) {
        Some(d) if (1..=30).contains(&d) => Some(format!(
            "ID card expires in {d} days: online renewal window"
        )),
        _ => None,
    };
    let expired_lately = |p: &Person| match offset(p) {
        Some(d) if (-10..=0).contains(&d) => Some(format!(
            "ID card expired {} days ago: still in the online renewal window",
            -d
        )),
        _ => None,
    };
    for pick in [
        &expires_soon as &dyn Fn(&Person) -> Option<String>,
        &expired_lately,
    ] {
        if !take(&|p| pick(p).filter(|_| staffed(p))) {
            take(pick);
        }
    }
    take(&|p| match offset(p) {
        Some(d) if d < -365 => Some(format!(
            "ID card expired {} days ago: renewal at a counter only",
            -d
        )),
        _ => None,
    });
    take(&|p| match offset(p) {
        Some(d) if d > 365 => Some(format!("ID card valid for {} more days", d)),
        _ => None,
    });
    take(&|p| {
        (p.sex == Sex::Female
            && p.data["registration"]["region"] == "75"
            && offset(p).is_some_and(|d| d > 30))
        .then(|| "Almaty resident with a valid ID card".to_string())
    });
    take(&|p| {
        offset(p)
            .is_none()
            .then(|| "Under 16: no ID card yet".to_string())
    });
    // Residents of the capital, where the demo staffs every kind of unit: people to take
    // in at the counter and the units (and the browser tests' applicants).
    for _ in 0..16 {
        take(&|p| {
            (p.data["registration"]["region"] == "71" && offset(p).is_some_and(|d| d > 30))
                .then(|| "Astana resident with a valid ID card".to_string())
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_reference_values() {
        // The reference outputs of splitmix64 for seed 1234567.
        let mut r = SplitMix64::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
        assert_eq!(r.next_u64(), 9817491932198370423);
    }

    #[test]
    fn prng_is_deterministic_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..1000 {
            let x = a.between(-10, 30);
            assert_eq!(x, b.between(-10, 30));
            assert!((-10..=30).contains(&x));
        }
        assert_eq!(a.below(0), 0);
        let hits = (0..10_000).filter(|_| a.chance(0.05)).count();
        assert!((350..650).contains(&hits), "{hits}");
        let t = a.token(6);
        assert_eq!(t.len(), 6);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn names_follow_sex() {
        let mut r = SplitMix64::new(1);
        for _ in 0..500 {
            let m = person_name(&mut r, Sex::Male);
            if let Some(p) = &m.patronymic {
                assert!(p.ends_with("ұлы") || p.ends_with("вич"), "{p}");
            }
            assert!(!m.surname.ends_with('а'), "{}", m.surname);
            let f = person_name(&mut r, Sex::Female);
            if let Some(p) = &f.patronymic {
                assert!(p.ends_with("қызы") || p.ends_with("вна"), "{p}");
            }
            assert!(f.surname.ends_with('а'), "{}", f.surname);
        }
    }

    #[test]
    fn iins_are_valid_unique_and_encode_the_person() {
        let mut r = SplitMix64::new(3);
        let mut form = IinForm::default();
        let mut seen = std::collections::HashSet::new();
        // Many persons on few dates, to exercise serials.
        for i in 0..3000 {
            let birth = jiff::civil::date(1990 + (i % 3) as i16, 5, 17);
            let sex = if i % 2 == 0 { Sex::Male } else { Sex::Female };
            let iin = form.next(&mut r, birth, sex).unwrap();
            assert!(Iin::parse(&iin.to_string()).is_ok());
            assert!(iin.check_person(birth, sex).is_empty());
            assert!(seen.insert(iin), "duplicate {iin}");
        }
    }

    #[test]
    fn unit_tree_has_all_regions_and_valid_ids() {
        let t = unit_tree();
        let regions: Vec<_> = t
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::Region)
            .collect();
        assert_eq!(regions.len(), 20);
        assert!(regions.iter().any(|u| u.id.as_str() == "R71"));
        for u in &t.units {
            assert!(UnitId::parse(u.id.as_str()).is_ok());
            assert!(!u.name.has_blank());
            assert!(u.hours.validate().is_ok());
        }
        let ids: std::collections::HashSet<_> = t.units.iter().map(|u| &u.id).collect();
        assert_eq!(ids.len(), t.units.len());
        let plan = staff_plan(&t);
        let names: std::collections::HashSet<_> = plan.iter().map(|(n, _, _)| n).collect();
        assert_eq!(names.len(), plan.len());
        for (_, _, unit) in &plan {
            assert!(ids.contains(unit));
        }
    }

    #[test]
    fn persons_are_deterministic_with_cards_spread() {
        let t = unit_tree();
        let today = jiff::civil::date(2026, 11, 21);
        let a = generate_persons(&mut SplitMix64::new(9), 3000, today, &t).unwrap();
        let b = generate_persons(&mut SplitMix64::new(9), 3000, today, &t).unwrap();
        assert_eq!(a, b);
        let mut window = 0;
        for p in &a {
            let age16 = add_years(p.birth_date, 16).unwrap();
            match id_card_expiry(p) {
                Some(e) => {
                    let issued = add_years(e, -10).unwrap();
                    assert!(issued >= age16 && issued <= today, "{p:?}");
                    let d = days_between(today, e).unwrap();
                    if RENEWAL_WINDOW.contains(&d) {
                        window += 1;
                    }
                }
                None => assert!(age16 > today),
            }
        }
        let share = f64::from(window) / a.len() as f64;
        assert!((0.03..0.07).contains(&share), "{share}");
        let picked = pick_citizens(&a, today);
        assert!(picked.len() >= 5, "{picked:?}");
    }
}
