//! Lambda entry point for `GET /openapi.json` and `GET /docs`: serves the committed
//! document, embedded in the binary. Needs no configuration and no database.

use shared::http::lambda;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let docs = docs::Docs::committed();
    lambda::serve(|req| docs::handler(&docs, req)).await
}
