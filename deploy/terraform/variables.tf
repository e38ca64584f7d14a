variable "function_name" {
  description = "Name of the Lambda function (also names the role, schedule and log group)."
  type        = string
  default     = "s3-prune"
}

variable "zip_path" {
  description = "Path to the zip holding the `bootstrap` binary: `make dist` writes one per architecture (target/dist/s3-prune-VERSION-lambda-ARCH.zip)."
  type        = string
}

variable "architecture" {
  description = "CPU architecture of the bootstrap binary: arm64 or x86_64."
  type        = string
  default     = "arm64"
}

variable "bucket" {
  description = "The bucket holding one folder per deployment."
  type        = string
}

variable "prefix" {
  description = "Folder the deployments live under (empty = bucket root). Also scopes the IAM policy."
  type        = string
  default     = ""
}

variable "retain" {
  description = "Keep at least this many newest deployments (RETAIN, >= 1); null when policy is set."
  type        = number
  default     = null
  validation {
    condition     = var.retain == null || (coalesce(var.retain, 1) >= 1 && floor(coalesce(var.retain, 1)) == coalesce(var.retain, 1))
    error_message = "retain must be a whole number >= 1."
  }
}

variable "policy" {
  description = "Rules as a policy file's TOML (see README: Rules and groups), instead of retain (e.g. the contents of policy.toml)."
  type        = string
  default     = null
}

variable "policy_key" {
  description = "Read the rules at every run from this key, relative to prefix (e.g. .s3-prune/policy.toml), instead of retain or policy: the team edits the file in the bucket, not the function. Must be a loose object or under .s3-prune/."
  type        = string
  default     = null
}

variable "min_retain_days" {
  description = "Delete only deployments older than this many days (null = no minimum age)."
  type        = number
  default     = null
}

variable "date_source" {
  description = "Where a deployment's date comes from: newest, oldest or meta:KEY."
  type        = string
  default     = "newest"
}

variable "live_pointer" {
  description = "Key of an object naming the live deployment, always kept (null = none)."
  type        = string
  default     = null
}

variable "max_delete" {
  description = "Blast-radius guard: a run that would delete more deployments deletes nothing."
  type        = number
  default     = 100
}

variable "purge_versions" {
  description = "On a versioned bucket, also remove old versions and delete markers of deleted deployments."
  type        = bool
  default     = false
}

variable "via_lifecycle" {
  description = "Hand doomed deployments of more than lifecycle_threshold objects to S3 lifecycle expiration instead of deleting them by requests (apply --via-lifecycle); grants s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration on the bucket."
  type        = bool
  default     = false
}

variable "lifecycle_threshold" {
  description = "With via_lifecycle: deployments of more objects than this go to lifecycle (null = 1,000,000)."
  type        = number
  default     = null
}

variable "journal" {
  description = "Keep the run journal in s3://AUDIT-BUCKET/PATH/ (e.g. an S3 Object Lock bucket) instead of beside the deployments; every front end of the bucket must use the same place. Grants s3:PutObject, s3:GetObject and s3:ListBucket there, never a delete (null = beside the deployments)."
  type        = string
  default     = null
  validation {
    condition     = var.journal == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.journal))
    error_message = "journal must be s3://BUCKET/ or s3://BUCKET/PATH/."
  }
}

variable "inventory" {
  description = "Plan from S3 Inventory instead of listing the bucket: a configuration's folder s3://BUCKET/PREFIX/SOURCE-BUCKET/CONFIG-ID/ (its newest complete report every run) or one manifest.json's address (null = list the bucket). Grants s3:ListBucket and s3:GetObject on that configuration's reports."
  type        = string
  default     = null
  validation {
    condition     = var.inventory == null || can(regex("^s3://[^/]+/(.*/)?([^/]+/manifest\\.json)?$", var.inventory))
    error_message = "inventory must be s3://BUCKET/PREFIX/SOURCE-BUCKET/CONFIG-ID/ or s3://BUCKET/PATH/manifest.json."
  }
}

variable "ephemeral_storage_mb" {
  description = "The function's /tmp in MB (512 to 10240). A Parquet inventory's data files are kept there while they are read (up to 16 at once); CSV reports and listings need none."
  type        = number
  default     = 512
}

variable "dry_run" {
  description = "Plan and log only; delete nothing."
  type        = bool
  default     = false
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression, e.g. cron(0 3 * * ? *) for 03:00 every day."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "schedule_timezone" {
  description = "Time zone the schedule expression is read in."
  type        = string
  default     = "UTC"
}

variable "memory_size" {
  description = "Lambda memory in MB (also scales CPU)."
  type        = number
  default     = 256
}

variable "timeout" {
  description = "Lambda timeout in seconds (a run of 1,000 deployments takes well under a minute)."
  type        = number
  default     = 300
}

variable "log_retention_days" {
  description = "How long CloudWatch keeps the function's logs."
  type        = number
  default     = 30
}

variable "create_error_alarm" {
  description = "Create a CloudWatch alarm on the function's Errors metric."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified when the error alarm fires."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

variable "create_missing_success_alarm" {
  description = "Create a CloudWatch alarm that fires when no run ended well (s3-prune's Success metric) in two schedule periods: a job that stopped, runs against the wrong bucket or is refused every night."
  type        = bool
  default     = true
}

variable "schedule_period_seconds" {
  description = "How often the schedule runs, in seconds (a multiple of 3600, at most 86400): the missing-success alarm's period."
  type        = number
  default     = 86400
}
