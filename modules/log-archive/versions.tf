terraform {
  # optional() object attributes with defaults need 1.5.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The floor all JKE modules are written against. Everything used here (Firehose
      # dynamic partitioning and CloudWatch Logs decompression, Athena workgroup settings)
      # is older; both the 5.x and 6.x series satisfy it.
      version = ">= 5.95"
    }
  }
}
