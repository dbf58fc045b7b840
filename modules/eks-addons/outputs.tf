output "addons" {
  description = "Installed add-ons by EKS add-on name: version, ARN and the IAM role its service account gets through pod identity (null when none)."
  value = {
    for name, a in merge(aws_eks_addon.pod_identity_agent, aws_eks_addon.this) : name => {
      version  = a.addon_version
      arn      = a.arn
      role_arn = lookup(local.role_arns, name, null)
    }
  }
}

output "addon_versions" {
  description = "Version of every enabled add-on (pinned, or the latest compatible one at plan time)."
  value       = local.versions
}

output "pod_identity_role_arns" {
  description = "IAM role ARNs of the add-ons' service accounts, by add-on name."
  value       = local.role_arns
}

output "container_insights_log_group_names" {
  description = "CloudWatch Logs groups of Container Insights (empty when amazon-cloudwatch-observability is off)."
  value       = [for g in aws_cloudwatch_log_group.container_insights : g.name]
}

output "vpc_cni_network_policy" {
  description = "Whether the VPC CNI add-on enforces Kubernetes NetworkPolicies (false when vpc-cni is off, e.g. in Auto Mode, or with vpc_cni.network_policy = false)."
  value       = contains(keys(local.enabled), "vpc-cni") && var.vpc_cni.network_policy
}
