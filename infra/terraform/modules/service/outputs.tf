output "private_ips" {
  description = "Private addresses of the hosts."
  value       = aws_instance.this[*].private_ip
}

output "instance_ids" {
  description = "EC2 instance ids of the hosts."
  value       = aws_instance.this[*].id
}
