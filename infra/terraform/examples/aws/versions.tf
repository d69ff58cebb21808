terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.40"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
  # Keep the state (it holds the cluster's private keys) in an encrypted backend, e.g.:
  # backend "s3" { bucket = "my-tf-state" key = "acereason/terraform.tfstate" region = "us-east-1" encrypt = true }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge(var.tags, { Project = "acereason", Deployment = var.name })
  }
}
