# Defaults: five alarms per app with an autoscaler maximum (four without), one composite
# alarm per app that notifies, a KMS-encrypted topic only CloudWatch alarms publish to, and
# one dashboard row per app.

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
    api = { namespace = "shop", name = "orders-api", min_pods = 3 }
  }
}

run "alarms_per_app" {
  command = apply

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset([
      "web/pods", "web/restarts", "web/cpu", "web/memory", "web/max-pods",
      "api/pods", "api/restarts", "api/cpu", "api/memory",
    ])
    error_message = "Pods, restarts, CPU and memory for every app; pinned-at-maximum only for apps with max_pods."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api/pods"].alarm_name == "shop-prod-api-pods"
    error_message = "Alarms are named <name>-<app>-<kind>."
  }
  assert {
    # A conditional, not `||`: Terraform before 1.12 evaluates both sides of `||`, and
    # one(q.metric) of an expression query is null.
    condition = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : alltrue([
      for q in a.metric_query : q.expression != null ? true : (one(q.metric).namespace == "ContainerInsights" && one(q.metric).dimensions == tomap({
        ClusterName = "shop-prod", Namespace = "shop", PodName = { web = "web", api = "orders-api" }[split("/", k)[0]]
      }))
    ])])
    error_message = "Every alarm watches its own Deployment's Container Insights metrics in this cluster."
  }
}

run "the_app_is_alive_check" {
  command = apply

  assert {
    condition = (
      one(aws_cloudwatch_metric_alarm.this["api/pods"].metric_query[*].metric[0].metric_name) == "kube_deployment_status_replicas_available" &&
      aws_cloudwatch_metric_alarm.this["api/pods"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.this["api/pods"].threshold == 3
    )
    error_message = "The pods alarm fires when fewer than min_pods pods are available."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api/pods"].treat_missing_data == "breaching"
    error_message = "No data means the app is gone: that is the alarm state."
  }
  assert {
    condition     = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : a.treat_missing_data == "notBreaching" if !endswith(k, "/pods")])
    error_message = "The other alarms do not fire on missing data (the pods alarm covers a missing app)."
  }
}

run "thresholds" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["web/cpu"].threshold == 80 && aws_cloudwatch_metric_alarm.this["web/memory"].threshold == 80 && aws_cloudwatch_metric_alarm.this["web/restarts"].threshold == 3
    error_message = "Default thresholds: 80% of the CPU and memory limits, 3 restarts."
  }
  assert {
    condition = (
      one(aws_cloudwatch_metric_alarm.this["web/cpu"].metric_query[*].metric[0].metric_name) == "pod_cpu_utilization_over_pod_limit" &&
      one(aws_cloudwatch_metric_alarm.this["web/memory"].metric_query[*].metric[0].metric_name) == "pod_memory_utilization_over_pod_limit"
    )
    error_message = "CPU and memory are measured as shares of the pods' limits."
  }
  assert {
    condition     = tomap({ for q in aws_cloudwatch_metric_alarm.this["web/restarts"].metric_query : q.id => q.return_data }) == tomap({ restarts_total = false, restarts = true }) && one([for q in aws_cloudwatch_metric_alarm.this["web/restarts"].metric_query : q.expression if q.id == "restarts"]) == "DIFF(restarts_total)"
    error_message = "Restarts count what is new in the period (the metric is a running total)."
  }
  assert {
    condition = (
      one(aws_cloudwatch_metric_alarm.this["web/max-pods"].metric_query[*].metric[0].metric_name) == "kube_deployment_spec_replicas" &&
      aws_cloudwatch_metric_alarm.this["web/max-pods"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["web/max-pods"].threshold == 10 &&
      aws_cloudwatch_metric_alarm.this["web/max-pods"].evaluation_periods == 15
    )
    error_message = "Pinned at its maximum of 10 replicas for 15 minutes."
  }
}

run "composite_alarm_per_app_notifies" {
  command = apply

  assert {
    condition     = toset(keys(aws_cloudwatch_composite_alarm.app)) == toset(["web", "api"])
    error_message = "One composite alarm per app."
  }
  assert {
    condition     = aws_cloudwatch_composite_alarm.app["api"].alarm_rule == "ALARM(\"shop-prod-api-cpu\") OR ALARM(\"shop-prod-api-memory\") OR ALARM(\"shop-prod-api-pods\") OR ALARM(\"shop-prod-api-restarts\")"
    error_message = "The composite is in ALARM while any of the app's alarms is."
  }
  assert {
    condition     = strcontains(aws_cloudwatch_composite_alarm.app["web"].alarm_rule, "ALARM(\"shop-prod-web-max-pods\")") && !strcontains(aws_cloudwatch_composite_alarm.app["web"].alarm_rule, "api")
    error_message = "Each composite covers its own app's alarms only."
  }
  assert {
    condition     = alltrue([for c in aws_cloudwatch_composite_alarm.app : c.alarm_actions == toset([aws_sns_topic.this.arn]) && c.ok_actions == toset([aws_sns_topic.this.arn])])
    error_message = "Composite alarms notify the topic on ALARM and on OK."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(a.alarm_actions) == 0 && length(a.ok_actions) == 0])
    error_message = "The metric alarms do not notify themselves: one incident pages once."
  }
  assert {
    condition     = output.composite_alarm_arns == { for k, c in aws_cloudwatch_composite_alarm.app : k => c.arn }
    error_message = "The composite alarms are an output."
  }
}

run "topic_encrypted_and_published_by_alarms_only" {
  command = apply

  assert {
    condition     = aws_sns_topic.this.name == "shop-prod-alerts" && aws_sns_topic.this.kms_master_key_id == aws_kms_key.this[0].arn
    error_message = "The topic is encrypted with the created key."
  }
  assert {
    condition     = aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/app-alerts/shop-prod"
    error_message = "The created key rotates and has an alias."
  }
  assert {
    condition = one([for s in jsondecode(aws_kms_key.this[0].policy).Statement : s if s.Sid == "CloudWatchAlarmsPublish"]) == {
      Sid       = "CloudWatchAlarmsPublish"
      Effect    = "Allow"
      Principal = { Service = "cloudwatch.amazonaws.com" }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
      Resource  = "*"
      Condition = { StringEquals = { "kms:EncryptionContext:aws:sns:topicArn" = "arn:aws:sns:eu-west-1:111122223333:shop-prod-alerts" } }
    }
    error_message = "CloudWatch may use the key for this topic only."
  }
  assert {
    condition = one([for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s.Condition if s.Sid == "CloudWatchAlarmsPublish"]) == {
      StringEquals = { "aws:SourceAccount" = "111122223333" }
      ArnLike      = { "aws:SourceArn" = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:shop-prod-*" }
    }
    error_message = "Only this account's shop-prod alarms may publish."
  }
  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0 && length(aws_sns_topic_subscription.https) == 0
    error_message = "No subscriptions unless asked for."
  }
}

run "dashboard_one_row_per_app" {
  command = apply

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "shop-prod-apps" && output.dashboard_name == "shop-prod-apps"
    error_message = "One dashboard, <name>-apps."
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 12
    error_message = "Six widgets per app."
  }
  assert {
    # Apps are sorted by key: api is row 0, web row 1.
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [w.x, w.properties.title] if w.y == 6] == [
      [0, "shop/web: available pods (min 2)"], [4, "shop/web: container restarts"], [8, "shop/web: CPU % of limit"],
      [12, "shop/web: memory % of limit"], [16, "shop/web: replicas (max 10)"], [20, "shop/web: alarms"],
    ]
    error_message = "A row per app: pods, restarts, CPU, memory, replicas, alarms."
  }
  assert {
    condition = one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics if w.y == 0 && w.x == 12]) == [
      ["ContainerInsights", "pod_memory_utilization_over_pod_limit", "ClusterName", "shop-prod", "Namespace", "shop", "PodName", "orders-api"],
    ]
    error_message = "Widgets show the app's own Container Insights metrics."
  }
  assert {
    condition = one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal if w.y == 6 && w.x == 16]) == [
      { label = "maximum", value = 10 },
    ]
    error_message = "Replicas are drawn against the autoscaler's maximum."
  }
  assert {
    condition     = length(one([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.alarms if w.type == "alarm" && w.y == 6])) == 6
    error_message = "The alarm widget shows the app's composite and its five alarms."
  }
}
