//! `runtime-probe`: a function served as every Latchkey function is
//! (`shared::http::lambda::serve`), answering with what the Lambda runtime left it: the X-Ray
//! trace id in its Lambda context, `_X_AMZN_TRACE_ID` in its process environment, and the
//! number of variables there. tests/runtime invokes it.

use lambda_http::{Body, Error, RequestExt as _, Response};
use shared::http::error::ApiError;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::http::lambda::serve(|request| {
        let report = serde_json::json!({
            "context_trace_id": request
                .lambda_context_ref()
                .and_then(|context| context.xray_trace_id.clone()),
            "env_trace_id": std::env::var("_X_AMZN_TRACE_ID").ok(),
            "env_vars": std::env::vars_os().count(),
        });
        async move { Ok::<_, ApiError>(Response::new(Body::from(report.to_string()))) }
    })
    .await
}
