//! What makes `sam build && sam deploy` a one-pass, keep-the-evidence deploy:
//! `samconfig.toml` answers every question non-interactively and names every template
//! parameter that has no default, and every function logs to a log group of the template
//! that has a retention and survives stack deletion and replacement.

use serde_yaml::Value as Yaml;

use super::{read, resources, root};

/// `Properties.LoggingConfig.LogGroup: !Ref <id>` of a function, as the referenced id.
fn log_group_ref(function: &Yaml) -> Option<&str> {
    let value = function
        .get("Properties")?
        .get("LoggingConfig")?
        .get("LogGroup")?;
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

/// Every function with a retained log group of the template; every log group retained
/// with a retention.
fn log_group_problems(template: &Yaml) -> Result<Vec<String>, String> {
    let resources = resources(template)?;
    let type_of = |resource: &Yaml| {
        resource
            .get("Type")
            .and_then(Yaml::as_str)
            .map(str::to_owned)
    };
    let mut problems = Vec::new();
    for (id, resource) in resources {
        let id = id.as_str().unwrap_or("?");
        match type_of(resource).as_deref() {
            Some("AWS::Serverless::Function") => match log_group_ref(resource) {
                None => problems.push(format!(
                    "{id} has no LoggingConfig.LogGroup: !Ref <a log group>"
                )),
                Some(group) => {
                    let target = resources.get(group);
                    if target.and_then(type_of).as_deref() != Some("AWS::Logs::LogGroup") {
                        problems.push(format!(
                            "{id} logs to {group}, which is not a log group of the template"
                        ));
                    }
                }
            },
            Some("AWS::Logs::LogGroup") => {
                for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
                    if resource.get(policy).and_then(Yaml::as_str) != Some("Retain") {
                        problems.push(format!("log group {id} has no {policy}: Retain"));
                    }
                }
                if resource
                    .get("Properties")
                    .and_then(|p| p.get("RetentionInDays"))
                    .is_none()
                {
                    problems.push(format!("log group {id} has no RetentionInDays"));
                }
            }
            _ => {}
        }
    }
    Ok(problems)
}

/// `[default.deploy.parameters]` asks nothing and gives every parameter without a
/// default; `[default.build.parameters]` never uses SAM's folder-hash cache.
fn samconfig_problems(samconfig: &toml::Table, template: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    let section = |command: &str| {
        samconfig
            .get("default")
            .and_then(|d| d.get(command))
            .and_then(|c| c.get("parameters"))
            .and_then(toml::Value::as_table)
    };
    let Some(deploy) = section("deploy") else {
        return vec!["samconfig.toml has no [default.deploy.parameters]".to_owned()];
    };
    let value = |key: &str| deploy.get(key);
    if value("confirm_changeset").and_then(toml::Value::as_bool) != Some(false) {
        problems.push("deploy: confirm_changeset must be false (no y/N prompt)".to_owned());
    }
    if value("guided").is_some() {
        problems.push("deploy: no guided setting (it asks every question)".to_owned());
    }
    let capabilities = value("capabilities")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    if !capabilities
        .split_whitespace()
        .any(|c| c == "CAPABILITY_IAM")
    {
        problems.push(
            "deploy: capabilities must include CAPABILITY_IAM (the functions' roles)".to_owned(),
        );
    }
    if value("resolve_s3").and_then(toml::Value::as_bool) != Some(true)
        && value("s3_bucket").is_none()
    {
        problems
            .push("deploy: resolve_s3 = true (or an s3_bucket), else sam deploy asks".to_owned());
    }
    if section("build")
        .and_then(|b| b.get("cached"))
        .and_then(toml::Value::as_bool)
        == Some(true)
    {
        problems.push("build: cached = true misses changes in shared/ and migrations/".to_owned());
    }
    let overrides = value("parameter_overrides")
        .and_then(toml::Value::as_str)
        .unwrap_or("");
    let given: Vec<&str> = overrides
        .split_whitespace()
        .filter_map(|pair| pair.split_once('=').map(|(key, _)| key))
        .collect();
    let parameters = template.get("Parameters").and_then(Yaml::as_mapping);
    for (name, parameter) in parameters.into_iter().flatten() {
        let name = name.as_str().unwrap_or("?");
        if parameter.get("Default").is_none() && !given.contains(&name) {
            problems.push(format!(
                "deploy: parameter_overrides lacks {name}, which has no default"
            ));
        }
    }
    for key in given {
        if parameters.is_none_or(|p| p.get(key).is_none()) {
            problems.push(format!(
                "deploy: parameter_overrides sets {key}, not a template parameter"
            ));
        }
    }
    problems
}

fn load() -> (toml::Table, Yaml) {
    let root = root();
    let samconfig = toml::from_str(&read(&root.join("samconfig.toml")))
        .unwrap_or_else(|e| panic!("samconfig.toml: {e}"));
    let template = serde_yaml::from_str(&read(&root.join("template.yaml")))
        .unwrap_or_else(|e| panic!("template.yaml: {e}"));
    (samconfig, template)
}

#[test]
fn every_function_logs_to_a_retained_log_group_with_a_retention() {
    let (_, template) = load();
    let problems = log_group_problems(&template).unwrap_or_else(|e| panic!("{e}"));
    assert!(problems.is_empty(), "{}", super::report(&problems));
}

#[test]
fn samconfig_deploys_without_a_question() {
    let (samconfig, template) = load();
    let problems = samconfig_problems(&samconfig, &template);
    assert!(problems.is_empty(), "{}", super::report(&problems));
}

/// Least privilege for the functions' execution role: SAM adds
/// `AWSLambdaVPCAccessExecutionRole` to the role it generates whenever `VpcConfig` is set,
/// even to `!If [HasVpc, ..., !Ref AWS::NoValue]` (checked with samtranslator 1.170), so
/// every function names one role of the template whose VPC policy is under `HasVpc`.
fn execution_role_problems(template: &Yaml) -> Result<Vec<String>, String> {
    let resources = resources(template)?;
    let mut problems = Vec::new();
    let mut role_ids = std::collections::BTreeSet::new();
    for (id, resource) in resources {
        if resource.get("Type").and_then(Yaml::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or("?");
        let props = resource.get("Properties");
        if props.is_some_and(|p| p.get("Policies").is_some()) {
            problems.push(format!("{id}: Policies of its own"));
        }
        match props.and_then(|p| p.get("Role")) {
            Some(Yaml::Tagged(tagged)) if tagged.tag == "GetAtt" => {
                match tagged.value.as_str().and_then(|v| v.strip_suffix(".Arn")) {
                    Some(role) => {
                        role_ids.insert(role.to_owned());
                    }
                    None => problems.push(format!("{id}: Role is not `!GetAtt <role>.Arn`")),
                }
            }
            _ => problems.push(format!(
                "{id}: no `Role: !GetAtt <role>.Arn` (SAM would generate one with the VPC policy)"
            )),
        }
    }
    for role_id in role_ids {
        let Some(role) = resources.get(role_id.as_str()) else {
            problems.push(format!("{role_id}: named as a Role, not a resource"));
            continue;
        };
        let arns = role
            .get("Properties")
            .and_then(|p| p.get("ManagedPolicyArns"))
            .and_then(Yaml::as_sequence)
            .cloned()
            .unwrap_or_default();
        let names = |arn: &Yaml, policy: &str| {
            serde_yaml::to_string(arn)
                .unwrap_or_default()
                .contains(policy)
        };
        let mut vpc_policy_conditional = false;
        for arn in arns
            .iter()
            .filter(|a| names(a, "AWSLambdaVPCAccessExecutionRole"))
        {
            let under_has_vpc = matches!(arn, Yaml::Tagged(t) if t.tag == "If"
                && t.value.as_sequence().and_then(|s| s.first()).and_then(Yaml::as_str)
                    == Some("HasVpc"));
            if under_has_vpc {
                vpc_policy_conditional = true;
            } else {
                problems.push(format!(
                    "{role_id}: AWSLambdaVPCAccessExecutionRole outside !If [HasVpc, ...]"
                ));
            }
        }
        if !vpc_policy_conditional {
            problems.push(format!(
                "{role_id}: no AWSLambdaVPCAccessExecutionRole under !If [HasVpc, ...]"
            ));
        }
        if !arns.iter().any(|a| names(a, "AWSLambdaBasicExecutionRole")) {
            problems.push(format!(
                "{role_id}: no AWSLambdaBasicExecutionRole (no logs)"
            ));
        }
    }
    Ok(problems)
}

#[test]
fn the_vpc_access_policy_is_granted_only_with_a_vpc() {
    let (_, template) = load();
    let problems = execution_role_problems(&template).unwrap_or_else(|e| panic!("{e}"));
    assert!(problems.is_empty(), "{}", super::report(&problems));
}

/// The checks themselves, on small made-up inputs.
mod checks {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  DatabaseUrlSecretName: {Type: String}
  LogRetentionDays: {Type: Number, Default: 30}
Resources:
  GoodFunction:
    Type: AWS::Serverless::Function
    Properties: {LoggingConfig: {LogGroup: !Ref GoodLogGroup}}
  GoodLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties: {RetentionInDays: !Ref LogRetentionDays}
  DefaultLogFunction:
    Type: AWS::Serverless::Function
    Properties: {}
  ForgetfulFunction:
    Type: AWS::Serverless::Function
    Properties: {LoggingConfig: {LogGroup: !Ref ForgetfulLogGroup}}
  ForgetfulLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    Properties: {}
"#;

    fn template() -> Yaml {
        serde_yaml::from_str(TEMPLATE).unwrap()
    }

    #[test]
    fn log_groups_that_are_missing_deleted_or_kept_forever_are_reported() {
        assert_eq!(
            log_group_problems(&template()).unwrap(),
            [
                "DefaultLogFunction has no LoggingConfig.LogGroup: !Ref <a log group>",
                "log group ForgetfulLogGroup has no DeletionPolicy: Retain",
                "log group ForgetfulLogGroup has no UpdateReplacePolicy: Retain",
                "log group ForgetfulLogGroup has no RetentionInDays",
            ]
        );
    }

    #[test]
    fn a_samconfig_that_would_ask_is_reported() {
        let samconfig: toml::Table = toml::from_str(
            r#"
[default.build.parameters]
cached = true
[default.deploy.parameters]
capabilities = "CAPABILITY_NAMED_IAM"
confirm_changeset = true
parameter_overrides = "Stage=prod"
"#,
        )
        .unwrap();
        assert_eq!(
            samconfig_problems(&samconfig, &template()),
            [
                "deploy: confirm_changeset must be false (no y/N prompt)",
                "deploy: capabilities must include CAPABILITY_IAM (the functions' roles)",
                "deploy: resolve_s3 = true (or an s3_bucket), else sam deploy asks",
                "build: cached = true misses changes in shared/ and migrations/",
                "deploy: parameter_overrides lacks DatabaseUrlSecretName, which has no default",
                "deploy: parameter_overrides sets Stage, not a template parameter",
            ]
        );
    }

    #[test]
    fn a_quiet_samconfig_passes() {
        let samconfig: toml::Table = toml::from_str(
            r#"
[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"
resolve_s3 = true
confirm_changeset = false
parameter_overrides = "DatabaseUrlSecretName=latchkey/database-url"
"#,
        )
        .unwrap();
        assert!(samconfig_problems(&samconfig, &template()).is_empty());
    }

    #[test]
    fn functions_without_the_shared_role_or_with_an_unconditional_vpc_policy_are_reported() {
        let template: Yaml = serde_yaml::from_str(
            r#"
Resources:
  Shared:
    Type: AWS::IAM::Role
    Properties:
      ManagedPolicyArns:
        - arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
        - arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole
  WithRole:
    Type: AWS::Serverless::Function
    Properties: {Role: !GetAtt Shared.Arn}
  Generated:
    Type: AWS::Serverless::Function
    Properties: {Policies: [AWSLambdaBasicExecutionRole]}
"#,
        )
        .unwrap();
        assert_eq!(
            execution_role_problems(&template).unwrap(),
            [
                "Generated: Policies of its own",
                "Generated: no `Role: !GetAtt <role>.Arn` (SAM would generate one with the VPC policy)",
                "Shared: AWSLambdaVPCAccessExecutionRole outside !If [HasVpc, ...]",
                "Shared: no AWSLambdaVPCAccessExecutionRole under !If [HasVpc, ...]",
            ]
        );
    }
}
