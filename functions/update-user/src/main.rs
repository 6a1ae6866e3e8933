//! Lambda entry point for `PATCH /users/{id}` (and PUT): build the app once, then serve invocations.

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(update_user::USES)?;
    lambda::serve(|req| update_user::handler(&app, req)).await
}
