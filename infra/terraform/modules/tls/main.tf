# A private CA, one server certificate for the cluster's fixed addresses (NATS hosts and the
# learner) and a route certificate that only the NATS hosts hold. The keys live in the Terraform
# state: keep the state encrypted (an S3 backend with SSE, or equivalent) and rotate by tainting
# these resources.

resource "tls_private_key" "ca" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_self_signed_cert" "ca" {
  private_key_pem       = tls_private_key.ca.private_key_pem
  is_ca_certificate     = true
  validity_period_hours = var.validity_hours
  allowed_uses          = ["cert_signing", "crl_signing", "digital_signature"]
  subject {
    common_name  = "${var.name} cluster CA"
    organization = "acereason"
  }
}

resource "tls_private_key" "server" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "server" {
  private_key_pem = tls_private_key.server.private_key_pem
  ip_addresses    = var.ip_addresses
  dns_names       = var.dns_names
  subject {
    common_name  = "${var.name} cluster"
    organization = "acereason"
  }
}

resource "tls_locally_signed_cert" "server" {
  cert_request_pem      = tls_cert_request.server.cert_request_pem
  ca_private_key_pem    = tls_private_key.ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca.cert_pem
  validity_period_hours = var.validity_hours
  allowed_uses          = ["digital_signature", "key_encipherment", "server_auth", "client_auth"]
}

# The route certificate: what clustered NATS hosts present to each other (mutual TLS). Routes map
# its subject (verify_and_map), so no other certificate of this CA (the learner's server
# certificate, a role's client certificate) is admitted as a cluster member.
locals {
  route_subject = { common_name = "nats-route", organizational_unit = "route", organization = "acereason" }
}

resource "tls_private_key" "route" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "route" {
  private_key_pem = tls_private_key.route.private_key_pem
  ip_addresses    = var.route_ip_addresses
  subject {
    common_name         = local.route_subject.common_name
    organizational_unit = local.route_subject.organizational_unit
    organization        = local.route_subject.organization
  }
}

resource "tls_locally_signed_cert" "route" {
  cert_request_pem      = tls_cert_request.route.cert_request_pem
  ca_private_key_pem    = tls_private_key.ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca.cert_pem
  validity_period_hours = var.validity_hours
  allowed_uses          = ["digital_signature", "key_encipherment", "server_auth", "client_auth"]
}

# A client certificate per role (CN = OU = the role): the learner's gRPC maps it to the role
# (mutual TLS with role authorization), and NATS may use it with verify_and_map.
resource "tls_private_key" "client" {
  for_each    = toset(var.client_roles)
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

resource "tls_cert_request" "client" {
  for_each        = toset(var.client_roles)
  private_key_pem = tls_private_key.client[each.key].private_key_pem
  subject {
    common_name         = each.key
    organizational_unit = each.key
    organization        = "acereason"
  }
}

resource "tls_locally_signed_cert" "client" {
  for_each              = toset(var.client_roles)
  cert_request_pem      = tls_cert_request.client[each.key].cert_request_pem
  ca_private_key_pem    = tls_private_key.ca.private_key_pem
  ca_cert_pem           = tls_self_signed_cert.ca.cert_pem
  validity_period_hours = var.validity_hours
  allowed_uses          = ["digital_signature", "client_auth"]
}
