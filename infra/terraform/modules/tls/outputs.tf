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
