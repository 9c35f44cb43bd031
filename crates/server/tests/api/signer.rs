//! The demo signer (issue 33) over a real WebSocket, speaking NCALayer's protocol as
//! ncalayer-js-client does: the greeting, basics' sign with an officer's IIN, commonUtils'
//! createCAdESFromBase64 (detached and attached) and createCAdESFromBase64Hash, refusals
//! (an unknown IIN, no key chosen, the KAZTOKEN probe), loopback only; the CMS verifies
//! with DRN's verifier and with `openssl cms -verify` against chain.pem, signed at the
//! signer's (shifted) clock.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use drn_core::Iin;
use drn_docs::{Officer, Pki};
use drn_server::signer::{self, DemoSigner, SignerError};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct World {
    dir: PathBuf,
    pki: Pki,
    officers: Vec<Iin>,
    url: String,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn iin(s: &str) -> Iin {
    Iin::parse(s).unwrap()
}

/// A demo PKI with two officers' keys and a signer on an ephemeral loopback port whose
/// clock runs from 2019-11-20 09:30 (Kazakhstan).
async fn world(name: &str) -> World {
    let dir = std::env::temp_dir().join(format!("drn-signer-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pki = Pki::open_or_create(&dir.join("pki")).unwrap();
    let officers = vec![iin("730318490002"), iin("901203490006")];
    pki.issue_demo_officer_keys(&[
        Officer::mvd(officers[0], "Сәрсенбаева Ұлжан Қуанышқызы"),
        Officer::mvd(officers[1], "Ахметов Серик Болатұлы"),
    ])
    .unwrap();
    let clock = Arc::new(drn_engine::ShiftedClock::starting_at(
        "2019-11-20T03:30:00Z".parse().unwrap(),
    ));
    let s = DemoSigner::from_pki_dir(pki.dir(), clock).unwrap();
    assert_eq!(s.iins().len(), 2);
    let addr = signer::spawn("127.0.0.1:0".parse().unwrap(), Arc::new(s))
        .await
        .unwrap();
    World {
        dir,
        pki,
        officers,
        url: signer::ws_url(addr),
    }
}

/// Connects and reads the greeting, as the client's `connect()` does.
async fn connect(url: &str) -> Socket {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = next(&mut ws).await;
    assert_eq!(hello["result"]["version"], "1.4.0");
    ws
}

async fn next(ws: &mut Socket) -> Value {
    loop {
        match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(_) => panic!("closed"),
            _ => continue,
        }
    }
}

async fn ask(ws: &mut Socket, request: Value) -> Value {
    ws.send(Message::Text(request.to_string().into()))
        .await
        .unwrap();
    next(ws).await
}

fn basics(data: &str, iin: &str) -> Value {
    json!({
        "module": "kz.gov.pki.knca.basics",
        "method": "sign",
        "args": {
            "allowedStorages": ["PKCS12"],
            "format": "cms",
            "data": data,
            "signingParams": { "decode": true, "encapsulate": false, "digested": false },
            "signerParams": { "extKeyUsageOids": ["1.3.6.1.5.5.7.3.4", "1.2.398.3.3.4.1.2.5"], "iin": iin, "chain": [] },
            "locale": "ru",
        },
    })
}

fn common(method: &str, args: Value) -> Value {
    json!({ "module": "kz.gov.pki.knca.commonUtils", "method": method, "args": args })
}

fn openssl() -> bool {
    let ok = Command::new("openssl").arg("version").output().is_ok();
    if !ok {
        println!(
            "SKIP: `openssl` is not installed; its checks are skipped (apt-get install openssl)"
        );
    }
    ok
}

fn openssl_verify(dir: &Path, cms: &[u8], content: Option<&[u8]>, ca: &Path) -> bool {
    let p7s = dir.join("x.p7s");
    std::fs::write(&p7s, cms).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(&p7s);
    if let Some(c) = content {
        let data = dir.join("x.bin");
        std::fs::write(&data, c).unwrap();
        cmd.arg("-content").arg(data);
    }
    let out = cmd
        .arg("-CAfile")
        .arg(ca)
        .args(["-purpose", "any", "-out", "/dev/null"])
        .output()
        .unwrap();
    if !out.status.success() {
        println!("{}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}

#[tokio::test]
async fn basics_sign_with_an_iin_makes_a_cms_that_verifies() {
    let w = world("basics").await;
    let mut ws = connect(&w.url).await;
    // The client's KAZTOKEN probe gets a non-200 code.
    let probe = ask(
        &mut ws,
        json!({ "module": "kz.digiflow.mobile.extensions", "method": "getVersion" }),
    )
    .await;
    assert_ne!(probe["code"], "200");
    assert!(probe.get("status").is_none());
    assert_eq!(
        ask(&mut ws, common("getActiveTokens", json!([]))).await,
        json!({ "code": "200", "responseObject": [] })
    );

    let content = "Реестр № 12 от 20.11.2019".as_bytes();
    let officer = w.officers[1];
    let r = ask(&mut ws, basics(&B64.encode(content), &officer.to_string())).await;
    assert_eq!(r["status"], true, "{r}");
    let cms = B64
        .decode(r["body"]["result"][0].as_str().unwrap())
        .unwrap();
    let v = drn_docs::verify_detached(content, &cms, w.pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    let s = &v.signatures[0];
    assert_eq!(s.serial_number.as_deref(), Some(&*format!("IIN{officer}")));
    assert_eq!(s.common_name.as_deref(), Some("Ахметов Серик Болатұлы"));
    // Signed at the signer's clock (the demo's date), not the host's.
    assert!(
        s.signing_time
            .as_deref()
            .unwrap()
            .starts_with("2019-11-20T03:3"),
        "{s:?}"
    );
    // Other bytes do not verify.
    assert!(
        !drn_docs::verify_detached(b"other bytes", &cms, w.pki.ca_der())
            .unwrap()
            .genuine
    );
    if openssl() {
        assert!(openssl_verify(
            &w.dir,
            &cms,
            Some(content),
            &w.pki.chain_path()
        ));
    }
    // An array of documents gives an array of signatures.
    let mut many = basics("", &w.officers[0].to_string());
    many["args"]["data"] = json!([B64.encode(b"one"), B64.encode(b"two")]);
    let r = ask(&mut ws, many).await;
    let result = r["body"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 2);
    let second = B64.decode(result[1].as_str().unwrap()).unwrap();
    let v = drn_docs::verify_detached(b"two", &second, w.pki.ca_der()).unwrap();
    assert!(v.genuine);
    assert_eq!(
        v.signatures[0].serial_number.as_deref(),
        Some(&*format!("IIN{}", w.officers[0]))
    );
}

#[tokio::test]
async fn create_cades_signs_with_the_key_used_last() {
    let w = world("cades").await;
    let mut ws = connect(&w.url).await;
    let content = b"formulary bytes";
    // No key chosen yet (two keys, no --key): an NCALayer-style error.
    let r = ask(
        &mut ws,
        common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", B64.encode(content), false]),
        ),
    )
    .await;
    assert_eq!(r["code"], "500", "{r}");
    assert!(r["message"].as_str().unwrap().contains("no key chosen"));
    // basics with an IIN chooses it; commonUtils then signs with it.
    let officer = w.officers[0];
    let r = ask(&mut ws, basics(&B64.encode(b"x"), &officer.to_string())).await;
    assert_eq!(r["status"], true);
    let info = ask(&mut ws, common("getKeyInfo", json!(["PKCS12"]))).await;
    assert_eq!(info["code"], "200");
    assert_eq!(info["responseObject"]["alias"], format!("IIN{officer}"));

    let r = ask(
        &mut ws,
        common(
            "createCAdESFromBase64",
            json!(["PKCS12", "SIGNATURE", B64.encode(content), false]),
        ),
    )
    .await;
    assert_eq!(r["code"], "200", "{r}");
    let cms = B64.decode(r["responseObject"].as_str().unwrap()).unwrap();
    let v = drn_docs::verify_detached(content, &cms, w.pki.ca_der()).unwrap();
    assert!(v.genuine, "{v:?}");
    assert_eq!(
        v.signatures[0].serial_number.as_deref(),
        Some(&*format!("IIN{officer}"))
    );

    // Over the hash: the same detached signature of the content.
    let digest = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        content,
    ));
    let r = ask(
        &mut ws,
        common(
            "createCAdESFromBase64Hash",
            json!(["PKCS12", "SIGNATURE", B64.encode(digest)]),
        ),
    )
    .await;
    assert_eq!(r["code"], "200", "{r}");
    let by_hash = B64.decode(r["responseObject"].as_str().unwrap()).unwrap();
    assert!(
        drn_docs::verify_detached(content, &by_hash, w.pki.ca_der())
            .unwrap()
            .genuine
    );

    // Attached: the CMS holds the content.
    let r = ask(
        &mut ws,
        common(
            "createCMSSignatureFromBase64",
            json!(["PKCS12", "SIGNATURE", B64.encode(content), true]),
        ),
    )
    .await;
    let attached = B64.decode(r["responseObject"].as_str().unwrap()).unwrap();
    assert!(attached
        .windows(content.len())
        .any(|w| w == content.as_slice()));
    if openssl() {
        assert!(openssl_verify(
            &w.dir,
            &cms,
            Some(content),
            &w.pki.chain_path()
        ));
        assert!(openssl_verify(
            &w.dir,
            &by_hash,
            Some(content),
            &w.pki.chain_path()
        ));
        assert!(openssl_verify(&w.dir, &attached, None, &w.pki.chain_path()));
        assert!(!openssl_verify(
            &w.dir,
            &cms,
            Some(b"changed"),
            &w.pki.chain_path()
        ));
    }
}

#[tokio::test]
async fn an_unknown_iin_and_a_bad_request_are_refused_in_ncalayers_shape() {
    let w = world("refuse").await;
    let mut ws = connect(&w.url).await;
    // A valid IIN with no key here.
    let r = ask(&mut ws, basics(&B64.encode(b"x"), "850207490003")).await;
    assert_eq!(r["status"], false, "{r}");
    assert_eq!(r["code"], "NO_KEY_FOR_IIN");
    assert!(r.get("message").is_some() && r.get("details").is_some());
    // Not an IIN.
    let r = ask(&mut ws, basics(&B64.encode(b"x"), "123")).await;
    assert_eq!(r["status"], false);
    // A usage the key lacks (an authentication key is asked for).
    let mut auth = basics(&B64.encode(b"x"), &w.officers[0].to_string());
    auth["args"]["signerParams"]["extKeyUsageOids"] = json!(["1.3.6.1.5.5.7.3.2"]);
    let r = ask(&mut ws, auth).await;
    assert_eq!(r["status"], false);
    assert_eq!(r["code"], "NO_KEY_WITH_USAGE");
    // XML is not signed; nonsense is answered, not dropped.
    let r = ask(
        &mut ws,
        common("signXml", json!(["PKCS12", "SIGNATURE", "<a/>", "", ""])),
    )
    .await;
    assert_eq!(r["code"], "500");
    ws.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(next(&mut ws).await["code"], "500");
}

#[tokio::test]
async fn the_signer_listens_on_loopback_only() {
    let w = world("loopback").await;
    let s =
        Arc::new(DemoSigner::from_pki_dir(w.pki.dir(), Arc::new(drn_engine::SystemClock)).unwrap());
    for addr in ["0.0.0.0:0", "192.168.1.10:13579", "[::]:0"] {
        match signer::spawn(addr.parse().unwrap(), s.clone()).await {
            Err(SignerError::NotLoopback(a)) => assert_eq!(a.to_string(), addr),
            other => panic!("{addr}: expected a refusal, got {other:?}"),
        }
    }
    assert!(
        signer::spawn("[::1]:0".parse().unwrap(), s.clone())
            .await
            .is_ok()
            || std::net::TcpListener::bind("[::1]:0").is_err()
    );
    // --key picks a key for commonUtils; an IIN without a key is refused.
    assert!(s.select(&w.officers[1]).is_ok());
    assert!(matches!(
        s.select(&iin("850207490003")),
        Err(SignerError::UnknownKey(_))
    ));
}
