output "ca_cert_pem" {
  description = "The cluster CA certificate (clients trust it)."
  value       = tls_self_signed_cert.ca.cert_pem
}

output "server_cert_pem" {
  description = "Server certificate for the NATS hosts and the learner's gRPC port."
  value       = tls_locally_signed_cert.server.cert_pem
}

output "server_key_pem" {
  description = "Private key of the server certificate."
  value       = tls_private_key.server.private_key_pem
  sensitive   = true
}

output "route_cert_pem" {
  description = "Route certificate of the NATS hosts (server and client use)."
  value       = tls_locally_signed_cert.route.cert_pem
}

output "route_key_pem" {
  description = "Private key of the route certificate."
  value       = tls_private_key.route.private_key_pem
  sensitive   = true
}

output "route_subject" {
  description = "The route certificate's subject as nats-server's verify_and_map spells it (RFC 2253)."
  value       = "CN=${local.route_subject.common_name},OU=${local.route_subject.organizational_unit},O=${local.route_subject.organization}"
}

output "client_certs" {
  description = "Client certificate and key of each role in client_roles."
  value = { for r in var.client_roles : r => {
    cert_pem = tls_locally_signed_cert.client[r].cert_pem
    key_pem  = tls_private_key.client[r].private_key_pem
  } }
  sensitive = true
}
