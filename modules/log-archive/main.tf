data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  tags = merge(var.tags, { "jke/log-archive" = var.name })

  kms_key_arn = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # The archive and the Athena results get the same protection; only their lifecycles
  # differ. Query users need write access to the results, read access to the archive.
  buckets = {
    logs   = "${var.name}-logs-${local.account_id}"
    athena = "${var.name}-athena-${local.account_id}"
  }
  # A bucket's id is its name, and its ARN is made of the partition and the name alone (S3
  # ARNs carry no region or account), so both are known at plan time. They are read through
  # the resources, which keeps every reference depending on the bucket it names.
  bucket_ids  = { for k, b in aws_s3_bucket.this : k => b.bucket }
  bucket_arns = { for k, b in aws_s3_bucket.this : k => "arn:${local.partition}:s3:::${b.bucket}" }

  # Glue names allow lowercase letters, digits and underscores.
  database_name = replace(var.name, "-", "_")
  table_name    = "container_logs"

  # S3 layout of the archive: logs/<namespace>/<app>/<yyyy/MM/dd/HH>/ (UTC arrival hour), or
  # logs/<yyyy/MM/dd/HH>/ without dynamic partitioning. Firehose writes it; Athena projects
  # the same layout.
  firehose_prefix   = var.partition_by_app ? "logs/!{partitionKeyFromQuery:namespace}/!{partitionKeyFromQuery:app}/!{timestamp:yyyy/MM/dd/HH}/" : "logs/!{timestamp:yyyy/MM/dd/HH}/"
  location          = "s3://${local.buckets.logs}/logs/"
  location_template = var.partition_by_app ? "${local.location}$${namespace}/$${app}/$${hour}/" : "${local.location}$${hour}/"

  # The namespace and the app of a line, read by Firehose from the record's Kubernetes
  # metadata (jq). Lines of pods without the app label are filed under "_none".
  partition_query = "{namespace: .kubernetes.namespace_name, app: (.kubernetes.labels[\"app.kubernetes.io/name\"] // \"_none\")}"
}

################################################################################
# Encryption key: the archive, the query results and the Firehose error log
################################################################################

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "Log archive ${var.name}: S3 objects, Athena query results, Firehose error log"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_in_days

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account's IAM policies decide who else may use the key (the Firehose role,
        # query users), as with the default key policy.
        Sid       = "AccountIAMPolicies"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "FirehoseErrorLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/kinesisfirehose/${var.name}-logs"
          }
        }
      },
    ]
  })

  tags = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/log-archive/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

################################################################################
# Buckets: archive and Athena results
################################################################################

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = local.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    # One data key per bucket and hour instead of one KMS call per object.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TLSOnly"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arns[each.key], "${local.bucket_arns[each.key]}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # A policy is only accepted once public policies are blocked as intended.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = var.access_logging != null ? aws_s3_bucket.this : {}

  bucket        = each.value.bucket
  target_bucket = var.access_logging.target_bucket
  target_prefix = "${coalesce(var.access_logging.target_prefix, "${var.name}/")}${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = local.bucket_ids["logs"]

  rule {
    id     = "archive"
    status = "Enabled"
    filter {
      prefix = "logs/"
    }

    transition {
      days          = var.transition_to_infrequent_access_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.transition_to_archive_days
      storage_class = var.archive_storage_class
    }
    expiration {
      days = var.expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  # Records Firehose could not partition or deliver: kept long enough to investigate.
  rule {
    id     = "delivery-errors"
    status = "Enabled"
    filter {
      prefix = "errors/"
    }

    expiration {
      days = var.transition_to_infrequent_access_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "incomplete-uploads"
    status = "Enabled"
    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  lifecycle {
    precondition {
      condition     = var.transition_to_archive_days >= var.transition_to_infrequent_access_days + 30
      error_message = "transition_to_archive_days must be at least 30 days after transition_to_infrequent_access_days (S3 keeps objects in Standard-IA for 30 days), e.g. 90 with the default 30."
    }
    precondition {
      condition     = var.expiration_days > var.transition_to_archive_days
      error_message = "expiration_days must be greater than transition_to_archive_days, e.g. 400 with the default 90."
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "athena" {
  bucket = local.bucket_ids["athena"]

  rule {
    id     = "query-results"
    status = "Enabled"
    filter {}

    expiration {
      days = var.query_results_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

################################################################################
# Delivery: CloudWatch Logs subscription -> Firehose -> S3
################################################################################

resource "aws_cloudwatch_log_group" "firehose" {
  name              = "/aws/kinesisfirehose/${var.name}-logs"
  retention_in_days = var.error_log_retention_in_days
  kms_key_id        = local.kms_key_arn

  tags = local.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  name        = "${var.name}-logs"
  destination = "extended_s3"

  extended_s3_configuration {
    role_arn            = aws_iam_role.firehose.arn
    bucket_arn          = local.bucket_arns["logs"]
    prefix              = local.firehose_prefix
    error_output_prefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"
    buffering_size      = var.buffering_size
    buffering_interval  = var.buffering_interval
    compression_format  = "GZIP"
    kms_key_arn         = local.kms_key_arn

    dynamic "dynamic_partitioning_configuration" {
      for_each = var.partition_by_app ? [1] : []
      content {
        enabled = true
      }
    }

    # CloudWatch Logs sends gzip-compressed batches of events; Firehose unpacks them into
    # one JSON line per log event (the add-on's record: log, stream, kubernetes{...}).
    processing_configuration {
      enabled = true

      processors {
        type = "Decompression"
        parameters {
          parameter_name  = "CompressionFormat"
          parameter_value = "GZIP"
        }
      }
      processors {
        type = "CloudWatchLogProcessing"
        parameters {
          parameter_name  = "DataMessageExtraction"
          parameter_value = "true"
        }
      }
      dynamic "processors" {
        for_each = var.partition_by_app ? [1] : []
        content {
          type = "MetadataExtraction"
          parameters {
            parameter_name  = "JsonParsingEngine"
            parameter_value = "JQ-1.6"
          }
          parameters {
            parameter_name  = "MetadataExtractionQuery"
            parameter_value = local.partition_query
          }
        }
      }
      processors {
        type = "AppendDelimiterToRecord"
        parameters {
          parameter_name  = "Delimiter"
          parameter_value = "\\n"
        }
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose.name
    }
  }

  # Records at rest in the stream's buffer are encrypted with the archive's key too, not
  # only the objects in S3 (Firehose creates and manages a grant on the key for it).
  server_side_encryption {
    enabled  = true
    key_type = "CUSTOMER_MANAGED_CMK"
    key_arn  = local.kms_key_arn
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = var.create_kms_key ? var.kms_key_arn == null : var.kms_key_arn != null
      error_message = "Encryption: either create_kms_key = true (the default) and no kms_key_arn, or create_kms_key = false and your key's ARN in kms_key_arn."
    }
    precondition {
      condition     = !var.partition_by_app || var.buffering_size >= 64
      error_message = "partition_by_app uses Firehose dynamic partitioning, which needs buffering_size of at least 64 MiB."
    }
  }

  depends_on = [aws_iam_role_policy.firehose]
}

resource "aws_cloudwatch_log_subscription_filter" "this" {
  name            = "${var.name}-log-archive"
  log_group_name  = var.log_group_name
  filter_pattern  = var.filter_pattern
  destination_arn = aws_kinesis_firehose_delivery_stream.this.arn
  role_arn        = aws_iam_role.subscription.arn

  depends_on = [aws_iam_role_policy.subscription]
}

################################################################################
# Glue catalog: the archive as a table whose partitions Athena projects (no crawler)
################################################################################

resource "aws_glue_catalog_database" "this" {
  name        = local.database_name
  description = "Log archive ${var.name}: container logs of ${var.log_group_name}"
}

resource "aws_glue_catalog_table" "this" {
  database_name = aws_glue_catalog_database.this.name
  name          = local.table_name
  description   = "One row per container log line, as the CloudWatch agent's Fluent Bit recorded it"
  table_type    = "EXTERNAL_TABLE"

  parameters = merge(
    {
      EXTERNAL                        = "TRUE"
      classification                  = "json"
      compressionType                 = "gzip"
      "projection.enabled"            = "true"
      "projection.hour.type"          = "date"
      "projection.hour.format"        = "yyyy/MM/dd/HH"
      "projection.hour.range"         = "NOW-${var.expiration_days}DAYS,NOW"
      "projection.hour.interval"      = "1"
      "projection.hour.interval.unit" = "HOURS"
      "storage.location.template"     = local.location_template
    },
    # Namespaces and apps come and go: their values come from each query's WHERE clause.
    var.partition_by_app ? {
      "projection.namespace.type" = "injected"
      "projection.app.type"       = "injected"
    } : {},
  )

  dynamic "partition_keys" {
    for_each = var.partition_by_app ? ["namespace", "app"] : []
    content {
      name    = partition_keys.value
      type    = "string"
      comment = partition_keys.value == "app" ? "Pod label app.kubernetes.io/name (\"_none\" without it)" : "Kubernetes namespace"
    }
  }
  partition_keys {
    name    = "hour"
    type    = "string"
    comment = "Hour the line reached Firehose, UTC, as yyyy/MM/dd/HH"
  }

  storage_descriptor {
    location      = local.location
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = {
        "ignore.malformed.json" = "true"
      }
    }

    columns {
      name    = "time"
      type    = "string"
      comment = "When the container wrote the line (RFC 3339)"
    }
    columns {
      name    = "stream"
      type    = "string"
      comment = "stdout or stderr"
    }
    columns {
      name    = "log"
      type    = "string"
      comment = "The log line"
    }
    columns {
      name    = "kubernetes"
      type    = "struct<pod_name:string,namespace_name:string,pod_id:string,host:string,container_name:string,container_image:string,docker_id:string,labels:map<string,string>>"
      comment = "Metadata the CloudWatch agent adds: pod, namespace, node, container, image, labels"
    }
  }
}

################################################################################
# Athena: a workgroup whose settings queries cannot override, and starting points
################################################################################

resource "aws_athena_workgroup" "this" {
  name        = "${var.name}-logs"
  description = "Queries over the log archive ${var.name} (table ${local.database_name}.${local.table_name})"

  # Athena refuses to delete a workgroup that holds query executions or saved queries
  # unless asked to delete them too (DeleteWorkGroup RecursiveDeleteOption): once anyone
  # has queried the archive, destroy would stop here even with force_destroy on the buckets.
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location       = "s3://${local.bucket_ids["athena"]}/results/"
      expected_bucket_owner = local.account_id

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = local.kms_key_arn
      }
    }
  }

  tags = local.tags
}

locals {
  table = "\"${local.database_name}\".\"${local.table_name}\""

  # Which rows belong to the app given as the first two parameters (namespace, app):
  # partitions when Firehose files lines by app, the record's metadata otherwise.
  app_filter = var.partition_by_app ? "namespace = ? AND app = ?" : "kubernetes.namespace_name = ? AND kubernetes.labels['app.kubernetes.io/name'] = ?"

  queries = {
    app-errors-last-hour = {
      description = "Error lines of one app in the last hour, newest first. Parameters: namespace, app."
      query       = <<-SQL
        SELECT time, kubernetes.pod_name AS pod, kubernetes.container_name AS container, log
        FROM ${local.table}
        WHERE ${local.app_filter}
          AND hour >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y/%m/%d/%H')
          AND regexp_like(log, '${var.error_regex}')
        ORDER BY time DESC
        LIMIT 1000
      SQL
    }
    app-lines-by-pod = {
      description = "Every log line of one app between two hours (UTC, yyyy/MM/dd/HH, both included), pod by pod. Parameters: namespace, app, first hour, last hour."
      query       = <<-SQL
        SELECT kubernetes.pod_name AS pod, time, stream, log
        FROM ${local.table}
        WHERE ${local.app_filter}
          AND hour BETWEEN ? AND ?
        ORDER BY pod, time
      SQL
    }
    app-top-errors-by-day = {
      description = "The ten most frequent error messages of one app per day over the last 7 days (digits folded, so IDs and durations group). Parameters: namespace, app."
      query       = <<-SQL
        SELECT day, message, lines
        FROM (
          SELECT day, message, lines, row_number() OVER (PARTITION BY day ORDER BY lines DESC) AS rank
          FROM (
            SELECT substr(hour, 1, 10) AS day, regexp_replace(log, '[0-9]+', 'N') AS message, count(*) AS lines
            FROM ${local.table}
            WHERE ${local.app_filter}
              AND hour >= date_format(current_timestamp - INTERVAL '7' DAY, '%Y/%m/%d/%H')
              AND regexp_like(log, '${var.error_regex}')
            GROUP BY 1, 2
          )
        )
        WHERE rank <= 10
        ORDER BY day DESC, lines DESC
      SQL
    }
  }
}

resource "aws_athena_named_query" "this" {
  for_each = local.queries

  name        = "${var.name}-${each.key}"
  description = each.value.description
  workgroup   = aws_athena_workgroup.this.name
  database    = aws_glue_catalog_database.this.name
  query       = trimspace(each.value.query)
}
