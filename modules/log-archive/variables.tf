################################################################################
# Identity and source
################################################################################

variable "name" {
  description = "Name of the archive, usually \"<cluster>\" or \"<app group>-<environment>\". Prefix of the buckets, the Firehose stream, the IAM roles, the Glue database and the Athena workgroup."
  type        = string

  validation {
    # Bucket names are "<name>-athena-<12-digit account>" and S3 allows 63 characters.
    condition     = can(regex("^[a-z][a-z0-9-]{0,28}[a-z0-9]$", var.name))
    error_message = "name must be 2 to 30 characters: a lowercase letter, then lowercase letters, digits or hyphens, not ending in a hyphen (e.g. \"shop-prod\")."
  }
}

variable "log_group_name" {
  description = "CloudWatch Logs group whose events are archived: the cluster's Container Insights application log group, \"/aws/containerinsights/<cluster>/application\" (see the eks-addons output `container_insights_log_group_names`). It must exist before the subscription filter is created."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_/.#-]{1,512}$", var.log_group_name))
    error_message = "log_group_name must be a CloudWatch Logs group name such as \"/aws/containerinsights/shop-prod/application\"."
  }
}

variable "filter_pattern" {
  description = "CloudWatch Logs filter pattern of the events to archive. The default \"\" archives every line."
  type        = string
  default     = ""

  validation {
    condition     = length(var.filter_pattern) <= 1024
    error_message = "filter_pattern must be at most 1024 characters (a CloudWatch Logs filter pattern such as \"?ERROR ?WARN\", or \"\" for every line)."
  }
}

variable "partition_by_app" {
  description = "Whether Firehose dynamic partitioning files each line under its namespace and app (the pod label `app.kubernetes.io/name`, which every jke_application sets; pods without it land under app \"_none\"). Queries then scan one app only. Dynamic partitioning is billed per GB on top of ingestion; false partitions by hour only."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource the module creates."
  type        = map(string)
  default     = {}
}

################################################################################
# Encryption
################################################################################

variable "create_kms_key" {
  description = "Whether the module creates a KMS key (with rotation) for the archive, the Athena results and the Firehose error log. false: give `kms_key_arn`."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of your KMS key, with `create_kms_key = false`. Its key policy must let this account's IAM policies grant its use (the default key policy does), and let CloudWatch Logs (`logs.<region>.amazonaws.com`) use it for the Firehose error log group."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN such as \"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab\"."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before the created KMS key is deleted after `terraform destroy`."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30
    error_message = "kms_key_deletion_window_in_days must be between 7 and 30 (e.g. 30)."
  }
}

################################################################################
# Bucket
################################################################################

variable "transition_to_infrequent_access_days" {
  description = "Days after which archived log objects move to S3 Standard-IA (30 is the shortest S3 allows)."
  type        = number
  default     = 30

  validation {
    condition     = var.transition_to_infrequent_access_days >= 30 && floor(var.transition_to_infrequent_access_days) == var.transition_to_infrequent_access_days
    error_message = "transition_to_infrequent_access_days must be a whole number of at least 30 (e.g. 30)."
  }
}

variable "transition_to_archive_days" {
  description = "Days after which archived log objects move to `archive_storage_class`. Must be at least 30 days after the move to Standard-IA."
  type        = number
  default     = 90

  validation {
    # Its distance from the Standard-IA move is checked on the lifecycle configuration.
    condition     = floor(var.transition_to_archive_days) == var.transition_to_archive_days && var.transition_to_archive_days >= 60
    error_message = "transition_to_archive_days must be a whole number of at least 60 (e.g. 90)."
  }
}

variable "archive_storage_class" {
  description = "S3 storage class of old logs. GLACIER_IR (default) stays queryable by Athena; GLACIER and DEEP_ARCHIVE are cheaper but Athena skips their objects until they are restored."
  type        = string
  default     = "GLACIER_IR"

  validation {
    condition     = contains(["GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.archive_storage_class)
    error_message = "archive_storage_class must be \"GLACIER_IR\", \"GLACIER\" or \"DEEP_ARCHIVE\" (e.g. \"GLACIER_IR\")."
  }
}

variable "expiration_days" {
  description = "Days after which archived log lines are deleted. Also bounds the hour partitions Athena projects."
  type        = number
  default     = 400

  validation {
    condition     = floor(var.expiration_days) == var.expiration_days && var.expiration_days >= 90
    error_message = "expiration_days must be a whole number of at least 90 (e.g. 400)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept (versioning protects the archive from overwrites and deletes) before S3 removes it."
  type        = number
  default     = 30

  validation {
    condition     = floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days && var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be a whole number of at least 1 (e.g. 30)."
  }
}

variable "access_logging" {
  description = "S3 server access logging of both buckets into an existing bucket (`target_bucket`, with `target_prefix`, default \"<name>/\"). null: no access logs."
  type = object({
    target_bucket = string
    target_prefix = optional(string)
  })
  default = null

  validation {
    condition     = var.access_logging == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_logging.target_bucket))
    error_message = "access_logging.target_bucket must be the name of an S3 bucket such as \"shop-s3-access-logs\"."
  }
}

variable "force_destroy" {
  description = "Whether `terraform destroy` deletes the buckets with every archived object and version in them, and the Athena workgroup with its query history and saved queries. Keep false for real archives."
  type        = bool
  default     = false
}

################################################################################
# Delivery
################################################################################

variable "buffering_size" {
  description = "MiB Firehose buffers (per partition) before it writes an object. Dynamic partitioning needs at least 64."
  type        = number
  default     = 64

  validation {
    # The 64 MiB floor of dynamic partitioning is checked on the delivery stream.
    condition     = var.buffering_size >= 1 && var.buffering_size <= 128
    error_message = "buffering_size must be 1 to 128 MiB (e.g. 64)."
  }
}

variable "buffering_interval" {
  description = "Seconds Firehose buffers before it writes an object: how long until a log line is queryable."
  type        = number
  default     = 300

  validation {
    condition     = var.buffering_interval >= 0 && var.buffering_interval <= 900
    error_message = "buffering_interval must be 0 to 900 seconds (e.g. 300)."
  }
}

variable "error_log_retention_in_days" {
  description = "Retention of the CloudWatch Logs group where Firehose reports records it could not deliver."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.error_log_retention_in_days)
    error_message = "error_log_retention_in_days must be a retention CloudWatch Logs accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 (e.g. 30)."
  }
}

################################################################################
# Queries
################################################################################

variable "bytes_scanned_cutoff_per_query" {
  description = "Most bytes one Athena query of the workgroup may scan before Athena cancels it (at least 10 MB). null: no limit."
  type        = number
  default     = 107374182400 # 100 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query == null || try(var.bytes_scanned_cutoff_per_query >= 10485760, false)
    error_message = "bytes_scanned_cutoff_per_query must be null or at least 10485760 bytes (10 MB), e.g. 107374182400 for 100 GiB."
  }
}

variable "query_results_expiration_days" {
  description = "Days Athena query results are kept in the results bucket."
  type        = number
  default     = 30

  validation {
    condition     = floor(var.query_results_expiration_days) == var.query_results_expiration_days && var.query_results_expiration_days >= 1
    error_message = "query_results_expiration_days must be a whole number of at least 1 (e.g. 30)."
  }
}

variable "error_regex" {
  description = "Regular expression (Athena's regexp_like) that marks a log line as an error in the named queries."
  type        = string
  default     = "(?i)\\b(error|fatal|panic|exception)\\b"

  validation {
    # It is pasted into SQL between single quotes.
    condition     = length(var.error_regex) > 0 && !strcontains(var.error_regex, "'")
    error_message = "error_regex must be a non-empty regular expression without single quotes, e.g. \"(?i)\\\\b(error|fatal)\\\\b\"."
  }
}
