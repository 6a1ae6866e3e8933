//! `hello`: the smallest useful Lambda, as cargo-lambda's template writes it (the runtime's
//! tracing subscriber, a current-thread tokio runtime, one `service_fn`). Its init time is
//! the floor the functions' init is compared with.

use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(hello)).await
}

/// Answers any event with an API Gateway HTTP API response.
async fn hello(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": "{\"status\":\"ok\"}",
        "isBase64Encoded": false,
    }))
}
