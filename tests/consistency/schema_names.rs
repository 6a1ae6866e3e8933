//! Every type that becomes an OpenAPI schema has a name of its own. utoipa files a schema
//! under its type's bare name, so two `UpdateBody` types in two crates share one entry of
//! the document, and one of their routes documents the other's body (it happened).

use super::{read, sources};
use std::collections::BTreeMap;

/// The types deriving `ToSchema` in `source`, by name.
fn schema_types(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut deriving = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[derive(") && line.contains("ToSchema") {
            deriving = true;
        } else if deriving && !line.starts_with("#[") && !line.starts_with("///") {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "struct" || *w == "enum") {
                let name = words.get(i + 1).unwrap_or(&"?");
                let name = name.split(['<', '{', '(', ';']).next().unwrap_or(name);
                names.push(name.to_owned());
            }
            deriving = false;
        }
    }
    names
}

/// Names given to more than one type, with where.
fn shared_names(files: &[(String, String)]) -> Vec<String> {
    let mut by_name: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (path, source) in files {
        for name in schema_types(source) {
            by_name.entry(name).or_default().push(path);
        }
    }
    by_name
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .map(|(name, places)| format!("{name}: {}", places.join(", ")))
        .collect()
}

#[test]
fn no_two_schema_types_share_a_name() {
    let files: Vec<(String, String)> = sources()
        .iter()
        .map(|p| (p.display().to_string(), read(p)))
        .collect();
    assert!(files.len() > 30);
    let shared = shared_names(&files);
    assert!(shared.is_empty(), "{}", shared.join("\n"));
}

#[test]
fn a_name_used_twice_is_reported_with_both_places() {
    let a =
        "#[derive(Deserialize, ToSchema)]\n#[schema(example = json!({}))]\nstruct UpdateBody {\n";
    let b = "/// Doc.\n#[derive(ToSchema)]\npub struct UpdateBody<'a> {\n#[derive(ToSchema)]\nenum Other {";
    let files = [
        ("a.rs".to_owned(), a.to_owned()),
        ("b.rs".to_owned(), b.to_owned()),
    ];
    assert_eq!(shared_names(&files), ["UpdateBody: a.rs, b.rs"]);
}
