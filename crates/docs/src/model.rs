//! The document model: every result and receipt the seeds name, and one generic content
//! structure (bilingual title, numbered fields, an optional table, issuing unit, date,
//! number, signatory) that one renderer turns into a PDF.

use drn_core::{Iin, Text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Who signs a document with an organisation's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    /// Ministry of Internal Affairs (ІІМ / МВД).
    Mvd,
    /// Ministry of Justice (ӘМ / МЮ).
    Justice,
    /// The document production centre («АӨО» РМК / РГП «ИПЦ»).
    Production,
}

impl Authority {
    pub const ALL: [Authority; 3] = [Authority::Mvd, Authority::Justice, Authority::Production];

    /// File stem of the key and certificate in the PKI directory.
    pub fn code(self) -> &'static str {
        match self {
            Authority::Mvd => "mvd",
            Authority::Justice => "justice",
            Authority::Production => "production",
        }
    }

    pub fn name(self) -> Text {
        match self {
            Authority::Mvd => Text::new(
                "Қазақстан Республикасы Ішкі істер министрлігі",
                "Министерство внутренних дел Республики Казахстан",
                "Ministry of Internal Affairs of the Republic of Kazakhstan",
            ),
            Authority::Justice => Text::new(
                "Қазақстан Республикасы Әділет министрлігі",
                "Министерство юстиции Республики Казахстан",
                "Ministry of Justice of the Republic of Kazakhstan",
            ),
            Authority::Production => Text::new(
                "«Ақпараттық-өндірістік орталық» РМК",
                "РГП «Информационно-производственный центр»",
                "Information and Production Centre (state enterprise)",
            ),
        }
    }
}

/// Every result and receipt the seeds name, and the registries passed between units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// S1: talon of electronic registration of the application (with the formulary stub).
    ERegistrationTalon,
    /// S9 (and others): receipt of refusal to accept documents (incomplete package).
    RefusalReceipt,
    /// S9: talon of acceptance of the documents with the issue date.
    AcceptanceTalon,
    /// S5: address certificate from the place of residence (signed by MVD and Justice).
    AddressCertificate,
    /// S4: departure address sheet.
    DepartureSheet,
    /// S2: temporary identity card.
    TemporaryIdCard,
    /// S9: certificate of IIN formation.
    IinCertificate,
    /// S7: invitation for a private visit or family reunification.
    Invitation,
    /// S6: border-zone pass for a foreigner or stateless person.
    BorderZonePass,
    /// S8: insert to the passport on registration of a foreigner.
    ForeignerRegistrationInsert,
    /// S3: notice of registration at the place of residence.
    ResidenceRegistrationNotice,
    /// S1 step 3: district registry.
    DistrictRegistry,
    /// S1 step 4: summary registry.
    SummaryRegistry,
    /// S1 step 9: dispatch registry.
    DispatchRegistry,
    /// S1 step 8: registry of manufactured documents.
    ManufacturedRegistry,
    /// S1 steps 11 to 13: accompanying registry.
    AccompanyingRegistry,
    /// S1 2018 step 5 (2014 step 7): the cover letter (сопроводительное письмо, ілеспе
    /// хат) with which the centre sends the summary registries to production.
    CoverLetter,
    /// A motivated refusal after intake (мотивированный отказ, дәлелді бас тарту): S5-S7 and
    /// S9 name it as a result (seeds 002 S5 para 4, 003 S6/S7 para 4, 004 S9); the others'
    /// seeds are silent, and the engine gives it to them too (an assumption: a refused
    /// person is owed the reason in writing).
    MotivatedRefusal,
    /// S9: the MVD system operator's error message (қате туралы хабарлама, сообщение об
    /// ошибке) when the application does not match the applicant's identity data or the
    /// applicant already has an IIN (seed 004 para 9.5).
    ErrorMessage,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 19] = [
        DocumentKind::ERegistrationTalon,
        DocumentKind::RefusalReceipt,
        DocumentKind::AcceptanceTalon,
        DocumentKind::AddressCertificate,
        DocumentKind::DepartureSheet,
        DocumentKind::TemporaryIdCard,
        DocumentKind::IinCertificate,
        DocumentKind::Invitation,
        DocumentKind::BorderZonePass,
        DocumentKind::ForeignerRegistrationInsert,
        DocumentKind::ResidenceRegistrationNotice,
        DocumentKind::DistrictRegistry,
        DocumentKind::SummaryRegistry,
        DocumentKind::DispatchRegistry,
        DocumentKind::ManufacturedRegistry,
        DocumentKind::AccompanyingRegistry,
        DocumentKind::CoverLetter,
        DocumentKind::MotivatedRefusal,
        DocumentKind::ErrorMessage,
    ];

    /// A stable slug (file names, URLs, storage).
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::ERegistrationTalon => "e_registration_talon",
            DocumentKind::RefusalReceipt => "refusal_receipt",
            DocumentKind::AcceptanceTalon => "acceptance_talon",
            DocumentKind::AddressCertificate => "address_certificate",
            DocumentKind::DepartureSheet => "departure_sheet",
            DocumentKind::TemporaryIdCard => "temporary_id_card",
            DocumentKind::IinCertificate => "iin_certificate",
            DocumentKind::Invitation => "invitation",
            DocumentKind::BorderZonePass => "border_zone_pass",
            DocumentKind::ForeignerRegistrationInsert => "foreigner_registration_insert",
            DocumentKind::ResidenceRegistrationNotice => "residence_registration_notice",
            DocumentKind::DistrictRegistry => "district_registry",
            DocumentKind::SummaryRegistry => "summary_registry",
            DocumentKind::DispatchRegistry => "dispatch_registry",
            DocumentKind::ManufacturedRegistry => "manufactured_registry",
            DocumentKind::AccompanyingRegistry => "accompanying_registry",
            DocumentKind::CoverLetter => "cover_letter",
            DocumentKind::MotivatedRefusal => "motivated_refusal",
            DocumentKind::ErrorMessage => "error_message",
        }
    }

    /// The document's title in Kazakh, Russian and English.
    pub fn title(self) -> Text {
        let (kk, ru, en) = match self {
            DocumentKind::ERegistrationTalon => (
                "Электрондық тіркеу талоны",
                "Талон электронной регистрации",
                "E-registration talon",
            ),
            DocumentKind::RefusalReceipt => (
                "Құжаттарды қабылдаудан бас тарту туралы қолхат",
                "Расписка об отказе в приеме документов",
                "Receipt of refusal to accept documents",
            ),
            DocumentKind::AcceptanceTalon => (
                "Құжаттарды қабылдау туралы талон",
                "Талон о приеме документов",
                "Talon of acceptance of documents",
            ),
            DocumentKind::AddressCertificate => (
                "Тұрғылықты жерінен мекенжай анықтамасы",
                "Адресная справка с места жительства",
                "Address certificate",
            ),
            DocumentKind::DepartureSheet => (
                "Мекенжайдан кету парағы",
                "Адресный листок убытия",
                "Departure address sheet",
            ),
            DocumentKind::TemporaryIdCard => (
                "Уақытша жеке куәлік",
                "Временное удостоверение личности",
                "Temporary identity card",
            ),
            DocumentKind::IinCertificate => (
                "Жеке сәйкестендіру нөмірін қалыптастыру туралы куәлік",
                "Свидетельство о формировании индивидуального идентификационного номера",
                "Certificate of IIN formation",
            ),
            DocumentKind::Invitation => (
                "Қазақстан Республикасына келуге шақыру",
                "Приглашение на въезд в Республику Казахстан",
                "Invitation to enter the Republic of Kazakhstan",
            ),
            DocumentKind::BorderZonePass => (
                "Шекаралық аймаққа кіруге рұқсатнама",
                "Пропуск на въезд в пограничную зону",
                "Border-zone pass",
            ),
            DocumentKind::ForeignerRegistrationInsert => (
                "Шетелдікті тіркеу туралы паспортқа қосымша парақ",
                "Вкладыш к паспорту о регистрации иностранца",
                "Passport insert on registration of a foreigner",
            ),
            DocumentKind::ResidenceRegistrationNotice => (
                "Тұрғылықты жері бойынша тіркеу туралы хабарлама",
                "Уведомление о регистрации по месту жительства",
                "Notice of registration at the place of residence",
            ),
            DocumentKind::DistrictRegistry => {
                ("Аудандық тізілім", "Районный реестр", "District registry")
            }
            DocumentKind::SummaryRegistry => {
                ("Жиынтық тізілім", "Сводный реестр", "Summary registry")
            }
            DocumentKind::DispatchRegistry => (
                "Жөнелту тізілімі",
                "Отправочный реестр",
                "Dispatch registry",
            ),
            DocumentKind::ManufacturedRegistry => (
                "Дайындалған құжаттардың тізілімі",
                "Реестр изготовленных документов",
                "Registry of manufactured documents",
            ),
            DocumentKind::AccompanyingRegistry => (
                "Ілеспе тізілім",
                "Сопроводительный реестр",
                "Accompanying registry",
            ),
            DocumentKind::CoverLetter => ("Ілеспе хат", "Сопроводительное письмо", "Cover letter"),
            DocumentKind::MotivatedRefusal => (
                "Мемлекеттік қызметті көрсетуден дәлелді бас тарту",
                "Мотивированный отказ в оказании государственной услуги",
                "Motivated refusal to provide the state service",
            ),
            DocumentKind::ErrorMessage => (
                "Қате туралы хабарлама",
                "Сообщение об ошибке",
                "Error message",
            ),
        };
        Text::new(kk, ru, en)
    }

    /// True for the registries passed between units (they carry a table).
    pub fn is_registry(self) -> bool {
        matches!(
            self,
            DocumentKind::DistrictRegistry
                | DocumentKind::SummaryRegistry
                | DocumentKind::DispatchRegistry
                | DocumentKind::ManufacturedRegistry
                | DocumentKind::AccompanyingRegistry
                | DocumentKind::CoverLetter
        )
    }

    /// The organisations whose keys sign this kind, in signing order. The address
    /// certificate carries both the MVD's and the Ministry of Justice's signatures (S5).
    pub fn authorities(self) -> &'static [Authority] {
        match self {
            DocumentKind::AddressCertificate => &[Authority::Mvd, Authority::Justice],
            DocumentKind::ManufacturedRegistry => &[Authority::Production],
            _ => &[Authority::Mvd],
        }
    }
}

/// One numbered field: a bilingual label and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: Text,
    pub value: String,
}

impl Field {
    pub fn new(kk: &str, ru: &str, en: &str, value: impl Into<String>) -> Field {
        Field {
            label: Text::new(kk, ru, en),
            value: value.into(),
        }
    }
}

/// A column of a registry table: a bilingual heading and a relative width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub title: Text,
    pub width: f32,
}

/// A table of rows (registries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

/// The person who signs the document on paper or with an officer's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatory {
    pub position: Text,
    pub name: String,
    pub iin: Option<Iin>,
    /// An information system signing under its organisation's certificate (an API
    /// client): the organisation's BIN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<drn_core::Bin>,
}

/// A result document or receipt, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The verification identifier (in the QR code: `{base}/verify/{id}`).
    pub id: String,
    pub kind: DocumentKind,
    /// The document's registration number.
    pub number: String,
    pub date: Date,
    /// The issuing unit.
    pub issuer: Text,
    /// Overrides the kind's title when set.
    pub title: Option<Text>,
    pub fields: Vec<Field>,
    pub table: Option<Table>,
    pub signatory: Option<Signatory>,
    /// A closing remark under the fields.
    pub note: Option<Text>,
}

impl Document {
    pub fn title(&self) -> Text {
        self.title.clone().unwrap_or_else(|| self.kind.title())
    }

    /// The verification address printed under and encoded in the QR code.
    pub fn verify_url(&self, base: &str) -> String {
        format!("{}/verify/{}", base.trim_end_matches('/'), self.id)
    }
}
