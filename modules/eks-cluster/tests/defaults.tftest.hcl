# The minimal usage (name, environment and kubernetes_version alone) plans a complete,
# production-sensible cluster. Every assertion names what users rely on.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_availability_zones" {
    defaults = {
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d"]
    }
  }
  # The provider validates ARNs even of mocked values.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mocked"
    }
  }
  mock_resource "aws_launch_template" {
    defaults = {
      id             = "lt-0123456789abcdef0"
      latest_version = 1
    }
  }
  # OpenTofu gives a mocked resource's computed attributes values already at plan, where
  # Terraform leaves them unknown; realistic ones let both clients plan the outputs.
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn                   = "arn:aws:eks:eu-west-1:111122223333:cluster/mocked"
      certificate_authority = [{ data = "LS0tLS1CRUdJTi0tLS0t" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/MOCKED" }] }]
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/mocked/flow-logs"
    }
  }
}

variables {
  name               = "payments"
  environment        = "prod"
  kubernetes_version = "1.33"
}

run "cluster_identity_and_environment_tag" {
  command = plan

  assert {
    condition     = aws_eks_cluster.this.name == "payments" && aws_eks_cluster.this.version == "1.33"
    error_message = "The cluster must be named after var.name and run var.kubernetes_version."
  }
  assert {
    condition     = aws_eks_cluster.this.tags["jke/environment"] == "prod"
    error_message = "The cluster must carry the jke/environment tag the provider's environment guard reads."
  }
  assert {
    condition     = aws_eks_cluster.this.tags["jke/cluster"] == "payments"
    error_message = "The cluster must carry the jke/cluster tag."
  }
  assert {
    condition     = alltrue([for r in [aws_vpc.this[0], aws_iam_role.cluster, aws_iam_role.node, aws_cloudwatch_log_group.cluster, aws_kms_key.this[0]] : r.tags["jke/environment"] == "prod"])
    error_message = "Every resource must carry the environment tag."
  }
  assert {
    condition     = output.environment == "prod"
    error_message = "The environment output must echo var.environment."
  }
}

run "control_plane_logging" {
  command = plan

  assert {
    condition     = aws_eks_cluster.this.enabled_cluster_log_types == toset(["api", "audit", "authenticator"])
    error_message = "Default control-plane log types must be api, audit and authenticator."
  }
  assert {
    condition     = aws_cloudwatch_log_group.cluster.name == "/aws/eks/payments/cluster"
    error_message = "The module must own the log group EKS writes to, /aws/eks/<name>/cluster."
  }
  assert {
    condition     = aws_cloudwatch_log_group.cluster.retention_in_days == 365
    error_message = "Default log retention must be 365 days (a year of audit trail)."
  }
}

run "secrets_encryption_with_created_key" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && aws_kms_key.this[0].deletion_window_in_days == 30
    error_message = "A KMS key with rotation and a 30-day deletion window must be created."
  }
  assert {
    condition     = aws_kms_alias.this[0].name == "alias/eks/payments"
    error_message = "The key must have the alias alias/eks/<name>."
  }
  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].resources == toset(["secrets"])
    error_message = "Kubernetes Secrets must be envelope-encrypted."
  }
}

run "endpoint_and_authentication" {
  command = plan

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_private_access && !aws_eks_cluster.this.vpc_config[0].endpoint_public_access
    error_message = "The API endpoint is private by default: reachable from the VPC only, not from the internet."
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].authentication_mode == "API"
    error_message = "Authentication mode must be API (access entries, no aws-auth ConfigMap)."
  }
  assert {
    condition     = aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions == true
    error_message = "The creator gets admin by default, so one run can create the cluster and deploy apps."
  }
  assert {
    condition     = length(aws_eks_access_entry.this) == 0 && length(aws_eks_access_policy_association.this) == 0
    error_message = "No access entries without principals."
  }
  assert {
    condition     = [for r in aws_vpc_security_group_ingress_rule.control_plane_https : r.cidr_ipv4] == ["10.0.0.0/16"] && aws_vpc_security_group_ingress_rule.control_plane_https["vpc"].from_port == 443
    error_message = "The control plane security group allows HTTPS from the VPC only."
  }
  assert {
    condition     = length(aws_eks_cluster.this.compute_config) == 0 && aws_eks_cluster.this.bootstrap_self_managed_addons == null
    error_message = "Auto Mode is off by default."
  }
}

run "network_three_zones_nat_per_zone" {
  command = plan

  assert {
    condition     = aws_vpc.this[0].cidr_block == "10.0.0.0/16" && aws_vpc.this[0].enable_dns_hostnames && aws_vpc.this[0].enable_dns_support
    error_message = "A 10.0.0.0/16 VPC with DNS hostnames is created."
  }
  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    error_message = "Three private /18 subnets, one per zone."
  }
  assert {
    condition     = [for s in aws_subnet.public : s.cidr_block] == ["10.0.192.0/22", "10.0.196.0/22", "10.0.200.0/22"]
    error_message = "Three public /22 subnets in the last quarter of the VPC."
  }
  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    error_message = "Subnets use the first three zones of the region."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : s.tags["kubernetes.io/role/elb"] == "1" && s.tags["kubernetes.io/cluster/payments"] == "shared"])
    error_message = "Public subnets carry the load balancer discovery tags."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : s.tags["kubernetes.io/role/internal-elb"] == "1"])
    error_message = "Private subnets carry the internal load balancer tag."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3 && length(aws_eip.nat) == 3 && length(aws_route.private_nat) == 3
    error_message = "One NAT gateway per zone by default."
  }
  assert {
    condition     = length(aws_route_table.private) == 3 && length(aws_route_table.public) == 1
    error_message = "One private route table per zone, one public route table."
  }
}

run "default_node_group" {
  command = plan

  assert {
    condition     = keys(aws_eks_node_group.this) == ["default"]
    error_message = "One node group named default."
  }
  assert {
    condition = (
      aws_eks_node_group.this["default"].scaling_config[0].min_size == 2 &&
      aws_eks_node_group.this["default"].scaling_config[0].max_size == 6 &&
      aws_eks_node_group.this["default"].scaling_config[0].desired_size == 3
    )
    error_message = "Default scaling is 2..6, starting at 3."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].instance_types == tolist(["m6i.large"]) && aws_eks_node_group.this["default"].capacity_type == "ON_DEMAND"
    error_message = "Default instances are on-demand m6i.large."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].ami_type == "AL2023_x86_64_STANDARD" && aws_eks_node_group.this["default"].version == "1.33"
    error_message = "Nodes run Amazon Linux 2023 at the cluster's version."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].update_config[0].max_unavailable_percentage == 33
    error_message = "Rolling updates replace a third of the nodes at a time."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].labels["jke/node-group"] == "default"
    error_message = "Nodes are labelled with their group."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].tags["k8s.io/cluster-autoscaler/enabled"] == "true"
    error_message = "Node groups are tagged for cluster autoscaler discovery."
  }
  assert {
    condition = (
      aws_launch_template.node["default"].block_device_mappings[0].ebs[0].volume_size == 50 &&
      aws_launch_template.node["default"].block_device_mappings[0].ebs[0].volume_type == "gp3" &&
      aws_launch_template.node["default"].block_device_mappings[0].ebs[0].encrypted == "true" &&
      aws_launch_template.node["default"].block_device_mappings[0].device_name == "/dev/xvda"
    )
    error_message = "Nodes get an encrypted 50 GiB gp3 root volume."
  }
  assert {
    condition     = aws_launch_template.node["default"].metadata_options[0].http_tokens == "required"
    error_message = "Nodes allow IMDSv2 only."
  }
  assert {
    condition     = aws_launch_template.node["default"].metadata_options[0].http_put_response_hop_limit == 1
    error_message = "Instance metadata answers one hop only: pods cannot take the node role's credentials."
  }
}

run "iam_trust_and_policies" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.cluster.assume_role_policy).Statement[0].Principal.Service == "eks.amazonaws.com"
    error_message = "The control-plane role trusts eks.amazonaws.com."
  }
  assert {
    condition     = jsondecode(aws_iam_role.node.assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "The node role trusts ec2.amazonaws.com."
  }
  assert {
    condition     = aws_iam_role.cluster.name == "payments-eks-cluster" && aws_iam_role.node.name == "payments-eks-node"
    error_message = "Role names derive from the cluster name."
  }
  assert {
    condition     = keys(aws_iam_role_policy_attachment.cluster) == ["AmazonEKSClusterPolicy"]
    error_message = "Without Auto Mode the control plane needs only AmazonEKSClusterPolicy."
  }
  assert {
    condition = toset(keys(aws_iam_role_policy_attachment.node)) == toset([
      "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy", "AmazonSSMManagedInstanceCore",
    ])
    error_message = "Node role policies for managed node groups."
  }
  assert {
    condition     = aws_iam_role_policy_attachment.node["AmazonEKSWorkerNodePolicy"].policy_arn == "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
    error_message = "Policy ARNs use the partition."
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.this) == 1 && aws_iam_openid_connect_provider.this[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "An OIDC provider for IRSA is created, for the STS audience."
  }
  assert {
    condition     = jsondecode(output.pod_identity_assume_role_policy).Statement[0].Principal.Service == "pods.eks.amazonaws.com"
    error_message = "The pod identity trust policy output trusts pods.eks.amazonaws.com."
  }
}

# Computed values (endpoint, CA, ARN) only exist after apply; the mocked apply creates
# nothing real and shows the outputs a provider block uses.
run "outputs_for_a_provider_block" {
  command = apply

  override_resource {
    target = aws_eks_cluster.this
    values = {
      arn                   = "arn:aws:eks:eu-west-1:111122223333:cluster/payments"
      endpoint              = "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com"
      certificate_authority = [{ data = "LS0tLS1CRUdJTi0tLS0t" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF" }] }]
      vpc_config = {
        cluster_security_group_id = "sg-0123456789abcdef0"
        vpc_id                    = "vpc-00000000000000001"
      }
    }
  }
  override_resource {
    target = aws_iam_openid_connect_provider.this
    values = {
      arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
    }
  }

  assert {
    condition     = output.cluster_name == "payments" && output.region == "eu-west-1" && output.environment == "prod"
    error_message = "cluster_name, region and environment outputs."
  }
  assert {
    condition     = output.cluster_endpoint == "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com" && output.cluster_certificate_authority_data == "LS0tLS1CRUdJTi0tLS0t"
    error_message = "endpoint and CA outputs."
  }
  assert {
    condition     = output.oidc_issuer_url == "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF" && endswith(output.oidc_provider_arn, "oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF")
    error_message = "OIDC outputs."
  }
  assert {
    condition     = output.cluster_security_group_id == "sg-0123456789abcdef0" && output.node_security_group_id == "sg-0123456789abcdef0"
    error_message = "Security group outputs."
  }
  assert {
    condition     = length(output.private_subnet_ids) == 3 && length(output.public_subnet_ids) == 3 && output.vpc_id == aws_vpc.this[0].id
    error_message = "Network outputs."
  }
  assert {
    condition     = output.node_role_arn == aws_iam_role.node.arn && output.kms_key_arn == aws_kms_key.this[0].arn
    error_message = "Role and key outputs."
  }
  assert {
    condition = toset(jsondecode(aws_iam_role_policy.cluster_kms.policy).Statement[0].Action) == toset(
      ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    )
    error_message = "The control-plane role must be allowed to use the key."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.cluster_kms.policy).Statement[0].Resource == aws_kms_key.this[0].arn
    error_message = "The control-plane role may use the cluster's key only."
  }
}
