//! Keeps the three descriptions of what is deployed in step: the router table in the root
//! `Cargo.toml` (what `cargo lambda watch` serves locally), the `HttpApi` events of
//! `template.yaml` (what API Gateway serves) and the crates under `functions/`. Any
//! disagreement, in any direction, fails with every difference listed: a route missing
//! on one side, a method or function that differs, a crate without a template function
//! or without a route (only `migrate` has none), a template function without a crate.
//!
//! A second check keeps the optional JWT authorizer (the `security` entries of the
//! HttpApi's `DefinitionBody`) on exactly the routes that need a Bearer token.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_yaml::Value as Yaml;

mod committed_openapi;
mod deployment;
mod environment;
mod layers;
mod pooler_safe;
mod schema_names;

/// The functions that serve no route: `migrate` (a command and a custom resource) and
/// `maintenance` (scheduled).
const NOT_ROUTES: &[&str] = &["migrate", "maintenance"];

/// Routes that take no access token (API.md): the JWT authorizer must never guard them.
const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    // Takes a refresh token in the body, or a Bearer token.
    ("POST", "/auth/logout"),
    // Mailed links and mail requests: the link's token, or nothing, authorizes them.
    ("POST", "/auth/verify-email"),
    ("POST", "/auth/verify-email/resend"),
    ("POST", "/auth/password/forgot"),
    ("POST", "/auth/password/reset"),
    ("POST", "/auth/email-change/revert"),
    // The second step of a login: the `mfa_token` in the body authorizes it.
    ("POST", "/auth/mfa/verify"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
];

/// `(METHOD, path)`.
type Route = (String, String);
/// Each route and the function (crate name) that serves it.
type Routes = BTreeMap<Route, String>;

/// An `AWS::Serverless::Function` of the template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TemplateFunction {
    logical_id: String,
    code_uri: Option<String>,
    binary: Option<String>,
    /// Its `HttpApi` events.
    routes: Vec<Route>,
}

impl TemplateFunction {
    /// The crate the function is built from: the last component of `CodeUri`.
    fn crate_name(&self) -> Option<&str> {
        let uri = self.code_uri.as_deref()?.trim_end_matches('/');
        let name = uri.strip_prefix("functions/")?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Every `.rs` file of `shared/src` and of each `functions/<name>/src`: the code the
/// functions are built from, for the checks that read it as text.
fn sources() -> Vec<PathBuf> {
    let root = root();
    let mut files = Vec::new();
    rust_files(&root.join("shared/src"), &mut files);
    let functions = std::fs::read_dir(root.join("functions")).expect("functions/");
    for function in functions {
        let src = function.expect("a directory entry").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    files
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// `[workspace.metadata.lambda.watch.router]` of the root `Cargo.toml`.
fn router_routes(cargo_toml: &str) -> Result<Routes, String> {
    let doc: toml::Value = toml::from_str(cargo_toml).map_err(|e| format!("Cargo.toml: {e}"))?;
    let router = ["workspace", "metadata", "lambda", "watch", "router"]
        .iter()
        .try_fold(&doc, |value, key| value.get(key))
        .and_then(toml::Value::as_table)
        .ok_or("Cargo.toml has no [workspace.metadata.lambda.watch.router]")?;
    let mut routes = Routes::new();
    for (path, targets) in router {
        let targets = targets
            .as_array()
            .ok_or_else(|| format!("router {path:?}: not an array"))?;
        for target in targets {
            let field = |name: &str| {
                target
                    .get(name)
                    .and_then(toml::Value::as_str)
                    .ok_or_else(|| format!("router {path:?}: an entry without {name}"))
            };
            let route = (field("method")?.to_ascii_uppercase(), path.clone());
            if let Some(other) = routes.insert(route.clone(), field("function")?.to_owned()) {
                return Err(format!(
                    "router: {} {} twice (also {other})",
                    route.0, route.1
                ));
            }
        }
    }
    Ok(routes)
}

fn resources(template: &Yaml) -> Result<&serde_yaml::Mapping, String> {
    template
        .get("Resources")
        .and_then(Yaml::as_mapping)
        .ok_or_else(|| "template.yaml has no Resources".to_owned())
}

fn string(value: Option<&Yaml>) -> Option<String> {
    value.and_then(Yaml::as_str).map(str::to_owned)
}

/// Every `AWS::Serverless::Function` with its `HttpApi` events.
fn template_functions(template: &Yaml) -> Result<Vec<TemplateFunction>, String> {
    let mut functions = Vec::new();
    for (id, resource) in resources(template)? {
        if resource.get("Type").and_then(Yaml::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = id.as_str().ok_or("a resource id that is not a string")?;
        let properties = resource.get("Properties");
        let mut routes = Vec::new();
        let events = properties
            .and_then(|p| p.get("Events"))
            .and_then(Yaml::as_mapping);
        for (name, event) in events.into_iter().flatten() {
            if event.get("Type").and_then(Yaml::as_str) != Some("HttpApi") {
                continue;
            }
            let field = |key: &str| {
                string(event.get("Properties").and_then(|p| p.get(key))).ok_or_else(|| {
                    format!("{logical_id}: HttpApi event {name:?} has no plain {key}")
                })
            };
            routes.push((field("Method")?.to_ascii_uppercase(), field("Path")?));
        }
        functions.push(TemplateFunction {
            logical_id: logical_id.to_owned(),
            code_uri: string(properties.and_then(|p| p.get("CodeUri"))),
            binary: string(
                resource
                    .get("Metadata")
                    .and_then(|m| m.get("BuildProperties"))
                    .and_then(|b| b.get("Binary")),
            ),
            routes,
        });
    }
    Ok(functions)
}

/// The directories under `functions/` that hold a crate, with their package names.
fn crates(functions_dir: &Path) -> BTreeMap<String, String> {
    let mut crates = BTreeMap::new();
    let entries = std::fs::read_dir(functions_dir)
        .unwrap_or_else(|err| panic!("{}: {err}", functions_dir.display()));
    for entry in entries {
        let dir = entry.expect("a readable directory entry").path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let doc: toml::Table = toml::from_str(&read(&manifest))
            .unwrap_or_else(|err| panic!("{}: {err}", manifest.display()));
        let package = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 directory name")
            .to_owned();
        crates.insert(name, package);
    }
    crates
}

/// Every way the router table, the template and the crates disagree, one sentence each.
fn differences(
    router: &Routes,
    template: &[TemplateFunction],
    crates: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut problems = BTreeSet::new();

    // Template functions and crates, both ways.
    let mut by_crate: BTreeMap<&str, &TemplateFunction> = BTreeMap::new();
    for function in template {
        let id = &function.logical_id;
        let Some(name) = function.crate_name() else {
            problems.insert(format!(
                "template.yaml: {id} has CodeUri {:?}, not functions/<crate>",
                function.code_uri.as_deref().unwrap_or("(none)")
            ));
            continue;
        };
        match crates.get(name) {
            None => {
                problems.insert(format!(
                    "template.yaml: {id} is built from functions/{name}, which has no crate"
                ));
            }
            Some(package) if package != name => {
                problems.insert(format!(
                    "functions/{name}: its package is named {package:?}, not {name:?}"
                ));
            }
            Some(_) => {}
        }
        if let Some(binary) = &function.binary
            && binary != name
        {
            problems.insert(format!(
                "template.yaml: {id} builds Binary {binary:?} from functions/{name}"
            ));
        }
        if let Some(other) = by_crate.insert(name, function) {
            problems.insert(format!(
                "template.yaml: {} and {id} are both built from functions/{name}",
                other.logical_id
            ));
        }
    }
    for name in crates.keys() {
        if !by_crate.contains_key(name.as_str()) {
            problems.insert(format!("functions/{name} has no function in template.yaml"));
        }
    }

    // Routes, both ways, with their functions.
    let mut template_routes = Routes::new();
    for function in template {
        let name = function.crate_name().unwrap_or(&function.logical_id);
        for route in &function.routes {
            if let Some(other) = template_routes.insert(route.clone(), name.to_owned()) {
                problems.insert(format!(
                    "template.yaml: {} {} is served by both {other} and {name}",
                    route.0, route.1
                ));
            }
        }
    }
    for ((method, path), function) in router {
        match template_routes.get(&(method.clone(), path.clone())) {
            None => problems.insert(format!(
                "{method} {path} ({function}) is in Cargo.toml's router table but not in \
                 template.yaml"
            )),
            Some(other) if other != function => problems.insert(format!(
                "{method} {path}: Cargo.toml's router table sends it to {function}, \
                 template.yaml to {other}"
            )),
            Some(_) => false,
        };
    }
    for ((method, path), function) in &template_routes {
        if !router.contains_key(&(method.clone(), path.clone())) {
            problems.insert(format!(
                "{method} {path} ({function}) is in template.yaml but not in Cargo.toml's \
                 router table"
            ));
        }
    }

    // Functions and routes: every crate but migrate serves at least one, migrate none.
    let routed_by_router: BTreeSet<&str> = router.values().map(String::as_str).collect();
    let routed_by_template: BTreeSet<&str> = template_routes.values().map(String::as_str).collect();
    for function in &routed_by_router {
        if !crates.contains_key(*function) {
            problems.insert(format!(
                "Cargo.toml's router table names {function}, which has no crate under functions/"
            ));
        }
    }
    for name in crates.keys().map(String::as_str) {
        let routed = routed_by_router.contains(name) || routed_by_template.contains(name);
        let routeless = NOT_ROUTES.contains(&name);
        if routeless && routed {
            problems.insert(format!("{name} must serve no route"));
        } else if !routeless && !routed {
            problems.insert(format!(
                "functions/{name} serves no route (in neither the router table nor template.yaml)"
            ));
        }
    }
    for function in template {
        let name = function.crate_name().unwrap_or(&function.logical_id);
        if !NOT_ROUTES.contains(&name) && function.routes.is_empty() {
            problems.insert(format!(
                "template.yaml: {} has no HttpApi event",
                function.logical_id
            ));
        }
    }

    problems.into_iter().collect()
}

/// The routes whose `DefinitionBody` entry carries a `security` requirement.
fn authorizer_routes(template: &Yaml) -> Result<BTreeSet<Route>, String> {
    let api = resources(template)?
        .values()
        .find(|r| r.get("Type").and_then(Yaml::as_str) == Some("AWS::Serverless::HttpApi"))
        .ok_or("template.yaml has no AWS::Serverless::HttpApi")?;
    let paths = api
        .get("Properties")
        .and_then(|p| p.get("DefinitionBody"))
        .and_then(|b| b.get("paths"))
        .and_then(Yaml::as_mapping);
    let mut routes = BTreeSet::new();
    for (path, methods) in paths.into_iter().flatten() {
        let path = path
            .as_str()
            .ok_or("a DefinitionBody path that is not a string")?;
        for (method, operation) in methods.as_mapping().into_iter().flatten() {
            let method = method.as_str().ok_or("a method that is not a string")?;
            if operation.get("security").is_some() {
                routes.insert((method.to_ascii_uppercase(), path.to_owned()));
            }
        }
    }
    Ok(routes)
}

/// The authorizer must sit on every route that needs a token and on no other.
fn authorizer_differences(all_routes: &Routes, guarded: &BTreeSet<Route>) -> Vec<String> {
    let public: BTreeSet<Route> = PUBLIC_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let mut problems = Vec::new();
    for route in all_routes.keys() {
        let (method, path) = route;
        match (public.contains(route), guarded.contains(route)) {
            (true, true) => problems.push(format!(
                "{method} {path} is public but the JWT authorizer guards it"
            )),
            (false, false) => problems.push(format!(
                "{method} {path} needs a token but has no `security` entry in the HttpApi's \
                 DefinitionBody (the optional JWT authorizer)"
            )),
            _ => {}
        }
    }
    for (method, path) in guarded {
        if !all_routes.contains_key(&(method.clone(), path.clone())) {
            problems.push(format!(
                "the DefinitionBody guards {method} {path}, which is no route"
            ));
        }
    }
    problems
}

fn report(problems: &[String]) -> String {
    format!(
        "{} difference(s):\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    )
}

fn load() -> (Routes, Yaml, BTreeMap<String, String>) {
    let root = root();
    let router = router_routes(&read(&root.join("Cargo.toml"))).unwrap_or_else(|e| panic!("{e}"));
    let template: Yaml = serde_yaml::from_str(&read(&root.join("template.yaml")))
        .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    (router, template, crates(&root.join("functions")))
}

#[test]
fn the_router_table_the_template_and_the_function_crates_agree() {
    let (router, template, crates) = load();
    let functions = template_functions(&template).unwrap_or_else(|e| panic!("{e}"));
    let problems = differences(&router, &functions, &crates);
    assert!(problems.is_empty(), "{}", report(&problems));
}

#[test]
fn the_openapi_document_has_exactly_the_routes_of_the_router_table() {
    let (router, _, _) = load();
    let docs = docs::Docs::new().unwrap_or_else(|e| panic!("openapi: {e}"));
    let document: serde_json::Value =
        serde_json::from_str(docs.json()).unwrap_or_else(|e| panic!("openapi: {e}"));
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: std::collections::BTreeSet<Route> = router.keys().cloned().collect();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routed but not in openapi.json: {undocumented:?}; in openapi.json but not routed: {unrouted:?}"
    );
}

#[test]
fn the_optional_jwt_authorizer_guards_exactly_the_routes_that_need_a_token() {
    let (router, template, _) = load();
    let guarded = authorizer_routes(&template).unwrap_or_else(|e| panic!("{e}"));
    let problems = authorizer_differences(&router, &guarded);
    assert!(problems.is_empty(), "{}", report(&problems));
}

/// The checks themselves, on small made-up inputs.
mod checks {
    use super::*;

    const ROUTER: &str = r#"
[workspace.metadata.lambda.watch.router]
"/users/{id}" = [
  { method = "GET", function = "get-user" },
  { method = "patch", function = "update-user" },
]
"/health" = [{ method = "GET", function = "health" }]
"#;

    const TEMPLATE: &str = r#"
Transform: AWS::Serverless-2016-10-31
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
    DependsOn: Migration
    Properties:
      DefinitionBody:
        paths:
          /users/{id}:
            get:
              security: !If [JwtAuthorizerEnabled, [{LatchkeyJwt: []}], []]
  GetUserFunction:
    Type: AWS::Serverless::Function
    Metadata: {BuildMethod: rust-cargolambda, BuildProperties: {Binary: get-user}}
    Properties:
      CodeUri: functions/get-user
      MemorySize: !Ref PasswordHashingMemory
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: "/users/{id}"}}
  UpdateUserFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/update-user
      Events:
        Patch: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: PATCH, Path: "/users/{id}"}}
  HealthFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/health
      Events:
        Get: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /health}}
  MigrateFunction:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: functions/migrate}
  Migration:
    Type: Custom::Migrations
    Properties: {ServiceToken: !GetAtt MigrateFunction.Arn}
"#;

    fn crates(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|n| ((*n).to_owned(), (*n).to_owned()))
            .collect()
    }

    fn all_crates() -> BTreeMap<String, String> {
        crates(&["get-user", "update-user", "health", "migrate"])
    }

    fn template(text: &str) -> Vec<TemplateFunction> {
        template_functions(&serde_yaml::from_str(text).unwrap()).unwrap()
    }

    fn router(text: &str) -> Routes {
        router_routes(text).unwrap()
    }

    #[test]
    fn cloudformation_tags_do_not_get_in_the_way_of_parsing() {
        let functions = template(TEMPLATE);
        assert_eq!(functions.len(), 4);
        assert_eq!(functions[0].logical_id, "GetUserFunction");
        assert_eq!(functions[0].binary.as_deref(), Some("get-user"));
        assert_eq!(
            functions[0].routes,
            vec![("GET".to_owned(), "/users/{id}".to_owned())]
        );
        assert!(functions[3].routes.is_empty());
    }

    #[test]
    fn agreeing_descriptions_have_no_differences() {
        let problems = differences(&router(ROUTER), &template(TEMPLATE), &all_crates());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_route_missing_from_the_template_is_reported() {
        let router = router(&ROUTER.replace(
            r#""/health""#,
            r#""/contacts" = [{ method = "GET", function = "list-contacts" }]
"/health""#,
        ));
        let problems = differences(&router, &template(TEMPLATE), &all_crates());
        assert_eq!(
            problems,
            [
                "Cargo.toml's router table names list-contacts, which has no crate under functions/",
                "GET /contacts (list-contacts) is in Cargo.toml's router table but not in template.yaml",
            ]
        );
    }

    #[test]
    fn a_route_missing_from_the_router_table_is_reported() {
        let router = router(&ROUTER.replace(
            r#""/health" = [{ method = "GET", function = "health" }]"#,
            "",
        ));
        let problems = differences(&router, &template(TEMPLATE), &all_crates());
        assert_eq!(
            problems,
            ["GET /health (health) is in template.yaml but not in Cargo.toml's router table"]
        );
    }

    #[test]
    fn a_different_method_is_reported_on_both_sides() {
        let template = template(&TEMPLATE.replace("Method: PATCH", "Method: PUT"));
        let problems = differences(&router(ROUTER), &template, &all_crates());
        assert_eq!(
            problems,
            [
                "PATCH /users/{id} (update-user) is in Cargo.toml's router table but not in template.yaml",
                "PUT /users/{id} (update-user) is in template.yaml but not in Cargo.toml's router table",
            ]
        );
    }

    #[test]
    fn a_different_function_for_the_same_route_is_reported() {
        let router = router(&ROUTER.replace(r#"function = "health""#, r#"function = "get-user""#));
        let problems = differences(&router, &template(TEMPLATE), &all_crates());
        assert_eq!(
            problems,
            [
                "GET /health: Cargo.toml's router table sends it to get-user, template.yaml to health"
            ]
        );
    }

    #[test]
    fn a_crate_without_a_template_function_or_route_is_reported() {
        let mut crates = all_crates();
        crates.insert("docs".into(), "docs".into());
        let problems = differences(&router(ROUTER), &template(TEMPLATE), &crates);
        assert_eq!(
            problems,
            [
                "functions/docs has no function in template.yaml",
                "functions/docs serves no route (in neither the router table nor template.yaml)",
            ]
        );
    }

    #[test]
    fn a_template_function_without_a_crate_is_reported() {
        let crates = crates(&["get-user", "health", "migrate"]);
        let problems = differences(&router(ROUTER), &template(TEMPLATE), &crates);
        assert_eq!(
            problems,
            [
                "Cargo.toml's router table names update-user, which has no crate under functions/",
                "template.yaml: UpdateUserFunction is built from functions/update-user, which has no crate",
            ]
        );
    }

    #[test]
    fn a_routed_migrate_or_an_unrouted_function_is_reported() {
        let template = template(&TEMPLATE.replace(
            "Properties: {CodeUri: functions/migrate}",
            "Properties: {CodeUri: functions/migrate, Events: {Post: {Type: HttpApi, Properties: {Method: POST, Path: /migrate}}}}",
        ).replace(
            "        Get: {Type: HttpApi, Properties: {ApiId: !Ref HttpApi, Method: GET, Path: /health}}\n",
            "",
        ));
        let problems = differences(&router(ROUTER), &template, &all_crates());
        assert_eq!(
            problems,
            [
                "GET /health (health) is in Cargo.toml's router table but not in template.yaml",
                "POST /migrate (migrate) is in template.yaml but not in Cargo.toml's router table",
                "migrate must serve no route",
                "template.yaml: HealthFunction has no HttpApi event",
            ]
        );
    }

    #[test]
    fn a_binary_or_code_uri_that_does_not_match_its_crate_is_reported() {
        let template = template(
            &TEMPLATE
                .replace("Binary: get-user", "Binary: get-users")
                .replace("CodeUri: functions/health", "CodeUri: ."),
        );
        let problems = differences(&router(ROUTER), &template, &all_crates());
        assert_eq!(
            problems,
            [
                "GET /health: Cargo.toml's router table sends it to health, template.yaml to \
                 HealthFunction",
                "functions/health has no function in template.yaml",
                "template.yaml: GetUserFunction builds Binary \"get-users\" from functions/get-user",
                "template.yaml: HealthFunction has CodeUri \".\", not functions/<crate>",
            ]
        );
    }

    #[test]
    fn the_authorizer_must_guard_every_token_route_and_no_public_one() {
        let yaml: Yaml = serde_yaml::from_str(TEMPLATE).unwrap();
        let guarded = authorizer_routes(&yaml).unwrap();
        let problems = authorizer_differences(&router(ROUTER), &guarded);
        assert_eq!(
            problems,
            [
                "PATCH /users/{id} needs a token but has no `security` entry in the HttpApi's \
                 DefinitionBody (the optional JWT authorizer)"
            ]
        );

        let guarded: BTreeSet<Route> = [
            ("GET", "/health"),
            ("GET", "/users/{id}"),
            ("PATCH", "/users/{id}"),
            ("GET", "/nowhere"),
        ]
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
        let problems = authorizer_differences(&router(ROUTER), &guarded);
        assert_eq!(
            problems,
            [
                "GET /health is public but the JWT authorizer guards it",
                "the DefinitionBody guards GET /nowhere, which is no route",
            ]
        );
    }
}
