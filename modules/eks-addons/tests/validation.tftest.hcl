# Every validation rejects bad input at plan time, with a message saying what is accepted.

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
  cluster_name       = "payments"
  kubernetes_version = "1.33"
}

run "cluster_name_format" {
  command = plan

  variables {
    cluster_name = "orders_prod"
  }

  expect_failures = [var.cluster_name]
}

run "kubernetes_version_format" {
  command = plan

  variables {
    kubernetes_version = "v1.33"
  }

  expect_failures = [var.kubernetes_version]
}

run "version_is_an_eks_addon_version" {
  command = plan

  variables {
    coredns = { version = "1.11.4" }
  }

  expect_failures = [var.coredns]
}

run "configuration_values_are_json" {
  command = plan

  variables {
    metrics_server = { configuration_values = "replicas: 2" }
  }

  expect_failures = [var.metrics_server]
}

run "resolve_conflicts_on_create_values" {
  command = plan

  variables {
    kube_proxy = { resolve_conflicts_on_create = "PRESERVE" }
  }

  expect_failures = [var.kube_proxy]
}

run "resolve_conflicts_on_update_values" {
  command = plan

  variables {
    pod_identity_agent = { resolve_conflicts_on_update = "KEEP" }
  }

  expect_failures = [var.pod_identity_agent]
}

run "role_arn_is_a_role" {
  command = plan

  variables {
    vpc_cni = { role_arn = "arn:aws:iam::111122223333:user/alice" }
  }

  expect_failures = [var.vpc_cni]
}

run "role_arn_needs_create_role_false" {
  command = plan

  variables {
    cloudwatch_observability = { role_arn = "arn:aws:iam::111122223333:role/shared-cloudwatch" }
  }

  expect_failures = [var.cloudwatch_observability]
}

run "additional_policy_arns_are_policies" {
  command = plan

  variables {
    cert_manager = { additional_policy_arns = ["ReadOnlyAccess"] }
  }

  expect_failures = [var.cert_manager]
}

run "external_dns_version_format" {
  command = plan

  variables {
    external_dns = { version = "latest" }
  }

  expect_failures = [var.external_dns]
}

run "cloudwatch_configuration_json" {
  command = plan

  variables {
    cloudwatch_observability = { configuration_values = "{" }
  }

  expect_failures = [var.cloudwatch_observability]
}

run "zone_ids_without_prefix" {
  command = plan

  variables {
    route53_zone_ids = ["/hostedzone/Z0123456789ABCDEFGHIJ"]
  }

  expect_failures = [var.route53_zone_ids]
}

run "log_retention_cloudwatch_values" {
  command = plan

  variables {
    container_log_retention_in_days = 45
  }

  expect_failures = [var.container_log_retention_in_days]
}

run "log_kms_key_arn_format" {
  command = plan

  variables {
    container_log_kms_key_arn = "alias/logs"
  }

  expect_failures = [var.container_log_kms_key_arn]
}
