variable "name" {
  description = "Prefix for the names of every resource of this deployment."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the public and private subnets are its first two /+8 blocks."
  type        = string
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of size /20 or larger."
  }
}

variable "availability_zone" {
  description = "Availability zone for both subnets (GPU capacity differs by zone); empty picks the first available."
  type        = string
  default     = ""
}

variable "grpc_port" {
  description = "TCP port of the learner's gRPC server (weights and control)."
  type        = number
}

variable "ssh_cidrs" {
  description = "CIDR blocks allowed to reach port 22; empty means no SSH (use SSM sessions)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
