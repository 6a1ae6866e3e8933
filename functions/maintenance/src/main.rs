//! Entry point of `maintenance`: on Lambda, one invocation per scheduled event (every
//! minute): a round, then more every `MAINTENANCE_INTERVAL_MS` until
//! `MAINTENANCE_POLL_SECS` (default 0: one round) have passed. Locally,
//! `maintenance --loop` (or `MAINTENANCE_LOOP=true`) runs a round every
//! `MAINTENANCE_INTERVAL_MS` (default 1000) until stopped.

use lambda_runtime::{LambdaEvent, service_fn};
use maintenance::{Maintenance, Sender};
use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(maintenance::USES)?;
    let maintenance = Maintenance::new(&app, Sender::new(&app.config.mail)?);
    let (interval, poll) = (
        app.config.mail.maintenance_interval,
        app.config.mail.maintenance_poll,
    );
    let looping = std::env::args().any(|arg| arg == "--loop")
        || std::env::var("MAINTENANCE_LOOP").is_ok_and(|v| v == "true");
    if looping {
        maintenance.run_forever(interval).await;
        return Ok(());
    }
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        maintenance.run_for(poll, interval).await.map_err(|err| {
            tracing::error!(code = err.code(), error = %err, "maintenance round failed");
            lambda_runtime::Error::from(err)
        })
    }))
    .await
}
