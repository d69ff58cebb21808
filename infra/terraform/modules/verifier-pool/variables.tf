variable "name" {
  description = "Deployment name (prefix of the pool's resources)."
  type        = string
}

variable "desired" {
  description = "Number of verifier hosts to run now."
  type        = number
}

variable "min_size" {
  description = "Smallest size of the pool."
  type        = number
}

variable "max_size" {
  description = "Largest size of the pool."
  type        = number
  validation {
    condition     = var.max_size >= 1
    error_message = "max_size must be at least 1."
  }
}

variable "instance_type" {
  description = "EC2 instance type of a verifier host (CPU only)."
  type        = string
}

variable "spot" {
  description = "Run the verifier hosts on spot capacity."
  type        = bool
  default     = false
}

variable "ami_id" {
  description = "AMI of the verifier hosts."
  type        = string
}

variable "volume_gb" {
  description = "Root volume size in GiB."
  type        = number
  default     = 30
}

variable "user_data" {
  description = "cloud-init user data (from the cloud-init module)."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the hosts."
  type        = string
}

variable "security_group_id" {
  description = "Cluster security group."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile name (SSM access)."
  type        = string
}

variable "key_name" {
  description = "EC2 key pair for SSH; empty for none."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
