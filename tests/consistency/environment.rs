//! Least privilege in `template.yaml`: each function is deployed with only the secrets it
//! uses. The functions' own declarations (`USES` in `health`, `jwks`, `migrate`,
//! `maintenance` and the functions that check TOTP codes; every other HTTP function uses
//! `Uses::ACCOUNTS`, `docs` nothing) decide what is allowed, and each function must also
//! start with exactly what it is given.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_yaml::Value as Yaml;
use shared::config::{Config, Uses};

use super::{read, resources, root};

/// The variables that hold secrets.
const SECRETS: &[&str] = &[
    "DATABASE_URL",
    "JWT_SECRET",
    "JWT_PRIVATE_KEY",
    "ORIGIN_SECRET",
    "ADMIN_PASSWORD",
    "SMTP_URL",
    "API_DATABASE_URL",
    "MFA_ENCRYPTION_KEY",
    "MFA_PREVIOUS_ENCRYPTION_KEY",
];

/// What a function's code reads, by its binary's name; `None` for `docs`, which reads no
/// configuration at all.
fn uses(binary: &str) -> Option<Uses> {
    match binary {
        "docs" => None,
        "health" => Some(health::USES),
        "jwks" => Some(jwks::USES),
        "migrate" => Some(migrate::USES),
        "maintenance" => Some(maintenance::USES),
        "totp-setup" => Some(totp_setup::USES),
        "totp-confirm" => Some(totp_confirm::USES),
        "totp-disable" => Some(totp_disable::USES),
        "mfa-verify" => Some(mfa_verify::USES),
        "reset-password" => Some(reset_password::USES),
        "update-user" => Some(update_user::USES),
        _ => Some(Uses::ACCOUNTS),
    }
}

/// Whether `binary` may be given `secret`.
fn allowed(binary: &str, secret: &str) -> bool {
    let Some(uses) = uses(binary) else {
        return false;
    };
    match secret {
        "DATABASE_URL" => uses.database,
        "JWT_SECRET" | "JWT_PRIVATE_KEY" => uses.tokens,
        // Only the functions that check where a request came from (every full HTTP one).
        "ORIGIN_SECRET" => uses.database && uses.tokens,
        "MFA_ENCRYPTION_KEY" | "MFA_PREVIOUS_ENCRYPTION_KEY" => uses.mfa,
        "ADMIN_PASSWORD" | "API_DATABASE_URL" => binary == "migrate",
        "SMTP_URL" => binary == "maintenance",
        _ => unreachable!("{secret} is not in SECRETS"),
    }
}

fn is_no_value(value: &Yaml) -> bool {
    matches!(value, Yaml::Tagged(tagged)
        if tagged.tag == "Ref" && tagged.value.as_str() == Some("AWS::NoValue"))
}

/// The names of the variables each function gets, by binary: the Globals' merged with
/// the function's own (SAM merges them; a function's `!Ref AWS::NoValue` removes one).
fn environments(template: &Yaml) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let variables = |node: Option<&Yaml>| {
        node.and_then(|n| n.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Yaml::as_mapping)
            .cloned()
            .unwrap_or_default()
    };
    let globals = variables(template.get("Globals").and_then(|g| g.get("Function")));
    let mut environments = BTreeMap::new();
    for (id, resource) in resources(template)? {
        if resource.get("Type").and_then(Yaml::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Yaml::as_str)
            .ok_or_else(|| format!("{id:?} has no Metadata.BuildProperties.Binary"))?;
        let mut names = BTreeSet::new();
        for (name, value) in globals.iter().chain(&variables(resource.get("Properties"))) {
            let name = name.as_str().unwrap_or("?").to_owned();
            match is_no_value(value) {
                true => names.remove(&name),
                false => names.insert(name),
            };
        }
        environments.insert(binary.to_owned(), names);
    }
    Ok(environments)
}

/// Every secret a function gets but does not use, and every one it uses but lacks.
fn secret_problems(environments: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (binary, names) in environments {
        for secret in SECRETS {
            match (names.contains(*secret), allowed(binary, secret)) {
                (true, false) => problems.push(format!("{binary} is given {secret}, unused")),
                (false, true) => problems.push(format!("{binary} lacks {secret}, which it uses")),
                _ => {}
            }
        }
    }
    problems
}

fn template() -> Yaml {
    serde_yaml::from_str(&read(&root().join("template.yaml"))).expect("template.yaml")
}

#[test]
fn every_function_gets_exactly_the_secrets_it_uses() {
    let environments = environments(&template()).unwrap();
    assert!(environments.len() > 30, "{environments:?}");
    let problems = secret_problems(&environments);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_functions_deployed_without_secrets_start_without_them() {
    // A configuration with every secret set (testing settings: production would also
    // want TLS to the database, an issuer and an app URL, which are not the point here).
    let complete: HashMap<&str, &str> = [
        ("APP_SETTINGS", "testing"),
        (
            "DATABASE_URL",
            "postgres://latchkey:secret@db.example.com/latchkey",
        ),
        (
            "JWT_SECRET",
            "a test secret that is long enough to be accepted",
        ),
        ("ORIGIN_SECRET", "an origin secret value"),
        ("BEHIND_CLOUDFRONT", "true"),
        ("ADMIN_LOGIN", "root"),
        ("ADMIN_PASSWORD", "an admin password"),
        ("SMTP_URL", "smtp://127.0.0.1:1025"),
        (
            "API_DATABASE_URL",
            "postgres://api:secret@db.example.com/latchkey",
        ),
        (
            "MFA_ENCRYPTION_KEY",
            "an MFA encryption key that is long enough",
        ),
        (
            "MFA_PREVIOUS_ENCRYPTION_KEY",
            "the MFA encryption key before the rotation",
        ),
    ]
    .into();
    for (binary, names) in environments(&template()).unwrap() {
        let Some(uses) = uses(&binary) else {
            continue;
        };
        // Only what the template gives this function.
        let given = |name: &str| {
            names
                .contains(name)
                .then(|| complete.get(name).map(|v| (*v).to_owned()))
                .flatten()
        };
        let config = Config::from_lookup_for(given, uses).unwrap_or_else(|err| {
            panic!("{binary} cannot start with its template environment: {err}")
        });
        assert_eq!(config.database.is_some(), uses.database, "{binary}");
        assert_eq!(config.tokens.is_some(), uses.tokens, "{binary}");
        assert_eq!(config.mfa.is_some(), uses.mfa, "{binary}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_given_where_unused_or_missing_where_used_is_reported() {
        let env = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        let environments = BTreeMap::from([
            ("docs".to_owned(), env(&["DATABASE_URL"])),
            (
                "login".to_owned(),
                env(&["JWT_SECRET", "JWT_PRIVATE_KEY", "ORIGIN_SECRET"]),
            ),
            ("health".to_owned(), env(&["DATABASE_URL", "JWT_SECRET"])),
        ]);
        let problems = secret_problems(&environments);
        assert_eq!(
            problems,
            [
                "docs is given DATABASE_URL, unused",
                "health is given JWT_SECRET, unused",
                "login lacks DATABASE_URL, which it uses",
            ]
        );
    }

    #[test]
    fn a_function_s_no_value_removes_a_global_variable() {
        let template: Yaml = serde_yaml::from_str(
            "Globals: {Function: {Environment: {Variables: {DATABASE_URL: x, JWT_SECRET: y}}}}
Resources:
  Docs:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: docs}}
    Properties: {Environment: {Variables: {DATABASE_URL: !Ref AWS::NoValue, OWN: z}}}",
        )
        .unwrap();
        let environments = environments(&template).unwrap();
        assert_eq!(
            environments["docs"],
            BTreeSet::from(["JWT_SECRET".to_owned(), "OWN".to_owned()])
        );
    }
}
