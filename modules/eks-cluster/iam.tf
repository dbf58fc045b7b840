################################################################################
# IAM roles of the control plane and of the nodes
#
# Policies are written with jsonencode (not the aws_iam_policy_document data source) so
# that plans, and the module's tests, show the exact documents.
################################################################################

locals {
  policy_arn_prefix = "arn:${local.partition}:iam::aws:policy"

  cluster_role_policies = merge(
    { AmazonEKSClusterPolicy = "${local.policy_arn_prefix}/AmazonEKSClusterPolicy" },
    var.auto_mode ? {
      AmazonEKSComputePolicy       = "${local.policy_arn_prefix}/AmazonEKSComputePolicy"
      AmazonEKSBlockStoragePolicy  = "${local.policy_arn_prefix}/AmazonEKSBlockStoragePolicy"
      AmazonEKSLoadBalancingPolicy = "${local.policy_arn_prefix}/AmazonEKSLoadBalancingPolicy"
      AmazonEKSNetworkingPolicy    = "${local.policy_arn_prefix}/AmazonEKSNetworkingPolicy"
    } : {},
  )

  # Auto Mode nodes need less than managed node group nodes (AWS runs their CNI); a
  # cluster with both gets both sets.
  node_role_policies = merge(
    var.auto_mode ? {
      AmazonEKSWorkerNodeMinimalPolicy   = "${local.policy_arn_prefix}/AmazonEKSWorkerNodeMinimalPolicy"
      AmazonEC2ContainerRegistryPullOnly = "${local.policy_arn_prefix}/AmazonEC2ContainerRegistryPullOnly"
    } : {},
    length(local.node_groups) > 0 ? {
      AmazonEKSWorkerNodePolicy          = "${local.policy_arn_prefix}/AmazonEKSWorkerNodePolicy"
      AmazonEC2ContainerRegistryReadOnly = "${local.policy_arn_prefix}/AmazonEC2ContainerRegistryReadOnly"
    } : {},
    var.attach_cni_policy_to_node_role && length(local.node_groups) > 0 ? {
      AmazonEKS_CNI_Policy = "${local.policy_arn_prefix}/AmazonEKS_CNI_Policy"
    } : {},
    var.node_ssm_access ? {
      AmazonSSMManagedInstanceCore = "${local.policy_arn_prefix}/AmazonSSMManagedInstanceCore"
    } : {},
  )
}

resource "aws_iam_role" "cluster" {
  name        = "${var.name}-eks-cluster"
  description = "EKS control plane of cluster ${var.name}"

  # sts:TagSession is required by Auto Mode and harmless otherwise.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EKSClusterAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each = local.cluster_role_policies

  role       = aws_iam_role.cluster.name
  policy_arn = each.value
}

# The control plane encrypts and decrypts Secrets with the cluster's KMS key.
resource "aws_iam_role_policy" "cluster_kms" {
  name = "secrets-encryption"
  role = aws_iam_role.cluster.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SecretsEnvelopeEncryption"
      Effect   = "Allow"
      Action   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
      Resource = local.kms_key_arn
    }]
  })
}

resource "aws_iam_role" "node" {
  name        = "${var.name}-eks-node"
  description = "Nodes of EKS cluster ${var.name}"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EC2AssumeRole"
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = ["sts:AssumeRole"]
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = local.node_role_policies

  role       = aws_iam_role.node.name
  policy_arn = each.value
}

# VPC flow logs to CloudWatch Logs: the service assumes this role only for flow logs of
# this account, and may only create streams and write events in the module's log group.
resource "aws_iam_role" "flow_logs" {
  count = local.flow_logs_to_cloudwatch ? 1 : 0

  name        = "${var.name}-vpc-flow-logs"
  description = "VPC flow logs of EKS cluster ${var.name} to CloudWatch Logs"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "VPCFlowLogsAssumeRole"
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = ["sts:AssumeRole"]
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account_id }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ec2:*:${local.account_id}:vpc-flow-log/*" }
      }
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  count = local.flow_logs_to_cloudwatch ? 1 : 0

  name = "write-flow-logs"
  role = aws_iam_role.flow_logs[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteFlowLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      Resource = [aws_cloudwatch_log_group.flow_logs[0].arn, "${aws_cloudwatch_log_group.flow_logs[0].arn}:*"]
    }]
  })
}
