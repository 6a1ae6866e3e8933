//! `migrate`: a plain command locally (`cargo run -p migrate`); on Lambda, a
//! CloudFormation custom resource that answers every request at its `ResponseURL`, or,
//! invoked by hand, a function that returns what it applied.

use lambda_runtime::{LambdaEvent, service_fn};
use migrate::custom_resource::{self, Responder};
use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), migrate::Error> {
    lambda::init_tracing();
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        migrate::run(&App::from_env_for(migrate::USES)?).await?;
        return Ok(());
    }
    // A bad configuration must still reach CloudFormation as a FAILED answer (else the
    // deploy waits for the resource's timeout), so it is kept rather than returned.
    let app = App::from_env_for(migrate::USES);
    if let Err(err) = &app {
        tracing::error!(error = %err, "configuration");
    }
    let responder = Responder::new()?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let deadline = event.context.deadline();
        custom_resource::handle(app.as_ref(), &responder, event.payload, deadline)
    }))
    .await
}
