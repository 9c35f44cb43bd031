//! The engine's errors, with a stable code and a message in Kazakh, Russian and English.

use drn_core::Lang;
use drn_store::StoreError;

pub use crate::refusal::{Reason, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("not allowed: {reason}")]
    Forbidden { reason: Reason },
    #[error("the {what} was changed by someone else (revision {current}, you had {expected})")]
    Conflict {
        what: &'static str,
        current: i64,
        expected: i64,
    },
    /// What a command acts on in bulk changed while it ran (PostgreSQL: another writer's
    /// transaction moved some of it); running it again acts on what is there now.
    #[error("the {what} changed while the command ran: run it again")]
    Raced { what: &'static str },
    #[error("the application is at step {actual}, not at {expected}")]
    WrongStep { expected: String, actual: u32 },
    #[error("the application is {status}: no further action")]
    Closed { status: String },
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: Reason },
    #[error("the idempotency key was used for another command")]
    KeyReused,
    /// The same key, actor and command with another request: refused, not answered with
    /// the first request's answer (as payment APIs do).
    #[error("the idempotency key was used with another request")]
    KeyReusedWithOtherRequest,
    /// The applicant already has an open application of this service (issue 28 item 11).
    #[error("the applicant already has an open application {number} of service {service}")]
    AlreadyOpen { service: String, number: String },
    /// The intake is another's: the catalog gives the process's first step, done by
    /// accepting, to `by` (S2 and S3 of 2018: the ОМС officer at a State Corporation
    /// workstation, seed 000 paras 6 and 7 as restated by order 55), citing `cite`.
    #[error("the intake of {service}@{version} is done by {}: {}", by.en, cite.en)]
    IntakeIsAnothers {
        service: String,
        version: String,
        by: Box<drn_core::Text>,
        /// The rule's citation as a lawyer writes it, in each language.
        cite: Box<drn_core::Text>,
    },
    /// A rule of the act in force refuses the request: a branch of the catalog (its
    /// `outcome`, the branch's id), with the reason in the user's language (issue 30).
    #[error("refused ({outcome}): {}", message.en)]
    RuleRefused {
        outcome: &'static str,
        message: Box<drn_core::Text>,
    },
    #[error(transparent)]
    Plan(#[from] drn_core::PlanError),
    #[error(transparent)]
    Calendar(#[from] drn_core::CalendarError),
    #[error("storage: {0}")]
    Store(#[source] StoreError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database's storage failed (an I/O error, a corrupt file, a full disk): the
    /// writer has stopped and refuses every change until an administrator has looked
    /// (see [`drn_store::Fault`]). Reads go on.
    #[error("storage fault, changes are refused: {reason}")]
    StorageFault { reason: String },
}

impl From<StoreError> for EngineError {
    /// A refusal after a storage fault is that fault, wherever it surfaces.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Fault(reason) => EngineError::StorageFault { reason },
            e => EngineError::Store(e),
        }
    }
}

impl From<sqlx_error::Error> for EngineError {
    fn from(e: sqlx_error::Error) -> Self {
        EngineError::Store(StoreError::Db(e))
    }
}

/// Re-export of the database error type without depending on sqlx by name elsewhere.
pub(crate) mod sqlx_error {
    pub use drn_store::SqlxError as Error;
}

impl EngineError {
    /// A refusal by a rule of the act: the catalog branch `outcome`, and why.
    pub fn refused(outcome: &'static str, message: drn_core::Text) -> EngineError {
        EngineError::RuleRefused {
            outcome,
            message: Box::new(message),
        }
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<Reason>) -> EngineError {
        EngineError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn forbidden(reason: impl Into<Reason>) -> EngineError {
        EngineError::Forbidden {
            reason: reason.into(),
        }
    }

    pub fn not_found(what: &'static str, id: impl Into<String>) -> EngineError {
        EngineError::NotFound {
            what,
            id: id.into(),
        }
    }

    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound { .. } => "not_found",
            EngineError::Forbidden { .. }
            | EngineError::IntakeIsAnothers { .. }
            | EngineError::RuleRefused { .. } => "forbidden",
            EngineError::Conflict { .. } | EngineError::Raced { .. } => "conflict",
            EngineError::WrongStep { .. } => "wrong_step",
            EngineError::Closed { .. } => "closed",
            EngineError::Invalid { .. } => "invalid",
            EngineError::KeyReused => "idempotency_key_reused",
            EngineError::KeyReusedWithOtherRequest => "idempotency_key_mismatch",
            EngineError::AlreadyOpen { .. } => "already_open",
            EngineError::Plan(_) => "not_applicable",
            EngineError::Calendar(_) => "calendar",
            EngineError::Store(_) | EngineError::Corrupt(_) => "internal",
            EngineError::StorageFault { .. } => "storage_fault",
        }
    }

    /// The field at fault, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            EngineError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The message for a user, in their language. Details in English stay as they are
    /// (identifiers, numbers); the sentence around them is translated.
    pub fn message(&self, lang: Lang) -> String {
        let t = |kk: String, ru: String, en: String| match lang {
            Lang::Kk => kk,
            Lang::Ru => ru,
            Lang::En => en,
        };
        match self {
            EngineError::NotFound { what, id } => {
                let (kk, ru) = what_text(what);
                t(
                    format!("Табылмады: {kk} {id}"),
                    format!("Не найдено: {ru} {id}"),
                    format!("Not found: {what} {id}"),
                )
            }
            // The reason in the user's language; a note of the operators' tools stays off a
            // kk/ru page (issue 29).
            EngineError::Forbidden { reason } => match reason.say(lang) {
                Some(r) => t(
                    format!("Бұл әрекетке рұқсат жоқ: {r}"),
                    format!("Действие не разрешено: {r}"),
                    format!("Not allowed: {r}"),
                ),
                None => t(
                    "Бұл әрекетке рұқсат жоқ".into(),
                    "Действие не разрешено".into(),
                    format!("Not allowed: {reason}"),
                ),
            },
            EngineError::Conflict { current, expected, .. } => t(
                format!("Өтінішті басқа қызметкер өзгертті (нұсқа {current}, сізде {expected}). Жаңартып, қайталаңыз."),
                format!("Заявление изменено другим сотрудником (версия {current}, у вас {expected}). Обновите и повторите."),
                format!("Someone else changed this (revision {current}, you had {expected}). Reload and try again."),
            ),
            EngineError::Raced { what } => t(
                format!("Әрекет кезінде деректер өзгерді ({what}). Жаңартып, қайталаңыз."),
                format!("Данные изменились во время действия ({what}). Обновите и повторите."),
                format!("The data changed while this ran ({what}). Reload and try again."),
            ),
            EngineError::WrongStep { expected, actual } => t(
                format!("Өтініш {actual}-қадамда, {expected}-қадамда емес"),
                format!("Заявление на шаге {actual}, а не {expected}"),
                format!("The application is at step {actual}, not {expected}"),
            ),
            EngineError::Closed { status } => t(
                format!("Өтініш жабылған ({status}): әрекет мүмкін емес"),
                format!("Заявление закрыто ({status}): действие невозможно"),
                format!("The application is closed ({status}): no further action"),
            ),
            EngineError::Invalid { field, reason } => {
                let (fkk, fru) = field_text(field);
                match reason.say(lang) {
                    Some(r) => t(
                        format!("Қате мән «{fkk}»: {r}"),
                        format!("Неверное значение «{fru}»: {r}"),
                        format!("Invalid {field}: {r}"),
                    ),
                    None => t(
                        format!("«{fkk}» өрісінің мәні қате немесе толтырылмаған"),
                        format!("Поле «{fru}» заполнено неверно или не заполнено"),
                        format!("Invalid {field}: {reason}"),
                    ),
                }
            }
            EngineError::KeyReused => t(
                "Бұл сұрау кілті басқа әрекет үшін қолданылған".into(),
                "Этот ключ запроса уже использован для другого действия".into(),
                "This request key was already used for another command".into(),
            ),
            EngineError::KeyReusedWithOtherRequest => t(
                "Бұл сұрау кілті басқа деректермен жіберілген сұрауға қолданылған: жаңа сұрауға жаңа кілт керек".into(),
                "Этот ключ запроса уже использован для запроса с другими данными: для нового запроса нужен новый ключ".into(),
                "This request key was already used for a request with other data: a new request needs a new key".into(),
            ),
            EngineError::AlreadyOpen { service, number } => t(
                format!("Өтініш берушінің {service} қызметі бойынша аяқталмаған № {number} өтініші бар: жаңасы қабылданбайды"),
                format!("У заявителя уже есть незавершённое заявление № {number} на услугу {service}: новое не принимается"),
                format!("The applicant already has open application No {number} for service {service}: a new one is not accepted"),
            ),
            EngineError::IntakeIsAnothers {
                service,
                version,
                by,
                cite,
            } => t(
                format!("{service} ({version}) қызметі бойынша құжаттарды қабылдайтын: {} ({})", by.kk, cite.kk),
                format!("Приём документов по услуге {service} ({version}) ведёт: {} ({})", by.ru, cite.ru),
                format!("The intake of {service} ({version}) is done by: {} ({})", by.en, cite.en),
            ),
            EngineError::RuleRefused { message, .. } => {
                t(message.kk.clone(), message.ru.clone(), message.en.clone())
            }
            EngineError::Plan(e) => t(
                format!("Қызмет бұл жағдайда көрсетілмейді: {e}"),
                format!("Услуга в этом случае не оказывается: {e}"),
                format!("The service does not apply here: {e}"),
            ),
            EngineError::Calendar(e) => t(
                format!("Күнтізбе қатесі: {e}"),
                format!("Ошибка календаря: {e}"),
                format!("Calendar error: {e}"),
            ),
            EngineError::Store(_) | EngineError::Corrupt(_) => t(
                "Ішкі қате. Әрекет сақталмады, қайталап көріңіз.".into(),
                "Внутренняя ошибка. Действие не сохранено, повторите попытку.".into(),
                "Internal error. Nothing was saved; please try again.".into(),
            ),
            // The reason is for the administrator (logs, `/readyz`), not the user.
            EngineError::StorageFault { .. } => t(
                "Деректер қоймасында ақау: жүйе өзгерістерді қабылдауды тоқтатты, әрекет сақталмады. Әкімшіге хабарласыңыз.".into(),
                "Сбой хранилища данных: система прекратила приём изменений, действие не сохранено. Обратитесь к администратору.".into(),
                "Storage fault: the system has stopped accepting changes and nothing was saved. Contact the administrator.".into(),
            ),
        }
    }
}

/// What was not found, for people, in Kazakh and Russian (a kk/ru page shows no English
/// word; the engine's own name where unknown).
fn what_text(what: &'static str) -> (&'static str, &'static str) {
    match what {
        "active user" | "staff" => ("қызметкер", "сотрудник"),
        "address" => ("мекенжай", "адрес"),
        "application" => ("өтініш", "заявление"),
        "applications waiting for a registry" => (
            "тізілімді күтетін өтініштер",
            "заявления, ожидающие реестра",
        ),
        "document" => ("құжат", "документ"),
        "journal" => ("журнал", "журнал"),
        "online renewal" => ("онлайн ауыстыру өтініші", "заявка на онлайн-замену"),
        "person" => ("тұлға", "лицо"),
        "registry" => ("тізілім", "реестр"),
        "service" => ("қызмет", "услуга"),
        "task" => ("тапсырма", "задача"),
        "unit" => ("бөлімше", "подразделение"),
        other => (other, other),
    }
}

/// A request field's name for people, in Kazakh and Russian (the field's path as it
/// stands where unknown: it is the API's, which a program reads). The server's own
/// refusals of a field name it so too.
pub fn field_text(field: &str) -> (String, String) {
    let key = field.strip_prefix("data.").unwrap_or(field);
    let key = key.strip_prefix("foreigner.").unwrap_or(key);
    let (kk, ru) = match key {
        "surname" => ("Тегі", "Фамилия"),
        "given_name" => ("Аты", "Имя"),
        "patronymic" => ("Әкесінің аты", "Отчество"),
        "name" => ("Аты-жөні", "ФИО"),
        "foreigner" => ("Шетелдіктің деректері", "Данные иностранца"),
        "birth_date" => ("Туған күні", "Дата рождения"),
        "citizenship" => ("Азаматтығы", "Гражданство"),
        "passport" => ("Паспорт", "Паспорт"),
        "iin" | "applicant" => ("ЖСН", "ИИН"),
        "receiver" => ("Алушының ЖСН-і", "ИИН получателя"),
        "reason" => ("Себебі", "Причина"),
        "note" => ("Белгі", "Отметка"),
        "rka" => ("РКА", "РКА"),
        "until" => ("Мерзімі (дейін)", "Срок (до)"),
        "kind" => ("Тіркеу түрі", "Вид регистрации"),
        "ground" => ("Негіз", "Основание"),
        "unit" => ("Бөлімше", "Подразделение"),
        "zone" => ("Шекаралық аймақ", "Пограничная зона"),
        "owner_iin" => ("Меншік иесінің ЖСН-і", "ИИН собственника"),
        "owner_id_document" => ("Меншік иесінің құжаты", "Документ собственника"),
        "owner_consent" => ("Меншік иесінің келісімі", "Согласие собственника"),
        "court_decision" => ("Сот шешімі", "Решение суда"),
        "bin" => ("БСН", "БИН"),
        "urgency" => ("Шұғылдығы", "Срочность"),
        "channel" => ("Арна", "Канал"),
        "service" => ("Қызмет", "Услуга"),
        "missing" => ("Жетіспейтін құжаттар", "Недостающие документы"),
        "to_step" => ("Қадам", "Шаг"),
        "incoming_number" => ("Кіріс нөмірі", "Входящий номер"),
        "migration_card" => ("Көші-қон карточкасы", "Миграционная карточка"),
        "authority" => ("Сенімхат", "Доверенность"),
        "date" => ("Күні", "Дата"),
        "transfer" => ("Демалыс күнін ауыстыру", "Перенос выходного дня"),
        "cite" => ("Негіздеме (акт)", "Основание (акт)"),
        "q" => ("Іздеу", "Поиск"),
        "from" => ("Кезең басы", "Начало периода"),
        "to" => ("Кезең соңы", "Конец периода"),
        "invoice" => ("Шот", "Счёт"),
        "document" => ("Құжат", "Документ"),
        "documents_presented" => ("Ұсынылған құжаттар", "Представленные документы"),
        "idempotency_key" => ("Сұрау кілті", "Ключ запроса"),
        "process" => ("Үдеріс", "Процесс"),
        "step" => ("Қадам", "Шаг"),
        "username" => ("Пайдаланушы аты", "Имя пользователя"),
        "photo" => ("Фото", "Фото"),
        "signature_sample" => ("Қолтаңба үлгісі", "Образец подписи"),
        "request_signature" => ("Сұраудың ЭЦҚ-сы", "ЭЦП запроса"),
        "phone" => ("Телефон", "Телефон"),
        _ => return (field.to_string(), field.to_string()),
    };
    (kk.to_string(), ru.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal's reason is said in the user's language, from its kind, never looked up by
    /// its English (issue 29: "Действие не разрешено: this result is issued …").
    #[test]
    fn no_english_behind_a_translated_prefix() {
        let known = EngineError::forbidden(Refusal::InPersonOnly);
        assert_eq!(
            known.message(Lang::Ru),
            "Действие не разрешено: результат выдаётся только лично заявителю"
        );
        assert!(known.to_string().contains("in person only"));
        let note = EngineError::forbidden(Reason::note("the database already holds data"));
        assert_eq!(note.message(Lang::Ru), "Действие не разрешено");
        assert_eq!(note.message(Lang::Kk), "Бұл әрекетке рұқсат жоқ");
        assert!(note.message(Lang::En).contains("already holds data"));
        let bad = EngineError::invalid("data.foreigner.surname", Reason::note("something"));
        assert_eq!(
            bad.message(Lang::Ru),
            "Поле «Фамилия» заполнено неверно или не заполнено"
        );
        let said = EngineError::invalid(
            "data.surname",
            drn_core::Text::new("қазақша", "по-русски", "in English"),
        );
        assert_eq!(
            said.message(Lang::Ru),
            "Неверное значение «Фамилия»: по-русски"
        );
    }
}
