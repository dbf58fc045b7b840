output "bucket_name" {
  description = "Name of the S3 bucket holding the archive (objects under logs/, undeliverable records under errors/)."
  value       = local.bucket_ids["logs"]
}

output "bucket_arn" {
  description = "ARN of the archive bucket."
  value       = local.bucket_arns["logs"]
}

output "query_results_bucket_name" {
  description = "Name of the S3 bucket where the workgroup writes query results."
  value       = local.bucket_ids["athena"]
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the archive, the query results and the Firehose error log (created, or the one given)."
  value       = local.kms_key_arn
}

output "firehose_stream_arn" {
  description = "ARN of the Firehose stream the subscription filter feeds."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "database_name" {
  description = "Glue database of the archive."
  value       = aws_glue_catalog_database.this.name
}

output "table_name" {
  description = "Full name of the Glue table over the archive, \"<database>.<table>\", as queries write it."
  value       = "${aws_glue_catalog_database.this.name}.${aws_glue_catalog_table.this.name}"
}

output "workgroup_name" {
  description = "Athena workgroup to run queries in (its result location and encryption are enforced)."
  value       = aws_athena_workgroup.this.name
}

output "named_query_ids" {
  description = "IDs of the saved queries, by name: app-errors-last-hour, app-lines-by-pod, app-top-errors-by-day."
  value       = { for k, q in aws_athena_named_query.this : k => q.id }
}

output "example_query" {
  description = "A query to start from: one app's error lines in the last hour. Its two `?` are the namespace and the app (the Athena console asks for them; the CLI takes `--execution-parameters`)."
  value       = trimspace(local.queries["app-errors-last-hour"].query)
}

output "query_policy_json" {
  description = "IAM policy (JSON) that lets a person or role run queries in the workgroup: Athena in this workgroup, the Glue table, read the archive, write results, the key through S3. Attach it to the app engineers' role."
  value       = local.query_policy
}
