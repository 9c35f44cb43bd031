//! What commands may do: intake refusal, the wrong unit, stale revisions, annulment and idempotency.

use drn_core::{Channel, Iin, Sex, Urgency};
use drn_engine::commands::Accept;
use drn_engine::*;
use jiff::SignedDuration;

use crate::registries::{form_sign_send, hand_over};
use crate::support::*;

async fn refusals_and_rights(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    // Intake refusal: the operator lists what is missing; a receipt, no due date.
    let cmd = Command::Accept(Accept {
        process: None,
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: w.applicant,
        documents_presented: vec![],
        missing: vec!["Свидетельство о рождении / birth certificate".into()],
        data: serde_json::json!({}),
    });
    let Outcome::IntakeRefused {
        application,
        receipt,
        missing,
    } = e.execute(&w.counter, &cmd, None).await.unwrap()
    else {
        panic!()
    };
    assert!(receipt.starts_with("R-"));
    assert_eq!(missing.len(), 1);
    assert_eq!(application.status, Status::IntakeRefused);
    // An unknown person cannot apply; a wrong urgency is refused with the field named.
    let mut bad = Accept {
        process: None,
        service: "S1".into(),
        channel: Channel::Counter,
        urgency: Urgency::General,
        applicant: Iin::parse("821214240093").unwrap_or(w.applicant),
        documents_presented: vec![],
        missing: vec![],
        data: serde_json::json!({}),
    };
    bad.applicant = Iin::form(jiff::civil::date(1999, 1, 1), Sex::Male, |_| false).unwrap();
    let err = e
        .execute(&w.counter, &Command::Accept(bad), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let a = accept(&w, Urgency::One).await;
    let a = complete(&w, &w.counter, &a).await;
    // A district officer of another district cannot act on it, and nothing changes.
    let wrong = Command::CompleteStep {
        application: a.id.clone(),
        revision: a.revision,
        note: None,
    };
    // Another district may not read it: not found, as for its read (issue 31 item 11).
    let err = e
        .execute(&w.other_district, &wrong, None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not_found");
    let read = e
        .application(&w.other_district, &a.id, "test")
        .await
        .unwrap_err();
    assert_eq!(read.code(), err.code());
    // A registry step cannot be completed one by one.
    let err = e.execute(&w.district, &wrong, None).await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let same = e.application(&w.district, &a.id, "test").await.unwrap();
    assert_eq!(same.revision, a.revision);
    // Concurrent officers: the first wins, the second gets a conflict.
    let refuse = Command::Refuse {
        application: a.id.clone(),
        revision: a.revision,
        reason: "Формуляр заполнен неверно".into(),
    };
    let ret = Command::Return {
        application: a.id.clone(),
        revision: a.revision,
        to_step: 2,
        reason: "Переснять фотографию".into(),
    };
    let (r1, r2) = tokio::join!(
        e.execute(&w.district, &refuse, None),
        e.execute(&w.district, &ret, None)
    );
    let oks = [r1.is_ok(), r2.is_ok()];
    assert_eq!(oks.iter().filter(|x| **x).count(), 1, "{r1:?} {r2:?}");
    let loser = match (r1, r2) {
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(loser.code(), "conflict");
    // Annulment is not a district's decision; at the region it is.
    let b = accept(&w, Urgency::General).await;
    let b = complete(&w, &w.counter, &b).await;
    let b = hand_over(&w, &w.district, &w.region, &b).await;
    let annul = Command::Annul {
        application: b.id.clone(),
        revision: b.revision,
        reason: "Требуется дополнительная проверка".into(),
    };
    let err = e.execute(&w.district, &annul, None).await.unwrap_err();
    assert_eq!(err.code(), "forbidden");
    let b2 = app_of(&e.execute(&w.region, &annul, None).await.unwrap());
    assert_eq!(b2.status, Status::Annulled);
    let again = Command::CompleteStep {
        application: b.id.clone(),
        revision: b2.revision,
        note: None,
    };
    assert_eq!(
        e.execute(&w.region, &again, None).await.unwrap_err().code(),
        "closed"
    );
    // Annulled on the way: it reads as annulled, not as in transit, and the receipt
    // moves only what is still in progress.
    let c1 = accept(&w, Urgency::General).await;
    let c1 = complete(&w, &w.counter, &c1).await;
    let r = form_sign_send(&w, &w.district, &c1).await;
    let moving = e.application(&w.district, &c1.id, "test").await.unwrap();
    assert_eq!(moving.status, Status::InTransit);
    let annul = Command::Annul {
        application: c1.id.clone(),
        revision: moving.revision,
        reason: "Заявитель отозвал заявление".into(),
    };
    let c2 = app_of(&e.execute(&Actor::system(), &annul, None).await.unwrap());
    assert_eq!(c2.status, Status::Annulled);
    let seen = e.application(&w.district, &c1.id, "test").await.unwrap();
    assert_eq!(
        (seen.status, seen.revision),
        (Status::Annulled, c2.revision)
    );
    let receive = Command::ReceiveRegistry {
        registry: r.id.clone(),
        revision: r.revision,
        incoming_number: None,
    };
    e.execute(&w.region, &receive, None).await.unwrap();
    let after = e.application(&w.region, &c1.id, "test").await.unwrap();
    assert_eq!(
        (after.status, after.step, after.revision),
        (Status::Annulled, c2.step, c2.revision)
    );
    // Idempotency: a retried command returns the first answer and does not run twice.
    let c = accept(&w, Urgency::General).await;
    let cmd = Command::CompleteStep {
        application: c.id.clone(),
        revision: c.revision,
        note: None,
    };
    let first = e.execute(&w.counter, &cmd, Some("key-1")).await.unwrap();
    let second = e.execute(&w.counter, &cmd, Some("key-1")).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        e.application(&w.counter, &c.id, "t")
            .await
            .unwrap()
            .revision,
        c.revision + 1
    );
    assert_eq!(
        e.execute(&w.district, &cmd, Some("key-1"))
            .await
            .unwrap_err()
            .code(),
        "idempotency_key_reused"
    );
    // Issue 28 item 12: the same key with another request is refused and changes nothing
    // (before, it answered the first request's outcome).
    let other = Command::CompleteStep {
        application: c.id.clone(),
        revision: c.revision + 1,
        note: Some("another request".into()),
    };
    let refused = e
        .execute(&w.counter, &other, Some("key-1"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "idempotency_key_mismatch");
    assert_eq!(
        e.application(&w.counter, &c.id, "t")
            .await
            .unwrap()
            .revision,
        c.revision + 1
    );
    // Issue only to the applicant (or a representative with authority).
    // Deadlines: overdue after the due instant.
    w.clock.advance(SignedDuration::from_hours(24 * 10));
    let over = e
        .due_before(&w.district, Some(&uid("D71-1")), e.now(), 100)
        .await
        .unwrap();
    assert!(over.iter().all(|q| q.overdue) && !over.is_empty());
    // The audit chain is whole, and denied attempts are in it.
    let v = e.verify_audit().await.unwrap();
    assert_eq!(v.broken_at, None);
    let denied = e.audit_log(None, 1000).await.unwrap();
    assert!(denied.iter().any(|r| r.action.starts_with("denied:")));
}

on_both!(
    intake_refusal_wrong_unit_conflict_annulment_idempotency,
    refusals_and_rights
);
