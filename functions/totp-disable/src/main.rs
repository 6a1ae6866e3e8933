//! Lambda entry point for `DELETE /auth/mfa/totp`: build the app once (with the MFA keys), then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(totp_disable::USES)?;
    lambda::serve(|req| totp_disable::handler(&app, req)).await
}
