//! The interface's words in Kazakh, Russian and English.

use drn_core::Lang;

/// (key, kk, ru, en)
const WORDS: &[(&str, &str, &str, &str)] = &[
    ("accept", "Қабылдау", "Принять", "Accept"),
    (
        "accepted",
        "Өтініш қабылданды",
        "Заявление принято",
        "Application accepted",
    ),
    ("action", "Әрекет", "Действие", "Action"),
    ("actions", "Әрекеттер", "Действия", "Actions"),
    ("active", "Белсенді", "Активен", "Active"),
    ("actor", "Орындаушы", "Исполнитель", "Actor"),
    (
        "administration",
        "Әкімшілік",
        "Администрирование",
        "Administration",
    ),
    (
        "all_units",
        "Барлық бөлімшелер",
        "Все подразделения",
        "All units",
    ),
    ("annul", "Күшін жою", "Аннулировать", "Annul"),
    ("applicant", "Өтініш беруші", "Заявитель", "Applicant"),
    ("application", "Өтініш", "Заявление", "Application"),
    ("applications", "Өтініштер", "Заявления", "Applications"),
    (
        "applied",
        "Өтініш жіберілді",
        "Заявление подано",
        "Application submitted",
    ),
    ("apply", "Өтініш беру", "Подать заявление", "Apply"),
    ("area", "Бақылау аймағы", "Зона контроля", "Area"),
    ("audit", "Аудит", "Аудит", "Audit"),
    ("audit_log", "Аудит журналы", "Журнал аудита", "Audit log"),
    ("back", "Артқа", "Назад", "Back"),
    ("birth", "Туған күні", "Дата рождения", "Date of birth"),
    ("by_step", "Қадамдар бойынша", "По шагам", "By step"),
    (
        "by_unit",
        "Бөлімшелер бойынша",
        "По подразделениям",
        "By unit",
    ),
    ("calendar_add", "Ауыстыруды қосу", "Добавить перенос", "Add a transfer"),
    (
        "calendar_added",
        "Әкімші қосқан ауыстырулар (сервер қайта іске қосылғаннан кейін күшіне енеді)",
        "Переносы, добавленные администратором (вступают в силу после перезапуска сервера)",
        "Transfers added by an administrator (in force after the server restarts)",
    ),
    (
        "calendar_note",
        "Ауыстырулар catalog/calendar/kz.toml файлынан және осы жерде қосылғандардан алынады; өзгерістер сервер қайта іске қосылғанда күшіне енеді.",
        "Переносы берутся из файла catalog/calendar/kz.toml и из добавленных здесь; изменения вступают в силу после перезапуска сервера.",
        "Transfers come from catalog/calendar/kz.toml and from those added here; changes take effect when the server restarts.",
    ),
    (
        "calendar_transfers",
        "Демалыс күндерін ауыстыру",
        "Переносы выходных дней",
        "Transfers of days off",
    ),
    (
        "centre_units",
        "Орталық аппарат және өндіріс",
        "Центральный аппарат и производство",
        "Centre and production",
    ),
    (
        "chain_broken",
        "Тізбек бұзылған",
        "Цепочка нарушена",
        "Chain broken",
    ),
    (
        "chain_whole",
        "Тізбек тұтас",
        "Цепочка целостна",
        "Chain whole",
    ),
    ("channel", "Арна", "Канал", "Channel"),
    (
        "checklist",
        "Құжаттар тізбесі",
        "Перечень документов",
        "Document checklist",
    ),
    (
        "citation",
        "Құқықтық негіз",
        "Правовое основание",
        "Legal basis",
    ),
    (
        "citizen_portal",
        "Азаматтың порталы",
        "Портал гражданина",
        "Citizen portal",
    ),
    ("code", "Код", "Код", "Code"),
    (
        "complete_step",
        "Қадамды аяқтау",
        "Завершить шаг",
        "Complete step",
    ),
    ("count", "Саны", "Количество", "Count"),
    (
        "create_user",
        "Пайдаланушыны құру",
        "Создать пользователя",
        "Create user",
    ),
    (
        "data_reads",
        "Деректерімді кім қарады",
        "Кто смотрел мои данные",
        "Who read my data",
    ),
    ("day_off", "Демалыс күні", "Выходной день", "Day off"),
    ("deactivate", "Өшіру", "Деактивировать", "Deactivate"),
    ("detail", "Толығырақ", "Подробности", "Detail"),
    ("documents", "Құжаттар", "Документы", "Documents"),
    ("due", "Мерзімі", "Срок", "Due"),
    ("due_today", "Бүгін мерзімі", "Срок сегодня", "Due today"),
    ("ev_accepted", "Қабылданды", "Принято", "Accepted"),
    ("ev_annulled", "Күші жойылды", "Аннулировано", "Annulled"),
    (
        "ev_in_registry",
        "Тізілімге енгізілді",
        "Включено в реестр",
        "Put in a registry",
    ),
    (
        "ev_intake_refused",
        "Қабылдаудан бас тартылды",
        "Отказ в приёме",
        "Refused at intake",
    ),
    ("ev_issued", "Берілді", "Выдано", "Issued"),
    ("ev_refused", "Бас тартылды", "Отказано", "Refused"),
    (
        "ev_registry_received",
        "Тізілім қабылданды",
        "Реестр получен",
        "Registry received",
    ),
    (
        "ev_returned",
        "Түзетуге қайтарылды",
        "Возвращено на доработку",
        "Returned for correction",
    ),
    (
        "ev_step_completed",
        "Қадам аяқталды",
        "Шаг завершён",
        "Step completed",
    ),
    (
        "ev_step_entered",
        "Қадам басталды",
        "Шаг начат",
        "Step entered",
    ),
    ("event", "Оқиға", "Событие", "Event"),
    ("expected", "Күтілетін күн", "Ожидаемая дата", "Expected by"),
    (
        "expires",
        "Жарамдылық мерзімі",
        "Действителен до",
        "Expires",
    ),
    ("filter", "Сүзу", "Применить фильтр", "Filter"),
    (
        "find_person",
        "ЖСН бойынша іздеу",
        "Поиск по ИИН",
        "Find by IIN",
    ),
    (
        "form_registry",
        "Тізілімді қалыптастыру",
        "Сформировать реестр",
        "Form registry",
    ),
    ("from_date", "Басталу күні", "С даты", "From"),
    ("holder", "Қай бөлімшеде", "В подразделении", "Held by"),
    ("home", "Басты бет", "Главная", "Home"),
    ("iin", "ЖСН", "ИИН", "IIN"),
    ("inactive", "Белсенді емес", "Неактивен", "Inactive"),
    ("incoming", "Кіріс", "Входящие", "Incoming"),
    (
        "incoming_number",
        "Кіріс нөмірі",
        "Входящий номер",
        "Incoming number",
    ),
    (
        "intake_refused",
        "Құжаттарды қабылдаудан бас тартылды",
        "Отказ в приёме документов",
        "Documents not accepted",
    ),
    ("issue", "Беру", "Выдать", "Issue"),
    (
        "issue_ready",
        "Беруге дайын",
        "Готово к выдаче",
        "Ready to issue",
    ),
    (
        "issue_unit",
        "Нәтижені алу орны",
        "Место получения результата",
        "Where to collect the result",
    ),
    ("issued_on", "Берілген күні", "Дата выдачи", "Issued on"),
    ("kind", "Түрі", "Тип", "Kind"),
    (
        "kind_centre",
        "Орталық аппарат",
        "Центральный аппарат",
        "Centre",
    ),
    ("kind_counter", "ХҚКО", "ЦОН", "Public service centre"),
    (
        "kind_district",
        "Аудандық бөлім",
        "Районное подразделение",
        "District unit",
    ),
    ("kind_production", "Өндіріс", "Производство", "Production"),
    (
        "kind_region",
        "Облыстық басқарма",
        "Областное управление",
        "Regional directorate",
    ),
    ("lang", "Тіл", "Язык", "Language"),
    ("login", "Кіру", "Войти", "Sign in"),
    ("logout", "Шығу", "Выйти", "Sign out"),
    (
        "missing",
        "Жетіспейтін құжаттар",
        "Недостающие документы",
        "Missing documents",
    ),
    (
        "missing_other",
        "Басқа жетіспейтін немесе жарамсыз құжат",
        "Иной недостающий или недействительный документ",
        "Other missing or invalid document",
    ),
    (
        "my_applications",
        "Менің өтініштерім",
        "Мои заявления",
        "My applications",
    ),
    (
        "my_documents",
        "Менің құжаттарым",
        "Мои документы",
        "My documents",
    ),
    ("name", "Аты-жөні", "ФИО", "Name"),
    ("newer", "Жаңарақ", "Новее", "Newer"),
    ("no_items", "Жазба жоқ", "Записей нет", "Nothing here"),
    (
        "no_portal_services",
        "Бүгін портал арқылы көрсетілетін қызметтер жоқ",
        "Сегодня через портал услуги не оказываются",
        "No services are open on the portal today",
    ),
    ("note", "Ескерту", "Примечание", "Note"),
    ("number", "Нөмір", "Номер", "Number"),
    ("older", "Ескірек", "Старее", "Older"),
    (
        "one_time_code",
        "Бір реттік код",
        "Одноразовый код",
        "One-time code",
    ),
    ("open", "Ашық", "Открытые", "Open"),
    ("outgoing", "Шығыс", "Исходящие", "Outgoing"),
    ("overdue", "Мерзімі өткен", "Просрочено", "Overdue"),
    ("pages", "Беттер", "Страницы", "Pages"),
    (
        "parent",
        "Жоғары тұрған бөлімше",
        "Вышестоящее подразделение",
        "Parent unit",
    ),
    ("password", "Құпиясөз", "Пароль", "Password"),
    (
        "password_hint",
        "Кемінде 10 таңба",
        "Не менее 10 символов",
        "At least 10 characters",
    ),
    (
        "per_page",
        "Беттегі жазбалар",
        "Записей на странице",
        "Per page",
    ),
    ("person", "Тұлға", "Лицо", "Person"),
    ("print", "Басып шығару", "Печать", "Print"),
    ("queue", "Кезек", "Очередь", "Queue"),
    ("reason", "Себебі", "Причина", "Reason"),
    ("receipt", "Қолхат", "Расписка", "Receipt"),
    ("receive", "Қабылдап алу", "Принять реестр", "Receive"),
    (
        "receiver_iin",
        "Алушының ЖСН",
        "ИИН получателя",
        "Receiver's IIN",
    ),
    ("records", "Жазбалар", "Записей", "Records"),
    ("refuse", "Бас тарту", "Отказать", "Refuse"),
    ("registration", "Тіркеу", "Регистрация", "Registration"),
    ("registries", "Тізілімдер", "Реестры", "Registries"),
    (
        "representative",
        "Өкіл (сенімхат)",
        "Представитель (доверенность)",
        "Representative (power of attorney)",
    ),
    ("reset", "Тазарту", "Сбросить", "Reset"),
    (
        "return",
        "Түзетуге қайтару",
        "Вернуть на доработку",
        "Return for correction",
    ),
    ("role", "Рөлі", "Роль", "Role"),
    (
        "role_administrator",
        "Әкімші",
        "Администратор",
        "Administrator",
    ),
    ("role_auditor", "Аудитор", "Аудитор", "Auditor"),
    (
        "role_central_officer",
        "Орталық аппарат қызметкері",
        "Сотрудник центрального аппарата",
        "Central officer",
    ),
    ("role_citizen", "Азамат", "Гражданин", "Citizen"),
    (
        "role_counter_operator",
        "ХҚКО операторы",
        "Оператор ЦОН",
        "Counter operator",
    ),
    (
        "role_district_officer",
        "Аудандық бөлім қызметкері",
        "Сотрудник районного подразделения",
        "District officer",
    ),
    (
        "role_production_operator",
        "Өндіріс операторы",
        "Оператор производства",
        "Production operator",
    ),
    (
        "role_regional_officer",
        "Облыстық басқарма қызметкері",
        "Сотрудник областного управления",
        "Regional officer",
    ),
    (
        "role_supervisor",
        "Бақылаушы",
        "Контролёр сроков",
        "Supervisor",
    ),
    ("role_system", "Жүйе", "Система", "System"),
    ("send", "Жіберу", "Отправить", "Send"),
    ("service", "Қызмет", "Услуга", "Service"),
    ("sign", "Қол қою", "Подписать", "Sign"),
    ("st_annulled", "Күші жойылған", "Аннулировано", "Annulled"),
    ("st_in_progress", "Орындалуда", "В работе", "In progress"),
    (
        "st_in_transit",
        "Жолда (тізілімде)",
        "В пути (в реестре)",
        "In transit (in a registry)",
    ),
    (
        "st_intake_refused",
        "Қабылдаудан бас тартылған",
        "Отказано в приёме",
        "Refused at intake",
    ),
    ("st_issued", "Берілді", "Выдано", "Issued"),
    ("st_refused", "Бас тартылған", "Отказано", "Refused"),
    (
        "staff_login",
        "Қызметкердің кіруі",
        "Вход сотрудника",
        "Staff sign-in",
    ),
    ("status", "Мәртебесі", "Статус", "Status"),
    ("step", "Қадам", "Шаг", "Step"),
    ("subject", "Нысан", "Объект", "Subject"),
    (
        "submit_application",
        "Өтінішті жіберу",
        "Подать заявление",
        "Submit the application",
    ),
    (
        "supervision",
        "Мерзімдерді бақылау",
        "Контроль сроков",
        "Deadline supervision",
    ),
    ("talon", "Талон", "Талон", "Talon"),
    ("time", "Уақыты", "Время", "Time"),
    ("timeline", "Өтініш тарихы", "История заявления", "Timeline"),
    ("to_date", "Аяқталу күні", "По дату", "To"),
    ("to_step", "Қай қадамға", "На шаг", "To step"),
    ("total", "Барлығы", "Всего", "Total"),
    ("unit", "Бөлімше", "Подразделение", "Unit"),
    ("units", "Бөлімшелер", "Подразделения", "Units"),
    ("urgency", "Шұғылдық", "Срочность", "Urgency"),
    (
        "urgency_general",
        "Жалпы тәртіп",
        "Общий порядок",
        "General order",
    ),
    (
        "user_created",
        "Пайдаланушы құрылды",
        "Пользователь создан",
        "User created",
    ),
    (
        "user_deactivated",
        "Пайдаланушы өшірілді",
        "Пользователь деактивирован",
        "User deactivated",
    ),
    (
        "username",
        "Пайдаланушы аты",
        "Имя пользователя",
        "Username",
    ),
    (
        "username_hint",
        "3–64 таңба: кіші латын әріптері, цифрлар, «.», «_», «-»",
        "3–64 символа: строчные латинские буквы, цифры, «.», «_», «-»",
        "3–64 characters: lower-case Latin letters, digits, '.', '_', '-'",
    ),
    ("users", "Пайдаланушылар", "Пользователи", "Users"),
    ("version", "Нұсқа (акт)", "Версия (акт)", "Version (act)"),
    (
        "waiting_registry",
        "Тізілімге күтуде",
        "Ожидают реестра",
        "Waiting for a registry",
    ),
    ("working_day", "Жұмыс күні", "Рабочий день", "Working day"),
    ("workstation", "Жұмыс орны", "Рабочее место", "Workstation"),
    ("year", "Жыл", "Год", "Year"),
    (
        "years",
        "Күнтізбе жылдары",
        "Годы календаря",
        "Calendar years",
    ),
];

/// The word for `key` in `lang`; the key itself when missing (a test checks none is).
pub fn t(lang: Lang, key: &str) -> &'static str {
    match WORDS.binary_search_by(|(k, ..)| (*k).cmp(key)) {
        Ok(i) => {
            let (_, kk, ru, en) = WORDS[i];
            match lang {
                Lang::Kk => kk,
                Lang::Ru => ru,
                Lang::En => en,
            }
        }
        Err(_) => "?",
    }
}

/// A label for a code of a kind (`ev_`, `st_`, `role_` keys), the code itself when unknown.
pub fn label(lang: Lang, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    if has(&key) {
        t(lang, &key).to_string()
    } else {
        code.to_string()
    }
}

/// Every key, for the templates' test.
pub fn has(key: &str) -> bool {
    WORDS.binary_search_by(|(k, ..)| (*k).cmp(key)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_complete() {
        for w in WORDS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
        for (k, kk, ru, en) in WORDS {
            assert!(!kk.is_empty() && !ru.is_empty() && !en.is_empty(), "{k}");
        }
        assert_eq!(t(Lang::Kk, "login"), "Кіру");
        assert_eq!(t(Lang::En, "nope"), "?");
    }

    /// Every `tr.t("key")` in the templates has a translation.
    #[test]
    fn templates_use_known_keys() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let text = std::fs::read_to_string(&p).unwrap();
            for part in text.split("tr.t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert!(has(key), "{}: unknown key {key}", p.display());
            }
        }
    }
}
