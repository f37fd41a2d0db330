# The three functions (functions/puller, functions/processor, functions/notifier), each with the
# exact actions it calls on the exact resources it calls them on. The environment of each is
# what its Config::from_env reads; tests/infra.rs compares the two.

# ---------------------------------------------------------------------------------------------
# puller: one shop × marketplace per invocation (EventBridge Scheduler, asynchronous).

data "aws_iam_policy_document" "puller" {
  # Watermarks (GetItem, conditional PutItem), the pair's pull lease (conditional PutItem and
  # DeleteItem: one run of a pair at a time), quarantine markers (conditional PutItem: each
  # broken order is quarantined once per reason), and the tracking write-back: the pair's pending
  # writes (WRITES#{marketplace}) and the order whose parcel became 反映済 (conditional PutItem).
  statement {
    sid       = "Watermarks"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # The pair's stored open orders, read again by id where the marketplace's search cannot show
  # their changes (楽天 cancellations, Yahoo and au PAY beyond the look-back).
  statement {
    sid       = "OpenOrders"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.main.arn}/index/by_status"]
  }

  # The stock push after the pull (docs/STOCK.md): the shop's SKUs and listings (Query on the
  # table); the pulled orders' holdings (GetItem, and TransactWriteItems authorised by the PutItem
  # of the holding, each SKU moved and each change record, as above); the allotment ledger
  # (UpdateItem conditional on the SKU's seq); the pair's push record (GetItem, conditional PutItem).
  statement {
    sid       = "StockPush"
    actions   = ["dynamodb:Query", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # SendMessageBatch is authorised by sqs:SendMessage. Unreadable orders go to the quarantine.
  statement {
    sid       = "OrdersAndQuarantine"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.orders.arn, aws_sqs_queue.quarantine.arn]
  }

  # The shipping mail of an order whose tracking numbers the marketplace accepted.
  statement {
    sid       = "ShippingMails"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.mail.arn]
  }

  # Follow-up runs: sent by a run (SendMessage, delayed), taken by the event source mapping below
  # (ReceiveMessage, DeleteMessage, GetQueueAttributes), and one that came within the gap of its
  # pair's last write put back for the rest of it (ChangeMessageVisibility).
  statement {
    sid = "FollowUps"
    actions = [
      "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
      "sqs:ChangeMessageVisibility",
    ]
    resources = [aws_sqs_queue.follow_ups.arn]
  }

  # Exactly the credential parameters of the configured pairs: no path wildcard, so a new pair
  # needs an apply before its puller can read anything. PutParameter saves a refresh token the
  # marketplace rotated (Yahoo's YConnect): the old one stops working once replaced.
  dynamic "statement" {
    for_each = length(local.pairs) == 0 ? [] : [1]
    content {
      sid       = "MarketplaceCredentials"
      actions   = ["ssm:GetParameter", "ssm:PutParameter"]
      resources = [for pair in aws_ssm_parameter.credentials : pair.arn]
    }
  }

  # The daily credential check (scheduler.tf) reads every pair's expiry record by path; the
  # puller writes a rotated refresh token's last day into its pair's record.
  dynamic "statement" {
    for_each = length(local.pairs) == 0 ? [] : [1]
    content {
      sid       = "CredentialExpiryRecords"
      actions   = ["ssm:GetParameter", "ssm:PutParameter"]
      resources = [for pair in aws_ssm_parameter.credential_expiry : pair.arn]
    }
  }

  statement {
    sid       = "CredentialExpiryPath"
    actions   = ["ssm:GetParametersByPath"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${trimsuffix(local.expiry_prefix, "/")}"]
  }

  # The check's notice goes to the alarm topic's subscribers.
  statement {
    sid       = "CredentialNotices"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
  }

  # SecureString decryption (and publishing to the encrypted alarm topic) with the customer
  # managed key, only when opted in (with the AWS managed key alias/aws/ssm, ssm:GetParameter is
  # all it takes).
  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.kms_key_arn]
    }
  }
}

module "puller" {
  source = "./modules/lambda_function"

  name_prefix   = local.name
  function      = "puller"
  description   = "Pulls one shop × marketplace from its watermark to now onto the orders queue; checks credential expiry daily."
  artifacts_dir = local.artifacts_dir
  memory_size   = 256
  timeout       = var.puller_timeout_seconds
  policy_json   = data.aws_iam_policy_document.puller.json

  environment = {
    TABLE_NAME               = aws_dynamodb_table.main.name
    ORDERS_QUEUE_URL         = aws_sqs_queue.orders.url
    QUARANTINE_QUEUE_URL     = aws_sqs_queue.quarantine.url
    MAIL_QUEUE_URL           = aws_sqs_queue.mail.url
    SECRET_PREFIX            = local.secret_prefix
    CREDENTIAL_EXPIRY_PREFIX = local.expiry_prefix
    NOTICE_TOPIC_ARN         = aws_sns_topic.alarms.arn
    PAGE_BUDGET_SECONDS      = tostring(var.puller_page_budget_seconds)
    HTTP_TIMEOUT_SECONDS     = tostring(var.puller_http_timeout_seconds)
    PULL_OVERLAP_SECONDS     = tostring(var.pull_overlap_seconds)
    FIRST_LOOKBACK_HOURS     = tostring(var.first_lookback_hours)
    STOCK_BUFFER             = tostring(var.stock_buffer)
    FOLLOW_UP_QUEUE_URL      = aws_sqs_queue.follow_ups.url
  }

  # Runs of one pair never overlap (timeout < pull interval, and the pair's lease); this caps how
  # many pairs pull at once, so retried or delayed events cannot pile extra runs onto the
  # marketplaces' rate limits: one per pair, and the follow-up queue's two batches.
  reserved_concurrency = coalesce(var.puller_reserved_concurrency, max(1, length(local.pairs)) + 2)

  # The schedule is the retry: a failed pull is not run again by Lambda (it would overlap the
  # next scheduled run); it goes to pull_failures with its error. A throttled event older than
  # four minutes is dropped there too: the next run is due.
  # (alarms.tf: pull_failures alarms when failures persist, not on a blip.)
  async_invocation        = true
  async_failure_queue_arn = aws_sqs_queue.pull_failures.arn
  async_max_retries       = 0
  async_max_event_age     = 240

  kms_key_arn        = local.kms_key_arn
  log_retention_days = var.log_retention_days
}

# The follow-up queue → the puller: each message one pair's stock push without a pull. At most two
# batches at once (the least a mapping allows), inside the puller's reserved concurrency.
resource "aws_lambda_event_source_mapping" "follow_ups" {
  event_source_arn                   = aws_sqs_queue.follow_ups.arn
  function_name                      = module.puller.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = local.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = 2
  }
}

# ---------------------------------------------------------------------------------------------
# processor: the orders queue → checks → DynamoDB → the mail queue.

data "aws_iam_policy_document" "processor" {
  # Orders and settings (GetItem, PutItem with conditions), the blacklist (Query on the table),
  # and the shop's stock master: its SKUs and listings (Query), each order's holding (GetItem)
  # applied in one TransactWriteItems — authorised by the actions inside it: PutItem of the
  # holding, of each SKU moved and of each change record. An order write is a TransactWriteItems
  # of the order's PutItem and the UpdateItem of the shop's tab counts.
  statement {
    sid       = "OrdersSettingsBlacklistStock"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # 同梱 candidates.
  statement {
    sid       = "BundleIndex"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.main.arn}/index/by_bundle"]
  }

  # What the event source mapping does with the function's role.
  statement {
    sid       = "OrdersQueueEventSource"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.orders.arn]
  }

  statement {
    sid       = "MailJobs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.mail.arn]
  }

  # Queues encrypted with the customer managed key, only when opted in.
  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.kms_key_arn]
    }
  }
}

module "processor" {
  source = "./modules/lambda_function"

  name_prefix   = local.name
  function      = "processor"
  description   = "Checks and stores each order of the orders queue; queues the mails it calls for."
  artifacts_dir = local.artifacts_dir
  memory_size   = 256
  timeout       = local.processor_timeout
  policy_json   = data.aws_iam_policy_document.processor.json

  environment = {
    TABLE_NAME     = aws_dynamodb_table.main.name
    MAIL_QUEUE_URL = aws_sqs_queue.mail.url
    RETENTION_DAYS = tostring(var.order_retention_days)
  }

  reserved_concurrency = var.processor_concurrency
  kms_key_arn          = local.kms_key_arn
  log_retention_days   = var.log_retention_days
}

resource "aws_lambda_event_source_mapping" "processor" {
  event_source_arn                   = aws_sqs_queue.orders.arn
  function_name                      = module.processor.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = local.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  # Not above the reserved concurrency: throttled batches would use up receives and dead-letter.
  scaling_config {
    maximum_concurrency = var.processor_concurrency
  }
}

# ---------------------------------------------------------------------------------------------
# notifier: the mail queue → mail ledger → SESv2 or the marketplace's SMTP relay; and the SES
# bounce and complaint events of the mail-events topic → the store.

data "aws_iam_policy_document" "notifier" {
  # Settings and order (GetItem); the ledger: claim (PutItem, GetItem), mark (UpdateItem),
  # release (DeleteItem); mails waiting for a relay (PutItem, Query, DeleteItem), delivery events
  # and suppressed addresses (PutItem, Query, GetItem).
  statement {
    sid       = "OrdersSettingsLedger"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.main.arn]
  }

  # The shop's relay settings ("mail_relay") are kept in its 楽天 / au PAY credentials: read only,
  # exactly those parameters.
  dynamic "statement" {
    for_each = length(local.relay_pairs) == 0 ? [] : [1]
    content {
      sid       = "RelaySettings"
      actions   = ["ssm:GetParameter"]
      resources = [for key, pair in local.relay_pairs : aws_ssm_parameter.credentials[key].arn]
    }
  }

  # The staff digest lists the shop's held and open orders by status.
  statement {
    sid       = "DigestByStatus"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.main.arn}/index/by_status"]
  }

  statement {
    sid       = "MailQueueEventSource"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.mail.arn]
  }

  # A job whose mail is claimed by a live lease is shown again when the lease ends
  # (ichigen_aws::SqsVisibility: the queue's URL by name, then ChangeMessageVisibility).
  statement {
    sid       = "MailQueueRetryAfterLease"
    actions   = ["sqs:GetQueueUrl", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.mail.arn]
  }

  # SES authorises a send against the sender's identity, the configuration set and, while the
  # account is in the sandbox, each recipient's identity.
  statement {
    sid     = "SendAsTheShops"
    actions = ["ses:SendEmail"]
    resources = concat(
      [aws_sesv2_configuration_set.main.arn],
      [for d in aws_sesv2_email_identity.domain : d.arn],
      [for r in aws_sesv2_email_identity.sandbox_recipient : r.arn],
    )
  }

  # Queues encrypted with the customer managed key, only when opted in.
  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.kms_key_arn]
    }
  }
}

module "notifier" {
  source = "./modules/lambda_function"

  name_prefix   = local.name
  function      = "notifier"
  description   = "Sends each mail job once (mail ledger; SESv2 or the marketplace relay); records SES bounces and complaints; sends staff digests."
  artifacts_dir = local.artifacts_dir
  memory_size   = 128
  timeout       = local.notifier_timeout
  policy_json   = data.aws_iam_policy_document.notifier.json

  environment = {
    TABLE_NAME            = aws_dynamodb_table.main.name
    SES_CONFIGURATION_SET = aws_sesv2_configuration_set.main.configuration_set_name
    LEASE_SECONDS         = tostring(var.notifier_lease_seconds)
    SECRET_PREFIX         = local.secret_prefix
  }

  reserved_concurrency = var.notifier_concurrency
  kms_key_arn          = local.kms_key_arn
  log_retention_days   = var.log_retention_days
}

resource "aws_lambda_event_source_mapping" "notifier" {
  event_source_arn                   = aws_sqs_queue.mail.arn
  function_name                      = module.notifier.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = local.batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.notifier_concurrency
  }
}
