# One schedule per shop × marketplace, invoking the puller with exactly the event it expects:
# {"shop_id": "...", "marketplace": "..."} (PullEvent, deny_unknown_fields); one daily
# credential check, {"check": "credentials"} (CheckEvent); and per shop, every 15 minutes, the
# notifier's staff digest, {"digest": "<shop id>"} (DigestEvent).

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    sid     = "SchedulerService"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokePuller"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.puller.arn]
  }

  statement {
    sid       = "InvokeNotifier"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.notifier.arn]
  }

  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.pull_failures.arn]
  }

  # With the customer managed key (opt-in), schedules and the dead-letter queue are encrypted
  # with it; otherwise Scheduler's AWS owned key and SSE-SQS need no grant.
  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.kms_key_arn]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  description        = "EventBridge Scheduler invoking the ${local.name} puller and notifier"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${local.name}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule_group" "pulls" {
  name = "${local.name}-pulls"
}

resource "aws_scheduler_schedule" "pull" {
  for_each = local.pairs

  name                = "${each.value.shop_id}-${each.value.marketplace}"
  group_name          = aws_scheduler_schedule_group.pulls.name
  description         = "Pull ${each.value.marketplace} orders of shop ${each.value.shop_id}"
  schedule_expression = "rate(${each.value.pull_interval_minutes} minutes)"
  state               = each.value.enabled ? "ENABLED" : "DISABLED"
  kms_key_arn         = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.puller.arn
    role_arn = aws_iam_role.scheduler.arn
    input = jsonencode({
      shop_id     = each.value.shop_id
      marketplace = each.value.marketplace
    })

    # Delivery retries (the invocation itself is asynchronous; a failed pull is not retried
    # here but by the next scheduled run).
    retry_policy {
      maximum_event_age_in_seconds = 240
      maximum_retry_attempts       = 2
    }

    dead_letter_config {
      arn = aws_sqs_queue.pull_failures.arn
    }
  }

  lifecycle {
    precondition {
      condition     = each.value.pull_interval_minutes * 60 > var.puller_timeout_seconds
      error_message = "pull_interval_minutes of ${each.key} must be longer than the puller's timeout, or runs of one pair would overlap."
    }
    precondition {
      condition     = var.puller_timeout_seconds >= 2 * var.puller_page_budget_seconds
      error_message = "puller_timeout_seconds must be at least twice puller_page_budget_seconds, or a run has no time for pages."
    }
  }

  # The role's policy must be in place before the first invocation.
  depends_on = [aws_iam_role_policy.scheduler]
}

# Every morning at 09:00 JST: every pair's credential expiry (the operator's records and 楽天's
# license-expiry API); one notice on the alarm topic when a credential expires within 14 days,
# has expired or cannot be known (docs/DEPLOY.md, "Credentials that expire").
resource "aws_scheduler_schedule" "credential_check" {
  count = length(local.pairs) == 0 ? 0 : 1

  name                         = "credential-check"
  group_name                   = aws_scheduler_schedule_group.pulls.name
  description                  = "Daily check of every pair's credential expiry"
  schedule_expression          = "cron(0 9 * * ? *)"
  schedule_expression_timezone = "Asia/Tokyo"
  kms_key_arn                  = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.puller.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ check = "credentials" })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }

    dead_letter_config {
      arn = aws_sqs_queue.pull_failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}

# Every 15 minutes, each shop's staff digest: the notifier sends the window that just closed when
# the shop chose digests (`ichigen shop digest`, kept in the shop's settings, not here), and
# returns after one read otherwise. The mail ledger keeps a retried delivery to one mail.
resource "aws_scheduler_schedule" "digest" {
  for_each = var.shops

  name                         = "${each.key}-digest"
  group_name                   = aws_scheduler_schedule_group.pulls.name
  description                  = "Staff digest of shop ${each.key}, when it chose one"
  schedule_expression          = "cron(0/15 * * * ? *)"
  schedule_expression_timezone = "Asia/Tokyo"
  kms_key_arn                  = local.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = module.notifier.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ digest = each.key })

    # Within the window's 15 minutes: a later delivery would still find the same window.
    retry_policy {
      maximum_event_age_in_seconds = 600
      maximum_retry_attempts       = 2
    }

    dead_letter_config {
      arn = aws_sqs_queue.pull_failures.arn
    }
  }

  depends_on = [aws_iam_role_policy.scheduler]
}
