# s3-prune as a scheduled Lambda function: function, schedule, least-privilege role, logs, alarm.

locals {
  bucket_arn  = "arn:aws:s3:::${var.bucket}"
  objects_arn = "arn:aws:s3:::${var.bucket}/${var.prefix}*"
  # An inventory location's bucket and the configuration's folder (a manifest's dated folder
  # stripped: the data files are beside it, under data/).
  inventory_parts  = var.inventory == null ? null : regex("^s3://([^/]+)/(.*/)?(?:[^/]+/manifest\\.json)?$", var.inventory)
  inventory_bucket = var.inventory == null ? null : local.inventory_parts[0]
  inventory_folder = var.inventory == null ? null : (local.inventory_parts[1] == null ? "" : local.inventory_parts[1])
  # The run journal in an audit bucket: its bucket and path.
  journal_parts  = var.journal == null ? null : regex("^s3://([^/]+)/?(.*)$", var.journal)
  journal_bucket = var.journal == null ? null : local.journal_parts[0]
  journal_path   = var.journal == null ? null : local.journal_parts[1]
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
    var.live_pointer == null ? {} : { S3_PRUNE_LIVE_POINTER = var.live_pointer },
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
# keeps them equal), scoped to the bucket and prefix.
data "aws_iam_policy_document" "s3" {
  statement {
    sid       = "ListTheDeployments"
    actions   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "ReadDatesJournalRunsAndDeleteDeployments"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectVersion"]
    resources = [local.objects_arn]
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
  # journal only: write and read runs in the audit bucket (never delete there).
  dynamic "statement" {
    for_each = var.journal == null ? [] : [1]
    content {
      sid       = "ListTheAuditJournal"
      actions   = ["s3:ListBucket"]
      resources = ["arn:aws:s3:::${local.journal_bucket}"]
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${local.journal_path}*"]
      }
    }
  }
  dynamic "statement" {
    for_each = var.journal == null ? [] : [1]
    content {
      sid       = "WriteAndReadTheAuditJournal"
      actions   = ["s3:PutObject", "s3:GetObject"]
      resources = ["arn:aws:s3:::${local.journal_bucket}/${local.journal_path}*"]
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
  timeout          = var.timeout
  environment {
    variables = local.environment
  }
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }
  tags = var.tags
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
# wrong bucket, or is refused every night. Every run that ends well writes Success = 1 (an
# Embedded Metric Format log line); none in two periods — or no data at all — is an alarm.
resource "aws_cloudwatch_metric_alarm" "missing_success" {
  count               = var.create_missing_success_alarm ? 1 : 0
  alarm_name          = "${var.function_name}-missing-success"
  alarm_description   = "s3-prune has not finished a run on ${var.bucket} in two schedule periods: cleanup has stopped."
  namespace           = "s3-prune"
  metric_name         = "Success"
  dimensions          = { Bucket = var.bucket }
  statistic           = "Sum"
  period              = var.schedule_period_seconds
  evaluation_periods  = 2
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}
