variable "name" {
  description = "Deployment name (prefix of the hosts' names)."
  type        = string
}

variable "cluster" {
  description = "Run a 3-node NATS cluster instead of a single server."
  type        = bool
  default     = false
}

variable "private_ips" {
  description = "Fixed private addresses of the NATS hosts (1, or 3 when cluster = true)."
  type        = list(string)
  validation {
    condition     = length(var.private_ips) == 1 || length(var.private_ips) == 3
    error_message = "private_ips must hold 1 address, or 3 for a cluster."
  }
}

variable "image" {
  description = "NATS server container image."
  type        = string
  default     = "nats:2.10-alpine"
}

variable "ami_id" {
  description = "AMI of the NATS hosts (any Linux with cloud-init and apt)."
  type        = string
}

variable "instance_type" {
  description = "Instance type of the NATS hosts."
  type        = string
}

variable "volume_gb" {
  description = "Root volume size in GiB; JetStream keeps its streams there."
  type        = number
}

variable "jetstream_max_file_gb" {
  description = "JetStream file store limit in GiB (leave headroom below volume_gb)."
  type        = number
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
  description = "IAM instance profile (SSM access)."
  type        = string
}

variable "key_name" {
  description = "EC2 key pair for SSH; empty for none."
  type        = string
  default     = ""
}

variable "tls" {
  description = "The cluster's TLS material (from the tls module): the CA, the clients' server certificate, and the route certificate with its subject (RFC 2253)."
  type        = object({ ca_cert_pem = string, server_cert_pem = string, server_key_pem = string, route_cert_pem = string, route_key_pem = string, route_subject = string })
  sensitive   = true
}

variable "passwords" {
  description = "NATS password of each role: learner, actor, verifier and operator."
  type        = map(string)
  sensitive   = true
  validation {
    condition     = alltrue([for r in ["learner", "actor", "verifier", "operator"] : length(lookup(var.passwords, r, "")) >= 16])
    error_message = "passwords must hold learner, actor, verifier and operator, each at least 16 characters."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
