//! The local stack keeps serving routes that sit idle. `local/serve.sh` used to pass
//! `--timeout 30` to `cargo lambda watch`, which also times out a function's long poll
//! for its next event: after 30 s idle the function panicked and every later request to
//! its route waited 30 s for a 408 (docs/local-stack-idle-timeout.md).

use std::time::Duration;

use latchkey_tests::Http;

/// How long the route sits idle: past the 30 s the emulator's timeout used to be
/// (`LATCHKEY_E2E_IDLE_SECS` to change; against a stack run with `--timeout N`, any idle
/// time past N shows the old failure).
fn idle_time() -> Duration {
    let secs = std::env::var("LATCHKEY_E2E_IDLE_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(35);
    Duration::from_secs(secs)
}

#[tokio::test]
async fn a_route_that_sat_idle_past_the_emulators_timeout_still_answers() {
    // The JWKS route: no other end-to-end test calls it, so nothing wakes it meanwhile.
    let http = Http::new();
    let first = http.get("/.well-known/jwks.json", None).await;
    assert_eq!(first.status, 200, "{}", first.body);

    tokio::time::sleep(idle_time()).await;

    let again = tokio::time::timeout(
        Duration::from_secs(20),
        http.get("/.well-known/jwks.json", None),
    )
    .await
    .expect("the idle route did not answer within 20 s");
    assert_eq!(again.status, 200, "{}", again.body);
}
