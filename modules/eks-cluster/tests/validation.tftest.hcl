# Every validation rejects bad input at plan time, with a message saying what is accepted.
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

run "name_must_fit_iam_role_names" {
  command = plan

  variables {
    name = "this-cluster-name-is-far-too-long-for-iam"
  }

  expect_failures = [var.name]
}

run "name_must_start_with_a_letter" {
  command = plan

  variables {
    name = "1cluster"
  }

  expect_failures = [var.name]
}

run "environment_must_be_lowercase" {
  command = plan

  variables {
    environment = "Prod"
  }

  expect_failures = [var.environment]
}

run "kubernetes_version_is_major_minor" {
  command = plan

  variables {
    kubernetes_version = "1.33.1"
  }

  expect_failures = [var.kubernetes_version]
}

run "vpc_id_format" {
  command = plan

  variables {
    vpc_id = "my-vpc"
  }

  expect_failures = [var.vpc_id]
}

run "subnet_id_format" {
  command = plan

  variables {
    subnet_ids = ["private-a"]
  }

  expect_failures = [var.subnet_ids]
}

run "vpc_cidr_prefix_range" {
  command = plan

  variables {
    vpc_cidr = "10.0.0.0/24"
  }

  expect_failures = [var.vpc_cidr]
}

run "availability_zone_count_two_or_three" {
  command = plan

  variables {
    availability_zone_count = 4
  }

  expect_failures = [var.availability_zone_count]
}

run "availability_zones_distinct" {
  command = plan

  variables {
    availability_zones = ["eu-west-1a", "eu-west-1a"]
  }

  expect_failures = [var.availability_zones]
}

run "nat_gateway_mode_values" {
  command = plan

  variables {
    nat_gateway_mode = "per_subnet"
  }

  expect_failures = [var.nat_gateway_mode]
}

run "public_access_cidrs_are_cidrs" {
  command = plan

  variables {
    public_access_cidrs = ["office"]
  }

  expect_failures = [var.public_access_cidrs]
}

run "private_access_cidrs_are_cidrs" {
  command = plan

  variables {
    private_access_cidrs = ["10.0.0.0/33"]
  }

  expect_failures = [var.private_access_cidrs]
}

run "service_cidr_is_a_cidr" {
  command = plan

  variables {
    service_ipv4_cidr = "172.20.0.0"
  }

  expect_failures = [var.service_ipv4_cidr]
}

run "upgrade_support_type_values" {
  command = plan

  variables {
    upgrade_support_type = "LONG"
  }

  expect_failures = [var.upgrade_support_type]
}

run "kms_key_arn_format" {
  command = plan

  variables {
    kms_key_arn = "alias/eks"
  }

  expect_failures = [var.kms_key_arn]
}

run "kms_deletion_window_range" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 3
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "log_types_known" {
  command = plan

  variables {
    cluster_log_types = ["api", "kubelet"]
  }

  expect_failures = [var.cluster_log_types]
}

run "log_retention_cloudwatch_values" {
  command = plan

  variables {
    cluster_log_retention_in_days = 100
  }

  expect_failures = [var.cluster_log_retention_in_days]
}

run "log_kms_key_arn_format" {
  command = plan

  variables {
    cluster_log_kms_key_arn = "key"
  }

  expect_failures = [var.cluster_log_kms_key_arn]
}

run "admin_principals_are_iam_arns" {
  command = plan

  variables {
    admin_principal_arns = ["alice"]
  }

  expect_failures = [var.admin_principal_arns]
}

run "readonly_principals_are_iam_arns" {
  command = plan

  variables {
    readonly_principal_arns = ["arn:aws:iam::111122223333:group/devs"]
  }

  expect_failures = [var.readonly_principal_arns]
}

run "access_entry_policy_is_a_name" {
  command = plan

  variables {
    access_entries = { a = { principal_arn = "arn:aws:iam::111122223333:role/a", policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy" } }
  }

  expect_failures = [var.access_entries]
}

run "pod_identity_role_is_an_arn" {
  command = plan

  variables {
    pod_identity_associations = { a = { namespace = "a", service_account = "a", role_arn = "a" } }
  }

  expect_failures = [var.pod_identity_associations]
}

run "auto_mode_node_pools_known" {
  command = plan

  variables {
    auto_mode_node_pools = ["gpu"]
  }

  expect_failures = [var.auto_mode_node_pools]
}

run "node_group_key_format" {
  command = plan

  variables {
    node_groups = { Default = {} }
  }

  expect_failures = [var.node_groups]
}

run "node_group_capacity_type" {
  command = plan

  variables {
    node_groups = { a = { capacity_type = "RESERVED" } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_sizes_ordered" {
  command = plan

  variables {
    node_groups = { a = { min_size = 3, desired_size = 2, max_size = 6 } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_needs_instance_types" {
  command = plan

  variables {
    node_groups = { a = { instance_types = [] } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_disk_size_range" {
  command = plan

  variables {
    node_groups = { a = { disk_size = 10 } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_ami_type_known" {
  command = plan

  variables {
    node_groups = { a = { ami_type = "UBUNTU" } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_taint_effect" {
  command = plan

  variables {
    node_groups = { a = { taints = [{ key = "k", effect = "NoSchedule" }] } }
  }

  expect_failures = [var.node_groups]
}

run "node_group_max_unavailable_range" {
  command = plan

  variables {
    node_groups = { a = { max_unavailable_percentage = 0 } }
  }

  expect_failures = [var.node_groups]
}

run "an_endpoint_must_be_reachable" {
  command = plan

  variables {
    endpoint_public_access  = false
    endpoint_private_access = false
  }

  expect_failures = [aws_eks_cluster.this]
}

run "flow_logs_destination_type_values" {
  command = plan

  variables {
    flow_logs_destination_type = "kinesis-data-firehose"
  }

  expect_failures = [var.flow_logs_destination_type]
}

run "flow_logs_s3_destination_is_a_bucket_arn" {
  command = plan

  variables {
    flow_logs_destination_type   = "s3"
    flow_logs_s3_destination_arn = "s3://shared-flow-logs/payments"
  }

  expect_failures = [var.flow_logs_s3_destination_arn]
}

run "flow_logs_traffic_type_values" {
  command = plan

  variables {
    flow_logs_traffic_type = "DENY"
  }

  expect_failures = [var.flow_logs_traffic_type]
}

run "flow_logs_aggregation_interval_values" {
  command = plan

  variables {
    flow_logs_max_aggregation_interval = 300
  }

  expect_failures = [var.flow_logs_max_aggregation_interval]
}

run "flow_logs_retention_cloudwatch_values" {
  command = plan

  variables {
    flow_logs_retention_in_days = 100
  }

  expect_failures = [var.flow_logs_retention_in_days]
}

run "flow_logs_kms_key_arn_format" {
  command = plan

  variables {
    flow_logs_kms_key_arn = "alias/flow-logs"
  }

  expect_failures = [var.flow_logs_kms_key_arn]
}

run "kms_key_administrators_are_iam_arns" {
  command = plan

  variables {
    kms_key_administrator_arns = ["platform-admin"]
  }

  expect_failures = [var.kms_key_administrator_arns]
}

run "node_metadata_hop_limit_range" {
  command = plan

  variables {
    node_metadata_hop_limit = 0
  }

  expect_failures = [var.node_metadata_hop_limit]
}
