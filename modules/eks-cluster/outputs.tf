################################################################################
# What a `provider "jke"` (or kubernetes) block needs
################################################################################

output "cluster_name" {
  description = "Name of the EKS cluster. Known once the managed node groups exist, so anything that uses it (add-ons, applications) waits for nodes."
  value       = aws_eks_cluster.this.name

  depends_on = [aws_eks_node_group.this]
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded certificate of the cluster's certificate authority, as in a kubeconfig's certificate-authority-data."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "region" {
  description = "AWS region of the cluster."
  value       = split(":", aws_eks_cluster.this.arn)[3]
}

output "environment" {
  description = "Environment of the cluster, as tagged on it (`jke/environment`)."
  value       = var.environment
}

################################################################################
# Cluster
################################################################################

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "kubernetes_version" {
  description = "Kubernetes minor version of the control plane."
  value       = aws_eks_cluster.this.version
}

output "cluster_tags" {
  description = "Tags on the cluster, including `jke/environment`."
  value       = aws_eks_cluster.this.tags
}

output "oidc_issuer_url" {
  description = "OpenID Connect issuer URL of the cluster (https://...)."
  value       = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC identity provider for IRSA (null with enable_irsa = false)."
  value       = var.enable_irsa ? aws_iam_openid_connect_provider.this[0].arn : null
}

output "pod_identity_assume_role_policy" {
  description = "Trust policy (JSON) for IAM roles used through EKS Pod Identity in this cluster; restrict it further with aws:RequestTag/kubernetes-namespace and kubernetes-service-account conditions."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = {
        StringEquals = {
          "aws:RequestTag/eks-cluster-name" = var.name
        }
      }
    }]
  })
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting Kubernetes Secrets."
  value       = local.kms_key_arn
}

output "cluster_log_group_name" {
  description = "Name of the CloudWatch Logs group of the control-plane logs."
  value       = aws_cloudwatch_log_group.cluster.name
}

output "flow_log_id" {
  description = "ID of the created VPC's flow log (null with flow_logs_enabled = false or an existing VPC)."
  value       = local.flow_logs ? aws_flow_log.this[0].id : null
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch Logs group the VPC flow logs go to (null unless they go to CloudWatch Logs)."
  value       = local.flow_logs_to_cloudwatch ? aws_cloudwatch_log_group.flow_logs[0].name : null
}

output "cluster_role_arn" {
  description = "ARN of the IAM role of the control plane."
  value       = aws_iam_role.cluster.arn
}

output "node_role_arn" {
  description = "ARN of the IAM role of the nodes (managed node groups and Auto Mode)."
  value       = aws_iam_role.node.arn
}

output "node_role_name" {
  description = "Name of the IAM role of the nodes, to attach further policies."
  value       = aws_iam_role.node.name
}

output "node_groups" {
  description = "Managed node groups by key: name, ARN, status and autoscaling group names."
  value = { for k, g in aws_eks_node_group.this : k => {
    name               = g.node_group_name
    arn                = g.arn
    status             = g.status
    autoscaling_groups = flatten([for r in g.resources : [for a in r.autoscaling_groups : a.name]])
    launch_template_id = aws_launch_template.node[k].id
  } }
}

output "auto_mode" {
  description = "Whether the cluster runs in EKS Auto Mode."
  value       = var.auto_mode
}

################################################################################
# Network and security groups
################################################################################

output "cluster_security_group_id" {
  description = "Security group EKS created for the cluster; attached to the control plane and to the nodes of the managed node groups."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "control_plane_security_group_id" {
  description = "Additional security group of the control plane, allowing HTTPS to the API from the VPC and var.private_access_cidrs."
  value       = aws_security_group.control_plane.id
}

output "node_security_group_id" {
  description = "Security group of the managed node groups' nodes (the EKS cluster security group)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "vpc_id" {
  description = "ID of the VPC (created or given)."
  value       = local.vpc_id
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR of the VPC."
  value       = local.vpc_cidr_block
}

output "private_subnet_ids" {
  description = "IDs of the private subnets the nodes run in."
  value       = local.private_subnet_ids
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (empty when the VPC was given)."
  value       = local.public_subnet_ids
}

output "control_plane_subnet_ids" {
  description = "IDs of the subnets of the control plane's network interfaces."
  value       = local.control_plane_subnet_ids
}

output "nat_gateway_public_ips" {
  description = "Public IPs of the NAT gateways, i.e. the addresses the cluster's egress comes from (to allow-list elsewhere)."
  value       = aws_nat_gateway.this[*].public_ip
}
