environment        = "stg"
region             = "eu-west-1"
kubernetes_version = "1.33"

nat_gateway_mode = "single"
# The API is reached from the offices and CI runners only.
public_access_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]
node_instance_types = ["m6i.large"]
node_min_size       = 2
node_max_size       = 4

base_domain = "stg.shop.example.com"
acme_email  = "platform@example.com"
acme_server = "https://acme-staging-v02.api.letsencrypt.org/directory"

shop_quota = {
  cpu    = "16"
  memory = "32Gi"
  pods   = 100
}

api_image        = "ghcr.io/example/orders-api:1.4.2"
api_max_replicas = 5

tags = {
  environment = "stg"
  cost-center = "shop"
}

# Alerts only e-mail here; prod also pages.
alert_emails = ["shop-stg@example.com"]
