# The locked-down defaults (issue 13) and the inputs that change them: a private API
# endpoint, IMDS out of pods' reach, the created VPC's default security group emptied, VPC
# flow logs, and an explicit key policy on the Secrets key.
#
# Policies and ARNs of created resources are only known after apply, so the runs that read
# them apply against the mocked provider (nothing real is created).

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
      names = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
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
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/payments/flow-logs"
    }
  }
  # What an apply run needs of the cluster: outputs index into these.
  mock_resource "aws_eks_cluster" {
    defaults = {
      arn                   = "arn:aws:eks:eu-west-1:111122223333:cluster/payments"
      certificate_authority = [{ data = "LS0tLS1CRUdJTi0tLS0t" }]
      identity              = [{ oidc = [{ issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF" }] }]
    }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF"
    }
  }
}

variables {
  name               = "payments"
  environment        = "prod"
  kubernetes_version = "1.33"
}

################################################################################
# Kubernetes API endpoint
################################################################################

run "api_endpoint_is_private_by_default" {
  command = plan

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access == false
    error_message = "No public API endpoint unless endpoint_public_access = true."
  }
  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_private_access == true
    error_message = "The private endpoint is on, so nodes and the VPC reach the API."
  }
}

run "public_endpoint_opens_to_the_given_cidrs_only" {
  command = plan

  variables {
    endpoint_public_access = true
    public_access_cidrs    = ["203.0.113.0/24", "198.51.100.7/32"]
  }

  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].endpoint_public_access && aws_eks_cluster.this.vpc_config[0].endpoint_private_access
    error_message = "Public endpoint on, private endpoint still on."
  }
  assert {
    condition     = aws_eks_cluster.this.vpc_config[0].public_access_cidrs == toset(["203.0.113.0/24", "198.51.100.7/32"])
    error_message = "The public endpoint allows exactly public_access_cidrs."
  }
}

run "public_endpoint_without_cidrs_is_refused" {
  command = plan

  variables {
    endpoint_public_access = true
  }

  expect_failures = [aws_eks_cluster.this]
}

run "public_cidrs_without_the_public_endpoint_are_refused" {
  command = plan

  # An upgrade from a release whose endpoint was public by default: the CIDRs alone no
  # longer open it, and the plan says so instead of silently closing the endpoint.
  variables {
    public_access_cidrs = ["203.0.113.0/24"]
  }

  expect_failures = [aws_eks_cluster.this]
}

################################################################################
# Instance metadata of the nodes
################################################################################

run "every_node_group_answers_imds_one_hop_only" {
  command = plan

  variables {
    node_groups = {
      general = {}
      spot    = { capacity_type = "SPOT", instance_types = ["m6i.xlarge", "m5.xlarge"] }
      arm     = { ami_type = "BOTTLEROCKET_ARM_64" }
    }
  }

  assert {
    condition     = toset(keys(aws_launch_template.node)) == toset(["general", "spot", "arm"])
    error_message = "Every node group has its own launch template."
  }
  assert {
    condition = alltrue([for t in aws_launch_template.node : (
      t.metadata_options[0].http_endpoint == "enabled" &&
      t.metadata_options[0].http_tokens == "required" &&
      t.metadata_options[0].http_put_response_hop_limit == 1
    )])
    error_message = "Every node group requires IMDSv2 with a hop limit of 1."
  }
}

run "node_metadata_hop_limit_2_lets_pods_reach_imds" {
  command = plan

  variables {
    node_metadata_hop_limit = 2
  }

  assert {
    condition     = aws_launch_template.node["default"].metadata_options[0].http_put_response_hop_limit == 2 && aws_launch_template.node["default"].metadata_options[0].http_tokens == "required"
    error_message = "node_metadata_hop_limit sets the hop limit; IMDSv2 stays required."
  }
}

################################################################################
# The created VPC's default security group
################################################################################

run "default_security_group_is_adopted_without_rules" {
  command = plan

  assert {
    condition     = length(aws_default_security_group.this) == 1
    error_message = "The created VPC's default security group is managed by the module."
  }
  assert {
    condition     = aws_default_security_group.this[0].tags["Name"] == "payments-default-no-rules" && aws_default_security_group.this[0].tags["jke/environment"] == "prod"
    error_message = "The emptied default security group says so in its name and carries the environment tag."
  }
}

run "restrict_default_security_group_false_leaves_it_alone" {
  command = plan

  variables {
    restrict_default_security_group = false
  }

  assert {
    condition     = length(aws_default_security_group.this) == 0
    error_message = "restrict_default_security_group = false keeps AWS's default rules."
  }
}

run "an_existing_vpc_keeps_its_default_group_and_flow_logs" {
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
    condition     = length(aws_default_security_group.this) == 0 && length(aws_flow_log.this) == 0 && length(aws_iam_role.flow_logs) == 0
    error_message = "The module changes neither the default security group nor the flow logs of a VPC it did not create."
  }
}

################################################################################
# VPC flow logs
################################################################################

run "flow_logs_go_to_cloudwatch_by_default" {
  command = apply

  assert {
    condition     = length(aws_flow_log.this) == 1 && aws_flow_log.this[0].vpc_id == aws_vpc.this[0].id
    error_message = "The created VPC has a flow log."
  }
  assert {
    condition     = aws_flow_log.this[0].traffic_type == "ALL" && aws_flow_log.this[0].max_aggregation_interval == 600
    error_message = "Accepted and rejected traffic, aggregated over 10 minutes."
  }
  assert {
    condition     = aws_flow_log.this[0].log_destination_type == "cloud-watch-logs" && aws_flow_log.this[0].log_destination == aws_cloudwatch_log_group.flow_logs[0].arn
    error_message = "Flow logs go to the module's log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs[0].name == "/aws/vpc/payments/flow-logs" && aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 365
    error_message = "The flow log group is /aws/vpc/<name>/flow-logs, kept 365 days."
  }
  assert {
    condition     = aws_flow_log.this[0].iam_role_arn == aws_iam_role.flow_logs[0].arn && aws_iam_role.flow_logs[0].name == "payments-vpc-flow-logs"
    error_message = "The flow log writes through the module's role."
  }
  assert {
    condition     = output.flow_log_id == aws_flow_log.this[0].id && output.flow_log_group_name == "/aws/vpc/payments/flow-logs"
    error_message = "Outputs name the flow log and its group."
  }
}

run "flow_log_role_is_least_privilege" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Principal == { Service = "vpc-flow-logs.amazonaws.com" }
    error_message = "Only the VPC flow logs service may assume the role."
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "The service may assume it only for flow logs of this account (confused deputy)."
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:ec2:*:111122223333:vpc-flow-log/*"
    error_message = "The source must be a flow log of this account."
  }
  assert {
    condition     = toset(jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement[0].Action) == toset(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"])
    error_message = "The role may create streams and write events, nothing else (no log group creation, no reads)."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement[0].Resource == [
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/payments/flow-logs",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/vpc/payments/flow-logs:*",
    ]
    error_message = "The role may write to the flow log group and its streams only."
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement) == 1
    error_message = "One statement: nothing beyond writing flow logs."
  }
}

run "flow_logs_to_s3" {
  command = plan

  variables {
    flow_logs_destination_type   = "s3"
    flow_logs_s3_destination_arn = "arn:aws:s3:::shared-flow-logs/payments"
  }

  assert {
    condition     = aws_flow_log.this[0].log_destination_type == "s3" && aws_flow_log.this[0].log_destination == "arn:aws:s3:::shared-flow-logs/payments"
    error_message = "Flow logs go to the given bucket and folder."
  }
  assert {
    condition     = aws_flow_log.this[0].iam_role_arn == null && length(aws_iam_role.flow_logs) == 0 && length(aws_iam_role_policy.flow_logs) == 0
    error_message = "S3 delivery needs no role (the bucket policy allows the log delivery service)."
  }
  assert {
    condition     = length(aws_cloudwatch_log_group.flow_logs) == 0 && output.flow_log_group_name == null
    error_message = "No flow log group for S3 delivery."
  }
}

run "flow_logs_to_s3_need_a_bucket" {
  command = plan

  variables {
    flow_logs_destination_type = "s3"
  }

  expect_failures = [aws_flow_log.this]
}

run "flow_logs_options" {
  command = plan

  variables {
    flow_logs_traffic_type             = "REJECT"
    flow_logs_max_aggregation_interval = 60
    flow_logs_retention_in_days        = 90
    flow_logs_kms_key_arn              = "arn:aws:kms:eu-west-1:111122223333:key/99999999-8888-7777-6666-555555555555"
  }

  assert {
    condition     = aws_flow_log.this[0].traffic_type == "REJECT" && aws_flow_log.this[0].max_aggregation_interval == 60
    error_message = "flow_logs_traffic_type and flow_logs_max_aggregation_interval are passed on."
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 90 && aws_cloudwatch_log_group.flow_logs[0].kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/99999999-8888-7777-6666-555555555555"
    error_message = "flow_logs_retention_in_days and flow_logs_kms_key_arn apply to the flow log group."
  }
}

run "flow_logs_enabled_false" {
  command = plan

  variables {
    flow_logs_enabled = false
  }

  assert {
    condition     = length(aws_flow_log.this) == 0 && length(aws_cloudwatch_log_group.flow_logs) == 0 && length(aws_iam_role.flow_logs) == 0
    error_message = "No flow log, log group or role with flow_logs_enabled = false."
  }
  assert {
    condition     = output.flow_log_id == null && output.flow_log_group_name == null
    error_message = "Flow log outputs are null when off."
  }
}

################################################################################
# Key policy of the Secrets key
################################################################################

run "secrets_key_policy_separates_administration_from_use" {
  command = apply

  assert {
    condition     = [for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Sid] == ["KeyAdministration", "ClusterSecretsEnvelopeEncryption"]
    error_message = "Two statements: the administrators', and the control plane's use."
  }
  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[0].Principal.AWS == ["arn:aws:iam::111122223333:root"]
    error_message = "By default the account administers the key, through IAM policies."
  }
  assert {
    condition = length(setintersection(
      toset(jsondecode(aws_kms_key.this[0].policy).Statement[0].Action),
      toset(["kms:*", "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]),
    )) == 0
    error_message = "Administrators may not encrypt or decrypt with the key."
  }
  assert {
    condition     = contains(jsondecode(aws_kms_key.this[0].policy).Statement[0].Action, "kms:PutKeyPolicy") && contains(jsondecode(aws_kms_key.this[0].policy).Statement[0].Action, "kms:ScheduleKeyDeletion") && contains(jsondecode(aws_kms_key.this[0].policy).Statement[0].Action, "kms:CreateGrant")
    error_message = "Administrators can change the policy, delete the key and let EKS create its grant."
  }
  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[1].Principal.AWS == aws_iam_role.cluster.arn
    error_message = "Only the control-plane role uses the key."
  }
  assert {
    condition     = toset(jsondecode(aws_kms_key.this[0].policy).Statement[1].Action) == toset(["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"])
    error_message = "The control plane may encrypt and decrypt Secrets' data keys."
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_kms_key.this[0].policy).Statement : s.Effect == "Allow" && can(s.Principal.AWS) && !contains(flatten([s.Principal.AWS]), "*")])
    error_message = "No statement names a wildcard principal."
  }
}

run "kms_key_administrator_arns" {
  command = apply

  variables {
    kms_key_administrator_arns = ["arn:aws:iam::111122223333:role/platform-admin", "arn:aws:iam::111122223333:role/ci-deployer"]
  }

  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[0].Principal.AWS == ["arn:aws:iam::111122223333:role/platform-admin", "arn:aws:iam::111122223333:role/ci-deployer"]
    error_message = "The given principals, not the whole account, administer the key."
  }
}

run "kms_key_account_wide_access_restores_the_default_key_policy" {
  command = apply

  variables {
    kms_key_account_wide_access = true
  }

  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[0].Sid == "AccountIAMPolicies" && jsondecode(aws_kms_key.this[0].policy).Statement[0].Action == ["kms:*"]
    error_message = "The account's IAM policies may grant any KMS action, as with AWS's default key policy."
  }
  assert {
    condition     = jsondecode(aws_kms_key.this[0].policy).Statement[0].Principal.AWS == ["arn:aws:iam::111122223333:root"]
    error_message = "The account (its IAM policies) is the principal."
  }
}

run "a_given_key_keeps_its_own_policy" {
  command = plan

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0
    error_message = "The module writes no policy on a key it did not create."
  }
}
