//! Running a handler on Lambda: tracing set-up, and turning every handler outcome into an
//! HTTP response (an `Err` out of a Lambda handler would become a 502 at the gateway).

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use tracing::Instrument as _;

use crate::error::ApiError;

/// Initialises the runtime's tracing subscriber (`AWS_LAMBDA_LOG_LEVEL` / `RUST_LOG`,
/// `AWS_LAMBDA_LOG_FORMAT=json` for JSON lines).
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}

/// Serves `handler` until the runtime stops. Every outcome, success or error, is answered
/// with a response.
pub async fn serve<F, Fut>(handler: F) -> Result<(), Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>> + Send,
{
    lambda_http::run(service_fn(|req: Request| {
        let request_id = request_id(&req);
        // Every line logged while this request is handled, auth decisions and refusals
        // included, carries where it came from and API Gateway's id for it.
        let span = tracing::info_span!(
            "request",
            gateway_request_id = %crate::client::gateway_request_id(&req),
            source_ip = %crate::client::source_ip_text(&req),
        );
        let outcome = handler(req);
        async move { Ok::<_, Infallible>(respond(outcome.await, &request_id)) }.instrument(span)
    }))
    .await
}

/// The response for a handler's outcome; errors become the contract's error body.
pub fn respond(outcome: Result<Response<Body>, ApiError>, request_id: &str) -> Response<Body> {
    outcome.unwrap_or_else(|err| err.into_response(request_id))
}

/// The Lambda request id, which a 500's body quotes and every log line of the invocation
/// carries.
pub fn request_id(req: &Request) -> String {
    req.lambda_context_ref()
        .map(|ctx| ctx.request_id.clone())
        .unwrap_or_else(|| "local".into())
}
