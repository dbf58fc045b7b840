# Two apps on the local cluster (tests/cluster/up). `tests/quickstart` starts the cluster
# and applies this with the kubeconfig it writes.

terraform {
  required_version = ">= 1.11"
  required_providers {
    jke = {
      source = "jke/jke"
      # Installed by `terraform init` (tests/quickstart serves it from tests/release's
      # filesystem mirror); the exact build is recorded in .terraform.lock.hcl.
      version = "~> 0.1"
    }
  }
}

variable "kubeconfig" {
  description = "Path of the local cluster's kubeconfig (written by tests/cluster/up)."
  type        = string
}

variable "context" {
  description = "Kubeconfig context to use; the provider never falls back to the current one."
  type        = string
}

provider "jke" {
  kubernetes = {
    config_path    = var.kubeconfig
    config_context = var.context
  }

  # The platform team's defaults: small apps in their own namespace.
  defaults = {
    namespace        = "quickstart"
    create_namespace = true
    cpu              = "100m"
    memory           = "128Mi"
  }
}

resource "jke_application" "web" {
  name  = "web"
  image = "nginx:1.27"
  port  = 80

  ingress = {
    hosts = ["web.quickstart.example.com"]
  }
}

resource "jke_application" "api" {
  name  = "api"
  image = "ghcr.io/example/orders-api:1.4.2"
  port  = 8080

  env = {
    WEB_URL   = "http://${jke_application.web.service_host}"
    LOG_LEVEL = "info"
  }

  # Kept out of plan and state; bump the version to roll out a new value.
  secret_env_wo      = { API_TOKEN = "change-me" }
  secret_env_version = 1

  readiness_probe = {
    http_path = "/healthz"
  }

  autoscale = {
    max_replicas = 4
  }
}

output "web_url" {
  value = jke_application.web.url
}

output "api_objects" {
  value = jke_application.api.objects
}
