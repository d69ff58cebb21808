variable "service_name" {
  description = "systemd unit and container name, e.g. acereason-learner."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.service_name))
    error_message = "service_name must be lower-case letters, digits and dashes."
  }
}

variable "image" {
  description = "Container image to run (registry/name:tag)."
  type        = string
}

variable "container_args" {
  description = "Arguments passed to the image's entrypoint (for acereason: the subcommand and its flags)."
  type        = list(string)
}

variable "gpu" {
  description = "Give the container every GPU of the host (needs the NVIDIA container toolkit, present on the GPU AMIs)."
  type        = bool
  default     = false
}

variable "volumes" {
  description = "Bind mounts, host:container[:ro]."
  type        = list(string)
  default     = []
}

variable "env" {
  description = "Environment variables of the container."
  type        = map(string)
  default     = {}
}

variable "directories" {
  description = "Host directories to create before the service starts, owned by uid 10001 (the image's user)."
  type        = list(string)
  default     = []
}

variable "files" {
  description = "Files to write on the host, by absolute path."
  type        = map(object({ content = string, permissions = string }))
  default     = {}
}

variable "pre_start" {
  description = "Shell commands run once before the service is enabled (e.g. fetching the run's data)."
  type        = list(string)
  default     = []
}

variable "docker_flags" {
  description = "Extra `docker run` flags, e.g. security options."
  type        = list(string)
  default     = []
}

variable "owned_paths" {
  description = "Paths (files or directories) handed to uid 10001, the image's user, after the files are written: secrets the container reads with mode 0600."
  type        = list(string)
  default     = []
}
