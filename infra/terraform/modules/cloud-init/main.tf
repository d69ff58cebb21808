# Renders the cloud-init user data of one acereason host: install a container runtime if the
# image has none, write the host's files (config, TLS material), and run one container as a
# systemd service on the host network, restarted forever.

locals {
  quoted_args  = join(" ", [for a in var.container_args : "'${replace(a, "'", "'\\''")}'"])
  docker_flags = join(" ", concat(["--network host", "--restart no", "--log-driver journald"], var.gpu ? ["--gpus all"] : [], var.docker_flags, [for v in var.volumes : "-v ${v}"], [for k, v in var.env : "-e ${k}=${v}"]))
  files = { for path, f in var.files : path => {
    content     = base64encode(f.content)
    permissions = f.permissions
  } }
}
