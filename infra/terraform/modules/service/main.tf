# N identical EC2 hosts running one acereason service (the learner, or actors), optionally on
# fixed private addresses.

resource "aws_instance" "this" {
  count                       = var.instance_count
  ami                         = var.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  private_ip                  = length(var.private_ips) > 0 ? var.private_ips[count.index] : null
  vpc_security_group_ids      = [var.security_group_id]
  iam_instance_profile        = var.instance_profile
  key_name                    = var.key_name == "" ? null : var.key_name
  user_data                   = var.user_data
  user_data_replace_on_change = true

  root_block_device {
    volume_size = var.volume_gb
    volume_type = "gp3"
    encrypted   = true
  }
  metadata_options {
    http_tokens = "required"
  }
  tags = merge(var.tags, { Name = "${var.name}-${var.role}-${count.index}", Role = var.role })

  lifecycle {
    precondition {
      condition     = length(var.private_ips) == 0 || length(var.private_ips) == var.instance_count
      error_message = "private_ips must be empty or hold one address per instance."
    }
  }
}
