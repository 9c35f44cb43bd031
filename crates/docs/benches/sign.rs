//! Signed address certificates per second on one core (goal: at least 500/s): render, the
//! MVD's and the Ministry of Justice's signatures inside the PDF, and the detached CMS.
//! Run: `cargo bench -p drn-docs --bench sign` (DRN_BENCH_N sets the count).

use drn_docs::sample::sample;
use drn_docs::{cms, render, sign_pdf, verify, Authority, DocumentKind, Pki};
use std::time::{Duration, Instant};

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("DRN_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let dir = std::env::temp_dir().join(format!("drn-docs-bench-{}", std::process::id()));
    let pki = Pki::open_or_create(&dir)?;
    let mvd = pki.authority(Authority::Mvd);
    let moj = pki.authority(Authority::Justice);
    let docs: Vec<_> = (0..n)
        .map(|i| {
            sample(
                DocumentKind::AddressCertificate,
                &format!("0197a3c1-7e55-7000-8000-{i:012}"),
                &format!("AS-2025-{i:06}"),
            )
        })
        .collect();
    // Warm-up: the font subsets are made once per process.
    drn_docs::issue(&docs[0], &pki, "https://drn.example.kz")?;

    let t = Instant::now();
    let mut bytes = 0usize;
    for d in &docs {
        bytes += render(d, "https://drn.example.kz")?.bytes.len();
    }
    let render_time = t.elapsed();

    let t = Instant::now();
    let mut last = Vec::new();
    for d in &docs {
        let mut pdf = render(d, "https://drn.example.kz")?;
        sign_pdf(&mut pdf, mvd, "Адресная справка", jiff::Timestamp::now())?;
        sign_pdf(&mut pdf, moj, "Адресная справка", jiff::Timestamp::now())?;
        let p7s = cms::sign_detached(pdf.bytes(), &[mvd, moj])?;
        std::hint::black_box(&p7s);
        last = pdf.into_bytes();
    }
    let full_time = t.elapsed();

    let m = n.min(500);
    let t = Instant::now();
    for _ in 0..m {
        let v = verify(&last, pki.ca_der())?;
        assert!(v.genuine);
    }
    let verify_time = t.elapsed();

    println!("drn-docs signing benchmark, one thread, {n} address certificates");
    println!("| step                                         | per second | ms each |");
    println!("|----------------------------------------------|-----------:|--------:|");
    for (name, count, time) in [
        ("render (A4, fonts, QR)", n, render_time),
        ("render + MVD + Justice in-PDF + detached CMS", n, full_time),
        ("verify both in-PDF signatures (Rust)", m, verify_time),
    ] {
        println!(
            "| {name:<44} | {:>10.0} | {:>7.3} |",
            rate(count, time),
            time.as_secs_f64() * 1000.0 / count as f64
        );
    }
    println!(
        "average unsigned PDF {} KiB; signed address certificate {} KiB",
        bytes / n / 1024,
        last.len() / 1024
    );
    let signed_rate = rate(n, full_time);
    println!(
        "signed address certificates per second: {signed_rate:.0} (goal 500: {})",
        if signed_rate >= 500.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
