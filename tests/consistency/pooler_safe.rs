//! What keeps the functions pooler-safe (docs/operations.md, "Connection poolers"): no
//! source file under `shared/src` or `functions/*/src` prepares a named statement
//! (`prepare`, `prepare_cached`, `prepare_typed`), which PgBouncer's transaction mode
//! before 1.21 cannot follow and RDS Proxy pins for, or sets startup options
//! (`options(..)`, `-c name=value`), which are session state. Statements go out through
//! `shared::db`'s typed calls instead: unnamed, or, only in `shared/src/db.rs` and only
//! with `DATABASE_PREPARED_STATEMENTS=true` (tests/handlers/prepared.rs), named.

use super::{read, root, sources};

/// What a line must not contain, and why.
const FORBIDDEN: &[(&str, &str)] = &[
    ("prepare_cached(", "a named prepared statement"),
    (".prepare(", "a named prepared statement"),
    ("prepare_typed(", "a named prepared statement"),
    ("prepare_typed_cached(", "a named prepared statement"),
    (".options(", "startup options (session state)"),
];

/// The one exception: `shared::db` sends through the connection's statement cache when
/// the configuration opts in.
const ALLOWED: &[(&str, &str)] = &[("shared/src/db.rs", "prepare_typed_cached(")];

/// Every offending line of `source`, as `path:line: what (why)`. Comment lines are
/// skipped, so the rule itself may be described.
fn problems(path: &str, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for (pattern, why) in FORBIDDEN {
            let allowed = ALLOWED
                .iter()
                .any(|(file, allowed)| path.ends_with(file) && allowed == pattern);
            if code.contains(pattern) && !allowed {
                found.push(format!("{path}:{}: `{pattern}`: {why}", index + 1));
            }
        }
        if code.contains("\"-c ") || code.contains(" -c ") {
            found.push(format!(
                "{path}:{}: a `-c` startup setting (session state)",
                index + 1
            ));
        }
    }
    found
}

#[test]
fn no_function_prepares_named_statements_or_sends_startup_options() {
    let root = root();
    let files = sources();
    assert!(
        files.iter().any(|f| f.ends_with("shared/src/db.rs")),
        "the scan found shared/src/db.rs"
    );
    let problems: Vec<String> = files
        .iter()
        .flat_map(|file| {
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string();
            problems(&shown, &read(file))
        })
        .collect();
    assert!(problems.is_empty(), "{}", super::report(&problems));
}

mod detector {
    use super::problems;

    #[test]
    fn named_statements_and_startup_options_are_reported_with_their_line() {
        let source = "fn f() {\n\
                      let s = client.prepare_cached(&sql).await?;\n\
                      let t = client.prepare(\"SELECT 1\").await?;\n\
                      pg.options(\"-c statement_timeout=5000\");\n\
                      let o = format!(\"{} -c search_path=x\", base);\n\
                      }\n";
        let found = problems("x.rs", source);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("x.rs:2: `prepare_cached(`"))
        );
        assert!(found.iter().any(|p| p.starts_with("x.rs:3: `.prepare(`")));
        assert!(found.iter().any(|p| p.starts_with("x.rs:4: `.options(`")));
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("x.rs:5: a `-c` startup"))
        );
    }

    #[test]
    fn only_shared_db_may_use_the_statement_cache() {
        let source = "let s = inner.prepare_typed_cached(sql, &types).await;\n";
        assert_eq!(problems("shared/src/db.rs", source), Vec::<String>::new());
        assert_eq!(problems("functions/get-me/src/lib.rs", source).len(), 1);
        let other = "let s = client.prepare_typed(sql, &types).await;\n";
        assert_eq!(problems("shared/src/db.rs", other).len(), 1);
    }

    #[test]
    fn typed_statements_and_comments_pass() {
        let source = "// no `.prepare(` here: a comment may name the rule\n\
                      client.query_typed_opt(\"SELECT 1 WHERE $1\", &[(&x, Type::BOOL)]).await?;\n\
                      client.batch_execute(\"BEGIN\").await?;\n";
        assert_eq!(problems("x.rs", source), Vec::<String>::new());
    }
}
