//! `deploy/terraform` as far as this machine can check it without Terraform: every file parses
//! as HCL, every variable is documented, used and in the README, and the S3 actions granted are
//! exactly the ones the code needs.

use hcl::{Block, Body, Expression};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn module_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/terraform")
}

fn tf_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(tf_files(&p));
        } else if p.extension().is_some_and(|x| x == "tf") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn parse(p: &Path) -> Body {
    hcl::from_str(&std::fs::read_to_string(p).unwrap())
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", p.display()))
}

fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

fn strings(e: &Expression) -> Vec<String> {
    match e {
        Expression::Array(items) => items.iter().flat_map(strings).collect(),
        Expression::String(s) => vec![s.clone()],
        _ => vec![],
    }
}

#[test]
fn every_file_parses() {
    let files = tf_files(&module_dir());
    assert!(files.len() >= 5, "{files:?}");
    for f in files {
        parse(&f);
    }
}

#[test]
fn every_variable_is_documented_used_and_listed() {
    let dir = module_dir();
    let vars = parse(&dir.join("variables.tf"));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let others: String = ["main.tf", "outputs.tf"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
        .collect();
    let mut names = Vec::new();
    for v in blocks(&vars, "variable") {
        let name = v.labels()[0].as_str().to_string();
        let desc = v
            .body()
            .attributes()
            .find(|a| a.key() == "description")
            .map(|a| strings(a.expr()).join(""));
        assert!(
            desc.is_some_and(|d| d.len() > 10),
            "variable {name} has no description"
        );
        assert!(
            others.contains(&format!("var.{name}")),
            "variable {name} is never used"
        );
        assert!(
            readme.contains(&format!("`{name}`")),
            "variable {name} is not in the README"
        );
        names.push(name);
    }
    for required in [
        "bucket",
        "retain",
        "min_retain_days",
        "schedule_expression",
        "log_retention_days",
        "create_error_alarm",
        "architecture",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing variable {required}"
        );
    }
}

/// The `actions` of one policy statement (or a dynamic statement's `content`).
fn actions(statement: &Block) -> Vec<String> {
    statement
        .body()
        .attributes()
        .filter(|a| a.key() == "actions")
        .flat_map(|a| strings(a.expr()))
        .collect()
}

#[test]
fn the_iam_policy_grants_exactly_what_the_code_needs() {
    let main = parse(&module_dir().join("main.tf"));
    let doc = blocks(&main, "data")
        .find(|b| {
            b.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>()
                == ["aws_iam_policy_document", "s3"]
        })
        .expect("data aws_iam_policy_document s3");
    let granted: BTreeSet<String> = blocks(doc.body(), "statement")
        .flat_map(actions)
        .filter(|a| a.starts_with("s3:"))
        .collect();
    let needed: BTreeSet<String> = bucket::IAM_BUCKET_ACTIONS
        .iter()
        .chain(bucket::IAM_OBJECT_ACTIONS)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, needed);
    // via_lifecycle adds exactly the lifecycle actions, on the bucket; inventory exactly the
    // inventory actions, on the reports
    let optional = |sid_part: &str| -> BTreeSet<String> {
        blocks(doc.body(), "dynamic")
            .filter(|d| d.labels().iter().any(|l| l.as_str() == "statement"))
            .flat_map(|d| blocks(d.body(), "content").collect::<Vec<_>>())
            .filter(|c| {
                c.body()
                    .attributes()
                    .any(|a| a.key() == "sid" && strings(a.expr()).join("").contains(sid_part))
            })
            .flat_map(actions)
            .collect()
    };
    let set = |a: &[&str]| {
        a.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    assert_eq!(optional("Lifecycle"), set(bucket::IAM_LIFECYCLE_ACTIONS));
    assert_eq!(optional("Inventory"), set(bucket::IAM_INVENTORY_ACTIONS));
    assert_eq!(optional("AuditJournal"), set(bucket::IAM_JOURNAL_ACTIONS));
    assert_eq!(
        blocks(doc.body(), "dynamic").count(),
        5,
        "one lifecycle, two inventory and two journal statements, nothing else optional"
    );
    // and the README's IAM section lists the same actions the scheduled job needs
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for a in &needed {
        assert!(readme.contains(a.as_str()), "README does not list {a}");
    }
    // the function is what the issue asks for
    let f = blocks(&main, "resource")
        .find(|b| b.labels()[0].as_str() == "aws_lambda_function")
        .unwrap();
    let runtime = f
        .body()
        .attributes()
        .find(|a| a.key() == "runtime")
        .map(|a| strings(a.expr()).join(""))
        .unwrap();
    assert_eq!(runtime, "provided.al2023");
    assert!(blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_scheduler_schedule"));
    assert!(blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_cloudwatch_log_group"));
    assert!(
        blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_cloudwatch_metric_alarm")
    );
}
