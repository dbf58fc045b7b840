################################################################################
# Cluster
################################################################################

variable "cluster_name" {
  description = "Name of the EKS cluster (the eks-cluster module's `cluster_name` output, which waits for the node groups, so add-ons that need nodes can become ready)."
  type        = string

  validation {
    # Pod identity role names are "<cluster_name>-<add-on>" and IAM allows 64 characters.
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,37}$", var.cluster_name))
    error_message = "cluster_name must be 1 to 38 characters: a letter, then letters, digits or hyphens."
  }
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the cluster, e.g. \"1.33\"; add-ons without a pinned version get the latest version compatible with it."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must be a Kubernetes minor version such as \"1.33\"."
  }
}

variable "auto_mode" {
  description = "Whether the cluster runs in EKS Auto Mode. There AWS runs the VPC CNI, kube-proxy, CoreDNS and the pod identity agent itself, so those add-ons default to off."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Add-ons. Every add-on takes the same settings:
#   enabled                      on/off (default: on, except external_dns, and the four
#                                core add-ons in Auto Mode)
#   version                      pinned add-on version such as "v1.19.5-eksbuild.1";
#                                null: the latest version compatible with kubernetes_version
#   configuration_values         JSON string (jsonencode({...})) of the add-on's settings
#   resolve_conflicts_on_create  NONE or OVERWRITE (default OVERWRITE: take over the
#                                self-managed copy EKS installed at cluster creation)
#   resolve_conflicts_on_update  NONE, OVERWRITE or PRESERVE (default OVERWRITE)
#   preserve                     keep the software in the cluster when the add-on is
#                                removed from Terraform (default true)
# Add-ons that call AWS APIs also take:
#   create_role                  create an IAM role for the add-on's service account and
#                                associate it through EKS Pod Identity (default true)
#   role_arn                     with create_role = false: associate this IAM role instead
#   additional_policy_arns       more IAM policies for the created role
################################################################################

variable "vpc_cni" {
  description = "The Amazon VPC CNI add-on (vpc-cni): pod networking. Its pod identity role gets AmazonEKS_CNI_Policy. `network_policy` (default true) makes it enforce Kubernetes NetworkPolicies (`enableNetworkPolicy` in its configuration values); false leaves `configuration_values` as given. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    network_policy              = optional(bool, true)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
    create_role                 = optional(bool, true)
    role_arn                    = optional(string)
    additional_policy_arns      = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.vpc_cni.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.vpc_cni.version))
    error_message = "vpc_cni.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.vpc_cni.configuration_values == null || can(jsondecode(var.vpc_cni.configuration_values))
    error_message = "vpc_cni.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = var.vpc_cni.configuration_values == null || try(!contains(keys(jsondecode(var.vpc_cni.configuration_values)), "enableNetworkPolicy"), false)
    error_message = "vpc_cni.configuration_values must be a JSON object without enableNetworkPolicy: network policy enforcement is set with vpc_cni.network_policy (true by default, false to turn it off)."
  }

  validation {
    # The network policy agent came with VPC CNI 1.14.
    condition     = var.vpc_cni.version == null || !var.vpc_cni.network_policy || try(tonumber(regex("^v1\\.([0-9]+)\\.", var.vpc_cni.version)[0]) >= 14, true)
    error_message = "vpc_cni.version is older than v1.14.0, which cannot enforce network policies: pin v1.14.0-eksbuild.1 or later, or set vpc_cni.network_policy = false."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.vpc_cni.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.vpc_cni.resolve_conflicts_on_update)
    error_message = "vpc_cni.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; vpc_cni.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }

  validation {
    condition     = var.vpc_cni.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.vpc_cni.role_arn))
    error_message = "vpc_cni.role_arn must be null or an IAM role ARN such as \"arn:aws:iam::111122223333:role/my-role\"."
  }

  validation {
    condition     = !(var.vpc_cni.create_role && var.vpc_cni.role_arn != null)
    error_message = "vpc_cni.role_arn is set but vpc_cni.create_role is true: set create_role = false to use your own role."
  }

  validation {
    condition     = alltrue([for a in var.vpc_cni.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "vpc_cni.additional_policy_arns must be IAM policy ARNs such as \"arn:aws:iam::aws:policy/ReadOnlyAccess\"."
  }
}

variable "coredns" {
  description = "The CoreDNS add-on (coredns): cluster DNS. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.coredns.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.coredns.version))
    error_message = "coredns.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.coredns.configuration_values == null || can(jsondecode(var.coredns.configuration_values))
    error_message = "coredns.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.coredns.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.coredns.resolve_conflicts_on_update)
    error_message = "coredns.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; coredns.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }
}

variable "kube_proxy" {
  description = "The kube-proxy add-on: Service routing on every node. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.kube_proxy.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.kube_proxy.version))
    error_message = "kube_proxy.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.kube_proxy.configuration_values == null || can(jsondecode(var.kube_proxy.configuration_values))
    error_message = "kube_proxy.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.kube_proxy.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.kube_proxy.resolve_conflicts_on_update)
    error_message = "kube_proxy.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; kube_proxy.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }
}

variable "pod_identity_agent" {
  description = "The EKS Pod Identity Agent add-on (eks-pod-identity-agent), which hands IAM credentials to pods; installed before the add-ons that use it. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.pod_identity_agent.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.pod_identity_agent.version))
    error_message = "pod_identity_agent.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.pod_identity_agent.configuration_values == null || can(jsondecode(var.pod_identity_agent.configuration_values))
    error_message = "pod_identity_agent.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.pod_identity_agent.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.pod_identity_agent.resolve_conflicts_on_update)
    error_message = "pod_identity_agent.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; pod_identity_agent.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }
}

variable "metrics_server" {
  description = "The metrics-server community add-on: the resource metrics API that HorizontalPodAutoscalers (every jke_application has one) and `kubectl top` read. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = var.metrics_server.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.metrics_server.version))
    error_message = "metrics_server.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.metrics_server.configuration_values == null || can(jsondecode(var.metrics_server.configuration_values))
    error_message = "metrics_server.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.metrics_server.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.metrics_server.resolve_conflicts_on_update)
    error_message = "metrics_server.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; metrics_server.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }
}

variable "cloudwatch_observability" {
  description = "The Amazon CloudWatch Observability add-on (amazon-cloudwatch-observability): container logs to CloudWatch Logs through Fluent Bit and Container Insights metrics through the CloudWatch agent. Its pod identity role gets CloudWatchAgentServerPolicy and AWSXrayWriteOnlyAccess. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
    create_role                 = optional(bool, true)
    role_arn                    = optional(string)
    additional_policy_arns      = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.cloudwatch_observability.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.cloudwatch_observability.version))
    error_message = "cloudwatch_observability.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.cloudwatch_observability.configuration_values == null || can(jsondecode(var.cloudwatch_observability.configuration_values))
    error_message = "cloudwatch_observability.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.cloudwatch_observability.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.cloudwatch_observability.resolve_conflicts_on_update)
    error_message = "cloudwatch_observability.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; cloudwatch_observability.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }

  validation {
    condition     = var.cloudwatch_observability.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.cloudwatch_observability.role_arn))
    error_message = "cloudwatch_observability.role_arn must be null or an IAM role ARN such as \"arn:aws:iam::111122223333:role/my-role\"."
  }

  validation {
    condition     = !(var.cloudwatch_observability.create_role && var.cloudwatch_observability.role_arn != null)
    error_message = "cloudwatch_observability.role_arn is set but cloudwatch_observability.create_role is true: set create_role = false to use your own role."
  }

  validation {
    condition     = alltrue([for a in var.cloudwatch_observability.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "cloudwatch_observability.additional_policy_arns must be IAM policy ARNs such as \"arn:aws:iam::aws:policy/ReadOnlyAccess\"."
  }
}

variable "cert_manager" {
  description = "The cert-manager community add-on: TLS certificates for Ingresses. With `route53_zone_ids`, its pod identity role may answer ACME DNS-01 challenges (TXT records) in those zones. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
    create_role                 = optional(bool, true)
    role_arn                    = optional(string)
    additional_policy_arns      = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.cert_manager.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.cert_manager.version))
    error_message = "cert_manager.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.cert_manager.configuration_values == null || can(jsondecode(var.cert_manager.configuration_values))
    error_message = "cert_manager.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.cert_manager.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.cert_manager.resolve_conflicts_on_update)
    error_message = "cert_manager.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; cert_manager.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }

  validation {
    condition     = var.cert_manager.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.cert_manager.role_arn))
    error_message = "cert_manager.role_arn must be null or an IAM role ARN such as \"arn:aws:iam::111122223333:role/my-role\"."
  }

  validation {
    condition     = !(var.cert_manager.create_role && var.cert_manager.role_arn != null)
    error_message = "cert_manager.role_arn is set but cert_manager.create_role is true: set create_role = false to use your own role."
  }

  validation {
    condition     = alltrue([for a in var.cert_manager.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "cert_manager.additional_policy_arns must be IAM policy ARNs such as \"arn:aws:iam::aws:policy/ReadOnlyAccess\"."
  }
}

variable "external_dns" {
  description = "The external-dns community add-on (off by default): DNS records in Route53 for Ingresses and Services. Needs `route53_zone_ids`; its pod identity role may change records in those zones only. Takes the common settings (see \"Add-on settings\" in the README)."
  type = object({
    enabled                     = optional(bool)
    version                     = optional(string)
    configuration_values        = optional(string)
    resolve_conflicts_on_create = optional(string, "OVERWRITE")
    resolve_conflicts_on_update = optional(string, "OVERWRITE")
    preserve                    = optional(bool, true)
    create_role                 = optional(bool, true)
    role_arn                    = optional(string)
    additional_policy_arns      = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = var.external_dns.version == null || can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+-eksbuild\\.[0-9]+$", var.external_dns.version))
    error_message = "external_dns.version must be null (latest compatible version) or an EKS add-on version such as \"v1.19.5-eksbuild.1\"."
  }

  validation {
    condition     = var.external_dns.configuration_values == null || can(jsondecode(var.external_dns.configuration_values))
    error_message = "external_dns.configuration_values must be null or a JSON document; write it with jsonencode({...})."
  }

  validation {
    condition     = contains(["NONE", "OVERWRITE"], var.external_dns.resolve_conflicts_on_create) && contains(["NONE", "OVERWRITE", "PRESERVE"], var.external_dns.resolve_conflicts_on_update)
    error_message = "external_dns.resolve_conflicts_on_create must be \"NONE\" or \"OVERWRITE\"; external_dns.resolve_conflicts_on_update must be \"NONE\", \"OVERWRITE\" or \"PRESERVE\"."
  }

  validation {
    condition     = var.external_dns.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.external_dns.role_arn))
    error_message = "external_dns.role_arn must be null or an IAM role ARN such as \"arn:aws:iam::111122223333:role/my-role\"."
  }

  validation {
    condition     = !(var.external_dns.create_role && var.external_dns.role_arn != null)
    error_message = "external_dns.role_arn is set but external_dns.create_role is true: set create_role = false to use your own role."
  }

  validation {
    condition     = alltrue([for a in var.external_dns.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "external_dns.additional_policy_arns must be IAM policy ARNs such as \"arn:aws:iam::aws:policy/ReadOnlyAccess\"."
  }
}

################################################################################
# Settings shared by add-ons
################################################################################

variable "route53_zone_ids" {
  description = "Route53 hosted zone IDs that cert-manager (DNS-01 challenges) and external-dns may write records in."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for z in var.route53_zone_ids : can(regex("^Z[A-Z0-9]{1,31}$", z))])
    error_message = "route53_zone_ids must be hosted zone IDs such as \"Z0123456789ABCDEFGHIJ\" (without the /hostedzone/ prefix)."
  }
}

variable "container_log_retention_in_days" {
  description = "Retention of the Container Insights log groups (/aws/containerinsights/<cluster>/application, dataplane, host, performance), in days (a CloudWatch Logs retention value; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.container_log_retention_in_days)
    error_message = "container_log_retention_in_days must be a CloudWatch Logs retention value: 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "container_log_kms_key_arn" {
  description = "KMS key ARN to encrypt the Container Insights log groups with (its key policy must allow the CloudWatch Logs service). Null: CloudWatch's own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.container_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.container_log_kms_key_arn))
    error_message = "container_log_kms_key_arn must be null or a KMS key ARN."
  }
}
