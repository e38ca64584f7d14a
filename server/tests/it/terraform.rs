//! `deploy/terraform` as far as this machine can check it without Terraform: every file parses
//! as HCL, every variable is documented, used and in the README, the S3 actions granted are
//! exactly the ones the code needs (each on the narrowest resource), every `S3_PRUNE_*` variable
//! the job reads is set, failed runs are not retried, and ranges and rules are validated.

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

/// An attribute's expression.
fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// `resource "TYPE" "NAME"` (or `data`) of main.tf.
fn labelled<'a>(main: &'a Body, ident: &'a str, labels: &[&str]) -> Option<&'a Block> {
    blocks(main, ident).find(|b| {
        b.labels()
            .iter()
            .map(|l| l.as_str())
            .eq(labels.iter().copied())
    })
}

/// An expression as HCL text, `local.NAME` replaced by what the locals block says, quotes off.
fn text(main: &Body, e: &Expression) -> String {
    let t = e.to_string();
    if let Some(name) = t.strip_prefix("local.") {
        let local = blocks(main, "locals")
            .find_map(|l| attr(l.body(), name))
            .unwrap_or_else(|| panic!("no local {name}"));
        return text(main, local);
    }
    t.trim_matches('"').to_string()
}

/// One statement of the S3 policy: its sid, actions, resources, and for a dynamic one, what its
/// `for_each` depends on.
struct Statement {
    sid: String,
    actions: BTreeSet<String>,
    resources: Vec<String>,
    only_with: Option<String>,
}

/// A statement with `effect = "Deny"`: it grants nothing.
fn denies(main: &Body, b: &Block) -> bool {
    attr(b.body(), "effect").is_some_and(|e| text(main, e) == "Deny")
}

/// The grants of the S3 policy (its Deny statements left out).
fn statements(main: &Body) -> Vec<Statement> {
    let doc = labelled(main, "data", &["aws_iam_policy_document", "s3"])
        .expect("data aws_iam_policy_document s3");
    let read = |b: &Block, only_with: Option<String>| Statement {
        sid: attr(b.body(), "sid")
            .map(|e| text(main, e))
            .unwrap_or_default(),
        actions: actions(b).into_iter().collect(),
        resources: attr(b.body(), "resources")
            .map(|e| match e {
                Expression::Array(items) => items.iter().map(|r| text(main, r)).collect(),
                other => vec![text(main, other)],
            })
            .unwrap_or_default(),
        only_with,
    };
    let mut out: Vec<Statement> = blocks(doc.body(), "statement")
        .filter(|b| !denies(main, b))
        .map(|b| read(b, None))
        .collect();
    for d in blocks(doc.body(), "dynamic") {
        assert!(d.labels().iter().any(|l| l.as_str() == "statement"));
        let for_each = attr(d.body(), "for_each").expect("for_each").to_string();
        for c in blocks(d.body(), "content") {
            out.push(read(c, Some(for_each.clone())));
        }
    }
    out
}

#[test]
fn the_iam_policy_grants_exactly_what_the_code_needs() {
    let main = parse(&module_dir().join("main.tf"));
    let all = statements(&main);
    // The statements on the deployments' bucket (not the reports' or the audit bucket).
    let bucket = "arn:aws:s3:::${var.bucket}";
    let on_bucket: Vec<&Statement> = all
        .iter()
        .filter(|s| s.resources.iter().all(|r| r.starts_with(bucket)) && !s.resources.is_empty())
        .collect();
    let granted: BTreeSet<String> = on_bucket
        .iter()
        .flat_map(|s| s.actions.iter().cloned())
        .filter(|a| {
            a.starts_with("s3:")
                && (!bucket::IAM_LIFECYCLE_ACTIONS.contains(&a.as_str())
                    || bucket::IAM_BUCKET_ACTIONS.contains(&a.as_str()))
        })
        .collect();
    let needed: BTreeSet<String> = bucket::IAM_BUCKET_ACTIONS
        .iter()
        .chain(bucket::IAM_OBJECT_ACTIONS)
        .map(|s| s.to_string())
        .collect();
    assert_eq!(granted, needed);
    // The run journal is append-only for the job: no delete reaches a run's records, whatever
    // the grants on the prefix say.
    let doc = labelled(&main, "data", &["aws_iam_policy_document", "s3"]).unwrap();
    let journal_denied = blocks(doc.body(), "statement").any(|b| {
        denies(&main, b)
            && actions(b).iter().any(|a| a == "s3:DeleteObject")
            && attr(b.body(), "resources").is_some_and(|r| {
                r.to_string()
                    .contains("${var.bucket}/${var.prefix}.s3-prune/runs/*")
            })
    });
    assert!(journal_denied, "no Deny of deleting PREFIX.s3-prune/runs/*");
    // Nor its state files (a deleted pins.json unpins everything), while the lease stays
    // deletable: it has no extension.
    let state_denied = blocks(doc.body(), "statement").any(|b| {
        denies(&main, b)
            && actions(b).iter().any(|a| a == "s3:DeleteObject")
            && attr(b.body(), "resources").is_some_and(|r| {
                r.to_string()
                    .contains("${var.bucket}/${var.prefix}.s3-prune/*.json")
            })
    });
    assert!(state_denied, "no Deny of deleting PREFIX.s3-prune/*.json");
    assert!(
        !bucket::LEASE.ends_with(".json"),
        "the lease must stay deletable"
    );
    // Every run reads the lifecycle rules (to withdraw a kept folder's expiration), whatever
    // the module's variables: before, only `via_lifecycle` granted it, and a kept folder handed
    // over by the CLI was expired by S3 while the job said it succeeded.
    let always: BTreeSet<&String> = on_bucket
        .iter()
        .filter(|s| s.only_with.is_none())
        .flat_map(|s| s.actions.iter())
        .collect();
    assert!(
        always.contains(&"s3:GetLifecycleConfiguration".to_string()),
        "{always:?}"
    );
    let with = |action: &str| -> Vec<&Statement> {
        on_bucket
            .iter()
            .copied()
            .filter(|s| s.actions.contains(action))
            .collect()
    };
    // Every write is s3-prune's own state (lease, journal, dates, live-seen, last-success),
    // never a deployment.
    for s in with("s3:PutObject") {
        for r in &s.resources {
            assert!(
                r == "arn:aws:s3:::${var.bucket}/${var.prefix}.s3-prune/*",
                "{}: s3:PutObject on {r}, not only on PREFIX.s3-prune/*",
                s.sid
            );
        }
    }
    // Versions are deleted only by a purge.
    for s in with("s3:DeleteObjectVersion") {
        assert!(
            s.only_with
                .as_deref()
                .is_some_and(|f| f.contains("var.purge_versions")),
            "{}: s3:DeleteObjectVersion granted without purge_versions",
            s.sid
        );
    }
    // The live pointer is a key from the bucket root (bucket/src/state.rs read_live_pointer):
    // readable exactly, with its earlier versions, whatever the prefix; nothing else's
    // versions are read.
    let pointer = "arn:aws:s3:::${var.bucket}/${var.live_pointer}";
    for s in with("s3:GetObjectVersion") {
        assert_eq!(s.resources, [pointer], "{}", s.sid);
    }
    let read_pointer = with("s3:GetObject")
        .into_iter()
        .find(|s| s.resources == [pointer])
        .expect("a statement reading the live pointer from the bucket root");
    assert!(read_pointer.actions.contains("s3:GetObjectVersion"));
    assert!(read_pointer
        .only_with
        .as_deref()
        .is_some_and(|f| f.contains("var.live_pointer")));
    // So is the live page (bucket/src/live_from.rs).
    assert!(with("s3:GetObject").iter().any(|s| s.resources
        == ["arn:aws:s3:::${var.bucket}/${var.live_from}"]
        && s.only_with
            .as_deref()
            .is_some_and(|f| f.contains("var.live_from"))));
    // via_lifecycle adds exactly the lifecycle actions, on the bucket; inventory exactly the
    // inventory actions, on the reports
    let optional = |sid_part: &str| -> BTreeSet<String> {
        all.iter()
            .filter(|s| s.only_with.is_some() && s.sid.contains(sid_part))
            .flat_map(|s| s.actions.iter().cloned())
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
    // In the audit bucket, the job reaches this bucket's runs only (PATH/BUCKET/PREFIX, as
    // bucket/src/journal.rs places them), never PATH*: `s3://audit/team-a` without its "/"
    // reached team-ab/ and every other bucket's runs under the path.
    let journal_grants: Vec<&Statement> = all
        .iter()
        .filter(|s| s.only_with.is_some() && s.sid.contains("AuditJournal"))
        .collect();
    for s in &journal_grants {
        for r in &s.resources {
            assert!(
                r == "arn:aws:s3:::${local.journal_bucket}"
                    || r == "arn:aws:s3:::${local.journal_bucket}/${local.journal_root}*",
                "{}: {r} is not this bucket's runs in the audit bucket",
                s.sid
            );
        }
    }
    let journal_listing = {
        let doc = labelled(&main, "data", &["aws_iam_policy_document", "s3"]).unwrap();
        blocks(doc.body(), "dynamic")
            .flat_map(|d| blocks(d.body(), "content"))
            .filter(|c| {
                attr(c.body(), "sid").is_some_and(|e| text(&main, e) == "ListTheAuditJournal")
            })
            .flat_map(|c| blocks(c.body(), "condition"))
            .filter_map(|c| attr(c.body(), "values"))
            .map(|v| v.to_string().split_whitespace().collect::<String>())
            .collect::<Vec<String>>()
    };
    assert_eq!(journal_listing, [r#"["${local.journal_root}*"]"#]);
    let root = blocks(&main, "locals")
        .find_map(|l| attr(l.body(), "journal_root"))
        .expect("local.journal_root")
        .to_string();
    assert!(
        root.contains(r#"trimsuffix(local.journal_path, "/")}/"#)
            && root.ends_with(r#"${var.bucket}/${var.prefix}""#),
        "journal_root is not PATH/BUCKET/PREFIX with PATH's one '/': {root}"
    );
    assert_eq!(
        all.iter().filter(|s| s.only_with.is_some()).count(),
        8,
        "one purge, one live pointer, one live page, one lifecycle, two inventory and two \
         journal statements, nothing else optional"
    );
    // and the README's IAM section lists the same actions the scheduled job needs
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    for a in &needed {
        assert!(readme.contains(a.as_str()), "README does not list {a}");
    }
    // the function is what the issue asks for
    let f = labelled(&main, "resource", &["aws_lambda_function", "this"]).unwrap();
    let runtime = attr(f.body(), "runtime").map(|e| text(&main, e)).unwrap();
    assert_eq!(runtime, "provided.al2023");
    assert!(blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_scheduler_schedule"));
    assert!(blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_cloudwatch_log_group"));
    assert!(
        blocks(&main, "resource").any(|b| b.labels()[0].as_str() == "aws_cloudwatch_metric_alarm")
    );
}

/// Every key of the objects in an expression (`merge({...}, cond ? {} : {...})`).
fn object_keys(e: &Expression, out: &mut BTreeSet<String>) {
    match e {
        Expression::Object(o) => {
            for (k, v) in o {
                // An identifier, or a quoted string key.
                out.insert(k.to_string().trim_matches('"').to_string());
                object_keys(v, out);
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| object_keys(a, out)),
        Expression::Conditional(c) => {
            object_keys(&c.true_expr, out);
            object_keys(&c.false_expr, out);
        }
        Expression::Parenthesis(p) => object_keys(p, out),
        _ => {}
    }
}

/// The `S3_PRUNE_…` names in a source text (the bare `S3_PRUNE_` of `S3_PRUNE_*` left out).
fn s3_prune_names(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = source;
    while let Some(i) = rest.find("S3_PRUNE_") {
        let tail = &rest[i + "S3_PRUNE_".len()..];
        let len = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        let name = tail[..len].trim_end_matches('_');
        if !name.is_empty() {
            out.insert(format!("S3_PRUNE_{name}"));
        }
        rest = &tail[len..];
    }
    out
}

#[test]
fn every_s3_prune_variable_the_job_reads_is_set_by_the_module() {
    // What the scheduled job reads: its configuration (job.rs reads every variable).
    let job = include_str!("../../src/lambda/job.rs");
    // Read by the job but deliberately not set by the module: where S3 is, for tests against
    // LocalStack or another endpoint. A Lambda function talks to AWS's own S3.
    let not_set = ["S3_PRUNE_LOCALSTACK", "S3_PRUNE_ENDPOINT_URL"];
    let read = s3_prune_names(job);
    assert!(read.len() >= 20, "{read:?}");
    for n in not_set {
        assert!(
            read.contains(n),
            "{n} is allow-listed but no longer read: drop it"
        );
    }
    let main = parse(&module_dir().join("main.tf"));
    let env = blocks(&main, "locals")
        .find_map(|l| attr(l.body(), "environment"))
        .expect("local.environment");
    let mut set = BTreeSet::new();
    object_keys(env, &mut set);
    let f = labelled(&main, "resource", &["aws_lambda_function", "this"]).unwrap();
    let environment = blocks(f.body(), "environment").next().expect("environment");
    assert_eq!(
        attr(environment.body(), "variables").map(|e| e.to_string()),
        Some("local.environment".to_string())
    );
    for n in &read {
        if not_set.contains(&n.as_str()) {
            assert!(
                !set.contains(n),
                "{n} is allow-listed as not set, but main.tf sets it"
            );
        } else {
            assert!(
                set.contains(n),
                "the job reads {n}, but the module never sets it"
            );
        }
    }
    // and the module sets nothing the job does not read (a misspelt name is silently ignored)
    for n in &set {
        assert!(
            read.contains(n),
            "main.tf sets {n}, which the job never reads"
        );
    }
    // The webhooks carry their tokens.
    let vars = parse(&module_dir().join("variables.tf"));
    let notify = labelled(&vars, "variable", &["notify"]).expect("variable notify");
    assert_eq!(
        attr(notify.body(), "sensitive").map(|e| e.to_string()),
        Some("true".into())
    );
}

#[test]
fn failed_runs_are_not_retried_three_times_per_schedule() {
    let main = parse(&module_dir().join("main.tf"));
    let cfg = labelled(
        &main,
        "resource",
        &["aws_lambda_function_event_invoke_config", "this"],
    )
    .expect("resource aws_lambda_function_event_invoke_config");
    let function = attr(cfg.body(), "function_name").unwrap().to_string();
    assert!(
        function.starts_with("aws_lambda_function.this."),
        "{function}"
    );
    assert_eq!(
        attr(cfg.body(), "maximum_retry_attempts").map(|e| e.to_string()),
        Some("var.retry_attempts".into())
    );
    let vars = parse(&module_dir().join("variables.tf"));
    let retry = labelled(&vars, "variable", &["retry_attempts"]).unwrap();
    assert_eq!(
        attr(retry.body(), "default").map(|e| e.to_string()),
        Some("0".into())
    );
    assert!(blocks(retry.body(), "validation").next().is_some());
}

#[test]
fn the_missing_success_alarm_watches_two_schedule_periods_and_no_dry_run() {
    // A dry run prints no metrics line (server/src/lambda/mod.rs returns before answer::of).
    let main = parse(&module_dir().join("main.tf"));
    let alarm = labelled(
        &main,
        "resource",
        &["aws_cloudwatch_metric_alarm", "missing_success"],
    )
    .unwrap();
    let count = attr(alarm.body(), "count").unwrap().to_string();
    assert!(
        count.contains("var.create_missing_success_alarm") && count.contains("!var.dry_run"),
        "{count}"
    );
    // It watches the metric the job writes (server/src/emf.rs): namespace s3-prune, Success,
    // by bucket and prefix (a job on another prefix of the bucket must not hide this one's).
    let said = |name: &str| attr(alarm.body(), name).unwrap().to_string();
    assert!(said("namespace").contains("s3-prune"));
    assert!(said("metric_name").contains("Success"));
    let dimensions = said("dimensions");
    assert!(
        dimensions.contains("Bucket") && dimensions.contains("Prefix"),
        "{dimensions}"
    );
    // A weekly schedule can be watched: before, the period was the schedule's own, validated
    // to at most a day, so a weekly job left the alarm in ALARM six days a week. Two schedule
    // periods, in periods of at most a day, within the seven days CloudWatch evaluates.
    assert_eq!(said("period"), "local.alarm_period");
    assert_eq!(said("evaluation_periods"), "local.alarm_periods");
    let local = |name: &str| {
        blocks(&main, "locals")
            .find_map(|l| attr(l.body(), name))
            .unwrap_or_else(|| panic!("no local {name}"))
            .to_string()
    };
    assert_eq!(
        local("alarm_period"),
        "min(var.schedule_period_seconds, 86400)"
    );
    assert_eq!(
        local("alarm_periods"),
        "min(2 * var.schedule_period_seconds, 604800) / local.alarm_period"
    );
    let vars = parse(&module_dir().join("variables.tf"));
    let period = labelled(&vars, "variable", &["schedule_period_seconds"]).unwrap();
    let valid = blocks(period.body(), "validation")
        .filter_map(|v| attr(v.body(), "condition"))
        .map(|c| c.to_string())
        .collect::<String>();
    assert!(
        valid.contains("<= 604800") && valid.contains("% 86400 == 0"),
        "a weekly schedule is accepted, in whole days past one: {valid}"
    );
}

#[test]
fn ranges_and_rules_are_checked_before_anything_is_created() {
    let vars = parse(&module_dir().join("variables.tf"));
    for name in [
        "prefix",
        "timeout",
        "architecture",
        "date_source",
        "meta_fallback",
        "keep_within",
        "live_grace",
        "live_pointer",
        "live_from",
        "pins",
        "excludes",
        "notify",
        "schedule_period_seconds",
        "ephemeral_storage_mb",
        "retry_attempts",
        "retain",
        "max_delete",
    ] {
        let v =
            labelled(&vars, "variable", &[name]).unwrap_or_else(|| panic!("no variable {name}"));
        assert!(
            blocks(v.body(), "validation").next().is_some(),
            "variable {name} has no validation"
        );
    }
    // The rules across variables: preconditions on the function, so a plan fails, not every run.
    let main = parse(&module_dir().join("main.tf"));
    let f = labelled(&main, "resource", &["aws_lambda_function", "this"]).unwrap();
    let conditions: Vec<String> = blocks(f.body(), "lifecycle")
        .flat_map(|l| blocks(l.body(), "precondition").collect::<Vec<_>>())
        .map(|p| attr(p.body(), "condition").unwrap().to_string())
        .collect();
    let checked = |vars: &[&str]| {
        conditions
            .iter()
            .any(|c| vars.iter().all(|v| c.contains(v)))
    };
    for rule in [
        &["var.retain", "var.policy", "var.policy_key"][..],
        &["var.retain", "var.min_retain_days", "var.keep_within"],
        &["var.lifecycle_threshold", "var.via_lifecycle"],
        &["var.via_lifecycle", "var.purge_versions"],
        // A journal inside the pruned prefix: refused by every run before (a clean plan).
        &["local.journal_inside"],
    ] {
        assert!(
            checked(rule),
            "no precondition relates {rule:?}: {conditions:#?}"
        );
    }
    // Preconditions need Terraform 1.2, `startswith` 1.3: the module asks for 1.5.
    let versions = std::fs::read_to_string(module_dir().join("versions.tf")).unwrap();
    assert!(
        versions.contains("required_version = \">= 1.5\""),
        "{versions}"
    );
}
