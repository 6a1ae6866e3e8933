//! Lambda entry point for `GET /health`: build the app once, then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(health::USES)?;
    lambda::serve(|req| health::handler(&app, req)).await
}
