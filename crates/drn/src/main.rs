//! `drn`: the DRN command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use drn_core::catalog::{diff, StepLimit};
use drn_core::{
    kz_time, kz_tz, plan, Calendar, Catalog, Iin, PlanBasis, Sex, UnitHours, Urgency, WorkingDays,
};
use drn_engine::catalog_files;
use jiff::civil::{Date, DateTime};
use jiff::Timestamp;

#[derive(Parser)]
#[command(
    name = "drn",
    version,
    about = "DRN: documenting and registration of the population"
)]
struct Cli {
    /// The catalog directory (default: $DRN_CATALOG, ./catalog, or the source tree's).
    #[arg(long, global = true)]
    catalog: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Individual identification numbers (ИИН).
    Iin {
        #[command(subcommand)]
        cmd: IinCmd,
    },
    /// The national working-day calendar.
    Calendar {
        #[command(subcommand)]
        cmd: CalendarCmd,
    },
    /// The service catalog.
    Catalog {
        #[command(subcommand)]
        cmd: CatalogCmd,
    },
    /// Run the server (JSON API, OpenAPI at /api/openapi.json).
    Serve {
        /// sqlite://FILE (default sqlite://drn.db in the working directory) or postgres://…
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Fill an empty database with demo data and print how to sign in.
        #[arg(long)]
        demo: bool,
        /// Synthetic persons for the demo.
        #[arg(long, default_value_t = 10_000)]
        persons: usize,
        /// Run as of this instant (RFC 3339 or Kazakhstan local time), time passing from
        /// there. Default with --demo: 2019-11-20 09:30, when the 2018 regulations of the
        /// seeds were in force; all the seeds' acts are repealed by now.
        #[arg(long)]
        as_of: Option<String>,
        /// Mark cookies Secure (serve behind TLS).
        #[arg(long)]
        secure_cookies: bool,
        /// The data directory: the demo PKI's keys and certificates under DIR/pki (made at
        /// first start; the server refuses to start if a private key there is readable
        /// by others).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// The public address printed in documents' QR codes (default http://ADDR).
        #[arg(long)]
        base_url: Option<String>,
        /// Where the signed heads of the audit chain are kept, outside the database
        /// (default DATA/audit-anchors); check them with `drn audit verify --anchors`.
        #[arg(long)]
        audit_anchors: Option<PathBuf>,
        /// Also POST each signed head (JSON) to this address: a copy out of this
        /// machine's reach.
        #[arg(long)]
        audit_anchor_url: Option<String>,
        /// Minutes between two signed heads.
        #[arg(long, default_value_t = 10)]
        audit_anchor_minutes: u64,
        /// Officers sign registries, results and refusals with their own keys (NCALayer):
        /// `required` (a registry is not signed or sent, a result or refusal not released,
        /// without the officer's verified signature) or `optional` (documents nobody
        /// signed carry the authorities' signatures alone).
        #[arg(long, value_enum, default_value_t = SignaturePolicy::Required)]
        officer_signatures: SignaturePolicy,
        /// A PEM bundle of trusted roots and intermediates for officers' certificates (НУЦ
        /// РК's in production); repeatable. The data directory's demo CA is trusted besides.
        #[arg(long)]
        trust: Vec<PathBuf>,
        /// A certificate revocation list (CRL, DER or PEM) of an issuer: a file the
        /// administrator keeps current (read at each signature), or the http(s) address of
        /// a distribution point, fetched at start, every 15 minutes and when a list is out
        /// of date (the last copy kept under DATA/pki/crl); repeatable.
        #[arg(long)]
        crl: Vec<String>,
        /// Refuse a signature whose certificate has no current revocation list to check.
        #[arg(long)]
        revocation_required: bool,
        /// The WebSocket address pages ask for signatures (default NCALayer's,
        /// wss://127.0.0.1:13579).
        #[arg(long)]
        signer_url: Option<String>,
        /// With --demo: where the in-process demo signer (NCALayer's protocol, the demo
        /// officers' keys) listens, loopback only (default 127.0.0.1 on an ephemeral port).
        #[arg(long)]
        demo_signer: Option<std::net::SocketAddr>,
        /// With --demo: do not start the demo signer (officers use their own NCALayer).
        #[arg(long)]
        no_demo_signer: bool,
    },
    /// The demo signer alone: a WebSocket server on the loopback interface speaking
    /// NCALayer's protocol with the demo officers' keys (DATA/pki/officers/*.p12, their
    /// passwords in DATA/pki/officers/passwords.toml), for pages whose NCALayer client
    /// points at it. A stand-in for NCALayer in the demo and the tests only.
    Signer {
        /// The data directory of `drn serve --demo` (its pki/officers holds the keys).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Where to listen: a loopback address only (NCALayer's own port by default).
        #[arg(long, default_value = "127.0.0.1:13579")]
        listen: std::net::SocketAddr,
        /// Sign as of this instant (RFC 3339 or Kazakhstan local time), time passing from
        /// there, like `drn serve --as-of` (default: the host's clock).
        #[arg(long)]
        as_of: Option<String>,
        /// The officer (IIN) whose key signs requests that name none (commonUtils);
        /// default: the one used last.
        #[arg(long)]
        key: Option<String>,
    },
    /// Create or update the database schema.
    Migrate {
        /// sqlite://FILE (default sqlite://drn.db) or postgres://…
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// API clients of other state systems.
    Client {
        #[command(subcommand)]
        cmd: ClientCmd,
    },
    /// Check a DRN document offline: its signatures inside the PDF (and a detached .p7s)
    /// against the CA certificate. Exit 0 only when genuine and unchanged.
    Verify {
        file: PathBuf,
        /// The detached CMS signature (default: FILE with .p7s, when it exists).
        #[arg(long)]
        p7s: Option<PathBuf>,
        /// The CA certificate (PEM or DER), or a PEM bundle of roots and intermediates (the
        /// НУЦ РК's); default: the demo PKI's, data/pki/ca.pem.
        #[arg(long, default_value = "data/pki/ca.pem")]
        ca: PathBuf,
        /// More PEM bundles of trusted roots and intermediates; repeatable.
        #[arg(long)]
        trust: Vec<PathBuf>,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        cmd: AuditCmd,
    },
    /// Demo data at national scale.
    Demo {
        #[command(subcommand)]
        cmd: DemoCmd,
    },
    /// A consistent copy of the database while the server runs: SQLite through
    /// `VACUUM INTO`, PostgreSQL through `pg_dump --format=custom` (on PATH). Every command
    /// acknowledged before the backup began is in the copy.
    Backup {
        /// sqlite://FILE or postgres://…
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Brings a backup back into an empty database (a new SQLite file, or a PostgreSQL
    /// database without tables, through `pg_restore`), brings its schema up to date and
    /// verifies its audit chain.
    Restore {
        /// The backup file (`drn backup --to`).
        #[arg(long)]
        from: PathBuf,
        /// sqlite://FILE (a new file) or postgres://… (an empty database)
        #[arg(long)]
        db: String,
    },
    /// A workload over simulated days through the real engine and storage: counters
    /// accepting, units working with a given staff, registries sent daily; reports
    /// throughput, deadline compliance and growing queues.
    Simulate(SimulateArgs),
}

#[derive(Subcommand)]
enum DemoCmd {
    /// Load N synthetic persons in bulk (valid unique IINs, the demo's shapes) into an
    /// empty or a demo database; an empty one gets the demo first. Not durable until it
    /// finishes; run again to go on after an interruption.
    Seed {
        #[arg(long)]
        persons: u64,
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        #[arg(long, default_value_t = 2025)]
        seed: u64,
        /// The data directory (the demo PKI, for an empty database's demo).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Simulated calendar days (non-working days pass without work).
    #[arg(long, default_value_t = 5)]
    days: u32,
    /// Applications accepted per working day, over all counters.
    #[arg(long = "per-day", default_value_t = 100)]
    per_day: u32,
    /// sqlite://FILE or postgres://… (an empty database gets the demo first).
    #[arg(long, default_value = "sqlite://drn-sim.db")]
    db: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first simulated day (the 2018 regulations are in force).
    #[arg(long, default_value = "2019-01-09")]
    start: Date,
    /// Officers per unit.
    #[arg(long = "staff-per-unit", default_value_t = 2)]
    staff_per_unit: u32,
    /// Steps an officer completes per hour at most.
    #[arg(long = "steps-per-hour", default_value_t = 6)]
    steps_per_hour: u32,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// The data directory (the demo PKI, for an empty database's demo).
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// The mix of services and channels, and the rates of refusal and annulment (TOML,
    /// see docs/cli.md); default: the simulation's own (`drn_engine::simulate::Mix`).
    #[arg(long)]
    mix: Option<PathBuf>,
}

/// The demo API client's organisation's BIN (a made-up one that passes the check digit).
const DEMO_CLIENT_BIN: &str = "990440100004";

/// The embedded database in the working directory.
const DEFAULT_DB: &str = "sqlite://drn.db";

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the hash chain: the first broken link, or that the chain is whole.
    Verify {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// Also check that the chain extends every signed head in this directory (see
        /// `drn serve --audit-anchors`); each head's signature is checked against --ca.
        #[arg(long)]
        anchors: Option<PathBuf>,
        /// The CA certificate the heads are signed under (PEM or DER).
        #[arg(long, default_value = "data/pki/ca.pem")]
        ca: PathBuf,
    },
    /// Sign the chain's head now into the anchors directory (as the server does every few
    /// minutes).
    Anchor {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The data directory (its PKI signs).
        #[arg(long, default_value = "data")]
        data: PathBuf,
        /// Default DATA/audit-anchors.
        #[arg(long)]
        anchors: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum IinCmd {
    /// Validate IINs: one line each; exit 0 only if all are valid.
    Check { iins: Vec<String> },
    /// Form a new valid IIN for a birth date and sex.
    Form {
        #[arg(long)]
        birth: Date,
        #[arg(long)]
        sex: String,
    },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Each day from..to: working or not, and why.
    Days {
        #[arg(long)]
        from: Date,
        #[arg(long)]
        to: Date,
        #[arg(long)]
        json: bool,
    },
    /// The date N working days after a date.
    Add {
        #[arg(long)]
        from: Date,
        #[arg(long = "working-days")]
        working_days: u16,
    },
}

#[derive(Subcommand)]
enum ClientCmd {
    /// Register an API client; prints its bearer token once (keep it secret).
    Add {
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The client's name (its system's name, unique; audited as `client:NAME`).
        #[arg(long)]
        name: String,
        /// The role it acts in (e.g. central_officer, district_officer, counter_operator).
        #[arg(long)]
        role: String,
        /// The unit it acts for (e.g. KZ, 75, 7511).
        #[arg(long)]
        unit: String,
        /// The BIN its organisation's signing certificate carries (`OU=BIN…`): the client
        /// then signs registries, results and formularies under that certificate where
        /// officers sign with theirs.
        #[arg(long)]
        bin: Option<String>,
    },
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Load and validate the whole catalog.
    Check,
    /// Every service and version.
    List,
    /// One service, or one version (SERVICE@VERSION).
    Show {
        spec: String,
        #[arg(long)]
        json: bool,
    },
    /// What changed between two versions: SERVICE@V1 SERVICE@V2.
    Diff {
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
    /// The plan of an application: version in force, each step's due instant.
    Plan {
        service: String,
        #[arg(long, default_value = "general")]
        urgency: String,
        /// Acceptance instant: RFC 3339 with offset, or Kazakhstan local time
        /// (`2019-03-20 10:00`).
        #[arg(long)]
        accepted: String,
        /// Process id within the version (default: the first, the counter's main process).
        #[arg(long)]
        process: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// A failure of a command, printed once to stderr.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Msg(String),
    #[error("catalog errors:\n{}", .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Catalog(Vec<drn_core::CatalogError>),
    #[error(transparent)]
    CatalogOne(#[from] drn_core::CatalogError),
    #[error(transparent)]
    Calendar(#[from] drn_core::CalendarError),
    #[error(transparent)]
    Plan(#[from] drn_core::PlanError),
    #[error(transparent)]
    Iin(#[from] drn_core::IinError),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] drn_store::StoreError),
    #[error(transparent)]
    Engine(#[from] drn_engine::EngineError),
    #[error("runtime: {0}")]
    Io(#[from] std::io::Error),
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() -> ExitCode {
    // The allocator is drn-server's (see there).
    drn_server::tune_allocator();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("drn: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `drn serve --officer-signatures`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SignaturePolicy {
    Required,
    Optional,
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let dir = catalog_files::catalog_dir(cli.catalog.as_deref());
    match cli.cmd {
        Cmd::Iin { cmd } => iin(cmd),
        Cmd::Calendar { cmd } => calendar(cmd, &catalog_files::load_calendar(&dir)?),
        Cmd::Serve {
            db,
            addr,
            demo,
            persons,
            as_of,
            secure_cookies,
            data,
            base_url,
            audit_anchors,
            audit_anchor_url,
            audit_anchor_minutes,
            officer_signatures,
            trust,
            crl,
            revocation_required,
            signer_url,
            demo_signer,
            no_demo_signer,
        } => {
            let as_of = match (as_of, demo) {
                (Some(s), _) => Some(parse_instant(&s)?),
                (None, true) => Some(parse_instant(DEMO_AS_OF)?),
                (None, false) => None,
            };
            let config = drn_server::Config {
                demo,
                secure_cookies,
                base_url: base_url.unwrap_or_else(|| format!("http://{addr}")),
                audit_anchors: Some(audit_anchors.unwrap_or_else(|| data.join("audit-anchors"))),
                audit_anchor_url,
                signatures: drn_server::documents::signing::Signatures {
                    required: officer_signatures == SignaturePolicy::Required,
                    trust_files: trust,
                    crl_files: crl
                        .iter()
                        .filter(|c| !is_address(c))
                        .map(PathBuf::from)
                        .collect(),
                    crl_feed: std::sync::Arc::new(drn_server::documents::revocation::CrlFeed::new(
                        crl.iter().filter(|c| is_address(c)).cloned().collect(),
                        Some(data.join("pki").join("crl")),
                    )),
                    revocation_required,
                    signer_url: signer_url.unwrap_or_default(),
                },
            };
            let every = std::time::Duration::from_secs(audit_anchor_minutes.max(1) * 60);
            // The demo runs its own signer unless told not to.
            let signer = (demo && !no_demo_signer).then(|| {
                demo_signer.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            });
            runtime()?.block_on(serve(
                &dir, &db, addr, persons, as_of, config, &data, every, signer,
            ))
        }
        Cmd::Signer {
            data,
            listen,
            as_of,
            key,
        } => {
            let as_of = as_of.as_deref().map(parse_instant).transpose()?;
            runtime()?.block_on(signer(&data, listen, as_of, key.as_deref()))
        }
        Cmd::Verify {
            file,
            p7s,
            ca,
            trust,
        } => verify_file(&file, p7s, &ca, &trust),
        Cmd::Client {
            cmd:
                ClientCmd::Add {
                    db,
                    name,
                    role,
                    unit,
                    bin,
                },
        } => runtime()?.block_on(async {
            let role = drn_engine::Role::parse(&role)?;
            let unit = drn_engine::UnitId::parse(&unit)?;
            let bin = bin.map(|b| drn_core::Bin::parse(&b)).transpose()?;
            let engine =
                open_engine(&dir, &db, std::sync::Arc::new(drn_engine::SystemClock)).await?;
            // Named plainly rather than left to the database's key checks.
            if engine.unit(&unit).await.is_err() {
                return Err(CliError::Msg(format!("no unit {unit} in the unit tree")));
            }
            if engine.api_client_named(&name).await?.is_some() {
                return Err(CliError::Msg(format!("an API client named {name} exists")));
            }
            let token =
                drn_server::auth::create_api_client(&engine, &name, role, &unit, bin.as_ref())
                    .await?;
            println!("API client {name} registered; its bearer token (shown once): {token}");
            Ok(ExitCode::SUCCESS)
        }),
        Cmd::Migrate { db } => runtime()?.block_on(async {
            let db = drn_store::Db::open(&db).await?;
            let n = db.migrate().await?;
            println!("migrations applied: {n}");
            Ok(ExitCode::SUCCESS)
        }),
        Cmd::Audit {
            cmd: AuditCmd::Verify { db, anchors, ca },
        } => runtime()?.block_on(audit_verify(&dir, &db, anchors.as_deref(), &ca)),
        Cmd::Audit {
            cmd: AuditCmd::Anchor { db, data, anchors },
        } => runtime()?.block_on(audit_anchor(&dir, &db, &data, anchors)),
        Cmd::Demo {
            cmd:
                DemoCmd::Seed {
                    persons,
                    db,
                    seed,
                    data,
                    quiet,
                },
        } => runtime()?.block_on(demo_seed(&dir, &db, persons, seed, &data, quiet)),
        Cmd::Simulate(args) => runtime()?.block_on(simulate(&dir, args)),
        Cmd::Backup { db, to } => runtime()?.block_on(async {
            let started = std::time::Instant::now();
            let b = drn_store::backup::backup(&db, &to).await?;
            println!(
                "backup written: {} ({} bytes, {:.1} s)",
                b.file.display(),
                b.bytes,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }),
        Cmd::Restore { from, db } => runtime()?.block_on(restore(&from, &db)),
        Cmd::Catalog { cmd } => {
            let cat = catalog_files::load_catalog(&dir).map_err(CliError::Catalog)?;
            match cmd {
                CatalogCmd::Plan { .. } => {
                    let cal = catalog_files::load_calendar(&dir)?;
                    catalog(cmd, &cat, Some(&cal))
                }
                _ => catalog(cmd, &cat, None),
            }
        }
    }
}

/// `drn audit anchor`: signs the chain's head now.
async fn audit_anchor(
    dir: &std::path::Path,
    url: &str,
    data: &std::path::Path,
    anchors: Option<PathBuf>,
) -> Result<ExitCode, CliError> {
    let pki = drn_docs::Pki::open_or_create(&data.join("pki"))
        .map_err(|e| CliError::Msg(format!("PKI: {e}")))?;
    let engine = open_engine(dir, url, std::sync::Arc::new(drn_engine::SystemClock)).await?;
    let anchors = anchors.unwrap_or_else(|| data.join("audit-anchors"));
    let state = drn_server::AppState {
        engine,
        config: drn_server::Config {
            audit_anchors: Some(anchors.clone()),
            ..Default::default()
        },
        pki: std::sync::Arc::new(pki),
    };
    match drn_server::anchor::anchor_now(&state).await {
        Ok(Some(head)) => {
            println!(
                "signed head {} ({}) in {}",
                head.seq,
                head.hash,
                anchors.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(None) => Err(CliError::Msg(
            "the audit log is empty: nothing to sign".into(),
        )),
        Err(e) => Err(CliError::Msg(format!("audit anchor: {e}"))),
    }
}

/// `drn audit verify`: the chain, and with `--anchors` every signed head it must extend.
async fn audit_verify(
    dir: &std::path::Path,
    url: &str,
    anchors: Option<&std::path::Path>,
    ca: &std::path::Path,
) -> Result<ExitCode, CliError> {
    let (v, heads) = match anchors {
        None => {
            let db = drn_store::Db::open(url).await?;
            (drn_engine::audit::verify(&db).await?, None)
        }
        Some(anchors) => {
            let ca =
                std::fs::read(ca).map_err(|e| CliError::Msg(format!("{}: {e}", ca.display())))?;
            let engine =
                open_engine(dir, url, std::sync::Arc::new(drn_engine::SystemClock)).await?;
            let (v, n) = drn_server::anchor::verify_with_anchors(&engine, anchors, &ca)
                .await
                .map_err(|e| CliError::Msg(format!("audit anchors: {e}")))?;
            (v, Some(n))
        }
    };
    match (v.broken_at, v.problem) {
        (None, _) => {
            match heads {
                Some(n) => println!(
                    "audit chain whole: {} records, extending all {n} signed heads",
                    v.records
                ),
                None => println!("audit chain whole: {} records", v.records),
            }
            Ok(ExitCode::SUCCESS)
        }
        (Some(at), p) => {
            println!(
                "audit chain broken at record {at}: {}",
                p.unwrap_or_default()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `drn verify`: the document's own signatures, then the detached one if there is one.
fn verify_file(
    file: &std::path::Path,
    p7s: Option<PathBuf>,
    ca: &std::path::Path,
    trust: &[PathBuf],
) -> Result<ExitCode, CliError> {
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| CliError::Msg(format!("{}: {e}", p.display())))
    };
    let pdf = read(file)?;
    let mut store = drn_docs::officer::Trust::default();
    for path in std::iter::once(ca).chain(trust.iter().map(PathBuf::as_path)) {
        store
            .add_bundle(&read(path)?)
            .map_err(|e| CliError::Msg(format!("{}: {e}", path.display())))?;
    }
    let inside =
        drn_docs::verify_trusting(&pdf, &store).map_err(|e| CliError::Msg(e.to_string()))?;
    let mut genuine = inside.genuine;
    println!(
        "{}: {}",
        file.display(),
        if inside.genuine {
            "genuine, unchanged"
        } else {
            "NOT genuine or changed"
        }
    );
    for s in &inside.signatures {
        println!(
            "  signed by {} (serial number {}): {}{}",
            s.common_name.as_deref().unwrap_or(&s.subject),
            s.serial_number.as_deref().unwrap_or("-"),
            if s.valid && s.trusted {
                "valid"
            } else {
                "INVALID"
            },
            s.error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    let p7s = p7s.or_else(|| Some(file.with_extension("p7s")).filter(|p| p.exists()));
    if let Some(p) = p7s {
        let detached = drn_docs::verify_detached_trusting(&pdf, &read(&p)?, &store)
            .map_err(|e| CliError::Msg(e.to_string()))?;
        println!(
            "{}: {}",
            p.display(),
            if detached.genuine {
                "detached signature valid"
            } else {
                "detached signature INVALID"
            }
        );
        genuine &= detached.genuine;
    }
    Ok(if genuine {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `drn signer`: the demo signer alone, until interrupted.
async fn signer(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    as_of: Option<Timestamp>,
    key: Option<&str>,
) -> Result<ExitCode, CliError> {
    drn_server::init_logging();
    let clock: std::sync::Arc<dyn drn_engine::Clock> = match as_of {
        Some(t) => std::sync::Arc::new(drn_engine::ShiftedClock::starting_at(t)),
        None => std::sync::Arc::new(drn_engine::SystemClock),
    };
    // Loopback only, checked before anything is read.
    let listener = drn_server::signer::bind(listen)
        .await
        .map_err(|e| CliError::Msg(e.to_string()))?;
    let pki_dir = data.join("pki");
    let signer = drn_server::signer::DemoSigner::from_pki_dir(&pki_dir, clock).map_err(|e| {
        CliError::Msg(format!(
            "demo signer: {e} (run `drn serve --demo --data {}` once to make them)",
            data.display()
        ))
    })?;
    if let Some(k) = key {
        let iin = Iin::parse(k).map_err(|e| CliError::Msg(format!("--key {k}: {e}")))?;
        signer
            .select(&iin)
            .map_err(|e| CliError::Msg(e.to_string()))?;
    }
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::Msg(e.to_string()))?;
    println!(
        "Demo signer (NCALayer's protocol) with {} officers' keys of {}: {}",
        signer.iins().len(),
        pki_dir.join("officers").display(),
        drn_server::signer::ws_url(bound)
    );
    if let Some(t) = as_of {
        println!(
            "Signing as of {} (Kazakhstan time), the clock moving on from there.",
            kz_time(&t.to_zoned(kz_tz()?))
        );
    }
    tokio::select! {
        r = drn_server::signer::serve_on(listener, std::sync::Arc::new(signer)) => {
            r.map_err(|e| CliError::Msg(e.to_string()))?;
        }
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Is a `--crl` value an address to fetch (not a file)?
fn is_address(v: &str) -> bool {
    v.starts_with("http://") || v.starts_with("https://")
}

/// `drn serve`: migrate, optionally load the demo, and serve.
#[allow(clippy::too_many_arguments)]
async fn serve(
    dir: &std::path::Path,
    url: &str,
    addr: std::net::SocketAddr,
    persons: usize,
    as_of: Option<Timestamp>,
    config: drn_server::Config,
    data: &std::path::Path,
    anchor_every: std::time::Duration,
    demo_signer: Option<std::net::SocketAddr>,
) -> Result<ExitCode, CliError> {
    drn_server::init_logging();
    let mut config = config;
    let demo = config.demo;
    // The demo signer's port first, so the pages know where to find it.
    let signer_listener = match demo_signer {
        Some(a) => {
            let l = drn_server::signer::bind(a)
                .await
                .map_err(|e| CliError::Msg(format!("refusing to start: {e}")))?;
            let bound = l
                .local_addr()
                .map_err(|e| CliError::Msg(format!("demo signer: {e}")))?;
            config.signatures.signer_url = drn_server::signer::ws_url(bound);
            Some(l)
        }
        None => None,
    };
    // The keys first: a private key readable by others stops the server before anything.
    let pki_dir = data.join("pki");
    let pki = drn_docs::check_key_permissions(&pki_dir)
        .and_then(|()| drn_docs::Pki::open_or_create(&pki_dir))
        .map_err(|e| CliError::Msg(format!("refusing to start: {e}")))?;
    let db = drn_store::Db::open(url).await?;
    db.migrate().await?;
    let (cat, cal) = catalog_files::load(dir).map_err(CliError::Catalog)?;
    // Transfers of days off an administrator added are merged with the data file's.
    let cal = drn_engine::calendar_admin::with_stored_transfers(&db, &cal).await?;
    let clock: std::sync::Arc<dyn drn_engine::Clock> = match as_of {
        Some(t) => std::sync::Arc::new(drn_engine::ShiftedClock::starting_at(t)),
        None => std::sync::Arc::new(drn_engine::SystemClock),
    };
    let engine = drn_engine::Engine::new(db, cat, cal, clock.clone())?;
    let state = drn_server::AppState {
        engine: engine.clone(),
        config,
        pki: std::sync::Arc::new(pki),
    };
    if demo {
        if engine.is_empty().await? {
            load_demo(&state, persons).await?;
        } else {
            println!("The database already holds data: demo data is not loaded again (the accounts printed at its first start still work).");
        }
    }
    // The state systems of the online renewal (issue 6): the sandbox over DRN's persons,
    // or the HTTP clients when DRN_REGISTRIES_URL is set; citizens sign with the demo CA.
    drn_server::renewal::install(&engine, state.pki.ca_der().to_vec()).await?;
    if let Some(t) = as_of {
        println!(
            "Running as of {} (Kazakhstan time), the clock moving on from there.",
            kz_time(&t.to_zoned(kz_tz()?))
        );
    }
    println!(
        "Documents are signed with the PKI in {} (CA certificate: {}); verify at {}/verify/ID.",
        state.pki.dir().display(),
        state.pki.ca_path().display(),
        state.config.base_url.trim_end_matches('/')
    );
    if let Some(anchors) = &state.config.audit_anchors {
        println!(
            "The audit chain's head is signed every {} min into {}{}; check with `drn audit verify --anchors {}`.",
            anchor_every.as_secs() / 60,
            anchors.display(),
            state
                .config
                .audit_anchor_url
                .as_deref()
                .map(|u| format!(" (a copy POSTed to {u})"))
                .unwrap_or_default(),
            anchors.display()
        );
        drn_server::anchor::spawn_periodic(state.clone(), anchor_every);
    }
    drn_server::documents::revocation::spawn_refresh(state.config.signatures.crl_feed.clone());
    if let Some(listener) = signer_listener {
        let signer = drn_server::signer::DemoSigner::from_pki_dir(state.pki.dir(), clock.clone())
            .map_err(|e| CliError::Msg(format!("demo signer: {e}")))?;
        println!(
            "Demo signer (NCALayer's protocol, {} officers' keys of {}): {}",
            signer.iins().len(),
            state.pki.officers_dir().display(),
            state.config.signatures.signer_url()
        );
        tokio::spawn(async move {
            if let Err(e) =
                drn_server::signer::serve_on(listener, std::sync::Arc::new(signer)).await
            {
                eprintln!("drn: demo signer stopped: {e}");
            }
        });
    }
    if demo {
        println!("Demo: the sandboxed state systems (/sandbox/...) and the SMS outbox (/api/v1/sandbox/sms) answer only requests from this machine (loopback).");
    }
    println!("DRN listening on http://{addr}  (API: /api/v1, OpenAPI: /api/openapi.json)");
    drn_server::serve(state, addr).await?;
    Ok(ExitCode::SUCCESS)
}

/// The engine over a migrated database, with the catalog and the calendar.
async fn open_engine(
    dir: &std::path::Path,
    url: &str,
    clock: std::sync::Arc<dyn drn_engine::Clock>,
) -> Result<drn_engine::Engine, CliError> {
    let db = drn_store::Db::open(url).await?;
    db.migrate().await?;
    let (cat, cal) = catalog_files::load(dir).map_err(CliError::Catalog)?;
    let cal = drn_engine::calendar_admin::with_stored_transfers(&db, &cal).await?;
    Ok(drn_engine::Engine::new(db, cat, cal, clock)?)
}

/// Loads the demo into an empty database (for `demo seed` and `simulate`), with the demo
/// PKI under `data` and the serve's default demo date.
async fn demo_if_empty(
    engine: &drn_engine::Engine,
    data: &std::path::Path,
) -> Result<(), CliError> {
    if !engine.is_empty().await? {
        return Ok(());
    }
    let pki_dir = data.join("pki");
    let pki = drn_docs::check_key_permissions(&pki_dir)
        .and_then(|()| drn_docs::Pki::open_or_create(&pki_dir))
        .map_err(|e| CliError::Msg(format!("demo PKI: {e}")))?;
    let state = drn_server::AppState {
        engine: engine.clone(),
        config: drn_server::Config {
            audit_anchors: None,
            audit_anchor_url: None,
            demo: true,
            secure_cookies: false,
            base_url: "http://127.0.0.1:8080".into(),
            ..Default::default()
        },
        pki: std::sync::Arc::new(pki),
    };
    eprintln!("drn: the database is empty: loading the demo first");
    load_demo(&state, 10_000).await
}

/// `drn demo seed`: bulk persons (see `drn_engine::scale`).
async fn demo_seed(
    dir: &std::path::Path,
    url: &str,
    persons: u64,
    seed: u64,
    data: &std::path::Path,
    quiet: bool,
) -> Result<ExitCode, CliError> {
    let as_of = parse_instant(DEMO_AS_OF)?;
    let clock = std::sync::Arc::new(drn_engine::ShiftedClock::starting_at(as_of));
    let engine = open_engine(dir, url, clock).await?;
    demo_if_empty(&engine, data).await?;
    eprintln!("drn: loading {persons} persons (not durable until the load finishes; run again to go on after an interruption)");
    let opts = drn_engine::scale::BulkOptions { persons, seed };
    let r = engine.seed_persons_bulk(&opts, !quiet).await?;
    println!(
        "{} persons inserted in {:.1} s ({:.0}/s){}{}; the load is durable now.",
        r.inserted,
        r.seconds,
        r.inserted as f64 / r.seconds.max(1e-9),
        if r.resumed_at > 0 {
            format!(", going on from person {} of {}", r.resumed_at, r.requested)
        } else {
            String::new()
        },
        if r.already_there > 0 {
            format!(", {} already there", r.already_there)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `drn restore`: the backup into place, the schema up to date, the audit chain verified.
async fn restore(from: &std::path::Path, url: &str) -> Result<ExitCode, CliError> {
    drn_store::backup::restore(from, url).await?;
    let db = drn_store::Db::open(url).await?;
    let n = db.migrate().await?;
    let v = drn_engine::audit::verify(&db).await?;
    db.close().await;
    println!("restored from {} (migrations applied: {n})", from.display());
    Ok(audit_verdict(v))
}

/// Prints whether the audit chain is whole; the exit status says it too.
fn audit_verdict(v: drn_engine::audit::Verification) -> ExitCode {
    match (v.broken_at, v.problem) {
        (None, _) => {
            println!("audit chain whole: {} records", v.records);
            ExitCode::SUCCESS
        }
        (Some(at), p) => {
            println!(
                "audit chain broken at record {at}: {}",
                p.unwrap_or_default()
            );
            ExitCode::FAILURE
        }
    }
}

/// `drn simulate`: see `drn_engine::simulate`.
async fn simulate(dir: &std::path::Path, a: SimulateArgs) -> Result<ExitCode, CliError> {
    // Warnings (a failed batch, a slow statement) on stderr; the report on stdout.
    drn_server::init_logging_at("warn");
    let mix = match &a.mix {
        None => drn_engine::simulate::Mix::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::Msg(format!("--mix {}: {e}", p.display())))?;
            toml::from_str(&text)
                .map_err(|e| CliError::Msg(format!("--mix {}: {e}", p.display())))?
        }
    };
    // A mix the run cannot simulate stops it before the database is opened.
    let (cat, _) = catalog_files::load(dir).map_err(CliError::Catalog)?;
    mix.check(&cat)?;
    drop(cat);
    let start = a
        .start
        .at(9, 0, 0, 0)
        .to_zoned(kz_tz()?)
        .map_err(|e| CliError::Msg(format!("--start: {e}")))?
        .timestamp();
    let clock = std::sync::Arc::new(drn_engine::ManualClock::new(start));
    let engine = open_engine(dir, &a.db, clock.clone()).await?;
    if engine.is_empty().await? {
        // Units, staff and persons of the demo, without its history (so that every
        // application in the database is the simulation's).
        let opts = drn_engine::demo::DemoOptions::default();
        drn_engine::demo::seed(&engine, &opts, &drn_server::auth::hash_password).await?;
    }
    let opts = drn_engine::simulate::SimOptions {
        mix,
        start: a.start,
        days: a.days,
        per_day: a.per_day,
        staff_per_unit: a.staff_per_unit,
        steps_per_hour: a.steps_per_hour,
        seed: a.seed,
    };
    let r = drn_engine::simulate::run(&engine, clock, &opts).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Simulated {} days ({} working) from {} at {} applications a day, {} officers a unit doing {} steps an hour each.",
        r.days, r.working_days, r.start, r.per_day, r.staff_per_unit, r.steps_per_hour
    );
    println!(
        "Wall time {:.1} s: {} commands ({:.0}/s), {:.0} applications/s.",
        r.wall_seconds, r.commands, r.commands_per_second, r.applications_per_second
    );
    if let Some(c) = &r.cpu {
        println!(
            "CPU time {:.1} s user + {:.1} s system: {:.0} µs a command ({:.0} user, {:.0} system){}.",
            c.user_seconds,
            c.system_seconds,
            c.total_us_per_command,
            c.user_us_per_command,
            c.system_us_per_command,
            if a.db.starts_with("postgres") {
                "; PostgreSQL's own CPU is not counted (another process)"
            } else {
                ""
            }
        );
    }
    println!(
        "Writer: {} transactions of {:.1} jobs on average, busy {:.0} % of the wall time.",
        r.writer_batches,
        r.writer_jobs as f64 / r.writer_batches.max(1) as f64,
        r.writer_busy_share * 100.0
    );
    println!(
        "Applications: {} submitted, {} accepted, {} refused at intake, {} issued, {} refused, {} annulled, {} open ({} overdue at the end){}.",
        r.submitted,
        r.accepted,
        r.intake_refused,
        r.issued,
        r.refused,
        r.annulled,
        r.open,
        r.overdue,
        if r.preexisting_open > 0 {
            format!("; {} open ones were there before", r.preexisting_open)
        } else {
            String::new()
        }
    );
    println!(
        "Registries: {} formed, {} signed, {} sent, {} received. Chip rewrites done at counters after portal registrations: {}.",
        r.registries.formed,
        r.registries.signed,
        r.registries.sent,
        r.registries.received,
        r.counter_tasks_done
    );
    println!(
        "\n{:<4} {:<44} {:>9} {:>9} {:>9} {:>9} {:>9}  by channel",
        "", "service", "accepted", "intake-x", "issued", "refused", "annulled"
    );
    for (s, c) in &r.by_service {
        let channels: Vec<String> = c
            .by_channel
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "{:<4} {:<44} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
            s,
            // A part of a service (S1E of S1) by its own name, after the colon.
            c.name
                .rsplit_once(": ")
                .map_or(c.name.as_str(), |(_, part)| part)
                .chars()
                .take(44)
                .collect::<String>(),
            c.accepted,
            c.intake_refused,
            c.issued,
            c.refused,
            c.annulled,
            channels.join(", ")
        );
    }
    println!("\nBy day: applications accepted and issued, commands, the wall time it took and the CPU time (user, system) a command");
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>8} {:>10} {:>8} {:>8}",
        "day", "accepted", "issued", "commands", "wall s", "commands/s", "user µs", "sys µs"
    );
    for d in r.by_day.iter().filter(|d| d.commands > 0) {
        let per = |s: f64| s * 1e6 / d.commands as f64;
        println!(
            "{:<10} {:>9} {:>9} {:>9} {:>8.1} {:>10.0} {:>8.0} {:>8.0}",
            d.day.to_string(),
            d.accepted,
            d.issued,
            d.commands,
            d.wall_seconds,
            d.commands as f64 / d.wall_seconds.max(1e-9),
            per(d.cpu_user_seconds),
            per(d.cpu_system_seconds)
        );
    }
    println!("\nDeadline compliance by unit and step (least compliant first):");
    println!(
        "{:<12} {:<4} {:>4} {:>9} {:>9} {:>7}",
        "unit", "svc", "step", "completed", "on time", "share"
    );
    for c in r.compliance.iter().take(25) {
        println!(
            "{:<12} {:<4} {:>4} {:>9} {:>9} {:>6.1}%",
            c.unit,
            c.service,
            c.step,
            c.completed,
            c.on_time,
            c.share_on_time * 100.0
        );
    }
    if r.compliance.len() > 25 {
        println!("... {} more (--json for all)", r.compliance.len() - 25);
    }
    if r.growing_queues.is_empty() {
        println!("\nNo unit's queue grew over the run.");
    } else {
        println!(
            "\nGrowing queues (backlog at the end of the first, middle and last working day):"
        );
        for b in r.growing_queues.iter().take(15) {
            println!(
                "  {:<12} {:>7} {:>7} {:>7}  (peak {})",
                b.unit, b.first_day, b.middle_day, b.last_day, b.peak
            );
        }
    }
    if r.errors > 0 {
        println!("\n{} commands failed; first ones:", r.errors);
        for e in &r.error_samples {
            println!("  {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The instant the demo runs as of, by default.
const DEMO_AS_OF: &str = "2019-11-20 09:30";

/// Fills an empty database with the demo (units, staff, persons, citizens' accounts, a
/// short history, an API client) and prints how to sign in.
async fn load_demo(state: &drn_server::AppState, persons: usize) -> Result<(), CliError> {
    let engine = &state.engine;
    let started = std::time::Instant::now();
    let opts = drn_engine::demo::DemoOptions {
        persons,
        ..Default::default()
    };
    let report = drn_engine::demo::seed(engine, &opts, &drn_server::auth::hash_password).await?;
    for (iin, password, _) in &report.citizens {
        let p = engine
            .person(&drn_engine::Actor::system(), iin, "demo")
            .await?;
        let phone = p
            .data
            .get("phone")
            .and_then(|v| v.as_str())
            .unwrap_or("+7 700 000 00 00")
            .to_string();
        drn_server::auth::create_citizen_account(state, iin, password, &phone).await?;
    }
    // A few applications accepted on earlier days, so the supervisor has open and
    // overdue work to look at; the demo still runs without them.
    let history = match drn_engine::demo::seed_history(engine, &report).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("drn: demo history not loaded: {e}");
            0
        }
    };
    let centre = drn_engine::UnitId::parse("KZ")?;
    // The demo API client signs under its own system's certificate (issue 33).
    let client_bin = drn_core::Bin::parse(DEMO_CLIENT_BIN)?;
    let token = drn_server::auth::create_api_client(
        &state.engine,
        "demo-client",
        drn_engine::Role::CentralOfficer,
        &centre,
        Some(&client_bin),
    )
    .await?;
    let (client_key, client_key_password) = state
        .pki
        .issue_demo_system_key(&client_bin, "demo-client")
        .map_err(|e| CliError::Msg(format!("demo API client's key: {e}")))?;
    println!(
        "Demo data loaded in {:.1} s: {} units, {} persons.",
        started.elapsed().as_secs_f64(),
        report.units,
        report.persons
    );
    if history > 0 {
        println!("{history} applications accepted on earlier days (regions 75 and 35), some of them overdue.");
    }
    // Each officer's own signing key (issue 33): a PKCS#12 file under DATA/pki/officers,
    // its password printed here and kept for the demo signer.
    let officers: Vec<drn_docs::Officer> = report
        .accounts
        .iter()
        .map(|a| drn_docs::Officer {
            iin: a.iin,
            full_name: a.full_name.clone(),
            organisation: if a.unit_name.is_empty() {
                drn_docs::Authority::Mvd.name().ru
            } else {
                a.unit_name.clone()
            },
        })
        .collect();
    let key_passwords = state
        .pki
        .issue_demo_officer_keys(&officers)
        .map_err(|e| CliError::Msg(format!("demo officers' keys: {e}")))?;
    println!("\nStaff accounts (username / password / role / unit; the officer's IIN and the password of their key, {}/IIN….p12):", state.pki.officers_dir().display());
    for (a, key_password) in report.accounts.iter().zip(&key_passwords) {
        println!(
            "  {:<22} {:<16} {:<20} {} ({})  IIN {} key {}",
            a.username,
            a.password,
            a.role.code(),
            a.unit,
            a.unit_name,
            a.iin,
            key_password
        );
    }
    println!("\nCitizens for the portal (IIN / password; the one-time code appears at /api/v1/sandbox/sms):");
    for (iin, pw, note) in &report.citizens {
        println!("  {iin}  {pw:<19} {note}");
    }
    println!("\nAPI client (bearer token, central officer): {token}");
    println!(
        "  its signing key (BIN {client_bin}): {} password {client_key_password}",
        client_key.display()
    );
    Ok(())
}

fn iin(cmd: IinCmd) -> Result<ExitCode, CliError> {
    match cmd {
        IinCmd::Check { iins } => {
            if iins.is_empty() {
                return Err(CliError::Msg("give at least one IIN".into()));
            }
            let mut all_ok = true;
            for s in iins {
                match Iin::parse(&s) {
                    Ok(i) => {
                        let w = i.warnings();
                        if w.is_empty() {
                            println!("{s} valid");
                        } else {
                            let w: Vec<String> = w.iter().map(|w| w.to_string()).collect();
                            println!("{s} valid (warning: {})", w.join("; "));
                        }
                    }
                    Err(e) => {
                        all_ok = false;
                        println!("{s} invalid: {e}");
                    }
                }
            }
            Ok(if all_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        IinCmd::Form { birth, sex } => {
            let iin = Iin::form(birth, Sex::parse(&sex)?, |_| false)?;
            println!("{iin}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn calendar(cmd: CalendarCmd, cal: &Calendar) -> Result<ExitCode, CliError> {
    match cmd {
        CalendarCmd::Days { from, to, json } => {
            let days = cal.days(from, to)?;
            if json {
                let arr: Vec<serde_json::Value> = days
                    .iter()
                    .map(|d| {
                        let mut v = serde_json::json!({
                            "date": d.date.to_string(),
                            "weekday": d.date.weekday().to_monday_one_offset(),
                            "working": d.working,
                        });
                        let reason = serde_json::to_value(&d.reason).unwrap_or_default();
                        if let (Some(obj), serde_json::Value::Object(r)) =
                            (v.as_object_mut(), reason)
                        {
                            for (k, val) in r {
                                let key = match k.as_str() {
                                    "kind" => "reason".to_string(),
                                    "from" => "moved_from".to_string(),
                                    "id" => "holiday".to_string(),
                                    _ => k,
                                };
                                obj.insert(key, val);
                            }
                        }
                        v
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&arr)?);
            } else {
                for d in days {
                    println!(
                        "{} {:<9} {:<11} {}",
                        d.date,
                        format!("{:?}", d.date.weekday()),
                        if d.working { "working" } else { "non-working" },
                        d.reason.describe()
                    );
                }
            }
        }
        CalendarCmd::Add { from, working_days } => {
            println!("{}", cal.add_working_days(from, WorkingDays(working_days))?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses an acceptance instant: RFC 3339 with an offset, or Kazakhstan civil time.
fn parse_instant(s: &str) -> Result<Timestamp, CliError> {
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(ts);
    }
    let dt: DateTime = s
        .replace(' ', "T")
        .parse()
        .map_err(|e| CliError::Msg(format!("--accepted {s:?}: {e}")))?;
    dt.to_zoned(kz_tz()?)
        .map(|z| z.timestamp())
        .map_err(|e| CliError::Msg(format!("--accepted {s:?}: {e}")))
}

fn catalog(cmd: CatalogCmd, cat: &Catalog, cal: Option<&Calendar>) -> Result<ExitCode, CliError> {
    match cmd {
        CatalogCmd::Check => {
            let versions: usize = cat.services.values().map(|s| s.versions.len()).sum();
            let steps: usize = cat
                .services
                .values()
                .flat_map(|s| &s.versions)
                .flat_map(|v| &v.processes)
                .map(|p| p.steps.len())
                .sum();
            let hooks = drn_engine::services::check_catalog(cat)
                .map_err(|e| CliError::Msg(e.to_string()))?;
            // Every refusal and referral the engine produces is a branch of the catalog,
            // cited or marked as an assumption (issue 30 item 6).
            let outcomes = drn_engine::services::outcomes::check_outcomes(cat).map_err(|e| {
                CliError::Msg(format!(
                    "outcomes the engine produces that the catalog does not ground:\n  {}",
                    e.join("\n  ")
                ))
            })?;
            let assumed = cat
                .services
                .values()
                .flat_map(|s| &s.versions)
                .flat_map(|v| &v.processes)
                .flat_map(|p| &p.steps)
                .flat_map(|s| &s.branches)
                .filter(|b| b.assumption.is_some())
                .count();
            println!(
                "catalog ok: {} services, {versions} versions, {steps} steps, {hooks} hooks and checks run by their services, {outcomes} engine outcomes found as branches ({assumed} branches marked as assumptions)",
                cat.services.len()
            );
        }
        CatalogCmd::List => {
            for s in cat.services.values() {
                println!("{} {}", s.code, s.name.en);
                for v in &s.versions {
                    println!(
                        "  @{:<6} {} .. {}  act No {} of {}  channels {:?}  processes {}",
                        v.id,
                        v.effective_from,
                        v.effective_to
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "open".into()),
                        v.act.number,
                        v.act.date.0,
                        v.channels,
                        v.processes
                            .iter()
                            .map(|p| p.id.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                    );
                }
            }
        }
        CatalogCmd::Show { spec, json } => {
            let (svc, ver) = cat.resolve(&spec)?;
            if json {
                let out = match ver {
                    Some(v) => serde_json::to_string_pretty(v)?,
                    None => serde_json::to_string_pretty(svc)?,
                };
                println!("{out}");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} {} / {} / {}",
                svc.code, svc.name.en, svc.name.ru, svc.name.kk
            );
            for v in svc
                .versions
                .iter()
                .filter(|v| ver.is_none_or(|x| x.id == v.id))
            {
                println!(
                    "\n@{}: act No {} of {} ({}), in force {} .. {}",
                    v.id,
                    v.act.number,
                    v.act.date.0,
                    v.act.title.ru,
                    v.effective_from,
                    v.effective_to
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "open".into())
                );
                println!("  result: {} ({:?})", v.result.en, v.result_form);
                println!(
                    "  urgencies: {}",
                    v.urgencies
                        .iter()
                        .map(|u| u.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                for p in &v.processes {
                    println!(
                        "  process {} ({:?}): {}  [{}]",
                        p.id, p.channel, p.name.en, p.cite
                    );
                    for s in &p.steps {
                        let limit = match &s.limit {
                            StepLimit::Single(l) => l.to_string(),
                            StepLimit::ByUrgency(m) => m
                                .iter()
                                .map(|(u, l)| format!("{u}: {l}"))
                                .collect::<Vec<_>>()
                                .join("; "),
                        };
                        println!(
                            "    {:>2}. [{}] {} -> {} | {} | {}",
                            s.n,
                            s.unit.code(),
                            s.action.en,
                            s.form.en,
                            limit,
                            s.cite
                        );
                        for b in &s.branches {
                            println!(
                                "        {:?}{}: {}",
                                b.kind,
                                b.to.map(|t| format!(" -> step {t}")).unwrap_or_default(),
                                b.when.en
                            );
                        }
                    }
                }
            }
        }
        CatalogCmd::Diff { a, b, json } => {
            let (sa, va) = cat.resolve(&a)?;
            let (sb, vb) = cat.resolve(&b)?;
            let (Some(va), Some(vb)) = (va, vb) else {
                return Err(CliError::Msg("diff takes SERVICE@VERSION twice".into()));
            };
            if sa.code != sb.code {
                eprintln!("note: comparing versions of different services");
            }
            let changes = diff(va, vb);
            if json {
                println!("{}", serde_json::to_string_pretty(&changes)?);
            } else if changes.is_empty() {
                println!("no changes");
            } else {
                for c in changes {
                    println!("{c}");
                }
            }
        }
        CatalogCmd::Plan {
            service,
            urgency,
            accepted,
            process,
            json,
        } => {
            let cal = cal.ok_or_else(|| CliError::Msg("no calendar".into()))?;
            let tz = kz_tz()?;
            // The standard hours of each unit (the demo's), as the talon's due date
            // assumes of the units along the way: one computation (`drn_core::plan`).
            let hours = UnitHours::standard();
            let d = PlanBasis {
                calendar: cal,
                hours: &hours,
                tz: &tz,
            };
            let p = plan(
                cat,
                &service,
                Urgency::parse(&urgency)?,
                parse_instant(&accepted)?,
                process.as_deref(),
                &d,
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&p)?);
            } else {
                println!(
                    "{} @{} ({}), process {}, urgency {}, accepted {}",
                    p.service,
                    p.version,
                    p.act,
                    p.process,
                    p.urgency,
                    kz_time(&p.accepted)
                );
                for s in &p.steps {
                    println!(
                        "  {:>2}. {:<10} {:<26} due {}  {}",
                        s.n,
                        s.unit.code(),
                        s.limit,
                        kz_time(&s.due),
                        s.action.en
                    );
                }
                println!("  due {}", kz_time(&p.due));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
