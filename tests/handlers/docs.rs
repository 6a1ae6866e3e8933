use lambda_http::http::Method;
use latchkey_tests::{TestResponse, req};

/// A request to the function as deployed: it serves the committed document.
async fn get(path: &str) -> TestResponse {
    let docs = docs::Docs::committed();
    let outcome = docs::handler(&docs, req::get(path)).await;
    TestResponse::from_lambda(shared::http::lambda::respond(outcome, "test"))
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_publicly_cacheable() {
    let response = get("/openapi.json").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    let doc = &response.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc.get("status").is_none(), "served without the envelope");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

#[tokio::test]
async fn every_operation_documents_its_errors_with_the_error_body() {
    let doc = get("/openapi.json").await.body;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success"
            );
            for (status, response) in responses {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
            let protected = op.get("security").is_some_and(|s| {
                s.as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r.get("bearer").is_some())
            });
            let anonymous_allowed = op.get("security").is_none_or(|s| {
                s.as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r.as_object().unwrap().is_empty())
            });
            if protected && !anonymous_allowed {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path}: protected without a 401"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_docs_page_renders_the_document() {
    let response = get("/docs").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    let docs = docs::Docs::new().unwrap();
    let raw = docs::handler(&docs, req::get("/docs")).await.unwrap();
    let text = String::from_utf8(raw.body().to_vec()).unwrap();
    assert!(text.contains("\"openapi.json\"") && text.contains("SwaggerUIBundle"));
    assert!(
        text.contains("integrity=\"sha384-"),
        "CDN assets are pinned by hash"
    );
}

#[tokio::test]
async fn any_other_path_is_not_found() {
    let response = get("/nope").await;
    response.assert_error(404, "not_found");
    let docs = docs::Docs::new().unwrap();
    let outcome = docs::handler(&docs, req::raw(Method::POST, "/docs.json", String::new())).await;
    assert!(outcome.is_err());
}

#[tokio::test]
async fn operation_ids_are_unique() {
    let doc = get("/openapi.json").await.body;
    let mut ids = Vec::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids.contains(&"update_user".to_owned()) && ids.contains(&"update_user_put".to_owned()));
}

#[tokio::test]
async fn the_link_routes_document_invalid_link() {
    let doc = get("/openapi.json").await.body;
    for path in [
        "/auth/verify-email",
        "/auth/password/reset",
        "/auth/email-change/revert",
    ] {
        let description = doc["paths"][path]["post"]["responses"]["400"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains("invalid_link"),
            "{path}: {description}"
        );
    }
}

/// The properties of a schema the document gives by reference (`$ref`) or inline, with
/// `allOf` members merged.
fn properties(doc: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
    if let Some(target) = schema["$ref"].as_str() {
        let name = target.rsplit('/').next().unwrap();
        return properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut names: Vec<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for member in schema["allOf"].as_array().into_iter().flatten() {
        names.extend(properties(doc, member));
    }
    names.sort();
    names
}

#[tokio::test]
async fn routes_with_alike_type_names_each_get_their_own_schema() {
    // Two handlers' `UpdateBody` once shared one schema name, so one route documented the
    // other's body.
    let doc = get("/openapi.json").await.body;
    let body = |path: &str| {
        let schema =
            &doc["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"];
        properties(&doc, schema)
    };
    let user = body("/users/{id}");
    assert!(
        ["current_password", "disabled", "role"]
            .iter()
            .all(|p| user.contains(&(*p).to_owned())),
        "{user:?}"
    );
    let contact = body("/contacts/{id}");
    assert!(contact.contains(&"first_name".to_owned()), "{contact:?}");
    assert!(
        !contact.contains(&"current_password".to_owned()),
        "{contact:?}"
    );
}
