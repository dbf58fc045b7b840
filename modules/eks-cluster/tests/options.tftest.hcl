# Non-default paths: an existing VPC, fewer zones and NAT gateways, access entries,
# Auto Mode, custom node groups, a given KMS key, IRSA off, private-only endpoint.

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
  name               = "orders"
  environment        = "stg"
  kubernetes_version = "1.32"
}

run "existing_vpc_creates_no_network" {
  command = plan

  variables {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  }

  override_data {
    target = data.aws_vpc.given
    values = {
      cidr_block = "172.31.0.0/16"
    }
  }

  assert {
    condition     = length(aws_vpc.this) == 0 && length(aws_subnet.private) == 0 && length(aws_subnet.public) == 0 && length(aws_nat_gateway.this) == 0
    error_message = "No network resources are created for a given VPC."
  }
  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].subnet_ids == toset(["subnet-0000000000000000a", "subnet-0000000000000000b"])
    error_message = "The control plane uses the given subnets."
  }
  assert {
    condition     = aws_eks_node_group.this["default"].subnet_ids == toset(["subnet-0000000000000000a", "subnet-0000000000000000b"])
    error_message = "Nodes run in the given subnets."
  }
  assert {
    condition     = aws_security_group.control_plane.vpc_id == "vpc-0123456789abcdef0" && aws_vpc_security_group_ingress_rule.control_plane_https["vpc"].cidr_ipv4 == "172.31.0.0/16" && length(aws_vpc_security_group_ingress_rule.control_plane_https) == 1
    error_message = "The control plane security group is in the given VPC and allows HTTPS from its CIDR."
  }
  assert {
    condition     = output.vpc_id == "vpc-0123456789abcdef0" && output.private_subnet_ids == tolist(["subnet-0000000000000000a", "subnet-0000000000000000b"]) && length(output.public_subnet_ids) == 0
    error_message = "Network outputs echo the given VPC."
  }
}

run "existing_vpc_needs_two_subnets" {
  command = plan

  variables {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0000000000000000a"]
  }

  override_data {
    target = data.aws_vpc.given
    values = {
      cidr_block = "172.31.0.0/16"
    }
  }

  expect_failures = [aws_eks_cluster.this]
}

run "vpc_id_without_subnets_is_rejected" {
  command = plan

  variables {
    vpc_id = "vpc-0123456789abcdef0"
  }

  expect_failures = [aws_vpc.this[0]]
}

run "subnets_without_vpc_id_are_rejected" {
  command = plan

  variables {
    subnet_ids = ["subnet-0000000000000000a", "subnet-0000000000000000b"]
  }

  override_data {
    target = data.aws_vpc.given
    values = {
      cidr_block = "172.31.0.0/16"
    }
  }

  expect_failures = [aws_eks_cluster.this]
}

run "two_zones_single_nat" {
  command = plan

  variables {
    availability_zone_count = 2
    nat_gateway_mode        = "single"
    vpc_cidr                = "10.20.0.0/20"
  }

  assert {
    condition     = [for s in aws_subnet.private : s.cidr_block] == ["10.20.0.0/22", "10.20.4.0/22"] && [for s in aws_subnet.public : s.cidr_block] == ["10.20.12.0/26", "10.20.12.64/26"]
    error_message = "Two zones: two private and two public subnets carved from the VPC CIDR."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1 && length(aws_route.private_nat) == 2
    error_message = "A single NAT gateway serves both private route tables."
  }
}

run "given_zones_and_no_nat" {
  command = plan

  variables {
    availability_zones = ["eu-west-1b", "eu-west-1c"]
    nat_gateway_mode   = "none"
  }

  assert {
    condition     = [for s in aws_subnet.private : s.availability_zone] == ["eu-west-1b", "eu-west-1c"]
    error_message = "Subnets go to the given zones."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0 && length(aws_eip.nat) == 0
    error_message = "No NAT gateway and no default route for private subnets."
  }
}

run "access_entries" {
  command = plan

  variables {
    cluster_creator_admin   = false
    admin_principal_arns    = ["arn:aws:iam::111122223333:role/platform-admin"]
    readonly_principal_arns = ["arn:aws:iam::111122223333:role/developers"]
    access_entries = {
      team-a = {
        principal_arn = "arn:aws:iam::111122223333:role/team-a"
        policy        = "AmazonEKSEditPolicy"
        namespaces    = ["team-a"]
      }
    }
  }

  assert {
    condition     = aws_eks_cluster.this.access_config[0].bootstrap_cluster_creator_admin_permissions == false
    error_message = "cluster_creator_admin = false is passed to EKS."
  }
  assert {
    condition     = length(aws_eks_access_entry.this) == 3 && alltrue([for e in aws_eks_access_entry.this : e.type == "STANDARD" && e.cluster_name == "orders"])
    error_message = "One standard access entry per principal."
  }
  assert {
    condition = (
      aws_eks_access_policy_association.this["admin:arn:aws:iam::111122223333:role/platform-admin"].policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" &&
      aws_eks_access_policy_association.this["admin:arn:aws:iam::111122223333:role/platform-admin"].access_scope[0].type == "cluster"
    )
    error_message = "Admins get AmazonEKSClusterAdminPolicy cluster-wide."
  }
  assert {
    condition = (
      aws_eks_access_policy_association.this["readonly:arn:aws:iam::111122223333:role/developers"].policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy" &&
      aws_eks_access_policy_association.this["readonly:arn:aws:iam::111122223333:role/developers"].access_scope[0].type == "cluster"
    )
    error_message = "Read-only principals get AmazonEKSViewPolicy cluster-wide."
  }
  assert {
    condition = (
      aws_eks_access_policy_association.this["team-a"].policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy" &&
      aws_eks_access_policy_association.this["team-a"].access_scope[0].type == "namespace" &&
      aws_eks_access_policy_association.this["team-a"].access_scope[0].namespaces == toset(["team-a"])
    )
    error_message = "A namespaced entry is scoped to its namespaces."
  }
}

run "auto_mode" {
  command = plan

  variables {
    auto_mode = true
  }

  assert {
    condition     = aws_eks_cluster.this.compute_config[0].enabled && aws_eks_cluster.this.compute_config[0].node_pools == toset(["general-purpose", "system"])
    error_message = "Auto Mode compute with both built-in node pools."
  }
  assert {
    condition     = aws_eks_cluster.this.storage_config[0].block_storage[0].enabled && aws_eks_cluster.this.kubernetes_network_config[0].elastic_load_balancing[0].enabled
    error_message = "Auto Mode block storage and load balancing are on."
  }
  assert {
    condition     = aws_eks_cluster.this.bootstrap_self_managed_addons == false
    error_message = "Auto Mode clusters skip the self-managed networking add-ons."
  }
  assert {
    condition     = length(aws_eks_node_group.this) == 0 && length(aws_launch_template.node) == 0
    error_message = "No managed node group by default in Auto Mode."
  }
  assert {
    condition = toset(keys(aws_iam_role_policy_attachment.cluster)) == toset([
      "AmazonEKSClusterPolicy", "AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy",
    ])
    error_message = "The control plane role gets the Auto Mode policies."
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy_attachment.node)) == toset(["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"])
    error_message = "Auto Mode nodes get the minimal node policies and no CNI policy."
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role.cluster.assume_role_policy).Statement[0].Action, "sts:TagSession")
    error_message = "Auto Mode needs sts:TagSession in the control plane's trust policy."
  }
}

run "custom_node_groups" {
  command = plan

  variables {
    attach_cni_policy_to_node_role = false
    node_ssm_access                = false
    node_groups = {
      general = {}
      spot = {
        instance_types = ["m6i.xlarge", "m5.xlarge"]
        capacity_type  = "SPOT"
        min_size       = 0
        desired_size   = 0
        max_size       = 20
        disk_size      = 100
        labels         = { workload = "batch" }
        taints         = [{ key = "workload", value = "batch", effect = "NO_SCHEDULE" }]
        subnet_ids     = ["subnet-0000000000000000c"]
      }
      bottlerocket = {
        ami_type = "BOTTLEROCKET_ARM_64"
      }
    }
  }

  assert {
    condition     = toset(keys(aws_eks_node_group.this)) == toset(["general", "spot", "bottlerocket"])
    error_message = "One node group per key."
  }
  assert {
    condition = (
      aws_eks_node_group.this["spot"].capacity_type == "SPOT" &&
      aws_eks_node_group.this["spot"].instance_types == tolist(["m6i.xlarge", "m5.xlarge"]) &&
      aws_eks_node_group.this["spot"].scaling_config[0].min_size == 0 &&
      aws_eks_node_group.this["spot"].scaling_config[0].max_size == 20
    )
    error_message = "Spot group settings."
  }
  assert {
    condition     = aws_eks_node_group.this["spot"].labels == tomap({ workload = "batch", "jke/node-group" = "spot" })
    error_message = "Labels are passed through, plus the group label."
  }
  assert {
    condition     = [for t in aws_eks_node_group.this["spot"].taint : "${t.key}=${t.value}:${t.effect}"] == ["workload=batch:NO_SCHEDULE"]
    error_message = "Taints are passed through."
  }
  assert {
    condition     = aws_eks_node_group.this["spot"].subnet_ids == toset(["subnet-0000000000000000c"])
    error_message = "A group may pin its subnets."
  }
  assert {
    condition     = aws_launch_template.node["spot"].block_device_mappings[0].ebs[0].volume_size == 100
    error_message = "disk_size sizes the root volume."
  }
  assert {
    condition     = aws_launch_template.node["bottlerocket"].block_device_mappings[0].device_name == "/dev/xvdb" && aws_eks_node_group.this["bottlerocket"].ami_type == "BOTTLEROCKET_ARM_64"
    error_message = "Bottlerocket groups size their data volume."
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy_attachment.node)) == toset(["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"])
    error_message = "CNI and SSM policies can be left off the node role."
  }
}

run "given_kms_key_irsa_off_private_endpoint" {
  command = plan

  variables {
    create_kms_key                = false
    kms_key_arn                   = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    enable_irsa                   = false
    endpoint_public_access        = false
    private_access_cidrs          = ["172.16.0.0/12"]
    cluster_log_types             = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    service_ipv4_cidr             = "172.20.0.0/16"
    upgrade_support_type          = "STANDARD"
    cluster_log_retention_in_days = 731
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_kms_alias.this) == 0
    error_message = "No key is created when one is given."
  }
  assert {
    condition     = aws_eks_cluster.this.encryption_config[0].provider[0].key_arn == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "Secrets are encrypted with the given key."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.cluster_kms.policy).Statement[0].Resource == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "The control plane may use the given key."
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.this) == 0 && output.oidc_provider_arn == null
    error_message = "No OIDC provider with enable_irsa = false."
  }
  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access == false && aws_eks_cluster.this.vpc_config[0].endpoint_private_access
    error_message = "Private-only endpoint."
  }
  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.control_plane_https : r.cidr_ipv4]) == toset(["10.0.0.0/16", "172.16.0.0/12"])
    error_message = "HTTPS to the private endpoint from the VPC and the extra CIDRs."
  }
  assert {
    condition     = length(aws_eks_cluster.this.enabled_cluster_log_types) == 5 && aws_cloudwatch_log_group.cluster.retention_in_days == 731
    error_message = "All five log types, kept two years."
  }
  assert {
    condition     = aws_eks_cluster.this.kubernetes_network_config[0].service_ipv4_cidr == "172.20.0.0/16" && aws_eks_cluster.this.upgrade_policy[0].support_type == "STANDARD"
    error_message = "Service CIDR and support policy are passed to EKS."
  }
}

run "given_kms_key_needs_create_kms_key_false" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  expect_failures = [aws_eks_cluster.this]
}

run "create_kms_key_false_needs_a_key" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [aws_eks_cluster.this]
}

run "pod_identity_associations" {
  command = plan

  variables {
    pod_identity_associations = {
      orders-api = {
        namespace       = "orders"
        service_account = "orders-api"
        role_arn        = "arn:aws:iam::111122223333:role/orders-api"
      }
    }
  }

  assert {
    condition = (
      aws_eks_pod_identity_association.this["orders-api"].namespace == "orders" &&
      aws_eks_pod_identity_association.this["orders-api"].service_account == "orders-api" &&
      aws_eks_pod_identity_association.this["orders-api"].role_arn == "arn:aws:iam::111122223333:role/orders-api"
    )
    error_message = "Pod identity associations are created as given."
  }
}
