# An auto-scaling pool of CPU hosts running verifier workers. Verifiers are stateless (JetStream
# redelivers what a lost worker held), so the pool can grow, shrink and use spot capacity.

resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-verifier-"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  vpc_security_group_ids = [var.security_group_id]
  key_name               = var.key_name == "" ? null : var.key_name
  user_data              = base64encode(var.user_data)

  iam_instance_profile {
    name = var.instance_profile
  }
  metadata_options {
    http_tokens = "required"
  }
  block_device_mappings {
    device_name = "/dev/sda1"
    ebs {
      volume_size = var.volume_gb
      volume_type = "gp3"
      encrypted   = true
    }
  }
  dynamic "instance_market_options" {
    for_each = var.spot ? [1] : []
    content {
      market_type = "spot"
    }
  }
  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-verifier", Role = "verifier" })
  }
}

resource "aws_autoscaling_group" "this" {
  name                = "${var.name}-verifiers"
  vpc_zone_identifier = [var.subnet_id]
  desired_capacity    = var.desired
  min_size            = var.min_size
  max_size            = var.max_size
  health_check_type   = "EC2"

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }
  lifecycle {
    precondition {
      condition     = var.min_size <= var.desired && var.desired <= var.max_size
      error_message = "The verifier pool needs min_size <= desired <= max_size."
    }
  }
  tag {
    key                 = "Role"
    value               = "verifier"
    propagate_at_launch = true
  }
}
