//! The printed report: every figure with its count, ratio and PASS/MISS, and enough
//! about the machine and the method to stand on its own.

use std::fmt::Write as _;
use std::time::Duration;

use crate::Bench;
use crate::phases::{PeerFigures, Results};
use crate::report::{Summary, Table, duration, median, mib, micros, ratio, thousands, verdict};

/// Targets (BENCHMARKS.md, "Targets").
const INIT_OVER_HELLO: f64 = 1.5;
const PEER_SPEEDUP: f64 = 10.0;
/// A warm p50 may be this much above its floor: `hello`'s p50 plus the raw round trip
/// the request cannot avoid.
const OVER_FLOOR: f64 = 1.3;
/// Our requests/s over the peer's at the same concurrency.
const PEER_THROUGHPUT: f64 = 5.0;
const LOGIN_OVER_SCRYPT: f64 = 0.9;
const MAX_RSS_KIB: u64 = 20 * 1024;
const MAX_ZIP_BYTES: u64 = 3 * 1024 * 1024;
/// VmRSS may grow this much over [`FLAT_INVOCATIONS`] warm invocations and still count as
/// flat (allocator arenas settling): under 3 bytes per invocation, where the runtime's
/// `_X_AMZN_TRACE_ID` leak was ~190 (BENCHMARKS.md, "The runtime's memory leak").
const FLAT_KIB: u64 = 256;
/// The warm invocations the flat-memory target is judged over (the full run's count); a
/// run with fewer prints the growth without a verdict.
const FLAT_INVOCATIONS: usize = 100_000;

struct Verdicts(Vec<(String, String, Option<bool>)>);

impl Verdicts {
    fn judge(&mut self, target: String, figure: String, pass: Option<bool>) -> &'static str {
        self.0.push((target, figure, pass));
        verdict(pass)
    }
}

pub fn report(bench: &Bench, results: &Results) -> String {
    let mut out = String::new();
    let mut verdicts = Verdicts(Vec::new());
    let plan = &bench.plan;
    let machine = &results.machine;
    let mode = if plan.smoke {
        "smoke (few invocations, no peer, targets not enforced)"
    } else if plan.storm_only {
        "connection storm only"
    } else {
        "full"
    };
    let _ = writeln!(
        out,
        "## Latchkey benchmark, {} UTC, {mode}\n",
        results.started.format("%Y-%m-%d %H:%M")
    );
    let _ = writeln!(
        out,
        "- Machine: {} x {}, {:.1} GiB RAM, Linux {}; load average {} at the start, {} at the end.",
        machine.cpus,
        machine.cpu_model,
        machine.memory_gib,
        machine.kernel,
        results.load_average_start,
        results.load_average_end
    );
    let _ = writeln!(
        out,
        "- Toolchain: {}; {}; {}.",
        machine.rustc, machine.cargo_lambda, machine.postgres
    );
    let profile = if plan.smoke || plan.storm_only {
        "release profile without LTO, codegen-units 16, as .ci/template-checks builds"
    } else {
        "workspace release profile: thin LTO, codegen-units 1, strip, panic=abort"
    };
    let _ = writeln!(
        out,
        "- Build: `{}` ({profile}); zips deflated like SAM's packaging.",
        bench.build_command
    );
    let _ = writeln!(
        out,
        "- Functions: the release `bootstrap` binaries, each a child process of this harness against its own Lambda Runtime API on loopback, fed API Gateway HTTP API (payload 2.0) events; APP_SETTINGS=production, HS256, scrypt ln=17 r=8 p=1, Postgres on loopback (scram-sha-256)."
    );
    if crate::lambda::FIXED_TRACE_ID.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = writeln!(
            out,
            "- Diagnostic run (--fixed-trace-id): every invocation got the same X-Ray trace id; Lambda gives each a new one."
        );
    }
    let _ = writeln!(
        out,
        "- Run: {:.0} s in all (the build before it not included).\n",
        results.elapsed.as_secs_f64()
    );

    let _ = writeln!(
        out,
        "Contention: `calib` is the peer's indicator (single-thread PBKDF2-SHA256, 100 000 iterations, best of 3; about 30 ms with a free core), taken as each phase starts; `other cores` is the average CPU used during the phase by processes that are neither this run nor Postgres.\n"
    );
    let mut table = Table::new(&["phase", "seconds", "calib ms", "other cores"]);
    for load in &results.loads {
        table.row(vec![
            load.phase.to_owned(),
            format!("{:.0}", load.seconds),
            load.calibration_ms
                .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}")),
            format!("{:.2}", load.foreign_cores),
        ]);
    }
    out.push_str(&table.render());

    if !plan.storm_only {
        sizes_and_cold(&mut out, bench, results, &mut verdicts);
        warm(&mut out, bench, results, &mut verdicts);
        login(&mut out, results, &mut verdicts);
        round_trips(&mut out, results, &mut verdicts);
        latency_floor(&mut out, bench, results, &mut verdicts);
        peer(&mut out, bench, results, &mut verdicts);
        concurrency(&mut out, bench, results, &mut verdicts);
    }
    storm(&mut out, results, &mut verdicts);
    charts(&mut out, bench, results);

    let _ = writeln!(out, "\n### Targets\n");
    let mut table = Table::new(&["target", "figure", "result"]);
    for (target, figure, pass) in &verdicts.0 {
        table.row(vec![
            target.clone(),
            figure.clone(),
            verdict(*pass).to_owned(),
        ]);
    }
    out.push_str(&table.render());
    let passed = verdicts
        .0
        .iter()
        .filter(|(_, _, p)| *p == Some(true))
        .count();
    let missed: Vec<&str> = verdicts
        .0
        .iter()
        .filter(|(_, _, p)| *p == Some(false))
        .map(|(target, _, _)| target.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\nPASS {passed}, MISS {}{}{}",
        missed.len(),
        if missed.is_empty() { "" } else { ": " },
        missed.join("; ")
    );
    if plan.smoke {
        let _ = writeln!(
            out,
            "(smoke mode: counts too small for the targets to mean much; nothing is enforced)"
        );
    }
    out
}

fn sizes_and_cold(out: &mut String, bench: &Bench, results: &Results, verdicts: &mut Verdicts) {
    let samples = bench.plan.cold_samples;
    let init_rounds = bench.plan.init_samples;
    let _ = writeln!(
        out,
        "\n### 1. Size, init and cold start\n\nEvery binary is started once unmeasured (so it is in the page cache, as for every cold start on a host but the first), then in rounds, every binary once per round, in a rotated order, 25 ms apart. init = spawn to the first `GET .../invocation/next`, median of {} starts ({} init-only rounds and the {samples} probe rounds); cold first response = spawn to the first response posted, opening the database connection, preparing and querying included, median of the {samples} probe rounds. Probes marked (scrypt) spend one scrypt evaluation (section 3). `hello` is a hello-world `lambda_runtime` function from the same build. VmHWM after that first response. Zip target: 3 MiB = 3 145 728 B (Lambda's MB are MiB).\n",
        init_rounds + samples,
        init_rounds
    );
    let hello_init = results
        .cold
        .get("hello")
        .and_then(|cold| median(&cold.init));
    let mut table = Table::new(&[
        "function",
        "binary",
        "zip",
        "init",
        "init / hello",
        "cold first response",
        "probe",
        "VmHWM",
        "zip <= 3 MiB",
        "init <= 1.5x hello",
    ]);
    for (name, cold) in &results.cold {
        let size = results.sizes.get(name);
        let zip = size.and_then(|size| size.zip);
        let init = median(&cold.init);
        let over_hello = match (init, hello_init) {
            (Some(init), Some(hello)) if !hello.is_zero() => {
                Some(init.as_secs_f64() / hello.as_secs_f64())
            }
            _ => None,
        };
        let is_function = name != "hello";
        let zip_verdict = if is_function {
            verdicts.judge(
                format!("{name}: zip <= 3 MiB"),
                zip.map_or_else(
                    || "not built".to_owned(),
                    |zip| format!("{} ({zip} B)", mib(zip)),
                ),
                zip.map(|zip| zip <= MAX_ZIP_BYTES),
            )
        } else {
            "-"
        };
        let init_verdict = if is_function {
            verdicts.judge(
                format!("{name}: init <= 1.5x hello"),
                over_hello.map_or_else(|| "-".to_owned(), ratio),
                over_hello.map(|over| over <= INIT_OVER_HELLO),
            )
        } else {
            "-"
        };
        let first = match (&cold.problem, median(&cold.first_response)) {
            (Some(problem), _) => format!("FAILED: {problem}"),
            (None, Some(first)) => duration(first),
            (None, None) => "-".to_owned(),
        };
        let probe = if cold.hashes {
            format!("{} (scrypt)", cold.request)
        } else {
            cold.request.clone()
        };
        table.row(vec![
            name.clone(),
            size.and_then(|size| size.binary)
                .map_or_else(|| "-".to_owned(), mib),
            zip.map_or_else(|| "-".to_owned(), mib),
            init.map_or_else(|| "-".to_owned(), duration),
            over_hello.map_or_else(|| "-".to_owned(), ratio),
            first,
            probe,
            cold.hwm_kib
                .map_or_else(|| "-".to_owned(), |kib| mib(kib * 1024)),
            zip_verdict.to_owned(),
            init_verdict.to_owned(),
        ]);
    }
    out.push_str(&table.render());
}

fn warm(out: &mut String, bench: &Bench, results: &Results, verdicts: &mut Verdicts) {
    let _ = writeln!(
        out,
        "\n### 2. Warm invocations and memory\n\nOne instance per function (the last cold-started one), invoked sequentially as Lambda does; the first {} invocations (login: 2) unmeasured. Duration = the event handed over by `next` to the response received in full by the Runtime API (what Lambda bills; no API Gateway, no client network). VmRSS sampled before the measured invocations and after each tenth of them; VmHWM (max RSS) at the end. Flat = VmRSS grew at most {FLAT_KIB} KiB over {} warm invocations, new X-Ray trace id each (login: over its logins); with fewer invocations no verdict.\n",
        bench.plan.warm_up,
        thousands(FLAT_INVOCATIONS)
    );
    let mut table = Table::new(&[
        "function",
        "invocations",
        "p50",
        "p99",
        "mean",
        "max",
        "VmHWM",
        "VmRSS first -> last (min..max)",
        "growth",
        "max RSS <= 20 MiB",
        "RSS flat",
    ]);
    for warm in &results.warm {
        let s = &warm.summary;
        let first = warm.rss_kib.first().copied().unwrap_or(0);
        let last = warm.rss_kib.last().copied().unwrap_or(0);
        let low = warm.rss_kib.iter().copied().min().unwrap_or(0);
        let high = warm.rss_kib.iter().copied().max().unwrap_or(0);
        let growth = last.saturating_sub(first);
        let per_invocation = growth as f64 * 1024.0 / s.count as f64;
        let control = warm.name == "hello";
        let rss_verdict = if warm.hashes {
            "- (hashes)"
        } else if control {
            "- (control)"
        } else {
            verdicts.judge(
                format!("{}: max RSS <= 20 MiB", warm.name),
                mib(warm.hwm_kib * 1024),
                Some(warm.hwm_kib <= MAX_RSS_KIB),
            )
        };
        let growth_text = format!("+{growth} KiB ({per_invocation:.1} B/invocation)");
        // The control is judged too: the leak this target caught was the runtime's.
        let (over, judged) = if warm.hashes {
            (format!("{} logins", s.count), true)
        } else {
            (
                format!("{} warm invocations", thousands(FLAT_INVOCATIONS)),
                s.count >= FLAT_INVOCATIONS,
            )
        };
        let flat_verdict = verdicts.judge(
            format!("{}: VmRSS growth <= {FLAT_KIB} KiB over {over}", warm.name),
            format!("{growth_text} over {}", thousands(s.count)),
            judged.then_some(growth <= FLAT_KIB),
        );
        table.row(vec![
            warm.name.clone(),
            s.count.to_string(),
            micros(s.p50),
            micros(s.p99),
            micros(s.mean),
            micros(s.max),
            mib(warm.hwm_kib * 1024),
            format!(
                "{:.2} -> {:.2} ({:.2}..{:.2}) MiB",
                first as f64 / 1024.0,
                last as f64 / 1024.0,
                low as f64 / 1024.0,
                high as f64 / 1024.0
            ),
            growth_text,
            rss_verdict.to_owned(),
            flat_verdict.to_owned(),
        ]);
    }
    out.push_str(&table.render());
    let _ = writeln!(out, "\nVmRSS samples (MiB), in order:");
    for warm in &results.warm {
        let samples: Vec<String> = warm
            .rss_kib
            .iter()
            .map(|kib| format!("{:.2}", *kib as f64 / 1024.0))
            .collect();
        let _ = writeln!(out, "- {}: {}", warm.name, samples.join(" "));
    }
    chart_link(
        out,
        bench,
        results,
        "rss.svg",
        "VmRSS over the warm invocations",
    );
    not_warm(out, bench, results);
    let hello_grows = results.warm.iter().any(|warm| {
        warm.name == "hello"
            && warm.rss_kib.last().copied().unwrap_or(0)
                > warm.rss_kib.first().copied().unwrap_or(0) + FLAT_KIB
    });
    if hello_grows {
        let _ = writeln!(
            out,
            "\nThe hello-world control grows too, so the growth is the runtime's, not the handlers'. lambda_runtime 1.5 unpatched sets `_X_AMZN_TRACE_ID` with `std::env::set_var` on every invocation, and glibc's `setenv` keeps every value it ever set: is the `[patch.crates-io]` entry for lambda_runtime in Cargo.toml (BENCHMARKS.md, \"The runtime's memory leak\")?"
        );
    }
}

fn login(out: &mut String, results: &Results, verdicts: &mut Verdicts) {
    let Some(login) = results.warm.iter().find(|warm| warm.name == "login") else {
        return;
    };
    let _ = writeln!(
        out,
        "\n### 3. Login against raw scrypt\n\nRaw scrypt = `scrypt-rate` (same build): the `scrypt` crate's primitive at ln=17 r=8 p=1, one evaluation after another on one thread, timed before and after the logins. Login = warm invocation durations of `login` (one scrypt verification each, plus its two statements and the token signing). Rate = evaluations / summed durations, at concurrency 1 (one Lambda instance).\n"
    );
    let mut table = Table::new(&["figure", "n", "mean", "p50", "max", "rate"]);
    let mut row = |label: &str, summary: Option<Summary>| {
        if let Some(s) = summary {
            table.row(vec![
                label.to_owned(),
                s.count.to_string(),
                micros(s.mean),
                micros(s.p50),
                micros(s.max),
                format!("{:.3} /s", s.rate()),
            ]);
        }
    };
    row("raw scrypt, before", Summary::of(&results.scrypt_before));
    row("raw scrypt, after", Summary::of(&results.scrypt_after));
    let both: Vec<Duration> = results
        .scrypt_before
        .iter()
        .chain(&results.scrypt_after)
        .copied()
        .collect();
    let raw = Summary::of(&both);
    row("raw scrypt, both", raw);
    row("login (warm invocations)", Some(login.summary));
    out.push_str(&table.render());
    if let Some(raw) = raw {
        let over = login.summary.rate() / raw.rate();
        let result = verdicts.judge(
            format!(
                "login rate >= 0.9x raw scrypt rate ({} logins, {} evaluations)",
                login.summary.count, raw.count
            ),
            ratio(over),
            Some(over >= LOGIN_OVER_SCRYPT),
        );
        let _ = writeln!(
            out,
            "\nlogin rate / raw scrypt rate = {} (target >= {LOGIN_OVER_SCRYPT:.1}x): {result}",
            ratio(over)
        );
    }
}

fn round_trips(out: &mut String, results: &Results, verdicts: &mut Verdicts) {
    if results.round_trips.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n### 4. Database round trips per request\n\nCounted by a Postgres-protocol-aware TCP proxy between a fresh instance and Postgres, over the requests after its warm-up (connection open, statements prepared): round trips = frontend `Sync` + simple `Query` messages, each an exchange the function waits for; flights = times the function started writing after Postgres had answered (fewer than round trips only if it pipelines). pg_stat_statements names the statements executed (a prepare is no execution, so it shows there as nothing).\n"
    );
    let mut table = Table::new(&[
        "function",
        "requests",
        "round trips / request",
        "flights / request",
        "new connections",
        "target",
        "result",
    ]);
    for trips in &results.round_trips {
        let n = trips.requests.max(1) as f64;
        let per_request = trips.counts.round_trips as f64 / n;
        let result = verdicts.judge(
            format!(
                "{}: round trips <= {} ({} requests)",
                trips.name, trips.target, trips.requests
            ),
            format!("{per_request:.2}"),
            Some(per_request <= trips.target as f64),
        );
        table.row(vec![
            trips.name.to_owned(),
            trips.requests.to_string(),
            format!("{per_request:.2}"),
            format!("{:.2}", trips.counts.flights as f64 / n),
            trips.counts.connections.to_string(),
            format!("<= {}", trips.target),
            result.to_owned(),
        ]);
    }
    out.push_str(&table.render());
    for trips in &results.round_trips {
        let Some(statements) = &trips.statements else {
            continue;
        };
        let _ = writeln!(out, "\n{} statements (calls per request):", trips.name);
        for (calls, query) in statements {
            let _ = writeln!(out, "- {calls:.2} x `{query}`");
        }
    }
}

fn peer(out: &mut String, bench: &Bench, results: &Results, verdicts: &mut Verdicts) {
    let Some(peer) = &results.peer else {
        if !bench.plan.smoke {
            let _ = writeln!(
                out,
                "\n### 6. Side by side with the peer\n\nPeer not run (no peer directory or database given)."
            );
        }
        return;
    };
    let _ = writeln!(out, "\n### 6. Side by side with the peer\n");
    let figures = match peer {
        Ok(figures) => figures,
        Err(problem) => {
            let _ = writeln!(out, "The peer could not be measured: {problem}");
            return;
        }
    };
    peer_table(out, results, figures, verdicts);
    chart_link(
        out,
        bench,
        results,
        "latency.svg",
        "Warm p50 per request, ours and the peer's",
    );
}

fn peer_table(out: &mut String, results: &Results, peer: &PeerFigures, verdicts: &mut Verdicts) {
    let info = &peer.info;
    let _ = writeln!(
        out,
        "Peer: Django {} + DRF + Djoser + SimpleJWT on gunicorn ({} x {}), hasher {} {}, started by its own run.sh against the same Postgres server (separate database). Sequential requests, one at a time, over loopback HTTP/1.1 (gunicorn's sync workers close every connection: {:.0}% of the timed requests opened one).\n",
        info["django"].as_str().unwrap_or("?"),
        info["gunicorn_worker_class"].as_str().unwrap_or("?"),
        info["gunicorn_workers"].as_str().unwrap_or("?"),
        info["hasher_algorithm"].as_str().unwrap_or("?"),
        info["hasher_params"],
        peer.connects_per_request * 100.0
    );
    let warm = |name: &str| results.warm.iter().find(|warm| warm.name == name);
    let cold_me = results
        .cold
        .get("get-me")
        .and_then(|cold| median(&cold.first_response));
    let mut table = Table::new(&["figure", "ours", "peer", "peer / ours", "target", "result"]);
    if let (Some(ours), Some(theirs)) = (cold_me, peer.cold) {
        table.row(vec![
            "cold start to the first authenticated response (GET me)".to_owned(),
            duration(ours),
            duration(theirs),
            ratio(theirs.as_secs_f64() / ours.as_secs_f64()),
            "-".to_owned(),
            "-".to_owned(),
        ]);
    }
    for (label, ours, theirs) in [
        ("get-me", warm("get-me"), peer.me),
        ("refresh", warm("refresh"), peer.refresh),
    ] {
        let Some(ours) = ours else {
            continue;
        };
        for (quantile, mine, their) in [
            ("p50", ours.summary.p50, theirs.p50),
            ("p99", ours.summary.p99, theirs.p99),
        ] {
            let speedup = their / mine;
            let result = if quantile == "p50" {
                verdicts.judge(
                    format!(
                        "{label}: >= 10x faster per request than the peer (p50; {} vs {} requests)",
                        ours.summary.count, theirs.count
                    ),
                    ratio(speedup),
                    Some(speedup >= PEER_SPEEDUP),
                )
            } else {
                "-"
            };
            table.row(vec![
                format!(
                    "{label} per request, {quantile} (ours n={}, peer n={})",
                    ours.summary.count, theirs.count
                ),
                micros(mine),
                micros(their),
                ratio(speedup),
                if quantile == "p50" { ">= 10x" } else { "-" }.to_owned(),
                result.to_owned(),
            ]);
        }
    }
    if let Some(login) = warm("login") {
        let (mine, theirs) = (login.summary.rate(), peer.login.rate());
        table.row(vec![
            format!(
                "login throughput at concurrency 1, logins/s (ours n={}, peer n={})",
                login.summary.count, peer.login.count
            ),
            format!("{mine:.3}"),
            format!("{theirs:.3}"),
            format!("ours / peer {}", ratio(mine / theirs)),
            "-".to_owned(),
            "-".to_owned(),
        ]);
    }
    out.push_str(&table.render());
    let _ = writeln!(
        out,
        "\nWhat each figure includes. Ours, per request: the warm invocation duration (event handed over to response received by the Runtime API: event parsing, JWT verification, the database round trips, serialising, posting the response), with no API Gateway and no client network. Peer, per request: client-side time from opening the TCP connection to the last byte of the response (HTTP parsing, Django middleware, DRF + SimpleJWT authentication, the ORM queries, rendering). Cold start, ours: spawn of the function process to its first response (the database connection included); peer: its gunicorn master process appearing (after run.sh's venv check and `manage.py migrate`, {}) to the first 200 from GET me (gunicorn's workers importing Django, the database connection), {} from run.sh's start. Login: ours = invocation durations, peer = request times; both one scrypt ln=17 r=8 p=1 verification per login.",
        peer.script.map_or_else(|| "-".to_owned(), duration),
        peer.total.map_or_else(|| "-".to_owned(), duration)
    );
}

fn storm(out: &mut String, results: &Results, verdicts: &mut Verdicts) {
    let Some(storm) = &results.storm else {
        return;
    };
    let plan = &storm.plan;
    let _ = writeln!(
        out,
        "\n### 8. Connection storm\n\n{} instances (get-me {}, refresh {}, login {}) spawned at once, each its own process with its own Runtime API and its own pool (DATABASE_POOL_SIZE {}); each get-me and refresh instance then serves {} requests in a row, each login instance {}. Postgres: max_connections {} ({} reserved for superusers). Durations: Lambda's billed duration of the answered invocations; one not answered within the function timeout ({} s) counts under its own heading and ends its instance. Peak server connections: the app role's client backends in pg_stat_activity, sampled every 20 ms from a superuser connection.\n",
        plan.instances(),
        plan.get_me,
        plan.refresh,
        plan.login,
        storm.instance_pool_size,
        plan.requests,
        plan.logins,
        storm.max_connections,
        storm.reserved_connections,
        crate::lambda::FUNCTION_TIMEOUT.as_secs(),
    );
    let mut table = Table::new(&[
        "mode",
        "function",
        "requests",
        "answers",
        "p50",
        "p99",
        "max",
        "peak server conns",
        "seconds",
    ]);
    for run in &storm.runs {
        let mode = match (&storm.pooler, run.mode) {
            (Some(pooler), "PgBouncer") => {
                format!("PgBouncer (transaction, pool {})", pooler.pool_size)
            }
            _ => run.mode.to_owned(),
        };
        let all = run.all();
        let rows = run
            .by_function
            .iter()
            .map(|(name, tally)| ((*name).to_owned(), tally, false))
            .chain(std::iter::once(("all".to_owned(), &all, true)));
        for (name, tally, total) in rows {
            let answers: Vec<String> = tally
                .outcomes
                .iter()
                .map(|(outcome, count)| format!("{outcome}: {count}"))
                .collect();
            let summary = crate::storm::StormRun::summary(tally);
            let figure = |pick: fn(&Summary) -> f64| {
                summary
                    .as_ref()
                    .map_or_else(|| "-".to_owned(), |s| micros(pick(s)))
            };
            table.row(vec![
                mode.clone(),
                name,
                tally.requests().to_string(),
                answers.join("; "),
                figure(|s| s.p50),
                figure(|s| s.p99),
                figure(|s| s.max),
                if total {
                    run.peak_server_connections.to_string()
                } else {
                    String::new()
                },
                if total {
                    format!("{:.0}", run.seconds)
                } else {
                    String::new()
                },
            ]);
        }
        let failed = &run.init_failures;
        if !failed.is_empty() {
            let _ = writeln!(
                out,
                "{mode}: {} instances failed to start: {}",
                failed.len(),
                failed.join("; ")
            );
        }
        let errors = all.errors();
        let kinds: Vec<&str> = all
            .outcomes
            .keys()
            .filter(|outcome| !outcome.starts_with('2'))
            .map(String::as_str)
            .collect();
        match (&storm.pooler, run.mode) {
            (Some(pooler), "PgBouncer") => {
                verdicts.judge(
                    format!("storm through {mode}: no errors"),
                    format!("{errors} errors of {}", all.requests()),
                    Some(errors == 0 && failed.is_empty()),
                );
                verdicts.judge(
                    format!(
                        "storm through {mode}: server connections <= {}",
                        pooler.pool_size
                    ),
                    run.peak_server_connections.to_string(),
                    Some(run.peak_server_connections <= pooler.pool_size),
                );
            }
            _ => {
                verdicts.judge(
                    format!(
                        "storm direct: every error a 503 database_unavailable within {} s",
                        crate::lambda::FUNCTION_TIMEOUT.as_secs()
                    ),
                    format!(
                        "{errors} errors: {}",
                        if kinds.is_empty() {
                            "none".to_owned()
                        } else {
                            kinds.join(", ")
                        }
                    ),
                    Some(
                        failed.is_empty()
                            && kinds.iter().all(|kind| *kind == "503 database_unavailable"),
                    ),
                );
            }
        }
    }
    out.push_str(&table.render());
    if storm.pooler.is_none() {
        let _ = writeln!(
            out,
            "\nNo pooler given (--pooler-url): the direct run only."
        );
    }
}

/// Every function built but not in the warm table, with the reason.
fn not_warm(out: &mut String, bench: &Bench, results: &Results) {
    let skipped: Vec<&String> = bench
        .functions
        .iter()
        .filter(|name| !results.warm.iter().any(|warm| &warm.name == *name))
        .collect();
    if skipped.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nNot measured warm (section 1 has their init and, where probed, their cold first response):"
    );
    for name in skipped {
        let reason = if crate::phases::WARM.contains(&name.as_str()) {
            "in the warm list, but no instance was kept (its probe failed?)"
        } else {
            crate::phases::not_warm(name)
        };
        let _ = writeln!(out, "- {name}: {reason}");
    }
}

/// The warm p50 of `name`, when it was measured.
fn warm_p50(results: &Results, name: &str) -> Option<f64> {
    results
        .warm
        .iter()
        .find(|warm| warm.name == name)
        .map(|warm| warm.summary.p50)
}

fn latency_floor(out: &mut String, bench: &Bench, results: &Results, verdicts: &mut Verdicts) {
    let Some(floor) = &results.floor else {
        return;
    };
    let _ = writeln!(
        out,
        "\n### 5. Latency floor\n\nRaw round trips: one tokio-postgres client in the harness, connected as the functions connect (same URL and role, SCRAM, no TLS on loopback, application_name=latchkey, each statement prepared once with its parameter types and then sent by name, as the functions send theirs with `DATABASE_PREPARED_STATEMENTS=true`: one round trip), {} timed after {} unmeasured, one after the other, right after the warm phase. Read = get-me's unavoidable single-row SELECT by primary key; write = refresh's unavoidable single-row UPDATE, committed in autocommit (one WAL flush, fsync on). Floor = `hello`'s warm p50 (the runtime's own cost per invocation, section 2) + the round trip's p50; figure = the function's warm p50 (section 2); above the floor = figure - floor: JWT verification, event parsing, the rest of its SQL, serialising.\n",
        thousands(floor.read.count),
        thousands((floor.read.count / 10).max(5))
    );
    let mut table = Table::new(&["raw round trip", "n", "p50", "p99", "mean", "statement"]);
    for (label, summary, sql) in [
        ("read", &floor.read, crate::floor::READ_SQL),
        ("write (committed)", &floor.write, crate::floor::WRITE_SQL),
    ] {
        table.row(vec![
            label.to_owned(),
            summary.count.to_string(),
            micros(summary.p50),
            micros(summary.p99),
            micros(summary.mean),
            format!("`{sql}`"),
        ]);
    }
    out.push_str(&table.render());
    out.push('\n');
    let Some(hello) = warm_p50(results, "hello") else {
        let _ = writeln!(out, "No `hello` warm figure: no floor.");
        return;
    };
    let mut table = Table::new(&[
        "function",
        "hello p50",
        "round trip p50",
        "floor",
        "figure (warm p50)",
        "figure / floor",
        "above the floor",
        "target",
        "result",
    ]);
    for (name, round_trip, kind) in [
        ("get-me", floor.read.p50, "read"),
        ("refresh", floor.write.p50, "write"),
    ] {
        let Some(figure) = warm_p50(results, name) else {
            continue;
        };
        let floor_us = hello + round_trip;
        let over = figure / floor_us;
        let result = verdicts.judge(
            format!(
                "{name}: warm p50 <= {OVER_FLOOR}x (hello p50 + raw {kind} p50) ({} invocations, {} round trips)",
                thousands(bench.plan.warm),
                thousands(bench.plan.floor_samples)
            ),
            format!("{} ({} / {})", ratio(over), micros(figure), micros(floor_us)),
            Some(over <= OVER_FLOOR),
        );
        table.row(vec![
            name.to_owned(),
            micros(hello),
            format!("{} ({kind})", micros(round_trip)),
            micros(floor_us),
            micros(figure),
            ratio(over),
            format!("{:.0} µs", figure - floor_us),
            format!("<= {OVER_FLOOR}x"),
            result.to_owned(),
        ]);
    }
    out.push_str(&table.render());
}

fn concurrency(out: &mut String, bench: &Bench, results: &Results, verdicts: &mut Verdicts) {
    if results.concurrency.is_empty() {
        return;
    }
    let plan = &bench.plan;
    let levels: Vec<String> = plan
        .concurrency_levels
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(
        out,
        "\n### 7. Throughput under concurrency\n\nOurs: N fresh instances of the function (N = {}), each its own process polling its own Runtime API, as Lambda runs N concurrent requests in N sandboxes; a closed-loop client keeps N invocations in flight, one per instance, each sent as soon as the instance answered its previous one, {} timed requests in all per level after about {} unmeasured per instance. Peer: N HTTP/1.1 clients against its gunicorn, the same closed loop and counts. Every refresh client (ours and the peer's) follows its own refresh-token chain from its own login. Requests/s = timed requests / wall time from the first sent to the last answered; p50 and p99 of client-side request times (ours: the event queued to the response received by the Runtime API; peer: TCP connect to the last byte). One harness thread drives both sides on the same 2 cores as the servers and Postgres.\n",
        levels.join(" and "),
        thousands(plan.concurrent_requests),
        crate::concurrency::WARM_UP
    );
    let mut table = Table::new(&[
        "function",
        "N",
        "ours req/s",
        "ours p50",
        "ours p99",
        "peer req/s",
        "peer p50",
        "peer p99",
        "ours / peer",
        "target",
        "result",
    ]);
    for pair in &results.concurrency {
        let ours = &pair.ours;
        let (peer_rate, peer_p50, peer_p99, speedup, result) = match &pair.peer {
            Some(peer) => {
                let speedup = ours.requests_per_second() / peer.requests_per_second();
                let result = verdicts.judge(
                    format!(
                        "{} at {} concurrent: requests/s >= {PEER_THROUGHPUT}x the peer's ({} requests each)",
                        ours.function, ours.concurrency, ours.summary.count
                    ),
                    format!(
                        "{} ({:.0} vs {:.0} req/s)",
                        ratio(speedup),
                        ours.requests_per_second(),
                        peer.requests_per_second()
                    ),
                    Some(speedup >= PEER_THROUGHPUT),
                );
                (
                    format!("{:.0}", peer.requests_per_second()),
                    micros(peer.summary.p50),
                    micros(peer.summary.p99),
                    ratio(speedup),
                    result,
                )
            }
            None => (
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-".to_owned(),
                "-",
            ),
        };
        table.row(vec![
            ours.function.to_owned(),
            ours.concurrency.to_string(),
            format!("{:.0}", ours.requests_per_second()),
            micros(ours.summary.p50),
            micros(ours.summary.p99),
            peer_rate,
            peer_p50,
            peer_p99,
            speedup,
            format!(">= {PEER_THROUGHPUT}x"),
            result.to_owned(),
        ]);
    }
    out.push_str(&table.render());
    chart_link(
        out,
        bench,
        results,
        "throughput.svg",
        "Requests/s under concurrency, ours and the peer's",
    );
    match results.peer.as_ref() {
        Some(Ok(peer)) => {
            if let Err(problem) = &peer.concurrency {
                let _ = writeln!(
                    out,
                    "\nThe peer could not be measured under concurrency: {problem}"
                );
            }
        }
        _ => {
            let _ = writeln!(out, "\nNo peer in this run: ours only, no verdict.");
        }
    }
}

/// Where the charts went, relative to the repository when they are inside it.
fn charts(out: &mut String, bench: &Bench, results: &Results) {
    match &results.charts {
        Ok(paths) if paths.is_empty() => {}
        Ok(paths) => {
            let names: Vec<String> = paths
                .iter()
                .map(|path| {
                    let shown = path.strip_prefix(&bench.root).unwrap_or(path);
                    format!("`{}`", shown.display())
                })
                .collect();
            let _ = writeln!(out, "\nCharts (SVG): {}.", names.join(", "));
        }
        Err(problem) => {
            let _ = writeln!(out, "\nCharts could not be written: {problem}");
        }
    }
}

/// In a full run, the committed copy of chart `name` as a Markdown image, so that the
/// report pasted into BENCHMARKS.md shows each chart beside its table.
fn chart_link(out: &mut String, bench: &Bench, results: &Results, name: &str, alt: &str) {
    let committed = bench.root.join("docs/bench").join(name);
    let copied = results
        .charts
        .as_ref()
        .is_ok_and(|paths| paths.contains(&committed));
    if copied {
        let _ = writeln!(out, "\n![{alt}](docs/bench/{name})");
    }
}
