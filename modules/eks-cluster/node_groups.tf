################################################################################
# Managed node groups
#
# Each group gets its own launch template: encrypted gp3 root volume of the chosen size,
# IMDSv2 only with a response hop limit of 1 (var.node_metadata_hop_limit): processes on
# the node and host-network pods (VPC CNI, kube-proxy) reach the instance metadata, other
# pods do not, so they cannot borrow the node role; they get their own through pod
# identity or IRSA. Tags on instances and volumes. No security group is set in the
# template, so EKS attaches the cluster security group.
################################################################################

resource "aws_launch_template" "node" {
  for_each = local.node_groups

  name_prefix            = "${var.name}-${each.key}-"
  description            = "Nodes of group ${each.key} in EKS cluster ${var.name}"
  update_default_version = true

  block_device_mappings {
    # Bottlerocket keeps its OS on /dev/xvda and containers on the data volume /dev/xvdb.
    device_name = startswith(each.value.ami_type, "BOTTLEROCKET") ? "/dev/xvdb" : "/dev/xvda"

    ebs {
      volume_size           = each.value.disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = var.node_metadata_hop_limit
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-${each.key}" })
  }

  tag_specifications {
    resource_type = "volume"
    tags          = merge(local.tags, { Name = "${var.name}-${each.key}" })
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_eks_node_group" "this" {
  for_each = local.node_groups

  cluster_name           = aws_eks_cluster.this.name
  node_group_name_prefix = "${each.key}-"
  node_role_arn          = aws_iam_role.node.arn
  subnet_ids             = each.value.subnet_ids != null ? each.value.subnet_ids : local.private_subnet_ids
  version                = aws_eks_cluster.this.version

  ami_type       = each.value.ami_type
  capacity_type  = each.value.capacity_type
  instance_types = each.value.instance_types

  launch_template {
    id      = aws_launch_template.node[each.key].id
    version = aws_launch_template.node[each.key].latest_version
  }

  scaling_config {
    min_size     = each.value.min_size
    max_size     = each.value.max_size
    desired_size = each.value.desired_size
  }

  update_config {
    max_unavailable_percentage = each.value.max_unavailable_percentage
  }

  labels = merge(each.value.labels, { "jke/node-group" = each.key })

  dynamic "taint" {
    for_each = each.value.taints
    content {
      key    = taint.value.key
      value  = taint.value.value
      effect = taint.value.effect
    }
  }

  tags = merge(local.tags, {
    # Cluster Autoscaler auto-discovery.
    "k8s.io/cluster-autoscaler/enabled"     = "true"
    "k8s.io/cluster-autoscaler/${var.name}" = "owned"
  })

  lifecycle {
    # Replacements (instance types, AMI type, ...) bring the new group up first.
    create_before_destroy = true
    # After creation the cluster autoscaler owns the desired size.
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}
