output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.cluster.cluster_name
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = module.cluster.cluster_endpoint
}

output "environment" {
  description = "Environment the cluster is marked with."
  value       = jke_cluster.this.environment
}

output "default_issuer" {
  description = "ClusterIssuer the apps' certificates come from."
  value       = jke_cluster.this.default_issuer
}

output "platform_objects" {
  description = "Cluster-level objects jke_cluster manages."
  value       = jke_cluster.this.objects
}

output "addon_versions" {
  description = "Version of every installed add-on."
  value       = module.addons.addon_versions
}

output "web_url" {
  description = "Public URL of the web app."
  value       = jke_application.web.url
}

output "api_url" {
  description = "Public URL of the api."
  value       = jke_application.api.url
}

output "api_service_host" {
  description = "In-cluster DNS name of the api's Service."
  value       = jke_application.api.service_host
}

output "log_archive_workgroup" {
  description = "Athena workgroup to query the archived app logs in."
  value       = module.log_archive.workgroup_name
}

output "alerts_topic_arn" {
  description = "SNS topic the app alerts notify."
  value       = module.app_alerts.sns_topic_arn
}
