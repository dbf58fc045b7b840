output "sns_topic_arn" {
  description = "ARN of the alarm topic (KMS encrypted). Subscribe more endpoints to it, or point other alarms at it."
  value       = aws_sns_topic.this.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic (created, or the one given)."
  value       = local.kms_key_arn
}

output "alarm_arns" {
  description = "ARNs of the metric alarms, by app key and kind, e.g. alarm_arns[\"web\"][\"pods\"]. Kinds: pods, restarts, cpu, memory and, with max_pods, max-pods."
  value = {
    for k in keys(var.apps) : k => {
      for key, alarm in aws_cloudwatch_metric_alarm.this : local.alarms[key].kind => alarm.arn if local.alarms[key].app == k
    }
  }
}

output "composite_alarm_arns" {
  description = "ARN of each app's composite alarm, the one that notifies, by app key (empty with notify = \"per_alarm\")."
  value       = { for k, a in aws_cloudwatch_composite_alarm.app : k => a.arn }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null without one)."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}
