//! Synthetic documents of every kind, for tests, the benchmark and the demo.

use crate::model::{Column, Document, DocumentKind, Field, Signatory, Table};
use drn_core::{Iin, Sex, Text};
use jiff::civil::{date, Date};

/// A synthetic person's IIN (valid format and check digit).
pub fn sample_iin(birth: Date, sex: Sex) -> Option<Iin> {
    Iin::form(birth, sex, |_| false).ok()
}

fn f(kk: &str, ru: &str, en: &str, value: impl Into<String>) -> Field {
    Field::new(kk, ru, en, value)
}

fn person(iin: &str) -> Vec<Field> {
    vec![
        f("ЖСН", "ИИН", "IIN", iin),
        f(
            "Тегі, аты, әкесінің аты",
            "Фамилия, имя, отчество",
            "Full name",
            "Әбілқасымова Гүлнұр Серікқызы",
        ),
        f("Туған күні", "Дата рождения", "Date of birth", "17.05.1990"),
    ]
}

fn address() -> Field {
    f(
        "Тұрғылықты мекенжайы",
        "Адрес места жительства",
        "Address",
        "Қазақстан Республикасы, Астана қ., Сарыарқа ауданы, Әуезов көшесі, 12-үй, 45-пәтер",
    )
}

fn registry_table(kind: DocumentKind) -> Table {
    let columns = vec![
        Column {
            title: Text::new("№", "№", "No"),
            width: 0.6,
        },
        Column {
            title: Text::new("ЖСН", "ИИН", "IIN"),
            width: 2.0,
        },
        Column {
            title: Text::new("Тегі, аты", "Фамилия, имя", "Name"),
            width: 3.4,
        },
        Column {
            title: Text::new("Құжат", "Документ", "Document"),
            width: 2.2,
        },
        Column {
            title: Text::new("Жеделдік", "Срочность", "Urgency"),
            width: 1.6,
        },
    ];
    let names = [
        "Нұрланов Ерғали",
        "Өтегенова Әсем",
        "Құрманғазы Ұлан",
        "Іңкәрбекова Үміт",
        "Һадиев Ғалым",
        "Жұмабаев Болат",
    ];
    let doc = match kind {
        DocumentKind::ManufacturedRegistry => "дайын / изготовлен",
        _ => "ЖК / УЛ",
    };
    let rows = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            vec![
                (i + 1).to_string(),
                format!("9005173{:05}", 10000 + i * 7),
                (*n).to_string(),
                doc.to_string(),
                if i % 3 == 0 {
                    "1"
                } else {
                    "жалпы / общий"
                }
                .to_string(),
            ]
        })
        .collect();
    Table { columns, rows }
}

/// A synthetic document of `kind` with the verification id `id` and number `number`.
pub fn sample(kind: DocumentKind, id: &str, number: &str) -> Document {
    let iin = "900517300016";
    let officer_iin = sample_iin(date(1985, 3, 2), Sex::Female);
    let mut fields = Vec::new();
    let mut table = None;
    let mut note = None;
    let issuer = Text::new(
        "Астана қаласы ПД Сарыарқа аудандық ПБ көші-қон қызметі бөлімі",
        "Отдел миграционной службы УП района Сарыарқа ДП г. Астаны",
        "Migration office, Saryarka district, Astana",
    );
    match kind {
        DocumentKind::ERegistrationTalon => {
            fields.extend(person(iin));
            fields.push(f(
                "Өтініш түрі",
                "Вид заявления",
                "Application",
                "жеке куәлік / удостоверение личности",
            ));
            fields.push(f("Жеделдік санаты", "Категория срочности", "Urgency", "3"));
            fields.push(f("Беру күні", "Дата выдачи", "Issue date", "24.06.2025"));
        }
        DocumentKind::MotivatedRefusal | DocumentKind::ErrorMessage => {
            fields.extend(person(iin));
            fields.push(f(
                "Бас тарту себебі",
                "Причина отказа",
                "Reason",
                "мекенжай деректері (ӘК) сәйкес келмейді / адресные данные не совпадают (ч. 2 ст. 3)",
            ));
        }
        DocumentKind::RefusalReceipt => {
            fields.extend(person(iin));
            fields.push(f(
                "Бас тарту себебі",
                "Причина отказа",
                "Reason",
                "құжаттар топтамасы толық емес: фотосурет жоқ / неполный пакет документов: нет фотографии",
            ));
        }
        DocumentKind::AcceptanceTalon => {
            fields.extend(person("—"));
            fields.push(f(
                "Азаматтығы",
                "Гражданство",
                "Citizenship",
                "Өзбекстан / Узбекистан",
            ));
            fields.push(f(
                "Куәлікті беру күні",
                "Дата выдачи свидетельства",
                "Issue date",
                "26.06.2025",
            ));
        }
        DocumentKind::AddressCertificate => {
            fields.extend(person(iin));
            fields.push(address());
            fields.push(f(
                "Тіркеу түрі",
                "Вид регистрации",
                "Registration",
                "тұрақты / постоянная",
            ));
            fields.push(f(
                "Тіркелген күні",
                "Дата регистрации",
                "Since",
                "03.02.2015",
            ));
            note = Some(Text::new(
                "Анықтама ІІМ мен Әділет министрлігінің электрондық цифрлық қолтаңбаларымен куәландырылған.",
                "Справка удостоверена электронными цифровыми подписями МВД и Министерства юстиции.",
                "Signed by the MVD and the Ministry of Justice.",
            ));
        }
        DocumentKind::DepartureSheet => {
            fields.extend(person(iin));
            fields.push(address());
            fields.push(f(
                "Кету себебі",
                "Причина убытия",
                "Reason",
                "шетелге тұрақты тұруға / на ПМЖ за границу",
            ));
            fields.push(f("Кету елі", "Страна убытия", "Country", "Германия"));
        }
        DocumentKind::TemporaryIdCard => {
            fields.extend(person(iin));
            fields.push(address());
            fields.push(f(
                "Жарамды",
                "Действительно до",
                "Valid until",
                "24.07.2025",
            ));
        }
        DocumentKind::IinCertificate => {
            fields.push(f("ЖСН", "ИИН", "IIN", "900517350012"));
            fields.push(f(
                "Тегі, аты",
                "Фамилия, имя",
                "Name",
                "SMITH JOHN / СМИТ ДЖОН",
            ));
            fields.push(f(
                "Азаматтығы",
                "Гражданство",
                "Citizenship",
                "Ұлыбритания / Великобритания",
            ));
            fields.push(f("Паспорт", "Паспорт", "Passport", "GB 123456789"));
        }
        DocumentKind::Invitation => {
            fields.push(f(
                "Шақырылатын адам",
                "Приглашаемое лицо",
                "Invitee",
                "MÜLLER ANNA, Германия, 12.12.1988",
            ));
            fields.push(f(
                "Шақырушы",
                "Приглашающая сторона",
                "Host",
                "Әбілқасымова Гүлнұр Серікқызы, ЖСН/ИИН 900517300016",
            ));
            fields.push(f(
                "Сапар мақсаты",
                "Цель поездки",
                "Purpose",
                "жеке іс / частный визит",
            ));
            fields.push(f("Мерзімі", "Срок", "Period", "01.08.2025 – 30.08.2025"));
        }
        DocumentKind::BorderZonePass => {
            fields.push(f("Аты-жөні", "ФИО", "Name", "IVANOV PETR, Ресей / Россия"));
            fields.push(f(
                "Шекаралық аймақ",
                "Пограничная зона",
                "Zone",
                "Алматы облысы, Көлсай / Алматинская обл., Кольсай",
            ));
            fields.push(f("Мерзімі", "Срок", "Period", "10.07.2025 – 20.07.2025"));
        }
        DocumentKind::ForeignerRegistrationInsert => {
            fields.push(f("Аты-жөні", "ФИО", "Name", "CHEN WEI, Қытай / Китай"));
            fields.push(f("Паспорт", "Паспорт", "Passport", "E12345678"));
            fields.push(address());
            fields.push(f(
                "Тіркелген мерзімі",
                "Зарегистрирован до",
                "Until",
                "15.09.2025",
            ));
        }
        DocumentKind::ResidenceRegistrationNotice => {
            fields.extend(person(iin));
            fields.push(address());
            fields.push(f(
                "Хабарлама",
                "Уведомление",
                "Notice",
                "чипке мекенжайды жазу үшін ХҚКО-ға келіңіз / явитесь в ЦОН для перезаписи адреса на чип",
            ));
        }
        DocumentKind::DistrictRegistry
        | DocumentKind::SummaryRegistry
        | DocumentKind::DispatchRegistry
        | DocumentKind::ManufacturedRegistry
        | DocumentKind::AccompanyingRegistry
        | DocumentKind::CoverLetter => {
            fields.push(f(
                "Жіберуші",
                "Отправитель",
                "From",
                "Сарыарқа аудандық КҚБ / ОМС района Сарыарқа",
            ));
            fields.push(f(
                "Алушы",
                "Получатель",
                "To",
                "Астана қ. ПД КҚБ / УМС ДП г. Астаны",
            ));
            fields.push(f("Данасы", "Экземпляр", "Copy", "1 / 3"));
            table = Some(registry_table(kind));
        }
    }
    Document {
        id: id.to_string(),
        kind,
        number: number.to_string(),
        date: date(2025, 6, 24),
        issuer,
        title: None,
        fields,
        table,
        signatory: Some(Signatory {
            position: Text::new(
                "Көші-қон қызметі бөлімінің бастығы",
                "Начальник отдела миграционной службы",
                "Head of the migration office",
            ),
            name: "Сәрсенбаева Ұлжан Қуанышқызы".to_string(),
            iin: officer_iin,
            bin: None,
        }),
        note,
    }
}
