# Orders and mail queues, each with a dead-letter queue; one more queue for failed pulls.
# Visibility timeouts are 6 × the consumer's timeout plus the batching window (AWS's advice for
# Lambda event sources), so a message is never handed out twice while a batch still runs.

resource "aws_sqs_queue" "orders_dlq" {
  name                              = "${local.name}-orders-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}

# Canonical orders from the puller to the processor. Its DLQ is also the puller's quarantine
# (QUARANTINE_QUEUE_URL): unreadable marketplace orders land there with a "reason" attribute.
resource "aws_sqs_queue" "orders" {
  name                              = "${local.name}-orders"
  visibility_timeout_seconds        = 6 * local.processor_timeout + local.batching_window_seconds
  message_retention_seconds         = 345600
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
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

resource "aws_sqs_queue" "mail_dlq" {
  name                              = "${local.name}-mail-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}

# Mail jobs from the processor to the notifier. LEASE_SECONDS stays below this visibility timeout.
resource "aws_sqs_queue" "mail" {
  name                              = "${local.name}-mail"
  visibility_timeout_seconds        = 6 * local.notifier_timeout + local.batching_window_seconds
  message_retention_seconds         = 345600
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
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

# Failed pulls: the puller's on_failure destination (the event, the error type
# ichigen.PullRetryable or ichigen.PullNeedsOperator, and its message) and the schedules'
# dead-letter queue (events the scheduler could not deliver).
resource "aws_sqs_queue" "pull_failures" {
  name                              = "${local.name}-pull-failures"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 3600
}
