//! `latchkey-bench`: Latchkey's Lambda-faithful benchmark. `local/bench.sh` builds the
//! functions with `cargo lambda build --release`, prepares Postgres and runs this; see
//! BENCHMARKS.md for the method. It prints one self-contained report (figures, ratios,
//! PASS/MISS, counts, machine) and writes it under `target/bench/`.

#![allow(
    clippy::print_stdout,
    reason = "a command-line tool: the report on stdout is its output"
)]

mod charts;
mod concurrency;
mod fixture;
mod floor;
mod machine;
mod peer;
mod pgproxy;
mod phases;
mod render;
mod report;
mod storm;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use latchkey_bench::lambda::{self, Instance};
use latchkey_bench::{Error, Result, event};

/// How much of everything to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub smoke: bool,
    /// Rounds that only start every binary, for the init figure.
    pub init_samples: usize,
    /// Rounds that start every binary and send its first request (cold first response;
    /// their init counts too).
    pub cold_samples: usize,
    /// Measured warm invocations per fast function.
    pub warm: usize,
    pub warm_up: usize,
    /// Measured warm logins (each ~0.45 s).
    pub logins: usize,
    /// Raw scrypt evaluations, before and after the logins each.
    pub scrypt: usize,
    /// Requests over which round trips are counted (login: `login_round_trips`).
    pub round_trips: usize,
    pub login_round_trips: usize,
    /// Accounts cloned in SQL, and contacts created for the main account.
    pub users: usize,
    pub contacts: usize,
    /// Sequential peer requests per route, and peer logins.
    pub peer_requests: usize,
    pub peer_logins: usize,
    /// Raw database reads and writes timed for the latency floor (each).
    pub floor_samples: usize,
    /// Instances (ours) and HTTP clients (the peer) in flight at once, one level after
    /// the other; empty for none.
    pub concurrency_levels: Vec<usize>,
    /// Timed requests per function and level, shared by its instances or clients.
    pub concurrent_requests: usize,
    /// Only these functions (smoke mode); all when `None`.
    pub only: Option<Vec<String>>,
    /// The connection storm, after the other phases (BENCHMARKS.md, "Connection storm").
    pub storm: Option<storm::StormPlan>,
    /// `--storm`: the storm and nothing else.
    pub storm_only: bool,
}

impl Plan {
    fn full() -> Self {
        Self {
            smoke: false,
            init_samples: 20,
            cold_samples: 5,
            warm: 100_000,
            warm_up: 200,
            logins: 200,
            scrypt: 10,
            round_trips: 50,
            login_round_trips: 5,
            users: 100,
            contacts: 50,
            peer_requests: 2_000,
            peer_logins: 100,
            floor_samples: 2_000,
            concurrency_levels: vec![8, 32],
            concurrent_requests: 4_000,
            only: None,
            storm: Some(storm::StormPlan::full()),
            storm_only: false,
        }
    }

    /// The storm alone: seeding as in the smoke run, then the storm.
    fn storm_only() -> Self {
        Self {
            smoke: false,
            storm: Some(storm::StormPlan::full()),
            storm_only: true,
            ..Self::smoke()
        }
    }

    fn smoke() -> Self {
        Self {
            smoke: true,
            init_samples: 3,
            cold_samples: 1,
            warm: 300,
            warm_up: 20,
            logins: 2,
            scrypt: 2,
            round_trips: 10,
            login_round_trips: 1,
            users: 25,
            contacts: 0,
            peer_requests: 0,
            peer_logins: 0,
            floor_samples: 200,
            concurrency_levels: vec![8],
            concurrent_requests: 400,
            only: Some(["get-me", "refresh", "login"].map(str::to_owned).to_vec()),
            storm: None,
            storm_only: false,
        }
    }
}

/// Everything the phases share: where the binaries are and how functions are configured.
pub struct Bench {
    pub root: PathBuf,
    /// Where `cargo lambda build` put `<name>/bootstrap` (`$CARGO_TARGET_DIR/lambda`).
    pub lambda_dir: PathBuf,
    pub plan: Plan,
    /// The app role's URL of the benchmark database.
    pub database_url: String,
    /// A superuser URL, for `pg_stat_statements` (optional).
    pub admin_url: Option<String>,
    pub peer: Option<peer::PeerSettings>,
    /// The database through a transaction pooler, for the storm's second run.
    pub pooler: Option<storm::Pooler>,
    pub build_command: String,
    pub out: PathBuf,
    /// The function crates measured (names of `functions/*`).
    pub functions: BTreeSet<String>,
    /// The production configuration every function gets.
    pub environment: Vec<(String, String)>,
}

impl Bench {
    pub fn binary(&self, name: &str) -> PathBuf {
        self.lambda_dir.join(name).join("bootstrap")
    }

    pub fn has(&self, name: &str) -> bool {
        self.functions.contains(name)
    }

    /// Starts a fresh instance of `name` (a function, or `hello`) with production config.
    pub async fn start(&self, name: &str) -> Result<Instance> {
        self.start_with(name, &self.environment).await
    }

    /// The production configuration with `DATABASE_URL` replaced by `url`
    /// ([`with_database`]).
    pub fn environment_with_database(&self, url: &str, pooler: bool) -> Vec<(String, String)> {
        with_database(&self.environment, url, pooler)
    }

    pub async fn start_with(
        &self,
        name: &str,
        environment: &[(String, String)],
    ) -> Result<Instance> {
        let log = self.out.join("logs").join(format!("{name}.log"));
        Instance::spawn(&self.binary(name), name, environment, &log).await
    }
}

fn usage() -> &'static str {
    "latchkey-bench --root DIR --lambda-dir DIR --database-url URL [--admin-url URL] [--smoke]
    [--peer-dir DIR --peer-database-url URL [--peer-port PORT]] [--build-command TEXT]
    [--init N] [--cold N] [--warm N] [--logins N] [--peer-requests N] [--peer-logins N]
    [--storm] (the connection storm only) [--pooler-url URL --pooler-pool-size N]
    [--fixed-trace-id]  (diagnostic: the same X-Ray trace id for every invocation)
Normally run through local/bench.sh, which builds, prepares Postgres and passes these."
}

fn parse_options() -> Result<Bench> {
    let mut args = std::env::args().skip(1);
    let mut plan = Plan::full();
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut overrides: Vec<(String, usize)> = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--smoke" => plan = Plan::smoke(),
            "--storm" => plan = Plan::storm_only(),
            "--fixed-trace-id" => {
                lambda::FIXED_TRACE_ID.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            "--init" | "--cold" | "--warm" | "--logins" | "--peer-requests" | "--peer-logins" => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                let count = value
                    .parse()
                    .map_err(|_| format!("{arg}: not a count: {value}"))?;
                overrides.push((arg, count));
            }
            flag if flag.starts_with("--") => {
                let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
                values.insert(flag.trim_start_matches("--").to_owned(), value);
            }
            _ => return Err(format!("unexpected argument {arg}\n{}", usage()).into()),
        }
    }
    for (flag, count) in overrides {
        match flag.as_str() {
            "--init" => plan.init_samples = count,
            "--cold" => plan.cold_samples = count.max(1),
            "--warm" => plan.warm = count.max(1),
            "--logins" => plan.logins = count.max(1),
            "--peer-requests" => plan.peer_requests = count,
            _ => plan.peer_logins = count,
        }
    }
    let mut take = |name: &str| values.remove(name);
    let root =
        PathBuf::from(take("root").ok_or_else(|| format!("--root is required\n{}", usage()))?);
    let lambda_dir = take("lambda-dir").map_or_else(|| root.join("target/lambda"), PathBuf::from);
    let database_url = take("database-url").ok_or("--database-url is required")?;
    let admin_url = take("admin-url");
    let build_command = take("build-command").unwrap_or_else(|| "(not given)".to_owned());
    let peer_port: u16 = take("peer-port")
        .map(|port| port.parse())
        .transpose()
        .map_err(|_| "--peer-port is not a port")?
        .unwrap_or(18_100);
    let pooler = match (take("pooler-url"), take("pooler-pool-size")) {
        (Some(url), Some(size)) => Some(storm::Pooler {
            url,
            pool_size: size
                .parse()
                .map_err(|_| "--pooler-pool-size is not a count")?,
        }),
        (None, None) => None,
        _ => return Err("--pooler-url and --pooler-pool-size go together".into()),
    };
    let peer_dir = take("peer-dir");
    let peer_database_url = take("peer-database-url");
    if let Some(unknown) = values.keys().next() {
        return Err(format!("unknown option --{unknown}\n{}", usage()).into());
    }
    let out = root.join("target/bench");
    std::fs::create_dir_all(out.join("logs"))?;
    let peer = match (peer_dir, peer_database_url) {
        (Some(dir), Some(database_url)) if !plan.smoke && peer::available(Path::new(&dir)) => {
            Some(peer::PeerSettings {
                dir: PathBuf::from(dir),
                port: peer_port,
                database_url,
                secret_key: random_hex(32)?,
                log: out.join("logs/peer.log"),
            })
        }
        _ => None,
    };

    let mut functions = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("functions"))? {
        let entry = entry?;
        if !entry.path().join("Cargo.toml").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        // Smoke runs keep `register` too: seeding creates the main account through it.
        if plan
            .only
            .as_ref()
            .is_some_and(|only| !only.contains(&name) && name != "register")
        {
            continue;
        }
        functions.insert(name);
    }

    let environment = function_environment(&database_url)?;

    Ok(Bench {
        root,
        lambda_dir,
        plan,
        database_url,
        admin_url,
        peer,
        pooler,
        build_command,
        out,
        functions,
        environment,
    })
}

/// What every function is started with: production settings against the bench database,
/// fresh secrets per run.
fn function_environment(database_url: &str) -> Result<Vec<(String, String)>> {
    Ok([
        ("APP_SETTINGS", "production".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        // The functions reach the benchmark's Postgres directly, so each statement is
        // prepared once per connection and reused by name (docs/operations.md), as a
        // deployment without a transaction pooler, or with PgBouncer 1.21+, is advised to.
        ("DATABASE_PREPARED_STATEMENTS", "true".to_owned()),
        ("JWT_ISSUER", "https://auth.bench.invalid".to_owned()),
        ("APP_URL", "https://app.bench.invalid".to_owned()),
        // Every bench request comes from one source IP: production's per-IP limit (30 a
        // minute on register and login) would answer most of them 429.
        ("IP_RATE_LIMIT_PER_MINUTE", "0".to_owned()),
        ("JWT_SECRET", random_hex(32)?),
        // The fixture's access tokens are minted once, when it seeds; a full run's warm
        // phase (100 000 invocations of each warm function) outlasts the default 15
        // minutes, so they live for the longest the settings allow.
        ("ACCESS_TOKEN_TTL", "86400".to_owned()),
        // The functions that read or write TOTP secrets refuse to start in production
        // without it (`template.yaml` gives it to them; the others ignore it).
        ("MFA_ENCRYPTION_KEY", random_hex(32)?),
        // `maintenance` sends the queued mail and refuses to start without both; nothing
        // listens there, and no bench account has an email, so nothing is ever sent.
        (
            "MAIL_FROM",
            "Latchkey bench <no-reply@bench.invalid>".to_owned(),
        ),
        ("SMTP_URL", "smtp://127.0.0.1:9".to_owned()),
        ("SCRYPT_LOG_N", "17".to_owned()),
        ("SCRYPT_R", "8".to_owned()),
        ("SCRYPT_P", "1".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect())
}

/// `environment` with `DATABASE_URL` replaced by `url`. Through a `pooler` (the
/// benchmark's PgBouncer: Debian's 1.18, whose transaction mode cannot follow named
/// statements), statements go out unnamed, as `DATABASE_PREPARED_STATEMENTS` requires.
fn with_database(
    environment: &[(String, String)],
    url: &str,
    pooler: bool,
) -> Vec<(String, String)> {
    environment
        .iter()
        .map(|(key, value)| {
            let value = match key.as_str() {
                "DATABASE_URL" => url,
                "DATABASE_PREPARED_STATEMENTS" if pooler => "false",
                _ => value,
            };
            (key.clone(), value.to_owned())
        })
        .collect()
}

/// `bytes` random bytes from the kernel, hex-encoded.
fn random_hex(bytes: usize) -> Result<String> {
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buffer)?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the harness");
    let outcome = runtime.block_on(async {
        let bench = parse_options()?;
        check_binaries(&bench)?;
        let report = phases::run(&bench).await?;
        println!("{report}");
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let mode = match (bench.plan.smoke, bench.plan.storm_only) {
            (true, _) => "smoke",
            (_, true) => "storm",
            _ => "full",
        };
        let file = bench.out.join(format!("report-{stamp}-{mode}.md"));
        std::fs::write(&file, &report)?;
        eprintln!("[latchkey-bench] report written to {}", file.display());
        Ok::<_, Error>(())
    });
    if let Err(err) = outcome {
        eprintln!("[latchkey-bench] error: {err}");
        std::process::exit(1);
    }
}

fn check_binaries(bench: &Bench) -> Result<()> {
    let missing: Vec<String> = bench
        .functions
        .iter()
        .map(String::as_str)
        .chain(["hello", "scrypt-rate"])
        .filter(|name| !bench.binary(name).is_file())
        .map(str::to_owned)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not built: {} (expected under {}; run local/bench.sh)",
            missing.join(", "),
            bench.lambda_dir.display()
        )
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `key` in an environment.
    fn value<'a>(environment: &'a [(String, String)], key: &str) -> Option<&'a str> {
        environment
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// The fixture mints its access tokens once, when it seeds, and every warm phase
    /// presents them afterwards: they must outlive a full run's warm phase even on a
    /// loaded machine (5 ms an invocation; `refresh` took 6 ms under a parallel build).
    #[test]
    fn seeded_access_tokens_outlive_a_full_runs_warm_phase() {
        let plan = Plan::full();
        let warm_phase_secs = (phases::WARM.len() * (plan.warm + plan.warm_up) * 5) as u64 / 1000;
        let environment = function_environment("postgres://bench@127.0.0.1/bench").unwrap();
        let ttl = value(&environment, "ACCESS_TOKEN_TTL")
            .map_or(900, |secs| secs.parse::<u64>().unwrap());
        assert!(
            ttl >= warm_phase_secs,
            "access tokens live {ttl} s, a full run's warm phase up to {warm_phase_secs} s"
        );
    }

    /// Direct connections reuse named statements; the benchmark's PgBouncer (1.18) cannot
    /// follow them, so the storm's pooled run must send them unnamed.
    #[test]
    fn only_direct_connections_prepare_statements() {
        let environment = function_environment("postgres://bench@127.0.0.1/bench").unwrap();
        let direct = with_database(&environment, "postgres://bench@127.0.0.1:1/bench", false);
        assert_eq!(value(&direct, "DATABASE_PREPARED_STATEMENTS"), Some("true"));
        let pooled = with_database(&environment, "postgres://bench@127.0.0.1:2/bench", true);
        assert_eq!(
            value(&pooled, "DATABASE_PREPARED_STATEMENTS"),
            Some("false")
        );
        assert_eq!(
            value(&pooled, "DATABASE_URL"),
            Some("postgres://bench@127.0.0.1:2/bench")
        );
    }
}
