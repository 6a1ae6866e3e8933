//! `GET /openapi.json` (the OpenAPI 3.1 document of every route) and `GET /docs` (an HTML
//! page rendering it). The document is generated from the code: each function's handler
//! carries its `#[utoipa::path]`, and the request and response types their schemas.

use lambda_http::RequestExt;
use lambda_http::http::StatusCode;
use serde_json::{Map, Value};
use shared::http::error::ErrorBody;
use shared::{ApiError, Body, Request, Response, http::response};
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
        totp_setup::handler,
        totp_confirm::handler,
        totp_disable::handler,
        mfa_verify::handler,
        reset_mfa::handler,
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
        (name = "mfa", description = "A second factor (TOTP, RFC 6238) with recovery codes: setting it up, turning it off, and the second step of a login."),
        (name = "admin", description = "The audit trail, and acting on other accounts (admins only)."),
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

/// What the function serves.
pub struct Docs {
    json: std::borrow::Cow<'static, str>,
}

impl Docs {
    /// The committed `openapi.json`, embedded at build time: what [`Docs::new`] generates
    /// (`tests/consistency` fails when the two differ), served without generating
    /// anything at start-up, so the function starts as fast as one that serves nothing.
    pub fn committed() -> Self {
        Self {
            json: include_str!("../../../openapi.json").into(),
        }
    }

    /// The document generated from the code: every route's `#[utoipa::path]`.
    pub fn new() -> Result<Self, serde_json::Error> {
        let mut document = ApiDoc::openapi();
        document.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let mut document = serde_json::to_value(&document)?;
        flatten_envelopes(&mut document);
        Ok(Self {
            json: serde_json::to_string(&document)?.into(),
        })
    }

    /// The OpenAPI document as JSON.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Every success body as one flat, named object. utoipa describes `Envelope<T>` (`status`
/// beside `T`'s fields) as `allOf` around `T`, itself often an `allOf`; client generators
/// lose fields in such nests (openapi-python-client kept only `status` of
/// `Envelope_SignedIn`). So each `Envelope_<T>` becomes `<T>Response`: an object with every
/// member's properties and required fields merged, and every reference follows the rename.
/// A nest that holds anything but objects is left as it is.
fn flatten_envelopes(document: &mut Value) {
    let Some(schemas) = document
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let mut renames = Vec::new();
    for (name, schema) in &schemas {
        let Some(body) = name.strip_prefix("Envelope_") else {
            continue;
        };
        let Some(mut flat) = flattened(schema, &schemas) else {
            continue;
        };
        // The body's description, not the envelope's generic one.
        let body_schema = schema
            .pointer("/allOf/0")
            .map(|member| resolve(member, &schemas));
        if let (Some(description), Some(flat)) = (
            body_schema.and_then(|b| b.get("description")),
            flat.as_object_mut(),
        ) {
            flat.insert("description".into(), description.clone());
        }
        let new_name = format!("{body}Response");
        if let Some(target) = document
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            target.remove(name);
            target.insert(new_name.clone(), flat);
        }
        renames.push((
            format!("#/components/schemas/{name}"),
            format!("#/components/schemas/{new_name}"),
        ));
    }
    rename_refs(document, &renames);
}

/// `schema` as one object: its own properties, and those of every `allOf` member
/// (followed through `$ref`); `None` when a member is no object.
fn flattened(schema: &Value, schemas: &Map<String, Value>) -> Option<Value> {
    if schema.get("$ref").is_some() {
        let target = resolve(schema, schemas);
        return (!std::ptr::eq(target, schema)).then(|| flattened(target, schemas))?;
    }
    let mut properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut required: Vec<Value> = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut description = schema.get("description").cloned();
    let members = schema.get("allOf").and_then(Value::as_array);
    let object = schema.get("type").and_then(Value::as_str) == Some("object");
    if members.is_none() && schema.get("properties").is_none() && !object {
        return None;
    }
    for member in members.into_iter().flatten() {
        let member = flattened(member, schemas)?;
        if let Some(more) = member.get("properties").and_then(Value::as_object) {
            properties.extend(more.clone());
        }
        for field in member
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(field) {
                required.push(field.clone());
            }
        }
        if description.is_none() {
            description = member.get("description").cloned();
        }
    }
    let mut object = Map::new();
    object.insert("type".into(), Value::from("object"));
    if let Some(description) = description {
        object.insert("description".into(), description);
    }
    object.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        object.insert("required".into(), Value::Array(required));
    }
    Some(Value::Object(object))
}

/// The component a `$ref` names (the schema itself when it is none, or names nothing).
fn resolve<'a>(schema: &'a Value, schemas: &'a Map<String, Value>) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|target| target.strip_prefix("#/components/schemas/"))
        .and_then(|name| schemas.get(name))
        .unwrap_or(schema)
}

/// Every `$ref` in `value` that names a renamed schema, renamed.
fn rename_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child.as_str()) {
                    ("$ref", Some(target)) => {
                        if let Some((_, new)) = renames.iter().find(|(old, _)| old == target) {
                            *child = Value::from(new.as_str());
                        }
                    }
                    _ => rename_refs(child, renames),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rename_refs(item, renames)),
        _ => {}
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
