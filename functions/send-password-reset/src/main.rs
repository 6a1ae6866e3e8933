//! Lambda entry point for `POST /users/{id}/password-reset`: build the app once, then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env()?;
    lambda::serve(|req| send_password_reset::handler(&app, req)).await
}
