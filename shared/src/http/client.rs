//! Who is on the other end: the client IP every limit and lock is keyed on, and API
//! Gateway's request id, both for security logging.
//!
//! The IP is API Gateway's `requestContext.http.sourceIp`, the peer of the TCP connection
//! it accepted, never a client-supplied header such as `X-Forwarded-For`. Behind
//! CloudFront (`BEHIND_CLOUDFRONT=true`) that peer is CloudFront itself, so the viewer's
//! address is read from `CloudFront-Viewer-Address`, trusted only on requests that carry
//! the origin secret CloudFront adds (`X-Origin-Secret: <ORIGIN_SECRET>`); others are 403.
//! IPv6 clients are keyed by their /64, since one subscriber usually holds a whole /64.

use std::net::{IpAddr, Ipv6Addr};

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use secrecy::ExposeSecret;

use crate::config::ClientIpConfig;
use crate::http::error::ApiError;

/// The header CloudFront adds to every origin request, holding `ORIGIN_SECRET`.
pub const ORIGIN_SECRET_HEADER: &str = "x-origin-secret";
/// CloudFront's header with the viewer's `ip:port`.
pub const VIEWER_ADDRESS_HEADER: &str = "cloudfront-viewer-address";

/// Where a request came from: the client's address as limits and locks see it, and API
/// Gateway's request id, for security logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The address as received (for logs and audit).
    pub address: Option<IpAddr>,
    /// API Gateway's `requestContext.requestId` (`-` when absent).
    pub request_id: String,
    /// The `User-Agent` header, for the audit trail: at most [`USER_AGENT_MAX_CHARS`]
    /// characters, control characters dropped; `None` when absent or empty.
    pub user_agent: Option<String>,
}

/// The most characters of a `User-Agent` the audit trail keeps.
pub const USER_AGENT_MAX_CHARS: usize = 256;

impl Origin {
    /// Reads the client IP of `req` as `config` says; 403 `forbidden` behind CloudFront
    /// when the origin secret is missing or wrong.
    pub fn from_request(req: &Request, config: &ClientIpConfig) -> Result<Self, ApiError> {
        let address = match &config.origin_secret {
            Some(secret) => {
                let presented = req
                    .headers()
                    .get(ORIGIN_SECRET_HEADER)
                    .map(|v| v.as_bytes())
                    .unwrap_or_default();
                if !constant_time_eq(presented, secret.expose_secret().as_bytes()) {
                    tracing::warn!(
                        request_id = %gateway_request_id(req),
                        "request without the CloudFront origin secret refused"
                    );
                    return Err(ApiError::Forbidden);
                }
                req.headers()
                    .get(VIEWER_ADDRESS_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_viewer_address)
            }
            None => source_ip(req),
        };
        Ok(Self {
            address,
            request_id: gateway_request_id(req),
            user_agent: user_agent(req),
        })
    }

    /// The key limits and locks are stored under: the IPv4 address, the IPv6 /64
    /// (`2001:db8:1:2::/64`), or `unknown` when the request had no source address (only
    /// in-process tests and emulators).
    pub fn ip_key(&self) -> String {
        match self.address {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    let prefix = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                    format!("{prefix}/64")
                }
            },
            None => "unknown".to_owned(),
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.address {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown"),
        }
    }
}

impl crate::App {
    /// Where `req` came from, as this deployment is configured to tell (see the module
    /// docs); 403 `forbidden` behind CloudFront without the origin secret.
    pub fn origin(&self, req: &Request) -> Result<Origin, ApiError> {
        Origin::from_request(req, &self.config.client_ip)
    }
}

/// The `User-Agent` header, bounded: a client chooses it, so it is cut to
/// [`USER_AGENT_MAX_CHARS`] characters and stripped of control characters (no NUL reaches
/// Postgres, no line break reaches a log reader).
fn user_agent(req: &Request) -> Option<String> {
    let raw = req.headers().get(lambda_http::http::header::USER_AGENT)?;
    let text = String::from_utf8_lossy(raw.as_bytes());
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(USER_AGENT_MAX_CHARS)
        .collect();
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

/// `requestContext.http.sourceIp` of an API Gateway HTTP API (payload 2.0) event.
fn source_ip(req: &Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.trim().parse().ok(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// `requestContext.http.sourceIp` for logs (`-` when absent): the gateway's peer, which
/// behind CloudFront is CloudFront's edge.
pub fn source_ip_text(req: &Request) -> String {
    source_ip(req).map_or_else(|| "-".to_owned(), |ip| ip.to_string())
}

/// API Gateway's `requestContext.requestId`, which its access logs carry too; `-` when
/// absent.
pub fn gateway_request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.request_id.clone().unwrap_or_else(|| "-".to_owned())
        }
        #[allow(unreachable_patterns)]
        _ => "-".to_owned(),
    }
}

/// `CloudFront-Viewer-Address`: `198.51.100.10:46532` or `2001:db8::1:46532` (the port
/// after the last colon), with or without brackets around an IPv6 address.
fn parse_viewer_address(value: &str) -> Option<IpAddr> {
    let (ip, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(address: Option<IpAddr>) -> Origin {
        Origin {
            address,
            request_id: "-".into(),
            user_agent: None,
        }
    }

    fn key(ip: &str) -> String {
        origin(Some(ip.parse().unwrap())).ip_key()
    }

    fn agent_of(value: &[u8]) -> Option<String> {
        let req = lambda_http::http::Request::builder()
            .header(
                "user-agent",
                lambda_http::http::HeaderValue::from_bytes(value).unwrap(),
            )
            .body(lambda_http::Body::Empty)
            .unwrap();
        user_agent(&req)
    }

    #[test]
    fn the_user_agent_is_bounded_and_stripped_of_control_characters() {
        assert_eq!(agent_of(b"curl/8.5.0").as_deref(), Some("curl/8.5.0"));
        assert_eq!(agent_of(b"a\tb\tc").as_deref(), Some("abc"));
        assert_eq!(agent_of(b"   "), None);
        let long = "x".repeat(1000);
        assert_eq!(
            agent_of(long.as_bytes()).unwrap().chars().count(),
            USER_AGENT_MAX_CHARS
        );
        let wide = "\u{e9}".repeat(300);
        assert_eq!(
            agent_of(wide.as_bytes()).unwrap().chars().count(),
            USER_AGENT_MAX_CHARS
        );
    }

    #[test]
    fn ipv6_clients_share_their_slash_64_and_ipv4_stays_whole() {
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(origin(None).ip_key(), "unknown");
    }

    #[test]
    fn cloudfront_viewer_addresses_parse_with_their_port() {
        assert_eq!(
            parse_viewer_address("198.51.100.10:46532"),
            Some("198.51.100.10".parse().unwrap())
        );
        assert_eq!(
            parse_viewer_address("2001:db8::1:46532"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            parse_viewer_address("[2001:db8::1]:443"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_viewer_address("nonsense"), None);
        assert_eq!(parse_viewer_address("1.2.3.4:notaport"), None);
    }

    #[test]
    fn the_origin_secret_compares_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
