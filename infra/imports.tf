# Tracking numbers in, on AWS: staff (or a shop's own script) put a label program's issued-data
# file into the import bucket under imports/<shop id>/; S3 notifies the imports queue; the
# importer runs the same import as `ichigen tracking import` (all rows or none) and mails the
# shop's staff the result (docs/SHIPPING.md, "Tracking numbers in").
#
# One bucket for the deployment, a folder (prefix) per shop: one notification, one queue, one
# function and one bucket policy serve every shop, and a shop added to var.shops needs no new
# bucket. A shop's uploaders are kept to their folder by their own IAM policy
# (s3:PutObject on <bucket ARN>/imports/<shop id>/*; infra/README.md).

locals {
  # The folder of every shop's files; the function reads the shop from the next path segment.
  import_prefix = "imports/"
  # A file is read once, soon after it lands; the whole import runs in one invocation.
  importer_timeout = 120
}

resource "aws_s3_bucket" "imports" {
  #checkov:skip=CKV_AWS_18:Access logs would need a second bucket for files that live 30 days; CloudTrail data events can be enabled if a shop's policy asks for them.
  #checkov:skip=CKV_AWS_21:No versioning: a file is read once and expires; old versions would keep buyers' order data past the expiry.
  #checkov:skip=CKV_AWS_144:No cross-region replication: the files are transient inputs, not records.
  # Bucket names are global: the account id keeps two deployments' names apart.
  bucket = "${local.name}-imports-${local.account_id}"
}

resource "aws_s3_bucket_ownership_controls" "imports" {
  bucket = aws_s3_bucket.imports.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "imports" {
  bucket                  = aws_s3_bucket.imports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# SSE-KMS: the deployment's customer managed key when opted in (kms.tf), else the AWS managed key
# aws/s3 (no monthly fee). The S3 Bucket Key keeps KMS requests to a few per file.
resource "aws_s3_bucket_server_side_encryption_configuration" "imports" {
  bucket = aws_s3_bucket.imports.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "imports" {
  bucket = aws_s3_bucket.imports.id
  versioning_configuration {
    status = "Disabled"
  }
}

# The files hold order ids, tracking numbers and (in a program's full export) addresses: they
# go after var.import_expiry_days, read or not.
resource "aws_s3_bucket_lifecycle_configuration" "imports" {
  bucket = aws_s3_bucket.imports.id

  rule {
    id     = "expire-imports"
    status = "Enabled"
    filter {}
    expiration {
      days = var.import_expiry_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "imports_bucket" {
  statement {
    sid       = "DenyWithoutTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.imports.arn, "${aws_s3_bucket.imports.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "imports" {
  bucket = aws_s3_bucket.imports.id
  policy = data.aws_iam_policy_document.imports_bucket.json
  # S3 refuses a bucket policy while the public access block is being set up.
  depends_on = [aws_s3_bucket_public_access_block.imports]
}

resource "aws_s3_bucket_notification" "imports" {
  bucket = aws_s3_bucket.imports.id

  queue {
    id            = "tracking-files"
    queue_arn     = aws_sqs_queue.imports.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.import_prefix
  }

  # S3 checks that it may send to the queue when the notification is set (and sends s3:TestEvent).
  depends_on = [aws_sqs_queue_policy.imports]
}

# Files the importer gave up on (a shop folder naming no shop, or an outage outlasting the
# retries). Redrive them to the imports queue once the cause is fixed.
resource "aws_sqs_queue" "imports_dlq" {
  name                              = "${local.name}-imports-dlq"
  message_retention_seconds         = local.message_retention_seconds
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
}

# S3 event notifications of the import bucket to the importer.
resource "aws_sqs_queue" "imports" {
  name                              = "${local.name}-imports"
  visibility_timeout_seconds        = 6 * local.importer_timeout + local.batching_window_seconds
  message_retention_seconds         = local.message_retention_seconds
  receive_wait_time_seconds         = 20
  sqs_managed_sse_enabled           = local.sqs_managed_sse
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = local.sqs_kms_reuse_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.imports_dlq.arn
    maxReceiveCount     = local.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "imports_dlq" {
  queue_url = aws_sqs_queue.imports_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.imports.arn]
  })
}

# Only the import bucket (of this account) may send to the queue.
data "aws_iam_policy_document" "imports_queue" {
  statement {
    sid       = "ImportBucketNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.imports.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.imports.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "imports" {
  queue_url = aws_sqs_queue.imports.id
  policy    = data.aws_iam_policy_document.imports_queue.json
}

# ---------------------------------------------------------------------------------------------
# importer: the imports queue → the tracking import → the result mail to staff.

data "aws_iam_policy_document" "importer" {
  # The dropped files, and nothing else of the bucket.
  statement {
    sid       = "DroppedFiles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.imports.arn}/${local.import_prefix}*"]
  }

  # Shop settings and orders (GetItem), the order a number is recorded on (conditional PutItem),
  # the pair's pending writes (GetItem, conditional PutItem), the result mail's ledger entry
  # (claim: PutItem, GetItem; mark: UpdateItem; release: DeleteItem); the shipped orders' stock
  # holdings (GetItem; TransactWriteItems of PutItems, as the processor).
  statement {
    sid       = "OrdersWritesLedger"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # The shop's stock master (its SKUs and listings: Query on the table).
  statement {
    sid       = "StockMaster"
    actions   = ["dynamodb:Query"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # The shop's orders by status: what the file's rows are matched against.
  statement {
    sid       = "OrdersByStatus"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.main.arn}/index/by_status"]
  }

  statement {
    sid       = "ImportsQueueEventSource"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.imports.arn]
  }

  # The result mail goes from the shop's sender, as the notifier's staff mails do.
  statement {
    sid     = "SendAsTheShops"
    actions = ["ses:SendEmail"]
    resources = concat(
      [aws_sesv2_configuration_set.main.arn],
      [for d in aws_sesv2_email_identity.domain : d.arn],
      [for r in aws_sesv2_email_identity.sandbox_recipient : r.arn],
    )
  }

  # Files (SSE-KMS) and the queue under the customer managed key, only when opted in; under the
  # AWS managed key aws/s3, s3:GetObject is all it takes.
  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt"]
      resources = [local.kms_key_arn]
    }
  }
}

module "importer" {
  source = "./modules/lambda_function"

  name_prefix   = local.name
  function      = "importer"
  description   = "Imports the tracking numbers of each file dropped in the import bucket (all rows or none) and mails the shop's staff the result."
  artifacts_dir = local.artifacts_dir
  memory_size   = 256
  timeout       = local.importer_timeout
  policy_json   = data.aws_iam_policy_document.importer.json

  environment = {
    TABLE_NAME            = aws_dynamodb_table.main.name
    SES_CONFIGURATION_SET = aws_sesv2_configuration_set.main.configuration_set_name
    # Outlasts an invocation, ends before the queue hands the message out again.
    LEASE_SECONDS = tostring(2 * local.importer_timeout)
  }

  reserved_concurrency = 2
  kms_key_arn          = local.kms_key_arn
  log_retention_days   = var.log_retention_days
}

resource "aws_lambda_event_source_mapping" "importer" {
  event_source_arn                   = aws_sqs_queue.imports.arn
  function_name                      = module.importer.arn
  batch_size                         = 1
  maximum_batching_window_in_seconds = local.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }
}
