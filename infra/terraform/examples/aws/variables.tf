variable "name" {
  description = "Name of this deployment; prefixes every resource."
  type        = string
  default     = "acereason"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region (pick one with capacity for the GPU instance types)."
  type        = string
  default     = "us-east-1"
}

variable "availability_zone" {
  description = "Availability zone of the subnets; empty picks the region's first."
  type        = string
  default     = ""
}

variable "vpc_cidr" {
  description = "CIDR of the VPC (private RFC 1918 range, /20 or larger)."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.)", var.vpc_cidr))
    error_message = "vpc_cidr must be a valid CIDR inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16."
  }
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH to the hosts; empty (the default) means SSM sessions only."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.ssh_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "ssh_cidrs must be valid CIDRs and must not be 0.0.0.0/0."
  }
}

variable "key_name" {
  description = "EC2 key pair for SSH; empty for none."
  type        = string
  default     = ""
}

variable "image" {
  description = "Container image repository of acereason (built from infra/docker/Dockerfile and pushed, e.g. to ECR)."
  type        = string
}

variable "image_version" {
  description = "Image version; the hosts run <image>:<version>-cuda (learner, actors) and <image>:<version>-cpu (verifiers)."
  type        = string
  default     = "latest"
}

variable "run_id" {
  description = "Run id: must equal run.id in run_config."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.run_id))
    error_message = "run_id may hold only letters, digits, _ and - (1-64 characters): it becomes a NATS subject token."
  }
}

variable "run_config" {
  description = "Content of the run file (YAML) given to the learner, e.g. file(\"run.yaml\"). Its engine.execution_provider should be cuda."
  type        = string
  validation {
    condition     = length(trimspace(var.run_config)) > 0
    error_message = "run_config must not be empty."
  }
}

variable "data_s3_uri" {
  description = "s3://bucket/prefix synced to the learner's /data before it starts (datasets, initial weights); empty for none."
  type        = string
  default     = ""
  validation {
    condition     = var.data_s3_uri == "" || can(regex("^s3://[a-z0-9.-]{3,63}(/.*)?$", var.data_s3_uri))
    error_message = "data_s3_uri must be empty or an s3:// URI."
  }
}

variable "grpc_port" {
  description = "TCP port of the learner's gRPC server."
  type        = number
  default     = 50051
  validation {
    condition     = var.grpc_port >= 1024 && var.grpc_port <= 65535
    error_message = "grpc_port must be in 1024-65535."
  }
}

variable "nats_cluster" {
  description = "Run a 3-node NATS cluster (replicated JetStream) instead of one NATS host."
  type        = bool
  default     = false
}

variable "nats_passwords" {
  description = "NATS password per role (learner, actor, verifier, operator); a role left out comes from nats_passwords_secret_id or is generated."
  type        = map(string)
  default     = {}
  sensitive   = true
  validation {
    condition     = alltrue([for r, p in var.nats_passwords : contains(["learner", "actor", "verifier", "operator"], r) && length(p) >= 16])
    error_message = "nats_passwords keys must be learner, actor, verifier or operator, each password at least 16 characters."
  }
}

variable "nats_passwords_secret_id" {
  description = "AWS Secrets Manager secret (name or ARN) holding {\"<role>\": \"<password>\"} as JSON; empty for none."
  type        = string
  default     = ""
}

variable "nats_instance_type" {
  description = "Instance type of the NATS host(s)."
  type        = string
  default     = "m6i.large"
}

variable "nats_volume_gb" {
  description = "Disk of each NATS host in GiB (JetStream keeps tasks, trajectories and scores there)."
  type        = number
  default     = 200
  validation {
    condition     = var.nats_volume_gb >= 30
    error_message = "nats_volume_gb must be at least 30."
  }
}

variable "learner_instance_type" {
  description = "GPU instance type of the learner host."
  type        = string
  default     = "g6e.xlarge"
  validation {
    condition     = can(regex("^(p[3-6]|g[4-6])", var.learner_instance_type))
    error_message = "learner_instance_type must be a GPU instance type (p3-p6, g4-g6 families)."
  }
}

variable "learner_volume_gb" {
  description = "Disk of the learner host in GiB (checkpoints, datasets)."
  type        = number
  default     = 500
}

variable "actor_count" {
  description = "Number of actor GPU hosts."
  type        = number
  default     = 2
  validation {
    condition     = var.actor_count >= 0 && var.actor_count <= 64 && floor(var.actor_count) == var.actor_count
    error_message = "actor_count must be a whole number in 0-64."
  }
}

variable "actor_instance_type" {
  description = "GPU instance type of an actor host."
  type        = string
  default     = "g6.xlarge"
  validation {
    condition     = can(regex("^(p[3-6]|g[4-6])", var.actor_instance_type))
    error_message = "actor_instance_type must be a GPU instance type (p3-p6, g4-g6 families)."
  }
}

variable "actor_threads" {
  description = "CPU threads per actor engine (intra-op)."
  type        = number
  default     = 4
}

variable "actor_max_in_flight" {
  description = "Rollout tasks an actor works on at once."
  type        = number
  default     = 4
  validation {
    condition     = var.actor_max_in_flight >= 1
    error_message = "actor_max_in_flight must be at least 1."
  }
}

variable "verifier_count" {
  description = "Verifier hosts to run now."
  type        = number
  default     = 2
}

variable "verifier_min" {
  description = "Smallest size of the verifier pool."
  type        = number
  default     = 1
}

variable "verifier_max" {
  description = "Largest size of the verifier pool."
  type        = number
  default     = 8
}

variable "verifier_instance_type" {
  description = "CPU instance type of a verifier host."
  type        = string
  default     = "c7i.xlarge"
}

variable "verifier_spot" {
  description = "Run verifier hosts on spot capacity (they are stateless)."
  type        = bool
  default     = true
}

variable "verifier_domain" {
  description = "Which rewards the verifiers compute: math, code or all."
  type        = string
  default     = "all"
  validation {
    condition     = contains(["math", "code", "all"], var.verifier_domain)
    error_message = "verifier_domain must be math, code or all."
  }
}

variable "verifier_concurrency" {
  description = "Trajectory groups a verifier scores at once."
  type        = number
  default     = 4
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
