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
  nullable    = false
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64 (the two zips `make dist` builds)."
  }
}

variable "bucket" {
  description = "The bucket holding one folder per deployment. The role is granted this bucket only: another bucket needs its own instance of this module."
  type        = string
}

variable "prefix" {
  description = "Folder the deployments live under, ending in / (e.g. sites/; empty = bucket root). Also scopes the IAM policy, which grants BUCKET/PREFIX*: a bare \"sites\" would also grant sites-old/ and everything else whose key starts with sites."
  type        = string
  default     = ""
  nullable    = false
  validation {
    # Empty, or a folder: ends in "/", does not start with "/", and holds no IAM wildcard
    # (* ?) or policy variable ($) — the policy's resources are built from it.
    condition     = can(regex("^([^/*?$][^*?$]*/)?$", var.prefix))
    error_message = "prefix must be empty or a folder ending in \"/\" that does not start with \"/\" (e.g. \"sites/\", not \"sites\": BUCKET/sites* would also grant sites-old/), without *, ? or $."
  }
}

variable "retain" {
  description = "Keep at least this many newest deployments (RETAIN, >= 1). Exactly one of retain, policy and policy_key must be set."
  type        = number
  default     = null
  validation {
    condition     = var.retain == null || (coalesce(var.retain, 1) >= 1 && floor(coalesce(var.retain, 1)) == coalesce(var.retain, 1))
    error_message = "retain must be a whole number >= 1."
  }
}

variable "policy" {
  description = "Rules as a policy file's TOML (see README: Rules and groups), instead of retain (e.g. the contents of policy.toml). Exactly one of retain, policy and policy_key must be set."
  type        = string
  default     = null
}

variable "policy_key" {
  description = "Read the rules at every run from this key, relative to prefix (e.g. .s3-prune/policy.toml), instead of retain or policy: the team edits the file in the bucket, not the function. Must be a loose object or under .s3-prune/. Exactly one of retain, policy and policy_key must be set."
  type        = string
  default     = null
}

variable "min_retain_days" {
  description = "Delete only deployments older than this many days (null = no minimum age). Only with retain (a policy's rules carry their own ages); not with keep_within."
  type        = number
  default     = null
  validation {
    condition     = var.min_retain_days == null || (coalesce(var.min_retain_days, 0) >= 0 && floor(coalesce(var.min_retain_days, 0)) == coalesce(var.min_retain_days, 0))
    error_message = "min_retain_days must be a whole number >= 0."
  }
}

variable "keep_within" {
  description = "The minimum age as a span instead of min_retain_days: a number and a unit (y, w, d, h, min, s), combinable, e.g. 36h or 1d12h (\"0\" for none). Only with retain; not with min_retain_days (null = none)."
  type        = string
  default     = null
  validation {
    condition     = var.keep_within == null || can(regex("^(0+|([0-9]+ *(y|w|d|h|min|s) *)+)$", var.keep_within))
    error_message = "keep_within must be a span such as 30d, 12h, 90s or 1d12h (units y, w, d, h, min, s; 0 for none)."
  }
}

variable "date_source" {
  description = "Where a deployment's date comes from: newest, oldest or meta:KEY (KEY: letters, digits, - and _)."
  type        = string
  default     = "newest"
  nullable    = false
  validation {
    condition     = can(regex("^(newest|oldest|meta:[A-Za-z0-9_-]+)$", var.date_source))
    error_message = "date_source must be newest, oldest or meta:KEY (KEY of letters, digits, - and _)."
  }
}

variable "meta_fallback" {
  description = "With date_source meta:KEY: date a deployment whose KEY is missing or unparsable by its newest or oldest object instead of keeping it (null = keep it, its date unknown)."
  type        = string
  default     = null
  validation {
    condition     = var.meta_fallback == null || contains(["newest", "oldest"], coalesce(var.meta_fallback, "newest"))
    error_message = "meta_fallback must be newest or oldest."
  }
}

variable "pins" {
  description = "Deployment ids always kept (folder names, e.g. [\"v1-hotfix\"]), besides the pins file in the bucket. Passed as one comma-separated variable, so an id may hold neither \",\", \"/\", \";\" nor a space (pin such a folder with `s3-prune pin`)."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for p in var.pins : can(regex("^[^/,;\\s]+$", p))])
    error_message = "each pin must be one folder name: not empty, without \",\", \"/\", \";\" or spaces (the function refuses them: a list written with another separator is one pin that matches nothing)."
  }
}

variable "excludes" {
  description = "Globs (*, ?, [a-z]) of deployment ids this job never manages, e.g. [\"release-*\"]. Passed as one comma-separated variable, so a glob may hold neither \",\", \";\" nor a space."
  type        = list(string)
  default     = []
  nullable    = false
  validation {
    condition     = alltrue([for e in var.excludes : can(regex("^[^,;\\s]+$", e))])
    error_message = "each exclude must be a non-empty glob without \",\", \";\" or spaces (the function refuses them)."
  }
}

variable "live_pointer" {
  description = "Key of an object naming the live deployment, always kept (null = none). The key is from the bucket root, not relative to prefix: with prefix \"sites/\" a pointer beside the deployments is \"sites/current\". The role may read exactly this key (and its earlier versions, for live_grace)."
  type        = string
  default     = null
  validation {
    condition     = var.live_pointer == null || can(regex("^[^/*?$][^*?$]*[^/*?$]$|^[^/*?$]$", var.live_pointer))
    error_message = "live_pointer must be one object's key from the bucket root: not starting or ending with \"/\", without *, ? or $ (it becomes an IAM resource)."
  }
}

variable "live_grace" {
  description = "With live_pointer: how long the deployment the pointer named before is kept after it moved on, as a span (e.g. 24h, 3d; \"0\" turns it off). null = the default, 24h."
  type        = string
  default     = null
  validation {
    condition     = var.live_grace == null || can(regex("^(0+|([0-9]+ *(y|w|d|h|min|s) *)+)$", var.live_grace))
    error_message = "live_grace must be a span such as 24h, 3d or 1d12h (units y, w, d, h, min, s; 0 for none)."
  }
}

variable "live_from" {
  description = "Key of a page of the site (e.g. index.html) whose links name the live deployments, each kept (null = none). From the bucket root, not relative to prefix; the role may read exactly this key."
  type        = string
  default     = null
  validation {
    condition     = var.live_from == null || can(regex("^[^/*?$][^*?$]*[^/*?$]$|^[^/*?$]$", var.live_from))
    error_message = "live_from must be one object's key from the bucket root: not starting or ending with \"/\", without *, ? or $ (it becomes an IAM resource)."
  }
}

variable "max_delete" {
  description = "Blast-radius guard: a run that would delete more deployments deletes nothing."
  type        = number
  default     = 100
  nullable    = false
  validation {
    condition     = var.max_delete >= 0 && floor(var.max_delete) == var.max_delete
    error_message = "max_delete must be a whole number >= 0."
  }
}

variable "purge_versions" {
  description = "On a versioned bucket, also remove old versions and delete markers of deleted deployments. Only then is the role granted s3:DeleteObjectVersion. Not with via_lifecycle."
  type        = bool
  default     = false
  nullable    = false
}

variable "via_lifecycle" {
  description = "Hand doomed deployments of more than lifecycle_threshold objects to S3 lifecycle expiration instead of deleting them by requests (apply --via-lifecycle); grants s3:GetLifecycleConfiguration and s3:PutLifecycleConfiguration on the bucket. Not with purge_versions."
  type        = bool
  default     = false
  nullable    = false
}

variable "lifecycle_threshold" {
  description = "With via_lifecycle only: deployments of more objects than this go to lifecycle (null = 1,000,000)."
  type        = number
  default     = null
  validation {
    condition     = var.lifecycle_threshold == null || (coalesce(var.lifecycle_threshold, 0) >= 0 && floor(coalesce(var.lifecycle_threshold, 0)) == coalesce(var.lifecycle_threshold, 0))
    error_message = "lifecycle_threshold must be a whole number >= 0."
  }
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

variable "notify" {
  description = "Webhook URLs (http or https; Slack, Mattermost or any JSON endpoint) told after every apply, not after dry runs ([] = none). Sensitive: a webhook URL carries its token. It is still stored in the function's environment (readable with lambda:GetFunctionConfiguration) and in the Terraform state. Passed as one comma-separated variable, so a URL may not hold \",\"."
  type        = list(string)
  default     = []
  nullable    = false
  sensitive   = true
  validation {
    condition     = alltrue([for u in var.notify : can(regex("^https?://[^/,\\s]+[^,\\s]*$", u))])
    error_message = "each notify entry must be one http:// or https:// URL with a host, without \",\" or spaces."
  }
}

variable "ephemeral_storage_mb" {
  description = "The function's /tmp in MB (512 to 10240). A Parquet inventory's data files are kept there while they are read (up to 16 at once); CSV reports and listings need none."
  type        = number
  default     = 512
  nullable    = false
  validation {
    condition     = var.ephemeral_storage_mb >= 512 && var.ephemeral_storage_mb <= 10240 && floor(var.ephemeral_storage_mb) == var.ephemeral_storage_mb
    error_message = "ephemeral_storage_mb must be a whole number from 512 to 10240 (Lambda's limits)."
  }
}

variable "dry_run" {
  description = "Plan and log only; delete nothing. A dry run writes no Success metric, so the missing-success alarm is not created while dry_run is true."
  type        = bool
  default     = false
  nullable    = false
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
  description = "Lambda memory in MB (also scales CPU; 128 to 10240)."
  type        = number
  default     = 256
  nullable    = false
  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number from 128 to 10240 (Lambda's limits)."
  }
}

variable "timeout" {
  description = "Lambda timeout in seconds, 60 to 900 (a run of 1,000 deployments takes well under a minute). The job stops sending deletes 20 s before the deadline so that its record is written: a shorter timeout leaves it almost no time to delete."
  type        = number
  default     = 300
  nullable    = false
  validation {
    condition     = var.timeout >= 60 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 60 (the job stops deleting 20 s before the deadline) to 900 (Lambda's limit)."
  }
}

variable "retry_attempts" {
  description = "How often Lambda retries a failed scheduled run (0 to 2; Lambda's own default for asynchronous invocations is 2). 0: a refused run (blast-radius guard, unreadable live pointer, bad configuration) fails once and alarms once, instead of running three times per schedule."
  type        = number
  default     = 0
  nullable    = false
  validation {
    condition     = contains([0, 1, 2], var.retry_attempts)
    error_message = "retry_attempts must be 0, 1 or 2."
  }
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
  description = "Create a CloudWatch alarm that fires when no run ended well (s3-prune's Success metric) in two schedule periods: a job that stopped, runs against the wrong bucket or is refused every night. Not created while dry_run is true: a dry run writes no Success metric, so the alarm would never leave ALARM."
  type        = bool
  default     = true
}

variable "schedule_period_seconds" {
  description = "How often the schedule runs, in seconds: whole hours up to 86400 (a day), or whole days up to 604800 (a week). The missing-success alarm fires when two such periods (a week at most, as CloudWatch evaluates no longer, in whole UTC days) pass without a run ending well."
  type        = number
  default     = 86400
  nullable    = false
  validation {
    condition     = var.schedule_period_seconds >= 3600 && var.schedule_period_seconds <= 604800 && var.schedule_period_seconds % 3600 == 0 && (var.schedule_period_seconds <= 86400 || var.schedule_period_seconds % 86400 == 0)
    error_message = "schedule_period_seconds must be a multiple of 3600 from 3600 to 86400 (hourly to daily), or whole days up to 604800 (a week): the schedule's period, in seconds."
  }
}
