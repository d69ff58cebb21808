variable "name" {
  description = "Deployment name, used in the certificates' subjects."
  type        = string
}

variable "ip_addresses" {
  description = "IP subject alternative names of the server certificate (NATS hosts, learner)."
  type        = list(string)
  validation {
    condition     = length(var.ip_addresses) > 0 && alltrue([for ip in var.ip_addresses : can(cidrhost("${ip}/32", 0))])
    error_message = "ip_addresses must be a non-empty list of IPv4 addresses."
  }
}

variable "route_ip_addresses" {
  description = "IP subject alternative names of the route certificate (the NATS hosts only)."
  type        = list(string)
  validation {
    condition     = length(var.route_ip_addresses) > 0 && alltrue([for ip in var.route_ip_addresses : can(cidrhost("${ip}/32", 0))])
    error_message = "route_ip_addresses must be a non-empty list of IPv4 addresses."
  }
}

variable "dns_names" {
  description = "DNS subject alternative names of the server certificate."
  type        = list(string)
  default     = []
}

variable "validity_hours" {
  description = "Lifetime of the CA and the server certificate, in hours."
  type        = number
  default     = 8760
  validation {
    condition     = var.validity_hours >= 24
    error_message = "validity_hours must be at least 24."
  }
}

variable "client_roles" {
  description = "Roles that get a client certificate (CN and OU = the role)."
  type        = list(string)
  default     = ["learner", "actor", "verifier", "operator"]
  validation {
    condition     = alltrue([for r in var.client_roles : contains(["learner", "actor", "verifier", "operator"], r)])
    error_message = "client_roles may hold learner, actor, verifier and operator only."
  }
}
