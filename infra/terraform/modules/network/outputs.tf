output "vpc_id" {
  description = "The VPC's id."
  value       = aws_vpc.this.id
}

output "private_subnet_id" {
  description = "Subnet holding every acereason host."
  value       = aws_subnet.private.id
}

output "private_subnet_cidr" {
  description = "CIDR of the private subnet (fixed host addresses are taken from it)."
  value       = aws_subnet.private.cidr_block
}

output "security_group_id" {
  description = "Security group of the acereason hosts."
  value       = aws_security_group.cluster.id
}
