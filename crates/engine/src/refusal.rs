//! Why the engine refuses a request, as a structured reason carried by
//! [`EngineError::Forbidden`](crate::EngineError) and [`EngineError::Invalid`](crate::EngineError)
//! (issue 29): a known kind ([`Refusal`], said in Kazakh, Russian and English here, once),
//! or a sentence built in the three languages where the refusal is made (it carries data: a
//! step, a unit, a number), or, for the operators' tools only (the CLI's demo, scale and
//! simulation checks, parsing of stored codes), an English note that a kk/ru page does not
//! show. The server turns each into the user's language through
//! [`EngineError::message`](crate::EngineError::message); nothing is looked up by English text.

use drn_core::{Lang, Text};

macro_rules! refusals {
    ($( $(#[$m:meta])* $v:ident => $en:literal, $kk:literal, $ru:literal; )*) => {
        /// A kind of refusal a user can meet, with its words in the three languages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Refusal { $( $(#[$m])* $v, )* }

        impl Refusal {
            /// Every kind (the test that each reads in Kazakh and Russian iterates them).
            pub const ALL: &'static [Refusal] = &[$(Refusal::$v),*];

            /// The kind's name (how a serde error carries it: [`Refusal::in_message`]).
            pub fn code(self) -> &'static str {
                match self { $(Refusal::$v => stringify!($v)),* }
            }

            /// The reason in `lang`.
            pub fn say(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $( (Refusal::$v, Lang::Kk) => $kk,
                       (Refusal::$v, Lang::Ru) => $ru,
                       (Refusal::$v, Lang::En) => $en, )*
                }
            }
        }
    };
}

refusals! {
    /// Seed 000 para 5 and the S1E rule: the result only to the applicant.
    InPersonOnly => "this result is issued to the applicant in person only",
        "нәтиже өтініш берушінің өзіне ғана беріледі", "результат выдаётся только лично заявителю";
    ReceiverNotApplicant => "the receiver is not the applicant",
        "алушы өтініш беруші емес", "получатель не является заявителем";
    RepresentativeNeeded => "the representative's IIN and their authority document are required",
        "өкілдің ЖСН-і мен сенімхаты керек", "нужны ИИН представителя и документ о его полномочиях";
    AuthorityTooLong => "the authority document is at most 300 characters",
        "сенімхат 300 таңбадан аспауы керек", "документ о полномочиях — не более 300 символов";
    SurnameAndNameRequired => "surname and given name are required",
        "тегі мен аты толтырылуы керек", "нужно указать фамилию и имя";
    PassportNumberForm => "the passport number is 5 to 20 letters and digits",
        "паспорт нөмірі 5-20 әріп пен цифрдан тұрады", "номер паспорта: от 5 до 20 латинских букв и цифр";
    CitizenshipCode => "citizenship is a 2- or 3-letter country code",
        "азаматтығы елдің 2 немесе 3 әріпті коды", "гражданство: двух- или трёхбуквенный код страны";
    CitizenshipIso => "citizenship is not an ISO 3166-1 country code (alpha-3, e.g. RUS, CHN, DEU)",
        "азаматтығы елдің үш әріпті коды емес (мысалы, RUS, CHN, DEU)", "гражданство — не трёхбуквенный код страны (например, RUS, CHN, DEU)";
    BirthAfterIntake => "the birth date is after the day of intake",
        "туған күні қабылдау күнінен кейін", "дата рождения позже дня приёма";
    BirthTooEarly => "the birth date gives an implausible age",
        "туған күні бойынша жасы шындыққа сәйкес емес", "по дате рождения получается невозможный возраст";
    ForForeignersOnly => "this service is for foreigners",
        "бұл қызмет шетелдіктерге арналған", "эта услуга для иностранцев";
    NoUnit => "you have no unit",
        "сіз бөлімшеге тіркелмегенсіз", "вы не прикреплены к подразделению";
    OwnerIinRequired => "the dwelling owner's IIN",
        "тұрғын үй меншік иесінің ЖСН-і керек", "нужен ИИН собственника жилища";
    StayEndsAfterToday => "the last day of the stay is a day after today",
        "болудың соңғы күні бүгіннен кейінгі күн болуы керек", "последний день пребывания должен быть позже сегодняшнего";
    TemporaryAtMostAYear => "a temporary registration is for at most a year from today",
        "уақытша тіркеу бүгіннен бастап бір жылдан аспайды", "временная регистрация — не более чем на год со дня обращения";
    StayEndRequired => "the last day of the temporary stay",
        "уақытша болудың соңғы күні керек", "нужен последний день временного пребывания";
    CourtDecisionRequired => "the court decision (number and date) on the dwelling owner's application",
        "меншік иесінің өтініші бойынша сот шешімі (нөмірі мен күні) керек", "нужно решение суда (номер и дата) по заявлению собственника";
    BorderZoneRequired => "the border zone (settlement or section) to enter",
        "кіретін шекаралық аймақ (елді мекен немесе учаске) керек", "нужна пограничная зона (населённый пункт или участок) для въезда";
    RkaRequired => "the address's code (РКА)",
        "мекенжай коды (РКА) керек", "нужен код адреса (РКА)";
    NotADwelling => "the code is not an address of a dwelling in the register",
        "бұл код тізілімдегі тұрғын үйдің мекенжайы емес", "этот код — не адрес жилища в регистре";
    NotInRegister => "the code is not in the address register",
        "бұл код мекенжай тізілімінде жоқ", "этого кода нет в адресном регистре";
    LegalEntityRkaRequired => "the legal entity's address (РКА) to certify",
        "заңды тұлғаның мекенжайы (РКА) керек", "нужен адрес (РКА) юридического лица";
    AddressFromRegister => "the address is taken from the register: send its code (data.rka)",
        "мекенжай тізілімнен алынады: оның кодын (РКА) көрсетіңіз", "адрес берётся из регистра: укажите его код (РКА)";
    NotRegisteredAtResidence => "the person is not registered at a place of residence",
        "адам тұрғылықты жері бойынша тіркелмеген", "лицо не зарегистрировано по месту жительства";
    InRegistryInTransit => "the application is in a registry on its way to the next unit",
        "өтініш келесі бөлімшеге жолдағы тізілімде", "заявление в реестре, направленном в следующее подразделение";
    LastStepIssue => "this is the last step: issue the result",
        "бұл соңғы қадам: нәтижені беріңіз", "это последний шаг: выдайте результат";
    CorrectionReasonRequired => "say what is to be corrected (at least 5 characters)",
        "нені түзету керектігін жазыңыз (кемінде 5 таңба)", "укажите, что исправить (не менее 5 символов)";
    AddressMismatchNoCertificate => "the address data do not match the register: the certificate cannot be issued",
        "мекенжай деректері тізілімге сәйкес емес: анықтама берілмейді", "адресные данные не совпадают с регистром: справка не может быть выдана";
    AddressMismatchOnPortal => "the address data do not match the register: the certificate cannot be issued through the portal; at a State Corporation counter the migration service corrects the address and the certificate is issued",
        "мекенжай деректері тізілімге сәйкес емес: анықтама портал арқылы берілмейді; ХҚКО-ға жүгініңіз, көші-қон қызметі мекенжайды түзетеді және анықтама беріледі", "адресные данные не совпадают с регистром: через портал справка не может быть выдана; обратитесь в ЦОН, миграционная служба исправит адрес и справка будет выдана";
    AddressMismatchReturnOrRefuse => "the address data do not match the register: return the application to the district for correction, or refuse",
        "мекенжай деректері тізілімге сәйкес емес: өтінішті түзетуге ауданға қайтарыңыз немесе бас тартыңыз", "адресные данные не совпадают с регистром: верните заявление в район на исправление или откажите";
    ChipAtCounter => "the chip is rewritten at a counter",
        "чип ХҚКО-да қайта жазылады", "чип перезаписывается в ЦОН";
    StatusAtCounter => "the status is given at a counter",
        "мәртебе ХҚКО-да беріледі", "статус выдаётся в ЦОН";
    SearchForStaff => "the search is for staff",
        "іздеу қызметкерлерге арналған", "поиск только для сотрудников";
    NameRequired => "the name is required",
        "аты-жөні толтырылуы керек", "нужно указать фамилию и имя";
    NameTooLong => "the name is longer than 60 characters",
        "60 таңбадан ұзын", "длиннее 60 символов";
    NameLetters => "a name holds only letters (Kazakh, Russian, Latin), hyphens, apostrophes and spaces",
        "тек әріптер (қазақ, орыс, латын), дефис, апостроф және бос орын болуы мүмкін", "допускаются только буквы (казахские, русские, латинские), дефис, апостроф и пробел";
    NameBeginsWithLetter => "a name begins with a letter",
        "әріптен басталуы керек", "должно начинаться с буквы";
    ReasonTooLong => "a motivated reason is at most 1000 characters",
        "дәлелді себеп 1000 таңбадан аспауы керек", "мотивированная причина — не более 1000 символов";
    ReasonRequired => "a motivated reason is required (at least 5 characters)",
        "дәлелді себеп керек (кемінде 5 таңба)", "нужна мотивированная причина (не менее 5 символов)";
    MissingDocumentsBound => "at most 10 missing documents, each at most 300 characters",
        "жетіспейтін құжаттар 10-нан аспауы керек, әрқайсысы 300 таңбадан аспауы керек", "не более 10 недостающих документов, каждый не более 300 символов";
    TextTooLong => "at most 300 characters",
        "300 таңбадан аспауы керек", "не более 300 символов";
    IinForm => "an IIN is 12 digits with a valid check digit",
        "ЖСН бақылау цифры дұрыс 12 цифрдан тұрады", "ИИН — 12 цифр с верной контрольной цифрой";
    BinForm => "a BIN is 12 digits with a valid check digit",
        "БСН бақылау цифры дұрыс 12 цифрдан тұрады", "БИН — 12 цифр с верной контрольной цифрой";
    DateForm => "a date as YYYY-MM-DD",
        "күні ЖЖЖЖ-АА-КК түрінде", "дата в виде ГГГГ-ММ-ДД";
    OnlyApplicantStep => "only the applicant performs this step",
        "бұл қадамды өтініш берушінің өзі орындайды", "этот шаг выполняет только заявитель";
    HeldByAnotherUnit => "the application is held by another unit, not yours",
        "өтініш басқа бөлімшеде, сіздікінде емес", "заявление находится в другом подразделении, не в вашем";
    NotYourRole => "this step is done by another role than yours",
        "бұл қадамды басқа рөлдегі қызметкер орындайды", "этот шаг выполняет сотрудник другой роли";
    ArrivalRecorded => "the applicant's arrival is already recorded",
        "өтініш берушінің келгені тіркеліп қойған", "явка заявителя уже отмечена";
    PassesByRegistry => "this step passes the application to the next unit by a registry: form, sign and send one",
        "бұл қадамда өтініш келесі бөлімшеге тізілім арқылы беріледі: тізілімді жасап, қол қойып, жіберіңіз", "на этом шаге заявление передаётся в следующее подразделение реестром: сформируйте, подпишите и отправьте его";
    NotAnEarlierStep => "the step to return to is not an earlier step of this application",
        "қайтаратын қадам осы өтініштің алдыңғы қадамы емес", "шаг для возврата — не предыдущий шаг этого заявления";
    NothingWaitsAtStep => "no applications wait at your unit at this step",
        "бұл қадамда бөлімшеңізде күтіп тұрған өтініш жоқ", "на этом шаге в вашем подразделении нет ожидающих заявлений";
    RegistryWrongState => "the registry is not in the state this action needs",
        "тізілім бұл әрекет үшін қажетті күйде емес", "реестр не в том состоянии, которое нужно для этого действия";
    IncomingNumberForm => "the incoming number is 1 to 64 characters",
        "кіріс нөмірі 1-64 таңба", "входящий номер — от 1 до 64 символов";
    QueuesForStaff => "queues are for staff",
        "кезектер қызметкерлерге арналған", "очереди только для сотрудников";
    NameYourUnit => "name your unit",
        "бөлімшеңізді көрсетіңіз", "укажите своё подразделение";
    OwnApplicationsOnly => "only your own applications",
        "тек өз өтініштеріңіз", "только свои заявления";
    OwnTasksOnly => "only your own tasks",
        "тек өз тапсырмаларыңыз", "только свои задачи";
    OwnDocumentsOnly => "only your own documents",
        "тек өз құжаттарыңыз", "только свои документы";
    JournalsForStaff => "journals are for staff",
        "журналдар қызметкерлерге арналған", "журналы только для сотрудников";
    UnitOfYourArea => "name a unit of your own area",
        "өз аумағыңыздағы бөлімшені көрсетіңіз", "укажите подразделение своей территории";
    UnitNotInArea => "the unit is not in your area",
        "бөлімше сіздің аумағыңызда емес", "подразделение не на вашей территории";
    SupervisionForSupervisors => "supervision is for supervisors",
        "бақылау бақылаушыларға арналған", "контроль только для контролирующих сотрудников";
    AuditForAuditors => "the audit log is for auditors and administrators",
        "аудит журналы аудиторлар мен әкімшілерге арналған", "журнал аудита только для аудиторов и администраторов";
    UsersForAdministrators => "the user list is for administrators",
        "пайдаланушылар тізімі әкімшілерге арналған", "список пользователей только для администраторов";
    SpecialRecordsAtCentre => "special records are kept by the centre",
        "арнайы есептерді орталық жүргізеді", "специальные учёты ведёт центр";
    CalendarForAdministrators => "only an administrator changes the calendar",
        "күнтізбені тек әкімші өзгертеді", "календарь меняет только администратор";
    CiteTheAct => "cite the decree or order (at least 5 characters)",
        "жарлықты немесе бұйрықты көрсетіңіз (кемінде 5 таңба)", "укажите указ или приказ (не менее 5 символов)";
    DateRangeReversed => "the end of the period is before its start",
        "кезеңнің соңы басынан бұрын", "конец периода раньше начала";
    UnitsForAdministrators => "only an administrator creates units",
        "бөлімшелерді тек әкімші құрады", "подразделения создаёт только администратор";
    UsersByAdministrators => "only an administrator creates users",
        "пайдаланушыларды тек әкімші құрады", "пользователей создаёт только администратор";
    StaffRecordsByAdministrator => "only an administrator changes staff records",
        "қызметкерлердің жазбаларын тек әкімші өзгертеді", "учётные записи сотрудников меняет только администратор";
    UnitNameInThreeLanguages => "a unit needs its name in kk, ru and en",
        "бөлімшенің атауы үш тілде керек", "нужно название подразделения на трёх языках";
    UsernameTaken => "the username is taken",
        "бұл пайдаланушы аты бос емес", "это имя пользователя уже занято";
    ReviewByRegion => "the regional directorate reviews online applications",
        "онлайн өтінімдерді өңірлік басқарма қарайды", "онлайн-заявки рассматривает региональное управление";
    PilotByAdministrator => "only an administrator extends the pilot's period",
        "пилоттық жобаның мерзімін тек әкімші ұзартады", "срок пилотного проекта продлевает только администратор";
    CiteThePilotAct => "cite the act that extends the pilot (at least 5 characters)",
        "пилоттық жобаны ұзартатын актіні көрсетіңіз (кемінде 5 таңба)", "укажите акт о продлении пилотного проекта (не менее 5 символов)";
    PilotHasNoEnd => "the pilot's version has no end in the catalog",
        "пилоттық жобаның нұсқасында аяқталу күні жоқ", "у версии пилотного проекта нет даты окончания";
    PilotAlreadyRuns => "the pilot already runs to that day: extend it past it",
        "пилоттық жоба бұл күнге дейін жүріп тұр: одан кейінгі күнге ұзартыңыз", "пилотный проект уже действует до этого дня: продлите позже";
    CitizenAppliesOnline => "only the citizen applies online",
        "онлайн өтінішті азаматтың өзі береді", "онлайн подаёт заявление только сам гражданин";
    RenewalInProgress => "you already have an online renewal of your ID card in progress: wait for its result",
        "жеке куәлікті онлайн ауыстыру өтінішіңіз қаралуда: нәтижесін күтіңіз", "у вас уже есть заявка на онлайн-замену удостоверения: дождитесь её результата";
    IdCardApplicationInProgress => "you already have an application for a new ID card in progress: wait for its result",
        "жаңа жеке куәлікке өтінішіңіз қаралуда: нәтижесін күтіңіз", "у вас уже есть заявление на новое удостоверение личности: дождитесь его результата";
    RenewalNotRetrying => "the renewal is not waiting for a retry",
        "өтінім қайталауды күтіп тұрған жоқ", "заявка не ожидает повтора";
    RenewalNotAwaitingPayment => "the renewal is not awaiting payment",
        "өтінім төлемді күтіп тұрған жоқ", "заявка не ожидает оплаты";
    NoSandboxInvoice => "no sandbox invoice to pay: pay through your bank",
        "төлейтін шот жоқ: банк арқылы төлеңіз", "нет счёта для оплаты: оплатите через банк";
    OnlineNotConfigured => "the online renewal has no state systems configured",
        "онлайн ауыстыру үшін мемлекеттік жүйелер қосылмаған", "для онлайн-замены не подключены государственные системы";
    OnlyTheApplicant => "only the applicant",
        "тек өтініш беруші", "только заявитель";
    NotBase64 => "the file is not encoded as base64",
        "файл base64 түрінде кодталмаған", "файл не закодирован в base64";
    ConsentNumberRequired => "record the applicant's written consent (the signed form's number)",
        "өтініш берушінің жазбаша келісімін (қол қойылған нысанның нөмірін) жазыңыз", "укажите письменное согласие заявителя (номер подписанной формы)";
    OnlyS9WithoutIin => "only the IIN for foreigners (S9) is applied for without an IIN",
        "ЖСН-сіз тек шетелдіктерге ЖСН беру (S9) қызметіне өтініш беріледі", "без ИИН принимается только заявление на ИИН для иностранцев (S9)";
    AddressRegisterForStaff => "the address register is for the services' staff",
        "мекенжай тізілімі қызмет көрсететін қызметкерлерге арналған", "адресный регистр только для сотрудников, оказывающих услуги";
    AddressRegisterBySystem => "only the system loads the address register",
        "мекенжай тізілімін тек жүйе жүктейді", "адресный регистр загружает только система";
    AddressesByDistricts => "addresses are kept by the districts",
        "мекенжайларды аудандар жүргізеді", "адреса ведут районы";
    SearchQueryLength => "2 to 200 characters",
        "2-200 таңба", "от 2 до 200 символов";
    JournalsForUnitStaff => "journals are for staff of a unit",
        "журналдар бөлімше қызметкерлеріне арналған", "журналы только для сотрудников подразделения";
    CheckAddressFirst => "check the address data against the register first",
        "алдымен мекенжай деректерін тізіліммен тексеріңіз", "сначала проверьте адресные данные по регистру";
    CheckSpecialRecordsFirst => "check against the special records first",
        "алдымен арнайы есептер бойынша тексеріңіз", "сначала проверьте по специальным учётам";
    SpecialRecordsGround => "the special records show a ground to refuse: refuse with a motivated refusal",
        "арнайы есептерде бас тарту негізі бар: дәлелді бас тартумен бас тартыңыз", "по специальным учётам есть основание для отказа: откажите мотивированным отказом";
    CheckWantedFirst => "check against the wanted-persons database first",
        "алдымен іздестірудегі адамдар дерекқоры бойынша тексеріңіз", "сначала проверьте по базе лиц, находящихся в розыске";
    ApplicantWanted => "the applicant is in the wanted-persons database: refuse with a motivated refusal",
        "өтініш беруші іздестірудегі адамдар дерекқорында: дәлелді бас тартумен бас тартыңыз", "заявитель в базе лиц, находящихся в розыске: откажите мотивированным отказом";
    OwnRegistrationsOnly => "only your own registrations",
        "тек өз тіркеулеріңіз", "только свои регистрации";
    PortalOrMobile => "portal or mobile",
        "портал немесе мобильді қосымша", "портал или мобильное приложение";
    NotEstablishedFrom2018 => "the status \"not established at a place of residence\" exists from 2018",
        "«тұрғылықты жері белгіленбеген» мәртебесі 2018 жылдан бар", "статус «не установлено место жительства» существует с 2018 года";
    CorrectedRkaRequired => "name the corrected address's registration code (РКА)",
        "түзетілген мекенжайдың тіркеу кодын (РКА) көрсетіңіз", "укажите регистрационный код (РКА) исправленного адреса";
    UnitNotYours => "the unit is not yours",
        "бұл бөлімше сіздікі емес", "это не ваше подразделение";
    CannotEndHere => "your role cannot end this application at this step",
        "сіздің рөліңіз бұл өтінішті осы қадамда аяқтай алмайды", "ваша роль не может завершить это заявление на этом шаге";
    NotAnIdentifier => "the value is not a valid identifier",
        "мән жарамды идентификатор емес", "значение не является допустимым идентификатором";
    NotRegisteredForService => "the service is given at the place of registration, and the person has no registration on record: register first",
        "қызмет тіркелген жері бойынша көрсетіледі, ал адамның тіркеуі жоқ: алдымен тіркеліңіз", "услуга оказывается по месту регистрации, а у лица нет регистрации: сначала зарегистрируйтесь";
    GroundRequired => "the ground of deregistration",
        "тіркеуден шығару негізі керек", "нужно основание снятия с регистрации";
    GroundNotOfVersion => "not a ground of deregistration under the rules in force",
        "қолданыстағы қағидалар бойынша тіркеуден шығару негізі емес", "не является основанием снятия с регистрации по действующим правилам";
    StepHasNoCheck => "this step has no check",
        "бұл қадамда тексеру жоқ", "на этом шаге нет проверки";
    NotProvidedThroughChannel => "the service is not provided through this channel",
        "қызмет бұл арна арқылы көрсетілмейді", "услуга не оказывается по этому каналу";
    NoUrgency => "the service has no such urgency",
        "қызметте мұндай шұғылдық жоқ", "у услуги нет такой срочности";
    ChecklistMismatch => "the documents presented do not match the checklist",
        "ұсынылған құжаттар тізбеге сәйкес емес", "представленные документы не соответствуют перечню";
    NotACounter => "the unit is not a State Corporation counter",
        "бөлімше Мемлекеттік корпорацияның ХҚКО-сы емес", "подразделение не является ЦОН Государственной корпорации";
    ChannelNotForRole => "your role does not accept through this channel",
        "сіздің рөліңіз бұл арна арқылы қабылдамайды", "ваша роль не принимает заявления по этому каналу";
    UnitRequired => "the unit is required",
        "бөлімше керек", "нужно указать подразделение";
    NoSuchStep => "the process has no such step",
        "үдерісте мұндай қадам жоқ", "в процессе нет такого шага";
    ProcessNotInCatalog => "the process is not in the catalog",
        "бұл үдеріс каталогта жоқ", "этого процесса нет в каталоге";
    OnlyRoleOfUnit => "only the role and unit the step names can do this",
        "мұны тек қадамда көрсетілген рөл мен бөлімше жасай алады", "это может сделать только указанная для шага роль подразделения";
    DeactivateByAdministrator => "only an administrator deactivates users",
        "пайдаланушыларды тек әкімші өшіреді", "пользователей отключает только администратор";
    CannotDeactivateSelf => "you cannot deactivate yourself",
        "өзіңізді өшіре алмайсыз", "нельзя отключить самого себя";
    PersonsBySystem => "only the system loads persons",
        "адамдарды тек жүйе жүктейді", "сведения о лицах загружает только система";
    RangeAtMost366 => "a range of at most 366 days",
        "кезең 366 күннен аспауы керек", "период не более 366 дней";
    DateOutOfRange => "the date is outside the calendar's range",
        "күні күнтізбе шегінен тыс", "дата вне допустимого диапазона";
    AddressNotActive => "the code is not an active address",
        "бұл код қолданыстағы мекенжай емес", "этот код — не действующий адрес";
    IinCannotBeFormed => "an IIN cannot be formed for this birth date and sex",
        "бұл туған күн мен жыныс үшін ЖСН қалыптастыру мүмкін емес", "для этой даты рождения и пола ИИН сформировать нельзя";
    RegistrationKindForm => "permanent, temporary or not_established",
        "тіркеу түрі: тұрақты, уақытша немесе тұрғылықты жері белгіленбеген", "вид регистрации: постоянная, временная или без установленного места жительства";
    GroundForm => "abroad, court or prison",
        "тіркеуден шығару негізі: шетелге кету, сот шешімі немесе бас бостандығынан айыру", "основание снятия: выезд за рубеж, решение суда или лишение свободы";
    NoRegistryAtStep => "this step does not pass applications on by a registry",
        "бұл қадамда өтініштер тізіліммен берілмейді", "на этом шаге заявления не передаются реестром";
    ChooseIssueUnit => "choose the unit where the result will be issued",
        "нәтиже берілетін бөлімшені таңдаңыз", "выберите подразделение, где будет выдан результат";
    ChooseCounter => "choose the State Corporation counter where you take the application in",
        "өтінішті қабылдайтын ХҚКО-ны таңдаңыз", "выберите ЦОН, где принимается заявление";
    RevocationReasonForm => "the reason of revocation, 5 to 500 characters",
        "кері қайтарып алу себебі 5-500 таңба", "причина отзыва — от 5 до 500 символов";
    RevokedByIssuer => "only the issuing unit or the central office revokes a document",
        "құжатты тек берген бөлімше немесе орталық аппарат кері қайтарып алады", "документ отзывает только выдавшее подразделение или центральный аппарат";
    AlreadyRevoked => "the document is already revoked",
        "құжат кері қайтарып алынған", "документ уже отозван";
    IdempotencyKeyForm => "the request key is 1 to 128 characters",
        "сұрау кілті 1-128 таңба", "ключ запроса — от 1 до 128 символов";
}

/// How a kind travels through a deserializer's error message (which carries text only).
const MARK: &str = "refusal:";

impl Refusal {
    /// The message a field's parser gives serde for this kind.
    pub fn as_message(self) -> String {
        format!("{MARK}{}", self.code())
    }

    /// The kind a deserializer's message carries (see [`Refusal::as_message`]).
    pub fn in_message(msg: &str) -> Option<Refusal> {
        let rest = &msg[msg.find(MARK)? + MARK.len()..];
        let code: String = rest
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        Refusal::ALL.iter().copied().find(|r| r.code() == code)
    }

    pub fn text(self) -> Text {
        Text::new(self.say(Lang::Kk), self.say(Lang::Ru), self.say(Lang::En))
    }
}

/// Why a request is refused or a value is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A known kind, said in [`Refusal`].
    Kind(Refusal),
    /// Said in the three languages where the refusal is made (it carries data).
    Said(Box<Text>),
    /// The operators' tools' own checks (CLI, simulation, stored codes), in English: a
    /// kk/ru page says the sentence around it only.
    Note(String),
}

impl Reason {
    /// The reason for the operators' tools, in English (see [`Reason::Note`]).
    pub fn note(s: impl Into<String>) -> Reason {
        Reason::Note(s.into())
    }

    /// The reason in `lang`; `None` for a note on a kk/ru page.
    pub fn say(&self, lang: Lang) -> Option<String> {
        match self {
            Reason::Kind(r) => Some(r.say(lang).to_string()),
            Reason::Said(t) => Some(t.get(lang).to_string()),
            Reason::Note(s) if lang == Lang::En => Some(s.clone()),
            Reason::Note(_) => None,
        }
    }

    pub fn en(&self) -> String {
        self.say(Lang::En).unwrap_or_default()
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en())
    }
}

impl From<Refusal> for Reason {
    fn from(r: Refusal) -> Reason {
        Reason::Kind(r)
    }
}

impl From<Text> for Reason {
    fn from(t: Text) -> Reason {
        Reason::Said(Box::new(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Latin words a kk/ru reason may hold: codes and formats a user types or reads as they
    /// are.
    const ALLOWED: &[&str] = &["RUS", "CHN", "DEU", "S9", "base64", "ID"];

    /// Every kind of refusal reads in Kazakh and in Russian, with no English words (issue 29).
    #[test]
    fn every_refusal_reads_in_kazakh_and_russian() {
        assert!(Refusal::ALL.len() > 50);
        for r in Refusal::ALL {
            for lang in [Lang::Kk, Lang::Ru] {
                let s = r.say(lang);
                assert!(!s.trim().is_empty(), "{r:?} has no {lang:?} text");
                assert_ne!(s, r.say(Lang::En), "{r:?}: {lang:?} is the English");
                for w in s.split(|c: char| !(c.is_alphanumeric() || c == '-')) {
                    let latin = w.chars().any(|c| c.is_ascii_alphabetic());
                    assert!(
                        !latin || ALLOWED.contains(&w),
                        "{r:?} in {lang:?}: Latin word {w:?} in {s:?}"
                    );
                }
            }
            assert!(!r.say(Lang::En).is_empty());
        }
    }

    #[test]
    fn a_note_stays_off_kazakh_and_russian_pages() {
        let n = Reason::note("the database has no counters");
        assert_eq!(n.say(Lang::Ru), None);
        assert_eq!(
            n.say(Lang::En).as_deref(),
            Some("the database has no counters")
        );
        assert_eq!(
            Reason::from(Refusal::NoUnit).say(Lang::Kk).as_deref(),
            Some("сіз бөлімшеге тіркелмегенсіз")
        );
        for r in Refusal::ALL {
            assert_eq!(Refusal::in_message(&r.as_message()), Some(*r));
        }
        assert_eq!(Refusal::in_message("invalid type: integer"), None);
    }
}
