//! The content of each service's result document: which kind of document a service
//! issues (its talon at intake, its result on issue, a registry's kind), and the fields the
//! result shows, taken from what the engine recorded on issue (the registers, the journals
//! and the `issued` event), dates in Kazakhstan time. The server renders, signs and stores
//! them (`drn_server::documents`); the helpers that print a person, a foreigner or a date
//! are shared with its talons and registries.

use drn_core::Text;
use drn_docs::{DocumentKind, Field};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::json;

use crate::documents::PersonLine;
use crate::error::EngineError;
use crate::model::{Application, UnitId};
use crate::Engine;

/// The result document of an application: its kind, who issued it and when, and what it
/// shows after the service and the application's number.
#[derive(Debug, Clone)]
pub struct ResultDocument {
    pub kind: DocumentKind,
    /// The unit that holds the application on the day of issue.
    pub issuer: Text,
    /// When it was issued (the `issued` event; now, if none is recorded).
    pub issued: Timestamp,
    pub fields: Vec<Field>,
    pub note: Option<Text>,
}

/// The talon an application gets at intake: the foreigner's IIN (S9) an acceptance talon,
/// every other service the e-registration talon.
pub fn talon_kind(service: &str) -> DocumentKind {
    if service == "S9" {
        DocumentKind::AcceptanceTalon
    } else {
        DocumentKind::ERegistrationTalon
    }
}

pub fn f(kk: &str, ru: &str, en: &str, value: impl Into<String>) -> Field {
    Field::new(kk, ru, en, value)
}

pub fn both(t: &Text) -> String {
    if t.kk == t.ru {
        t.ru.clone()
    } else {
        format!("{} / {}", t.kk, t.ru)
    }
}

pub fn urgency_text(code: &str) -> String {
    match code {
        "general" => "жалпы / общая".to_string(),
        other => other.to_string(),
    }
}

/// Kazakhstan local date and time of an instant.
pub fn local(tz: &TimeZone, t: Timestamp) -> jiff::Zoned {
    t.to_zoned(tz.clone())
}

pub fn dmy_hm(tz: &TimeZone, t: Timestamp) -> String {
    local(tz, t).strftime("%d.%m.%Y %H:%M").to_string()
}

pub fn dmy(tz: &TimeZone, t: Timestamp) -> String {
    local(tz, t).strftime("%d.%m.%Y").to_string()
}

/// The kind of the result document of a service, when it has one. A paper result (the
/// temporary ID card, the departure sheet, the invitation, the pass, the IIN certificate)
/// gets its PDF too, signed by the issuing authority like an electronic one: the paper
/// the person carries away is printed from it, and it is still a document the system
/// produced, so its QR code and /verify/{id} prove it genuine and not revoked.
pub fn result_kind(service: &str) -> Option<DocumentKind> {
    Some(match service {
        "S2" => DocumentKind::TemporaryIdCard,
        "S3" => DocumentKind::ResidenceRegistrationNotice,
        "S4" => DocumentKind::DepartureSheet,
        "S5" => DocumentKind::AddressCertificate,
        "S6" => DocumentKind::BorderZonePass,
        "S7" => DocumentKind::Invitation,
        "S8" => DocumentKind::ForeignerRegistrationInsert,
        "S9" => DocumentKind::IinCertificate,
        _ => return None,
    })
}

/// The document kind of a registry of the catalog's kind (`district`, …); the cover
/// letter and the incoming book are not registries of their own.
pub fn registry_kind(kind: &str) -> Option<DocumentKind> {
    Some(match kind {
        "district" => DocumentKind::DistrictRegistry,
        "summary" => DocumentKind::SummaryRegistry,
        "dispatch" => DocumentKind::DispatchRegistry,
        "manufactured" => DocumentKind::ManufacturedRegistry,
        "accompanying" => DocumentKind::AccompanyingRegistry,
        _ => return None,
    })
}

pub fn js(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
}

/// A `YYYY-MM-DD` date as printed (`DD.MM.YYYY`), anything else as it is.
pub fn civil(s: &str) -> String {
    s.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%d.%m.%Y").to_string())
        .unwrap_or_else(|_| s.to_string())
}

fn sex_text(code: &str) -> &'static str {
    match code {
        "M" | "male" => "ер / мужской",
        "F" | "female" => "әйел / женский",
        _ => "—",
    }
}

fn ground_text(ground: &str) -> String {
    match ground {
        "abroad" => "шетелге тұрақты тұруға кетуі / выезд на постоянное жительство за пределы Республики Казахстан".into(),
        "court" => "сот шешімі / решение суда".into(),
        "prison" => "бас бостандығынан айыруға сотталуы / осуждение к лишению свободы".into(),
        other => other.to_string(),
    }
}

fn registration_kind_text(kind: &str) -> String {
    match kind {
        "permanent" => {
            "тұрақты (тұрғылықты жері бойынша) / постоянная (по месту жительства)".into()
        }
        "temporary" => "уақытша (болу орны бойынша) / временная (по месту пребывания)".into(),
        "not_established" => {
            "тұрғылықты жері анықталмаған / место жительства не установлено".into()
        }
        other => other.to_string(),
    }
}

fn address_field(value: String) -> Field {
    f("Мекенжайы", "Адрес", "Address", value)
}

fn rka_field(rka: &str) -> Field {
    f(
        "Мекенжайдың тіркеу коды (МТК)",
        "Регистрационный код адреса (РКА)",
        "Address registration code",
        rka,
    )
}

fn journal_field(number: &str) -> Field {
    f(
        "Есепке алу журналындағы нөмірі",
        "Номер записи в журнале учёта",
        "Journal entry",
        number,
    )
}

/// A foreigner's passport data as printed (S6-S9).
pub fn foreigner_fields(v: &serde_json::Value) -> Vec<Field> {
    let name = [js(v, "surname"), js(v, "given_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    vec![
        f("Тегі, аты", "Фамилия, имя", "Name", name),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            js(v, "birth_date").map(|d| civil(&d)).unwrap_or_default(),
        ),
        f(
            "Жынысы",
            "Пол",
            "Sex",
            sex_text(js(v, "sex").as_deref().unwrap_or("")),
        ),
        f(
            "Азаматтығы",
            "Гражданство",
            "Citizenship",
            js(v, "citizenship").unwrap_or_default().to_uppercase(),
        ),
        f(
            "Паспорт нөмірі",
            "Номер паспорта",
            "Passport",
            js(v, "passport").unwrap_or_default().to_uppercase(),
        ),
    ]
}

pub fn person_fields(iin: &str, p: &PersonLine) -> Vec<Field> {
    vec![
        f("ЖСН", "ИИН", "IIN", iin),
        f(
            "Тегі, аты, әкесінің аты",
            "Фамилия, имя, отчество",
            "Full name",
            p.name.clone(),
        ),
        f(
            "Туған күні",
            "Дата рождения",
            "Date of birth",
            p.birth.clone(),
        ),
    ]
}

impl Engine {
    /// The result document of an issued application of `kind` (its service's
    /// [`result_kind`]): the issuing unit, the day of issue and the service's fields.
    pub async fn result_document(
        &self,
        app: &Application,
        kind: DocumentKind,
    ) -> Result<ResultDocument, EngineError> {
        // The service's result, issued by the unit that holds it on the day of issue.
        let issuer = self.unit_name(app.holder_unit.as_str()).await?;
        let issued = self
            .issued_event(&app.id)
            .await?
            .0
            .unwrap_or_else(|| self.now());
        let mut note = None;
        let fields = self.result_fields(app, kind, issued, &mut note).await?;
        Ok(ResultDocument {
            kind,
            issuer,
            issued,
            fields,
            note,
        })
    }

    /// A unit's name, its id for an unknown unit.
    pub async fn unit_name(&self, id: &str) -> Result<Text, EngineError> {
        let Ok(unit) = UnitId::parse(id) else {
            return Ok(Text::new(id, id, id));
        };
        match self.unit(&unit).await {
            Ok(u) => Ok(u.name),
            Err(EngineError::NotFound { .. }) => Ok(Text::new(id, id, id)),
            Err(e) => Err(e),
        }
    }

    /// A service's name, its code for an unknown service.
    pub fn service_name(&self, code: &str) -> Text {
        self.catalog
            .service(code)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| Text::new(code, code, code))
    }

    /// The fields of a service's result: what the engine recorded on issue (the registers,
    /// journals and the `issued` event), dates in Kazakhstan time.
    async fn result_fields(
        &self,
        app: &Application,
        kind: DocumentKind,
        issued: Timestamp,
        note: &mut Option<Text>,
    ) -> Result<Vec<Field>, EngineError> {
        let input = &app.data["input"];
        let (_, result) = self.issued_event(&app.id).await?;
        let mut out = Vec::new();
        let issued_on = f(
            "Берілген күні",
            "Дата выдачи",
            "Issued",
            dmy(&self.tz, issued),
        );
        match kind {
            DocumentKind::TemporaryIdCard => {
                let p = self.person_line(&app.applicant).await?;
                out.extend(person_fields(&app.applicant, &p));
                if let Some(a) = &p.address {
                    out.push(address_field(a.clone()));
                }
                if let Some(r) = js(input, "reason") {
                    out.push(f("Беру негізі", "Основание выдачи", "Reason", r));
                }
                if let Some((n, _, _)) = self.journal_entry_of(&app.id, "temporary_id").await? {
                    out.push(journal_field(&n));
                }
                out.push(issued_on);
                if let Some(u) = js(input, "valid_until") {
                    out.push(f(
                        "Жарамдылық мерзімі",
                        "Действительно до",
                        "Valid until",
                        civil(&u),
                    ));
                }
            }
            DocumentKind::ResidenceRegistrationNotice => {
                let p = self.person_line(&app.applicant).await?;
                out.extend(person_fields(&app.applicant, &p));
                let reg = self.registration_made_by(&app.id).await?;
                let kind_code = reg
                    .as_ref()
                    .map(|r| r.0.clone())
                    .or_else(|| js(&result, "kind"))
                    .unwrap_or_else(|| "permanent".into());
                out.push(f(
                    "Тіркеу түрі",
                    "Вид регистрации",
                    "Registration",
                    registration_kind_text(&kind_code),
                ));
                if let Some((_, rka, from, to)) = &reg {
                    if let Some(rka) = rka {
                        let addr = self
                            .address_text(rka)
                            .await?
                            .or_else(|| js(&result, "address"));
                        out.push(address_field(addr.unwrap_or_default()));
                        out.push(rka_field(rka));
                    }
                    out.push(f(
                        "Тіркелген күні",
                        "Дата регистрации",
                        "Registered on",
                        dmy(&self.tz, *from),
                    ));
                    if let Some(to) = to {
                        out.push(f(
                            "Тіркеу мерзімі",
                            "Срок регистрации до",
                            "Until",
                            dmy(&self.tz, *to),
                        ));
                    }
                }
                if result["ended_previous"].as_i64().unwrap_or(0) > 0 {
                    out.push(f(
                        "Бұрынғы тіркеу",
                        "Прежняя регистрация",
                        "Previous registration",
                        "тоқтатылды / прекращена",
                    ));
                }
                if let Some(n) = result.get("notice").filter(|n| n.is_object()) {
                    *note = Some(Text::new(
                        n["kk"].as_str().unwrap_or(""),
                        n["ru"].as_str().unwrap_or(""),
                        n["en"].as_str().unwrap_or(""),
                    ));
                }
            }
            DocumentKind::DepartureSheet => {
                let p = self.person_line(&app.applicant).await?;
                out.extend(person_fields(&app.applicant, &p));
                let entry = self.journal_entry_of(&app.id, "departure_sheets").await?;
                let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
                let from = js(&data, "from").or_else(|| js(&result, "from"));
                let ended = self
                    .registration_ended_by(&app.applicant, &app.number)
                    .await?;
                let rka = ended.as_ref().and_then(|r| r.1.clone());
                let from = match (from, &rka) {
                    (Some(a), _) => Some(a),
                    (None, Some(r)) => self.address_text(r).await?,
                    _ => None,
                };
                out.push(f(
                    "Тіркеуден шығарылған мекенжай",
                    "Адрес, с которого снят с регистрации",
                    "Deregistered from",
                    from.unwrap_or_else(|| "—".into()),
                ));
                if let Some(r) = &rka {
                    out.push(rka_field(r));
                }
                let ground = js(input, "ground").or_else(|| js(&result, "ground"));
                out.push(f(
                    "Тіркеуден шығару негізі",
                    "Основание снятия с регистрации",
                    "Ground",
                    ground.as_deref().map(ground_text).unwrap_or_default(),
                ));
                if let Some(c) = js(input, "court_decision") {
                    out.push(f("Сот шешімі", "Решение суда", "Court decision", c));
                }
                if let Some(d) = js(input, "destination") {
                    out.push(f("Кету орны", "Место убытия", "Destination", d));
                }
                out.push(f(
                    "Тіркеуден шығарылған күні",
                    "Дата снятия с регистрации",
                    "Deregistered on",
                    dmy(&self.tz, issued),
                ));
                if let Some((n, _, _)) = &entry {
                    out.push(journal_field(n));
                }
            }
            DocumentKind::AddressCertificate => {
                let entry = self
                    .journal_entry_of(&app.id, "address_certificates")
                    .await?;
                let data = entry.as_ref().map(|e| e.2.clone()).unwrap_or(json!(null));
                let subject = js(&data, "subject")
                    .or_else(|| js(input, "bin"))
                    .or_else(|| js(input, "iin"))
                    .unwrap_or_else(|| app.applicant.clone());
                let rka = js(&data, "rka");
                if js(input, "bin").is_some() {
                    out.push(f("БСН", "БИН", "BIN", subject.clone()));
                } else {
                    let p = self.person_line(&subject).await?;
                    out.extend(person_fields(&subject, &p));
                    if let Some((kind_code, _, from, _)) = self.open_registration(&subject).await? {
                        out.push(f(
                            "Тіркеу түрі",
                            "Вид регистрации",
                            "Registration",
                            registration_kind_text(&kind_code),
                        ));
                        out.push(f(
                            "Тіркелген күні",
                            "Дата регистрации",
                            "Registered on",
                            dmy(&self.tz, from),
                        ));
                    }
                }
                let addr = match (js(&data, "address"), &rka) {
                    (Some(a), _) => Some(a),
                    (None, Some(r)) => self.address_text(r).await?,
                    _ => None,
                };
                out.push(address_field(addr.unwrap_or_else(|| "—".into())));
                if let Some(r) = &rka {
                    out.push(rka_field(r));
                }
                if let Some((n, _, _)) = &entry {
                    out.push(journal_field(n));
                }
                out.push(issued_on);
                *note = Some(Text::new(
                "Анықтама ІІМ мен Әділет министрлігінің электрондық цифрлық қолтаңбаларымен куәландырылған.",
                "Справка удостоверена электронными цифровыми подписями МВД и Министерства юстиции.",
                "Signed by the MVD and the Ministry of Justice.",
            ));
            }
            DocumentKind::BorderZonePass => {
                out.extend(foreigner_fields(&input["foreigner"]));
                out.push(f(
                    "Шекаралық аймақ",
                    "Пограничная зона",
                    "Border zone",
                    js(input, "zone").unwrap_or_default(),
                ));
                let until = js(input, "until").or_else(|| js(input, "valid_until"));
                out.push(f(
                    "Жарамдылық мерзімі",
                    "Срок действия",
                    "Valid",
                    match until {
                        Some(u) => format!("{} – {}", dmy(&self.tz, issued), civil(&u)),
                        None => format!("{} –", dmy(&self.tz, issued)),
                    },
                ));
                if let Some(pu) = js(input, "purpose") {
                    out.push(f("Кіру мақсаты", "Цель въезда", "Purpose", pu));
                }
                if let Some((n, _, _)) = self.journal_entry_of(&app.id, "border_passes").await? {
                    out.push(journal_field(&n));
                }
                out.push(issued_on);
            }
            DocumentKind::Invitation => {
                let mut invitee = foreigner_fields(&input["foreigner"]);
                for fl in &mut invitee {
                    fl.label = Text::new(
                        format!("Шақырылатын адам: {}", fl.label.kk),
                        format!("Приглашаемое лицо: {}", fl.label.ru),
                        format!("Invitee: {}", fl.label.en),
                    );
                }
                out.extend(invitee);
                let host = self.person_line(&app.applicant).await?;
                out.push(f(
                    "Шақырушы тарап",
                    "Приглашающая сторона",
                    "Inviting party",
                    format!("{}, ЖСН / ИИН {}", host.name, app.applicant),
                ));
                if let Some(a) = &host.address {
                    out.push(f(
                        "Шақырушының мекенжайы",
                        "Адрес приглашающей стороны",
                        "Host's address",
                        a.clone(),
                    ));
                }
                if let Some(pu) = js(input, "purpose") {
                    out.push(f("Сапар мақсаты", "Цель поездки", "Purpose", pu));
                }
                match (js(input, "from"), js(input, "until")) {
                    (None, None) => {}
                    (a, b) => out.push(f(
                        "Болу мерзімі",
                        "Срок пребывания",
                        "Period",
                        format!(
                            "{} – {}",
                            a.map(|x| civil(&x))
                                .unwrap_or_else(|| dmy(&self.tz, issued)),
                            b.map(|x| civil(&x)).unwrap_or_default()
                        ),
                    )),
                }
                if let Some((n, _, _)) = self.journal_entry_of(&app.id, "invitations").await? {
                    out.push(journal_field(&n));
                }
                out.push(issued_on);
            }
            DocumentKind::ForeignerRegistrationInsert => {
                out.extend(foreigner_fields(&input["foreigner"]));
                let host = self.person_line(&app.applicant).await?;
                let stay = match js(input, "rka") {
                    Some(r) => self.address_text(&r).await?,
                    None => None,
                }
                .or_else(|| js(input, "address"))
                .or_else(|| host.address.clone());
                if let Some(a) = stay {
                    out.push(f(
                        "Болу мекенжайы",
                        "Адрес пребывания",
                        "Address of stay",
                        a,
                    ));
                }
                out.push(f(
                    "Қабылдаушы тарап",
                    "Принимающая сторона",
                    "Host",
                    format!("{}, ЖСН / ИИН {}", host.name, app.applicant),
                ));
                let entry = self
                    .journal_entry_of(&app.id, "foreigner_registration")
                    .await?;
                let since = entry.as_ref().map(|e| e.1).unwrap_or(issued);
                let until = js(input, "until");
                out.push(f(
                    "Тіркелген мерзімі",
                    "Срок регистрации",
                    "Registered",
                    format!(
                        "{} – {}",
                        dmy(&self.tz, since),
                        until.map(|u| civil(&u)).unwrap_or_default()
                    ),
                ));
                if let Some((n, _, _)) = &entry {
                    out.push(journal_field(n));
                }
                out.push(issued_on);
                if app.process == "portal" {
                    *note = Some(Text::new(
                        "Қосымша парақ электрондық түрде ресімделіп, қол қойылды.",
                        "Вкладыш оформлен и подписан в электронной форме.",
                        "The insert was made and signed electronically.",
                    ));
                }
            }
            DocumentKind::IinCertificate => {
                let entry = self.journal_entry_of(&app.id, "iin_formed").await?;
                let iin = app.data["formed_iin"]
                    .as_str()
                    .map(String::from)
                    .or_else(|| entry.as_ref().and_then(|e| js(&e.2, "iin")))
                    .unwrap_or_else(|| app.applicant.clone());
                out.push(f(
                    "Жеке сәйкестендіру нөмірі (ЖСН)",
                    "Индивидуальный идентификационный номер (ИИН)",
                    "IIN",
                    iin,
                ));
                out.extend(foreigner_fields(&input["foreigner"]));
                if let Some((n, at, _)) = &entry {
                    out.push(f(
                        "ЖСН қалыптастырылған күні",
                        "Дата формирования ИИН",
                        "IIN formed on",
                        dmy(&self.tz, *at),
                    ));
                    out.push(journal_field(n));
                }
                out.push(issued_on);
            }
            _ => out.push(issued_on),
        }
        Ok(out)
    }
}
