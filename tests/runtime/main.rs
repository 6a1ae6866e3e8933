//! The Lambda runtime as Latchkey's functions run it (`shared::http::lambda::serve`), against the
//! benchmark's Runtime API emulator, which hands every invocation a new X-Ray trace id as
//! Lambda does. No database, no network beyond loopback; a second or two.

use std::collections::HashSet;
use std::path::Path;

use latchkey_bench::event::{HttpRequest, HttpResponse};
use latchkey_bench::lambda::Instance;
use serde_json::Value;

/// Enough to see the environment stay as it was; the leak it guards against needs
/// 100 000 (BENCHMARKS.md, section 2).
const INVOCATIONS: u64 = 300;

/// lambda_runtime 1.5 set `_X_AMZN_TRACE_ID` with `std::env::set_var` on every sequential
/// invocation, and glibc's setenv keeps every value it replaces: ~190 bytes leaked per
/// invocation. `vendor/lambda_runtime` (PATCH.md) stops that; this fails without it.
#[tokio::test]
async fn a_new_trace_id_per_invocation_reaches_the_handler_and_never_the_process_environment() {
    let log =
        std::env::temp_dir().join(format!("latchkey-runtime-probe-{}.log", std::process::id()));
    let binary = Path::new(env!("CARGO_BIN_EXE_runtime-probe"));
    let mut instance = Instance::spawn(binary, "runtime-probe", &[], &log)
        .await
        .unwrap();
    instance.init().await.unwrap();

    let mut trace_ids = HashSet::new();
    let mut env_vars = None;
    for sequence in 0..INVOCATIONS {
        let event = HttpRequest::new("GET", "/probe").to_event(sequence);
        let outcome = instance.invoke(event).await.unwrap();
        let response = HttpResponse::parse(&outcome.body).unwrap();
        assert_eq!(response.status, 200, "{}", response.body);

        let trace_id = response
            .text("context_trace_id")
            .expect("the trace id is in the Lambda context");
        assert!(
            trace_ids.insert(trace_id),
            "invocation {sequence}: every invocation has a trace id of its own"
        );
        assert_eq!(
            response.body["env_trace_id"],
            Value::Null,
            "invocation {sequence}: the runtime put the trace id into the process environment \
             (_X_AMZN_TRACE_ID); glibc's setenv never frees a replaced value, so every new \
             trace id leaks. Is the [patch.crates-io] entry for lambda_runtime in Cargo.toml?"
        );
        let count = response.body["env_vars"].as_u64();
        assert_eq!(
            *env_vars.get_or_insert(count),
            count,
            "invocation {sequence}: the process environment changed size"
        );
    }
    instance.stop().await;
    let _ = std::fs::remove_file(&log);
}
