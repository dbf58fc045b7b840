environment        = "dev"
region             = "eu-west-1"
kubernetes_version = "1.33"

# Cheaper network and nodes: one NAT gateway, small spot-free nodes.
nat_gateway_mode = "single"
# The API is reached from the offices and CI runners only.
public_access_cidrs = ["203.0.113.0/24", "198.51.100.0/24"]
node_instance_types = ["t3.large"]
node_min_size       = 2
node_max_size       = 3

base_domain = "dev.shop.example.com"
acme_email  = "platform@example.com"
# Browsers need not trust dev certificates; staging has generous rate limits.
acme_server = "https://acme-staging-v02.api.letsencrypt.org/directory"

shop_quota = {
  cpu    = "8"
  memory = "16Gi"
  pods   = 50
}

api_image        = "ghcr.io/example/orders-api:1.5.0-rc.1"
api_max_replicas = 3

tags = {
  environment = "dev"
  cost-center = "shop"
}

# Alerts only e-mail here; prod also pages.
alert_emails = ["shop-dev@example.com"]
