terraform {
  # optional() object attributes with defaults and check blocks need 1.5.
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The floor these modules are written against: it has every EKS argument used here
      # (Auto Mode compute/storage/load-balancing blocks, access entries, add-on pod identity
      # associations). Both the 5.x and 6.x series satisfy it; the next major version is
      # excluded until a module release is tested against it (a major may remove arguments).
      version = ">= 5.95, < 7.0"
    }
  }
}
