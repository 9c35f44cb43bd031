//! The 2025 pilot: online renewal of an ID card (S1E) through the sandboxed state systems.

use std::path::Path;

use drn_core::{Channel, Iin};
use drn_engine::commands::Representative;
use drn_engine::*;
use jiff::SignedDuration;

use crate::support::*;

// ---------------------------------------------------------------------------------------
// Issue 6: the 2025 pilot, online renewal of an ID card (S1E, seed 001 п. 3 steps 1-19),
// through the sandboxed state systems on a simulated clock.

pub(crate) mod pilot {
    use super::*;
    use base64::Engine as _;
    use drn_engine::online_renewal::{self as orn, photo, RenewalRequest, RenewalStatus, Review};
    use drn_registries::{BranchCases, InvoiceStatus, Port, Sandbox, SandboxPerson};
    use jiff::civil::{date, Date};
    use jiff::ToSpan;

    pub struct Pilot {
        pub w: World,
        pub sandbox: Sandbox,
        pub cases: BranchCases,
        pub pki: drn_docs::Pki,
        /// Plain persons no case took, in DRN.
        pub spare: Vec<Iin>,
        /// A plain person the sandbox knows and DRN does not.
        pub unknown_to_drn: Iin,
        pub photo: Vec<u8>,
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    pub const TODAY: (i16, i8, i8) = (2025, 11, 20);

    pub fn today() -> Date {
        date(TODAY.0, TODAY.1, TODAY.2)
    }

    pub async fn pilot(url: &str) -> Pilot {
        let w = world(url, "2025-11-20T10:00").await;
        let mut persons = drn_registries::sandbox::sample_persons(today(), 24);
        for p in &mut persons {
            if let Some(c) = p.id_card.as_mut() {
                c.expires = today().checked_add(5.days()).unwrap();
                c.issued = c.expires.checked_sub(10.years()).unwrap();
            }
        }
        let clock = orn::bridge_clock(w.clock.clone());
        let (sandbox, cases) = Sandbox::with_branch_cases(persons, today(), clock);
        let taken: Vec<Iin> = cases.all().into_iter().map(|(_, i)| i).collect();
        let mut spare: Vec<Iin> = sandbox
            .persons()
            .into_iter()
            .filter(|p| !taken.contains(&p.iin) && p.is_plain())
            .map(|p| p.iin)
            .collect();
        let unknown_to_drn = spare.pop().unwrap();
        let drn: Vec<Person> = sandbox
            .persons()
            .into_iter()
            .filter(|p| p.iin != unknown_to_drn)
            .map(|p| Person {
                iin: p.iin,
                surname: p.surname,
                given_name: p.given_name,
                patronymic: p.patronymic,
                birth_date: p.birth_date,
                sex: p.sex,
                citizenship: "KZ".into(),
                data: serde_json::json!({}),
            })
            .collect();
        w.engine.put_persons(&Actor::system(), &drn).await.unwrap();
        let dir = std::env::temp_dir().join(format!("drn-pilot-pki-{}", uuid::Uuid::now_v7()));
        let pki = drn_docs::Pki::open_or_create(&dir).unwrap();
        w.engine.set_online_renewal(
            orn::Setup::sandboxed(sandbox.clone()).with_citizen_ca(pki.ca_der().to_vec()),
        );
        let photo = photo::synthetic_photo(360, 480, [245, 245, 245], 0.0);
        sandbox.override_photo(&photo, true);
        Pilot {
            w,
            sandbox,
            cases,
            pki,
            spare,
            unknown_to_drn,
            photo,
        }
    }

    impl Pilot {
        pub fn person(&self, iin: Iin) -> SandboxPerson {
            self.sandbox.person(iin).unwrap()
        }

        /// A request signed by `signer`'s certificate (the applicant's by default).
        pub fn request_by(&self, iin: Iin, photo: &[u8], signer: Iin) -> RenewalRequest {
            let sig = photo::synthetic_signature();
            let phone = self
                .person(iin)
                .phone
                .unwrap_or_else(|| "+7 701 000 00 00".into());
            let content = orn::request_to_sign(&iin, "C71-1", &phone, photo, &sig);
            let cert = self.pki.officer(&signer, "Citizen").unwrap();
            let cms = drn_docs::cms::sign_detached(&content, &[&cert]).unwrap();
            RenewalRequest {
                channel: Channel::Portal,
                reason: "expiry".into(),
                phone,
                unit: "C71-1".into(),
                photo: b64(photo),
                signature_sample: b64(&sig),
                selfie: None,
                request_signature: b64(&cms),
            }
        }

        pub fn request(&self, iin: Iin) -> RenewalRequest {
            self.request_by(iin, &self.photo, iin)
        }

        pub async fn submit(&self, req: RenewalRequest, iin: Iin) -> orn::Renewal {
            self.w
                .engine
                .renewal_submit(&Actor::citizen(iin), req)
                .await
                .unwrap()
        }

        pub fn set_expiry(&self, iin: Iin, days: i64) {
            let mut p = self.person(iin);
            let c = p.id_card.as_mut().unwrap();
            c.expires = today().checked_add(days.days()).unwrap();
            self.sandbox.upsert(p);
        }
    }

    /// Sent to the counter at `step`, nothing charged, no application.
    pub fn at_counter(r: &orn::Renewal, step: u32) {
        assert_eq!(r.status, RenewalStatus::ToCounter, "{r:?}");
        assert_eq!(r.step, step, "{r:?}");
        assert!(r.duty.is_none(), "charged: {r:?}");
        assert!(r.application.is_none());
        assert!(r.reason.as_ref().is_some_and(|t| !t.ru.is_empty()));
        let last = r.checks.last().unwrap();
        assert_eq!((last.step, last.outcome), (step, orn::CheckOutcome::Failed));
    }

    pub async fn happy_path_and_every_branch(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let c = &p.cases;

        // Happy path: steps 1-16 online, the duty 0.2 МРП of 2025 = 786 ₸ paid.
        let iin = c.plain.unwrap();
        let who = Actor::citizen(iin);
        let el = e.renewal_eligibility(&who, &iin).await.unwrap();
        assert!(el.available && el.duty_tenge == Some(786), "{el:?}");
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert_eq!(r.step, 15);
        let duty = r.duty.clone().unwrap();
        assert_eq!((duty.amount_tenge, duty.mrp, duty.year), (786, 3932, 2025));
        assert!(r.talon.as_deref().unwrap().starts_with("C71-1-2025-"));
        // A second renewal cannot start beside it.
        let again = e.renewal_submit(&who, p.request(iin)).await.unwrap_err();
        assert_eq!(again.code(), "forbidden");
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        assert_eq!(
            (r.status, r.step),
            (RenewalStatus::UnderReview, 17),
            "{r:?}"
        );
        assert_eq!(r.duty.as_ref().unwrap().status, "paid");
        let app_id = r.application.clone().unwrap();
        let app = e.application(&p.w.region, &app_id, "test").await.unwrap();
        assert_eq!(
            (app.service.as_str(), app.holder_unit.as_str()),
            ("S1E", "R71")
        );
        // Only the regional officer reviews.
        let wrong = e
            .renewal_review(
                &p.w.counter,
                &app_id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), "forbidden");
        let app = app_of(
            &e.renewal_review(
                &p.w.region,
                &app_id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap(),
        );
        assert_eq!((app.step, app.holder_unit.as_str()), (18, "IPC"));
        let app = complete(&p.w, &p.w.production, &app).await;
        // Seed 001 п. 11: «Выдача результата оказания государственной услуги
        // осуществляется в соответствующем регистрационном пункте, сотрудником
        // территориального подразделения миграционной службы»: the district above the
        // chosen point issues, not the State Corporation's counter (issue 30 item 4).
        assert_eq!((app.step, app.holder_unit.as_str()), (19, "D71-1"));
        assert_eq!(
            e.renewal(&who, &r.id).await.unwrap().status,
            RenewalStatus::ReadyForIssue
        );
        // No proxy in the pilot; in person at the chosen point.
        let proxy = Command::Issue {
            application: app.id.clone(),
            revision: app.revision,
            receiver: p.spare[0],
            representative: Some(Representative {
                iin: p.spare[0],
                authority: "доверенность № 1".into(),
            }),
        };
        assert_eq!(
            e.execute(&p.w.district, &proxy, None)
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        let issue = Command::Issue {
            application: app.id.clone(),
            revision: app.revision,
            receiver: iin,
            representative: None,
        };
        assert_eq!(
            e.execute(&p.w.counter, &issue, None)
                .await
                .unwrap_err()
                .code(),
            "forbidden",
            "the counter operator does not issue the renewed card"
        );
        e.execute(&p.w.district, &issue, None).await.unwrap();
        assert_eq!(
            e.renewal(&who, &r.id).await.unwrap().status,
            RenewalStatus::Issued
        );
        // Every one of the 19 steps is on the timeline.
        let tl = e.timeline(&p.w.centre, &app_id).await.unwrap();
        for n in 1..=19u32 {
            assert!(
                tl.iter()
                    .any(|ev| ev.step == Some(n) && ev.kind == EventKind::StepCompleted),
                "step {n} not completed on the timeline: {tl:?}"
            );
        }
        assert!(tl.iter().any(|ev| ev.kind == EventKind::Issued));

        // Each failed check: to the counter at its step, nothing charged.
        at_counter(
            &p.submit(
                p.request(c.consent_denied.unwrap()),
                c.consent_denied.unwrap(),
            )
            .await,
            1,
        );
        at_counter(
            &p.submit(
                p.request(c.phone_not_in_bmg.unwrap()),
                c.phone_not_in_bmg.unwrap(),
            )
            .await,
            2,
        );
        at_counter(
            &p.submit(
                p.request(c.liveness_fails.unwrap()),
                c.liveness_fails.unwrap(),
            )
            .await,
            3,
        );
        at_counter(
            &p.submit(p.request(c.incapable.unwrap()), c.incapable.unwrap())
                .await,
            4,
        );
        let r = p
            .submit(p.request(c.name_change.unwrap()), c.name_change.unwrap())
            .await;
        at_counter(&r, 5);
        assert!(r.checks.last().unwrap().detail["changes"][0] == "surname");
        at_counter(
            &p.submit(
                p.request(c.no_registration.unwrap()),
                c.no_registration.unwrap(),
            )
            .await,
            6,
        );

        // The reason must be expiry (п. 7).
        let s = p.spare[0];
        let mut other = p.request(s);
        other.reason = "loss".into();
        let r = p.submit(other, s).await;
        assert_eq!(r.status, RenewalStatus::ToCounter);
        assert_eq!(
            r.reason.unwrap().ru,
            "оформление не доступно, обратитесь в ЦОН"
        );

        // Step 9: an unusable signature sample.
        let mut bad_sig = p.request(s);
        bad_sig.signature_sample = b64(&p.photo);
        at_counter(&p.submit(bad_sig, s).await, 9);
        // Step 10: the photo fails the requirements (subject off-centre).
        let off = photo::synthetic_photo(360, 480, [245, 245, 245], 0.3);
        p.sandbox.override_photo(&off, true);
        let r = p.submit(p.request_by(s, &off, s), s).await;
        at_counter(&r, 10);
        let issues = r.checks.last().unwrap().detail["issues"].clone();
        assert!(
            issues
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"] == "face"),
            "{issues}"
        );
        // Step 11: Digital-ID identifies the selfie, but the photo is not ГБД ФЛ's.
        let other_photo = photo::synthetic_photo(360, 480, [238, 238, 238], 0.0);
        p.sandbox.override_photo(&other_photo, false);
        let mut req = p.request_by(s, &other_photo, s);
        req.selfie = Some(b64(&p.photo));
        at_counter(&p.submit(req, s).await, 11);
        // Step 12: signed with another person's certificate; a broken signature.
        at_counter(
            &p.submit(p.request_by(s, &p.photo, p.spare[1]), s).await,
            12,
        );
        let mut broken = p.request(s);
        broken.request_signature = b64(b"not a CMS");
        at_counter(&p.submit(broken, s).await, 12);
        // Step 13: DRN has no such person: the registration is refused.
        let u = p.unknown_to_drn;
        let r = p.submit(p.request(u), u).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Refused, 13), "{r:?}");
        assert!(r.duty.is_none());
        // Step 14: a social status exempts: no invoice, straight to the review.
        let x = c.social_status.unwrap();
        let r = p.submit(p.request(x), x).await;
        assert_eq!(
            (r.status, r.step),
            (RenewalStatus::UnderReview, 17),
            "{r:?}"
        );
        let d = r.duty.unwrap();
        assert_eq!((d.status.as_str(), d.invoice), ("exempt", None));
        // Place of birth: no ЗАГС record and none in DRN's record: left for the review.
        let h = c.no_zags_birthplace.unwrap();
        let r = p.submit(p.request(h), h).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert_eq!(r.place_of_birth, None);
    }

    /// п. 7's window, at its edges: 30 days ahead and 10 days expired are in; 31 and 11
    /// are not.
    pub async fn window_edges(url: &str) {
        let p = pilot(url).await;
        let s = &p.spare;
        for (iin, days, ok) in [
            (s[0], 30, true),
            (s[1], 31, false),
            (s[2], -10, true),
            (s[3], -11, false),
        ] {
            p.set_expiry(iin, days);
            let el =
                p.w.engine
                    .renewal_eligibility(&Actor::citizen(iin), &iin)
                    .await
                    .unwrap();
            assert_eq!(el.available, ok, "{days}: {el:?}");
            let r = p.submit(p.request(iin), iin).await;
            if ok {
                assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{days}: {r:?}");
            } else {
                at_counter(&r, 7);
                assert_eq!(
                    r.reason.unwrap().ru,
                    "оформление не доступно, обратитесь в ЦОН"
                );
            }
        }
        // Outside the pilot's period (after 31 March 2026): not available online.
        p.w.clock.set(at("2026-04-01T10:00"));
        let iin = s[4];
        let el =
            p.w.engine
                .renewal_eligibility(&Actor::citizen(iin), &iin)
                .await
                .unwrap();
        assert!(!el.available);
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::NotAvailable);
    }

    /// An administrator extends the pilot's period past the catalog's 31 March 2026; the
    /// renewal runs through the extension (the intake uses the catalog's last version) and
    /// stops after it. Only an administrator, only later days, audited.
    pub async fn pilot_extension(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let admin = Actor::staff("admin", Role::Administrator, uid("KZ"));
        let until = date(2026, 6, 30);
        // Not a clerk's business; not a day inside the period; a cite is needed.
        assert_eq!(
            e.extend_pilot(&p.w.region, until, "Приказ № 1 от 01.03.2026")
                .await
                .unwrap_err()
                .code(),
            "forbidden"
        );
        for (day, cite) in [
            (date(2026, 3, 31), "Приказ № 1 от 01.03.2026"),
            (until, "x"),
        ] {
            assert_eq!(
                e.extend_pilot(&admin, day, cite).await.unwrap_err().code(),
                "invalid",
                "{day} {cite}"
            );
        }
        assert_eq!(
            e.pilot_period().await.unwrap(),
            (Some(date(2026, 3, 31)), None)
        );
        // Before the extension, 1 April 2026 is outside the pilot.
        p.w.clock.set(at("2026-04-01T10:00"));
        let iin = p.spare[0];
        p.set_expiry(iin, -130);
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        p.w.clock.set(at("2025-11-20T10:00"));
        e.extend_pilot(&admin, until, "Совместный приказ МВД № 100 от 20.03.2026")
            .await
            .unwrap();
        assert_eq!(
            e.pilot_period().await.unwrap(),
            (Some(date(2026, 3, 31)), Some(until))
        );
        let ext = e.pilot_extensions().await.unwrap();
        assert_eq!(
            (ext.len(), ext[0].until, ext[0].added_by.as_str()),
            (1, until, "admin")
        );
        let audit = e.audit_log(Some("service:S1E"), 10).await.unwrap();
        assert_eq!(audit[0].action, "extend_pilot");
        // Inside the catalog's period the extension shows as the last day.
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert_eq!(el.pilot_until, Some(until));
        // In the extension: available, and the application is registered and paid.
        p.w.clock.set(at("2026-04-15T10:00"));
        let mut pp = p.person(iin);
        pp.id_card.as_mut().unwrap().expires = date(2026, 4, 20);
        p.sandbox.upsert(pp);
        let el = e
            .renewal_eligibility(&Actor::citizen(iin), &iin)
            .await
            .unwrap();
        assert!(el.available, "{el:?}");
        assert_eq!(el.pilot_until, Some(until));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        let r = e
            .renewal_pay_in_sandbox(&Actor::citizen(iin), &r.id)
            .await
            .unwrap();
        assert_eq!(r.status, RenewalStatus::UnderReview, "{r:?}");
        // After the extension: not available online again.
        p.w.clock.set(at("2026-07-01T10:00"));
        let other = p.spare[1];
        let el = e
            .renewal_eligibility(&Actor::citizen(other), &other)
            .await
            .unwrap();
        assert!(!el.available);
        assert_eq!(
            el.message.unwrap().en,
            "The service is not available online."
        );
        let r = p.submit(p.request(other), other).await;
        assert_eq!(r.status, RenewalStatus::NotAvailable);
    }

    /// Annulment at the review refunds the paid duty; the person applies and pays again.
    pub async fn annulment_refunds(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let iin = p.spare[0];
        let who = Actor::citizen(iin);
        let r = p.submit(p.request(iin), iin).await;
        let first_invoice = r.duty.as_ref().unwrap().invoice.clone().unwrap();
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        let app = e
            .application(&p.w.region, r.application.as_ref().unwrap(), "test")
            .await
            .unwrap();
        let out = e
            .renewal_review(
                &p.w.region,
                &app.id,
                &Review::Annul {
                    revision: app.revision,
                    ground: orn::AnnulGround::PhotoOrSignature,
                    reason: "фото не соответствует требованиям".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(app_of(&out).status, Status::Annulled);
        let r = e.renewal(&who, &r.id).await.unwrap();
        assert_eq!(r.status, RenewalStatus::Annulled);
        assert_eq!(r.duty.as_ref().unwrap().status, "refunded");
        let inv = drn_registries::Payments::invoice(&p.sandbox, first_invoice.clone())
            .await
            .unwrap();
        assert_eq!(inv.status, InvoiceStatus::Refunded);
        // Again, paying again.
        let r2 = p.submit(p.request(iin), iin).await;
        assert_eq!(r2.status, RenewalStatus::AwaitingPayment);
        assert_ne!(r2.duty.unwrap().invoice.unwrap(), first_invoice);
    }

    /// Issue 29: the regional officer's review shows the applicant's name and birth date
    /// as ГБД ФЛ gave them and the photo of the current document from ГБД ФЛ beside the
    /// attached one; a person ГБД ФЛ holds no photo of reads as "missing", a ГБД ФЛ
    /// outage as "unavailable"; only the regional directorate reads it, and the read is
    /// audited.
    pub async fn review_material(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let (iin, other) = (p.spare[0], p.spare[1]);
        let who = Actor::citizen(iin);
        let r = p.submit(p.request(iin), iin).await;
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        assert_eq!(r.step, 17, "{r:?}");
        let person = p.person(iin);
        let m = e.renewal_review_material(&p.w.region, &r.id).await.unwrap();
        assert_eq!(m.iin, iin);
        assert_eq!(m.surname.as_deref(), Some(person.surname.as_str()));
        assert_eq!(m.given_name.as_deref(), Some(person.given_name.as_str()));
        assert_eq!(m.patronymic, person.patronymic);
        assert_eq!(m.birth_date, Some(person.birth_date));
        assert_eq!(m.photo, b64(&p.photo));
        let orn::PhotoOnRecord::Found { mime, base64 } = &m.on_record else {
            panic!("no photo on record: {m:?}");
        };
        assert_eq!(mime, "image/png");
        let png = base64::engine::general_purpose::STANDARD
            .decode(base64)
            .unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (150, 200));
        // The same picture on every read, another for another person.
        assert_eq!(png, drn_registries::sandbox::record_photo(&iin));
        assert_ne!(png, drn_registries::sandbox::record_photo(&other));
        let log = e
            .audit_log(Some(&format!("person:{iin}")), 100)
            .await
            .unwrap();
        assert!(
            log.iter().any(|a| a.action == "read_person_photo"),
            "{log:?}"
        );
        // Only the regional directorate.
        for actor in [&who, &p.w.counter] {
            let no = e.renewal_review_material(actor, &r.id).await.unwrap_err();
            assert_eq!(no.code(), "forbidden");
        }
        // ГБД ФЛ holds no photo: said so.
        let mut none = p.person(iin);
        none.no_photo = true;
        p.sandbox.upsert(none);
        let m = e.renewal_review_material(&p.w.region, &r.id).await.unwrap();
        assert_eq!(m.on_record, orn::PhotoOnRecord::Missing);
        assert_eq!(m.surname.as_deref(), Some(person.surname.as_str()));
        // ГБД ФЛ is down: unavailable, not "missing".
        p.sandbox
            .set_outage_for(Port::GbdFl, SignedDuration::from_mins(5));
        let m = e.renewal_review_material(&p.w.region, &r.id).await.unwrap();
        assert_eq!(m.on_record, orn::PhotoOnRecord::Unavailable);
    }

    /// Issue 28 item 3: a second renewal beside an open one is refused (no second
    /// invoice); once the card is issued it is in the person's record and in ГБД ФЛ, so
    /// eligibility and a new renewal meet п. 7 with the new card: "услуга оказывается только,
    /// если до истечения срока действия удостоверения личности осталось 30 и меньше
    /// календарных дней или срок действия удостоверения личности истек не более чем на 10
    /// календарных дней".
    pub async fn issue_reaches_record_and_gbd(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        let iin = p.spare[0];
        let who = Actor::citizen(iin);
        let old = p.person(iin).id_card.unwrap();
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        let again = e.renewal_submit(&who, p.request(iin)).await.unwrap_err();
        assert_eq!(again.code(), "forbidden");
        assert!(
            again.to_string().contains("no new application or invoice"),
            "{again}"
        );
        let r = e.renewal_pay_in_sandbox(&who, &r.id).await.unwrap();
        let again = e.renewal_submit(&who, p.request(iin)).await.unwrap_err();
        assert_eq!(again.code(), "forbidden", "under review: {again}");
        let app_id = r.application.clone().unwrap();
        let app = e.application(&p.w.region, &app_id, "test").await.unwrap();
        let app = app_of(
            &e.renewal_review(
                &p.w.region,
                &app_id,
                &Review::Approve {
                    revision: app.revision,
                },
            )
            .await
            .unwrap(),
        );
        let app = complete(&p.w, &p.w.production, &app).await;
        issue_to(&p.w, &p.w.district, &app, iin).await.unwrap();
        let tl = e.timeline(&p.w.centre, &app_id).await.unwrap();
        let number = tl
            .iter()
            .find(|x| x.kind == EventKind::Issued)
            .unwrap()
            .data["document"]
            .as_str()
            .unwrap()
            .to_string();
        // The record: the new card in force.
        let rec = e.person(&p.w.counter, &iin, "test").await.unwrap();
        assert_eq!(
            drn_engine::demo::id_card_expiry(&rec),
            Some(today().checked_add(10.years()).unwrap())
        );
        let card = rec.data["documents"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(
            (card["kind"].as_str(), card["number"].as_str()),
            (Some("id_card"), Some(number.as_str()))
        );
        // ГБД ФЛ (the sandbox) answers with it; the old card is gone from its answer.
        let gbd = p.person(iin).id_card.unwrap();
        assert_eq!(gbd.number, number);
        assert_ne!(gbd, old);
        assert_eq!(gbd.expires, today().checked_add(10.years()).unwrap());
        // Eligibility says no, and a new renewal stops at step 7 without an invoice.
        let el = e.renewal_eligibility(&who, &iin).await.unwrap();
        assert!(!el.available, "{el:?}");
        assert_eq!(el.card_expires, Some(gbd.expires));
        let r = p.submit(p.request(iin), iin).await;
        assert!(r.duty.is_none() && r.application.is_none(), "{r:?}");
        assert_eq!(
            r.reason.unwrap().ru,
            "оформление не доступно, обратитесь в ЦОН"
        );
    }

    /// п. 12 on the simulated clock: Digital-ID down 11 minutes sends the person to the
    /// counter; down 2 minutes, the retry succeeds.
    pub async fn digital_id_outages(url: &str) {
        let p = pilot(url).await;
        let e = &p.w.engine;
        // Down for 11 minutes.
        let iin = p.spare[0];
        p.sandbox
            .set_outage_for(Port::DigitalId, SignedDuration::from_mins(11));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_mins(5));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_secs(5 * 60 + 30));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        at_counter(&r, 3);
        assert!(r.reason.unwrap().en.contains("more than 10 minutes"));
        // Back up: the next session goes through and closes the breaker.
        p.w.clock.advance(SignedDuration::from_mins(1));
        let up = p.spare[2];
        let r = p.submit(p.request(up), up).await;
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        // Down for 2 minutes: the retry after it succeeds and the session goes on.
        let iin = p.spare[1];
        p.sandbox
            .set_outage_for(Port::DigitalId, SignedDuration::from_mins(2));
        let r = p.submit(p.request(iin), iin).await;
        assert_eq!((r.status, r.step), (RenewalStatus::Retry, 3), "{r:?}");
        p.w.clock.advance(SignedDuration::from_mins(2));
        let r = e.renewal_retry(&Actor::citizen(iin), &r.id).await.unwrap();
        assert_eq!(r.status, RenewalStatus::AwaitingPayment, "{r:?}");
        assert!(r
            .checks
            .iter()
            .any(|c| c.step == 3 && c.outcome == orn::CheckOutcome::Technical));
    }
}

use pilot::{
    annulment_refunds, digital_id_outages, happy_path_and_every_branch,
    issue_reaches_record_and_gbd, pilot_extension, review_material, window_edges,
};
on_both!(s1e_review_shows_name_and_photo_on_record, review_material);
on_both!(
    s1e_online_renewal_19_steps_and_branches,
    happy_path_and_every_branch
);
on_both!(s1e_window_edges_and_pilot_period, window_edges);
on_both!(s1e_annulment_refunds_and_reapply, annulment_refunds);
on_both!(s1e_administrator_extends_the_pilot, pilot_extension);
on_both!(s1e_digital_id_outage_11_and_2_minutes, digital_id_outages);
on_both!(
    s1e_issued_card_reaches_the_record_and_gbd,
    issue_reaches_record_and_gbd
);

/// The photo checks on committed image files (a JPEG that passes, a PNG on a dark
/// background that fails). `DRN_WRITE_FIXTURES=1` writes them again.
#[test]
fn s1e_photo_checks_on_fixture_files() {
    use drn_engine::online_renewal::photo;
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
    if std::env::var_os("DRN_WRITE_FIXTURES").is_some() {
        let ok = photo::synthetic_photo(300, 400, [242, 242, 242], 0.0);
        let img = image::load_from_memory(&ok).unwrap();
        let mut jpeg = std::io::Cursor::new(Vec::new());
        img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
        std::fs::write(dir.join("photo_ok.jpg"), jpeg.into_inner()).unwrap();
        std::fs::write(
            dir.join("photo_dark_background.png"),
            photo::synthetic_photo(300, 400, [30, 30, 40], 0.0),
        )
        .unwrap();
        std::fs::write(dir.join("signature.png"), photo::synthetic_signature()).unwrap();
    }
    let ok = std::fs::read(dir.join("photo_ok.jpg")).unwrap();
    assert!(
        photo::check_photo(&ok).is_ok(),
        "{:?}",
        photo::check_photo(&ok)
    );
    let dark = std::fs::read(dir.join("photo_dark_background.png")).unwrap();
    let issues = photo::check_photo(&dark).unwrap_err();
    assert!(issues.iter().any(|i| i.code == "background"), "{issues:?}");
    let sig = std::fs::read(dir.join("signature.png")).unwrap();
    assert!(photo::check_signature(&sig).is_ok());
}
