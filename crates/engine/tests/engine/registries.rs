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
    let Outcome::Registries { registries } = e.execute(from, &form, None).await.unwrap() else {
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

/// A registry goes to one unit: the centre's registry of the step after production is one
/// registry per region, each listing that region's applications, with when each entered
/// the step and was due (its item), and each received at its own region.
async fn registry_per_destination(url: &str) {
    let w = world(url, "2019-03-20T10:00").await;
    let e = &w.engine;
    let sys = Actor::system();
    e.create_staff(
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
    let a = accept(&w, Urgency::General).await;
    let b = run(
        &w,
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
    let a = complete(&w, &w.counter, &a).await;
    let b = complete(&w, &op75, &b).await;
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
    let Outcome::Registries { registries } = e.execute(&w.centre, &form, None).await.unwrap()
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
    let items = count_of(
        &w.db,
        &format!(
            "SELECT COUNT(*) FROM registry_items WHERE registry_id = '{}' AND application_id = '{}' AND entered_at = {} AND due_at = {}",
            registries[1].id.as_str(),
            b.id.as_str(),
            entered.as_microsecond(),
            due.unwrap().as_microsecond()
        ),
    )
    .await;
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
