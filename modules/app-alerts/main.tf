data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  tags = merge(var.tags, { "jke/alerts" = var.name })

  kms_key_arn = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn
  topic_name  = "${var.name}-alerts"
  topic_arn   = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${local.topic_name}"

  # Container Insights (with enhanced observability, the amazon-cloudwatch-observability
  # add-on's default) reports a Deployment's pods under PodName = the Deployment's name.
  dimensions = {
    for k, a in var.apps : k => { ClusterName = var.cluster_name, Namespace = a.namespace, PodName = a.name }
  }

  # Every alarm of every app, keyed "<app>/<kind>". Each one is a list of metric queries
  # (the last returns the value compared with the threshold), so one resource covers them.
  alarms = merge([
    for k, a in var.apps : merge(
      {
        "${k}/pods" = {
          app         = k
          kind        = "pods"
          description = "Fewer than ${a.min_pods} pods of ${a.namespace}/${a.name} available for 3 minutes (no data counts: the app is gone). Is it crashing, unschedulable, or deleted?"
          comparison  = "LessThanThreshold"
          threshold   = a.min_pods
          periods     = 3
          missing     = "breaching"
          queries = [
            { id = "available", metric = "kube_deployment_status_replicas_available", stat = "Minimum", period = 60, expression = null },
          ]
        }
        "${k}/restarts" = {
          app         = k
          kind        = "restarts"
          description = "${a.restarts} or more container restarts of ${a.namespace}/${a.name} within 5 minutes: a crash loop, failing liveness probes or OOM kills."
          comparison  = "GreaterThanOrEqualToThreshold"
          threshold   = a.restarts
          periods     = 1
          missing     = "notBreaching"
          # The metric counts restarts since each pod started; its rise is what is new.
          queries = [
            { id = "restarts_total", metric = "pod_number_of_container_restarts", stat = "Maximum", period = 300, expression = null },
            { id = "restarts", metric = null, stat = null, period = null, expression = "DIFF(restarts_total)" },
          ]
        }
        "${k}/cpu" = {
          app         = k
          kind        = "cpu"
          description = "Pods of ${a.namespace}/${a.name} used more than ${a.cpu_percent}% of their CPU limit for 5 minutes: throttled, slow responses."
          comparison  = "GreaterThanThreshold"
          threshold   = a.cpu_percent
          periods     = 5
          missing     = "notBreaching"
          queries = [
            { id = "cpu", metric = "pod_cpu_utilization_over_pod_limit", stat = "Average", period = 60, expression = null },
          ]
        }
        "${k}/memory" = {
          app         = k
          kind        = "memory"
          description = "A pod of ${a.namespace}/${a.name} used more than ${a.memory_percent}% of its memory limit for 5 minutes: out-of-memory kills are next."
          comparison  = "GreaterThanThreshold"
          threshold   = a.memory_percent
          periods     = 5
          missing     = "notBreaching"
          queries = [
            { id = "memory", metric = "pod_memory_utilization_over_pod_limit", stat = "Maximum", period = 60, expression = null },
          ]
        }
      },
      { for _ in a.max_pods == null ? [] : [1] : "${k}/max-pods" => {
        app         = k
        kind        = "max-pods"
        description = "The autoscaler has held ${a.namespace}/${a.name} at its maximum of ${a.max_pods} pods for ${a.max_pods_minutes} minutes: it needs more than it may get (raise autoscale.max_replicas, or find the load)."
        comparison  = "GreaterThanOrEqualToThreshold"
        threshold   = a.max_pods
        periods     = a.max_pods_minutes
        missing     = "notBreaching"
        queries = [
          { id = "desired", metric = "kube_deployment_spec_replicas", stat = "Minimum", period = 60, expression = null },
        ]
        }
      },
    )
  ]...)

  # Alarm actions: the composite alarm of each app, or every alarm itself.
  per_alarm_actions = var.notify == "per_alarm" ? [aws_sns_topic.this.arn] : []
}

################################################################################
# Topic: KMS encrypted, published to by this account's CloudWatch alarms only
################################################################################

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "SNS topic ${local.topic_name}: alarm notifications of ${var.name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountIAMPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # An alarm publishing to an encrypted topic needs a data key for that topic.
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "kms:EncryptionContext:aws:sns:topicArn" = local.topic_arn }
        }
      },
    ]
  })

  tags = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/app-alerts/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

resource "aws_sns_topic" "this" {
  name              = local.topic_name
  kms_master_key_id = local.kms_key_arn

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.create_kms_key ? var.kms_key_arn == null : var.kms_key_arn != null
      error_message = "Topic encryption: either create_kms_key = true (the default) and no kms_key_arn, or create_kms_key = false and your key's ARN in kms_key_arn."
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn = aws_sns_topic.this.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountManages"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action = [
          "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
          "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish",
        ]
        Resource = aws_sns_topic.this.arn
      },
      {
        Sid       = "CloudWatchAlarmsPublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*" }
        }
      },
    ]
  })
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.email_addresses)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "https" {
  # The names are not secret, the URLs are.
  for_each = toset(nonsensitive(keys(var.https_endpoints)))

  topic_arn              = aws_sns_topic.this.arn
  protocol               = "https"
  endpoint               = var.https_endpoints[each.key]
  endpoint_auto_confirms = true
}

################################################################################
# Alarms per app, and one composite alarm per app that pages
################################################################################

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.value.app}-${each.value.kind}"
  alarm_description   = each.value.description
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  treat_missing_data  = each.value.missing

  dynamic "metric_query" {
    for_each = each.value.queries
    content {
      id          = metric_query.value.id
      expression  = metric_query.value.expression
      return_data = metric_query.key == length(each.value.queries) - 1

      dynamic "metric" {
        for_each = metric_query.value.metric != null ? [metric_query.value] : []
        content {
          namespace   = "ContainerInsights"
          metric_name = metric.value.metric
          dimensions  = local.dimensions[each.value.app]
          stat        = metric.value.stat
          period      = metric.value.period
        }
      }
    }
  }

  alarm_actions = local.per_alarm_actions
  ok_actions    = local.per_alarm_actions

  tags = merge(local.tags, { "jke/app" = "${var.apps[each.value.app].namespace}/${var.apps[each.value.app].name}" })
}

resource "aws_cloudwatch_composite_alarm" "app" {
  for_each = var.notify == "per_app" ? var.apps : {}

  alarm_name        = "${var.name}-${each.key}"
  alarm_description = "${each.value.namespace}/${each.value.name} needs attention: one of its alarms (pods, restarts, CPU, memory${each.value.max_pods != null ? ", pods at maximum" : ""}) is in ALARM. The alarm's own description says what it saw."
  alarm_rule = join(" OR ", [
    for key, alarm in aws_cloudwatch_metric_alarm.this : "ALARM(\"${alarm.alarm_name}\")" if local.alarms[key].app == each.key
  ])

  alarm_actions = [aws_sns_topic.this.arn]
  ok_actions    = [aws_sns_topic.this.arn]

  tags = merge(local.tags, { "jke/app" = "${each.value.namespace}/${each.value.name}" })
}

################################################################################
# Dashboard: one row per app
################################################################################

locals {
  app_keys = sort(keys(var.apps))

  # A Container Insights metric of one app, as a dashboard widget's metrics entry.
  widget_metric = {
    for k, d in local.dimensions : k => ["ContainerInsights", "METRIC", "ClusterName", d.ClusterName, "Namespace", d.Namespace, "PodName", d.PodName]
  }

  dashboard_widgets = flatten([
    for row, k in local.app_keys : [
      for column, w in [
        {
          title  = "available pods (min ${var.apps[k].min_pods})"
          metric = "kube_deployment_status_replicas_available"
          stat   = "Minimum"
          lines  = [{ label = "minimum", value = var.apps[k].min_pods }]
        },
        {
          title  = "container restarts"
          metric = "pod_number_of_container_restarts"
          stat   = "Maximum"
          lines  = []
        },
        {
          title  = "CPU % of limit"
          metric = "pod_cpu_utilization_over_pod_limit"
          stat   = "Average"
          lines  = [{ label = "alarm", value = var.apps[k].cpu_percent }]
        },
        {
          title  = "memory % of limit"
          metric = "pod_memory_utilization_over_pod_limit"
          stat   = "Maximum"
          lines  = [{ label = "alarm", value = var.apps[k].memory_percent }]
        },
        {
          title  = var.apps[k].max_pods != null ? "replicas (max ${var.apps[k].max_pods})" : "replicas"
          metric = "kube_deployment_spec_replicas"
          stat   = "Maximum"
          lines  = var.apps[k].max_pods != null ? [{ label = "maximum", value = var.apps[k].max_pods }] : []
        },
        ] : {
        type   = "metric"
        x      = column * 4
        y      = row * 6
        width  = 4
        height = 6
        properties = {
          title   = "${var.apps[k].namespace}/${var.apps[k].name}: ${w.title}"
          view    = "timeSeries"
          region  = local.region
          stat    = w.stat
          period  = 60
          metrics = [[for part in local.widget_metric[k] : part == "METRIC" ? w.metric : part]]
          annotations = {
            horizontal = w.lines
          }
        }
      }
    ]
  ])

  # The sixth column: the app's alarms, in colour.
  alarm_widgets = [
    for row, k in local.app_keys : {
      type   = "alarm"
      x      = 20
      y      = row * 6
      width  = 4
      height = 6
      properties = {
        title = "${var.apps[k].namespace}/${var.apps[k].name}: alarms"
        alarms = concat(
          [for key, alarm in aws_cloudwatch_composite_alarm.app : alarm.arn if key == k],
          [for key, alarm in aws_cloudwatch_metric_alarm.this : alarm.arn if local.alarms[key].app == k],
        )
      }
    }
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard && length(var.apps) > 0 ? 1 : 0

  dashboard_name = "${var.name}-apps"
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_widgets, local.alarm_widgets) })
}
