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

run "name_format" {
  command = plan
  variables {
    name = "Shop_Prod"
  }
  expect_failures = [var.name]
}

run "name_fits_bucket_names" {
  command = plan
  variables {
    name = "a-name-far-too-long-for-bucket-names"
  }
  expect_failures = [var.name]
}

run "log_group_name_format" {
  command = plan
  variables {
    log_group_name = "application logs"
  }
  expect_failures = [var.log_group_name]
}

run "kms_key_arn_format" {
  command = plan
  variables {
    create_kms_key = false
    kms_key_arn    = "alias/logs"
  }
  expect_failures = [var.kms_key_arn]
}

run "kms_key_arn_needs_create_kms_key_false" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "own_key_needs_kms_key_arn" {
  command = plan
  variables {
    create_kms_key = false
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "deletion_window" {
  command = plan
  variables {
    kms_key_deletion_window_in_days = 3
  }
  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "infrequent_access_after_30_days" {
  command = plan
  variables {
    transition_to_infrequent_access_days = 10
  }
  expect_failures = [var.transition_to_infrequent_access_days]
}

run "archive_days_whole" {
  command = plan
  variables {
    transition_to_archive_days = 90.5
  }
  expect_failures = [var.transition_to_archive_days]
}

run "archive_30_days_after_infrequent_access" {
  command = plan
  variables {
    transition_to_infrequent_access_days = 60
    transition_to_archive_days           = 70
  }
  expect_failures = [aws_s3_bucket_lifecycle_configuration.logs]
}

run "archive_storage_class" {
  command = plan
  variables {
    archive_storage_class = "STANDARD"
  }
  expect_failures = [var.archive_storage_class]
}

run "expiration_days_minimum" {
  command = plan
  variables {
    expiration_days = 10
  }
  expect_failures = [var.expiration_days]
}

run "expiration_after_archive" {
  command = plan
  variables {
    transition_to_archive_days = 365
    expiration_days            = 200
  }
  expect_failures = [aws_s3_bucket_lifecycle_configuration.logs]
}

run "noncurrent_versions" {
  command = plan
  variables {
    noncurrent_version_expiration_days = 0
  }
  expect_failures = [var.noncurrent_version_expiration_days]
}

run "access_logging_bucket_name" {
  command = plan
  variables {
    access_logging = { target_bucket = "arn:aws:s3:::logs" }
  }
  expect_failures = [var.access_logging]
}

run "filter_pattern_length" {
  command = plan
  variables {
    filter_pattern = join("", [for i in range(110) : "0123456789"])
  }
  expect_failures = [var.filter_pattern]
}

run "buffering_size_range" {
  command = plan
  variables {
    buffering_size = 256
  }
  expect_failures = [var.buffering_size]
}

run "dynamic_partitioning_needs_64_mib" {
  command = plan
  variables {
    buffering_size = 16
  }
  expect_failures = [aws_kinesis_firehose_delivery_stream.this]
}

run "buffering_interval_range" {
  command = plan
  variables {
    buffering_interval = 1200
  }
  expect_failures = [var.buffering_interval]
}

run "error_log_retention" {
  command = plan
  variables {
    error_log_retention_in_days = 10
  }
  expect_failures = [var.error_log_retention_in_days]
}

run "bytes_scanned_cutoff_minimum" {
  command = plan
  variables {
    bytes_scanned_cutoff_per_query = 1000
  }
  expect_failures = [var.bytes_scanned_cutoff_per_query]
}

run "query_results_expiration" {
  command = plan
  variables {
    query_results_expiration_days = 0
  }
  expect_failures = [var.query_results_expiration_days]
}

run "error_regex_without_quotes" {
  command = plan
  variables {
    error_regex = "it's broken"
  }
  expect_failures = [var.error_regex]
}
