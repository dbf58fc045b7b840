environment        = "prod"
region             = "eu-west-1"
kubernetes_version = "1.33"

# A NAT gateway per zone survives a zone outage; only offices and CI reach the API.
nat_gateway_mode     = "one_per_az"
public_access_cidrs  = ["203.0.113.0/24", "198.51.100.0/24"]
admin_principal_arns = ["arn:aws:iam::111122223333:role/platform-admin"]
node_instance_types  = ["m6i.xlarge"]
node_min_size        = 3
node_max_size        = 12

base_domain     = "shop.example.com"
route53_zone_id = "Z0123456789ABCDEFGHIJ"
acme_email      = "platform@example.com"

shop_quota = {
  cpu    = "64"
  memory = "128Gi"
  pods   = 400
}

api_image        = "ghcr.io/example/orders-api:1.4.2"
api_max_replicas = 30

tags = {
  environment = "prod"
  cost-center = "shop"
}

# Alerts page through PagerDuty (TF_VAR_pagerduty_endpoint, kept out of this file) and e-mail.
alert_emails = ["shop-oncall@example.com"]
