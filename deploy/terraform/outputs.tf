output "function_arn" {
  description = "ARN of the s3-prune function."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the function's least-privilege role."
  value       = aws_iam_role.this.arn
}

output "schedule_arn" {
  description = "ARN of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.arn
}

output "log_group_name" {
  description = "CloudWatch log group with one JSON line per event and the audit record of each run."
  value       = aws_cloudwatch_log_group.this.name
}
