//! `GET /openapi.json` (the OpenAPI 3.1 document of every route) and `GET /docs` (an HTML
//! page rendering it). The document is generated from the code: each function's handler
//! carries its `#[utoipa::path]`, and the request and response types their schemas.

use lambda_http::RequestExt;
use lambda_http::http::StatusCode;
use shared::error::ErrorBody;
use shared::{ApiError, Body, Request, Response, response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document: every route of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Latchkey",
        description = "Serverless user authentication: accounts, sessions (JWT access + refresh \
            tokens with rotation and reuse detection), users and contacts. Every error is \
            `{\"status\": \"error\", \"code\", \"reason\"}` with an HTTP status; see `ErrorBody`.",
        license(name = "MIT")
    ),
    paths(
        register::handler,
        login::handler,
        refresh::handler,
        logout::handler,
        logout_all::handler,
        verify_email::handler,
        resend_verification::handler,
        forgot_password::handler,
        reset_password::handler,
        revert_email_change::handler,
        list_users::handler,
        get_me::handler,
        get_user::handler,
        update_user::handler,
        delete_user::handler,
        list_my_events::handler,
        list_events::handler,
        revoke_sessions::handler,
        unlock_user::handler,
        send_password_reset::handler,
        create_contact::handler,
        list_contacts::handler,
        upcoming_birthdays::handler,
        get_contact::handler,
        update_contact::handler,
        delete_contact::handler,
        health::handler,
        jwks::jwks,
        jwks::openid_configuration,
        openapi_json,
        docs_page,
    ),
    modifiers(&BearerAuth, &UniqueOperationIds),
    tags(
        (name = "auth", description = "Registering, logging in and out, refreshing tokens."),
        (name = "users", description = "Accounts: read, list, change, delete."),
        (name = "admin", description = "The audit trail of every account (admins only)."),
        (name = "contacts", description = "Each user's own address book: create, read, search, change, delete, upcoming birthdays."),
        (name = "service", description = "Health, this document, key discovery."),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme the protected routes name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("An access token from register, login or refresh."))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// PUT, the synonym of PATCH, shares its handler and so its `operationId`; OpenAPI wants
/// each id once, so a repeated id gets its method appended (`update_user_put`).
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::BTreeSet::new();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("put", &mut item.put),
                ("delete", &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let Some(id) = operation.operation_id.clone() else {
                    continue;
                };
                if !seen.insert(id.clone()) {
                    let unique = format!("{id}_{method}");
                    seen.insert(unique.clone());
                    operation.operation_id = Some(unique);
                }
            }
        }
    }
}

/// What the function serves, rendered once per process.
pub struct Docs {
    json: String,
}

impl Docs {
    pub fn new() -> Result<Self, serde_json::Error> {
        let mut document = ApiDoc::openapi();
        document.info.version = env!("CARGO_PKG_VERSION").to_owned();
        Ok(Self {
            json: document.to_json()?,
        })
    }

    /// The OpenAPI document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Both routes may be cached publicly: they change only with a deployment.
const CACHE: &str = "public, max-age=300";

pub async fn handler(docs: &Docs, req: Request) -> Result<Response<Body>, ApiError> {
    let path = match req.raw_http_path() {
        "" => req.uri().path(),
        raw => raw,
    };
    match path {
        "/openapi.json" => Ok(openapi_json(docs)),
        "/docs" => Ok(docs_page()),
        _ => Err(ApiError::NotFound),
    }
}

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/openapi.json", tag = "service",
    responses(
        (status = 200, description = "The OpenAPI document of every route (not enveloped).",
            content_type = "application/json", body = Object),
        (status = 404, description = "`not_found`.", body = ErrorBody)))]
fn openapi_json(docs: &Docs) -> Response<Body> {
    let body = Body::from(docs.json().to_owned());
    response::with_headers(StatusCode::OK, "application/json", CACHE, body)
}

/// An HTML page rendering the document (Swagger UI).
#[utoipa::path(get, path = "/docs", tag = "service",
    responses((status = 200, description = "HTML.", content_type = "text/html", body = String)))]
fn docs_page() -> Response<Body> {
    let body = Body::from(include_str!("page.html"));
    response::with_headers(StatusCode::OK, "text/html; charset=utf-8", CACHE, body)
}
