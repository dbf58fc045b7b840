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
