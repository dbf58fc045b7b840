# One `terraform apply` for everything: an EKS cluster, its add-ons (cert-manager among them),
# the cluster-level platform objects (jke_cluster) and two apps. One state per environment,
# in S3 (backend.tf):
#
#   terraform init -reconfigure -backend-config=envs/dev.s3.tfbackend
#   terraform apply -var-file=envs/dev.tfvars
#
# The jke provider connects through EKS (endpoint, CA and a token from AWS). Its settings are
# unknown until the cluster exists; it plans without the cluster and connects at apply time.

terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.95"
    }
    jke = {
      source = "jke/jke"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

locals {
  cluster_name = "${var.name}-${var.environment}"
  # DNS-01 through Route53 when a hosted zone is given (wildcards, private hosts), else
  # HTTP-01 through the ingress class.
  dns01 = var.route53_zone_id != null
}

module "cluster" {
  source = "../../modules/eks-cluster"

  name               = local.cluster_name
  environment        = var.environment
  kubernetes_version = var.kubernetes_version
  nat_gateway_mode   = var.nat_gateway_mode
  # The jke provider in this same run reaches the API from where Terraform runs: the public
  # endpoint is opened to the environment's CIDRs only.
  endpoint_public_access = length(var.public_access_cidrs) > 0
  public_access_cidrs    = var.public_access_cidrs
  admin_principal_arns   = var.admin_principal_arns
  tags                   = var.tags

  node_groups = {
    default = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_min_size
    }
  }
}

module "addons" {
  source = "../../modules/eks-addons"

  # Known once the node groups exist, so add-ons that need nodes can become ready.
  cluster_name       = module.cluster.cluster_name
  kubernetes_version = module.cluster.kubernetes_version
  route53_zone_ids   = local.dns01 ? [var.route53_zone_id] : []
  external_dns       = { enabled = local.dns01 }
  tags               = var.tags
}

provider "jke" {
  # The guard: every read and write first checks that the cluster is this environment
  # (the EKS tag jke/environment that modules/eks-cluster sets, and the marker jke_cluster
  # writes).
  environment = var.environment

  eks = {
    cluster_name = module.cluster.cluster_name
    region       = var.region
  }

  # The platform team's defaults for every app in this configuration.
  defaults = {
    namespace = "shop"
    ingress = {
      class_name = var.ingress_class
      issuer     = "letsencrypt"
    }
  }
}

resource "jke_cluster" "this" {
  environment   = var.environment
  ingress_class = var.ingress_class
  base_domain   = var.base_domain

  issuers = [
    {
      name                 = "letsencrypt"
      email                = var.acme_email
      server               = var.acme_server
      http01_ingress_class = local.dns01 ? null : var.ingress_class
      dns01_route53 = local.dns01 ? {
        region         = var.region
        hosted_zone_id = var.route53_zone_id
      } : null
    },
  ]

  namespaces = {
    shop = {
      labels = { team = "shop" }
      limit_range = {
        default_cpu    = "500m"
        default_memory = "512Mi"
      }
      quota = var.shop_quota
    }
  }

  # cert-manager's ClusterIssuer CRD comes with the add-ons; the apply waits for it.
  depends_on = [module.addons]
}

resource "jke_application" "web" {
  name  = "web"
  image = var.web_image
  port  = 80

  ingress = {
    hosts = ["www.${var.base_domain}"]
  }

  # The namespace, the marker the guard reads and the issuer come from jke_cluster.
  depends_on = [jke_cluster.this]
}

resource "jke_application" "api" {
  name  = "api"
  image = var.api_image
  port  = 8080

  env = {
    ENVIRONMENT = var.environment
    WEB_URL     = "http://${jke_application.web.service_host}"
  }

  autoscale = {
    max_replicas = var.api_max_replicas
  }

  readiness_probe = {
    http_path = "/healthz"
  }

  ingress = {
    hosts = ["api.${var.base_domain}"]
  }

  depends_on = [jke_cluster.this]
}

# Every app's logs, archived in S3 and queryable in Athena for months (the Container
# Insights application log group the add-ons write to, streamed through Firehose).
module "log_archive" {
  source = "../../modules/log-archive"

  name           = "${var.name}-${var.environment}"
  log_group_name = one([for g in module.addons.container_insights_log_group_names : g if endswith(g, "/application")])
  tags           = var.tags
}

# An alarm per app when it runs fewer pods than its floor, restarts, runs hot or is pinned
# at its maximum; one composite alarm per app notifies (prod pages, dev and stg e-mail).
module "app_alerts" {
  source = "../../modules/app-alerts"

  name         = "${var.name}-${var.environment}"
  cluster_name = module.cluster.cluster_name
  apps = {
    for k, a in { web = jke_application.web, api = jke_application.api } : k => {
      namespace       = a.namespace
      name            = a.name
      min_pods        = a.autoscale.min_replicas
      max_pods        = a.autoscale.max_replicas
    }
  }
  https_endpoints = var.pagerduty_endpoint == null ? {} : { pagerduty = var.pagerduty_endpoint }
  email_addresses = var.alert_emails
  tags            = var.tags
}
