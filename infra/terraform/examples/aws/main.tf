# An acereason cluster on AWS: a VPC, NATS (one host or a 3-node cluster), one learner GPU host,
# N actor GPU hosts and a CPU verifier pool, each running the acereason image as a systemd
# service with the addresses it needs.

locals {
  private_cidr = cidrsubnet(var.vpc_cidr, 8, 1)
  nats_ips     = [for i in range(var.nats_cluster ? 3 : 1) : cidrhost(local.private_cidr, 10 + i)]
  learner_ip   = cidrhost(local.private_cidr, 20)
  # Every node's URL: clients fail over to the others when one goes down.
  nats_url     = join(",", [for ip in local.nats_ips : "nats://${ip}:4222"])
  learner_addr = "${local.learner_ip}:${var.grpc_port}"
  image_gpu    = "${var.image}:${var.image_version}-cuda"
  image_cpu    = "${var.image}:${var.image_version}-cpu"
  data_sync    = var.data_s3_uri == "" ? [] : ["aws s3 sync '${var.data_s3_uri}' /var/lib/acereason/data && chown -R 10001:10001 /var/lib/acereason/data"]

  # NATS passwords per role: given in nats_passwords, else from the Secrets Manager secret, else
  # generated (kept in the state).
  roles            = ["learner", "actor", "verifier", "operator"]
  secret_passwords = var.nats_passwords_secret_id == "" ? {} : jsondecode(data.aws_secretsmanager_secret_version.nats[0].secret_string)
  nats_passwords   = { for r in local.roles : r => coalesce(lookup(var.nats_passwords, r, ""), lookup(local.secret_passwords, r, ""), random_password.nats[r].result) }

  # What each host gets in /etc/acereason/tls (mounted at /tls): the CA, its own role's NATS
  # credentials and, but for verifiers, its own client certificate. Secrets are mode 0600, owned
  # by the image's user (owned_paths).
  role_files = { for r in local.roles : r => merge({
    "/etc/acereason/tls/ca.pem"           = { content = module.tls.ca_cert_pem, permissions = "0644" }
    "/etc/acereason/tls/credentials.json" = { content = jsonencode({ (r) = { user = r, password = local.nats_passwords[r] } }), permissions = "0600" }
    }, r == "verifier" ? {} : {
    "/etc/acereason/tls/client.pem" = { content = module.tls.client_certs[r].cert_pem, permissions = "0644" }
    "/etc/acereason/tls/client.key" = { content = module.tls.client_certs[r].key_pem, permissions = "0600" }
  }) }
  nats_client_args = ["--creds", "/tls/credentials.json", "--tls-ca", "/tls/ca.pem"]
  client_cert_args = ["--tls-cert", "/tls/client.pem", "--tls-key", "/tls/client.key"]
}

resource "random_password" "nats" {
  for_each = toset(local.roles)
  length   = 32
  special  = false
}

data "aws_secretsmanager_secret_version" "nats" {
  count     = var.nats_passwords_secret_id == "" ? 0 : 1
  secret_id = var.nats_passwords_secret_id
}

data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]
  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*"]
  }
}

data "aws_ami" "gpu" {
  most_recent = true
  owners      = ["amazon"]
  filter {
    name   = "name"
    values = ["Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)*"]
  }
}

module "network" {
  source = "../../modules/network"

  name              = var.name
  vpc_cidr          = var.vpc_cidr
  availability_zone = var.availability_zone
  grpc_port         = var.grpc_port
  ssh_cidrs         = var.ssh_cidrs
}

module "tls" {
  source = "../../modules/tls"

  name         = var.name
  ip_addresses = concat(local.nats_ips, [local.learner_ip])
  # Only the NATS hosts hold the route certificate.
  route_ip_addresses = local.nats_ips
}

# SSM sessions instead of open SSH, and read access to the run's data bucket when one is given.
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "host" {
  name_prefix        = "${var.name}-host-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "data" {
  count = var.data_s3_uri == "" ? 0 : 1
  statement {
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = ["arn:aws:s3:::${split("/", trimprefix(var.data_s3_uri, "s3://"))[0]}", "arn:aws:s3:::${split("/", trimprefix(var.data_s3_uri, "s3://"))[0]}/*"]
  }
}

resource "aws_iam_role_policy" "data" {
  count  = var.data_s3_uri == "" ? 0 : 1
  role   = aws_iam_role.host.id
  policy = data.aws_iam_policy_document.data[0].json
}

resource "aws_iam_instance_profile" "host" {
  name_prefix = "${var.name}-host-"
  role        = aws_iam_role.host.name
}

module "nats" {
  source = "../../modules/nats"

  name                  = var.name
  cluster               = var.nats_cluster
  private_ips           = local.nats_ips
  ami_id                = data.aws_ami.ubuntu.id
  instance_type         = var.nats_instance_type
  volume_gb             = var.nats_volume_gb
  jetstream_max_file_gb = var.nats_volume_gb - 10
  subnet_id             = module.network.private_subnet_id
  security_group_id     = module.network.security_group_id
  instance_profile      = aws_iam_instance_profile.host.name
  key_name              = var.key_name
  passwords             = local.nats_passwords
  tls = {
    ca_cert_pem     = module.tls.ca_cert_pem
    server_cert_pem = module.tls.server_cert_pem
    server_key_pem  = module.tls.server_key_pem
    route_cert_pem  = module.tls.route_cert_pem
    route_key_pem   = module.tls.route_key_pem
    route_subject   = module.tls.route_subject
  }
}

module "learner_user_data" {
  source = "../../modules/cloud-init"

  service_name = "acereason-learner"
  image        = local.image_gpu
  gpu          = true
  # gRPC over mutual TLS: callers are identified by their client certificate and authorized by role.
  container_args = concat([
    "run", "--config", "/data/run.yaml", "--nats", local.nats_url,
    "--grpc-bind", "0.0.0.0:${var.grpc_port}", "--grpc-advertise", local.learner_addr, "--out", "/runs/${var.run_id}",
    "--grpc-tls-cert", "/tls/server.pem", "--grpc-tls-key", "/tls/server.key", "--grpc-client-auth",
  ], local.nats_client_args)
  volumes     = ["/var/lib/acereason/data:/data:ro", "/var/lib/acereason/runs:/runs", "/etc/acereason/tls:/tls:ro"]
  directories = ["/var/lib/acereason/data", "/var/lib/acereason/runs"]
  files = merge(local.role_files["learner"], {
    "/var/lib/acereason/data/run.yaml" = { content = var.run_config, permissions = "0644" }
    "/etc/acereason/tls/server.pem"    = { content = module.tls.server_cert_pem, permissions = "0644" }
    "/etc/acereason/tls/server.key"    = { content = module.tls.server_key_pem, permissions = "0600" }
  })
  owned_paths = ["/etc/acereason/tls"]
  pre_start   = local.data_sync
}

module "learner" {
  source = "../../modules/service"

  name              = var.name
  role              = "learner"
  instance_count    = 1
  private_ips       = [local.learner_ip]
  ami_id            = data.aws_ami.gpu.id
  instance_type     = var.learner_instance_type
  volume_gb         = var.learner_volume_gb
  user_data         = module.learner_user_data.rendered
  subnet_id         = module.network.private_subnet_id
  security_group_id = module.network.security_group_id
  instance_profile  = aws_iam_instance_profile.host.name
  key_name          = var.key_name
}

module "actor_user_data" {
  source = "../../modules/cloud-init"

  service_name = "acereason-actor"
  image        = local.image_gpu
  gpu          = true
  container_args = concat([
    "actor", "--run", var.run_id, "--nats", local.nats_url, "--learner", local.learner_addr,
    "--max-in-flight", tostring(var.actor_max_in_flight), "--threads", tostring(var.actor_threads),
  ], local.nats_client_args, local.client_cert_args)
  env         = { ACEREASON_EXECUTION_PROVIDER = "cuda" }
  volumes     = ["/etc/acereason/tls:/tls:ro"]
  files       = local.role_files["actor"]
  owned_paths = ["/etc/acereason/tls"]
}

module "actors" {
  source = "../../modules/service"

  name              = var.name
  role              = "actor"
  instance_count    = var.actor_count
  ami_id            = data.aws_ami.gpu.id
  instance_type     = var.actor_instance_type
  volume_gb         = 100
  user_data         = module.actor_user_data.rendered
  subnet_id         = module.network.private_subnet_id
  security_group_id = module.network.security_group_id
  instance_profile  = aws_iam_instance_profile.host.name
  key_name          = var.key_name
}

module "verifier_user_data" {
  source = "../../modules/cloud-init"

  service_name = "acereason-verifier"
  image        = local.image_cpu
  container_args = concat([
    "verifier", "--run", var.run_id, "--nats", local.nats_url, "--domain", var.verifier_domain,
    "--concurrency", tostring(var.verifier_concurrency),
  ], local.nats_client_args)
  # The code verifier's bubblewrap sandbox creates user and mount namespaces in the container.
  docker_flags = ["--security-opt seccomp=unconfined", "--security-opt apparmor=unconfined"]
  volumes      = ["/etc/acereason/tls:/tls:ro"]
  files        = local.role_files["verifier"]
  owned_paths  = ["/etc/acereason/tls"]
}

module "verifiers" {
  source = "../../modules/verifier-pool"

  name              = var.name
  desired           = var.verifier_count
  min_size          = var.verifier_min
  max_size          = var.verifier_max
  instance_type     = var.verifier_instance_type
  spot              = var.verifier_spot
  ami_id            = data.aws_ami.ubuntu.id
  user_data         = module.verifier_user_data.rendered
  subnet_id         = module.network.private_subnet_id
  security_group_id = module.network.security_group_id
  instance_profile  = aws_iam_instance_profile.host.name
  key_name          = var.key_name
}
