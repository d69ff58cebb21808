output "nats_urls" {
  description = "NATS client URLs inside the VPC."
  value       = module.nats.urls
}

output "learner_address" {
  description = "The learner's gRPC address (weights, control) inside the VPC."
  value       = local.learner_addr
}

output "learner_instance_id" {
  description = "EC2 instance id of the learner host (for SSM sessions)."
  value       = module.learner.instance_ids[0]
}

output "actor_ips" {
  description = "Private addresses of the actor hosts."
  value       = module.actors.private_ips
}

output "verifier_autoscaling_group" {
  description = "The verifier pool's auto-scaling group."
  value       = module.verifiers.autoscaling_group_name
}

output "ca_cert_pem" {
  description = "The cluster CA certificate (clients that use TLS trust it)."
  value       = module.tls.ca_cert_pem
}

output "status_command" {
  description = "The `acereason status` command as the operator role, for any host inside the VPC (write the operator_* outputs to the files it names)."
  value       = "acereason status --nats ${local.nats_url} --run ${var.run_id} --learner ${local.learner_addr} --creds operator-credentials.json --tls-ca ca.pem --tls-cert operator.pem --tls-key operator.key"
}

output "operator_credentials_json" {
  description = "The operator's NATS credentials (operator-credentials.json for the status command)."
  value       = jsonencode({ operator = { user = "operator", password = local.nats_passwords["operator"] } })
  sensitive   = true
}

output "operator_client_cert_pem" {
  description = "The operator's client certificate (operator.pem): LearnerControl accepts pause, resume, stage and checkpoint from it."
  value       = nonsensitive(module.tls.client_certs["operator"].cert_pem)
}

output "operator_client_key_pem" {
  description = "The key of the operator's client certificate (operator.key)."
  value       = module.tls.client_certs["operator"].key_pem
  sensitive   = true
}

output "status_via_ssm" {
  description = "How to run the status command from outside: an SSM session on the learner host, inside its container."
  value       = "aws ssm start-session --region ${var.region} --target ${module.learner.instance_ids[0]} --document-name AWS-StartInteractiveCommand --parameters command='sudo docker exec acereason-learner acereason-entrypoint status --nats ${local.nats_url} --run ${var.run_id} --learner ${local.learner_addr} --creds /tls/credentials.json --tls-ca /tls/ca.pem --tls-cert /tls/client.pem --tls-key /tls/client.key'"
}
