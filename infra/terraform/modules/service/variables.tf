variable "name" {
  description = "Deployment name (prefix of the hosts' names)."
  type        = string
}

variable "role" {
  description = "The service these hosts run: learner or actor."
  type        = string
  validation {
    condition     = contains(["learner", "actor"], var.role)
    error_message = "role must be learner or actor."
  }
}

variable "instance_count" {
  description = "Number of hosts."
  type        = number
  validation {
    condition     = var.instance_count >= 0 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number >= 0."
  }
}

variable "instance_type" {
  description = "EC2 instance type."
  type        = string
}

variable "ami_id" {
  description = "AMI of the hosts."
  type        = string
}

variable "volume_gb" {
  description = "Root volume size in GiB."
  type        = number
}

variable "private_ips" {
  description = "Fixed private addresses, one per host; empty lets AWS choose."
  type        = list(string)
  default     = []
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
  description = "IAM instance profile (SSM access, data bucket reads)."
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
