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

run "partitioned_by_hour_only" {
  command = apply

  variables {
    partition_by_app = false
    buffering_size   = 5
  }

  assert {
    condition     = one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).prefix == "logs/!{timestamp:yyyy/MM/dd/HH}/" && length(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).dynamic_partitioning_configuration) == 0
    error_message = "Without partition_by_app, no dynamic partitioning: objects under logs/<hour>/."
  }
  assert {
    condition     = [for p in one(one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).processing_configuration).processors : p.type] == ["Decompression", "CloudWatchLogProcessing", "AppendDelimiterToRecord"]
    error_message = "Lines are still unpacked into JSON lines, but not read for partition keys."
  }
  assert {
    condition     = one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).buffering_size == 5
    error_message = "Smaller buffers are allowed without dynamic partitioning."
  }
  assert {
    condition     = [for k in aws_glue_catalog_table.this.partition_keys : k.name] == ["hour"] && !contains(keys(aws_glue_catalog_table.this.parameters), "projection.app.type")
    error_message = "The table is partitioned by hour only."
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["storage.location.template"] == "s3://shop-prod-logs-111122223333/logs/$${hour}/"
    error_message = "The projected location follows the hour-only layout."
  }
  assert {
    condition     = alltrue([for q in aws_athena_named_query.this : strcontains(q.query, "kubernetes.namespace_name = ? AND kubernetes.labels['app.kubernetes.io/name'] = ?")])
    error_message = "The queries select the app by its record's metadata."
  }
}

run "own_key" {
  command = apply

  variables {
    create_kms_key = false
    kms_key_arn    = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_kms_alias.this) == 0
    error_message = "No key is created."
  }
  assert {
    condition = alltrue([for c in aws_s3_bucket_server_side_encryption_configuration.this : one(one(c.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn]) && (
      one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).kms_key_arn == var.kms_key_arn &&
      one(aws_kinesis_firehose_delivery_stream.this.server_side_encryption).key_arn == var.kms_key_arn &&
      one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).kms_key_arn == var.kms_key_arn &&
      aws_cloudwatch_log_group.firehose.kms_key_id == var.kms_key_arn &&
      output.kms_key_arn == var.kms_key_arn
    )
    error_message = "The given key encrypts the buckets, the Firehose stream and objects, the query results and the error log."
  }
}

run "access_logging" {
  command = apply

  variables {
    access_logging = { target_bucket = "shop-s3-access-logs" }
  }

  assert {
    condition     = { for k, l in aws_s3_bucket_logging.this : k => [l.target_bucket, l.target_prefix] } == { logs = ["shop-s3-access-logs", "shop-prod/logs/"], athena = ["shop-s3-access-logs", "shop-prod/athena/"] }
    error_message = "Both buckets log their access into the target bucket, each under its own prefix."
  }
}

run "access_logging_prefix" {
  command = plan

  variables {
    access_logging = { target_bucket = "shop-s3-access-logs", target_prefix = "s3/" }
  }

  assert {
    condition     = aws_s3_bucket_logging.this["logs"].target_prefix == "s3/logs/"
    error_message = "A given prefix replaces \"<name>/\"."
  }
}

run "lifecycle_and_limits" {
  command = apply

  variables {
    transition_to_infrequent_access_days = 60
    transition_to_archive_days           = 180
    archive_storage_class                = "DEEP_ARCHIVE"
    expiration_days                      = 2555
    noncurrent_version_expiration_days   = 7
    query_results_expiration_days        = 3
    bytes_scanned_cutoff_per_query       = null
    force_destroy                        = true
    filter_pattern                       = "?ERROR ?WARN"
    error_regex                          = "level=(error|fatal)"
    buffering_interval                   = 60
    error_log_retention_in_days          = 7
  }

  assert {
    condition = toset([for t in one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).transition : "${t.days}:${t.storage_class}"]) == toset([
      "60:STANDARD_IA", "180:DEEP_ARCHIVE",
    ]) && one(one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).expiration).days == 2555
    error_message = "Transitions and expiry follow the inputs."
  }
  assert {
    condition     = one(one([for r in aws_s3_bucket_lifecycle_configuration.logs.rule : r if r.id == "archive"]).noncurrent_version_expiration).noncurrent_days == 7 && one(one(aws_s3_bucket_lifecycle_configuration.athena.rule).expiration).days == 3
    error_message = "Version and query result retention follow the inputs."
  }
  assert {
    condition     = aws_glue_catalog_table.this.parameters["projection.hour.range"] == "NOW-2555DAYS,NOW"
    error_message = "Athena projects hours as far back as logs are kept."
  }
  assert {
    condition     = one(aws_athena_workgroup.this.configuration).bytes_scanned_cutoff_per_query == null
    error_message = "No per-query limit when null."
  }
  assert {
    condition     = alltrue([for b in aws_s3_bucket.this : b.force_destroy]) && aws_athena_workgroup.this.force_destroy
    error_message = "force_destroy reaches both buckets and the workgroup (which Athena will not delete while it holds query executions)."
  }
  assert {
    condition     = aws_cloudwatch_log_subscription_filter.this.filter_pattern == "?ERROR ?WARN"
    error_message = "The filter pattern selects what is archived."
  }
  assert {
    condition     = strcontains(aws_athena_named_query.this["app-errors-last-hour"].query, "regexp_like(log, 'level=(error|fatal)')") && strcontains(aws_athena_named_query.this["app-top-errors-by-day"].query, "regexp_like(log, 'level=(error|fatal)')")
    error_message = "The error queries use error_regex."
  }
  assert {
    condition     = one(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration).buffering_interval == 60 && aws_cloudwatch_log_group.firehose.retention_in_days == 7
    error_message = "Buffering interval and error log retention follow the inputs."
  }
}

run "tags" {
  command = plan

  variables {
    tags = { team = "platform" }
  }

  assert {
    condition     = aws_s3_bucket.this["logs"].tags == tomap({ team = "platform", "jke/log-archive" = "shop-prod" }) && aws_kinesis_firehose_delivery_stream.this.tags == aws_s3_bucket.this["logs"].tags
    error_message = "Resources carry the given tags and jke/log-archive."
  }
}
