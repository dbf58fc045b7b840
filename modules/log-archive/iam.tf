################################################################################
# IAM: CloudWatch Logs may put records into this stream only; Firehose may write this
# bucket, use the key through S3 and report errors to its log stream only.
#
# Policies are written with jsonencode so that plans, and the module's tests, show the
# exact documents.
################################################################################

resource "aws_iam_role" "subscription" {
  name        = "${var.name}-logs-subscription"
  description = "CloudWatch Logs subscription of ${var.log_group_name} into Firehose stream ${var.name}-logs"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CloudWatchLogs"
      Effect    = "Allow"
      Principal = { Service = "logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Only for log groups of this account and region (no confused deputy).
      Condition = {
        StringLike = { "aws:SourceArn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*" }
      }
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "subscription" {
  name = "put-records"
  role = aws_iam_role.subscription.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PutRecords"
      Effect   = "Allow"
      Action   = ["firehose:PutRecord", "firehose:PutRecordBatch"]
      Resource = "arn:${local.partition}:firehose:${local.region}:${local.account_id}:deliverystream/${var.name}-logs"
    }]
  })
}

resource "aws_iam_role" "firehose" {
  name        = "${var.name}-logs-firehose"
  description = "Firehose stream ${var.name}-logs delivering container logs to s3://${local.buckets.logs}"

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "Firehose"
      Effect    = "Allow"
      Principal = { Service = "firehose.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "sts:ExternalId" = local.account_id }
      }
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "firehose" {
  name = "deliver"
  role = aws_iam_role.firehose.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Bucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
        Resource = local.bucket_arns["logs"]
      },
      {
        Sid      = "Objects"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
        Resource = ["${local.bucket_arns["logs"]}/logs/*", "${local.bucket_arns["logs"]}/errors/*"]
      },
      {
        Sid      = "EncryptObjects"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource = local.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
          StringLike   = { "kms:EncryptionContext:aws:s3:arn" = "${local.bucket_arns["logs"]}/*" }
        }
      },
      {
        Sid      = "ReportErrors"
        Effect   = "Allow"
        Action   = ["logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.firehose.arn}:log-stream:${aws_cloudwatch_log_stream.firehose.name}"
      },
    ]
  })
}

################################################################################
# What a person (or role) needs to run the named queries: attach `query_policy_json`
################################################################################

locals {
  query_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "Workgroup"
        Effect = "Allow"
        Action = [
          "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
          "athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:ListQueryExecutions",
          "athena:GetWorkGroup", "athena:GetNamedQuery", "athena:ListNamedQueries", "athena:BatchGetNamedQuery",
        ]
        Resource = aws_athena_workgroup.this.arn
      },
      {
        Sid    = "Catalog"
        Effect = "Allow"
        Action = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartitions"]
        Resource = [
          "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
          "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${local.database_name}",
          "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${local.database_name}/${local.table_name}",
        ]
      },
      {
        Sid      = "ReadArchive"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${local.bucket_arns["logs"]}/logs/*"
      },
      {
        Sid      = "WriteResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
        Resource = "${local.bucket_arns["athena"]}/results/*"
      },
      {
        Sid      = "ListBuckets"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
        Resource = [local.bucket_arns["logs"], local.bucket_arns["athena"]]
      },
      {
        Sid      = "Key"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = local.kms_key_arn
        Condition = {
          StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" }
        }
      },
    ]
  })
}
