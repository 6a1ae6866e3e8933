//! API Gateway HTTP API events (payload format 2.0), as API Gateway hands them to a
//! function, and reading the response object a function returns.

use bytes::Bytes;
use serde_json::{Map, Value, json};

/// One HTTP request, as a client sends it to API Gateway.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: &'static str,
    /// The route's template, e.g. `/users/{id}`.
    pub route: &'static str,
    /// The concrete path, e.g. `/users/7`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub path_parameters: Vec<(&'static str, String)>,
    pub bearer: Option<String>,
    pub body: Option<Value>,
}

impl HttpRequest {
    pub fn new(method: &'static str, route: &'static str) -> Self {
        Self {
            method,
            route,
            path: route.to_owned(),
            query: Vec::new(),
            path_parameters: Vec::new(),
            bearer: None,
            body: None,
        }
    }

    /// Fills the `{name}` segment of the route.
    pub fn path_parameter(mut self, name: &'static str, value: impl ToString) -> Self {
        let value = value.to_string();
        self.path = self.path.replace(&format!("{{{name}}}"), &value);
        self.path_parameters.push((name, value));
        self
    }

    pub fn query(mut self, name: &'static str, value: impl ToString) -> Self {
        self.query.push((name, value.to_string()));
        self
    }

    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// The event API Gateway (HTTP API, payload 2.0) would hand the function; `sequence`
    /// makes the request id and timestamps unique.
    pub fn to_event(&self, sequence: u64) -> Bytes {
        let now = chrono::Utc::now();
        let host = "bench0api.execute-api.us-east-1.amazonaws.com";
        let agent = "latchkey-bench/1";
        let raw_query = self
            .query
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let body = self.body.as_ref().map(Value::to_string);

        let mut headers = Map::new();
        let mut header = |name: &str, value: String| {
            headers.insert(name.to_owned(), Value::String(value));
        };
        header("accept", "application/json".into());
        header("host", host.into());
        header("user-agent", agent.into());
        header(
            "x-amzn-trace-id",
            format!("Root=1-{:08x}-{sequence:024x}", now.timestamp()),
        );
        header("x-forwarded-for", "127.0.0.1".into());
        header("x-forwarded-port", "443".into());
        header("x-forwarded-proto", "https".into());
        if let Some(token) = &self.bearer {
            header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = &body {
            header("content-type", "application/json".into());
            header("content-length", body.len().to_string());
        }

        let route_key = format!("{} {}", self.method, self.route);
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": raw_query,
            "headers": headers,
            "requestContext": {
                "accountId": "000000000000",
                "apiId": "bench0api",
                "domainName": host,
                "domainPrefix": "bench0api",
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": agent,
                },
                "requestId": format!("bench{sequence:011x}="),
                "routeKey": route_key,
                "stage": "$default",
                "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "timeEpoch": now.timestamp_millis(),
            },
            "isBase64Encoded": false,
        });
        if !self.query.is_empty() {
            let parameters: Map<String, Value> = self
                .query
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
                .collect();
            event["queryStringParameters"] = Value::Object(parameters);
        }
        if !self.path_parameters.is_empty() {
            let parameters: Map<String, Value> = self
                .path_parameters
                .iter()
                .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
                .collect();
            event["pathParameters"] = Value::Object(parameters);
        }
        if let Some(body) = body {
            event["body"] = Value::String(body);
        }
        Bytes::from(event.to_string())
    }
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The status and JSON body of the API Gateway response object a function posted.
pub struct HttpResponse {
    pub status: u16,
    pub body: Value,
}

impl HttpResponse {
    pub fn parse(posted: &[u8]) -> Result<Self, String> {
        let response: Value = serde_json::from_slice(posted)
            .map_err(|err| format!("the function posted no JSON: {err}"))?;
        let status = response["statusCode"]
            .as_u64()
            .and_then(|status| u16::try_from(status).ok())
            .ok_or_else(|| format!("no statusCode in {}", abbreviate(&response.to_string())))?;
        let body = match response["body"].as_str() {
            Some(text) => serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())),
            None => Value::Null,
        };
        Ok(Self { status, body })
    }

    /// A string field of the JSON body, e.g. `refresh_token`.
    pub fn text(&self, field: &str) -> Option<String> {
        self.body[field].as_str().map(str::to_owned)
    }
}

/// At most 300 characters of `text`, for error messages.
pub fn abbreviate(text: &str) -> String {
    let mut short: String = text.chars().take(300).collect();
    if short.len() < text.len() {
        short.push_str("...");
    }
    short
}
