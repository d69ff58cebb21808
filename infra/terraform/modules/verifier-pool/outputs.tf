output "autoscaling_group_name" {
  description = "Name of the verifier auto-scaling group (resize it with the AWS CLI or here)."
  value       = aws_autoscaling_group.this.name
}
