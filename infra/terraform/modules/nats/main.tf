# NATS with JetStream on one host, or a 3-node cluster (JetStream replicated by RAFT) on fixed
# private addresses. Routes between the nodes use mutual TLS with the route certificate, whose
# subject each node maps (verify_and_map): no other certificate of the CA joins the cluster; clients must use TLS and a user per role (learner, actor, verifier, operator) whose
# subject permissions come from packages/transport (permissions.json, generated from the source).

locals {
  nodes       = var.cluster ? 3 : 1
  routes      = [for ip in var.private_ips : "nats-route://${ip}:6222"]
  permissions = jsondecode(file("${path.module}/permissions.json"))
  # Strings are JSON-encoded: a quoted nats-server string never reads `$JS...` as a variable.
  users = [for role in sort(keys(local.permissions)) : {
    user        = jsonencode(role)
    password    = jsonencode(var.passwords[role])
    permissions = jsonencode(local.permissions[role])
  }]
  config = [for i in range(local.nodes) : templatefile("${path.module}/nats.conf.tftpl", {
    server_name  = "${var.name}-nats-${i}"
    cluster      = var.cluster
    routes       = local.routes
    cluster_name = "${var.name}-nats"
    max_file     = "${var.jetstream_max_file_gb}GB"
    users        = local.users
    # JSON-encoded: the subject holds commas and spaces.
    route_subject = jsonencode(var.tls.route_subject)
  })]
}

module "user_data" {
  source = "../cloud-init"
  count  = local.nodes

  service_name   = "acereason-nats"
  image          = var.image
  container_args = ["-c", "/etc/nats/nats.conf"]
  volumes        = ["/etc/nats:/etc/nats:ro", "/var/lib/nats:/data"]
  directories    = ["/var/lib/nats"]
  files = merge({
    "/etc/nats/nats.conf"  = { content = local.config[count.index], permissions = "0600" }
    "/etc/nats/ca.pem"     = { content = var.tls.ca_cert_pem, permissions = "0644" }
    "/etc/nats/server.pem" = { content = var.tls.server_cert_pem, permissions = "0644" }
    "/etc/nats/server.key" = { content = var.tls.server_key_pem, permissions = "0600" }
    }, var.cluster ? {
    "/etc/nats/route.pem" = { content = var.tls.route_cert_pem, permissions = "0644" }
    "/etc/nats/route.key" = { content = var.tls.route_key_pem, permissions = "0600" }
  } : {})
}

resource "aws_instance" "nats" {
  count                       = local.nodes
  ami                         = var.ami_id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  private_ip                  = var.private_ips[count.index]
  vpc_security_group_ids      = [var.security_group_id]
  iam_instance_profile        = var.instance_profile
  key_name                    = var.key_name == "" ? null : var.key_name
  user_data                   = module.user_data[count.index].rendered
  user_data_replace_on_change = true

  root_block_device {
    volume_size = var.volume_gb
    volume_type = "gp3"
    encrypted   = true
  }
  metadata_options {
    http_tokens = "required"
  }
  tags = merge(var.tags, { Name = "${var.name}-nats-${count.index}", Role = "nats" })
}
