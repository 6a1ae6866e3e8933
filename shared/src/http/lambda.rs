//! Running a handler on Lambda: tracing set-up, and turning every handler outcome into an
//! HTTP response (an `Err` out of a Lambda handler would become a 502 at the gateway).

use std::convert::Infallible;
use std::future::Future;

use lambda_http::tracing::subscriber;
use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use std::str::FromStr as _;
use subscriber::filter::{EnvFilter, LevelFilter};
use tracing::Instrument as _;

use crate::http::error::ApiError;

/// Initialises tracing like the runtime's default subscriber (level from
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO; `AWS_LAMBDA_LOG_FORMAT=json` for
/// JSON lines), except that the runtime's own crates never log below INFO: at DEBUG and
/// TRACE they dump whole events, request bodies and so passwords included. `RUST_LOG` is
/// read as one level, not as per-target directives, so nothing can lift that cap.
pub fn init_tracing() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_default();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(log_filter(&level));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The runtime's crates, whose DEBUG and TRACE events carry whole requests.
const RUNTIME_CRATES: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// `level` (e.g. `DEBUG`; INFO when empty or not a level) for our code, capped at INFO for
/// [`RUNTIME_CRATES`].
pub fn log_filter(level: &str) -> EnvFilter {
    let level = match level.trim() {
        "" => LevelFilter::INFO,
        level => LevelFilter::from_str(level).unwrap_or(LevelFilter::INFO),
    };
    let mut filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .parse_lossy("");
    for target in RUNTIME_CRATES {
        let capped = level.min(LevelFilter::INFO);
        if let Ok(directive) = format!("{target}={capped}").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
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
            gateway_request_id = %crate::http::client::gateway_request_id(&req),
            source_ip = %crate::http::client::source_ip_text(&req),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// What a subscriber with [`log_filter`]`(level)` writes for a TRACE event of the
    /// runtime and one of ours.
    fn logged_at(level: &str) -> String {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let writer = {
            let out = out.clone();
            move || Capture(out.clone())
        };
        let subscriber = subscriber::fmt()
            .with_env_filter(log_filter(level))
            .with_writer(writer)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers::trace", "event body: password=hunter2");
            tracing::debug!(target: "lambda_http::request", "event body: password=hunter2");
            tracing::info!(target: "lambda_runtime", "runtime info");
            tracing::trace!(target: "shared::auth::credentials", "ours at trace");
        });
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_runtime_never_logs_request_bodies_whatever_the_level() {
        for level in ["TRACE", "trace", "DEBUG", "INFO", "", "nonsense"] {
            let text = logged_at(level);
            assert!(!text.contains("hunter2"), "{level}: {text}");
            assert!(text.contains("runtime info"), "{level}: {text}");
        }
        assert!(
            logged_at("TRACE").contains("ours at trace"),
            "our own TRACE still works"
        );
        assert!(!logged_at("INFO").contains("ours at trace"));
        assert!(
            !logged_at("WARN").contains("runtime info"),
            "a stricter level still applies"
        );
    }
}
