# The alarms that need a person, each once per problem, all on free AWS metrics; they notify one
# SNS topic (subscribe an address with var.alarm_email). Not alarmed: the functions' Errors and
# Throttles (they surface below as a queue that ages, a dead letter or persistent pull failures).

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Alarm and budget notifications carry alarm names and amounts, no customer data; CloudWatch cannot publish to a topic under the AWS managed key aws/sns, so the topic is encrypted only with the opt-in customer managed key.
  name              = "${local.name}-alarms"
  kms_master_key_id = local.kms_key_arn
}

# CloudWatch alarms and AWS Budgets of this account may publish to the topic.
data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "AlarmsAndBudgetsOfThisAccount"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Dead letters and quarantine: each message is an order or a mail that needs a person. The alarm
# stays in ALARM while any is left (and returns to OK once the queue is emptied or redriven).

resource "aws_cloudwatch_metric_alarm" "orders_dlq_depth" {
  alarm_name          = "${local.name}-orders-dlq-depth"
  alarm_description   = "Orders the processor gave up on. Fix the cause (its log group), then redrive the orders DLQ to the orders queue (docs/DEPLOY.md, Redrive)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.orders_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "quarantine_depth" {
  alarm_name          = "${local.name}-quarantine-depth"
  alarm_description   = "Marketplace orders the puller could not read (message attribute \"reason\"). Not redrivable: read each, fix the order or the parser, delete it (docs/DEPLOY.md, Quarantine)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.quarantine.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "mail_dlq_depth" {
  alarm_name          = "${local.name}-mail-dlq-depth"
  alarm_description   = "Mail jobs the notifier gave up on (unknown shop, broken template, SES refusing). Fix, then redrive the mail DLQ (docs/DEPLOY.md)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.mail_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "imports_dlq_depth" {
  alarm_name          = "${local.name}-imports-dlq-depth"
  alarm_description   = "Tracking files the importer gave up on (a folder naming no shop, or an outage outlasting the retries). Fix, then redrive the imports DLQ (docs/DEPLOY.md)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.imports_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Failed pulls need a person when they persist: credentials refused or expired
# (ichigen.PullNeedsOperator) fail every run, and so does a marketplace that stays down. One blip
# is the next run's business. Failures arriving in 3 of the last 4 periods (each as long as the
# slowest schedule's interval, local.pull_failure_period_s) fire once and return to OK when runs
# succeed again, so a later, different failure alarms again. Counted as messages sent to the
# pull-failures queue (the puller's on_failure destination and the schedules' DLQ), not as
# its depth: messages stay there 14 days and would keep the alarm up.
resource "aws_cloudwatch_metric_alarm" "pull_failures" {
  alarm_name          = "${local.name}-pull-failures"
  alarm_description   = "Pulls have kept failing. The pull-failures queue holds each failed event with its error type (ichigen.PullNeedsOperator: fix the credentials parameter or the marketplace account; ichigen.PullRetryable: the marketplace is down) — docs/DEPLOY.md."
  namespace           = "AWS/SQS"
  metric_name         = "NumberOfMessagesSent"
  dimensions          = { QueueName = aws_sqs_queue.pull_failures.name }
  statistic           = "Sum"
  period              = local.pull_failure_period_s
  evaluation_periods  = local.pull_failure_period_count
  datapoints_to_alarm = local.pull_failure_period_count - 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# Working queues: a backlog whose oldest message keeps ageing means the consumer is stuck
# (errors, throttles, a disabled mapping) whatever the volume.

resource "aws_cloudwatch_metric_alarm" "orders_backlog" {
  alarm_name          = "${local.name}-orders-backlog"
  alarm_description   = "Orders have waited over 15 minutes for the processor (see its log group)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.orders.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "mail_backlog" {
  alarm_name          = "${local.name}-mail-backlog"
  alarm_description   = "Mail jobs have waited over 15 minutes for the notifier (see its log group)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.mail.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "follow_ups_backlog" {
  alarm_name          = "${local.name}-follow-ups-backlog"
  alarm_description   = "Stock follow-up runs have waited over 30 minutes for the puller (a delayed follow-up waits up to 15): see the puller's log group. The pairs' scheduled runs still push stock."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.follow_ups.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1800
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "follow_ups_dlq_depth" {
  alarm_name          = "${local.name}-follow-ups-dlq-depth"
  alarm_description   = "Stock follow-up runs kept failing (a marketplace or the table failing for a while): see the puller's log group. Nothing to redrive: the pairs' scheduled runs push stock."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.follow_ups_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "imports_backlog" {
  alarm_name          = "${local.name}-imports-backlog"
  alarm_description   = "Tracking files have waited over 15 minutes for the importer (see its log group)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.imports.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 900
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# SES reviews an account at a 5% bounce or 0.1% complaint rate and may pause it at 10% / 0.5%.
# Which buyer mails bounced or were complained about: the mail-events topic (ses.tf).

resource "aws_cloudwatch_metric_alarm" "ses_bounce_rate" {
  alarm_name          = "${local.name}-ses-bounce-rate"
  alarm_description   = "SES account bounce rate is at 4% (SES reviews the account at 5%). The mail-events topic names the bounced addresses."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.BounceRate"
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0.04
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "ses_complaint_rate" {
  alarm_name          = "${local.name}-ses-complaint-rate"
  alarm_description   = "SES account complaint rate is at 0.08% (SES reviews the account at 0.1%). The mail-events topic names the complaining addresses."
  namespace           = "AWS/SES"
  metric_name         = "Reputation.ComplaintRate"
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0.0008
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# The month's cost of the account, actual and forecast, against var.monthly_budget_usd (the first
# two budgets of an account are free; this one has no actions).
resource "aws_budgets_budget" "monthly" {
  name         = "${local.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "ACTUAL"
    subscriber_sns_topic_arns = [aws_sns_topic.alarms.arn]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [aws_sns_topic.alarms.arn]
  }

  # Budgets checks that it may publish when the budget is created.
  depends_on = [aws_sns_topic_policy.alarms]
}
