output "private_ips" {
  description = "Addresses of the NATS hosts."
  value       = aws_instance.nats[*].private_ip
}

output "urls" {
  description = "NATS client URLs (comma-join them for --nats)."
  value       = [for ip in aws_instance.nats[*].private_ip : "nats://${ip}:4222"]
}

output "instance_ids" {
  description = "EC2 instance ids of the NATS hosts."
  value       = aws_instance.nats[*].id
}
