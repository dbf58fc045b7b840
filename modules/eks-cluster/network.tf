################################################################################
# VPC: created unless var.vpc_id is given
#
# Layout for a /16: three private /18 subnets (nodes and pods; the VPC CNI gives every
# pod a VPC address, so private subnets get most of the space) and three public /22
# subnets in the last quarter (NAT gateways and internet-facing load balancers).
################################################################################

data "aws_availability_zones" "available" {
  count = local.create_vpc && length(var.availability_zones) == 0 ? 1 : 0

  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  # Decided by the subnet list, whose length is known at plan time even when the IDs come
  # from resources created in the same run (a VPC ID compared with null would not be).
  create_vpc = length(var.subnet_ids) == 0

  azs = local.create_vpc ? (
    length(var.availability_zones) > 0 ? var.availability_zones : slice(data.aws_availability_zones.available[0].names, 0, var.availability_zone_count)
  ) : []

  private_subnet_cidrs = [for i, _ in local.azs : cidrsubnet(var.vpc_cidr, 2, i)]
  public_subnet_cidrs  = [for i, _ in local.azs : cidrsubnet(cidrsubnet(var.vpc_cidr, 2, 3), 4, i)]

  nat_gateway_count = !local.create_vpc || var.nat_gateway_mode == "none" ? 0 : (var.nat_gateway_mode == "single" ? 1 : length(local.azs))

  vpc_id             = local.create_vpc ? aws_vpc.this[0].id : var.vpc_id
  private_subnet_ids = local.create_vpc ? aws_subnet.private[*].id : var.subnet_ids
  public_subnet_ids  = local.create_vpc ? aws_subnet.public[*].id : []
  control_plane_subnet_ids = (
    length(var.control_plane_subnet_ids) > 0 ? var.control_plane_subnet_ids : local.private_subnet_ids
  )

  # Discovery tags: the AWS Load Balancer Controller and EKS Auto Mode place internet-facing
  # load balancers in subnets tagged role/elb and internal ones in role/internal-elb.
  cluster_discovery_tag = { "kubernetes.io/cluster/${var.name}" = "shared" }
}

resource "aws_vpc" "this" {
  count = local.create_vpc ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(local.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = var.vpc_id == null
      error_message = "vpc_id is set but subnet_ids is empty: list the private subnets of that VPC for the cluster, or leave vpc_id null to create a VPC."
    }
  }
}

# The created VPC's default security group, emptied: every new VPC gets one that lets its
# members talk to each other and reach anywhere, and anything launched without a security
# group lands in it. Nothing in this module uses it (nodes and the control plane have
# their own groups), so it is adopted with no rules at all.
resource "aws_default_security_group" "this" {
  count = local.create_vpc && var.restrict_default_security_group ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-default-no-rules" })
}

resource "aws_internet_gateway" "this" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = length(local.azs)

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = local.public_subnet_cidrs[count.index]

  tags = merge(local.tags, local.cluster_discovery_tag, {
    Name                     = "${var.name}-public-${local.azs[count.index]}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_subnet" "private" {
  count = length(local.azs)

  vpc_id            = aws_vpc.this[0].id
  availability_zone = local.azs[count.index]
  cidr_block        = local.private_subnet_cidrs[count.index]

  tags = merge(local.tags, local.cluster_discovery_tag, {
    Name                              = "${var.name}-private-${local.azs[count.index]}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_route_table" "public" {
  count = local.create_vpc ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  count = local.create_vpc ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  count = length(local.azs)

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_eip" "nat" {
  count = local.nat_gateway_count

  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.name}-nat-${local.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count = local.nat_gateway_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id

  tags = merge(local.tags, { Name = "${var.name}-${local.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

# One private route table per zone, so that with one NAT gateway per zone a zone's
# egress does not depend on another zone.
resource "aws_route_table" "private" {
  count = length(local.azs)

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-private-${local.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = local.nat_gateway_count > 0 ? length(local.azs) : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[min(count.index, local.nat_gateway_count - 1)].id
}

resource "aws_route_table_association" "private" {
  count = length(local.azs)

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

################################################################################
# VPC flow logs of the created VPC: accepted and rejected traffic of every network
# interface, to CloudWatch Logs (a log group the module owns, written by a role that may
# write to that group only) or to an S3 bucket you give.
################################################################################

locals {
  flow_logs               = local.create_vpc && var.flow_logs_enabled
  flow_logs_to_cloudwatch = local.flow_logs && var.flow_logs_destination_type == "cloud-watch-logs"
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  count = local.flow_logs_to_cloudwatch ? 1 : 0

  name              = "/aws/vpc/${var.name}/flow-logs"
  retention_in_days = var.flow_logs_retention_in_days
  kms_key_id        = var.flow_logs_kms_key_arn

  tags = local.tags
}

resource "aws_flow_log" "this" {
  count = local.flow_logs ? 1 : 0

  vpc_id                   = aws_vpc.this[0].id
  traffic_type             = var.flow_logs_traffic_type
  max_aggregation_interval = var.flow_logs_max_aggregation_interval
  log_destination_type     = var.flow_logs_destination_type
  log_destination          = local.flow_logs_to_cloudwatch ? aws_cloudwatch_log_group.flow_logs[0].arn : var.flow_logs_s3_destination_arn
  iam_role_arn             = local.flow_logs_to_cloudwatch ? aws_iam_role.flow_logs[0].arn : null

  tags = merge(local.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = var.flow_logs_destination_type != "s3" || var.flow_logs_s3_destination_arn != null
      error_message = "flow_logs_destination_type = \"s3\" needs flow_logs_s3_destination_arn: the ARN of a bucket (optionally with a folder, e.g. \"arn:aws:s3:::my-flow-logs/payments\") whose bucket policy lets delivery.logs.amazonaws.com write. Or set flow_logs_destination_type = \"cloud-watch-logs\" (the default), or flow_logs_enabled = false."
    }
  }

  depends_on = [aws_iam_role_policy.flow_logs]
}

# The VPC CIDR of a given VPC, for the control plane's security group rule.
data "aws_vpc" "given" {
  count = local.create_vpc ? 0 : 1

  id = var.vpc_id
}

locals {
  vpc_cidr_block = local.create_vpc ? aws_vpc.this[0].cidr_block : data.aws_vpc.given[0].cidr_block
}
