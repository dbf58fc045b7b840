# The VPC CNI enforces Kubernetes NetworkPolicies by default (issue 13), and
# vpc_cni.network_policy = false turns that off.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_eks_addon_version" {
    defaults = {
      version = "v1.19.5-eksbuild.1"
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

run "vpc_cni_enforces_network_policies_by_default" {
  command = plan

  assert {
    condition     = jsondecode(aws_eks_addon.this["vpc-cni"].configuration_values) == { enableNetworkPolicy = "true" }
    error_message = "The vpc-cni add-on is configured with enableNetworkPolicy = \"true\" (a string, as the add-on's schema wants) and nothing else."
  }
  assert {
    condition     = output.vpc_cni_network_policy == true
    error_message = "The output says network policies are enforced."
  }
}

run "own_configuration_values_are_kept_beside_it" {
  command = plan

  variables {
    vpc_cni = {
      configuration_values = jsonencode({ env = { ENABLE_PREFIX_DELEGATION = "true" }, nodeAgent = { healthProbeBindAddr = "8163" } })
    }
  }

  assert {
    condition = jsondecode(aws_eks_addon.this["vpc-cni"].configuration_values) == {
      enableNetworkPolicy = "true"
      env                 = { ENABLE_PREFIX_DELEGATION = "true" }
      nodeAgent           = { healthProbeBindAddr = "8163" }
    }
    error_message = "The caller's configuration values are merged with enableNetworkPolicy."
  }
}

run "network_policy_false_leaves_the_configuration_as_given" {
  command = plan

  variables {
    vpc_cni = { network_policy = false }
  }

  # configuration_values stays null in the configuration (the plan shows it as known
  # after apply, as before network policies were enforced).
  assert {
    condition     = output.vpc_cni_network_policy == false && contains(keys(aws_eks_addon.this), "vpc-cni")
    error_message = "network_policy = false: vpc-cni is installed without enforcing network policies."
  }
}

run "network_policy_false_with_own_configuration_values" {
  command = plan

  variables {
    vpc_cni = {
      network_policy       = false
      configuration_values = jsonencode({ env = { ENABLE_PREFIX_DELEGATION = "true" } })
    }
  }

  assert {
    condition     = aws_eks_addon.this["vpc-cni"].configuration_values == jsonencode({ env = { ENABLE_PREFIX_DELEGATION = "true" } })
    error_message = "network_policy = false passes the caller's JSON unchanged."
  }
}

run "auto_mode_has_no_vpc_cni_to_configure" {
  command = plan

  variables {
    auto_mode = true
  }

  assert {
    condition     = !contains(keys(aws_eks_addon.this), "vpc-cni") && output.vpc_cni_network_policy == false
    error_message = "In Auto Mode AWS runs the CNI (its node class decides on network policies)."
  }
}

run "enable_network_policy_in_configuration_values_is_refused" {
  command = plan

  variables {
    vpc_cni = { configuration_values = jsonencode({ enableNetworkPolicy = "false" }) }
  }

  expect_failures = [var.vpc_cni]
}

run "configuration_values_must_be_an_object" {
  command = plan

  variables {
    vpc_cni = { configuration_values = jsonencode(["enableNetworkPolicy"]) }
  }

  expect_failures = [var.vpc_cni]
}

run "a_pin_older_than_1_14_cannot_enforce_network_policies" {
  command = plan

  variables {
    vpc_cni = { version = "v1.13.4-eksbuild.1" }
  }

  expect_failures = [var.vpc_cni]
}

run "an_old_pin_is_accepted_with_network_policy_false" {
  command = plan

  variables {
    vpc_cni = { version = "v1.13.4-eksbuild.1", network_policy = false }
  }

  assert {
    condition     = aws_eks_addon.this["vpc-cni"].addon_version == "v1.13.4-eksbuild.1" && output.vpc_cni_network_policy == false
    error_message = "An old VPC CNI still installs without network policies."
  }
}
