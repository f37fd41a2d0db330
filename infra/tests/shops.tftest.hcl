# No shops at all, and two shops sharing one sender domain, planned and applied.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "no_shops" {
  command = apply

  variables {
    shops                  = {}
    ses_sandbox_recipients = []
    alarm_email            = null
  }

  assert {
    condition     = length(aws_scheduler_schedule.pull) == 0 && length(aws_scheduler_schedule.credential_check) == 0 && length(aws_scheduler_schedule.digest) == 0 && length(aws_ssm_parameter.credentials) == 0 && length(aws_sesv2_email_identity.domain) == 0
    error_message = "No shops: no schedules (no credential check either), parameters or sender domains."
  }

  assert {
    condition     = module.puller.function_name == "ichigen-prod-puller" && aws_cloudwatch_metric_alarm.pull_failures.period == 900
    error_message = "The functions and alarms exist without shops."
  }
}

run "two_shops_one_domain" {
  command = apply

  variables {
    customer_managed_key = true
    shops = {
      "shop-a" = {
        shop_name    = "ショップA"
        mail_from    = "a@shops.example.jp"
        staff_to     = ["staff-a@example.jp"]
        reply_to     = "support-a@example.jp"
        marketplaces = { rakuten = {}, yahoo = { pull_interval_minutes = 10 } }
      }
      "shop-b" = {
        shop_name    = "ショップB"
        mail_from    = "b@Shops.Example.jp"
        staff_to     = ["staff-b@example.jp"]
        marketplaces = { amazon = { pull_interval_minutes = 30, enabled = false }, qoo10 = { pull_interval_minutes = 20 } }
      }
    }
  }

  assert {
    condition     = keys(aws_sesv2_email_identity.domain) == ["shops.example.jp"] && length(aws_sesv2_email_identity_mail_from_attributes.domain) == 1
    error_message = "Two shops on one sender domain share one SES identity and one MAIL FROM."
  }

  assert {
    condition     = length(aws_scheduler_schedule.pull) == 4 && aws_scheduler_schedule.pull["shop-b/amazon"].state == "DISABLED"
    error_message = "One schedule per pair; a disabled pair's schedule is DISABLED."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.pull_failures.period == 1200
    error_message = "The pull-failures period follows the slowest enabled schedule (20 minutes; the disabled 30-minute pair does not count)."
  }

  assert {
    condition     = length(aws_kms_key.main) == 1 && aws_dynamodb_table.main.server_side_encryption[0].enabled && aws_sqs_queue.orders.kms_master_key_id == aws_kms_key.main[0].arn
    error_message = "customer_managed_key = true puts the table and queues under the key."
  }

  assert {
    condition     = jsondecode(aws_dynamodb_table_item.shop_settings["shop-a"].item).reply_to.S == "support-a@example.jp"
    error_message = "A shop's reply_to is in its settings item."
  }

  assert {
    condition     = jsondecode(aws_ssm_parameter.credential_expiry["shop-a/yahoo"].value) == { refresh_token = "unknown", public_key = "unknown" }
    error_message = "The expiry record lists each expiring credential of the marketplace."
  }
}
