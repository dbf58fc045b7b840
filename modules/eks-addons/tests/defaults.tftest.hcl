# Defaults: the core add-ons, metrics-server, CloudWatch observability and cert-manager at
# their latest compatible versions, with pod identity roles for those that call AWS.

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

run "default_addon_set" {
  command = plan

  assert {
    condition = toset(keys(aws_eks_addon.this)) == toset([
      "vpc-cni", "kube-proxy", "coredns", "metrics-server", "amazon-cloudwatch-observability", "cert-manager",
    ])
    error_message = "Default add-ons: vpc-cni, kube-proxy, coredns, metrics-server, amazon-cloudwatch-observability, cert-manager."
  }
  assert {
    condition     = keys(aws_eks_addon.pod_identity_agent) == ["eks-pod-identity-agent"]
    error_message = "The pod identity agent is installed (first)."
  }
  assert {
    condition     = alltrue([for a in aws_eks_addon.this : a.cluster_name == "payments" && a.addon_name != "external-dns"])
    error_message = "All add-ons go to the given cluster; external-dns is off by default."
  }
  assert {
    condition     = alltrue([for a in aws_eks_addon.this : a.resolve_conflicts_on_create == "OVERWRITE" && a.resolve_conflicts_on_update == "OVERWRITE" && a.preserve])
    error_message = "Add-ons take over the self-managed copies and are preserved on removal."
  }
}

run "latest_compatible_versions" {
  command = plan

  # Targets name the whole data source, not one instance (`latest["coredns"]`): OpenTofu
  # accepts no instance keys in override targets, and every instance gets the same answer.
  override_data {
    target = data.aws_eks_addon_version.latest
    values = {
      version = "v1.11.4-eksbuild.14"
    }
  }

  assert {
    condition     = aws_eks_addon.this["coredns"].addon_version == "v1.11.4-eksbuild.14"
    error_message = "Without a pin, an add-on gets the version DescribeAddonVersions reports as latest."
  }
  assert {
    condition     = alltrue([for d in data.aws_eks_addon_version.latest : d.kubernetes_version == "1.33" && d.most_recent])
    error_message = "Versions are looked up for the cluster's Kubernetes version, most recent first."
  }
  assert {
    condition     = length(data.aws_eks_addon_version.latest) == 7 && output.addon_versions["metrics-server"] == "v1.11.4-eksbuild.14"
    error_message = "Every enabled add-on without a pin is looked up."
  }
}

run "pod_identity_roles" {
  command = plan

  assert {
    condition     = toset(keys(aws_iam_role.addon)) == toset(["vpc-cni", "amazon-cloudwatch-observability"])
    error_message = "Roles for vpc-cni and CloudWatch; none for cert-manager without hosted zones."
  }
  assert {
    condition     = aws_iam_role.addon["vpc-cni"].name == "payments-vpc-cni" && aws_iam_role.addon["amazon-cloudwatch-observability"].name == "payments-cloudwatch-observability"
    error_message = "Role names derive from the cluster name."
  }
  assert {
    condition     = jsondecode(aws_iam_role.addon["vpc-cni"].assume_role_policy).Statement[0].Principal.Service == "pods.eks.amazonaws.com"
    error_message = "Add-on roles trust EKS Pod Identity."
  }
  assert {
    condition     = toset(jsondecode(aws_iam_role.addon["vpc-cni"].assume_role_policy).Statement[0].Action) == toset(["sts:AssumeRole", "sts:TagSession"])
    error_message = "Pod identity needs AssumeRole and TagSession."
  }
  assert {
    condition = jsondecode(aws_iam_role.addon["vpc-cni"].assume_role_policy).Statement[0].Condition.StringEquals == {
      "aws:RequestTag/eks-cluster-name"           = "payments"
      "aws:RequestTag/kubernetes-namespace"       = "kube-system"
      "aws:RequestTag/kubernetes-service-account" = "aws-node"
    }
    error_message = "Only this cluster's aws-node service account may assume the vpc-cni role."
  }
  assert {
    condition     = jsondecode(aws_iam_role.addon["amazon-cloudwatch-observability"].assume_role_policy).Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-service-account"] == "cloudwatch-agent"
    error_message = "The CloudWatch role is for the cloudwatch-agent service account."
  }
  assert {
    condition = toset([for a in aws_iam_role_policy_attachment.addon : a.policy_arn]) == toset([
      "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
      "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
      "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    ])
    error_message = "Managed policies of the add-on roles."
  }
  assert {
    condition     = [for p in aws_eks_addon.this["vpc-cni"].pod_identity_association : p.service_account] == ["aws-node"]
    error_message = "vpc-cni's aws-node service account is associated with its role."
  }
  assert {
    condition     = [for p in aws_eks_addon.this["amazon-cloudwatch-observability"].pod_identity_association : p.service_account] == ["cloudwatch-agent"]
    error_message = "CloudWatch's cloudwatch-agent service account is associated with its role."
  }
  assert {
    condition     = length(aws_eks_addon.this["cert-manager"].pod_identity_association) == 0 && length(aws_eks_addon.this["coredns"].pod_identity_association) == 0
    error_message = "Add-ons without a role get no association."
  }
}

run "container_insights_log_groups" {
  command = plan

  assert {
    condition = toset([for g in aws_cloudwatch_log_group.container_insights : g.name]) == toset([
      "/aws/containerinsights/payments/application",
      "/aws/containerinsights/payments/dataplane",
      "/aws/containerinsights/payments/host",
      "/aws/containerinsights/payments/performance",
    ])
    error_message = "The module owns the four Container Insights log groups."
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.container_insights : g.retention_in_days == 30])
    error_message = "Container logs are kept 30 days by default."
  }
}

run "outputs_after_apply" {
  command = apply

  assert {
    condition     = output.addons["vpc-cni"].role_arn == "arn:aws:iam::111122223333:role/mocked" && output.addons["coredns"].role_arn == null
    error_message = "The addons output names each add-on's role."
  }
  assert {
    condition     = [for p in aws_eks_addon.this["vpc-cni"].pod_identity_association : p.role_arn] == [aws_iam_role.addon["vpc-cni"].arn]
    error_message = "The association uses the created role."
  }
  assert {
    condition     = length(output.container_insights_log_group_names) == 4 && length(output.pod_identity_role_arns) == 2
    error_message = "Log group and role outputs."
  }
}
