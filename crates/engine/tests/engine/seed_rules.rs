//! Issue 30: rules as the seeds say them. Each test quotes the words of the seed it
//! follows (as `crates/core/tests/seed_rules.rs` does), and fails on the rule the code
//! applied before.

use drn_core::Iin;
use drn_engine::online_renewal::{self as orn, AnnulGround, RenewalStatus, Review};
use drn_engine::services::{AcceptForeigner, Foreigner};
use drn_engine::*;
use drn_registries::{ChangedField, InvoiceStatus, Port, ZagsChange};
use jiff::{SignedDuration, ToSpan};

use crate::online_renewal::pilot::{at_counter, pilot, Pilot};
use crate::support::*;

async fn put_record(p: &Pilot, iin: Iin, data: serde_json::Value) {
    let sp = p.person(iin);
    let person = Person {
        iin,
        surname: sp.surname,
        given_name: sp.given_name,
        patronymic: sp.patronymic,
        birth_date: sp.birth_date,
        sex: sp.sex,
        citizenship: "KZ".into(),
        data,
    };
    p.w.engine
        .put_persons(&Actor::system(), &[person])
        .await
        .unwrap();
}

/// Seed 001 п. 5 4): «Информацию о месте рождения отображать в ППО РП ДРН в соответствии
/// с поступающей от ИС ЗАГС информацией, либо историческую, хранящуюся в базе данных
/// документированного населения». A citizen born in Russia whom ИС ЗАГС does not know
/// gets the country DRN's record holds, not the country of citizenship (Kazakhstan).
async fn place_of_birth_from_the_record(url: &str) {
    let p = pilot(url).await;
    let h = p.cases.no_zags_birthplace.unwrap();
    put_record(
        &p,
        h,
        serde_json::json!({ "place_of_birth": {
            "country": "RU",
            "country_name": { "kk": "РЕСЕЙ", "ru": "РОССИЯ", "en": "RUSSIA" },
            "locality": "Омск"
        } }),
    )
    .await;
    let r = p.submit(p.request(h), h).await;
    assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
    let place = r.place_of_birth.unwrap();
    assert_eq!(
        (place.country.as_str(), place.source),
        ("RU", drn_registries::PlaceSource::Historical)
    );
    assert_eq!(place.country_name.ru, "РОССИЯ");
}

/// Seed 001 п. 3 step 5: «Проверка у Услугополучателя наличия перемены фамилии, имени,
/// отчества (при его наличии), даты рождения, национальности в ИС ЗАГС, в случае, если
/// имеется факт перемены … услугополучателю необходимо обратиться в ЦОН». No period is
/// set: a change of surname made before the current card was issued counts too.
async fn civil_status_change_before_the_card(url: &str) {
    let p = pilot(url).await;
    let s = p.spare[0];
    let mut sp = p.person(s);
    let issued = sp.id_card.as_ref().unwrap().issued;
    sp.zags_changes.push(ZagsChange {
        field: ChangedField::Surname,
        old: "Старова".into(),
        new: sp.surname.clone(),
        date: issued.checked_sub(1.year()).unwrap(),
        act_record: "АЗ-2014-77".into(),
    });
    p.sandbox.upsert(sp);
    let r = p.submit(p.request(s), s).await;
    at_counter(&r, 5);
    assert_eq!(r.checks.last().unwrap().detail["changes"][0], "surname");
}

/// Seed 001 п. 12: «В случаях выявления технических сбоев при оказании услуг более чем 10
/// минут, по причинам, связанным с работой систем ПЭП, мобильных приложений, БМГ,
/// биометрической идентификации, услугополучатель подает заявление … через ЦОН». The
/// payments are not among them: a payment outage of 12 minutes at step 15, after step 13
/// registered the application, keeps the session waiting for a retry (not sent to the
/// counter with its application left in progress), and the retry goes on with the same
/// application.
async fn outage_rule_only_for_the_named_systems(url: &str) {
    let p = pilot(url).await;
    let e = &p.w.engine;
    let iin = p.spare[1];
    let who = Actor::citizen(iin);
    p.sandbox
        .set_outage_for(Port::Payments, SignedDuration::from_mins(12));
    let r = p.submit(p.request(iin), iin).await;
    assert_eq!((r.status, r.step), (RenewalStatus::Retry, 15), "{r:?}");
    let app = r.application.clone().unwrap();
    p.w.clock.advance(SignedDuration::from_mins(11));
    let r = e.renewal_retry(&who, &r.id).await.unwrap();
    assert_eq!(
        (r.status, r.step),
        (RenewalStatus::Retry, 15),
        "a payments outage of 11 minutes does not send to the counter: {r:?}"
    );
    let a = e.application(&p.w.region, &app, "test").await.unwrap();
    assert_eq!((a.status, a.step), (Status::InProgress, 15));
    p.w.clock.advance(SignedDuration::from_mins(2));
    let r = e.renewal_retry(&who, &r.id).await.unwrap();
    assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
    assert_eq!(r.application.as_ref(), Some(&app), "no second application");
    // БМГ is named: its outage of more than 10 minutes still sends to the counter.
    let other = p.spare[2];
    p.sandbox
        .set_outage_for(Port::Bmg, SignedDuration::from_mins(12));
    let r = p.submit(p.request(other), other).await;
    assert_eq!((r.status, r.step), (RenewalStatus::Retry, 2), "{r:?}");
    p.w.clock.advance(SignedDuration::from_secs(10 * 60 + 30));
    let r = e
        .renewal_retry(&Actor::citizen(other), &r.id)
        .await
        .unwrap();
    at_counter(&r, 2);
}

/// Seed 001 п. 11: «В случае аннулировании заявки, по причине некачественного
/// фотоизображения или подписи, услугополучатель может оформить новую заявку, при этом
/// повторно оплачивает государственную пошлину. Ранее оплаченная государственная пошлина
/// возвращается». Annulled because the officer needs further checks: no refund, and no new
/// online application for the same card.
async fn refund_only_for_photo_or_signature(url: &str) {
    let p = pilot(url).await;
    let e = &p.w.engine;
    let iin = p.spare[0];
    let who = Actor::citizen(iin);
    let r = p.submit(p.request(iin), iin).await;
    let invoice = r.duty.as_ref().unwrap().invoice.clone().unwrap();
    let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
    let app = e
        .application(&p.w.region, r.application.as_ref().unwrap(), "test")
        .await
        .unwrap();
    e.renewal_review(
        &p.w.region,
        &app.id,
        &Review::Annul {
            revision: app.revision,
            ground: AnnulGround::FurtherChecks,
            reason: "нужна проверка по месту жительства".into(),
        },
    )
    .await
    .unwrap();
    let r = e.renewal(&who, &r.id).await.unwrap();
    assert_eq!(r.status, RenewalStatus::Annulled);
    assert_eq!(r.duty.as_ref().unwrap().status, "paid", "not refunded");
    let inv = drn_registries::Payments::invoice(&p.sandbox, invoice)
        .await
        .unwrap();
    assert_eq!(inv.status, InvoiceStatus::Paid);
    let why = r.reason.unwrap();
    assert!(
        why.ru.contains("дополнительных проверочных действий"),
        "{why:?}"
    );
    assert_eq!(why, orn::further_checks_text());
    // No new online application (and duty) for the same card: to the counter at step 7.
    let again = p.submit(p.request(iin), iin).await;
    at_counter(&again, 7);
    assert_eq!(again.reason.unwrap(), orn::further_checks_text());
}

on_both!(
    s1e_place_of_birth_from_the_persons_record,
    place_of_birth_from_the_record
);
on_both!(
    s1e_civil_status_change_before_the_card_counts,
    civil_status_change_before_the_card
);
on_both!(
    s1e_outage_rule_only_for_the_systems_para_12_names,
    outage_rule_only_for_the_named_systems
);
on_both!(
    s1e_refund_only_for_a_poor_photo_or_signature,
    refund_only_for_photo_or_signature
);

/// Seed 002 (S5, 2014) para 5: the district's officer takes part «көрсетілетін қызметті
/// алушының мекенжай мәліметтерін олар сәйкес келмегенін анықтау кезінде түзету» (correcting
/// the applicant's address data when they do not match). The correction changes the
/// address, not the day the person was registered on (2006-07-07 stays), and its event
/// records the address it replaced.
async fn s5_correction_keeps_the_registration_date(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    let other = Iin::parse("800416300257").unwrap();
    let mut person = e.person(&w.counter, &other, "test").await.unwrap();
    let old_address = person.data["registration"]["address"].clone();
    person.data["registration"]["since"] = serde_json::json!("2006-07-07");
    e.put_persons(&Actor::system(), &[person]).await.unwrap();
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S5",
            drn_core::Channel::Counter,
            other,
            serde_json::json!({}),
        ),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    let a = run(
        &w,
        &w.counter,
        Command::Return {
            application: a.id.clone(),
            revision: a.revision,
            to_step: 2,
            reason: "address data do not match".into(),
        },
    )
    .await;
    let Outcome::Application { application: a } =
        complete_note(&w, &w.district, &a, &format!("RKA {}", rka[5]))
            .await
            .unwrap()
    else {
        panic!()
    };
    let regs = e.registrations(&w.counter, &other).await.unwrap();
    let open: Vec<_> = regs.iter().filter(|r| r.ended_at.is_none()).collect();
    assert_eq!(open.len(), 1, "{regs:?}");
    assert_eq!(open[0].rka.as_deref(), Some(rka[5].as_str()));
    assert_eq!(
        open[0]
            .valid_from
            .to_zoned(drn_core::kz_tz().unwrap())
            .date(),
        jiff::civil::date(2006, 7, 7),
        "the registration date is kept"
    );
    let rec = e.person(&w.counter, &other, "test").await.unwrap();
    assert_eq!(rec.data["registration"]["since"], "2006-07-07");
    let tl = e.timeline(&w.centre, &a.id).await.unwrap();
    let corrected = tl
        .iter()
        .find(|ev| ev.kind == EventKind::AddressCorrected)
        .unwrap();
    assert_eq!(corrected.data["was"]["address"], old_address);
    assert_eq!(corrected.data["was"]["registered"], "2006-07-07");
    assert_eq!(corrected.data["rka"], rka[5].as_str());
    let a = check(&w, &w.counter, &a).await;
    issue_to(&w, &w.counter, &a, other).await.unwrap();
}

on_both!(
    s5_correction_keeps_the_date_and_records_the_old_address,
    s5_correction_keeps_the_registration_date
);

fn refused_by(e: &EngineError, outcome: &str) -> bool {
    matches!(e, EngineError::RuleRefused { outcome: o, .. } if *o == outcome)
}

/// Seed 002 (order 165, 2014) para 6: «көрсетілетін қызметті алушы www.egov.kz «электрондық
/// үкімет» веб-порталы … арқылы жеке басын куәландыратын құжатты, құжат дайындаудың жаңа
/// технологиясына сәйкес олардың түрлерінің өзгеруіне байланысты ауыстыру кезінде жүзеге
/// асырылады». Through the 2014 portal only that replacement; 2018 (order 55) does not
/// restate it.
async fn s1_2014_portal_only_for_a_type_change(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let citizen = Actor::citizen(w.applicant);
    let req =
        |data: serde_json::Value| accept_cmd("S1", drn_core::Channel::Portal, w.applicant, data);
    for data in [
        serde_json::json!({ "unit": "C71-1" }),
        serde_json::json!({ "unit": "C71-1", "reason": "other" }),
    ] {
        let e = run_err(&w, &citizen, req(data)).await;
        assert!(refused_by(&e, "portal_only_type_change"), "{e:?}");
        assert_eq!(e.code(), "forbidden");
        assert!(e.message(drn_core::Lang::Ru).contains("новой технологией"));
        assert!(e
            .message(drn_core::Lang::Kk)
            .contains("жаңа технологиясына"));
    }
    let a = run(
        &w,
        &citizen,
        req(serde_json::json!({ "unit": "C71-1", "reason": "document_type_change" })),
    )
    .await;
    assert_eq!(a.status, Status::InProgress);
}

/// 2018 (order 55) does not restate seed 002 para 6: any reason through the portal.
async fn s1_2018_portal_any_reason(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let citizen = Actor::citizen(w.applicant);
    let a = run(
        &w,
        &citizen,
        accept_cmd(
            "S1",
            drn_core::Channel::Portal,
            w.applicant,
            serde_json::json!({ "unit": "C71-1", "reason": "other" }),
        ),
    )
    .await;
    assert_eq!(a.status, Status::InProgress);
}

on_both!(
    s1_2014_portal_only_for_a_change_of_document_type,
    s1_2014_portal_only_for_a_type_change
);
on_both!(s1_2018_portal_takes_any_reason, s1_2018_portal_any_reason);

/// Seed 002 (2014), S3 para 5: the State Corporation's worker takes «тұрғын үй иесiнiң
/// жеке куәлігі және … оның тұрақты не уақытша тiркеуге оның келiсiмiн» (the dwelling
/// owner's ID card and their consent), and para 6: «электрондық жеткізгіші бар жеке
/// куәлігі бар болғанда – www.egov.kz … Портал арқылы» (the portal with a chip ID card).
/// Order 55 (2018) restates neither: they apply to 2014 only, and the consent is real: the
/// owner's ID card in force, by its number ("123" was accepted before).
async fn s3_rules_by_version(url: &str) {
    let w = world(url, "2014-06-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    let owner = Iin::parse("760212350620").unwrap();
    let mut p = e.person(&w.counter, &owner, "test").await.unwrap();
    p.data["documents"] = serde_json::json!([{ "kind": "id_card", "number": "045678123", "issued": "2010-01-01", "expires": "2020-01-01" }]);
    e.put_persons(&Actor::system(), &[p]).await.unwrap();
    let s3 = |extra: serde_json::Value| {
        let mut d = serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": owner.to_string() });
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        accept_cmd("S3", drn_core::Channel::Counter, w.applicant, d)
    };
    for extra in [
        serde_json::json!({}),
        serde_json::json!({ "owner_consent": true, "owner_id_document": "123" }),
        serde_json::json!({ "owner_consent": false, "owner_id_document": "045678123" }),
    ] {
        let err = run_err(&w, &w.counter, s3(extra.clone())).await;
        assert!(
            refused_by(&err, "owner_consent_not_shown"),
            "{extra}: {err:?}"
        );
        assert!(err.message(drn_core::Lang::Ru).contains("собственника"));
    }
    // An owner with no ID card on record.
    let stranger = Iin::parse("680503450037").unwrap();
    let mut d = serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": stranger.to_string(), "owner_consent": true, "owner_id_document": "045678123" });
    let err = run_err(
        &w,
        &w.counter,
        accept_cmd("S3", drn_core::Channel::Counter, w.applicant, d.take()),
    )
    .await;
    assert!(refused_by(&err, "owner_consent_not_shown"), "{err:?}");
    // The right card and consent, but not the dwelling's owner in the address register.
    let good = serde_json::json!({ "owner_consent": true, "owner_id_document": "045678123" });
    let err = run_err(&w, &w.counter, s3(good.clone())).await;
    assert!(refused_by(&err, "owner_consent_not_shown"), "{err:?}");
    // The district records the owner of the building: its premises are theirs.
    let building = e
        .address(&w.counter, &rka[0])
        .await
        .unwrap()
        .parent
        .unwrap();
    assert_eq!(
        e.record_dwelling_owner(&w.counter, &building, &owner)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    e.record_dwelling_owner(&w.district, &building, &owner)
        .await
        .unwrap();
    let a = run(&w, &w.counter, s3(good)).await;
    assert_eq!((a.version.as_str(), a.status), ("2014", Status::InProgress));
    // 2014 portal without an ID card with a chip: refused with the rule.
    let citizen = Actor::citizen(stranger);
    let err = run_err(
        &w,
        &citizen,
        accept_cmd(
            "S3",
            drn_core::Channel::Portal,
            stranger,
            serde_json::json!({ "unit": "C71-1", "kind": "permanent", "rka": rka[2] }),
        ),
    )
    .await;
    assert!(refused_by(&err, "portal_needs_chip_card"), "{err:?}");
}

/// Order 55 (2018) restates neither S3 rule of 2014: no consent asked at the counter, the
/// portal without a chip card.
async fn s3_2018_without_the_2014_rules(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let rka = addresses(&w).await;
    let owner = Iin::parse("760212350620").unwrap();
    let a = run(
        &w,
        &w.district,
        accept_cmd(
            "S3",
            drn_core::Channel::Counter,
            w.applicant,
            at_c71(serde_json::json!({ "kind": "permanent", "rka": rka[0], "owner_iin": owner.to_string() })),
        ),
    )
    .await;
    assert_eq!(a.version, "2018");
    let who = Iin::parse("800416300257").unwrap();
    let a = run(
        &w,
        &Actor::citizen(who),
        accept_cmd(
            "S3",
            drn_core::Channel::Portal,
            who,
            serde_json::json!({ "unit": "C71-1", "kind": "permanent", "rka": rka[2] }),
        ),
    )
    .await;
    assert_eq!((a.version.as_str(), a.status), ("2018", Status::Issued));
}

on_both!(
    s3_chip_rule_and_owner_consent_only_where_the_text_states_them,
    s3_rules_by_version
);
on_both!(
    s3_2018_asks_no_consent_and_no_chip_card,
    s3_2018_without_the_2014_rules
);

fn foreigner(birth: &str, citizenship: &str, passport: &str) -> AcceptForeigner {
    AcceptForeigner {
        service: "S9".into(),
        channel: drn_core::Channel::Counter,
        urgency: drn_core::Urgency::General,
        foreigner: Foreigner {
            surname: "Ivanov".into(),
            given_name: "Petr".into(),
            birth_date: birth.parse().unwrap(),
            sex: drn_core::Sex::Male,
            citizenship: citizenship.into(),
            passport: passport.into(),
        },
        documents_presented: vec![],
        missing: vec![],
        data: serde_json::json!({}),
    }
}

/// Seed 004 para 6.3: «Өтінім өтініш иесінің айқындамалық деректеріне сәйкес келмеген
/// жағдайда немесе өтініш иесінде тіркелген ЖСН болған жағдайда оператор қате туралы тиісті
/// хабарламаны … қалыптастырады». Data no passport holds are refused at intake: a birth after
/// the day of intake (2030-01-01 gave IIN 300101500014), a citizenship that is no ISO 3166-1
/// country ("ZZZ"), an age past any living person's (1850). "Has an IIN" is known by the
/// identity document, not by a namesake.
async fn s9_data_and_the_registered_iin(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    for (birth, cit) in [
        ("2030-01-01", "RUS"),
        ("1990-05-17", "ZZZ"),
        ("1850-05-17", "RUS"),
    ] {
        let err = e
            .execute(
                &w.counter,
                &Command::AcceptForeigner(foreigner(birth, cit, "75AB12345")),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid", "{birth} {cit}: {err:?}");
    }
    // Alpha-2 is taken and held as alpha-3.
    let mut f = foreigner("1990-05-17", "ru", "75AB12345").foreigner;
    let sys = Actor::system();
    // A namesake (same name, birth date, sex, citizenship) with another passport is not
    // "already has an IIN".
    let namesake = (0..10)
        .map(|d| format!("90051730001{d}"))
        .find_map(|s| Iin::parse(&s).ok())
        .unwrap();
    e.put_persons(
        &sys,
        &[Person {
            iin: namesake,
            surname: "Ivanov".into(),
            given_name: "Petr".into(),
            patronymic: None,
            birth_date: "1990-05-17".parse().unwrap(),
            sex: drn_core::Sex::Male,
            citizenship: "RUS".into(),
            data: serde_json::json!({ "passport": "75XY99999" }),
        }],
    )
    .await
    .unwrap();
    let a = crate::foreigners::s9_to_step5(&w, f.clone(), serde_json::json!({})).await;
    assert_eq!(a.applicant, "F:RUS:75AB12345");
    let a = complete(&w, &sys, &a).await;
    assert_eq!(a.status, Status::InProgress, "an IIN was formed: {a:?}");
    assert!(Iin::parse(&a.applicant).is_ok());
    // A second application on the same passport: it has an IIN now (an error message).
    f.citizenship = "RUS".into();
    let b = crate::foreigners::s9_to_step5(&w, f, serde_json::json!({})).await;
    let b = complete(&w, &sys, &b).await;
    assert_eq!(b.status, Status::Refused, "{b:?}");
    let tl = e.timeline(&w.counter, &b.id).await.unwrap();
    assert_eq!(tl.last().unwrap().data["ground"], "has_iin");
}

on_both!(
    s9_validates_the_data_and_knows_an_iin_by_the_document,
    s9_data_and_the_registered_iin
);

/// Seed 000 (order 55) annex 1 table 1 row 10: «Выдача услугополучателю изготовленных
/// документов» – 10 минут; seed 001 п. 4 3): issue «только при личной явке
/// услугополучателя». The ten minutes are the officer's once the applicant has come for
/// the document: the result waiting for the applicant is a state of its own (supervision
/// counts it; no clock runs), and the limit starts when the applicant arrives (or with the
/// issue, when their arrival was not recorded). Before, the clock started when the
/// document reached the unit, so an applicant who came two hours later made the step
/// late.
async fn hand_over_starts_when_the_applicant_comes(url: &str) {
    let p = pilot(url).await;
    let e = &p.w.engine;
    let sup = Actor::staff("sup", Role::Supervisor, uid("KZ"));
    let mut ready = Vec::new();
    for iin in [p.spare[0], p.spare[1]] {
        let who = Actor::citizen(iin);
        let r = p.submit(p.request(iin), iin).await;
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        let id = r.application.clone().unwrap();
        let app = e.application(&p.w.region, &id, "test").await.unwrap();
        let app = app_of(
            &e.renewal_review(
                &p.w.region,
                &id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap(),
        );
        let app = complete(&p.w, &p.w.production, &app).await;
        assert_eq!((app.step, app.holder_unit.as_str()), (19, "D71-1"));
        assert_eq!(app.step_due_at, None, "no clock before the applicant comes");
        ready.push((iin, app));
    }
    let s = e.supervision(&sup).await.unwrap();
    assert_eq!(s.total.awaiting_applicant, 2, "{:?}", s.total);
    assert_eq!(s.total.overdue, 0);
    // Two hours later: still not late.
    p.w.clock.advance(SignedDuration::from_hours(2));
    let s = e.supervision(&sup).await.unwrap();
    assert_eq!((s.total.awaiting_applicant, s.total.overdue), (2, 0));
    // The first applicant comes: the ten minutes start now.
    let (iin, app) = &ready[0];
    let arrived = app_of(
        &e.execute(
            &p.w.district,
            &Command::ApplicantArrived {
                application: app.id.clone(),
                revision: app.revision,
            },
            None,
        )
        .await
        .unwrap(),
    );
    let due = arrived.step_due_at.unwrap();
    assert_eq!(arrived.step_entered_at, p.w.clock.now());
    assert_eq!(
        due.duration_since(arrived.step_entered_at),
        SignedDuration::from_mins(10)
    );
    // Twice is refused.
    let again = e
        .execute(
            &p.w.district,
            &Command::ApplicantArrived {
                application: arrived.id.clone(),
                revision: arrived.revision,
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(again.code(), "forbidden");
    p.w.clock.advance(SignedDuration::from_mins(4));
    issue_to(&p.w, &p.w.district, &arrived, *iin).await.unwrap();
    // The second is issued without a recorded arrival: on time too.
    let (iin2, app2) = &ready[1];
    issue_to(&p.w, &p.w.district, app2, *iin2).await.unwrap();
    let today = p.w.clock.now().to_zoned(drn_core::kz_tz().unwrap()).date();
    let times = e.step_times(&sup, None, today, today).await.unwrap();
    let issue = times
        .iter()
        .find(|t| t.service == "S1E" && t.step == 19)
        .unwrap();
    assert_eq!((issue.completed, issue.within_limit), (2, 2), "{issue:?}");
    let s = e.supervision(&sup).await.unwrap();
    assert_eq!(s.total.awaiting_applicant, 0);
}

on_both!(
    hand_over_clock_starts_when_the_applicant_comes,
    hand_over_starts_when_the_applicant_comes
);
