//! The address certificate (S5): the detour through the address register, and refusal.

use drn_core::{Channel, Iin};
use drn_engine::*;

use crate::residence::s3_counter;
use crate::support::*;

fn a_bin() -> String {
    (0..10)
        .map(|c| format!("18044000012{c}"))
        .find(|s| drn_core::Bin::parse(s).is_ok())
        .or_else(|| {
            (0..10)
                .map(|c| format!("18044000013{c}"))
                .find(|s| drn_core::Bin::parse(s).is_ok())
        })
        .unwrap()
}

async fn address_certificate(url: &str) {
    let w = world(url, "2019-04-02T10:00").await;
    let e = &w.engine;
    let rka = addresses(&w).await;
    s3_counter(&w, w.applicant, &rka[0]).await;
    // Immediate: accepted and issued at the counter, after the check.
    let a = run(
        &w,
        &w.counter,
        accept_cmd("S5", Channel::Counter, w.applicant, serde_json::json!({})),
    )
    .await;
    assert_eq!((a.step, a.holder_unit.as_str()), (1, "C71-1"));
    assert_eq!(
        issue_to(&w, &w.counter, &a, w.applicant)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
    let a = check(&w, &w.counter, &a).await;
    let Outcome::Application { application: done } =
        issue_to(&w, &w.counter, &a, w.applicant).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(done.status, Status::Issued);
    let certs = e
        .journal(&w.counter, "address_certificates", Some(&uid("C71-1")), 5)
        .await
        .unwrap();
    assert_eq!(
        certs[0].data["signatures"],
        serde_json::json!(["MVD", "MoJ"])
    );
    assert_eq!(certs[0].data["rka"], rka[0].as_str());
    // A mismatch (no valid code for the person's address): the detour to the district.
    let other = Iin::parse("800416300257").unwrap();
    let a = run(
        &w,
        &w.counter,
        accept_cmd("S5", Channel::Counter, other, serde_json::json!({})),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    assert_eq!(
        issue_to(&w, &w.counter, &a, other)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
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
    assert_eq!((a.step, a.holder_unit.as_str()), (2, "D71-1"));
    assert_eq!(
        complete_note(&w, &w.district, &a, "corrected")
            .await
            .unwrap_err()
            .code(),
        "invalid"
    );
    let Outcome::Application { application: a } =
        complete_note(&w, &w.district, &a, &format!("RKA {}", rka[5]))
            .await
            .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (a.step, a.holder_unit.as_str()),
        (1, "C71-1"),
        "back to the counter"
    );
    let a = check(&w, &w.counter, &a).await;
    issue_to(&w, &w.counter, &a, other).await.unwrap();
    assert_eq!(
        e.registrations(&w.counter, &other).await.unwrap()[0]
            .rka
            .as_deref(),
        Some(rka[5].as_str())
    );
    // A legal entity (BIN) at an address that is not in the register: refused at the counter.
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S5",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "bin": a_bin(), "rka": "7102000009999999" }),
        ),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    let r = refuse(
        &w,
        &w.counter,
        &a,
        "the legal entity's address is not in the register",
    )
    .await;
    assert_eq!(r.status, Status::Refused);
    // A BIN at a registered address.
    let a = run(
        &w,
        &w.counter,
        accept_cmd(
            "S5",
            Channel::Counter,
            w.applicant,
            serde_json::json!({ "bin": a_bin(), "rka": rka[1] }),
        ),
    )
    .await;
    let a = check(&w, &w.counter, &a).await;
    issue_to(&w, &w.counter, &a, w.applicant).await.unwrap();
    assert_eq!(
        run_err(
            &w,
            &w.counter,
            accept_cmd(
                "S5",
                Channel::Counter,
                w.applicant,
                serde_json::json!({ "bin": "123" })
            )
        )
        .await
        .code(),
        "invalid"
    );
}

on_both!(
    s5_address_certificate_detour_and_refusal,
    address_certificate
);
