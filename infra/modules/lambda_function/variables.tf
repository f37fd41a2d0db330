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
  description = "Customer managed key for the log group and the environment variables."
  type        = string
}

variable "log_retention_days" {
  description = "Days the function's log group keeps events."
  type        = number
}

variable "alarm_topic_arn" {
  description = "SNS topic that alarms notify."
  type        = string
}

variable "error_alarm_periods" {
  description = "Consecutive 5-minute periods with errors before the error alarm fires."
  type        = number
  default     = 1
}

variable "async_failure_queue_arn" {
  description = "For asynchronously invoked functions: SQS queue that receives failed and expired invocations (on_failure destination). null for functions fed by an event source mapping."
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
