# Every validation rejects bad input at plan time, with a message saying what is accepted.

# The values the provider would compute. They are written out in each test file:
# OpenTofu has no mock_provider `source` to share them from a file.
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111122223333"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }
  # The provider validates ARNs even of mocked values.
  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:111122223333:shop-prod-alerts"
    }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:mocked"
    }
  }
  mock_resource "aws_cloudwatch_composite_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:mocked-composite"
    }
  }
}

variables {
  name         = "shop-prod"
  cluster_name = "shop-prod"
  apps = {
    web = { namespace = "shop", name = "web", min_pods = 2, max_pods = 10 }
  }
}

run "name_format" {
  command = plan
  variables {
    name = "shop prod"
  }
  expect_failures = [var.name]
}

run "cluster_name_format" {
  command = plan
  variables {
    cluster_name = "-shop"
  }
  expect_failures = [var.cluster_name]
}

run "app_key_format" {
  command = plan
  variables {
    apps = { Web = { namespace = "shop", name = "web", min_pods = 2 } }
  }
  expect_failures = [var.apps]
}

run "app_names_are_kubernetes_names" {
  command = plan
  variables {
    apps = { web = { namespace = "Shop", name = "web", min_pods = 2 } }
  }
  expect_failures = [var.apps]
}

run "min_pods_at_least_one" {
  command = plan
  variables {
    apps = { web = { namespace = "shop", name = "web", min_pods = 0 } }
  }
  expect_failures = [var.apps]
}

run "max_pods_not_below_min_pods" {
  command = plan
  variables {
    apps = { web = { namespace = "shop", name = "web", min_pods = 3, max_pods = 2 } }
  }
  expect_failures = [var.apps]
}

run "percent_of_limit" {
  command = plan
  variables {
    apps = { web = { namespace = "shop", name = "web", min_pods = 2, memory_percent = 120 } }
  }
  expect_failures = [var.apps]
}

run "restarts_at_least_one" {
  command = plan
  variables {
    apps = { web = { namespace = "shop", name = "web", min_pods = 2, restarts = 0 } }
  }
  expect_failures = [var.apps]
}

run "notify_values" {
  command = plan
  variables {
    notify = "composite"
  }
  expect_failures = [var.notify]
}

run "https_endpoints_are_https" {
  command = plan
  variables {
    https_endpoints = { pagerduty = "http://events.pagerduty.com/integration/KEY/enqueue" }
  }
  expect_failures = [var.https_endpoints]
}

run "email_addresses" {
  command = plan
  variables {
    email_addresses = ["oncall"]
  }
  expect_failures = [var.email_addresses]
}

run "kms_key_arn_format" {
  command = plan
  variables {
    create_kms_key = false
    kms_key_arn    = "alias/aws/sns"
  }
  expect_failures = [var.kms_key_arn]
}

run "kms_key_arn_needs_create_kms_key_false" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }
  expect_failures = [aws_sns_topic.this]
}

run "own_key_needs_kms_key_arn" {
  command = plan
  variables {
    create_kms_key = false
  }
  expect_failures = [aws_sns_topic.this]
}

run "deletion_window" {
  command = plan
  variables {
    kms_key_deletion_window_in_days = 31
  }
  expect_failures = [var.kms_key_deletion_window_in_days]
}
