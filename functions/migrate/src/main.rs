//! `migrate`: a plain command locally (`cargo run -p migrate`), a Lambda function when
//! started by the Lambda runtime (it is invoked with any event and answers with what it
//! applied).

use lambda_runtime::{LambdaEvent, service_fn};
use shared::{App, lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), migrate::Error> {
    lambda::init_tracing();
    let app = App::from_env()?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        migrate::run(&app).await?;
        return Ok(());
    }
    lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| {
        migrate::run(&app)
    }))
    .await
}
