data "aws_partition" "current" {}

# The account the cluster is created in: key policy principals and the flow log role's
# confused-deputy conditions name it.
data "aws_caller_identity" "current" {}

locals {
  partition        = data.aws_partition.current.partition
  account_id       = data.aws_caller_identity.current.account_id
  account_root_arn = "arn:${local.partition}:iam::${local.account_id}:root"

  # Every resource carries the environment, so cost reports and guards can filter on it.
  tags = merge(var.tags, {
    "jke/environment" = var.environment
    "jke/cluster"     = var.name
  })

  node_groups = var.node_groups != null ? var.node_groups : (var.auto_mode ? {} : { default = {
    instance_types             = ["m6i.large"]
    capacity_type              = "ON_DEMAND"
    ami_type                   = "AL2023_x86_64_STANDARD"
    min_size                   = 2
    max_size                   = 6
    desired_size               = 3
    disk_size                  = 50
    labels                     = {}
    taints                     = []
    subnet_ids                 = null
    max_unavailable_percentage = 33
  } })

  kms_key_arn = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  access_policy_arn_prefix = "arn:${local.partition}:eks::aws:cluster-access-policy"

  # admin_principal_arns, readonly_principal_arns and access_entries, as one map.
  access_entries = merge(
    { for arn in var.admin_principal_arns : "admin:${arn}" => {
      principal_arn     = arn
      policy            = "AmazonEKSClusterAdminPolicy"
      namespaces        = []
      kubernetes_groups = []
    } },
    { for arn in var.readonly_principal_arns : "readonly:${arn}" => {
      principal_arn     = arn
      policy            = "AmazonEKSViewPolicy"
      namespaces        = []
      kubernetes_groups = []
    } },
    var.access_entries,
  )
}

################################################################################
# Secrets encryption key
################################################################################

locals {
  # Who may manage the key (policy, rotation, aliases, deletion) but not use it: the given
  # principals, or the account, which then decides through IAM policies.
  kms_key_administrators = length(var.kms_key_administrator_arns) > 0 ? var.kms_key_administrator_arns : [local.account_root_arn]

  kms_key_administration_actions = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ListKeyPolicies",
    "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:ListKeyRotations", "kms:RotateKeyOnDemand",
    "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
    "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases",
    # EKS creates a grant for the control plane with the credentials of whoever creates
    # the cluster.
    "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant", "kms:RetireGrant",
  ]

  kms_key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      var.kms_key_account_wide_access ? {
        # AWS's default key policy: IAM policies of the account grant any use of the key.
        Sid       = "AccountIAMPolicies"
        Effect    = "Allow"
        Principal = { AWS = [local.account_root_arn] }
        Action    = ["kms:*"]
        Resource  = "*"
        } : {
        Sid       = "KeyAdministration"
        Effect    = "Allow"
        Principal = { AWS = local.kms_key_administrators }
        Action    = local.kms_key_administration_actions
        Resource  = "*"
      },
      {
        # Only the control plane encrypts and decrypts: Secrets' data keys.
        Sid       = "ClusterSecretsEnvelopeEncryption"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.cluster.arn }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "Envelope encryption of Kubernetes Secrets in EKS cluster ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  policy                  = local.kms_key_policy

  tags = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/eks/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Control-plane logs: the module owns the log group, so retention is set before EKS
# would create it with none.
################################################################################

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.cluster_log_retention_in_days
  kms_key_id        = var.cluster_log_kms_key_arn

  tags = local.tags
}

################################################################################
# Control plane
################################################################################

# Extra security group of the control plane's network interfaces: HTTPS from the VPC
# (nodes, bastions) and from var.private_access_cidrs. EKS also creates its own cluster
# security group, which the managed node groups use (see outputs).
resource "aws_security_group" "control_plane" {
  name        = "${var.name}-eks-control-plane"
  description = "Kubernetes API of EKS cluster ${var.name}"
  vpc_id      = local.vpc_id

  tags = merge(local.tags, { Name = "${var.name}-eks-control-plane" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "control_plane_https" {
  # Keyed by labels known at plan time: a given VPC's CIDR is only read at apply when the
  # VPC is created in the same run.
  for_each = merge({ vpc = local.vpc_cidr_block }, { for c in var.private_access_cidrs : c => c })

  security_group_id = aws_security_group.control_plane.id
  description       = "Kubernetes API over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value

  tags = local.tags
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = var.cluster_log_types

  # Auto Mode manages the core networking add-ons itself; without it, EKS installs its
  # default vpc-cni, kube-proxy and coredns, which the eks-addons module then adopts.
  bootstrap_self_managed_addons = var.auto_mode ? false : null

  vpc_config {
    subnet_ids              = local.control_plane_subnet_ids
    security_group_ids      = [aws_security_group.control_plane.id]
    endpoint_private_access = var.endpoint_private_access
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.endpoint_public_access ? var.public_access_cidrs : null
  }

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = var.cluster_creator_admin
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = local.kms_key_arn
    }
  }

  dynamic "kubernetes_network_config" {
    for_each = var.service_ipv4_cidr != null || var.auto_mode ? [1] : []
    content {
      service_ipv4_cidr = var.service_ipv4_cidr

      dynamic "elastic_load_balancing" {
        for_each = var.auto_mode ? [1] : []
        content {
          enabled = true
        }
      }
    }
  }

  dynamic "compute_config" {
    for_each = var.auto_mode ? [1] : []
    content {
      enabled       = true
      node_pools    = var.auto_mode_node_pools
      node_role_arn = length(var.auto_mode_node_pools) > 0 ? aws_iam_role.node.arn : null
    }
  }

  dynamic "storage_config" {
    for_each = var.auto_mode ? [1] : []
    content {
      block_storage {
        enabled = true
      }
    }
  }

  dynamic "upgrade_policy" {
    for_each = var.upgrade_support_type != null ? [1] : []
    content {
      support_type = var.upgrade_support_type
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.endpoint_public_access || var.endpoint_private_access
      error_message = "At least one of endpoint_public_access and endpoint_private_access must be true, or nothing can reach the Kubernetes API."
    }
    precondition {
      condition     = !var.endpoint_public_access || length(var.public_access_cidrs) > 0
      error_message = "endpoint_public_access = true needs the networks that may reach the public Kubernetes API endpoint: list them in public_access_cidrs, e.g. public_access_cidrs = [\"203.0.113.0/24\"] for your offices and CI runners ([\"0.0.0.0/0\"] opens it to the whole internet). Without a public endpoint, reach the API from the VPC or from private_access_cidrs (VPN, peered networks)."
    }
    precondition {
      condition     = var.endpoint_public_access || length(var.public_access_cidrs) == 0
      error_message = "public_access_cidrs is set but the public Kubernetes API endpoint is off (endpoint_public_access defaults to false): set endpoint_public_access = true to open it to those CIDRs, or remove public_access_cidrs."
    }
    precondition {
      condition     = var.create_kms_key ? var.kms_key_arn == null : var.kms_key_arn != null
      error_message = "Secrets encryption: either create_kms_key = true (the default) and no kms_key_arn, or create_kms_key = false and your key's ARN in kms_key_arn."
    }
    precondition {
      condition     = local.create_vpc || (var.vpc_id != null && length(var.subnet_ids) >= 2)
      error_message = "With an existing VPC, set vpc_id and list at least two of its private subnets (in different availability zones) in subnet_ids."
    }
  }

  depends_on = [
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_kms,
    aws_cloudwatch_log_group.cluster,
    # Nodes in private subnets need their egress route before the first node joins.
    aws_route.private_nat,
    aws_route_table_association.private,
  ]
}

################################################################################
# IRSA: OIDC identity provider. No thumbprint is given: IAM trusts the certificate
# authority of EKS's OIDC endpoints itself, so no `tls` provider is needed.
################################################################################

resource "aws_iam_openid_connect_provider" "this" {
  count = var.enable_irsa ? 1 : 0

  url            = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list = ["sts.amazonaws.com"]

  tags = merge(local.tags, { Name = "${var.name}-irsa" })
}

################################################################################
# Access entries (authentication mode API: no aws-auth ConfigMap)
################################################################################

resource "aws_eks_access_entry" "this" {
  for_each = local.access_entries

  cluster_name      = aws_eks_cluster.this.name
  principal_arn     = each.value.principal_arn
  kubernetes_groups = length(each.value.kubernetes_groups) > 0 ? each.value.kubernetes_groups : null
  type              = "STANDARD"

  tags = local.tags
}

resource "aws_eks_access_policy_association" "this" {
  for_each = local.access_entries

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.this[each.key].principal_arn
  policy_arn    = "${local.access_policy_arn_prefix}/${each.value.policy}"

  access_scope {
    type       = length(each.value.namespaces) > 0 ? "namespace" : "cluster"
    namespaces = length(each.value.namespaces) > 0 ? each.value.namespaces : null
  }
}

################################################################################
# Pod identity associations for application roles
################################################################################

resource "aws_eks_pod_identity_association" "this" {
  for_each = var.pod_identity_associations

  cluster_name    = aws_eks_cluster.this.name
  namespace       = each.value.namespace
  service_account = each.value.service_account
  role_arn        = each.value.role_arn

  tags = local.tags
}

check "cluster_has_compute" {
  assert {
    condition     = var.auto_mode || length(local.node_groups) > 0
    error_message = "node_groups is empty and auto_mode is false: the cluster will have no nodes to run pods on."
  }
}
