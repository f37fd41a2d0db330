# One Lambda function with everything that belongs to it alone: its role and policy, its log
# group and (for asynchronous invocation) where failed events go. No alarms here: a function's
# failures show where they matter (queue age, dead-letter depth, the pull-failures alarm in
# ../../alarms.tf), and Lambda's own Errors/Throttles metrics stay free to graph.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  function_name = "${var.name_prefix}-${var.function}"
  package       = "${var.artifacts_dir}/${var.function}/bootstrap.zip"
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaService"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.function_name
  description          = "Execution role of ${local.function_name}"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
}

# Its own log group only; the group exists before the function, so no logs:CreateLogGroup.
data "aws_iam_policy_document" "own" {
  source_policy_documents = [var.policy_json]

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # for_each and count depend on the plain boolean async_invocation, known at plan time; the
  # queue ARN itself is unknown until the queue exists ("Invalid count argument").
  dynamic "statement" {
    for_each = var.async_invocation ? [1] : []
    content {
      sid       = "AsyncFailureDestination"
      actions   = ["sqs:SendMessage"]
      resources = [var.async_failure_queue_arn]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = local.function_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.own.json
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts every log group at rest by default; a customer managed key is the opt-in kms_key_arn (root variable customer_managed_key), not a requirement.
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_50:No X-Ray: the functions emit EMF metrics and JSON logs; X-Ray write access cannot be scoped to a resource (it would need Resource "*") and is billed per trace.
  #checkov:skip=CKV_AWS_116:Not all functions are invoked asynchronously: SQS-fed ones dead-letter through their queue's redrive policy, and the asynchronously invoked puller sends failed events to an on_failure destination (aws_lambda_function_event_invoke_config below), which also records the error.
  #checkov:skip=CKV_AWS_117:No VPC: the functions reach only public AWS endpoints and the marketplaces' public APIs; a VPC would add a NAT gateway (about $45/month) or several interface endpoints for no private resource.
  #checkov:skip=CKV_AWS_173:Lambda encrypts environment variables at rest with an AWS managed key by default; the variables hold names and numbers, never secrets (credentials are read from SSM Parameter Store). A customer managed key is the opt-in kms_key_arn.
  #checkov:skip=CKV_AWS_272:No code signing: packages are built from source by scripts/build-lambdas and deployed from a local path; AWS Signer would require S3-hosted signed packages.
  function_name    = local.function_name
  description      = var.description
  role             = aws_iam_role.this.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = ["arm64"]
  filename         = local.package
  source_code_hash = filebase64sha256(local.package)
  memory_size      = var.memory_size
  timeout          = var.timeout
  kms_key_arn      = var.kms_key_arn

  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  environment {
    variables = var.environment
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  # The role's policy must exist before the first invocation can write logs or read anything.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.async_invocation ? 1 : 0

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_max_retries
  maximum_event_age_in_seconds = var.async_max_event_age

  destination_config {
    on_failure {
      destination = var.async_failure_queue_arn
    }
  }

  lifecycle {
    precondition {
      condition     = var.async_failure_queue_arn != null
      error_message = "async_invocation = true needs async_failure_queue_arn: failed events must go somewhere a person sees them."
    }
  }
}
