# s3-prune as a scheduled Lambda function: function, schedule, least-privilege role, logs, alarm.

locals {
  bucket_arn  = "arn:aws:s3:::${var.bucket}"
  objects_arn = "arn:aws:s3:::${var.bucket}/${var.prefix}*"
  # Every object the job writes in the bucket is its own state under <prefix>.s3-prune/: the
  # lease, the run journal (unless var.journal), dates.json, live-seen.json,
  # last-success-lambda.json (bucket/src: lease.rs, journal.rs, dates.rs, live_history.rs;
  # prune/src/health.rs).
  state_arn = "arn:aws:s3:::${var.bucket}/${var.prefix}.s3-prune/*"
  # An inventory location's bucket and the configuration's folder (a manifest's dated folder
  # stripped: the data files are beside it, under data/).
  inventory_parts  = var.inventory == null ? null : regex("^s3://([^/]+)/(.*/)?(?:[^/]+/manifest\\.json)?$", var.inventory)
  inventory_bucket = var.inventory == null ? null : local.inventory_parts[0]
  inventory_folder = var.inventory == null ? null : (local.inventory_parts[1] == null ? "" : local.inventory_parts[1])
  # The run journal in an audit bucket: its bucket and path.
  journal_parts  = var.journal == null ? null : regex("^s3://([^/]+)/?(.*)$", var.journal)
  journal_bucket = var.journal == null ? null : local.journal_parts[0]
  journal_path   = var.journal == null ? null : local.journal_parts[1]
  # Where its runs go (PATH/BUCKET/PREFIX, as bucket/src/connect.rs places them), and whether
  # that lies inside the prefix this job prunes, outside its .s3-prune/ (the function refuses
  # it at every run: its folder would be taken for a deployment).
  journal_root   = var.journal == null ? null : "${local.journal_path == "" ? "" : "${trimsuffix(local.journal_path, "/")}/"}${var.bucket}/${var.prefix}"
  journal_inside = var.journal == null ? false : (local.journal_bucket == var.bucket && startswith(local.journal_root, var.prefix) && !startswith(local.journal_root, "${var.prefix}.s3-prune/"))
  # The missing-success alarm watches two schedule periods, in periods of at most a day, and at
  # most the seven days CloudWatch evaluates (period x evaluation_periods <= 604800 s): a weekly
  # job alarms once a week has passed without a run ending well.
  alarm_period  = min(var.schedule_period_seconds, 86400)
  alarm_periods = min(2 * var.schedule_period_seconds, 604800) / local.alarm_period
  environment = merge(
    {
      S3_PRUNE_BUCKET         = var.bucket
      S3_PRUNE_PREFIX         = var.prefix
      S3_PRUNE_DATE_SOURCE    = var.date_source
      S3_PRUNE_MAX_DELETE     = tostring(var.max_delete)
      S3_PRUNE_PURGE_VERSIONS = tostring(var.purge_versions)
      S3_PRUNE_DRY_RUN        = tostring(var.dry_run)
    },
    var.retain == null ? {} : { S3_PRUNE_RETAIN = tostring(var.retain) },
    var.policy == null ? {} : { S3_PRUNE_POLICY = var.policy },
    var.policy_key == null ? {} : { S3_PRUNE_POLICY_KEY = var.policy_key },
    var.min_retain_days == null ? {} : { S3_PRUNE_MIN_RETAIN_DAYS = tostring(var.min_retain_days) },
    var.keep_within == null ? {} : { S3_PRUNE_KEEP_WITHIN = var.keep_within },
    var.meta_fallback == null ? {} : { S3_PRUNE_META_FALLBACK = var.meta_fallback },
    # Comma-separated, as server/src/lambda/job.rs (env_list) reads them.
    length(var.pins) == 0 ? {} : { S3_PRUNE_PINS = join(",", var.pins) },
    length(var.excludes) == 0 ? {} : { S3_PRUNE_EXCLUDES = join(",", var.excludes) },
    var.live_pointer == null ? {} : { S3_PRUNE_LIVE_POINTER = var.live_pointer },
    var.live_grace == null ? {} : { S3_PRUNE_LIVE_GRACE = var.live_grace },
    var.live_from == null ? {} : { S3_PRUNE_LIVE_FROM = var.live_from },
    # Only the URLs are secret, not whether there are any: the rest of the environment stays
    # readable in a plan.
    nonsensitive(length(var.notify)) == 0 ? {} : { S3_PRUNE_NOTIFY = join(",", var.notify) },
    var.inventory == null ? {} : { S3_PRUNE_INVENTORY = var.inventory },
    var.journal == null ? {} : { S3_PRUNE_JOURNAL = var.journal },
    var.via_lifecycle ? { S3_PRUNE_VIA_LIFECYCLE = "true" } : {},
    var.via_lifecycle && var.lifecycle_threshold != null ? { S3_PRUNE_LIFECYCLE_THRESHOLD = tostring(var.lifecycle_threshold) } : {},
  )
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Exactly the actions s3-prune needs (bucket::IAM_BUCKET_ACTIONS / IAM_OBJECT_ACTIONS; a test
# keeps them equal), each on the narrowest resource the code's requests need.
data "aws_iam_policy_document" "s3" {
  statement {
    sid       = "ListTheDeployments"
    # GetLifecycleConfiguration: every run compares s3-prune's expiration rules with its plan
    # (a folder handed over by `apply --via-lifecycle` that is kept now has its rule withdrawn).
    actions   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning", "s3:GetLifecycleConfiguration"]
    resources = [local.bucket_arn]
  }
  # meta:KEY dates (HeadObject), the pins file, policy_key, the job's own state; deleting
  # deployments and releasing the lease.
  statement {
    sid       = "ReadDatesAndStateAndDeleteDeployments"
    actions   = ["s3:GetObject", "s3:DeleteObject"]
    resources = [local.objects_arn]
  }
  # Every write is s3-prune's own state under <prefix>.s3-prune/, never a deployment.
  statement {
    sid       = "WriteItsOwnStateLeaseAndJournal"
    actions   = ["s3:PutObject"]
    resources = [local.state_arn]
  }
  # The run journal is append-only for the job: whatever it deletes, never a run's records (a
  # bug, or whoever runs code as the function, cannot erase what a run did).
  statement {
    sid       = "NeverDeleteTheRunJournal"
    effect    = "Deny"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:aws:s3:::${var.bucket}/${var.prefix}.s3-prune/runs/*"]
  }
  # Nor its other state files (pins, dates, approvals, success notes: every one a .json): the
  # job rewrites them, never deletes one; only the lease (`lease`, no extension) is deleted, at
  # a run's end. A bug that deleted pins.json would unpin everything before the next run.
  statement {
    sid       = "NeverDeleteItsStateFiles"
    effect    = "Deny"
    actions   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
    resources = ["arn:aws:s3:::${var.bucket}/${var.prefix}.s3-prune/*.json"]
  }
  # purge_versions only: versions and delete markers are deleted by version id (DeleteObjects
  # with VersionId), which needs s3:DeleteObjectVersion; without it only current keys are.
  dynamic "statement" {
    for_each = var.purge_versions ? [1] : []
    content {
      sid       = "PurgeVersionsOfDeletedDeployments"
      actions   = ["s3:DeleteObjectVersion"]
      resources = [local.objects_arn]
    }
  }
  # live_pointer only: the key is read from the bucket root (bucket/src/state.rs
  # read_live_pointer), not under the prefix, so the prefix's statement may not cover it;
  # its earlier versions (GetObject with a version id) give the live grace on a versioned bucket.
  dynamic "statement" {
    for_each = var.live_pointer == null ? [] : [1]
    content {
      sid       = "ReadTheLivePointerAndItsVersions"
      actions   = ["s3:GetObject", "s3:GetObjectVersion"]
      resources = ["arn:aws:s3:::${var.bucket}/${var.live_pointer}"]
    }
  }
  # live_from only: a page read from the bucket root too (bucket/src/live_from.rs).
  dynamic "statement" {
    for_each = var.live_from == null ? [] : [1]
    content {
      sid       = "ReadTheLivePage"
      actions   = ["s3:GetObject"]
      resources = ["arn:aws:s3:::${var.bucket}/${var.live_from}"]
    }
  }
  # via_lifecycle only (bucket::IAM_LIFECYCLE_ACTIONS).
  dynamic "statement" {
    for_each = var.via_lifecycle ? [1] : []
    content {
      sid       = "HandBigDeploymentsToLifecycle"
      actions   = ["s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"]
      resources = [local.bucket_arn]
    }
  }
  # inventory only (bucket::IAM_INVENTORY_ACTIONS): find and read the configuration's reports.
  dynamic "statement" {
    for_each = var.inventory == null ? [] : [1]
    content {
      sid       = "FindTheInventoryReport"
      actions   = ["s3:ListBucket"]
      resources = ["arn:aws:s3:::${local.inventory_bucket}"]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${local.inventory_folder}*"]
      }
    }
  }
  dynamic "statement" {
    for_each = var.inventory == null ? [] : [1]
    content {
      sid       = "ReadTheInventoryReport"
      actions   = ["s3:GetObject"]
      resources = ["arn:aws:s3:::${local.inventory_bucket}/${local.inventory_folder}*"]
    }
  }
  # journal only: write and read this bucket's runs (and approvals) in the audit bucket, under
  # PATH/BUCKET/PREFIX as the function places them (never delete there). Not PATH*: written
  # without a trailing "/", s3://audit/team-a would also reach team-ab/ and every other
  # bucket's runs under the path.
  dynamic "statement" {
    for_each = var.journal == null ? [] : [1]
    content {
      sid       = "ListTheAuditJournal"
      actions   = ["s3:ListBucket"]
      resources = ["arn:aws:s3:::${local.journal_bucket}"]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${local.journal_root}*"]
      }
    }
  }
  dynamic "statement" {
    for_each = var.journal == null ? [] : [1]
    content {
      sid       = "WriteAndReadTheAuditJournal"
      actions   = ["s3:PutObject", "s3:GetObject"]
      resources = ["arn:aws:s3:::${local.journal_bucket}/${local.journal_root}*"]
    }
  }
  statement {
    sid       = "WriteItsOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
}

resource "aws_iam_role" "this" {
  name               = var.function_name
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "s3" {
  name   = "${var.function_name}-s3"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.s3.json
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name    = var.function_name
  role             = aws_iam_role.this.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  filename         = var.zip_path
  source_code_hash = filebase64sha256(var.zip_path)
  memory_size      = var.memory_size
  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }
  timeout = var.timeout
  environment {
    variables = local.environment
  }
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }
  tags = var.tags

  # What the job refuses at start-up or at every run (server/src/lambda/job.rs
  # Configured::from_env, retention/src/spec.rs PolicySpec::build), refused at plan time instead.
  lifecycle {
    precondition {
      condition     = (var.retain == null ? 0 : 1) + (var.policy == null ? 0 : 1) + (var.policy_key == null ? 0 : 1) == 1
      error_message = "Set exactly one of retain, policy and policy_key: without any the job has no RETAIN, and with two it refuses to guess which one is meant."
    }
    precondition {
      condition     = var.retain != null || (var.min_retain_days == null && var.keep_within == null)
      error_message = "min_retain_days and keep_within go with retain only: a policy's rules say how old a deployment must be."
    }
    precondition {
      condition     = var.min_retain_days == null || var.keep_within == null
      error_message = "Give either min_retain_days or keep_within, not both."
    }
    precondition {
      condition     = var.lifecycle_threshold == null || var.via_lifecycle
      error_message = "lifecycle_threshold is set but via_lifecycle is not: set both, or neither."
    }
    precondition {
      condition     = !(var.via_lifecycle && var.purge_versions)
      error_message = "Set via_lifecycle or purge_versions, not both: lifecycle expiration leaves old versions behind."
    }
    precondition {
      condition     = var.meta_fallback == null || startswith(var.date_source, "meta:")
      error_message = "meta_fallback only applies with date_source meta:KEY."
    }
    precondition {
      condition     = var.live_grace == null || var.live_pointer != null
      error_message = "live_grace only applies with live_pointer."
    }
    precondition {
      condition     = !local.journal_inside
      error_message = "journal lies inside the prefix this job prunes (var.journal in var.bucket under var.prefix): its folder would be taken for a deployment, and the function refuses it at every run. Give another bucket, or a path outside the prefix."
    }
  }
}

# EventBridge Scheduler invokes the function asynchronously, and Lambda retries a failed
# asynchronous invocation twice by default: a refused run (the blast-radius guard, an unreadable
# live pointer, bad configuration) or a failed one would run three times per schedule, with
# three errors and three listings of the bucket. The next scheduled run is the retry.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name          = aws_lambda_function.this.function_name
  maximum_retry_attempts = var.retry_attempts
}

data "aws_iam_policy_document" "assume_scheduler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "invoke" {
  statement {
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.function_name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.assume_scheduler.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "invoke" {
  name   = "${var.function_name}-invoke"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.invoke.json
}

resource "aws_scheduler_schedule" "this" {
  name                         = var.function_name
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  flexible_time_window {
    mode = "OFF"
  }
  target {
    arn      = aws_lambda_function.this.arn
    role_arn = aws_iam_role.scheduler.arn
    # An empty event: the function's environment holds the job.
    input = jsonencode({})
    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  count               = var.create_error_alarm ? 1 : 0
  alarm_name          = "${var.function_name}-errors"
  alarm_description   = "s3-prune reported an error (a failed delete, a refused plan or bad configuration)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

# Cleanup that stops is silent on the Errors metric: a job that no longer runs, runs against the
# wrong bucket, or is refused every night. Every apply that ends well writes Success = 1 (an
# Embedded Metric Format log line); none in two periods — or no data at all — is an alarm.
# A dry run writes no metrics line at all (server/src/lambda/mod.rs answers before the apply's
# answer::of prints it): with dry_run the alarm would never leave ALARM, so it is not created.
resource "aws_cloudwatch_metric_alarm" "missing_success" {
  count               = var.create_missing_success_alarm && !var.dry_run ? 1 : 0
  alarm_name          = "${var.function_name}-missing-success"
  alarm_description   = "s3-prune has not finished a run on ${var.bucket} in two schedule periods (a week at most): cleanup has stopped."
  namespace           = "s3-prune"
  metric_name         = "Success"
  # By prefix too (the bucket root is "/"): another job on another prefix of the bucket has
  # its own successes, which must not hide this one having stopped.
  dimensions          = { Bucket = var.bucket, Prefix = var.prefix == "" ? "/" : var.prefix }
  statistic           = "Sum"
  period              = local.alarm_period
  evaluation_periods  = local.alarm_periods
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}
