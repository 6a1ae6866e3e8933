//! Lambda entry point for `POST /auth/password/reset`: build the app once, then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(reset_password::USES)?;
    lambda::serve(|req| reset_password::handler(&app, req)).await
}
