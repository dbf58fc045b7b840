# State in S3, one object per environment, locked with S3's own lock object
# (`use_lockfile`: a `<key>.tflock` object next to the state; no DynamoDB table). The bucket,
# key and region of each environment are in envs/<env>.s3.tfbackend:
#
#   terraform init -reconfigure -backend-config=envs/dev.s3.tfbackend
#   terraform apply -var-file=envs/dev.tfvars
terraform {
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}
