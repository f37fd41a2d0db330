# ichigen on AWS: EventBridge Scheduler → puller λ → SQS orders → processor λ → DynamoDB
# → SQS mail → notifier λ → SESv2. See README.md here and docs/DEPLOY.md.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name       = "${var.project}-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # The provider is configured with var.region; no aws_region data source (its attribute is
  # `name` in provider 5.x and `region` in 6.x).
  region = var.region

  artifacts_dir = coalesce(var.artifacts_dir, "${path.module}/../target/lambda-arm64")

  # The customer managed key when opted in (kms.tf), else null: each service's own encryption.
  kms_key_arn = var.customer_managed_key ? aws_kms_key.main[0].arn : null

  # The puller reads the credentials of a pair from the SSM parameter
  # "{SECRET_PREFIX}{shop_id}/{marketplace}" (parameters.tf); the expiry record of the same pair
  # is "{expiry_prefix}{shop_id}/{marketplace}".
  secret_prefix = "/${var.project}/${var.environment}/credentials/"
  expiry_prefix = "/${var.project}/${var.environment}/credential-expiry/"

  # Timeouts of the SQS consumers, and how long a mapping gathers a batch: the queues' visibility
  # timeouts are derived from these (at least 6 × the consumer's timeout, plus the window).
  processor_timeout       = 30
  notifier_timeout        = 30
  batching_window_seconds = 5
  max_receive_count       = 5

  # One entry per shop × marketplace: a schedule and a credentials parameter each.
  # Marketplaces whose credentials may carry the shop's mail relay settings ("mail_relay"): the
  # notifier reads exactly those parameters (楽天: always for buyer mail; au PAY: when chosen).
  relay_marketplaces = ["rakuten", "aupay"]
  relay_pairs        = { for key, pair in local.pairs : key => pair if contains(local.relay_marketplaces, pair.marketplace) }

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

  # Sender domains of the shops' buyer mails: one SES domain identity each (two shops may share one).
  mail_domains = toset([for _, shop in var.shops : lower(split("@", shop.mail_from)[1])])

  # The pull-failures alarm looks at periods as long as the slowest enabled schedule, so that a
  # pair failing on every run fails in every period (at least 15 minutes, at most 6 hours: four
  # periods must fit in CloudWatch's one-day evaluation range).
  slowest_pull_minutes      = max(concat([15], [for _, p in local.pairs : p.pull_interval_minutes if p.enabled])...)
  pull_failure_period_s     = min(local.slowest_pull_minutes, 360) * 60
  pull_failure_period_count = 4
}
