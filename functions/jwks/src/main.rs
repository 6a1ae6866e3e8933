//! Lambda entry point for `GET /.well-known/jwks.json` and
//! `GET /.well-known/openid-configuration`: build the app (and so the keys) once, then serve
//! invocations. Never touches the database (the pool connects lazily).

use shared::{App, http::lambda};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    lambda::init_tracing();
    let app = App::from_env_for(jwks::USES)?;
    lambda::serve(|req| jwks::handler(&app, req)).await
}
