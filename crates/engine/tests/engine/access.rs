//! Who sees what: the citizen and the unit scope, and audited reads.

use drn_core::{Iin, Urgency};
use drn_engine::commands::Representative;
use drn_engine::*;

use crate::support::*;

async fn representative_and_scope(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let a = accept(&w, Urgency::General).await;
    // A citizen sees their own application; another citizen gets not found.
    let me = Actor::citizen(w.applicant);
    assert!(e.application(&me, &a.id, "portal").await.is_ok());
    let other = Actor::citizen(Iin::parse("760212350620").unwrap());
    assert_eq!(
        e.application(&other, &a.id, "portal")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    // Staff of another region do not see it.
    assert_eq!(
        e.application(&w.other_district, &a.id, "card")
            .await
            .unwrap_err()
            .code(),
        "not_found"
    );
    // The read was audited against the person.
    let reads = e
        .audit_log(Some(&format!("person:{}", w.applicant)), 100)
        .await
        .unwrap();
    assert!(reads
        .iter()
        .any(|r| r.action == "read_application" && r.actor == me.id));
    let _ = Representative {
        iin: w.applicant,
        authority: String::new(),
    };
}

on_both!(
    citizen_and_unit_scope_and_audited_reads,
    representative_and_scope
);
