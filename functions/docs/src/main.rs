//! Lambda entry point for `GET /openapi.json` and `GET /docs`: render the document once,
//! then serve invocations. Needs no configuration and no database.

use shared::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let docs = docs::Docs::new()?;
    lambda::serve(|req| docs::handler(&docs, req)).await
}
