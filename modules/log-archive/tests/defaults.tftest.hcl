# Defaults: a created key, two locked-down buckets, Firehose partitioning by namespace and
# app, a projected Glue table, an enforced Athena workgroup and three named queries.

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
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/mocked"
    }
  }
  mock_resource "aws_kinesis_firehose_delivery_stream" {
    defaults = {
      arn = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/shop-prod-logs"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/kinesisfirehose/shop-prod-logs"
    }
  }
  mock_resource "aws_athena_workgroup" {
    defaults = {
      arn = "arn:aws:athena:eu-west-1:111122223333:workgroup/shop-prod-logs"
    }
  }
}

variables {
  name           = "shop-prod"
  log_group_name = "/aws/containerinsights/shop-prod/application"
}

run "buckets_are_encrypted_private_versioned_and_tls_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this["logs"].bucket == "shop-prod-logs-111122223333" && aws_s3_bucket.this["athena"].bucket == "shop-prod-athena-111122223333"
    error_message = "The archive and the results buckets are named <name>-logs-<account> and <name>-athena-<account>."
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : !b.force_destroy])
    error_message = "A destroy must not delete an archive full of logs by default."
  }
  assert {
    condition     = !aws_athena_workgroup.this.force_destroy
    error_message = "A destroy must not delete the workgroup's query history and saved queries by default."
  }
  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/log-archive/shop-prod"
    error_message = "A key of its own, rotated, with an alias."
  }
  assert {
    condition = alltrue([for c in aws_s3_bucket_server_side_encryption_configuration.this : one([
      for r in c.rule : one(r.apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(r.apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.this[0].arn && r.bucket_key_enabled
    ])]) && length(aws_s3_bucket_server_side_encryption_configuration.this) == 2
    error_message = "Both buckets are encrypted with the created key (SSE-KMS, bucket keys)."
  }
  assert {
    condition = length(aws_s3_bucket_public_access_block.this) == 2 && alltrue([
      for p in aws_s3_bucket_public_access_block.this : p.block_public_acls && p.block_public_policy && p.ignore_public_acls && p.restrict_public_buckets
    ])
    error_message = "Public access is blocked on both buckets."
  }
  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.this : one(v.versioning_configuration).status == "Enabled"]) && length(aws_s3_bucket_versioning.this) == 2
    error_message = "Both buckets are versioned."
  }
  assert {
    condition = alltrue([for k, p in aws_s3_bucket_policy.this : jsondecode(p.policy).Statement[0] == {
      Sid       = "TLSOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::${aws_s3_bucket.this[k].bucket}", "arn:aws:s3:::${aws_s3_bucket.this[k].bucket}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }])
    error_message = "Each bucket policy denies every request without TLS."
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "No access logging unless a target bucket is given."
  }
}

run "lifecycle_defaults" {
  command = apply

  assert {
    condition = toset([for t in one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).transition : "${t.days}:${t.storage_class}"]) == toset([
      "30:STANDARD_IA", "90:GLACIER_IR",
    ])
    error_message = "Logs move to Standard-IA after 30 days and to Glacier Instant Retrieval (still queryable) after 90."
  }
  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).expiration).days == 400
    error_message = "Logs expire after 400 days."
  }
  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).noncurrent_version_expiration).noncurrent_days == 30
    error_message = "Replaced versions are kept 30 days."
  }
  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.athena.rule).expiration).days == 30
    error_message = "Query results are kept 30 days."
  }
}

run "firehose_partitions_by_namespace_app_and_hour" {
  command = apply

  assert {
    condition     = one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).prefix == "logs/!{partitionKeyFromQuery:namespace}/!{partitionKeyFromQuery:app}/!{timestamp:yyyy/MM/dd/HH}/"
    error_message = "Objects land under logs/<namespace>/<app>/<yyyy/MM/dd/HH>/."
  }
  assert {
    condition     = one(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).dynamic_partitioning_configuration).enabled
    error_message = "Dynamic partitioning is on."
  }
  assert {
    condition = [for p in one(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).processing_configuration).processors : p.type] == [
      "Decompression", "CloudWatchLogProcessing", "MetadataExtraction", "AppendDelimiterToRecord",
    ]
    error_message = "Records are decompressed, split into log events, read for namespace and app, and newline-delimited."
  }
  assert {
    condition = strcontains(one([
      for p in one(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).processing_configuration).processors : one([for x in p.parameters : x.parameter_value if x.parameter_name == "MetadataExtractionQuery"]) if p.type == "MetadataExtraction"
    ]), ".kubernetes.labels[\"app.kubernetes.io/name\"]")
    error_message = "The app is the pod label app.kubernetes.io/name that jke_application sets."
  }
  assert {
    condition = (
      one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).compression_format == "GZIP" &&
      one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).kms_key_arn == aws_kms_key.this[0].arn &&
      one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).buffering_size == 64 &&
      one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).buffering_interval == 300
    )
    error_message = "Compressed objects, encrypted with the key, written every 64 MiB or 5 minutes."
  }
  assert {
    condition = (
      one(aws_kinesis_firehose_delivery_stream.this.server_side_encryption).enabled &&
      one(aws_kinesis_firehose_delivery_stream.this.server_side_encryption).key_type == "CUSTOMER_MANAGED_CMK" &&
      one(aws_kinesis_firehose_delivery_stream.this.server_side_encryption).key_arn == aws_kms_key.this[0].arn
    )
    error_message = "Records buffered in the stream are encrypted with the created key (server-side encryption)."
  }
  assert {
    condition     = one(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).cloudwatch_logging_options).log_group_name == "/aws/kinesisfirehose/shop-prod-logs"
    error_message = "Delivery errors are logged."
  }
  assert {
    condition = (
      aws_cloudwatch_log_subscription_filter.this.log_group_name == "/aws/containerinsights/shop-prod/application" &&
      aws_cloudwatch_log_subscription_filter.this.filter_pattern == "" &&
      aws_cloudwatch_log_subscription_filter.this.destination_arn == aws_kinesis_firehose_delivery_stream.this.arn &&
      aws_cloudwatch_log_subscription_filter.this.role_arn == aws_iam_role.subscription.arn
    )
    error_message = "Every line of the application log group goes to the stream."
  }
}

run "roles_are_least_privilege" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.subscription.assume_role_policy).Statement[0].Principal == { Service = "logs.amazonaws.com" } && jsondecode(aws_iam_role.subscription.assume_role_policy).Statement[0].Condition == {
      StringLike = { "aws:SourceArn" = "arn:aws:logs:eu-west-1:111122223333:*" }
    }
    error_message = "Only CloudWatch Logs of this account and region assumes the subscription role."
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.subscription.policy).Statement == [{
      Sid      = "PutRecords"
      Effect   = "Allow"
      Action   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
      Resource = "arn:aws:firehose:eu-west-1:111122223333:deliverystream/shop-prod-logs"
    }]
    error_message = "The subscription role may only put records into this stream."
  }
  assert {
    condition     = jsondecode(aws_iam_role.firehose.assume_role_policy).Statement[0].Condition == { StringEquals = { "sts:ExternalId" = "111122223333" } }
    error_message = "Firehose assumes its role only on behalf of this account."
  }
  assert {
    condition = toset(flatten([for s in jsondecode(aws_iam_role_policy.firehose.policy).Statement : s.Resource])) == toset([
      "arn:aws:s3:::shop-prod-logs-111122223333",
      "arn:aws:s3:::shop-prod-logs-111122223333/logs/*",
      "arn:aws:s3:::shop-prod-logs-111122223333/errors/*",
      aws_kms_key.this[0].arn,
      "${aws_cloudwatch_log_group.firehose.arn}:log-stream:DestinationDelivery",
    ])
    error_message = "Firehose may touch its bucket, its key and its error log stream, nothing else."
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.firehose.policy).Statement : s.Condition if s.Sid == "EncryptObjects"]) == {
      StringEquals = { "kms:ViaService" = "s3.eu-west-1.amazonaws.com" }
      StringLike   = { "kms:EncryptionContext:aws:s3:arn" = "arn:aws:s3:::shop-prod-logs-111122223333/*" }
    }
    error_message = "Firehose uses the key only through S3, for objects of the archive bucket."
  }
  assert {
    condition     = !strcontains(aws_iam_role_policy.firehose.policy, "\"*\"") && !strcontains(aws_iam_role_policy.subscription.policy, "\"*\"")
    error_message = "No wildcard resources or actions."
  }
}

run "glue_table_projects_partitions" {
  command = apply

  assert {
    condition     = aws_glue_catalog_database.this.name == "shop_prod" && output.table_name == "shop_prod.container_logs"
    error_message = "Database <name with underscores>, table container_logs."
  }
  assert {
    condition     = [for k in aws_glue_catalog_table.this.partition_keys : k.name] == ["namespace", "app", "hour"]
    error_message = "Partitions: namespace, app, hour."
  }
  assert {
    condition = (
      aws_glue_catalog_table.this.parameters["projection.enabled"] == "true" &&
      aws_glue_catalog_table.this.parameters["projection.namespace.type"] == "injected" &&
      aws_glue_catalog_table.this.parameters["projection.app.type"] == "injected" &&
      aws_glue_catalog_table.this.parameters["projection.hour.type"] == "date" &&
      aws_glue_catalog_table.this.parameters["projection.hour.format"] == "yyyy/MM/dd/HH" &&
      aws_glue_catalog_table.this.parameters["projection.hour.interval.unit"] == "HOURS" &&
      aws_glue_catalog_table.this.parameters["projection.hour.range"] == "NOW-400DAYS,NOW"
    )
    error_message = "Partition projection: namespace and app from the query, hours over the retention."
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["storage.location.template"] == "s3://shop-prod-logs-111122223333/logs/$${namespace}/$${app}/$${hour}/"
    error_message = "The projected location is the layout Firehose writes."
  }
  assert {
    condition     = one(aws_glue_catalog_table.this.storage_descriptor).location == "s3://shop-prod-logs-111122223333/logs/" && one(one(aws_glue_catalog_table.this.storage_descriptor).ser_de_info).serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    error_message = "JSON lines under logs/."
  }
  assert {
    condition     = strcontains(one([for c in one(aws_glue_catalog_table.this.storage_descriptor).columns : c.type if c.name == "kubernetes"]), "labels:map<string,string>")
    error_message = "The Kubernetes metadata, labels included, are columns."
  }
}

run "athena_workgroup_and_queries" {
  command = apply

  assert {
    condition = (
      one(aws_athena_workgroup.this.configuration).enforce_workgroup_configuration &&
      one(one(aws_athena_workgroup.this.configuration).result_configuration).output_location == "s3://shop-prod-athena-111122223333/results/" &&
      one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).encryption_option == "SSE_KMS" &&
      one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).kms_key_arn == aws_kms_key.this[0].arn &&
      one(aws_athena_workgroup.this.configuration).bytes_scanned_cutoff_per_query == 107374182400
    )
    error_message = "Enforced settings: results encrypted with the key in the results bucket, at most 100 GiB per query."
  }
  assert {
    condition     = toset(keys(aws_athena_named_query.this)) == toset(["app-errors-last-hour", "app-lines-by-pod", "app-top-errors-by-day"])
    error_message = "Three named queries."
  }
  assert {
    condition = alltrue([for q in aws_athena_named_query.this : (
      q.workgroup == "shop-prod-logs" && q.database == "shop_prod" &&
      strcontains(q.query, "FROM \"shop_prod\".\"container_logs\"") && strcontains(q.query, "WHERE namespace = ? AND app = ?")
    )])
    error_message = "Each query runs in the workgroup and names its app's partitions (so it scans one app)."
  }
  assert {
    condition     = strcontains(aws_athena_named_query.this["app-errors-last-hour"].query, "INTERVAL '1' HOUR") && strcontains(aws_athena_named_query.this["app-errors-last-hour"].query, "regexp_like(log, '(?i)\\b(error|fatal|panic|exception)\\b')")
    error_message = "Errors of the last hour."
  }
  assert {
    condition     = strcontains(aws_athena_named_query.this["app-lines-by-pod"].query, "hour BETWEEN ? AND ?") && strcontains(aws_athena_named_query.this["app-lines-by-pod"].query, "ORDER BY pod, time")
    error_message = "Lines by pod in a range of hours."
  }
  assert {
    condition     = strcontains(aws_athena_named_query.this["app-top-errors-by-day"].query, "PARTITION BY day ORDER BY lines DESC") && strcontains(aws_athena_named_query.this["app-top-errors-by-day"].query, "rank <= 10")
    error_message = "Top ten messages per day."
  }
  assert {
    condition     = output.example_query == aws_athena_named_query.this["app-errors-last-hour"].query && output.workgroup_name == "shop-prod-logs" && output.bucket_name == "shop-prod-logs-111122223333"
    error_message = "Outputs: bucket, workgroup, an example query."
  }
  assert {
    condition     = jsondecode(output.query_policy_json).Statement[0].Resource == "arn:aws:athena:eu-west-1:111122223333:workgroup/shop-prod-logs"
    error_message = "The query policy is limited to the workgroup."
  }
}
