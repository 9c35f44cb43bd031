//! The ports: each sandbox's answers and refusals, each HTTP client against the sandbox
//! server on 127.0.0.1, timeouts, retries, the circuit breaker and seed 001 п. 12 on a
//! simulated clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use drn_core::{Iin, Sex};
use drn_registries::sandbox::{hash_rule_matches, photo_sha256, sample_persons};
use drn_registries::server::{self, SandboxServer};
use drn_registries::*;
use jiff::civil::{date, Date};
use jiff::{SignedDuration, Timestamp, ToSpan};

fn today() -> Date {
    date(2025, 9, 1)
}

fn t0() -> Timestamp {
    "2025-09-01T05:00:00Z".parse().unwrap()
}

struct Fx {
    clock: Arc<ManualClock>,
    sandbox: Sandbox,
    cases: BranchCases,
}

fn fixture() -> Fx {
    let clock = Arc::new(ManualClock::new(t0()));
    let (sandbox, cases) =
        Sandbox::with_branch_cases(sample_persons(today(), 20), today(), clock.clone());
    Fx {
        clock,
        sandbox,
        cases,
    }
}

/// A valid IIN nobody in the sandbox has.
fn stranger() -> Iin {
    Iin::form(date(1999, 12, 31), Sex::Female, |_| false).unwrap()
}

/// A photo the hash rule matches, and one it does not.
fn photos() -> (Vec<u8>, Vec<u8>) {
    let mut good = None;
    let mut bad = None;
    for i in 0u32.. {
        let p = format!("photo {i}").into_bytes();
        if hash_rule_matches(&p) {
            good.get_or_insert(p);
        } else {
            bad.get_or_insert(p);
        }
        if good.is_some() && bad.is_some() {
            break;
        }
    }
    (good.unwrap(), bad.unwrap())
}

fn config(base: &str) -> HttpConfig {
    let mut c = HttpConfig::new(base);
    c.timeout = Duration::from_millis(300);
    c
}

async fn serve(fx: &Fx) -> (SandboxServer, HttpRegistries) {
    let srv = server::spawn(fx.sandbox.clone()).await.unwrap();
    let http = HttpRegistries::new(config(&srv.base_url()), fx.clock.clone()).unwrap();
    (srv, http)
}

fn plain(fx: &Fx) -> Iin {
    fx.cases.plain.unwrap()
}

fn assert_texts(t: &drn_core::Text) {
    assert!(!t.has_blank(), "{t:?}");
}

// ---------------------------------------------------------------------------------------
// The sandbox

#[test]
fn every_branch_has_its_own_person_in_the_window() {
    let fx = fixture();
    let all = fx.cases.all();
    assert_eq!(all.len(), 12, "{:?}", fx.cases);
    let mut iins: Vec<Iin> = all.iter().map(|(_, i)| *i).collect();
    iins.sort();
    iins.dedup();
    assert_eq!(iins.len(), 12, "each case its own person");
    for (name, iin) in all {
        let p = fx.sandbox.person(iin).unwrap();
        let exp = p.id_card.unwrap().expires;
        let d = today().until(exp).unwrap().get_days();
        assert!((-10..=30).contains(&d), "{name}: card expires in {d} days");
    }
    let p = fx.sandbox.person(plain(&fx)).unwrap();
    assert!(p.is_plain());
    assert!(p.place_of_birth.is_some());
}

#[test]
fn persons_who_already_have_a_story_are_taken_first() {
    let mut persons = sample_persons(today(), 20);
    persons[19].registration = None;
    persons[18].legal_capacity = LegalCapacity::Limited;
    let want_noreg = persons[19].iin;
    let want_cap = persons[18].iin;
    let cases = BranchCases::assign(&mut persons, today());
    assert_eq!(cases.no_registration, Some(want_noreg));
    assert_eq!(cases.incapable, Some(want_cap));
    // Nobody else lost a registration.
    assert_eq!(
        persons.iter().filter(|p| p.registration.is_none()).count(),
        1
    );
}

#[test]
fn too_few_persons_leave_cases_empty() {
    let mut persons = sample_persons(today(), 3);
    let cases = BranchCases::assign(&mut persons, today());
    assert_eq!(cases.all().len(), 3);
    assert!(cases.plain.is_some());
    assert!(cases.no_zags_birthplace.is_none());
}

#[tokio::test]
async fn consent_grants_denies_and_knows_no_stranger() {
    let fx = fixture();
    let s = &fx.sandbox;
    let req = |iin| ConsentRequest {
        iin,
        purpose: "Выдача удостоверения личности".into(),
    };
    let c = s.request_consent(req(plain(&fx))).await.unwrap();
    assert!(c.is_granted());
    match s
        .request_consent(req(fx.cases.consent_denied.unwrap()))
        .await
        .unwrap()
    {
        Consent::Denied { reason } => assert_texts(&reason),
        other => panic!("{other:?}"),
    }
    let e = s.request_consent(req(stranger())).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::NotFound {
                port: Port::Consent,
                ..
            }
        ),
        "{e}"
    );
    let e = s
        .request_consent(ConsentRequest {
            iin: plain(&fx),
            purpose: " ".into(),
        })
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Protocol { .. }), "{e}");
}

#[tokio::test]
async fn gbd_fl_answers_from_the_record() {
    let fx = fixture();
    let s = &fx.sandbox;
    let p = GbdFl::person(s, plain(&fx)).await.unwrap();
    let seed = s.person(plain(&fx)).unwrap();
    assert_eq!(p.surname, seed.surname);
    assert_eq!(p.id_card, seed.id_card);
    assert!(p.registration.is_some());
    let p = GbdFl::person(s, fx.cases.no_registration.unwrap())
        .await
        .unwrap();
    assert!(p.registration.is_none(), "step 6 branch");
    let e = GbdFl::person(s, stranger()).await.unwrap_err();
    assert!(matches!(
        e,
        RegistryError::NotFound {
            port: Port::GbdFl,
            ..
        }
    ));
    assert_texts(&e.message());
}

#[tokio::test]
async fn bmg_compares_phone_digits() {
    let fx = fixture();
    let s = &fx.sandbox;
    let iin = plain(&fx);
    let phone = s.person(iin).unwrap().phone.unwrap();
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    assert!(s.phone_registered(iin, phone).await.unwrap().registered);
    let eight = format!("8{}", &digits[1..]);
    assert!(
        s.phone_registered(iin, eight.clone())
            .await
            .unwrap()
            .registered
    );
    assert!(
        !s.phone_registered(iin, "+7 777 000 00 00".into())
            .await
            .unwrap()
            .registered
    );
    let other = fx.cases.phone_not_in_bmg.unwrap();
    let own = s.person(other).unwrap().phone.unwrap();
    assert!(!s.phone_registered(other, own).await.unwrap().registered);
    assert!(
        !s.phone_registered(stranger(), eight)
            .await
            .unwrap()
            .registered
    );
    let e = s.phone_registered(iin, "12".into()).await.unwrap_err();
    assert!(matches!(
        e,
        RegistryError::Protocol {
            port: Port::Bmg,
            ..
        }
    ));
}

#[tokio::test]
async fn digital_id_follows_the_hash_rule_and_overrides() {
    let fx = fixture();
    let s = &fx.sandbox;
    let (good, bad) = photos();
    let iin = plain(&fx);

    let id = s.identify(iin, good.clone()).await.unwrap();
    assert!(id.liveness && id.identified);
    assert_eq!(id.decided_by, MatchRule::HashRule);
    let m = s.photo_matches(iin, good.clone()).await.unwrap();
    assert!(m.matched);
    assert_eq!(m.photo_sha256, photo_sha256(&good));
    assert!(!m.photo_sha256.starts_with('0'));

    let m = s.photo_matches(iin, bad.clone()).await.unwrap();
    assert!(!m.matched && m.photo_sha256.starts_with('0'));
    assert_eq!(m.decided_by, MatchRule::HashRule);
    s.override_photo(&bad, true);
    let m = s.photo_matches(iin, bad.clone()).await.unwrap();
    assert!(m.matched);
    assert_eq!(m.decided_by, MatchRule::PhotoOverride);

    let mismatch = fx.cases.photo_mismatch.unwrap();
    let m = s.photo_matches(mismatch, good.clone()).await.unwrap();
    assert!(!m.matched);
    assert_eq!(m.decided_by, MatchRule::PersonOverride);

    let id = s
        .identify(fx.cases.liveness_fails.unwrap(), good.clone())
        .await
        .unwrap();
    assert!(!id.liveness && !id.identified);
    assert_eq!(id.decided_by, MatchRule::Liveness);

    let e = s.photo_matches(iin, Vec::new()).await.unwrap_err();
    assert!(matches!(e, RegistryError::Protocol { .. }));
    let e = s.identify(stranger(), good).await.unwrap_err();
    assert!(matches!(
        e,
        RegistryError::NotFound {
            port: Port::DigitalId,
            ..
        }
    ));
}

#[tokio::test]
async fn legal_capacity_zags_sik_and_records() {
    let fx = fixture();
    let s = &fx.sandbox;
    let iin = plain(&fx);
    assert_eq!(
        s.legal_capacity(iin).await.unwrap().capacity,
        LegalCapacity::Full
    );
    assert_eq!(
        s.legal_capacity(fx.cases.incapable.unwrap())
            .await
            .unwrap()
            .capacity,
        LegalCapacity::Incapable
    );

    // ИС ЗАГС: the change falls after the card was issued, before today.
    let nc = fx.cases.name_change.unwrap();
    let card = s.person(nc).unwrap().id_card.unwrap();
    let ch = s.changes_since(nc, card.issued).await.unwrap();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].field, ChangedField::Surname);
    assert_ne!(ch[0].old, ch[0].new);
    assert!(card.issued <= ch[0].date && ch[0].date <= today());
    assert!(s
        .changes_since(nc, today() + 1.day())
        .await
        .unwrap()
        .is_empty());
    assert!(s.changes_since(iin, card.issued).await.unwrap().is_empty());
    let pob = s.place_of_birth(iin).await.unwrap();
    assert_eq!(pob.country, "KZ");
    assert_texts(&pob.country_name);
    let e = s
        .place_of_birth(fx.cases.no_zags_birthplace.unwrap())
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        RegistryError::NotFound {
            port: Port::Zags,
            ..
        }
    ));

    // АИС СИК.
    let st = s
        .social_statuses(fx.cases.social_status.unwrap(), today())
        .await
        .unwrap();
    assert_eq!(st.len(), 1);
    assert!(st[0].exempts_state_duty);
    assert_texts(&st[0].name);
    let before = st[0].since - 1.day();
    assert!(s
        .social_statuses(fx.cases.social_status.unwrap(), before)
        .await
        .unwrap()
        .is_empty());
    assert!(s.social_statuses(iin, today()).await.unwrap().is_empty());
    assert!(s
        .social_statuses(stranger(), today())
        .await
        .unwrap()
        .is_empty());

    // Wanted and special records.
    let r = s.check(fx.cases.special_record.unwrap()).await.unwrap();
    assert!(r.on_record() && !r.wanted && r.records.len() == 1);
    let r = s.check(fx.cases.wanted.unwrap()).await.unwrap();
    assert!(r.on_record() && r.wanted);
    assert!(!s.check(iin).await.unwrap().on_record());
    assert!(!s.check(stranger()).await.unwrap().on_record());
}

#[tokio::test]
async fn payments_invoice_pay_refund() {
    let fx = fixture();
    let s = &fx.sandbox;
    let req = InvoiceRequest {
        iin: plain(&fx),
        amount_tenge: 786,
        purpose: "Госпошлина за удостоверение личности".into(),
        reference: "app-1".into(),
    };
    let inv = s.create_invoice(req.clone()).await.unwrap();
    assert_eq!(inv.status, InvoiceStatus::Unpaid);
    assert_eq!(inv.created_at, t0());
    let again = s.create_invoice(req.clone()).await.unwrap();
    assert_eq!(again.id, inv.id, "idempotent by reference");
    let e = s
        .create_invoice(InvoiceRequest {
            amount_tenge: 787,
            ..req.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Refused { .. }));
    let e = s
        .create_invoice(InvoiceRequest {
            amount_tenge: 0,
            reference: "app-0".into(),
            ..req.clone()
        })
        .await
        .unwrap_err();
    let RegistryError::Refused { reason, .. } = &e else {
        panic!("{e}")
    };
    assert_texts(reason);

    let e = s.refund(inv.id.clone()).await.unwrap_err();
    assert!(
        matches!(e, RegistryError::Refused { .. }),
        "an unpaid invoice"
    );
    assert_texts(&e.message());
    fx.clock.advance(SignedDuration::from_mins(3));
    let paid = s.pay(&inv.id).await.unwrap();
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(paid.paid_at, Some(t0() + SignedDuration::from_mins(3)));
    assert_eq!(
        s.invoice(inv.id.clone()).await.unwrap().status,
        InvoiceStatus::Paid
    );
    let r = s.refund(inv.id.clone()).await.unwrap();
    assert_eq!(r.status, InvoiceStatus::Refunded);
    assert_eq!(s.refund(inv.id.clone()).await.unwrap(), r, "idempotent");
    assert!(matches!(
        s.pay(&inv.id).await,
        Err(RegistryError::Refused { .. })
    ));
    let e = s.invoice("nope".into()).await.unwrap_err();
    assert!(matches!(
        e,
        RegistryError::NotFound {
            port: Port::Payments,
            ..
        }
    ));
}

#[tokio::test]
async fn sandbox_outage_and_latency_per_port() {
    let fx = fixture();
    let s = &fx.sandbox;
    let iin = plain(&fx);
    s.set_outage_for(Port::GbdFl, SignedDuration::from_mins(5));
    let e = GbdFl::person(s, iin).await.unwrap_err();
    assert!(matches!(
        e,
        RegistryError::Unavailable {
            port: Port::GbdFl,
            ..
        }
    ));
    assert!(e.is_outage() && e.is_technical());
    assert_texts(&e.message());
    // Other ports are up.
    assert!(s.check(iin).await.is_ok());
    fx.clock.advance(SignedDuration::from_mins(5));
    assert!(GbdFl::person(s, iin).await.is_ok(), "the outage ended");

    s.set_latency(Port::Sik, Duration::from_millis(80));
    let start = Instant::now();
    s.social_statuses(iin, today()).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(80));
    assert_eq!(s.faults(Port::Sik).latency_ms, 80);
    s.clear_faults();
    assert_eq!(s.faults(Port::Sik), Faults::default());
}

#[test]
fn error_messages_in_three_languages() {
    for port in Port::ALL {
        assert_texts(&port.name());
        assert_eq!(Port::parse(port.code()), Some(port));
        for e in [
            RegistryError::Unavailable {
                port,
                detail: "x".into(),
            },
            RegistryError::Timeout {
                port,
                after: Duration::from_secs(1),
            },
            RegistryError::CircuitOpen { port, since: t0() },
            RegistryError::NotFound {
                port,
                what: "x".into(),
            },
            RegistryError::Protocol {
                port,
                detail: "x".into(),
            },
        ] {
            assert_texts(&e.message());
            assert!(!e.to_string().is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The HTTP clients against the sandbox server

#[tokio::test]
async fn http_clients_answer_like_the_sandbox() {
    let fx = fixture();
    let (srv, h) = serve(&fx).await;
    let s = &fx.sandbox;
    let iin = plain(&fx);
    let (good, bad) = photos();

    // Consent.
    let req = |iin| ConsentRequest {
        iin,
        purpose: "renewal".into(),
    };
    assert!(h.request_consent(req(iin)).await.unwrap().is_granted());
    assert!(!h
        .request_consent(req(fx.cases.consent_denied.unwrap()))
        .await
        .unwrap()
        .is_granted());
    assert!(matches!(
        h.request_consent(req(stranger())).await,
        Err(RegistryError::NotFound {
            port: Port::Consent,
            ..
        })
    ));

    // ГБД ФЛ.
    assert_eq!(
        GbdFl::person(&h, iin).await.unwrap(),
        GbdFl::person(s, iin).await.unwrap()
    );
    assert!(GbdFl::person(&h, fx.cases.no_registration.unwrap())
        .await
        .unwrap()
        .registration
        .is_none());
    let e = GbdFl::person(&h, stranger()).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::NotFound {
                port: Port::GbdFl,
                ..
            }
        ),
        "{e}"
    );

    // БМГ.
    let phone = s.person(iin).unwrap().phone.unwrap();
    assert!(
        h.phone_registered(iin, phone.clone())
            .await
            .unwrap()
            .registered
    );
    assert!(
        !h.phone_registered(fx.cases.phone_not_in_bmg.unwrap(), phone)
            .await
            .unwrap()
            .registered
    );
    assert!(matches!(
        h.phone_registered(iin, "x".into()).await,
        Err(RegistryError::Protocol {
            port: Port::Bmg,
            ..
        })
    ));

    // Digital-ID.
    assert!(h.identify(iin, good.clone()).await.unwrap().identified);
    assert!(
        !h.identify(fx.cases.liveness_fails.unwrap(), good.clone())
            .await
            .unwrap()
            .liveness
    );
    assert!(h.photo_matches(iin, good.clone()).await.unwrap().matched);
    assert!(!h.photo_matches(iin, bad).await.unwrap().matched);
    assert!(
        !h.photo_matches(fx.cases.photo_mismatch.unwrap(), good.clone())
            .await
            .unwrap()
            .matched
    );
    let big = vec![7u8; 3 * 1024 * 1024];
    assert_eq!(
        h.photo_matches(iin, big.clone())
            .await
            .unwrap()
            .photo_sha256,
        photo_sha256(&big),
        "a 3 MiB photo goes through"
    );
    assert!(matches!(
        h.photo_matches(iin, Vec::new()).await,
        Err(RegistryError::Protocol { .. })
    ));

    // Legal capacity, ИС ЗАГС, АИС СИК, special records.
    assert_eq!(
        h.legal_capacity(fx.cases.incapable.unwrap())
            .await
            .unwrap()
            .capacity,
        LegalCapacity::Incapable
    );
    let nc = fx.cases.name_change.unwrap();
    let since = s.person(nc).unwrap().id_card.unwrap().issued;
    assert_eq!(
        h.changes_since(nc, since).await.unwrap(),
        s.changes_since(nc, since).await.unwrap()
    );
    assert_eq!(h.changes_since(nc, since).await.unwrap().len(), 1);
    assert_eq!(
        h.place_of_birth(iin).await.unwrap(),
        s.place_of_birth(iin).await.unwrap()
    );
    // ГБД ФЛ's photo of the current document (issue 29): the same image over HTTP as from
    // the sandbox, a PNG drawn from the IIN; none for a person without one.
    let photo = GbdFl::photo(&h, iin).await.unwrap();
    assert_eq!(photo, GbdFl::photo(s, iin).await.unwrap());
    assert_eq!(photo.mime, "image/png");
    assert!(photo.image_base64.starts_with("iVBORw0KGgo"), "a PNG");
    let mut none = s.person(iin).unwrap();
    none.no_photo = true;
    s.upsert(none);
    assert!(matches!(
        GbdFl::photo(&h, iin).await,
        Err(RegistryError::NotFound {
            port: Port::GbdFl,
            ..
        })
    ));
    assert!(matches!(
        GbdFl::photo(&h, stranger()).await,
        Err(RegistryError::NotFound { .. })
    ));
    assert!(matches!(
        h.place_of_birth(fx.cases.no_zags_birthplace.unwrap()).await,
        Err(RegistryError::NotFound {
            port: Port::Zags,
            ..
        })
    ));
    let st = h
        .social_statuses(fx.cases.social_status.unwrap(), today())
        .await
        .unwrap();
    assert!(st[0].exempts_state_duty);
    assert!(h.check(fx.cases.wanted.unwrap()).await.unwrap().wanted);
    assert!(h
        .check(fx.cases.special_record.unwrap())
        .await
        .unwrap()
        .on_record());
    assert!(!h.check(iin).await.unwrap().on_record());

    // Payments: the citizen pays through the sandbox's own endpoint.
    let inv = h
        .create_invoice(InvoiceRequest {
            iin,
            amount_tenge: 786,
            purpose: "duty".into(),
            reference: "app-http".into(),
        })
        .await
        .unwrap();
    let e = h.refund(inv.id.clone()).await.unwrap_err();
    let RegistryError::Refused { reason, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(reason.ru, "Счёт не оплачен: возвращать нечего.");
    assert_texts(reason);
    let paid: Invoice = reqwest::Client::new()
        .post(format!(
            "{}/payments/invoices/{}/pay",
            srv.base_url(),
            inv.id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(
        h.invoice(inv.id.clone()).await.unwrap().status,
        InvoiceStatus::Paid
    );
    assert_eq!(
        h.refund(inv.id.clone()).await.unwrap().status,
        InvoiceStatus::Refunded
    );
    assert!(matches!(
        h.invoice("a/b".into()).await,
        Err(RegistryError::Protocol { .. })
    ));
    assert!(matches!(
        h.invoice("missing".into()).await,
        Err(RegistryError::NotFound { .. })
    ));

    // Both implementations behind the engine's bundle of `dyn` ports.
    let via_http = Registries::from_one(Arc::new(h.clone()));
    let via_sandbox = Registries::from_one(Arc::new(s.clone()));
    assert_eq!(
        via_http.gbd_fl.person(iin).await.unwrap(),
        via_sandbox.gbd_fl.person(iin).await.unwrap()
    );

    // Business answers never disturbed the breakers, and never waited.
    for p in Port::ALL {
        assert_eq!(h.breaker_state(p).state, BreakerState::Closed);
    }
    assert_eq!(fx.clock.now(), t0());
}

#[tokio::test]
async fn http_timeout_per_attempt() {
    let fx = fixture();
    let (srv, _) = serve(&fx).await;
    fx.sandbox
        .set_latency(Port::GbdFl, Duration::from_millis(700));
    let mut c = config(&srv.base_url());
    c.timeout = Duration::from_millis(150);
    c.attempts = 2;
    let h = HttpRegistries::new(c, fx.clock.clone()).unwrap();
    let start = Instant::now();
    let e = GbdFl::person(&h, plain(&fx)).await.unwrap_err();
    assert!(
        matches!(e, RegistryError::Timeout { port: Port::GbdFl, after } if after == Duration::from_millis(150)),
        "{e}"
    );
    assert_texts(&e.message());
    assert!(
        start.elapsed() < Duration::from_millis(650),
        "gave up on time"
    );
    assert_eq!(h.breaker_state(Port::GbdFl).consecutive_failures, 2);
    assert_eq!(
        fx.clock.now(),
        t0() + SignedDuration::from_millis(500),
        "one backoff"
    );
    // Another port answers meanwhile.
    assert!(h.check(plain(&fx)).await.is_ok());
}

#[tokio::test]
async fn http_retries_an_outage_within_the_budget_and_not_a_longer_one() {
    let fx = fixture();
    let (_srv, h) = serve(&fx).await;
    let iin = plain(&fx);
    // Attempts at t0, t0+0.5 s, t0+1.5 s (backoff 0.5 s then 1 s, on the simulated clock).
    fx.sandbox.set_outage(
        Port::LegalCapacity,
        t0() + SignedDuration::from_millis(1200),
    );
    let a = h.legal_capacity(iin).await.unwrap();
    assert_eq!(a.capacity, LegalCapacity::Full);
    assert_eq!(fx.clock.now(), t0() + SignedDuration::from_millis(1500));
    assert_eq!(
        h.breaker_state(Port::LegalCapacity).state,
        BreakerState::Closed
    );

    let start = fx.clock.now();
    fx.sandbox
        .set_outage(Port::LegalCapacity, start + SignedDuration::from_secs(10));
    let e = h.legal_capacity(iin).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unavailable {
                port: Port::LegalCapacity,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(fx.clock.now(), start + SignedDuration::from_millis(1500));

    // Three failed attempts opened the breaker: the next call is not made, nothing waits.
    let before = fx.clock.now();
    assert!(matches!(
        h.legal_capacity(stranger()).await,
        Err(RegistryError::CircuitOpen { .. })
    ));
    assert_eq!(fx.clock.now(), before);
}

#[tokio::test]
async fn http_does_not_retry_answers() {
    let fx = fixture();
    let (_srv, h) = serve(&fx).await;
    let e = GbdFl::person(&h, stranger()).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }));
    assert_eq!(fx.clock.now(), t0(), "no backoff for not found");
    let e = h.refund("missing-invoice".into()).await.unwrap_err();
    assert!(matches!(e, RegistryError::NotFound { .. }));
    assert_eq!(fx.clock.now(), t0());
}

#[tokio::test]
async fn http_unreachable_and_wrong_endpoint() {
    let fx = fixture();
    // A port nobody listens on: bind, note it, close.
    let addr = {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        l.local_addr().unwrap()
    };
    let h =
        HttpRegistries::new(config(&format!("http://{addr}/sandbox")), fx.clock.clone()).unwrap();
    let e = h.check(plain(&fx)).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Unavailable {
                port: Port::SpecialRecords,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        h.breaker_state(Port::SpecialRecords).state,
        BreakerState::Open
    );

    // A server that is up but has no such route: a protocol error, not "not found".
    let (srv, _) = serve(&fx).await;
    let mut c = config(&srv.base_url());
    c.endpoints
        .insert(Port::Sik, format!("{}/no-such-system", srv.base_url()));
    let h = HttpRegistries::new(c, fx.clock.clone()).unwrap();
    let e = h.social_statuses(plain(&fx), today()).await.unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::Protocol {
                port: Port::Sik,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn faults_can_be_injected_over_http() {
    let fx = fixture();
    let (srv, h) = serve(&fx).await;
    let until = t0() + SignedDuration::from_mins(1);
    let r = reqwest::Client::new()
        .put(format!("{}/_faults/bmg", srv.base_url()))
        .json(&serde_json::json!({ "outage_until": until }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(fx.sandbox.faults(Port::Bmg).outage_until, Some(until));
    let e = h
        .phone_registered(plain(&fx), "+7 701 555 00 00".into())
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        RegistryError::Unavailable {
            port: Port::Bmg,
            ..
        }
    ));
    let all: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/_faults", srv.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["bmg"]["outage_until"], until.to_string());
}

// ---------------------------------------------------------------------------------------
// The circuit breaker and seed 001 п. 12

#[tokio::test]
async fn breaker_opens_then_half_opens_after_the_cool_down() {
    let fx = fixture();
    let (_srv, h) = serve(&fx).await;
    let iin = plain(&fx);
    let port = Port::DigitalId;
    let (photo, _) = photos();
    fx.sandbox
        .set_outage(port, t0() + SignedDuration::from_hours(1));

    // One call fails all 3 attempts: 3 consecutive failures open the breaker.
    let e = h.identify(iin, photo.clone()).await.unwrap_err();
    assert!(matches!(e, RegistryError::Unavailable { .. }));
    let opened = fx.clock.now();
    let snap = h.breaker_state(port);
    assert_eq!(snap.state, BreakerState::Open);
    assert_eq!(snap.opened_at, Some(opened));
    assert_eq!(snap.consecutive_failures, 3);

    // Open: no call is made, nothing waits.
    let e = h.identify(iin, photo.clone()).await.unwrap_err();
    assert_eq!(
        e,
        RegistryError::CircuitOpen {
            port,
            since: opened
        }
    );
    assert!(e.is_technical() && !e.is_outage());
    assert_texts(&e.message());
    assert_eq!(fx.clock.now(), opened);
    // Other ports are not affected.
    assert!(h.check(iin).await.is_ok());

    // After the cool-down: half-open; a failed probe opens it again, keeping opened_at.
    fx.clock.advance(SignedDuration::from_secs(29));
    assert_eq!(h.breaker(port).state(), BreakerState::Open);
    fx.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(h.breaker(port).state(), BreakerState::HalfOpen);
    let probe_at = fx.clock.now();
    assert!(h.identify(iin, photo.clone()).await.is_err());
    let snap = h.breaker_state(port);
    assert_eq!(snap.state, BreakerState::Open);
    assert_eq!(snap.opened_at, Some(opened));
    assert_eq!(snap.reopened_at, Some(probe_at));

    // The system is back: the next probe closes it.
    fx.sandbox.clear_outage(port);
    fx.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(h.breaker(port).state(), BreakerState::HalfOpen);
    assert!(h.identify(iin, photo).await.unwrap().identified);
    let snap = h.breaker_state(port);
    assert_eq!(snap.state, BreakerState::Closed);
    assert_eq!(snap.opened_at, None);
    assert_eq!(snap.consecutive_failures, 0);
}

#[test]
fn counter_rule_uses_ten_minutes_after_opening() {
    let clock = Arc::new(ManualClock::new(t0()));
    let b = CircuitBreaker::new(BreakerConfig::default(), clock.clone());
    assert!(!failure_sends_to_counter(&b.snapshot(), t0()));
    b.record_failure();
    b.record_failure();
    assert_eq!(b.state(), BreakerState::Closed);
    assert!(!failure_sends_to_counter(
        &b.snapshot(),
        t0() + SignedDuration::from_hours(1)
    ));
    b.record_failure();
    assert_eq!(b.state(), BreakerState::Open);
    let at = |m: i64, s: i64| t0() + SignedDuration::from_mins(m) + SignedDuration::from_secs(s);
    assert!(!failure_sends_to_counter(
        &b.snapshot_at(at(2, 0)),
        at(2, 0)
    ));
    assert!(
        !failure_sends_to_counter(&b.snapshot_at(at(10, 0)), at(10, 0)),
        "not more than 10"
    );
    let s = b.snapshot_at(at(10, 1));
    assert_eq!(s.state, BreakerState::HalfOpen);
    assert!(failure_sends_to_counter(&s, at(10, 1)));
    // A probe failing later keeps the start of the failure.
    clock.set(at(11, 0));
    b.record_failure();
    assert_eq!(b.state(), BreakerState::Open);
    assert!(failure_sends_to_counter(&b.snapshot(), at(11, 0)));
    // Recovered: no longer.
    b.record_success();
    assert!(!failure_sends_to_counter(&b.snapshot(), at(11, 0)));
    assert_eq!(COUNTER_AFTER, SignedDuration::from_mins(10));
}

/// What the 19-step process will do at Digital-ID (step 3): try, and while the failure is
/// technical and not yet over 10 minutes old, wait a minute and try again.
async fn identify_or_counter(
    h: &HttpRegistries,
    clock: &ManualClock,
    iin: Iin,
    selfie: &[u8],
) -> Result<Identification, &'static str> {
    loop {
        match h.identify(iin, selfie.to_vec()).await {
            Ok(id) => return Ok(id),
            Err(e) if e.is_technical() => {
                if failure_sends_to_counter(&h.breaker_state(Port::DigitalId), clock.now()) {
                    return Err("counter");
                }
                clock.advance(SignedDuration::from_mins(1));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn digital_id_down_eleven_minutes_sends_to_the_counter_two_minutes_retries() {
    let (photo, _) = photos();

    // Down for 2 minutes: the step retries and succeeds, nobody goes to the counter.
    let fx = fixture();
    let (_srv, h) = serve(&fx).await;
    fx.sandbox
        .set_outage(Port::DigitalId, t0() + SignedDuration::from_mins(2));
    let id = identify_or_counter(&h, &fx.clock, plain(&fx), &photo).await;
    assert!(id.unwrap().identified);
    let waited = fx.clock.now().duration_since(t0());
    assert!(
        waited >= SignedDuration::from_mins(2) && waited < SignedDuration::from_mins(4),
        "{waited:?}"
    );
    assert_eq!(h.breaker_state(Port::DigitalId).state, BreakerState::Closed);

    // Down for 11 minutes: after more than 10 the person is sent to the counter.
    let fx = fixture();
    let (_srv, h) = serve(&fx).await;
    fx.sandbox
        .set_outage(Port::DigitalId, t0() + SignedDuration::from_mins(11));
    let r = identify_or_counter(&h, &fx.clock, plain(&fx), &photo).await;
    assert_eq!(r.unwrap_err(), "counter");
    let at = fx.clock.now().duration_since(t0());
    assert!(
        at > COUNTER_AFTER && at < SignedDuration::from_mins(11),
        "{at:?}"
    );
}
