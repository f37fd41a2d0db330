# Opt-in (var.customer_managed_key): one customer managed key for everything ichigen stores or
# queues: the table, the queues, the import bucket, the credential parameters, the log groups, the functions'
# environment, the schedules and the SNS topics. Off by default: each service then encrypts with
# its own key (SSE-SQS, DynamoDB's AWS owned key, SSM's aws/ssm, Scheduler's AWS owned key,
# CloudWatch Logs' default encryption), which costs nothing; the key costs $1 a month plus its
# requests (docs/COST.md). local.kms_key_arn is the key's ARN, or null when off.

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a KMS key policy: its Resource "*" means this key only, and the account-root statement is what lets IAM policies (scoped to the key's ARN) grant it.
  #checkov:skip=CKV_AWS_111:This is a KMS key policy: its Resource "*" means this key only; the service statements are limited by source account and log group.
  #checkov:skip=CKV_AWS_356:This is a KMS key policy: a key policy's Resource can only be "*" (the key itself).
  # Key policies name the key itself as "*". This statement lets IAM policies grant the key
  # (the roles below get kms:Decrypt / kms:GenerateDataKey on its ARN only).
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsOfThisProject"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.name}-*"]
    }
  }

  # CloudWatch alarms and AWS Budgets publish to the encrypted alarm topic; SES publishes bounce
  # and complaint events to the encrypted mail-events topic.
  statement {
    sid       = "CloudWatchAlarmsToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "ses.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # The import bucket's event notifications go to the encrypted imports queue.
  statement {
    sid       = "S3NotificationsToEncryptedQueue"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "main" {
  count = var.customer_managed_key ? 1 : 0

  description             = "${local.name}: orders, queues, credentials, logs"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  count = var.customer_managed_key ? 1 : 0

  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main[0].key_id
}
