//! Registries between units: formed per destination, signed, sent and received.

use drn_core::{Channel, Iin, Urgency};
use drn_engine::*;
use jiff::SignedDuration;

use crate::support::*;

/// Form a registry at `from`'s unit for the application's step, sign it and, half an hour
/// later, send it: the registry as sent.
pub async fn form_sign_send(w: &World, from: &Actor, app: &Application) -> Registry {
    let e = &w.engine;
    let form = Command::FormRegistry {
        service: app.service.clone(),
        version: app.version.clone(),
        process: app.process.clone(),
        step: app.step,
    };
    let Outcome::Registries { registries, .. } = e.execute(from, &form, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(registries.len(), 1);
    let r = &registries[0];
    assert!(r.applications.contains(&app.id));
    let Outcome::Registry { registry: r } = e
        .execute(
            from,
            &Command::SignRegistry {
                registry: r.id.clone(),
                revision: r.revision,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "signed");
    w.clock.advance(SignedDuration::from_mins(30));
    let Outcome::Registry { registry: r } = e
        .execute(
            from,
            &Command::SendRegistry {
                registry: r.id.clone(),
                revision: r.revision,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "sent");
    r
}

/// Form, sign and send a registry at `from`'s unit for `step`, then receive it at `to`'s.
pub async fn hand_over(w: &World, from: &Actor, to: &Actor, app: &Application) -> Application {
    let e = &w.engine;
    // Waiting for a registry: in the unit's queue, not in its work list.
    let unit = from.unit.clone().unwrap();
    let later = w.clock.now() + SignedDuration::from_mins(1);
    let queue = e.queue(from, &unit, 1000).await.unwrap();
    assert!(queue.iter().any(|q| q.application.id == app.id));
    let work = e.worklist_before(from, &unit, later, 1000).await.unwrap();
    assert!(!work.iter().any(|q| q.application.id == app.id));
    let r = form_sign_send(w, from, app).await;
    // Sent: the application reads as in transit (its registry's state, migration 0015),
    // leaves the sending unit's queue, and nobody there can act on it any more.
    let moving = e.application(from, &app.id, "test").await.unwrap();
    assert_eq!(moving.status, Status::InTransit);
    assert_eq!(moving.registry.as_ref(), Some(&r.id));
    let queue = e.queue(from, &unit, 1000).await.unwrap();
    assert!(!queue.iter().any(|q| q.application.id == app.id));
    let late = Command::CompleteStep {
        application: app.id.clone(),
        revision: moving.revision,
        note: None,
    };
    assert!(matches!(
        e.execute(from, &late, None).await,
        Err(EngineError::Forbidden { .. })
    ));
    w.clock.advance(SignedDuration::from_hours(2));
    let Outcome::Registry { registry: r } = e
        .execute(
            to,
            &Command::ReceiveRegistry {
                registry: r.id.clone(),
                revision: r.revision,
                incoming_number: None,
            },
            None,
        )
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, "received");
    assert!(r.incoming_number.is_some());
    let arrived = e.application(to, &app.id, "test").await.unwrap();
    assert_eq!(
        (arrived.status, arrived.registry.as_ref()),
        (Status::InProgress, None)
    );
    arrived
}

/// Two S1 applications at the district's step 3, one in region 71 and one in region 75,
/// with region 75's regional officer.
async fn two_regions(w: &World) -> (Actor, Application, Application) {
    let sys = Actor::system();
    w.engine
        .create_staff(
            &sys,
            &[
                staff("op75", Role::CounterOperator, "C75-1"),
                staff("reg75", Role::RegionalOfficer, "R75"),
            ],
        )
        .await
        .unwrap();
    let op75 = Actor::staff("op75", Role::CounterOperator, uid("C75-1"));
    let reg75 = Actor::staff("reg75", Role::RegionalOfficer, uid("R75"));
    let a = accept(w, Urgency::General).await;
    let b = run(
        w,
        &op75,
        accept_cmd(
            "S1",
            Channel::Counter,
            Iin::parse("760212350620").unwrap(),
            serde_json::json!({}),
        ),
    )
    .await;
    w.clock.advance(SignedDuration::from_mins(20));
    let a = complete(w, &w.counter, &a).await;
    let b = complete(w, &op75, &b).await;
    (reg75, a, b)
}

/// A registry goes to one unit: the centre's registry of the step after production is one
/// registry per region, each listing that region's applications, with when each entered
/// the step and was due (its item), and each received at its own region.
async fn registry_per_destination(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let (reg75, a, b) = two_regions(&w).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (3, "D75-1"));
    let a = hand_over(&w, &w.district, &w.region, &a).await;
    let b = hand_over(&w, &w.other_district, &reg75, &b).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (4, "R75"));
    let a = hand_over(&w, &w.region, &w.centre, &a).await;
    let b = hand_over(&w, &reg75, &w.centre, &b).await;
    // Both at the centre, then at production, in one registry each time.
    let a = hand_over(&w, &w.centre, &w.production, &a).await;
    let a = hand_over(&w, &w.production, &w.centre, &a).await;
    let b = e.application(&w.centre, &b.id, "test").await.unwrap();
    assert_eq!((a.step, b.step), (7, 7));
    let (entered, due) = (b.step_entered_at, b.step_due_at);
    w.clock.advance(SignedDuration::from_mins(30));
    let form = Command::FormRegistry {
        service: a.service.clone(),
        version: a.version.clone(),
        process: a.process.clone(),
        step: 7,
    };
    let Outcome::Registries { registries, .. } = e.execute(&w.centre, &form, None).await.unwrap()
    else {
        panic!()
    };
    let to: Vec<(&str, Vec<ApplicationId>)> = registries
        .iter()
        .map(|r| (r.to_unit.as_str(), r.applications.clone()))
        .collect();
    assert_eq!(
        to,
        vec![("R71", vec![a.id.clone()]), ("R75", vec![b.id.clone()])]
    );
    for r in &registries {
        assert_eq!(
            (r.from_unit.as_str(), r.step, r.status.as_str()),
            ("KZ", 7, "formed")
        );
        let moved = e
            .application(&w.centre, &r.applications[0], "test")
            .await
            .unwrap();
        assert_eq!(moved.registry.as_ref(), Some(&r.id));
    }
    // Nothing is left waiting: a second formation finds nothing and writes nothing.
    let again = e.execute(&w.centre, &form, None).await;
    assert!(
        matches!(again, Err(EngineError::Invalid { .. })),
        "{again:?}"
    );
    let items: i64 = drn_store::query(
        "SELECT COUNT(*) FROM registry_items WHERE registry_id = $1 AND application_id = $2 AND entered_at = $3 AND due_at = $4",
    )
    .bind(&registries[1].id)
    .bind(&b.id)
    .bind(entered)
    .bind(due.unwrap())
    .fetch_one(w.db.reader())
    .await
    .unwrap()
    .get(0);
    assert_eq!(items, 1);
    // Each region receives its own: R75's application enters step 8 there.
    let b = hand_over_formed(&w, &w.centre, &reg75, &registries[1], &b).await;
    assert_eq!((b.step, b.holder_unit.as_str()), (8, "R75"));
    let a = e.application(&w.centre, &a.id, "test").await.unwrap();
    assert_eq!((a.step, a.status), (7, Status::InProgress));
    let v = e.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None, "{v:?}");
}

/// Signs, sends and receives an already formed registry; the application as it arrived.
async fn hand_over_formed(
    w: &World,
    from: &Actor,
    to: &Actor,
    r: &Registry,
    app: &Application,
) -> Application {
    let e = &w.engine;
    let mut rev = r.revision;
    for (actor, cmd) in [(from, "sign"), (from, "send"), (to, "receive")] {
        let command = match cmd {
            "sign" => Command::SignRegistry {
                registry: r.id.clone(),
                revision: rev,
            },
            "send" => Command::SendRegistry {
                registry: r.id.clone(),
                revision: rev,
            },
            _ => Command::ReceiveRegistry {
                registry: r.id.clone(),
                revision: rev,
                incoming_number: None,
            },
        };
        let Outcome::Registry { registry } = e.execute(actor, &command, None).await.unwrap() else {
            panic!()
        };
        rev = registry.revision;
        w.clock.advance(SignedDuration::from_mins(30));
    }
    e.application(to, &app.id, "test").await.unwrap()
}

on_both!(a_registry_per_destination_unit, registry_per_destination);

/// Forms, signs and sends a registry at `from`'s unit for the application's step and
/// receives it at `to`'s under `incoming`: the registry as sent (what its document prints)
/// and the application as it arrived.
async fn pass(
    w: &World,
    from: &Actor,
    to: &Actor,
    app: &Application,
    incoming: &str,
) -> (Registry, Application) {
    let sent = form_sign_send(w, from, app).await;
    receive(w, to, &sent, incoming).await.unwrap();
    (
        sent,
        w.engine.application(to, &app.id, "test").await.unwrap(),
    )
}

async fn receive(
    w: &World,
    to: &Actor,
    r: &Registry,
    incoming: &str,
) -> Result<Outcome, EngineError> {
    let cmd = Command::ReceiveRegistry {
        registry: r.id.clone(),
        revision: r.revision,
        incoming_number: Some(incoming.into()),
    };
    w.engine.execute(to, &cmd, None).await
}

/// The value of a printed field by its Russian label.
fn field(p: &registry_print::RegistryPrint, ru: &str) -> Option<String> {
    p.fields
        .iter()
        .find(|f| f.label.ru == ru)
        .map(|f| f.value.clone())
}

/// Seed 000 (order No 55 of 26.01.2018), annex 1 table 1 rows 3 and 4: «Формирование
/// реестра ГОРРОВД в 3-х экземплярах», «формирование сводного реестра в 3-х экземплярах».
const SEED_THREE_COPIES: [&str; 2] = [
    "реестра ГОРРОВД в 3-х экземплярах",
    "сводного реестра в 3-х экземплярах",
];

/// Issue 28 item 6: every registry of S1 2018 has its document. The district's and the
/// region's registries say they are made in 3 copies, as the seed says; the centre's step
/// 5 makes the cover letter to production, naming the summary registry it received with
/// its incoming number; production's registry of manufactured documents lists each
/// document's number, and the document is issued under that number.
async fn registries_printed(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let a = accept(&w, Urgency::General).await;
    w.clock.advance(SignedDuration::from_mins(20));
    let a = complete(&w, &w.counter, &a).await;
    let (district, a) = pass(&w, &w.district, &w.region, &a, "ВХ-1").await;
    let (summary, a) = pass(&w, &w.region, &w.centre, &a, "ВХ-5").await;
    for (r, kind, quote) in [
        (&district, drn_docs::DocumentKind::DistrictRegistry, 0),
        (&summary, drn_docs::DocumentKind::SummaryRegistry, 1),
    ] {
        let (_, p) = e.locate(&r.service, &r.version, &r.process).unwrap();
        let step = p.step(r.step).unwrap();
        assert!(
            step.action.ru.contains(SEED_THREE_COPIES[quote]),
            "{}",
            step.action.ru
        );
        assert_eq!(step.copies, Some(3));
        let print = e.registry_print(r).await.unwrap().unwrap();
        assert_eq!(print.kind, kind);
        assert_eq!(
            field(&print, "Количество экземпляров").as_deref(),
            Some("3")
        );
        assert!(print.note.as_ref().unwrap().ru.contains("в 3 экземплярах"));
        assert_eq!(print.table.rows.len(), 1);
        assert_eq!(print.table.rows[0][1], a.number);
    }
    // Step 5: the cover letter to production.
    assert_eq!(a.step, 5);
    let (letter, a) = pass(&w, &w.centre, &w.production, &a, "ВХ-9").await;
    assert_eq!(letter.kind, "cover_letter");
    let print = e.registry_print(&letter).await.unwrap().unwrap();
    assert_eq!(print.kind, drn_docs::DocumentKind::CoverLetter);
    let sent_on = field(&print, "Направляемые сводные реестры").unwrap();
    assert!(
        sent_on.contains(&summary.number) && sent_on.contains("ВХ-5"),
        "{sent_on}"
    );
    assert_eq!(print.table.rows[0][1], a.number);
    assert_eq!(field(&print, "Количество экземпляров"), None);
    // Step 6: production's registry of manufactured documents lists the document's number.
    assert_eq!(a.step, 6);
    let (made, a) = pass(&w, &w.production, &w.centre, &a, "ВХ-10").await;
    let print = e.registry_print(&made).await.unwrap().unwrap();
    assert_eq!(print.kind, drn_docs::DocumentKind::ManufacturedRegistry);
    assert_eq!(
        print.table.columns.last().unwrap().title.ru,
        "Номер документа"
    );
    let number = print.table.rows[0].last().unwrap().clone();
    assert!(number.starts_with("S1-2019-"), "{number}");
    // The document is issued under the number production gave it.
    let a = hand_over(&w, &w.centre, &w.region, &a).await;
    let a = hand_over(&w, &w.region, &w.district, &a).await;
    let a = hand_over(&w, &w.district, &w.counter, &a).await;
    let issue = Command::Issue {
        application: a.id.clone(),
        revision: a.revision,
        receiver: w.applicant,
        representative: None,
    };
    let done = app_of(&e.execute(&w.counter, &issue, None).await.unwrap());
    assert_eq!(done.status, Status::Issued);
    assert_eq!(e.issued_document_number(&a.id).await.unwrap(), Some(number));
}

on_both!(
    registries_have_documents_copies_cover_letter_and_document_numbers,
    registries_printed
);

/// Issue 28 item 6: an incoming number is given once in a receiving unit's book of the
/// year (seed 000 annex 1 table 1 row 5: «Регистрация полученных из УМС сводных реестров в
/// книге учета входящих сводных реестров»). A second registry received under a number
/// already used at that unit is refused and nothing changes; another unit may use it.
async fn incoming_number_once(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let (reg75, a, b) = two_regions(&w).await;
    // The same number at two regions, and at the centre for the first registry.
    let (_, a) = pass(&w, &w.district, &w.region, &a, "ВХ-1").await;
    let (_, b) = pass(&w, &w.other_district, &reg75, &b, "ВХ-1").await;
    let (_, a) = pass(&w, &w.region, &w.centre, &a, "ВХ-1").await;
    assert_eq!(a.holder_unit.as_str(), "KZ");
    // The centre's second registry under the same number: refused, nothing changes.
    let sent = form_sign_send(&w, &reg75, &b).await;
    let audit_before = count_of(
        &w.db,
        "SELECT COUNT(*) FROM audit WHERE action NOT LIKE 'denied:%'",
    )
    .await;
    let refused = receive(&w, &w.centre, &sent, " ВХ-1 ").await;
    let audit_after = count_of(
        &w.db,
        "SELECT COUNT(*) FROM audit WHERE action NOT LIKE 'denied:%'",
    )
    .await;
    assert_eq!(audit_after, audit_before);
    let Err(err) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(err.field(), Some("incoming_number"), "{err:?}");
    assert!(matches!(err, EngineError::Invalid { .. }));
    for (lang, words) in [
        (drn_core::Lang::Kk, "кіріс нөмірі"),
        (drn_core::Lang::Ru, "уже присвоен"),
        (drn_core::Lang::En, "already given"),
    ] {
        let m = err.message(lang);
        assert!(m.contains(words) && m.contains("ВХ-1"), "{m}");
    }
    let still = e.registry(&w.centre, &sent.id).await.unwrap();
    assert_eq!(
        (still.status.as_str(), still.revision),
        ("sent", sent.revision)
    );
    assert_eq!(still.incoming_number, None);
    let b_now = e.application(&reg75, &b.id, "test").await.unwrap();
    assert_eq!(b_now.status, Status::InTransit);
    // Under another number it is received.
    receive(&w, &w.centre, &sent, "ВХ-2").await.unwrap();
    let b = e.application(&w.centre, &b.id, "test").await.unwrap();
    assert_eq!((b.step, b.holder_unit.as_str()), (5, "KZ"));
}

on_both!(
    an_incoming_number_is_given_once_per_unit_and_year,
    incoming_number_once
);
