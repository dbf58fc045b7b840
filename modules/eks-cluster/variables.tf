################################################################################
# Identity
################################################################################

variable "name" {
  description = "Name of the EKS cluster. Also the prefix of every IAM role, KMS alias and log group the module creates."
  type        = string

  validation {
    # EKS allows 100 characters, but IAM role names derived from the cluster name
    # ("<name>-eks-cluster", "<name>-cert-manager", ...) must stay within IAM's 64.
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,37}$", var.name))
    error_message = "name must be 1 to 38 characters: a letter, then letters, digits or hyphens (e.g. \"payments-prod\")."
  }
}

variable "environment" {
  description = "Environment this cluster serves (dev, stg, prod, ...). Tagged on the cluster as `jke/environment`: the jke provider's environment guard reads that tag before it changes anything."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2 to 16 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"dev\", \"stg\", \"prod\")."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and of the managed node groups, e.g. \"1.33\". Raise it one minor version at a time."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.33\" (major.minor, no patch level)."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates (the module adds `jke/environment` and `jke/cluster` itself)."
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "vpc_id" {
  description = "ID of an existing VPC to use, together with `subnet_ids`. Leave both empty to let the module create a VPC with public and private subnets."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be null (the module creates a VPC) or a VPC ID such as \"vpc-0123456789abcdef0\"."
  }
}

variable "subnet_ids" {
  description = "Private subnet IDs of the existing `vpc_id` (in at least two availability zones) for the node groups and the control plane's network interfaces. Non-empty means: use that VPC, create no network."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must be subnet IDs such as \"subnet-0123456789abcdef0\"."
  }
}

variable "control_plane_subnet_ids" {
  description = "Subnet IDs for the control plane's network interfaces, if they differ from the node subnets. Empty: the private subnets."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.control_plane_subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "control_plane_subnet_ids must be subnet IDs such as \"subnet-0123456789abcdef0\"."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC the module creates. Private subnets get a quarter of it each (pods take VPC addresses), public subnets share the last quarter."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition = (
      can(cidrhost(var.vpc_cidr, 0)) &&
      can(tonumber(split("/", var.vpc_cidr)[1])) &&
      try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 22, false)
    )
    error_message = "vpc_cidr must be an IPv4 CIDR with a prefix length from /16 to /22, e.g. \"10.0.0.0/16\"."
  }
}

variable "availability_zone_count" {
  description = "Number of availability zones the created VPC spans (2 or 3). Ignored when `availability_zones` is set."
  type        = number
  default     = 3

  validation {
    condition     = contains([2, 3], var.availability_zone_count)
    error_message = "availability_zone_count must be 2 or 3."
  }
}

variable "availability_zones" {
  description = "Availability zone names for the created VPC (2 or 3). Empty: the first `availability_zone_count` zones of the region."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || (length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones))
    error_message = "availability_zones must be empty or list 2 or 3 distinct zone names, e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]."
  }
}

variable "nat_gateway_mode" {
  description = "NAT for the created private subnets: \"one_per_az\" (survives a zone outage), \"single\" (cheaper, one zone), or \"none\" (no internet egress: nodes then need VPC endpoints)."
  type        = string
  default     = "one_per_az"

  validation {
    condition     = contains(["one_per_az", "single", "none"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be one of \"one_per_az\", \"single\", \"none\"."
  }
}

variable "restrict_default_security_group" {
  description = "Adopt the created VPC's default security group and remove all its rules, so nothing launched without a security group can send or receive traffic. False leaves AWS's default rules (members reach each other and anywhere). Ignored with an existing VPC."
  type        = bool
  default     = true
}

variable "flow_logs_enabled" {
  description = "Record VPC flow logs of the created VPC (ignored with an existing VPC, whose owner decides). Where to: `flow_logs_destination_type`."
  type        = bool
  default     = true
}

variable "flow_logs_destination_type" {
  description = "Where VPC flow logs go: \"cloud-watch-logs\" (a log group `/aws/vpc/<name>/flow-logs` the module creates, written by a role limited to that group) or \"s3\" (the bucket in `flow_logs_s3_destination_arn`)."
  type        = string
  default     = "cloud-watch-logs"

  validation {
    condition     = contains(["cloud-watch-logs", "s3"], var.flow_logs_destination_type)
    error_message = "flow_logs_destination_type must be \"cloud-watch-logs\" or \"s3\"."
  }
}

variable "flow_logs_s3_destination_arn" {
  description = "With `flow_logs_destination_type = \"s3\"`: ARN of the bucket, optionally with a folder (\"arn:aws:s3:::my-flow-logs/payments\"). Its bucket policy must let `delivery.logs.amazonaws.com` write."
  type        = string
  default     = null

  validation {
    condition     = var.flow_logs_s3_destination_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.flow_logs_s3_destination_arn))
    error_message = "flow_logs_s3_destination_arn must be null or an S3 bucket ARN, optionally with a folder, e.g. \"arn:aws:s3:::my-flow-logs/payments\"."
  }
}

variable "flow_logs_traffic_type" {
  description = "Which traffic VPC flow logs record: \"ALL\", \"ACCEPT\" or \"REJECT\"."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ACCEPT", "REJECT"], var.flow_logs_traffic_type)
    error_message = "flow_logs_traffic_type must be \"ALL\", \"ACCEPT\" or \"REJECT\"."
  }
}

variable "flow_logs_max_aggregation_interval" {
  description = "Seconds over which a flow is aggregated into one record: 60 or 600."
  type        = number
  default     = 600

  validation {
    condition     = contains([60, 600], var.flow_logs_max_aggregation_interval)
    error_message = "flow_logs_max_aggregation_interval must be 60 or 600 (seconds)."
  }
}

variable "flow_logs_retention_in_days" {
  description = "Retention of the flow log group (CloudWatch destination), in days (a CloudWatch Logs retention value; 0 keeps logs forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_in_days)
    error_message = "flow_logs_retention_in_days must be a CloudWatch Logs retention value: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "flow_logs_kms_key_arn" {
  description = "KMS key ARN to encrypt the flow log group with (CloudWatch destination). Its key policy must allow the CloudWatch Logs service principal. Null: CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.flow_logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.flow_logs_kms_key_arn))
    error_message = "flow_logs_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# Control plane
################################################################################

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API endpoint is reachable from the internet, from `public_access_cidrs` only (which must then be set). Off by default: the API is reached from the VPC and `private_access_cidrs`."
  type        = bool
  default     = false
}

variable "endpoint_private_access" {
  description = "Whether the Kubernetes API endpoint is reachable from inside the VPC. Nodes then talk to the API without leaving the VPC."
  type        = bool
  default     = true
}

variable "public_access_cidrs" {
  description = "IPv4 CIDRs allowed to reach the public API endpoint, with `endpoint_public_access = true`: your offices and CI runners. No default: `[\"0.0.0.0/0\"]` opens the API to the whole internet and must be written out."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c))])
    error_message = "public_access_cidrs must be IPv4 CIDRs, e.g. [\"203.0.113.0/24\"]."
  }
}

variable "private_access_cidrs" {
  description = "Extra IPv4 CIDRs (VPN, peered VPCs) allowed to reach the private API endpoint on port 443, besides the VPC's own CIDR."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.private_access_cidrs : can(cidrnetmask(c))])
    error_message = "private_access_cidrs must be IPv4 CIDRs, e.g. [\"172.16.0.0/12\"]."
  }
}

variable "service_ipv4_cidr" {
  description = "CIDR Kubernetes Service IPs come from. Null: EKS picks 10.100.0.0/16 or 172.20.0.0/16. Cannot change after creation."
  type        = string
  default     = null

  validation {
    condition     = var.service_ipv4_cidr == null || can(cidrnetmask(var.service_ipv4_cidr))
    error_message = "service_ipv4_cidr must be null or an IPv4 CIDR such as \"172.20.0.0/16\"."
  }
}

variable "upgrade_support_type" {
  description = "EKS version support policy: \"STANDARD\" (the cluster is upgraded automatically at the end of standard support) or \"EXTENDED\" (extra cost). Null keeps the EKS default."
  type        = string
  default     = null

  validation {
    condition     = var.upgrade_support_type == null || contains(["STANDARD", "EXTENDED"], coalesce(var.upgrade_support_type, "STANDARD"))
    error_message = "upgrade_support_type must be null, \"STANDARD\" or \"EXTENDED\"."
  }
}

variable "create_kms_key" {
  description = "Create the KMS key that envelope-encrypts Kubernetes Secrets (rotation on). Set false and give `kms_key_arn` to use your own key."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of your KMS key for envelope encryption of Kubernetes Secrets, used with `create_kms_key = false` (it may come from a key created in the same run)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN such as \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "kms_key_administrator_arns" {
  description = "IAM role or user ARNs the created key's policy lets manage the key (policy, rotation, aliases, grants, deletion) but not encrypt or decrypt; the identity running Terraform must be one of them. Empty: the account, so IAM policies decide who administers it. Only the control-plane role may use the key."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.kms_key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "kms_key_administrator_arns must be IAM role or user ARNs, e.g. \"arn:aws:iam::111122223333:role/platform-admin\"."
  }
}

variable "kms_key_account_wide_access" {
  description = "Give the created key AWS's default key policy instead: IAM policies of the account may grant any KMS action on it, including decrypting Secrets' data keys (the module's behaviour before the explicit key policy)."
  type        = bool
  default     = false
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted after a destroy (7 to 30 days). Secrets of the cluster cannot be read without the key."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number of days from 7 to 30."
  }
}

variable "cluster_log_types" {
  description = "Control-plane log types sent to CloudWatch Logs. Any of: api, audit, authenticator, controllerManager, scheduler."
  type        = list(string)
  default     = ["api", "audit", "authenticator"]

  validation {
    condition     = alltrue([for t in var.cluster_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "cluster_log_types may only contain \"api\", \"audit\", \"authenticator\", \"controllerManager\" and \"scheduler\"."
  }
}

variable "cluster_log_retention_in_days" {
  description = "Retention of the control-plane log group `/aws/eks/<name>/cluster`, in days (a CloudWatch Logs retention value; 0 keeps logs forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cluster_log_retention_in_days)
    error_message = "cluster_log_retention_in_days must be a CloudWatch Logs retention value: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "cluster_log_kms_key_arn" {
  description = "KMS key ARN to encrypt the control-plane log group with. Its key policy must allow the CloudWatch Logs service principal. Null: CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.cluster_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.cluster_log_kms_key_arn))
    error_message = "cluster_log_kms_key_arn must be null or a KMS key ARN."
  }
}

################################################################################
# Access
################################################################################

variable "cluster_creator_admin" {
  description = "Give the IAM identity that creates the cluster cluster-admin through an access entry made by EKS. Keep true when the same Terraform run deploys applications; it cannot change after creation."
  type        = bool
  default     = true
}

variable "admin_principal_arns" {
  description = "IAM role or user ARNs given cluster-wide admin (AmazonEKSClusterAdminPolicy) through access entries. They must be known at plan time (existing roles); for roles created in the same run use `access_entries`, whose keys you choose."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs, e.g. \"arn:aws:iam::111122223333:role/platform-admin\"."
  }
}

variable "readonly_principal_arns" {
  description = "IAM role or user ARNs given cluster-wide read-only access without Secrets (AmazonEKSViewPolicy) through access entries. Known at plan time, like `admin_principal_arns`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.readonly_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "readonly_principal_arns must be IAM role or user ARNs, e.g. \"arn:aws:iam::111122223333:role/developers\"."
  }
}

variable "access_entries" {
  description = "Further access entries, keyed by a name of your choice: a principal, an EKS access policy name (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy, AmazonEKSEditPolicy, AmazonEKSViewPolicy, ...) and optionally the namespaces it is limited to."
  type = map(object({
    principal_arn     = string
    policy            = optional(string, "AmazonEKSViewPolicy")
    namespaces        = optional(list(string), [])
    kubernetes_groups = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for e in values(var.access_entries) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", e.principal_arn))])
    error_message = "access_entries[*].principal_arn must be an IAM role or user ARN, e.g. \"arn:aws:iam::111122223333:role/team-a\"."
  }

  validation {
    condition     = alltrue([for e in values(var.access_entries) : can(regex("^AmazonEKS[A-Za-z]+Policy$", e.policy))])
    error_message = "access_entries[*].policy must be the name of an EKS access policy such as \"AmazonEKSViewPolicy\" or \"AmazonEKSEditPolicy\" (the name, not the ARN)."
  }
}

variable "enable_irsa" {
  description = "Create an IAM OIDC identity provider for the cluster, so IAM roles can trust Kubernetes service accounts (IRSA). Pod identity needs no such provider."
  type        = bool
  default     = true
}

variable "pod_identity_associations" {
  description = "EKS Pod Identity associations to create, keyed by a name of your choice: the IAM role a Kubernetes service account gets. Roles must trust `pods.eks.amazonaws.com` (see the `pod_identity_assume_role_policy` output); add-on roles are made by the eks-addons module."
  type = map(object({
    namespace       = string
    service_account = string
    role_arn        = string
  }))
  default = {}

  validation {
    condition     = alltrue([for p in values(var.pod_identity_associations) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", p.role_arn))])
    error_message = "pod_identity_associations[*].role_arn must be an IAM role ARN, e.g. \"arn:aws:iam::111122223333:role/orders-api\"."
  }
}

################################################################################
# Compute
################################################################################

variable "auto_mode" {
  description = "Run the cluster in EKS Auto Mode: AWS manages the nodes (built-in node pools), load balancing and block storage. Managed node groups are then optional."
  type        = bool
  default     = false
}

variable "auto_mode_node_pools" {
  description = "Built-in Auto Mode node pools to enable: any of \"general-purpose\" and \"system\"."
  type        = list(string)
  default     = ["general-purpose", "system"]

  validation {
    condition     = alltrue([for p in var.auto_mode_node_pools : contains(["general-purpose", "system"], p)])
    error_message = "auto_mode_node_pools may only contain \"general-purpose\" and \"system\"."
  }
}

variable "node_groups" {
  description = <<-EOT
    Managed node groups keyed by a short name. Null: one group "default" (none in Auto Mode).
    Each attribute has a default: instance_types ["m6i.large"], capacity_type "ON_DEMAND",
    ami_type "AL2023_x86_64_STANDARD", min_size 2, max_size 6, desired_size 3 (only at
    creation: afterwards the cluster autoscaler owns it), disk_size 50 (GiB, encrypted gp3),
    labels {}, taints [], subnet_ids (default: all private subnets), max_unavailable_percentage 33.
  EOT
  type = map(object({
    instance_types             = optional(list(string), ["m6i.large"])
    capacity_type              = optional(string, "ON_DEMAND")
    ami_type                   = optional(string, "AL2023_x86_64_STANDARD")
    min_size                   = optional(number, 2)
    max_size                   = optional(number, 6)
    desired_size               = optional(number, 3)
    disk_size                  = optional(number, 50)
    labels                     = optional(map(string), {})
    taints                     = optional(list(object({ key = string, value = optional(string), effect = string })), [])
    subnet_ids                 = optional(list(string))
    max_unavailable_percentage = optional(number, 33)
  }))
  default = null

  validation {
    condition     = alltrue([for k in(var.node_groups == null ? [] : keys(var.node_groups)) : can(regex("^[a-z][a-z0-9-]{0,19}$", k))])
    error_message = "node_groups keys must be 1 to 20 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }

  validation {
    condition     = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : contains(["ON_DEMAND", "SPOT"], g.capacity_type)])
    error_message = "node_groups[*].capacity_type must be \"ON_DEMAND\" or \"SPOT\"."
  }

  validation {
    condition     = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : g.min_size >= 0 && g.max_size >= 1 && g.min_size <= g.desired_size && g.desired_size <= g.max_size])
    error_message = "node_groups[*] sizes must satisfy 0 <= min_size <= desired_size <= max_size and max_size >= 1."
  }

  validation {
    condition     = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : length(g.instance_types) > 0])
    error_message = "node_groups[*].instance_types must list at least one EC2 instance type, e.g. [\"m6i.large\"]."
  }

  validation {
    condition     = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : g.disk_size >= 20 && g.disk_size <= 16384])
    error_message = "node_groups[*].disk_size must be from 20 to 16384 GiB."
  }

  validation {
    condition = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : contains([
      "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2023_x86_64_NEURON",
      "AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64_NVIDIA",
      "BOTTLEROCKET_ARM_64_NVIDIA", "AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64",
    ], g.ami_type)])
    error_message = "node_groups[*].ami_type must be an EKS AMI type such as \"AL2023_x86_64_STANDARD\", \"AL2023_ARM_64_STANDARD\" or \"BOTTLEROCKET_x86_64\"."
  }

  validation {
    condition     = alltrue(flatten([for g in(var.node_groups == null ? [] : values(var.node_groups)) : [for t in g.taints : contains(["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"], t.effect)]]))
    error_message = "node_groups[*].taints[*].effect must be \"NO_SCHEDULE\", \"NO_EXECUTE\" or \"PREFER_NO_SCHEDULE\"."
  }

  validation {
    condition     = alltrue([for g in(var.node_groups == null ? [] : values(var.node_groups)) : g.max_unavailable_percentage >= 1 && g.max_unavailable_percentage <= 100])
    error_message = "node_groups[*].max_unavailable_percentage must be from 1 to 100."
  }
}

variable "attach_cni_policy_to_node_role" {
  description = "Attach AmazonEKS_CNI_Policy to the node role so the VPC CNI works from the first boot. Set false once the eks-addons module gives vpc-cni its own pod identity role."
  type        = bool
  default     = true
}

variable "node_ssm_access" {
  description = "Attach AmazonSSMManagedInstanceCore to the node role, for Session Manager shells on nodes instead of SSH."
  type        = bool
  default     = true
}

variable "node_metadata_hop_limit" {
  description = "Instance metadata (IMDSv2) response hop limit of managed node group nodes. 1: processes on the node and host-network pods reach it, other pods cannot take the node role's credentials (they get roles through pod identity or IRSA). 2 lets every pod reach it."
  type        = number
  default     = 1

  validation {
    condition     = var.node_metadata_hop_limit >= 1 && var.node_metadata_hop_limit <= 64 && floor(var.node_metadata_hop_limit) == var.node_metadata_hop_limit
    error_message = "node_metadata_hop_limit must be a whole number from 1 to 64."
  }
}
