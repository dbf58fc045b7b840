variable "name" {
  description = "Name prefix of the cluster; the cluster is called \"<name>-<environment>\"."
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.name))
    error_message = "name must be 1 to 21 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "environment" {
  description = "Environment (dev, stg, prod): tags the cluster, marks it through jke_cluster and arms the provider's environment guard."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2 to 16 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"dev\")."
  }
}

variable "region" {
  description = "AWS region of the cluster, e.g. \"eu-west-1\"."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version, e.g. \"1.33\"."
  type        = string
}

variable "nat_gateway_mode" {
  description = "NAT of the created VPC: \"one_per_az\", \"single\" or \"none\" (see modules/eks-cluster)."
  type        = string
  default     = "one_per_az"
}

variable "public_access_cidrs" {
  description = "IPv4 CIDRs allowed to reach the public API endpoint (offices, CI runners, wherever Terraform runs). Empty: private endpoint only, so Terraform must run inside the VPC or over a VPN."
  type        = list(string)
  default     = []
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster admin besides the identity that runs Terraform."
  type        = list(string)
  default     = []
}

variable "node_instance_types" {
  description = "EC2 instance types of the default node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "node_min_size" {
  description = "Fewest nodes of the default node group (also its size at creation)."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Most nodes of the default node group."
  type        = number
  default     = 6
}

variable "ingress_class" {
  description = "IngressClass of the apps' Ingresses and of HTTP-01 challenges, e.g. \"alb\" (AWS Load Balancer Controller or EKS Auto Mode) or \"nginx\". The modules do not install an ingress controller."
  type        = string
  default     = "alb"
}

variable "base_domain" {
  description = "DNS domain of the apps: web is www.<base_domain>, api is api.<base_domain>."
  type        = string
}

variable "route53_zone_id" {
  description = "Route53 hosted zone of base_domain. Set: certificates by DNS-01 and DNS records by external-dns. Null: HTTP-01 through ingress_class, DNS records managed elsewhere."
  type        = string
  default     = null
}

variable "acme_email" {
  description = "Email address of the ACME (Let's Encrypt) account; expiry notices go there."
  type        = string
}

variable "acme_server" {
  description = "ACME directory. Let's Encrypt staging for environments whose certificates no browser needs to trust."
  type        = string
  default     = "https://acme-v02.api.letsencrypt.org/directory"
}

variable "shop_quota" {
  description = "Totals for the shop namespace: cpu and memory (requests and limits of all pods) and the number of pods."
  type = object({
    cpu    = string
    memory = string
    pods   = number
  })
}

variable "web_image" {
  description = "Container image of the web app."
  type        = string
  default     = "nginx:1.27"
}

variable "api_image" {
  description = "Container image of the api app."
  type        = string
}

variable "api_max_replicas" {
  description = "Most replicas the api's autoscaler may run."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags on every AWS resource."
  type        = map(string)
  default     = {}
}

variable "alert_emails" {
  description = "E-mail addresses that receive the app alerts of this environment (each confirms its subscription)."
  type        = list(string)
  default     = []
}

variable "pagerduty_endpoint" {
  description = "PagerDuty (or any HTTPS) endpoint paged by the app alerts, e.g. from TF_VAR_pagerduty_endpoint in CI; null: no paging (dev and stg only e-mail)."
  type        = string
  default     = null
  sensitive   = true
}
