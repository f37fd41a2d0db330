variable "name_prefix" {
  description = "Prefix of every name (\"{project}-{environment}\"); the function is \"{name_prefix}-{function}\"."
  type        = string
}

variable "function" {
  description = "The function's binary name (the [[bin]] of its package under functions/); its package is {artifacts_dir}/{function}/bootstrap.zip."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*$", var.function))
    error_message = "function must be a lower-case binary name such as \"puller\"."
  }
}

variable "description" {
  description = "What the function does (shown in the console)."
  type        = string
}

variable "artifacts_dir" {
  description = "Folder holding {function}/bootstrap.zip as scripts/build-lambdas writes them."
  type        = string
}

variable "memory_size" {
  description = "Memory in MB (CPU share grows with it: 1,769 MB is one vCPU)."
  type        = number
}

variable "timeout" {
  description = "Timeout in seconds."
  type        = number
}

variable "environment" {
  description = "Environment variables: exactly what the function's Config::from_env reads (tests/infra.rs checks)."
  type        = map(string)
}

variable "policy_json" {
  description = "IAM policy (JSON) of what the function may do besides writing its own logs."
  type        = string
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (also the cap); null leaves the function unreserved."
  type        = number
  default     = null
}

variable "kms_key_arn" {
  description = "Customer managed key for the log group and the environment variables; null: the services' own encryption (CloudWatch Logs' default, Lambda's AWS managed key)."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the function's log group keeps events."
  type        = number
}

variable "async_invocation" {
  description = "Whether the function is invoked asynchronously (by a schedule): then failed and expired events go to async_failure_queue_arn. A plain boolean, so that it is known at plan time even when the queue is created in the same apply."
  type        = bool
  default     = false
}

variable "async_failure_queue_arn" {
  description = "With async_invocation: the SQS queue that receives failed and expired invocations (on_failure destination). Ignored otherwise."
  type        = string
  default     = null
}

variable "async_max_retries" {
  description = "Retries of a failed asynchronous invocation (0 to 2)."
  type        = number
  default     = 0
}

variable "async_max_event_age" {
  description = "Seconds an asynchronous event may wait (throttled) before it goes to the failure queue instead."
  type        = number
  default     = 21600
}
