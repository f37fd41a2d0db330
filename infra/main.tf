# ichigen on AWS: EventBridge Scheduler → puller λ → SQS orders → processor λ → DynamoDB
# → SQS mail → notifier λ → SESv2. See README.md here and docs/DEPLOY.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../target/lambda-arm64")

  # The puller reads the secret of a pair at "{SECRET_PREFIX}{shop_id}/{marketplace}".
  secret_prefix = "${var.project}/${var.environment}/"

  # Timeouts of the SQS consumers, and how long a mapping gathers a batch: the queues' visibility
  # timeouts are derived from these (at least 6 × the consumer's timeout, plus the window).
  processor_timeout       = 30
  notifier_timeout        = 30
  batching_window_seconds = 5
  max_receive_count       = 5

  # One entry per shop × marketplace: a schedule and a secret each.
  pairs = {
    for p in flatten([
      for shop_id, shop in var.shops : [
        for marketplace, cfg in shop.marketplaces : {
          key                   = "${shop_id}/${marketplace}"
          shop_id               = shop_id
          marketplace           = marketplace
          pull_interval_minutes = cfg.pull_interval_minutes
          enabled               = cfg.enabled
        }
      ]
    ]) : p.key => p
  }

  # Sender domains of the shops' buyer mails: one SES domain identity each.
  mail_domains = toset([for _, shop in var.shops : lower(split("@", shop.mail_from)[1])])
}
