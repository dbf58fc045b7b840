# Pins, configuration values, DNS add-ons with hosted zones, Auto Mode, given roles,
# switching add-ons off.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  # What DescribeAddonVersions would answer for the latest compatible version.
  mock_data "aws_eks_addon_version" {
    defaults = {
      version = "v1.0.0-eksbuild.1"
    }
  }
  # The provider validates ARNs even of mocked values.
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mocked"
    }
  }
}

variables {
  cluster_name       = "orders"
  kubernetes_version = "1.32"
}

run "pinned_versions_and_configuration_values" {
  command = plan

  variables {
    vpc_cni = {
      version              = "v1.19.5-eksbuild.1"
      configuration_values = "{\"env\":{\"ENABLE_PREFIX_DELEGATION\":\"true\"}}"
    }
    coredns = {
      version                     = "v1.11.4-eksbuild.14"
      resolve_conflicts_on_update = "PRESERVE"
      preserve                    = false
    }
  }

  assert {
    condition     = aws_eks_addon.this["vpc-cni"].addon_version == "v1.19.5-eksbuild.1" && aws_eks_addon.this["coredns"].addon_version == "v1.11.4-eksbuild.14"
    error_message = "Pinned versions are used as given."
  }
  assert {
    condition     = !contains(keys(data.aws_eks_addon_version.latest), "vpc-cni") && !contains(keys(data.aws_eks_addon_version.latest), "coredns")
    error_message = "Pinned add-ons are not looked up."
  }
  assert {
    condition     = jsondecode(aws_eks_addon.this["vpc-cni"].configuration_values).env.ENABLE_PREFIX_DELEGATION == "true"
    error_message = "configuration_values are passed through."
  }
  assert {
    condition     = aws_eks_addon.this["coredns"].resolve_conflicts_on_update == "PRESERVE" && aws_eks_addon.this["coredns"].preserve == false
    error_message = "Conflict resolution and preserve are per add-on."
  }
}

run "cert_manager_and_external_dns_with_zones" {
  command = plan

  variables {
    route53_zone_ids = ["Z0123456789ABCDEFGHIJ", "Z9876543210ZYXWVUTSRQ"]
    external_dns     = { enabled = true }
  }

  assert {
    condition     = contains(keys(aws_eks_addon.this), "external-dns") && contains(keys(aws_eks_addon.this), "cert-manager")
    error_message = "Both DNS add-ons are installed."
  }
  assert {
    condition     = aws_iam_role.addon["cert-manager"].name == "orders-cert-manager" && aws_iam_role.addon["external-dns"].name == "orders-external-dns"
    error_message = "Both get a pod identity role."
  }
  assert {
    condition     = jsondecode(aws_iam_role.addon["cert-manager"].assume_role_policy).Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-namespace"] == "cert-manager"
    error_message = "The cert-manager role is for the cert-manager namespace."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.addon["cert-manager"].policy).Statement[1].Resource == [
      "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ", "arn:aws:route53:::hostedzone/Z9876543210ZYXWVUTSRQ",
    ]
    error_message = "cert-manager may change records in the given zones only."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.addon["cert-manager"].policy).Statement[1].Condition["ForAllValues:StringEquals"]["route53:ChangeResourceRecordSetsRecordTypes"] == ["TXT"]
    error_message = "cert-manager may only write TXT records (DNS-01 challenges)."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.addon["cert-manager"].policy).Statement[0].Action == ["route53:GetChange"]
    error_message = "cert-manager may read change status."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.addon["external-dns"].policy).Statement[0].Action == ["route53:ChangeResourceRecordSets"] && length(jsondecode(aws_iam_role_policy.addon["external-dns"].policy).Statement[0].Resource) == 2
    error_message = "external-dns may change records in the given zones only."
  }
  assert {
    condition     = [for p in aws_eks_addon.this["cert-manager"].pod_identity_association : p.service_account] == ["cert-manager"] && [for p in aws_eks_addon.this["external-dns"].pod_identity_association : p.service_account] == ["external-dns"]
    error_message = "Both service accounts are associated with their roles."
  }
}

run "external_dns_needs_zones" {
  command = plan

  variables {
    external_dns = { enabled = true }
  }

  expect_failures = [aws_eks_addon.this["external-dns"]]
}

run "auto_mode_skips_core_addons" {
  command = plan

  variables {
    auto_mode = true
  }

  assert {
    condition     = toset(keys(aws_eks_addon.this)) == toset(["metrics-server", "amazon-cloudwatch-observability", "cert-manager"])
    error_message = "In Auto Mode AWS runs vpc-cni, kube-proxy and coredns itself."
  }
  assert {
    condition     = length(aws_eks_addon.pod_identity_agent) == 0
    error_message = "In Auto Mode the pod identity agent is built in."
  }
}

run "auto_mode_core_addon_can_be_forced" {
  command = plan

  variables {
    auto_mode = true
    coredns   = { enabled = true }
  }

  assert {
    condition     = contains(keys(aws_eks_addon.this), "coredns")
    error_message = "An explicit enabled = true wins over the Auto Mode default."
  }
}

run "given_role_and_no_role" {
  command = plan

  variables {
    cloudwatch_observability = {
      create_role = false
      role_arn    = "arn:aws:iam::111122223333:role/shared-cloudwatch"
    }
    vpc_cni = {
      create_role = false
    }
  }

  assert {
    condition     = length(aws_iam_role.addon) == 0 && length(aws_iam_role_policy_attachment.addon) == 0
    error_message = "No role is created when one is given or none is wanted."
  }
  assert {
    condition     = [for p in aws_eks_addon.this["amazon-cloudwatch-observability"].pod_identity_association : p.role_arn] == ["arn:aws:iam::111122223333:role/shared-cloudwatch"]
    error_message = "A given role is associated as is."
  }
  assert {
    condition     = length(aws_eks_addon.this["vpc-cni"].pod_identity_association) == 0
    error_message = "create_role = false leaves vpc-cni on the node role."
  }
  assert {
    condition     = output.pod_identity_role_arns == { "amazon-cloudwatch-observability" = "arn:aws:iam::111122223333:role/shared-cloudwatch" }
    error_message = "Role output."
  }
}

run "cert_manager_given_role_without_zones" {
  command = plan

  variables {
    cert_manager = {
      create_role = false
      role_arn    = "arn:aws:iam::111122223333:role/private-ca-issuer"
    }
  }

  assert {
    condition     = [for p in aws_eks_addon.this["cert-manager"].pod_identity_association : p.role_arn] == ["arn:aws:iam::111122223333:role/private-ca-issuer"] && !contains(keys(aws_iam_role.addon), "cert-manager")
    error_message = "A given role is associated with cert-manager even without hosted zones (e.g. for a private CA issuer)."
  }
}

run "additional_policies" {
  command = plan

  variables {
    cloudwatch_observability = {
      additional_policy_arns = ["arn:aws:iam::111122223333:policy/extra-logs"]
    }
  }

  assert {
    condition     = aws_iam_role_policy_attachment.addon["amazon-cloudwatch-observability/arn:aws:iam::111122223333:policy/extra-logs"].policy_arn == "arn:aws:iam::111122223333:policy/extra-logs"
    error_message = "Additional policies are attached to the created role."
  }
}

run "everything_off" {
  command = plan

  variables {
    vpc_cni                         = { enabled = false }
    coredns                         = { enabled = false }
    kube_proxy                      = { enabled = false }
    pod_identity_agent              = { enabled = false }
    metrics_server                  = { enabled = false }
    cloudwatch_observability        = { enabled = false }
    cert_manager                    = { enabled = false }
    container_log_retention_in_days = 7
  }

  assert {
    condition     = length(aws_eks_addon.this) == 0 && length(aws_eks_addon.pod_identity_agent) == 0 && length(data.aws_eks_addon_version.latest) == 0
    error_message = "Nothing is installed when every add-on is off."
  }
  assert {
    condition     = length(aws_iam_role.addon) == 0 && length(aws_cloudwatch_log_group.container_insights) == 0
    error_message = "No roles and no log groups without add-ons."
  }
}

run "log_retention" {
  command = plan

  variables {
    container_log_retention_in_days = 365
    container_log_kms_key_arn       = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
  }

  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.container_insights : g.retention_in_days == 365 && g.kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"])
    error_message = "Retention and encryption of the container log groups."
  }
}
