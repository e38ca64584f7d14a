# Keep the newest 10 deployments of my-site-bucket, delete older ones after 30 days, every night.
provider "aws" {
  region = "eu-west-1"
}

module "s3_prune" {
  source = "../.."

  function_name       = "s3-prune-my-site"
  zip_path            = "${path.module}/bootstrap.zip"
  architecture        = "x86_64"
  bucket              = "my-site-bucket"
  retain              = 10
  min_retain_days     = 30
  live_pointer        = "current" # a key from the bucket root
  schedule_expression = "cron(0 3 * * ? *)"
  alarm_actions       = []
}

output "function_arn" {
  value = module.s3_prune.function_arn
}
