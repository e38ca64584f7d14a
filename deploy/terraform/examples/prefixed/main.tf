# Deployments under sites/ with the live pointer beside them, first deployed as a dry run:
# every night the function logs what it would delete and deletes nothing. Switch dry_run off
# once the logs look right (that also creates the missing-success alarm).
provider "aws" {
  region = "eu-west-1"
}

variable "slack_webhook" {
  description = "Slack incoming-webhook URL told after every apply."
  type        = string
  sensitive   = true
}

module "s3_prune" {
  source = "../.."

  function_name = "s3-prune-sites"
  zip_path      = "${path.module}/bootstrap.zip"
  bucket        = "my-site-bucket"
  prefix        = "sites/" # ends in "/": "sites" would also grant sites-old/
  retain        = 10
  keep_within   = "30d"
  # Keys from the bucket root, not relative to prefix.
  live_pointer = "sites/current"
  live_grace   = "48h"
  pins         = ["v1-hotfix"]
  excludes     = ["release-*"]
  notify       = [var.slack_webhook]
  dry_run      = true
}

output "function_arn" {
  value = module.s3_prune.function_arn
}
