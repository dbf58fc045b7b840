data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  tags = merge(var.tags, { "jke/cluster" = var.cluster_name })

  no_role = { create_role = false, role_arn = null, additional_policy_arns = [] }

  # The VPC CNI enforces NetworkPolicies (its network policy agent on every node, the
  # controller in the control plane) unless vpc_cni.network_policy = false; the caller's own
  # configuration values are kept beside it.
  vpc_cni_configuration_values = var.vpc_cni.network_policy ? jsonencode(merge(
    var.vpc_cni.configuration_values != null ? jsondecode(var.vpc_cni.configuration_values) : {},
    { enableNetworkPolicy = "true" },
  )) : var.vpc_cni.configuration_values

  # Every add-on the module knows, keyed by its EKS add-on name, with its settings
  # normalised to one shape, its default on/off state and, for those that call AWS APIs,
  # the service account that gets a pod identity role and what that role may do.
  catalog = {
    "vpc-cni" = {
      settings        = merge(local.no_role, var.vpc_cni, { configuration_values = local.vpc_cni_configuration_values })
      default_enabled = !var.auto_mode
      role_name       = "vpc-cni"
      namespace       = "kube-system"
      service_account = "aws-node"
      managed         = ["AmazonEKS_CNI_Policy"]
      inline          = null
    }
    "kube-proxy" = {
      settings        = merge(local.no_role, var.kube_proxy)
      default_enabled = !var.auto_mode
      role_name       = null
      namespace       = null
      service_account = null
      managed         = []
      inline          = null
    }
    "coredns" = {
      settings        = merge(local.no_role, var.coredns)
      default_enabled = !var.auto_mode
      role_name       = null
      namespace       = null
      service_account = null
      managed         = []
      inline          = null
    }
    "eks-pod-identity-agent" = {
      settings        = merge(local.no_role, var.pod_identity_agent)
      default_enabled = !var.auto_mode
      role_name       = null
      namespace       = null
      service_account = null
      managed         = []
      inline          = null
    }
    "metrics-server" = {
      settings        = merge(local.no_role, var.metrics_server)
      default_enabled = true
      role_name       = null
      namespace       = null
      service_account = null
      managed         = []
      inline          = null
    }
    "amazon-cloudwatch-observability" = {
      settings        = merge(local.no_role, var.cloudwatch_observability)
      default_enabled = true
      role_name       = "cloudwatch-observability"
      namespace       = "amazon-cloudwatch"
      service_account = "cloudwatch-agent"
      managed         = ["CloudWatchAgentServerPolicy", "AWSXrayWriteOnlyAccess"]
      inline          = null
    }
    "cert-manager" = {
      settings        = merge(local.no_role, var.cert_manager)
      default_enabled = true
      # Without hosted zones cert-manager needs no AWS access (HTTP-01, private CAs).
      role_name       = length(var.route53_zone_ids) > 0 ? "cert-manager" : null
      namespace       = "cert-manager"
      service_account = "cert-manager"
      managed         = []
      inline          = length(var.route53_zone_ids) > 0 ? local.cert_manager_policy : null
    }
    "external-dns" = {
      settings        = merge(local.no_role, var.external_dns)
      default_enabled = false
      role_name       = "external-dns"
      namespace       = "external-dns"
      service_account = "external-dns"
      managed         = []
      inline          = local.external_dns_policy
    }
  }

  enabled = {
    for name, a in local.catalog : name => a
    if coalesce(a.settings.enabled, a.default_enabled)
  }

  # Add-ons whose service account gets an IAM role the module creates. Decided by flags and
  # the catalog only (never by whether a role ARN is null), so a role created elsewhere in
  # the same run can be given.
  created_roles = {
    for name, a in local.enabled : name => a
    if a.settings.create_role && a.role_name != null
  }
  given_roles = {
    for name, a in local.enabled : name => a.settings.role_arn
    if !a.settings.create_role && a.service_account != null && a.settings.role_arn != null
  }

  role_arns = merge(
    { for name, _ in local.created_roles : name => aws_iam_role.addon[name].arn },
    local.given_roles,
  )

  zone_arns = [for z in var.route53_zone_ids : "arn:${local.partition}:route53:::hostedzone/${z}"]

  # ACME DNS-01 with Route53, least privilege: TXT records in the given zones only.
  cert_manager_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadChangeStatus"
        Effect   = "Allow"
        Action   = ["route53:GetChange"]
        Resource = "arn:${local.partition}:route53:::change/*"
      },
      {
        Sid      = "WriteChallengeRecords"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"]
        Resource = local.zone_arns
        Condition = {
          "ForAllValues:StringEquals" = { "route53:ChangeResourceRecordSetsRecordTypes" = ["TXT"] }
        }
      },
      {
        Sid      = "FindZones"
        Effect   = "Allow"
        Action   = ["route53:ListHostedZonesByName"]
        Resource = "*"
      },
    ]
  })

  external_dns_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteRecords"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets"]
        Resource = local.zone_arns
      },
      {
        Sid      = "ReadZones"
        Effect   = "Allow"
        Action   = ["route53:ListHostedZones", "route53:ListResourceRecordSets", "route53:ListTagsForResource", "route53:ListTagsForResources"]
        Resource = "*"
      },
    ]
  })
}

################################################################################
# Versions: a pinned version, or the latest one compatible with the cluster's version
################################################################################

data "aws_eks_addon_version" "latest" {
  for_each = { for name, a in local.enabled : name => a if a.settings.version == null }

  addon_name         = each.key
  kubernetes_version = var.kubernetes_version
  most_recent        = true
}

locals {
  versions = {
    for name, a in local.enabled : name => (
      a.settings.version != null ? a.settings.version : data.aws_eks_addon_version.latest[name].version
    )
  }
}

################################################################################
# Pod identity roles
################################################################################

resource "aws_iam_role" "addon" {
  for_each = local.created_roles

  name        = "${var.cluster_name}-${each.value.role_name}"
  description = "EKS add-on ${each.key} in cluster ${var.cluster_name} (service account ${each.value.namespace}/${each.value.service_account}, through EKS Pod Identity)"

  # Only this cluster's add-on service account may assume the role: EKS Pod Identity
  # passes cluster, namespace and service account as session tags.
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EKSPodIdentity"
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = {
        StringEquals = {
          "aws:RequestTag/eks-cluster-name"           = var.cluster_name
          "aws:RequestTag/kubernetes-namespace"       = each.value.namespace
          "aws:RequestTag/kubernetes-service-account" = each.value.service_account
        }
      }
    }]
  })

  tags = local.tags
}

locals {
  policy_attachments = merge([
    for name, a in local.created_roles : merge(
      { for p in a.managed : "${name}/${p}" => { addon = name, arn = "arn:${local.partition}:iam::aws:policy/${p}" } },
      { for p in a.settings.additional_policy_arns : "${name}/${p}" => { addon = name, arn = p } },
    )
  ]...)
}

resource "aws_iam_role_policy_attachment" "addon" {
  for_each = local.policy_attachments

  role       = aws_iam_role.addon[each.value.addon].name
  policy_arn = each.value.arn
}

resource "aws_iam_role_policy" "addon" {
  for_each = { for name, a in local.created_roles : name => a if a.inline != null }

  name   = each.key
  role   = aws_iam_role.addon[each.key].id
  policy = each.value.inline
}

################################################################################
# Container Insights log groups, created with retention before Fluent Bit would create
# them without
################################################################################

resource "aws_cloudwatch_log_group" "container_insights" {
  for_each = contains(keys(local.enabled), "amazon-cloudwatch-observability") ? toset(["application", "dataplane", "host", "performance"]) : toset([])

  name              = "/aws/containerinsights/${var.cluster_name}/${each.key}"
  retention_in_days = var.container_log_retention_in_days
  kms_key_id        = var.container_log_kms_key_arn

  tags = local.tags
}

################################################################################
# Add-ons. The pod identity agent comes first: the others get their AWS credentials
# through it.
################################################################################

resource "aws_eks_addon" "pod_identity_agent" {
  for_each = { for name, a in local.enabled : name => a if name == "eks-pod-identity-agent" }

  cluster_name                = var.cluster_name
  addon_name                  = each.key
  addon_version               = local.versions[each.key]
  configuration_values        = each.value.settings.configuration_values
  resolve_conflicts_on_create = each.value.settings.resolve_conflicts_on_create
  resolve_conflicts_on_update = each.value.settings.resolve_conflicts_on_update
  preserve                    = each.value.settings.preserve

  tags = local.tags
}

resource "aws_eks_addon" "this" {
  for_each = { for name, a in local.enabled : name => a if name != "eks-pod-identity-agent" }

  cluster_name                = var.cluster_name
  addon_name                  = each.key
  addon_version               = local.versions[each.key]
  configuration_values        = each.value.settings.configuration_values
  resolve_conflicts_on_create = each.value.settings.resolve_conflicts_on_create
  resolve_conflicts_on_update = each.value.settings.resolve_conflicts_on_update
  preserve                    = each.value.settings.preserve

  dynamic "pod_identity_association" {
    for_each = contains(keys(local.role_arns), each.key) ? [1] : []
    content {
      service_account = each.value.service_account
      role_arn        = local.role_arns[each.key]
    }
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = each.key != "external-dns" || length(var.route53_zone_ids) > 0
      error_message = "external_dns is enabled but route53_zone_ids is empty: list the hosted zones external-dns may manage."
    }
  }

  depends_on = [
    aws_eks_addon.pod_identity_agent,
    aws_iam_role_policy_attachment.addon,
    aws_iam_role_policy.addon,
    aws_cloudwatch_log_group.container_insights,
  ]
}
