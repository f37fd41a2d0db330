# Orders and mail queues, each with a dead-letter queue; a quarantine for orders no one can
# process; one more queue for failed pulls. Every queue keeps a message 14 days (the SQS
# maximum), so a problem found after a long weekend still has its messages.
# Visibility timeouts are 6 × the consumer's timeout plus the batching window (AWS's advice for
# Lambda event sources), so a message is never handed out twice while a batch still runs.
# Encryption: SSE-SQS (free) unless the customer managed key is opted in (kms.tf).

locals {
  # At most 14 days (the SQS maximum).
  message_retention_seconds = 1209600
  # With the customer managed key, SQS asks KMS for a data key at most once an hour per queue user.
  sqs_kms_reuse_seconds = var.customer_managed_key ? 3600 : null
  sqs_managed_sse       = var.customer_managed_key ? null : true
}

# Orders the processor gave up on after max_receive_count tries: each can be redriven to the
# orders queue once the cause is fixed (docs/DEPLOY.md, "Redrive").
resource "aws_sqs_queue" "orders_dlq" {
  name                              = "${local.name}-orders-dlq"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}

# Canonical orders from the puller to the processor.
resource "aws_sqs_queue" "orders" {
  name                              = "${local.name}-orders"
  visibility_timeout_seconds        = 6 * local.processor_timeout + local.batching_window_seconds
  message_retention_seconds         = local.message_retention_seconds
  receive_wait_time_seconds         = 20
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.orders_dlq.arn
    maxReceiveCount     = local.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "orders_dlq" {
  queue_url = aws_sqs_queue.orders_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.orders.arn]
  })
}

# The puller's quarantine (QUARANTINE_QUEUE_URL): marketplace orders it could not read (message
# attribute "reason"). Nothing consumes it and nothing may redrive it into the orders queue: a
# person reads each message, fixes the order at the marketplace or the parser, and the next pull's
# overlap (or a re-pull) brings the order in again.
resource "aws_sqs_queue" "quarantine" {
  name                              = "${local.name}-quarantine"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}

resource "aws_sqs_queue_redrive_allow_policy" "quarantine" {
  queue_url = aws_sqs_queue.quarantine.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "denyAll"
  })
}

resource "aws_sqs_queue" "mail_dlq" {
  name                              = "${local.name}-mail-dlq"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}

# Mail jobs from the processor to the notifier. LEASE_SECONDS stays below this visibility timeout.
resource "aws_sqs_queue" "mail" {
  name                              = "${local.name}-mail"
  visibility_timeout_seconds        = 6 * local.notifier_timeout + local.batching_window_seconds
  message_retention_seconds         = local.message_retention_seconds
  receive_wait_time_seconds         = 20
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.mail_dlq.arn
    maxReceiveCount     = local.max_receive_count
  })

  lifecycle {
    precondition {
      condition     = var.notifier_lease_seconds > local.notifier_timeout && var.notifier_lease_seconds < 6 * local.notifier_timeout
      error_message = "notifier_lease_seconds must outlast one notifier invocation and end before the mail queue redelivers the job."
    }
  }
}

resource "aws_sqs_queue_redrive_allow_policy" "mail_dlq" {
  queue_url = aws_sqs_queue.mail_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.mail.arn]
  })
}

# The puller's follow-up runs (docs/STOCK.md, "Follow-up runs"): a run whose stock push moved a
# share another pair waits for (or wrote to a mall that shows it later) sends that pair a
# message, delayed by SQS; the puller takes them (functions.tf) and pushes the pair without a
# pull. A follow-up lost costs only time — the pair's schedule does the same work within an
# interval — so one older than an hour is dropped, and the DLQ is a record of follow-ups that
# kept failing (the pairs' own runs fail and alarm the same way), not work to redrive.
resource "aws_sqs_queue" "follow_ups_dlq" {
  name                              = "${local.name}-follow-ups-dlq"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}

resource "aws_sqs_queue" "follow_ups" {
  name                              = "${local.name}-follow-ups"
  visibility_timeout_seconds        = 6 * var.puller_timeout_seconds + local.batching_window_seconds
  message_retention_seconds         = 3600
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.follow_ups_dlq.arn
    maxReceiveCount     = local.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "follow_ups_dlq" {
  queue_url = aws_sqs_queue.follow_ups_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.follow_ups.arn]
  })
}

# Failed pulls: the puller's on_failure destination (the event, the error type
# ichigen.PullRetryable or ichigen.PullNeedsOperator, and its message) and the schedules'
# dead-letter queue (events the scheduler could not deliver). A record, not work: the next
# scheduled run is the retry, so nothing consumes or redrives it.
resource "aws_sqs_queue" "pull_failures" {
  name                              = "${local.name}-pull-failures"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}
