terraform {
  # optional() object attributes with defaults need 1.5.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The floor all JKE modules are written against. Everything used here (Firehose
      # dynamic partitioning and CloudWatch Logs decompression, Athena workgroup settings)
      # is older; both the 5.x and 6.x series satisfy it. The next major version is excluded
      # until a module release is tested against it (a major may remove arguments).
      version = ">= 5.95, < 7.0"
    }
  }
}
