# Every input that changes what is created.

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

run "per_alarm_notifications" {
  command = apply

  variables {
    notify = "per_alarm"
  }

  assert {
    condition     = length(aws_cloudwatch_composite_alarm.app) == 0 && output.composite_alarm_arns == {}
    error_message = "No composite alarms."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset([aws_sns_topic.this.arn]) && a.ok_actions == toset([aws_sns_topic.this.arn])]) && length(aws_cloudwatch_metric_alarm.this) == 5
    error_message = "Every alarm notifies the topic on ALARM and on OK."
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.alarms if w.type == "alarm"])) == 5
    error_message = "The alarm widget shows the app's five alarms."
  }
}

run "subscriptions" {
  command = apply

  variables {
    email_addresses = ["oncall@example.com", "shop-team@example.com"]
    https_endpoints = { pagerduty = "https://events.pagerduty.com/integration/0123456789abcdef/enqueue" }
  }

  assert {
    condition     = toset([for s in aws_sns_topic_subscription.email : "${s.protocol}:${s.endpoint}"]) == toset(["email:oncall@example.com", "email:shop-team@example.com"])
    error_message = "Each address is subscribed by e-mail."
  }
  assert {
    condition = (
      keys(aws_sns_topic_subscription.https) == ["pagerduty"] &&
      aws_sns_topic_subscription.https["pagerduty"].protocol == "https" &&
      aws_sns_topic_subscription.https["pagerduty"].endpoint_auto_confirms &&
      aws_sns_topic_subscription.https["pagerduty"].topic_arn == aws_sns_topic.this.arn
    )
    error_message = "The HTTPS endpoint is subscribed and confirms itself (as PagerDuty does)."
  }
}

run "own_key" {
  command = apply

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && aws_sns_topic.this.kms_master_key_id == var.kms_key_arn && output.kms_key_arn == var.kms_key_arn
    error_message = "The given key encrypts the topic; none is created."
  }
}

run "no_dashboard" {
  command = plan

  variables {
    create_dashboard = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "create_dashboard = false: no dashboard."
  }
}

run "no_apps_yet" {
  command = plan

  variables {
    apps = {}
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && length(aws_cloudwatch_composite_alarm.app) == 0 && length(aws_cloudwatch_dashboard.this) == 0
    error_message = "Without apps: the topic only (an empty dashboard is rejected by CloudWatch)."
  }
}

run "thresholds_per_app" {
  command = apply

  variables {
    apps = {
      web    = { namespace = "shop", name = "web", min_pods = 4, max_pods = 20, cpu_percent = 90, memory_percent = 95, restarts = 5, max_pods_minutes = 30 }
      worker = { namespace = "jobs", name = "worker", min_pods = 1 }
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["web/pods"].threshold == 4 &&
      aws_cloudwatch_metric_alarm.this["web/cpu"].threshold == 90 &&
      aws_cloudwatch_metric_alarm.this["web/memory"].threshold == 95 &&
      aws_cloudwatch_metric_alarm.this["web/restarts"].threshold == 5 &&
      aws_cloudwatch_metric_alarm.this["web/max-pods"].threshold == 20 &&
      aws_cloudwatch_metric_alarm.this["web/max-pods"].evaluation_periods == 30
    )
    error_message = "Per-app thresholds replace the defaults."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["worker/cpu"].threshold == 80 && !contains(keys(aws_cloudwatch_metric_alarm.this), "worker/max-pods")
    error_message = "Other apps keep the defaults; no maximum, no pinned-at-maximum alarm."
  }
  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.this["worker/pods"].metric_query : one(q.metric).dimensions]) == tomap({ ClusterName = "shop-prod", Namespace = "jobs", PodName = "worker" })
    error_message = "Each app's alarms watch its own namespace and Deployment."
  }
  assert {
    condition     = [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.x == 16] == ["shop/web: replicas (max 20)", "jobs/worker: replicas"]
    error_message = "One row per app, in key order."
  }
}

run "tags" {
  command = plan

  variables {
    tags = { team = "platform" }
  }

  assert {
    condition     = aws_sns_topic.this.tags == tomap({ team = "platform", "jke/alerts" = "shop-prod" })
    error_message = "Resources carry the given tags and jke/alerts."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["web/pods"].tags["jke/app"] == "shop/web" && aws_cloudwatch_composite_alarm.app["web"].tags["jke/app"] == "shop/web"
    error_message = "Alarms name their app in a tag."
  }
}
