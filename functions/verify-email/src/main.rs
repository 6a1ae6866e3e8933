//! Lambda entry point for `POST /auth/verify-email`: build the app once, then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env()?;
    lambda::serve(|req| verify_email::handler(&app, req)).await
}
