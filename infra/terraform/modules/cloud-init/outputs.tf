output "rendered" {
  description = "The cloud-config document."
  value = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    service      = var.service_name
    image        = var.image
    docker_flags = local.docker_flags
    args         = local.quoted_args
    files        = local.files
    pre_start    = var.pre_start
    directories  = var.directories
    owned_paths  = var.owned_paths
  })
}
