################################################################################
# Identity
################################################################################

variable "name" {
  description = "Name of this set of alerts, usually the environment's cluster (\"shop-prod\"). Prefix of the SNS topic, the alarms and the dashboard."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,62}$", var.name))
    error_message = "name must be 1 to 63 characters: a letter, then letters, digits or hyphens (e.g. \"shop-prod\")."
  }
}

variable "cluster_name" {
  description = "EKS cluster whose Container Insights metrics (ClusterName dimension) the alarms watch, e.g. the eks-cluster module's `cluster_name` output."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must be an EKS cluster name such as \"shop-prod\" (letters, digits, hyphens and underscores, at most 100)."
  }
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Apps
################################################################################

variable "apps" {
  description = <<-EOT
    The apps to watch, by a key of your choice (it names the alarms). Per app:
    `namespace` and `name` of its Deployment; `min_pods`, the fewest available pods it may
    run (below it the app counts as down); `max_pods`, its autoscaler's maximum (null: no
    "pinned at maximum" alarm); thresholds with defaults: `cpu_percent` and `memory_percent`
    of the pods' limits (80), `restarts` of its containers per 5 minutes (3), `max_pods_minutes`
    at the maximum before the alarm fires (15). Build it from jke_application resources:
    `{ for k, a in { web = jke_application.web } : k => { namespace = a.namespace, name = a.name, min_pods = a.autoscale.min_replicas, max_pods = a.autoscale.max_replicas } }`.
  EOT
  type = map(object({
    namespace        = string
    name             = string
    min_pods         = number
    max_pods         = optional(number)
    cpu_percent      = optional(number, 80)
    memory_percent   = optional(number, 80)
    restarts         = optional(number, 3)
    max_pods_minutes = optional(number, 15)
  }))

  validation {
    condition     = alltrue([for k, _ in var.apps : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", k))])
    error_message = "apps keys must be lowercase letters, digits and hyphens, at most 63 (e.g. \"web\" or \"shop-web\")."
  }

  validation {
    condition = alltrue([for a in var.apps : can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", a.namespace)) && can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", a.name))])
    # Terraform evaluates the message only on failure.
    error_message = "apps[*].namespace and apps[*].name must be Kubernetes names: lowercase letters, digits and hyphens (e.g. namespace = \"shop\", name = \"web\")."
  }

  validation {
    condition     = alltrue([for a in var.apps : a.min_pods >= 1 && floor(a.min_pods) == a.min_pods])
    error_message = "apps[*].min_pods must be a whole number of at least 1 (e.g. 2): an app with no pods cannot be checked for being alive."
  }

  validation {
    condition     = alltrue([for a in var.apps : a.max_pods == null || try(a.max_pods >= a.min_pods && floor(a.max_pods) == a.max_pods, false)])
    error_message = "apps[*].max_pods must be null or a whole number not below min_pods (e.g. min_pods = 2, max_pods = 10)."
  }

  validation {
    condition     = alltrue([for a in var.apps : a.cpu_percent > 0 && a.cpu_percent <= 100 && a.memory_percent > 0 && a.memory_percent <= 100])
    error_message = "apps[*].cpu_percent and apps[*].memory_percent must be shares of the limit above 0 and at most 100 (e.g. 80)."
  }

  validation {
    condition     = alltrue([for a in var.apps : a.restarts >= 1 && a.max_pods_minutes >= 1 && floor(a.max_pods_minutes) == a.max_pods_minutes])
    error_message = "apps[*].restarts must be at least 1 (e.g. 3) and apps[*].max_pods_minutes a whole number of at least 1 (e.g. 15)."
  }
}

################################################################################
# Notifications
################################################################################

variable "notify" {
  description = "What notifies: \"per_app\" (default) gives each app one composite alarm that is in ALARM while any of its alarms is, and only it notifies, so one incident pages once; \"per_alarm\" lets every alarm notify on its own (no composite alarms)."
  type        = string
  default     = "per_app"

  validation {
    condition     = contains(["per_app", "per_alarm"], var.notify)
    error_message = "notify must be \"per_app\" or \"per_alarm\" (e.g. \"per_app\")."
  }
}

variable "https_endpoints" {
  description = "HTTPS endpoints subscribed to the topic, by a name of your choice, e.g. `{ pagerduty = \"https://events.pagerduty.com/integration/<integration key>/enqueue\" }` (PagerDuty's Amazon CloudWatch integration). They must confirm the subscription themselves, as PagerDuty does. Sensitive: the URL carries the key."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for k, u in var.https_endpoints : can(regex("^[a-z0-9][a-z0-9-]*$", k)) && startswith(u, "https://")])
    error_message = "https_endpoints must map names (lowercase letters, digits, hyphens) to https:// URLs, e.g. { pagerduty = \"https://events.pagerduty.com/integration/KEY/enqueue\" }."
  }
}

variable "email_addresses" {
  description = "E-mail addresses subscribed to the topic. Each gets a confirmation mail and receives nothing until it is confirmed."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "email_addresses must be e-mail addresses such as \"oncall@example.com\"."
  }
}

variable "create_kms_key" {
  description = "Whether the module creates the KMS key (with rotation) that encrypts the SNS topic, with a key policy that lets CloudWatch alarms publish. false: give `kms_key_arn`."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of your KMS key for the topic, with `create_kms_key = false`. Its key policy must allow `cloudwatch.amazonaws.com` kms:Decrypt and kms:GenerateDataKey*, or alarms cannot publish (the AWS managed key alias/aws/sns does not)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN such as \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted after `terraform destroy`."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be between 7 and 30 (e.g. 30)."
  }
}

################################################################################
# Dashboard
################################################################################

variable "create_dashboard" {
  description = "Whether the module creates one CloudWatch dashboard for all apps (one row per app: available pods against the minimum, restarts, CPU and memory against the limits, replicas against the maximum, alarm state)."
  type        = bool
  default     = true
}
