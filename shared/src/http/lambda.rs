//! Running a handler on Lambda: tracing set-up, and turning every handler outcome into an
//! HTTP response (an `Err` out of a Lambda handler would become a 502 at the gateway).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;

use lambda_http::tracing::subscriber;
use lambda_http::{Body, Error, IntoResponse, Request, RequestExt, Response, service_fn};
use std::str::FromStr as _;
use subscriber::filter::{LevelFilter, Targets};
use subscriber::layer::SubscriberExt as _;
use subscriber::util::SubscriberInitExt as _;
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
    let lines = subscriber::fmt::layer().with_target(false).without_time();
    let registry = subscriber::registry().with(log_filter(&level));
    if json {
        registry.with(lines.json()).init();
    } else {
        registry.with(lines).init();
    }
}

/// The runtime's crates, whose DEBUG and TRACE events carry whole requests.
const RUNTIME_CRATES: [&str; 3] = ["lambda_runtime", "lambda_runtime_api_client", "lambda_http"];

/// `level` (e.g. `DEBUG`; INFO when empty or not a level) for our code, capped at INFO for
/// [`RUNTIME_CRATES`]. A plain per-target filter: `EnvFilter`'s directive language (and
/// the regular-expression engine it links into every function) would buy nothing here.
pub fn log_filter(level: &str) -> Targets {
    let level = match level.trim() {
        "" => LevelFilter::INFO,
        level => LevelFilter::from_str(level).unwrap_or(LevelFilter::INFO),
    };
    let capped = level.min(LevelFilter::INFO);
    RUNTIME_CRATES
        .iter()
        .fold(Targets::new().with_default(level), |filter, target| {
            filter.with_target(*target, capped)
        })
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
        async move { Ok::<_, Infallible>(Finished(respond(outcome.await, &request_id))) }
            .instrument(span)
    }))
    .await
}

/// The response for a handler's outcome; errors become the contract's error body. Our
/// JSON and HTML bodies are text from the start (`response::json`, `docs`); should a
/// handler answer with bytes, UTF-8 ones still become text, so the gateway gets them as
/// they are rather than base64-encoded.
pub fn respond(outcome: Result<Response<Body>, ApiError>, request_id: &str) -> Response<Body> {
    outcome
        .unwrap_or_else(|err| err.into_response(request_id))
        .map(|body| match body {
            Body::Binary(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Body::Text(text),
                Err(err) => Body::Binary(err.into_bytes()),
            },
            other => other,
        })
}

/// A response [`respond`] has finished, handed to the runtime as it is. (`lambda_http`'s
/// own conversion of a `Response<Body>` collects the body again and decodes it by its
/// declared charset, which links every encoding `encoding_rs` knows into each function.)
struct Finished(Response<Body>);

impl IntoResponse for Finished {
    fn into_response(self) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(std::future::ready(self.0))
    }
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
        let subscriber = subscriber::registry()
            .with(log_filter(level))
            .with(subscriber::fmt::layer().with_writer(writer));
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

    fn finished(body: Body) -> Body {
        let response = respond(Ok(Response::new(body)), "r");
        let future = Finished(response).into_response();
        let waker = std::task::Waker::noop();
        match std::pin::pin!(future).poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(response) => response.into_body(),
            std::task::Poll::Pending => panic!("a finished response is ready at once"),
        }
    }

    #[test]
    fn utf8_bodies_reach_the_gateway_as_text_and_other_bytes_stay_binary() {
        let json = "{\"status\":\"ok\",\"name\":\"Zoë\"}".to_owned();
        assert!(
            matches!(finished(Body::from(json.clone().into_bytes())), Body::Text(text) if text == json)
        );
        assert!(matches!(finished(Body::from("<html>")), Body::Text(text) if text == "<html>"));
        assert!(
            matches!(finished(Body::from(vec![0xff, 0xfe, 0x00])), Body::Binary(bytes) if bytes == [0xff, 0xfe, 0x00])
        );
        assert!(matches!(finished(Body::Empty), Body::Empty));
    }

    #[test]
    fn errors_reach_the_gateway_as_text() {
        let response = respond(Err(ApiError::InvalidToken), "r");
        assert!(matches!(response.body(), Body::Text(text) if text.contains("invalid_token")));
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
