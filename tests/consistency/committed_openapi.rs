//! `openapi.json` at the repository root is the document the `docs` function serves at
//! `GET /openapi.json`, committed so that it can be read, reviewed in diffs and handed to
//! client generators without building or running anything. The test below fails when the
//! committed file drifts from what the code generates; with `LATCHKEY_WRITE_OPENAPI=1` it
//! rewrites the file instead. `local/openapi.sh` does that and then validates the result
//! against the OpenAPI 3.1 schema.

use serde_json::Value;

/// The committed file, relative to the repository root.
const FILE: &str = "openapi.json";
/// Set to `1`: write the generated document to `FILE` instead of comparing.
const WRITE: &str = "LATCHKEY_WRITE_OPENAPI";
/// What to run when the file is stale.
const REGENERATE: &str = "local/openapi.sh";
/// How many differing places a failure lists.
const SHOWN: usize = 10;

/// The document as served.
fn generated() -> Value {
    let docs = docs::Docs::new().unwrap_or_else(|e| panic!("openapi: {e}"));
    serde_json::from_str(docs.json()).unwrap_or_else(|e| panic!("openapi: {e}"))
}

/// Pretty-printed with a final newline, so that a change reads as a small diff.
fn render(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a Value always serialises");
    text.push('\n');
    text
}

/// The JSON pointers (RFC 6901) at which `committed` and `generated` differ.
fn differences(pointer: &str, committed: &Value, generated: &Value, found: &mut Vec<String>) {
    match (committed, generated) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                let here = format!("{pointer}/{escaped}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(&here, x, y, found),
                    (Some(_), None) => found.push(format!("{here} (only in {FILE})")),
                    (None, _) => found.push(format!("{here} (missing from {FILE})")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                differences(&format!("{pointer}/{index}"), x, y, found);
            }
        }
        (a, b) if a == b => {}
        _ => found.push(if pointer.is_empty() {
            "/".into()
        } else {
            pointer.into()
        }),
    }
}

#[test]
fn the_committed_openapi_json_is_the_document_the_code_generates() {
    let path = super::root().join(FILE);
    let generated = generated();
    if std::env::var(WRITE).is_ok_and(|value| value == "1") {
        std::fs::write(&path, render(&generated))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `{REGENERATE}` to create it", path.display()));
    let committed: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{FILE} is not JSON ({e}); run `{REGENERATE}`"));
    let mut found = Vec::new();
    differences("", &committed, &generated, &mut found);
    assert!(
        found.is_empty(),
        "{FILE} is not the document the code generates: it differs at {} place(s), e.g.\n  {}\n\
         Run `{REGENERATE}` (or `{WRITE}=1 cargo test -p latchkey-tests --test consistency \
         -- committed_openapi`) and commit the file.",
        found.len(),
        found
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn the_rendered_file_reads_back_as_the_same_document() {
    let document = generated();
    let text = render(&document);
    assert!(text.ends_with("}\n"));
    let read: Value = serde_json::from_str(&text).expect("rendered JSON parses");
    assert_eq!(read, document);
}

#[test]
fn differences_are_reported_by_json_pointer() {
    let committed = serde_json::json!({
        "paths": {"/users/{id}": {"get": {"operationId": "get_user"}}, "/gone": {}},
        "tags": ["a", "b"],
        "same": [1, {"x": null}]
    });
    let generated = serde_json::json!({
        "paths": {"/users/{id}": {"get": {"operationId": "get_user_by_id"}}, "/new": {}},
        "tags": ["a", "b", "c"],
        "same": [1, {"x": null}]
    });
    let mut found = Vec::new();
    differences("", &committed, &generated, &mut found);
    assert_eq!(
        found,
        [
            "/paths/~1gone (only in openapi.json)",
            "/paths/~1new (missing from openapi.json)",
            "/paths/~1users~1{id}/get/operationId",
            "/tags",
        ]
    );
    let mut none = Vec::new();
    differences("", &committed, &committed, &mut none);
    assert!(none.is_empty(), "{none:?}");
}
