# Mocked values the provider would compute, shared by the test files (mock_provider source).
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

# Bucket names and ARNs as S3 would report them.
override_resource {
  target = aws_s3_bucket.this["logs"]
  values = {
    id  = "shop-prod-logs-111122223333"
    arn = "arn:aws:s3:::shop-prod-logs-111122223333"
  }
}

override_resource {
  target = aws_s3_bucket.this["athena"]
  values = {
    id  = "shop-prod-athena-111122223333"
    arn = "arn:aws:s3:::shop-prod-athena-111122223333"
  }
}
